#include "core/run/slurm.h"

#include "core/util/atomic_write.h"
#include "core/util/error.h"

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace qb {

namespace {

// Characters Slurm uses in partition, account, gres and mem values: refusing the rest keeps the
// #SBATCH lines (which are not shell-parsed) free of anything that needs quoting.
void checkToken(const std::string& name, const std::string& v)
{
    static const std::regex ok("[A-Za-z0-9_.,:=+@-]+");
    if (!v.empty() && !std::regex_match(v, ok))
        throw Error("--" + name + ": '" + v + "' holds characters Slurm does not use here (allowed: letters, digits, _ . , : = + @ -)");
}

std::vector<std::string> splitLines(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream is(text);
    std::string line;
    while (std::getline(is, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
            line.pop_back();
        if (!line.empty())
            out.push_back(line);
    }
    return out;
}

std::vector<std::string> splitBar(const std::string& line)
{
    std::vector<std::string> f;
    std::string cur;
    for (char c : line) {
        if (c == '|') {
            f.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    f.push_back(cur);
    return f;
}

// "123_4" -> {4}; "123_[1-3%2]" -> {1,2,3}; other jobs / plain "123" -> {}.
std::vector<int> tasksOf(const std::string& id, const std::string& jobId)
{
    const std::string prefix = jobId + "_";
    if (id.compare(0, prefix.size(), prefix) != 0)
        return {};
    std::string rest = id.substr(prefix.size());
    if (!rest.empty() && rest.front() == '[') {
        rest = rest.substr(1, rest.find(']') == std::string::npos ? std::string::npos : rest.find(']') - 1);
        rest = rest.substr(0, rest.find('%'));
    }
    try {
        return parseArrayRange(rest);
    } catch (const Error&) {
        return {};
    }
}

} // namespace

void validateSlurmOptions(const SlurmOptions& o)
{
    if (o.shards < 1)
        throw Error("--shards: N must be at least 1, got " + std::to_string(o.shards));
    if (o.shards > 100000)
        throw Error("--shards: " + std::to_string(o.shards) + " array tasks is more than any cluster allows");
    if (o.cpus_per_task < 0)
        throw Error("--cpus-per-task: must be at least 1, got " + std::to_string(o.cpus_per_task));
    static const std::regex timeRe("([0-9]+)|([0-9]+-)?[0-9]+:[0-5][0-9]:[0-5][0-9]");
    if (!o.time.empty() && !std::regex_match(o.time, timeRe))
        throw Error("--time: expected HH:MM:SS, D-HH:MM:SS or minutes, got '" + o.time + "'");
    static const std::regex memRe("[0-9]+[KMGT]?");
    if (!o.mem.empty() && !std::regex_match(o.mem, memRe))
        throw Error("--mem: expected a size such as 16G or 4000M, got '" + o.mem + "'");
    checkToken("partition", o.partition);
    checkToken("gres", o.gres);
    checkToken("account", o.account);
    checkToken("job-name", o.job_name);
    if (!o.array.empty())
        for (int t : parseArrayRange(o.array))
            if (t >= o.shards)
                throw Error("array task " + std::to_string(t) + " is out of range for " + std::to_string(o.shards) + " shards");
    if (o.cli.empty() || o.sweep_file.empty() || o.run_dir.empty())
        throw Error("slurm: the CLI path, sweep file and run folder must be set");
}

std::string shellQuote(const std::string& s)
{
    std::string out = "'";
    for (char c : s) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}

std::string shardDirName(int shard) { return "shard_" + std::to_string(shard); }

std::string makeSbatchScript(const SlurmOptions& o)
{
    validateSlurmOptions(o);
    const std::string array = o.array.empty() ? "0-" + std::to_string(o.shards - 1) : o.array;
    std::ostringstream s;
    s << "#!/bin/bash\n"
         "# QuantBench sweep as a Slurm job array, written by `quantbench-cli slurm submit`.\n"
         "# One array task per shard: task i runs shard i/N of the sweep (configs with index % N == i)\n"
         "# into its own folder shard_i/ (own results.jsonl and lock), so concurrent tasks never write\n"
         "# the same file. Rerunning a task resumes it: finished records are skipped.\n"
         "# Submit from the run folder (logs/ must exist):  cd RUN_DIR && sbatch --parsable job.sbatch\n"
         "# Follow / fix:  quantbench-cli slurm status RUN_DIR | cancel RUN_DIR | resubmit RUN_DIR --failed\n"
         "# Report:        quantbench-cli report RUN_DIR   (all shard files as one run)\n";
    s << "#SBATCH --job-name=" << (o.job_name.empty() ? std::string("quantbench") : o.job_name) << '\n';
    s << "#SBATCH --array=" << array << '\n';
    s << "#SBATCH --output=logs/task_%a_job_%A.out\n";
    if (!o.partition.empty())
        s << "#SBATCH --partition=" << o.partition << '\n';
    if (!o.account.empty())
        s << "#SBATCH --account=" << o.account << '\n';
    if (!o.gres.empty())
        s << "#SBATCH --gres=" << o.gres << '\n';
    if (!o.time.empty())
        s << "#SBATCH --time=" << o.time << '\n';
    if (o.cpus_per_task > 0)
        s << "#SBATCH --cpus-per-task=" << o.cpus_per_task << '\n';
    if (!o.mem.empty())
        s << "#SBATCH --mem=" << o.mem << '\n';
    s << "\nset -u\n"
      << "cli=" << shellQuote(o.cli) << '\n'
      << "sweep=" << shellQuote(o.sweep_file) << '\n'
      << "run_dir=" << shellQuote(o.run_dir) << '\n'
      << "shards=" << o.shards << '\n'
      << "task=${SLURM_ARRAY_TASK_ID:?not inside a Slurm array task}\n"
         "out=\"$run_dir/shard_$task\"\n"
         "mkdir -p \"$out\"\n"
         "\"$cli\" sweep \"$sweep\" --out \"$out\" --shard \"$task/$shards\" --quiet\n"
         "rc=$?\n"
         "# Exit marker for `slurm status` where accounting (sacct) is off: exit code and array job id.\n"
         "echo \"$rc ${SLURM_ARRAY_JOB_ID:-}\" > \"$out/.slurm_exit\"\n"
         "exit $rc\n";
    return s.str();
}

std::vector<int> parseArrayRange(const std::string& text)
{
    std::vector<int> out;
    static const std::regex part("([0-9]+)(-([0-9]+))?");
    std::string item;
    std::istringstream is(text);
    bool any = false;
    while (std::getline(is, item, ',')) {
        std::smatch m;
        if (!std::regex_match(item, m, part))
            throw Error("array range: expected e.g. 0-3 or 1,3,5-7, got '" + text + "'");
        int a = std::stoi(m[1]), b = m[3].matched ? std::stoi(m[3]) : a;
        if (b < a || b - a > 100000)
            throw Error("array range: bad range '" + item + "' in '" + text + "'");
        for (int t = a; t <= b; ++t)
            out.push_back(t);
        any = true;
    }
    if (!any)
        throw Error("array range: empty");
    return out;
}

std::string formatArrayRange(const std::vector<int>& tasks)
{
    std::set<int> s(tasks.begin(), tasks.end());
    std::string out;
    for (auto it = s.begin(); it != s.end();) {
        int a = *it, b = a;
        ++it;
        while (it != s.end() && *it == b + 1)
            b = *it++;
        out += (out.empty() ? "" : ",") + std::to_string(a) + (b > a ? "-" + std::to_string(b) : "");
    }
    return out;
}

std::string simplifySlurmState(const std::string& st)
{
    const std::string w = st.substr(0, st.find(' ')); // "CANCELLED by 0"
    if (w == "PENDING" || w == "CONFIGURING" || w == "REQUEUED" || w == "RESIZING" || w == "SUSPENDED")
        return "pending";
    if (w == "RUNNING" || w == "COMPLETING" || w == "STAGE_OUT" || w == "SIGNALING")
        return "running";
    if (w == "COMPLETED")
        return "done";
    if (w.empty())
        return "unknown";
    return "failed"; // FAILED, TIMEOUT, CANCELLED, NODE_FAIL, OUT_OF_MEMORY, PREEMPTED, BOOT_FAIL, DEADLINE
}

std::map<int, SlurmTask> parseSqueue(const std::string& text, const std::string& jobId)
{
    std::map<int, SlurmTask> out;
    for (const auto& line : splitLines(text)) {
        auto f = splitBar(line);
        if (f.size() < 2)
            continue;
        for (int t : tasksOf(f[0], jobId)) {
            SlurmTask k;
            k.task = t;
            k.job_id = jobId;
            k.slurm_state = f[1];
            k.state = simplifySlurmState(f[1]);
            k.reason = f.size() > 2 && f[2] != "None" ? f[2] : "";
            // squeue -t all keeps ended tasks for MinJobAge: say how they ended
            if (k.state == "failed") {
                const std::string w = f[1].substr(0, f[1].find(' '));
                const std::string how = w == "TIMEOUT" ? "TIMEOUT (time limit)" : w;
                const bool same = k.reason.empty() || k.reason == how || (w == "TIMEOUT" && k.reason == "TimeLimit");
                k.reason = same ? how : how + ", " + k.reason;
            }
            out[t] = k;
        }
    }
    return out;
}

std::map<int, SlurmTask> parseSacct(const std::string& text, const std::string& jobId)
{
    std::map<int, SlurmTask> out;
    for (const auto& line : splitLines(text)) {
        auto f = splitBar(line);
        if (f.size() < 2 || f[0].find('.') != std::string::npos) // steps: 123_4.batch
            continue;
        for (int t : tasksOf(f[0], jobId)) {
            SlurmTask k;
            k.task = t;
            k.job_id = jobId;
            k.slurm_state = f[1];
            k.state = simplifySlurmState(f[1]);
            std::string reason = f.size() > 3 && f[3] != "None" ? f[3] : "";
            const std::string w = f[1].substr(0, f[1].find(' '));
            if (w == "TIMEOUT")
                reason = "TIMEOUT (time limit)" + (reason.empty() || reason == "TimeLimit" ? "" : ", " + reason);
            else if (k.state == "failed" && reason.empty())
                reason = f[1] + (f.size() > 2 ? " (exit " + f[2] + ")" : "");
            k.reason = reason;
            out[t] = k;
        }
    }
    return out;
}

nlohmann::json RunDirSlurm::toJson() const
{
    nlohmann::json j;
    j["schema"] = "quantbench.slurm";
    j["cli"] = options.cli;
    j["sweep"] = options.sweep_file;
    j["run_dir"] = options.run_dir;
    j["job_name"] = options.job_name;
    j["shards"] = options.shards;
    j["partition"] = options.partition;
    j["gres"] = options.gres;
    j["time"] = options.time;
    j["mem"] = options.mem;
    j["account"] = options.account;
    j["cpus_per_task"] = options.cpus_per_task;
    j["jobs"] = nlohmann::json::array();
    for (const auto& jb : jobs)
        j["jobs"].push_back({{"id", jb.id}, {"array", jb.array}});
    return j;
}

RunDirSlurm RunDirSlurm::fromJson(const nlohmann::json& j, const std::string& where)
{
    RunDirSlurm r;
    try {
        if (!j.is_object() || j.value("schema", "") != "quantbench.slurm")
            throw Error("not a QuantBench slurm.json");
        auto& o = r.options;
        o.cli = j.at("cli").get<std::string>();
        o.sweep_file = j.at("sweep").get<std::string>();
        o.run_dir = j.value("run_dir", "");
        o.job_name = j.value("job_name", "");
        o.shards = j.at("shards").get<int>();
        o.partition = j.value("partition", "");
        o.gres = j.value("gres", "");
        o.time = j.value("time", "");
        o.mem = j.value("mem", "");
        o.account = j.value("account", "");
        o.cpus_per_task = j.value("cpus_per_task", 0);
        for (const auto& jb : j.at("jobs"))
            r.jobs.push_back({jb.at("id").get<std::string>(), jb.at("array").get<std::string>()});
    } catch (const Error& e) {
        fail(where, e.what());
    } catch (const std::exception& e) {
        fail(where, std::string("bad slurm.json: ") + e.what());
    }
    return r;
}

RunDirSlurm RunDirSlurm::load(const fs::path& runDir)
{
    const fs::path p = runDir / kFileName;
    std::ifstream in(p);
    if (!in)
        fail(p.string(), "cannot read (was this run submitted with `quantbench-cli slurm submit`?)");
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded())
        fail(p.string(), "not valid JSON");
    return fromJson(j, p.string());
}

void RunDirSlurm::save(const fs::path& runDir) const
{
    writeFileAtomic(runDir / kFileName, toJson().dump(2) + "\n", "slurm.json");
}

std::map<int, std::string> RunDirSlurm::currentJobs() const
{
    std::map<int, std::string> out;
    for (const auto& jb : jobs) {
        try {
            for (int t : parseArrayRange(jb.array))
                out[t] = jb.id;
        } catch (const Error&) {
        }
    }
    return out;
}

std::vector<SlurmTask> mergeSlurmStatus(const RunDirSlurm& run, const fs::path& runDir, const std::string& squeueText,
                                        const std::string& sacctText, bool squeueOk)
{
    std::vector<SlurmTask> out;
    std::map<std::string, std::map<int, SlurmTask>> sq, sa;
    for (const auto& [task, job] : run.currentJobs()) {
        if (!sq.count(job)) {
            sq[job] = parseSqueue(squeueText, job);
            sa[job] = parseSacct(sacctText, job);
        }
        SlurmTask k;
        k.task = task;
        k.job_id = job;
        k.state = "unknown";
        if (auto it = sq[job].find(task); it != sq[job].end()) {
            k = it->second;
        } else if (auto it2 = sa[job].find(task); it2 != sa[job].end() && it2->second.state != "pending" &&
                                                  it2->second.state != "running") {
            k = it2->second;
        } else {
            std::ifstream m(runDir / shardDirName(task) / ".slurm_exit");
            int rc = 0;
            std::string markJob;
            if (m >> rc) {
                m >> markJob;
                if (markJob.empty() || markJob == job) {
                    k.state = rc == 0 ? "done" : "failed";
                    k.slurm_state = rc == 0 ? "COMPLETED" : "FAILED";
                    k.reason = rc == 0 ? "" : (rc == 130 ? "exit 130 (stopped by a signal: time limit or cancel)"
                                                         : "exit " + std::to_string(rc));
                }
            }
            if (k.state == "unknown" && squeueOk) {
                k.state = "failed";
                k.reason = "ended without exit status (killed: time limit, cancel or node failure)";
            }
        }
        out.push_back(k);
    }
    return out;
}

} // namespace qb
