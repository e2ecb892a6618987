#pragma once
// What the window shows about a model folder (setup panel) and about this build (About box).
// No Qt, no libtorch in this header.
#include <string>

namespace qb::ui {

// Summary of a model folder for the setup panel: architecture, parameters, dtype, layers, ctx.
struct ModelSummary {
    bool ok = false;
    std::string text; // one or two lines, or the error naming the file
};
ModelSummary summarizeModel(const std::string& dir);

struct Versions {
    std::string app, commit, torch, cuda;
    bool cudaAvailable = false;
};
Versions versions();

} // namespace qb::ui
