// `quantbench-cli info`: versions and devices, and with --model a model's configuration,
// files and whether its checkpoint matches its config.
#include "app/cli/command.h"
#include "core/model/config.h"
#include "core/model/safetensors.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/build_info.h"
#include "core/util/error.h"
#include "core/util/threads.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

std::string ropeText(const qb::ModelConfig& c)
{
    std::ostringstream os;
    os << "theta " << c.rope_theta;
    if (c.rope_scaling.type == "linear")
        os << ", linear x" << c.rope_scaling.factor;
    else if (c.rope_scaling.type == "llama3")
        os << ", llama3 x" << c.rope_scaling.factor << " (low " << c.rope_scaling.low_freq_factor << ", high "
           << c.rope_scaling.high_freq_factor << ", original " << c.rope_scaling.original_max_position_embeddings
           << ")";
    return os.str();
}

// Model summary as JSON; `valid` false (with `validation_error`) when the weights do not match.
nlohmann::json describeModel(const fs::path& dir)
{
    qb::ModelConfig c = qb::loadConfig(dir / "config.json");
    nlohmann::json m = {{"path", dir.string()},
                        {"architecture", c.architecture},
                        {"model_type", c.model_type},
                        {"parameters", c.parameterCount()},
                        {"torch_dtype", c.torch_dtype},
                        {"layers", c.num_hidden_layers},
                        {"hidden_size", c.hidden_size},
                        {"intermediate_size", c.intermediate_size},
                        {"heads", c.num_attention_heads},
                        {"kv_heads", c.num_key_value_heads},
                        {"head_dim", c.head_dim},
                        {"context", c.max_position_embeddings},
                        {"vocab_size", c.vocab_size},
                        {"tied_embeddings", c.tie_word_embeddings},
                        {"attention_bias", c.attention_bias},
                        {"qk_norm", c.qk_norm},
                        {"rope", ropeText(c)},
                        {"sliding_window", c.sliding_window}};
    try {
        qb::Checkpoint ck(dir);
        nlohmann::json files = nlohmann::json::object();
        for (const auto& n : ck.names())
            files[ck.fileOf(n).filename().string()] = fs::file_size(ck.fileOf(n));
        m["files"] = files;
        m["bytes"] = ck.totalBytes();
        m["tensors"] = ck.names().size();
        std::map<std::string, int> dtypes;
        for (const auto& n : ck.names())
            dtypes[qb::stDTypeName(ck.info(n).dtype)]++;
        m["tensor_dtypes"] = dtypes;
        qb::validateCheckpoint(c, ck, dir.string());
        // Valid means usable: ppl, generate and sweeps all need the tokenizer, so it is loaded too.
        const fs::path tokPath = dir / "tokenizer.json";
        std::error_code ec;
        if (!fs::exists(fs::symlink_status(tokPath, ec)))
            throw qb::Error(tokPath.string() + ": missing (ppl, generate and sweeps need it)");
        qb::Tokenizer tok = qb::Tokenizer::fromFile(tokPath);
        m["tokenizer_vocab"] = tok.vocabSize();
        m["valid"] = true;
    } catch (const qb::Error& e) {
        m["valid"] = false;
        m["validation_error"] = e.what();
    }
    return m;
}

void printModel(const nlohmann::json& m)
{
    auto row = [](const char* k, const std::string& v) {
        std::string key = k;
        std::cout << key << std::string(key.size() < 11 ? 11 - key.size() : 1, ' ') << v << '\n';
    };
    auto s = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
    std::cout << '\n';
    row("model", s(m["path"]));
    row("arch", s(m["architecture"]) + " (" + s(m["model_type"]) + ")");
    row("params", s(m["parameters"]));
    row("dtype", s(m["torch_dtype"]));
    row("layers", s(m["layers"]) + ", hidden " + s(m["hidden_size"]) + ", mlp " + s(m["intermediate_size"]));
    row("heads", s(m["heads"]) + " (kv " + s(m["kv_heads"]) + "), head_dim " + s(m["head_dim"]));
    row("context", s(m["context"]) + (m["sliding_window"].get<int64_t>() > 0
                                          ? ", sliding window " + s(m["sliding_window"]) : std::string()));
    row("vocab", s(m["vocab_size"]) + (m["tied_embeddings"].get<bool>() ? ", tied embeddings" : ", untied lm_head"));
    row("features", std::string(m["attention_bias"].get<bool>() ? "q/k/v bias " : "") +
                        (m["qk_norm"].get<bool>() ? "qk-norm " : "") + "rope " + s(m["rope"]));
    if (m.contains("files")) {
        for (auto it = m["files"].begin(); it != m["files"].end(); ++it)
            row("file", it.key() + " (" + s(it.value()) + " bytes)");
        std::string dts;
        for (auto it = m["tensor_dtypes"].begin(); it != m["tensor_dtypes"].end(); ++it)
            dts += " " + it.key() + " x" + s(it.value());
        row("tensors", s(m["tensors"]) + ":" + dts);
    }
    row("valid", m["valid"].get<bool>() ? std::string("yes") : "NO: " + s(m["validation_error"]));
}

int runInfo(const std::vector<std::string>& argv)
{
    qb::cli::Args args("info", "[--model DIR] [--json]");
    args.option("model", "model folder to describe (exit 1 when its weights do not match its config or its tokenizer.json cannot be loaded)")
        .flag("json", "machine-readable output");
    return qb::cli::runParsed(args, argv, [&] {
        auto b = qb::buildInfo();
        nlohmann::json j = {{"app_version", b.app_version}, {"git_commit", b.git_commit},
                            {"torch_version", b.torch_version}, {"torch_cuda", b.torch_cuda},
                            {"cuda_available", b.cuda_available}, {"cuda_device", b.cuda_device},
                            {"cpu", b.cpu}, {"threads", qb::currentThreadPolicy().toJson()}};
        bool valid = true;
        if (args.has("model")) {
            j["model"] = describeModel(args.get("model"));
            valid = j["model"]["valid"].get<bool>();
        }
        if (args.has("json")) {
            std::cout << j.dump(2) << '\n';
        } else {
            std::cout << "QuantBench " << b.app_version << " (" << b.git_commit << ")\n"
                      << "libtorch   " << b.torch_version << (b.torch_cuda ? " (CUDA)" : " (CPU)") << '\n'
                      << "CPU        " << b.cpu << '\n'
                      << "threads    " << j["threads"]["threads"].get<int>() << " (" << j["threads"]["source"].get<std::string>()
                      << "), BLAS " << j["threads"]["blas"].get<std::string>() << ", OpenMP wait " << qb::ompWaitDescription() << '\n'
                      << "CUDA       " << (b.cuda_available ? b.cuda_device : std::string("not available")) << '\n';
            if (j.contains("model"))
                printModel(j["model"]);
        }
        return valid ? 0 : 1;
    });
}

QB_CLI_COMMAND("info", "versions, devices and a model's configuration", runInfo);

} // namespace
