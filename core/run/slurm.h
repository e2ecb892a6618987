#pragma once
// Slurm as the cluster engine (we write and submit ordinary job-array scripts; no scheduler of
// our own). Everything here is text in, text out, so it is testable without a cluster:
// - `makeSbatchScript`: a documented job.sbatch, one array task per shard; task i runs
//   `quantbench-cli sweep SWEEP --shard i/N --out RUN_DIR/shard_i`, so every task has its own
//   results file and lock (concurrent tasks never write the same file) and a rerun resumes.
// - `RunDirSlurm`: RUN_DIR/slurm.json, the submitted job ids (one per submit/resubmit) and what
//   each array covered, so status/cancel/resubmit know which jobs belong to the run.
// - `parseSqueue` / `parseSacct`: per-task state from `squeue -h -r -o %i|%T|%r` and
//   `sacct -n -P -X -o JobID,State,ExitCode,Reason`, reduced to pending/running/done/failed.
// Running the programs is the caller's business (the CLI forks, the GUI uses QProcess).
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace qb {

struct SlurmOptions {
    std::string cli;        // absolute path of quantbench-cli on the cluster nodes
    std::string sweep_file; // absolute path of the sweep file
    std::string run_dir;    // absolute path of the run folder
    std::string job_name;   // default: qb-<sweep name>
    int shards = 1;         // array tasks 0..shards-1
    std::string array;      // empty = "0-(shards-1)"; resubmit passes e.g. "1,3"
    std::string partition, gres, time, mem, account;
    int cpus_per_task = 0;  // 0 = not set
};

// Throws qb::Error naming the option: --time must be MM, HH:MM:SS or D-HH:MM:SS, N >= 1, and
// the free-text options may hold only characters Slurm itself uses (no spaces, quotes, $).
void validateSlurmOptions(const SlurmOptions& o);

// POSIX single-quoting: 'it'\''s' — safe for any byte string in a bash script.
std::string shellQuote(const std::string& s);

std::string makeSbatchScript(const SlurmOptions& o);

// Folder of shard i inside a run folder ("shard_3").
std::string shardDirName(int shard);

struct SlurmTask {
    int task = -1;
    std::string job_id;  // the array job the state comes from
    std::string state;   // pending | running | done | failed | unknown
    std::string slurm_state; // Slurm's own word: PENDING, TIMEOUT, CANCELLED, ...
    std::string reason;  // Slurm's reason, or "exit 1", "TIMEOUT (time limit)"
};

// Both parsers skip lines they do not understand and lines of other jobs. Keys: task index.
// squeue -r prints one line per task ("123_4|RUNNING|None"); a not yet split pending array reads
// "123_[1-3]|PENDING|Priority" and is expanded.
std::map<int, SlurmTask> parseSqueue(const std::string& text, const std::string& jobId);
// sacct -X: "123_4|TIMEOUT|0:0|None" (steps excluded). Pending ranges are expanded like squeue's.
std::map<int, SlurmTask> parseSacct(const std::string& text, const std::string& jobId);
// PENDING/CONFIGURING -> pending, RUNNING/COMPLETING -> running, COMPLETED -> done, the rest failed.
std::string simplifySlurmState(const std::string& slurmState);

// Parses "0-3", "1,3,5-7" into task indices; throws qb::Error on bad text.
std::vector<int> parseArrayRange(const std::string& text);
std::string formatArrayRange(const std::vector<int>& tasks); // "0-3,5"

struct RunDirSlurm {
    static constexpr const char* kFileName = "slurm.json";
    struct Job { std::string id; std::string array; };
    SlurmOptions options;
    std::vector<Job> jobs; // oldest first; the newest job covering a task is its current one

    nlohmann::json toJson() const;
    static RunDirSlurm fromJson(const nlohmann::json& j, const std::string& where);
    static RunDirSlurm load(const std::filesystem::path& runDir); // throws naming the file
    void save(const std::filesystem::path& runDir) const;         // atomic
    // The newest job id per task.
    std::map<int, std::string> currentJobs() const;
};

// Per-task status merged from squeue (live), sacct (finished; may be empty where accounting is
// off) and, as the last word, the exit marker each task writes (RUN_DIR/shard_i/.slurm_exit).
// A task with neither is "unknown", or "failed" with "ended without exit status" when squeue no
// longer lists its job (killed before it could write the marker).
std::vector<SlurmTask> mergeSlurmStatus(const RunDirSlurm& run, const std::filesystem::path& runDir,
                                        const std::string& squeueText, const std::string& sacctText,
                                        bool squeueOk);

} // namespace qb
