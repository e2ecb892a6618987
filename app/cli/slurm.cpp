// `quantbench-cli slurm submit|status|cancel|resubmit`: a sweep as a Slurm job array (see
// core/run/slurm.h for the script and the status rules). submit writes RUN_DIR/job.sbatch and
// RUN_DIR/slurm.json and runs `sbatch --parsable` from RUN_DIR; status asks squeue and sacct;
// cancel runs scancel on every job of the run; resubmit --failed submits the failed tasks again
// (each resumes its shard folder, so finished records are kept and skipped).
#include "app/cli/command.h"
#include "core/run/slurm.h"
#include "core/run/sweep.h"
#include "core/util/atomic_write.h"
#include "core/util/error.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <map>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

struct Proc { int rc = -1; std::string out, err; };

// The program's path on PATH, or empty.
std::string onPath(const std::string& prog)
{
    const char* path = std::getenv("PATH");
    std::istringstream is(path ? path : "");
    std::string dir;
    while (std::getline(is, dir, ':')) {
        fs::path p = fs::path(dir.empty() ? "." : dir) / prog;
        if (::access(p.c_str(), X_OK) == 0 && !fs::is_directory(p))
            return p.string();
    }
    return {};
}

std::string slurp(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Runs argv (argv[0] looked up on PATH) in `cwd`; stdout/stderr captured through temp files so a
// chatty program cannot dead-lock on a full pipe. Throws when the program is not on PATH.
Proc runProgram(const std::vector<std::string>& argv, const fs::path& cwd = {})
{
    const std::string exe = onPath(argv.at(0));
    if (exe.empty())
        throw qb::Error(argv[0] + " not found on PATH: is this a Slurm login node (module load slurm)?");
    char outT[] = "/tmp/qb_slurm_outXXXXXX", errT[] = "/tmp/qb_slurm_errXXXXXX";
    int fo = ::mkstemp(outT), fe = ::mkstemp(errT);
    if (fo < 0 || fe < 0)
        throw qb::Error("cannot create temp files for " + argv[0]);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(fo, 1);
        ::dup2(fe, 2);
        int devnull = ::open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            ::dup2(devnull, 0);
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0)
            ::_exit(126);
        std::vector<char*> a;
        for (const auto& s : argv)
            a.push_back(const_cast<char*>(s.c_str()));
        a.push_back(nullptr);
        ::execv(exe.c_str(), a.data());
        ::_exit(127);
    }
    Proc p;
    int st = 0;
    if (pid > 0 && ::waitpid(pid, &st, 0) == pid)
        p.rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    ::close(fo);
    ::close(fe);
    p.out = slurp(outT);
    p.err = slurp(errT);
    ::unlink(outT);
    ::unlink(errT);
    if (pid < 0)
        throw qb::Error("cannot start " + argv[0]);
    return p;
}

std::string trim(std::string s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
        s.pop_back();
    return s;
}

std::string selfPath()
{
    std::error_code ec;
    auto p = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string("quantbench-cli") : p.string();
}

// sbatch --parsable prints "JOBID" or "JOBID;CLUSTER".
std::string submitScript(const qb::RunDirSlurm& run, const fs::path& runDir)
{
    fs::create_directories(runDir / "logs");
    Proc p = runProgram({"sbatch", "--parsable", "job.sbatch"}, runDir);
    if (p.rc != 0)
        throw qb::Error("sbatch refused the job (exit " + std::to_string(p.rc) + "): " + trim(p.err.empty() ? p.out : p.err));
    std::string id = trim(p.out);
    id = id.substr(0, id.find(';'));
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
        throw qb::Error("sbatch printed no job id: '" + trim(p.out) + "'");
    return id;
}

int runSubmit(const std::vector<std::string>& argv)
{
    qb::cli::Args args("slurm submit", "SWEEP.json --out RUN_DIR [--shards N | --per-config] [options]");
    args.option("out", "run folder (job.sbatch, slurm.json, logs/, shard_i/)")
        .option("shards", "array tasks (shard i/N each)", "1")
        .flag("per-config", "one array task per config")
        .option("partition", "Slurm partition")
        .option("gres", "generic resources, e.g. gpu:1")
        .option("time", "time limit per task, HH:MM:SS or D-HH:MM:SS")
        .option("cpus-per-task", "CPUs per task")
        .option("mem", "memory per node, e.g. 16G")
        .option("account", "Slurm account")
        .option("cli", "quantbench-cli path on the nodes (default: this one)")
        .flag("dry-run", "print the script, submit nothing");
    return qb::cli::runParsed(args, argv, [&] {
        if (args.positional().size() != 1)
            throw qb::Error("give one sweep file");
        if (!args.has("out"))
            throw qb::Error("--out RUN_DIR is required");
        if (args.has("per-config") && args.has("shards"))
            throw qb::Error("give --shards N or --per-config, not both");
        const fs::path sweep = fs::absolute(args.positional()[0]).lexically_normal();
        qb::SweepSpec spec = qb::SweepSpec::load(sweep); // a broken sweep fails here, not on the cluster
        const fs::path runDir = fs::absolute(args.get("out")).lexically_normal();
        qb::RunDirSlurm run;
        auto& o = run.options;
        o.cli = args.has("cli") ? args.get("cli") : selfPath();
        o.sweep_file = sweep.string();
        o.run_dir = runDir.string();
        o.job_name = "qb-" + spec.name;
        for (char& c : o.job_name)
            if (!std::isalnum((unsigned char)c) && c != '-' && c != '_' && c != '.')
                c = '_';
        o.shards = args.has("per-config") ? int(spec.configs().size()) : int(args.getInt("shards"));
        o.partition = args.get("partition");
        o.gres = args.get("gres");
        o.time = args.get("time");
        o.mem = args.get("mem");
        o.account = args.get("account");
        if (args.has("cpus-per-task")) {
            o.cpus_per_task = int(args.getInt("cpus-per-task"));
            if (o.cpus_per_task < 1)
                throw qb::Error("--cpus-per-task: must be at least 1");
        }
        const std::string script = qb::makeSbatchScript(o); // validates
        if (args.has("dry-run")) {
            std::cout << script;
            return 0;
        }
        if (onPath("sbatch").empty())
            throw qb::Error("sbatch not found on PATH: submit from a Slurm login node (or use --dry-run to see the script)");
        fs::create_directories(runDir);
        if (fs::exists(runDir / qb::RunDirSlurm::kFileName))
            throw qb::Error(runDir.string() + " already holds a Slurm run (slurm.json): use `slurm resubmit` or another folder");
        qb::writeFileAtomic(runDir / "job.sbatch", script, "job script");
        fs::permissions(runDir / "job.sbatch", fs::perms::owner_exec, fs::perm_options::add);
        const std::string id = submitScript(run, runDir);
        run.jobs.push_back({id, "0-" + std::to_string(o.shards - 1)});
        run.save(runDir);
        std::cout << id << '\n';
        std::cerr << "submitted job " << id << ": " << o.shards << " array task(s); follow with `quantbench-cli slurm status "
                  << runDir.string() << "`\n";
        return 0;
    });
}


std::vector<qb::SlurmTask> queryStatus(const qb::RunDirSlurm& run, const fs::path& runDir)
{
    std::string ids;
    for (const auto& jb : run.jobs)
        ids += (ids.empty() ? "" : ",") + jb.id;
    Proc sq = runProgram({"squeue", "-h", "-r", "-t", "all", "-j", ids, "-o", "%i|%T|%r"});
    // squeue exits non-zero for job ids it no longer knows ("Invalid job id"): all finished.
    bool squeueOk = sq.rc == 0 || sq.err.find("Invalid job id") != std::string::npos;
    std::string sacctOut;
    if (!onPath("sacct").empty()) {
        Proc sa = runProgram({"sacct", "-n", "-P", "-X", "-j", ids, "-o", "JobID,State,ExitCode,Reason"});
        if (sa.rc == 0)
            sacctOut = sa.out;
    }
    if (!squeueOk)
        std::cerr << "quantbench-cli slurm status: squeue failed: " << trim(sq.err) << '\n';
    return qb::mergeSlurmStatus(run, runDir, squeueOk ? sq.out : std::string(), sacctOut, squeueOk);
}

int runStatus(const std::vector<std::string>& argv)
{
    qb::cli::Args args("slurm status", "RUN_DIR [--json]");
    args.flag("json", "machine-readable output");
    return qb::cli::runParsed(args, argv, [&] {
        if (args.positional().size() != 1)
            throw qb::Error("give one run folder");
        const fs::path runDir = args.positional()[0];
        auto run = qb::RunDirSlurm::load(runDir);
        auto tasks = queryStatus(run, runDir);
        std::map<std::string, int> counts;
        nlohmann::json j = nlohmann::json::array();
        for (const auto& t : tasks) {
            ++counts[t.state];
            j.push_back({{"task", t.task}, {"job", t.job_id}, {"state", t.state}, {"slurm_state", t.slurm_state}, {"reason", t.reason}});
        }
        if (args.has("json")) {
            std::cout << nlohmann::json{{"tasks", j}}.dump(2) << '\n';
        } else {
            for (const auto& t : tasks)
                std::cout << "task " << t.task << "  job " << t.job_id << "_" << t.task << "  " << t.state
                          << (t.reason.empty() ? "" : "  (" + t.reason + ")") << '\n';
            std::cout << "pending " << counts["pending"] << ", running " << counts["running"] << ", done " << counts["done"]
                      << ", failed " << counts["failed"] << ", unknown " << counts["unknown"] << '\n';
        }
        return 0;
    });
}

int runCancel(const std::vector<std::string>& argv)
{
    qb::cli::Args args("slurm cancel", "RUN_DIR");
    return qb::cli::runParsed(args, argv, [&] {
        if (args.positional().size() != 1)
            throw qb::Error("give one run folder");
        auto run = qb::RunDirSlurm::load(args.positional()[0]);
        std::vector<std::string> a{"scancel"};
        for (const auto& jb : run.jobs)
            a.push_back(jb.id);
        Proc p = runProgram(a);
        if (p.rc != 0)
            throw qb::Error("scancel failed (exit " + std::to_string(p.rc) + "): " + trim(p.err));
        std::cerr << "cancelled " << a.size() - 1 << " job(s)\n";
        return 0;
    });
}

int runResubmit(const std::vector<std::string>& argv)
{
    qb::cli::Args args("slurm resubmit", "RUN_DIR --failed");
    args.flag("failed", "resubmit the tasks that failed, timed out or were cancelled");
    return qb::cli::runParsed(args, argv, [&] {
        if (args.positional().size() != 1)
            throw qb::Error("give one run folder");
        if (!args.has("failed"))
            throw qb::Error("say which tasks: --failed");
        const fs::path runDir = fs::absolute(args.positional()[0]);
        auto run = qb::RunDirSlurm::load(runDir);
        std::vector<int> failed;
        for (const auto& t : queryStatus(run, runDir))
            if (t.state == "failed")
                failed.push_back(t.task);
        if (failed.empty()) {
            std::cerr << "no failed tasks\n";
            return 0;
        }
        qb::SlurmOptions o = run.options;
        o.array = qb::formatArrayRange(failed);
        const std::string script = qb::makeSbatchScript(o);
        qb::writeFileAtomic(runDir / "job.sbatch", script, "job script");
        const std::string id = submitScript(run, runDir);
        run.jobs.push_back({id, o.array});
        run.save(runDir);
        std::cout << id << '\n';
        std::cerr << "resubmitted task(s) " << o.array << " as job " << id << " (finished records are skipped)\n";
        return 0;
    });
}

int runSlurm(const std::vector<std::string>& argv)
{
    const std::string usage = "usage: quantbench-cli slurm submit|status|cancel|resubmit ... (each --help)\n";
    if (argv.empty()) {
        std::cerr << usage;
        return 2;
    }
    std::vector<std::string> rest(argv.begin() + 1, argv.end());
    const std::string& sub = argv[0];
    if (sub == "submit")
        return runSubmit(rest);
    if (sub == "status")
        return runStatus(rest);
    if (sub == "cancel")
        return runCancel(rest);
    if (sub == "resubmit")
        return runResubmit(rest);
    if (sub == "--help" || sub == "-h") {
        std::cout << usage;
        return 0;
    }
    std::cerr << "quantbench-cli slurm: unknown subcommand '" << sub << "'\n" << usage;
    return 2;
}

QB_CLI_COMMAND("slurm", "submit a sweep as a Slurm job array; status, cancel, resubmit --failed", runSlurm);

} // namespace
