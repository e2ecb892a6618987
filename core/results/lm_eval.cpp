#include "core/results/lm_eval.h"

#include "core/data/sha256.h"
#include "core/util/atomic_write.h"
#include "core/util/error.h"
#include "core/util/json_number.h"
#include "core/util/read_file.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace qb {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// lm-eval's MMLU groups of subjects (not subjects themselves).
const std::set<std::string> kMmluCategories = {"humanities", "stem", "other", "social_sciences"};

const std::string kWikitextProtocol =
    "lm-evaluation-harness wikitext: word perplexity over whole documents (rolling log-likelihood); "
    "not comparable with QuantBench's token PPL over fixed windows";

std::map<std::string, std::string> modelArgs(const json& doc)
{
    std::map<std::string, std::string> out;
    if (!doc.contains("config") || !doc["config"].is_object() || !doc["config"].contains("model_args"))
        return out;
    const json& a = doc["config"]["model_args"];
    if (a.is_object()) {
        for (auto it = a.begin(); it != a.end(); ++it)
            out[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
    } else if (a.is_string()) {
        std::stringstream ss(a.get<std::string>());
        std::string kv;
        while (std::getline(ss, kv, ',')) {
            const size_t eq = kv.find('=');
            if (eq != std::string::npos)
                out[kv.substr(0, eq)] = kv.substr(eq + 1);
        }
    }
    return out;
}

std::string configName(const std::map<std::string, std::string>& args)
{
    if (auto it = args.find("quantbench_config"); it != args.end() && !it->second.empty())
        return it->second;
    const auto dt = args.count("dtype") ? args.at("dtype") : std::string();
    if (dt == "bfloat16" || dt == "bf16" || dt == "torch.bfloat16")
        return "BF16";
    if (dt == "float16" || dt == "half" || dt == "fp16" || dt == "torch.float16")
        return "FP16";
    if (dt == "float32" || dt == "float" || dt == "fp32" || dt == "torch.float32")
        return "FP32";
    const std::string model = args.count("pretrained") ? args.at("pretrained") : std::string("model");
    return "lm-eval " + model + (dt.empty() ? std::string() : " " + dt);
}

bool num(const json& o, const char* key, double& v)
{
    return o.is_object() && o.contains(key) && jsonNumber(o[key], v) && std::isfinite(v);
}

// "results_2024-05-01T12-00-00.123.json" -> "2024-05-01T12-00-00.123"
std::string stampOf(const fs::path& file)
{
    std::string s = file.stem().string();
    return s.rfind("results_", 0) == 0 ? s.substr(8) : s;
}

struct Sample {
    bool correct = false;
    char prediction = '?';
};

// One samples_<task>_<stamp>.jsonl: doc_id -> correctness (and the chosen letter when the
// log-likelihoods are there). Lines are bounded; a bad line is named and skipped.
std::map<int64_t, Sample> readSamples(const fs::path& p, std::vector<std::string>& messages)
{
    std::map<int64_t, Sample> out;
    requireRegularFile(p, kResultJsonCap, "lm-eval samples file");
    std::ifstream in(p);
    std::string line;
    int64_t lineNo = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        if (line.empty())
            continue;
        if (line.size() > kResultLineCap) {
            messages.push_back(p.string() + " line " + std::to_string(lineNo) + ": longer than " +
                               formatCap(kResultLineCap) + ", skipped");
            continue;
        }
        json j = json::parse(line, nullptr, false);
        double id = NAN, acc = NAN;
        if (j.is_discarded() || !num(j, "doc_id", id) || !num(j, "acc", acc) || id < 0 || id != std::floor(id)) {
            messages.push_back(p.string() + " line " + std::to_string(lineNo) + ": no doc_id and acc, skipped");
            continue;
        }
        Sample s;
        s.correct = acc > 0.5;
        if (j.contains("quantbench_prediction") && j["quantbench_prediction"].is_string() &&
            j["quantbench_prediction"].get<std::string>().size() == 1) {
            s.prediction = j["quantbench_prediction"].get<std::string>()[0];
        } else if (j.contains("filtered_resps") && j["filtered_resps"].is_array() && j["filtered_resps"].size() == 4) {
            // one [log-likelihood, is_greedy] (or a bare log-likelihood) per choice A..D
            int best = -1;
            double bestLl = -INFINITY;
            for (size_t c = 0; c < 4; ++c) {
                const json& r = j["filtered_resps"][c];
                double ll = NAN;
                if (!(r.is_array() && !r.empty() && jsonNumber(r[0], ll)) && !jsonNumber(r, ll))
                    break;
                if (ll > bestLl) {
                    bestLl = ll;
                    best = int(c);
                }
            }
            if (best >= 0)
                s.prediction = char('A' + best);
        }
        out[int64_t(id)] = s;
    }
    return out;
}

fs::path samplesFile(const fs::path& dir, const std::string& task, const std::string& stamp)
{
    std::error_code ec;
    const fs::path exact = dir / ("samples_" + task + "_" + stamp + ".jsonl");
    if (fs::is_regular_file(exact, ec))
        return exact;
    return {};
}

} // namespace

bool isLmEvalResults(const json& doc)
{
    return doc.is_object() && doc.contains("results") && doc["results"].is_object() && !doc.contains("quantbench_results") &&
           (doc.contains("n-shot") || doc.contains("versions") || doc.contains("configs") || doc.contains("config"));
}

bool isLmEvalSamplesName(const fs::path& file)
{
    const std::string n = file.filename().string();
    return n.rfind("samples_", 0) == 0 && file.extension() == ".jsonl";
}

ImportResult importLmEvalResults(const json& doc, const fs::path& file)
{
    ImportResult out;
    const std::string where = file.string();
    auto note = [&](const std::string& m) { out.messages.push_back(where + ": " + m); };
    auto info = [&](const std::string& m) { out.notes.push_back(where + ": " + m); };
    const auto args = modelArgs(doc);
    const std::string config = configName(args);
    ResultRecord proto;
    proto.schema_version = kResultSchemaVersion;
    proto.config = config;
    proto.source = where;
    proto.model_name = args.count("pretrained") ? args.at("pretrained") : std::string();
    proto.settings = {{"imported_from", file.filename().string()}, {"source_tool", "lm-evaluation-harness"}};
    const json& res = doc["results"];
    const json nshot = doc.contains("n-shot") && doc["n-shot"].is_object() ? doc["n-shot"] : json::object();
    const json nsamples = doc.contains("n-samples") && doc["n-samples"].is_object() ? doc["n-samples"] : json::object();

    // ---- MMLU: the aggregate and the subjects
    struct Subj {
        double acc = NAN, n = NAN;
    };
    std::map<std::string, Subj> subjects; // sorted: our question order
    bool mmluSeen = false;
    std::set<std::string> other;
    for (auto it = res.begin(); it != res.end(); ++it) {
        const std::string t = it.key();
        if (t == "mmlu") {
            mmluSeen = true;
            continue;
        }
        if (t.rfind("mmlu_", 0) == 0) {
            mmluSeen = true;
            const std::string s = t.substr(5);
            if (kMmluCategories.count(s))
                continue;
            Subj sj;
            if (!num(*it, "acc,none", sj.acc) || sj.acc < 0 || sj.acc > 1) {
                note("task '" + t + "': no acc,none in [0, 1], subject skipped");
                continue;
            }
            double n = NAN;
            if (nsamples.contains(t) && (num(nsamples[t], "effective", n) || num(nsamples[t], "original", n)))
                sj.n = n;
            subjects[s] = sj;
            continue;
        }
        if (t != "wikitext")
            other.insert(t);
    }
    if (mmluSeen) {
        ResultRecord r = proto;
        r.task = task::MmluDirect;
        double acc = NAN, se = NAN;
        const bool agg = res.contains("mmlu") && num(res["mmlu"], "acc,none", acc);
        double total = 0, correct = 0;
        bool counts = !subjects.empty();
        json per = json::object();
        for (const auto& [s, sj] : subjects) {
            if (std::isnan(sj.n)) {
                counts = false;
                continue;
            }
            const double c = std::round(sj.acc * sj.n);
            total += sj.n;
            correct += c;
            per[s] = {{"n", int64_t(sj.n)}, {"correct", int64_t(c)}, {"accuracy", sj.acc}};
        }
        if (!agg && counts && total > 0)
            acc = correct / total; // lm-eval's group accuracy is the question-weighted mean too
        if (!std::isfinite(acc)) {
            note("mmlu: neither an aggregate acc,none nor subjects with n-samples; not imported");
        } else {
            r.metrics["accuracy"] = acc;
            if (res.contains("mmlu") && num(res["mmlu"], "acc_stderr,none", se))
                r.metrics["accuracy_stderr"] = se;
            if (counts && total > 0) {
                r.metrics["n"] = total;
                r.metrics["correct"] = correct;
                if (!r.has("accuracy_stderr"))
                    r.metrics["accuracy_stderr"] = std::sqrt(acc * (1 - acc) / total);
            }
            r.details["mmlu"] = {{"per_subject", per}};
            double shots = NAN;
            if (num(nshot, "mmlu", shots) || (!subjects.empty() && num(nshot, ("mmlu_" + subjects.begin()->first).c_str(), shots)))
                r.settings["task"] = {{"shots", int64_t(shots)}};
            r.settings["lm_eval_protocol"] = "lm-evaluation-harness mmlu: log-likelihood of each answer choice";
            // Per-item logs: our question order (subjects sorted, rows by doc_id) for paired tests.
            if (counts) {
                const std::string stamp = stampOf(file);
                std::string corr, pred, ids;
                bool all = true;
                size_t files = 0;
                for (const auto& [s, sj] : subjects) {
                    const fs::path sf = samplesFile(file.parent_path(), "mmlu_" + s, stamp);
                    if (sf.empty()) {
                        all = false;
                        break;
                    }
                    std::vector<std::string> msgs;
                    std::map<int64_t, Sample> items;
                    try {
                        items = readSamples(sf, msgs);
                    } catch (const Error& e) {
                        msgs.push_back(e.what());
                    }
                    for (auto& m : msgs)
                        out.messages.push_back(std::move(m));
                    if (double(items.size()) != sj.n || (!items.empty() && items.rbegin()->first != int64_t(items.size()) - 1)) {
                        note("samples for mmlu_" + s + " (" + sf.filename().string() + ") hold " +
                             std::to_string(items.size()) + " items, not doc_ids 0.." + std::to_string(int64_t(sj.n) - 1) +
                             "; per-question data not used");
                        all = false;
                        break;
                    }
                    ++files;
                    for (const auto& [id, it] : items) {
                        corr += it.correct ? '1' : '0';
                        pred += it.prediction;
                        ids += s + "/test/" + std::to_string(id) + "\n";
                    }
                }
                if (all) {
                    r.correct = corr;
                    if (pred.find('?') == std::string::npos)
                        r.predictions = pred;
                    r.question_set = sha256Hex(ids);
                    info("per-question correctness of " + std::to_string(corr.size()) + " MMLU questions from " +
                         std::to_string(files) + " samples files (paired tests possible)");
                } else if (files == 0) {
                    info("no samples_mmlu_<subject>_" + stamp + ".jsonl beside it: MMLU paired tests not possible");
                }
            }
            out.records.push_back(std::move(r));
        }
    }

    // ---- wikitext: word perplexity, never on the token-PPL axis
    if (res.contains("wikitext")) {
        ResultRecord r = proto;
        r.task = task::Ppl;
        for (const char* k : {"word_perplexity", "byte_perplexity", "bits_per_byte"}) {
            double v = NAN;
            if (num(res["wikitext"], (std::string(k) + ",none").c_str(), v))
                r.metrics[k] = v;
        }
        r.settings["protocol"] = kWikitextProtocol;
        if (r.metrics.empty()) {
            note("wikitext: no word_perplexity/byte_perplexity/bits_per_byte, not imported");
        } else {
            info("wikitext imported as word perplexity (ppl.word_perplexity), not as token PPL: the two protocols differ");
            out.records.push_back(std::move(r));
        }
    }
    for (const auto& t : other)
        info("task '" + t + "' has no QuantBench counterpart, not imported");
    if (out.records.empty() && out.messages.empty() && out.notes.empty())
        note("an lm-eval results file without mmlu or wikitext results");
    return out;
}

std::vector<fs::path> exportLmEval(const std::vector<ResultRecord>& records, const fs::path& dir)
{
    std::vector<fs::path> written;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        throw Error(dir.string() + ": cannot create folder: " + ec.message());
    // The newest ok MMLU direct record per config (the arrival order breaks ties).
    std::vector<std::string> order;
    std::map<std::string, const ResultRecord*> pick;
    for (const auto& r : records) {
        if (!r.ok() || r.task != task::MmluDirect || !r.has("accuracy"))
            continue;
        auto [it, fresh] = pick.try_emplace(r.config, &r);
        if (fresh)
            order.push_back(r.config);
        else if (r.provenance.finished >= it->second->provenance.finished)
            it->second = &r;
    }
    for (const auto& config : order) {
        const ResultRecord& r = *pick[config];
        std::string safe = config;
        for (char& c : safe)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
                c = '_';
        json results = json::object(), nshot = json::object(), nsamples = json::object();
        results["mmlu"] = {{"alias", "mmlu"}, {"acc,none", r.metric("accuracy")}};
        if (r.has("accuracy_stderr"))
            results["mmlu"]["acc_stderr,none"] = r.metric("accuracy_stderr");
        int64_t shots = -1;
        if (r.settings.is_object() && r.settings.contains("task") && r.settings["task"].is_object() &&
            r.settings["task"].contains("shots"))
            jsonNumber(r.settings["task"]["shots"], shots);
        if (shots >= 0)
            nshot["mmlu"] = shots;
        std::vector<std::pair<std::string, int64_t>> subjects; // sorted by the map
        if (r.details.is_object() && r.details.contains("mmlu") && r.details["mmlu"].contains("per_subject") &&
            r.details["mmlu"]["per_subject"].is_object()) {
            for (auto it = r.details["mmlu"]["per_subject"].begin(); it != r.details["mmlu"]["per_subject"].end(); ++it) {
                int64_t n = 0, c = 0;
                if (!it->is_object() || !it->contains("n") || !jsonNumber((*it)["n"], n) || n <= 0 || !it->contains("correct") ||
                    !jsonNumber((*it)["correct"], c))
                    continue;
                const std::string t = "mmlu_" + it.key();
                results[t] = {{"alias", " - " + it.key()}, {"acc,none", double(c) / double(n)},
                              {"acc_stderr,none", std::sqrt(double(c) / double(n) * (1 - double(c) / double(n)) / double(n))}};
                nsamples[t] = {{"original", n}, {"effective", n}};
                if (shots >= 0)
                    nshot[t] = shots;
                subjects.push_back({it.key(), n});
            }
        }
        json doc = {{"results", results},
                    {"n-shot", nshot},
                    {"n-samples", nsamples},
                    {"versions", {{"mmlu", "quantbench"}}},
                    {"config",
                     {{"model", "quantbench"},
                      {"model_args", "pretrained=" + (r.model_path.empty() ? r.model_name : r.model_path) +
                                         ",quantbench_config=" + config}}},
                    {"quantbench",
                     {{"config", config},
                      {"task", "mmlu_direct (answer-letter logits)"},
                      {"question_set", r.question_set}}}};
        const fs::path rf = dir / ("results_" + safe + ".json");
        writeFileAtomic(rf, doc.dump(2) + "\n", "lm-eval results file");
        written.push_back(rf);
        // Samples only when our question order is provably rows 0..n-1 of each subject (the
        // question_set hash of those ids equals the record's): doc_id is then the row.
        std::string ids;
        size_t total = 0;
        for (const auto& [s, n] : subjects) {
            for (int64_t i = 0; i < n; ++i)
                ids += s + "/test/" + std::to_string(i) + "\n";
            total += size_t(n);
        }
        if (subjects.empty() || r.correct.size() != total || r.question_set.empty() || sha256Hex(ids) != r.question_set)
            continue;
        size_t at = 0;
        for (const auto& [s, n] : subjects) {
            std::string text;
            for (int64_t i = 0; i < n; ++i, ++at) {
                json line = {{"doc_id", i}, {"acc", r.correct[at] == '1' ? 1.0 : 0.0}};
                if (r.predictions.size() == r.correct.size())
                    line["quantbench_prediction"] = std::string(1, r.predictions[at]);
                text += line.dump() + "\n";
            }
            const fs::path sf = dir / ("samples_mmlu_" + s + "_" + safe + ".jsonl");
            writeFileAtomic(sf, text, "lm-eval samples file");
            written.push_back(sf);
        }
    }
    return written;
}

} // namespace qb
