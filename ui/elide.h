#pragma once
// Long text cut short before it reaches a widget: a results file can hold a config name or a
// message of megabytes, and laying that out hangs the window. Cuts at code points (UTF-8).
#include <QString>

#include <string>

namespace qb::ui {

constexpr int kMaxNameChars = 120;     // config names, sources, chart labels
constexpr int kMaxMessageChars = 600;  // errors and log lines

// `s` when it has at most `maxChars` code points, else its first maxChars ones and "…".
std::string elide(const std::string& s, int maxChars = kMaxNameChars);
QString elidedQString(const std::string& s, int maxChars = kMaxNameChars);
QString elided(const QString& s, int maxChars = kMaxMessageChars);

} // namespace qb::ui
