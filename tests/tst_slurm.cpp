// Slurm as the cluster target (core/run/slurm.h, `quantbench-cli slurm`):
// - the job script: golden text, shell quoting of hostile paths (run by bash with a fake CLI),
//   option validation messages;
// - squeue/sacct parsing and the merged per-task status;
// - the CLI against fake sbatch/squeue/sacct/scancel written by the test onto PATH: submit,
//   sbatch missing, sbatch refusing (its stderr shown), status (TIMEOUT reported as failed with
//   its reason), resubmit --failed (only the failed tasks), cancel;
// - a sharded run end to end through a fake sbatch that runs the array tasks locally: the run
//   folder's shard files read as one run give the same numbers as a local unsharded run;
// - the same against a real single-node Slurm (slurmctld + slurmd + munge started by the test),
//   skipped with the reason where that cannot start (not root, binaries missing).
#include "qbtest.h"

#include "core/report/rows.h"
#include "core/results/store.h"
#include "core/run/slurm.h"
#include "core/util/error.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QThread>

#include <cmath>
#include <filesystem>
#include <map>

#include <csignal>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

struct Run { int rc = -1; std::string out, err; };

QString g_slurmConf; // set while the real cluster runs: SLURM_CONF of every CLI call

Run cli(const QStringList& args, const QString& pathPrefix = {}, int timeoutMs = 600000)
{
    QProcess p;
    auto env = QProcessEnvironment::systemEnvironment();
    if (!pathPrefix.isEmpty())
        env.insert(QStringLiteral("PATH"), pathPrefix + QLatin1Char(':') + env.value(QStringLiteral("PATH")));
    if (!g_slurmConf.isEmpty())
        env.insert(QStringLiteral("SLURM_CONF"), g_slurmConf);
    p.setProcessEnvironment(env);
    p.start(QString::fromStdString(qbtest::cliPath()), args);
    Run r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.rc = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput().toStdString();
    r.err = p.readAllStandardError().toStdString();
    return r;
}

void writeExe(const fs::path& p, const std::string& text)
{
    qbtest::writeFile(p, text);
    ::chmod(p.c_str(), 0755);
}

QString q(const fs::path& p) { return QString::fromStdString(p.string()); }

// A small sweep of the demo model: 4 configs, PPL only (deterministic, seconds on a CPU).
fs::path smallSweep(const fs::path& dir)
{
    auto demo = qbtest::sourceDir() / "resources/demo";
    nlohmann::json j = {
        {"name", "slurm_test"},
        {"model", (demo / "stories260k").string()},
        {"baseline_dtype", "FP32"},
        {"device", "cpu"},
        {"schemes", {"INT8_Per_Row", "FP8_Per_Tensor", "INT8_Per_Tensor_Fake"}},
        {"tasks", {{"ppl", {{"ctx", 128}, {"max_windows", 2}, {"kl_windows", 1}, {"kl_topk", 64}}}}},
        {"datasets", {{"ppl_text", (demo / "tinystories_sample.txt").string()}}},
        {"seed", 1234}};
    fs::path p = dir / "sweep.json";
    qbtest::writeFile(p, j.dump(2));
    return p;
}

std::map<std::string, double> pplByConfig(const fs::path& runDir, std::string* messages = nullptr)
{
    auto loaded = qb::loadResults({runDir});
    if (messages)
        for (const auto& m : loaded.messages)
            *messages += m + "\n";
    std::map<std::string, double> out;
    for (const auto& row : qb::groupRecords(loaded.records, qb::RowKey::Config))
        out[row.config] = row.value("ppl.ppl");
    return out;
}

// Same configs, same PPL within 1e-9 relative (a Slurm task may see another CPU count).
bool samePpl(const std::map<std::string, double>& a, const std::map<std::string, double>& b, std::string& why)
{
    if (a.size() != b.size()) {
        why = "config count " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
        return false;
    }
    for (const auto& [cfg, v] : b) {
        auto it = a.find(cfg);
        if (it == a.end() || !(std::abs(it->second - v) <= 1e-9 * std::abs(v))) {
            why = cfg + ": " + (it == a.end() ? std::string("missing") : std::to_string(it->second)) + " vs " + std::to_string(v);
            return false;
        }
    }
    return true;
}

// Every ok (config, task) record of `b` is in `a` with the same metrics (1e-9 relative: a Slurm task
// may see another CPU count), timings and memory aside: tokens/s, questions/s, peak memory.
bool sameMetrics(const fs::path& runA, const fs::path& runB, std::string& why, int* compared = nullptr)
{
    auto index = [](const fs::path& run) {
        std::map<std::pair<std::string, std::string>, std::map<std::string, double>> out;
        for (const auto& row : qb::groupRecords(qb::loadResults({run}).records, qb::RowKey::Config))
            for (const auto& r : row.records)
                if (r.ok())
                    if (const qb::ResultRecord* w = row.get(r.task); w == &r)
                        out[{row.config, r.task}] = r.metrics;
        return out;
    };
    auto timing = [](const std::string& m) {
        auto ends = [&](const char* e) {
            const std::string x = e;
            return m.size() >= x.size() && m.compare(m.size() - x.size(), x.size(), x) == 0;
        };
        return ends("_per_s") || ends("memory_mb");
    };
    const auto a = index(runA), b = index(runB);
    if (a.size() != b.size()) {
        why = "record count " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
        return false;
    }
    int n = 0;
    for (const auto& [key, metrics] : b) {
        auto it = a.find(key);
        if (it == a.end()) {
            why = key.first + " x " + key.second + ": missing";
            return false;
        }
        for (const auto& [m, v] : metrics) {
            if (timing(m))
                continue;
            auto jt = it->second.find(m);
            const bool bothNan = jt != it->second.end() && std::isnan(jt->second) && std::isnan(v); // the baseline's SQNR
            if (jt == it->second.end() || !(bothNan || std::abs(jt->second - v) <= 1e-9 * std::max(1.0, std::abs(v)))) {
                why = key.first + " x " + key.second + " " + m + ": " +
                      (jt == it->second.end() ? std::string("missing") : std::to_string(jt->second)) + " vs " + std::to_string(v);
                return false;
            }
            ++n;
        }
    }
    if (compared)
        *compared = n;
    return true;
}

qb::SlurmOptions goldenOptions()
{
    qb::SlurmOptions o;
    o.cli = "/opt/qb/bin/quantbench-cli";
    o.sweep_file = "/home/ann/it's a sweep/$HOME.json";
    o.run_dir = "/scratch/ann/run \"1\"";
    o.job_name = "qb-demo";
    o.shards = 4;
    o.partition = "gpu";
    o.gres = "gpu:1";
    o.time = "01:30:00";
    o.cpus_per_task = 8;
    o.mem = "16G";
    o.account = "proj-42";
    return o;
}

std::string program(const char* name)
{
    for (const char* dir : {"/usr/sbin", "/usr/bin", "/sbin", "/bin"})
        if (::access((std::string(dir) + "/" + name).c_str(), X_OK) == 0)
            return std::string(dir) + "/" + name;
    return {};
}

// A single-node Slurm (munged, slurmctld, slurmd) in a temp folder; stopped by the destructor.
struct LocalSlurm {
    QTemporaryDir dir{QStringLiteral("/tmp/qbslurm_XXXXXX")}; // short: unix socket paths are limited
    fs::path d;
    std::string why; // empty = up
    std::vector<fs::path> pidFiles;

    LocalSlurm()
    {
        d = dir.path().toStdString();
        if (::geteuid() != 0) {
            why = "not root (slurmctld/slurmd on localhost need root here)";
            return;
        }
        for (const char* p : {"munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo"})
            if (program(p).empty()) {
                why = std::string(p) + " not installed (apt-get install slurm-wlm munge; scripts/setup.sh does)";
                return;
            }
        if (!fs::exists("/etc/munge/munge.key")) {
            why = "no /etc/munge/munge.key";
            return;
        }
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        std::string h = host;
        h = h.substr(0, h.find('.'));
        for (const char* sub : {"state", "spool", "log", "run"})
            fs::create_directories(d / sub);
        const int port = 20000 + int(::getpid() % 20000);
        const std::string D = d.string();
        std::string conf = "ClusterName=qbtest\nSlurmctldHost=" + h + "\nSlurmUser=root\nSlurmdUser=root\n"
            "AuthType=auth/munge\nAuthInfo=socket=" + D + "/run/munge.sock\n"
            "StateSaveLocation=" + D + "/state\nSlurmdSpoolDir=" + D + "/spool\n"
            "SlurmctldPidFile=" + D + "/run/ctld.pid\nSlurmdPidFile=" + D + "/run/d.pid\n"
            "SlurmctldPort=" + std::to_string(port) + "\nSlurmdPort=" + std::to_string(port + 1) + "\n"
            "SlurmctldLogFile=" + D + "/log/ctld.log\nSlurmdLogFile=" + D + "/log/d.log\n"
            "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nSchedulerType=sched/backfill\n"
            "SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\nJobAcctGatherType=jobacct_gather/none\n"
            "AccountingStorageType=accounting_storage/none\nJobCompType=jobcomp/none\nMpiDefault=none\n"
            "ReturnToService=2\nKillWait=2\nMinJobAge=600\n"
            "NodeName=" + h + " CPUs=2 RealMemory=2000 State=UNKNOWN\n"
            "PartitionName=debug Nodes=" + h + " Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4\n";
        qbtest::writeFile(d / "slurm.conf", conf);
        const QString cf = q(d / "slurm.conf");
        auto start = [&](const std::string& prog, const QStringList& args, const char* pidFile) {
            pidFiles.push_back(d / "run" / pidFile);
            QProcess p;
            p.start(QString::fromStdString(program(prog.c_str())), args);
            if (!p.waitForFinished(20000) || p.exitCode() != 0)
                why = prog + " did not start: " + p.readAllStandardError().toStdString();
        };
        start("munged", {QStringLiteral("--socket=") + q(d / "run/munge.sock"), QStringLiteral("--pid-file=") + q(d / "run/munged.pid"),
                         QStringLiteral("--force")}, "munged.pid");
        if (why.empty())
            start("slurmctld", {QStringLiteral("-f"), cf, QStringLiteral("-i")}, "ctld.pid");
        if (why.empty())
            start("slurmd", {QStringLiteral("-f"), cf}, "d.pid");
        if (!why.empty())
            return;
        g_slurmConf = cf;
        for (int i = 0; i < 60; ++i) {
            QProcess s;
            auto env = QProcessEnvironment::systemEnvironment();
            env.insert(QStringLiteral("SLURM_CONF"), cf);
            s.setProcessEnvironment(env);
            s.start(QString::fromStdString(program("sinfo")), {QStringLiteral("-h"), QStringLiteral("-o"), QStringLiteral("%t")});
            s.waitForFinished(5000);
            if (s.readAllStandardOutput().trimmed() == "idle")
                return;
            QThread::msleep(500);
        }
        why = "the node did not become idle within 30 s: " + qbtest::readFile(d / "log/ctld.log").substr(0, 2000);
    }
    ~LocalSlurm()
    {
        g_slurmConf.clear();
        for (auto it = pidFiles.rbegin(); it != pidFiles.rend(); ++it) {
            std::ifstream in(*it);
            long pid = 0;
            if (in >> pid && pid > 1)
                ::kill(pid_t(pid), SIGTERM);
        }
        QThread::msleep(1500);
    }
};

// Polls `slurm status --json` until every task is done or failed (or `seconds` pass).
nlohmann::json waitForTasks(const fs::path& run, int seconds)
{
    nlohmann::json tasks;
    for (int i = 0; i < seconds * 2; ++i) {
        auto st = cli({QStringLiteral("slurm"), QStringLiteral("status"), q(run), QStringLiteral("--json")});
        if (st.rc == 0) {
            tasks = nlohmann::json::parse(st.out)["tasks"];
            bool settled = true;
            for (const auto& t : tasks)
                settled = settled && (t["state"] == "done" || t["state"] == "failed");
            if (settled)
                return tasks;
        }
        QThread::msleep(500);
    }
    return tasks;
}

} // namespace

class TestSlurm : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void scriptMatchesGolden()
    {
        const std::string got = qb::makeSbatchScript(goldenOptions());
        const fs::path golden = qbtest::sourceDir() / "tests/data/slurm_job.sbatch.golden";
        if (qEnvironmentVariableIsSet("QB_UPDATE_GOLDEN"))
            qbtest::writeFile(golden, got);
        QCOMPARE(QString::fromStdString(got), QString::fromStdString(qbtest::readFile(golden)));
    }

    // The script run by bash with a fake CLI: every hostile path arrives as one intact argument.
    void scriptQuotesPathsSafely()
    {
        QTemporaryDir tmp;
        fs::path d = tmp.path().toStdString();
        auto o = goldenOptions();
        o.cli = (d / "fake cli's").string();
        o.run_dir = (d / "run \"$(touch pwned)\" `x`").string();
        writeExe(o.cli, "#!/bin/bash\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$(dirname \"$0\")/args.txt\"\n");
        qbtest::writeFile(d / "job.sbatch", qb::makeSbatchScript(o));
        QProcess p;
        auto env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("SLURM_ARRAY_TASK_ID"), QStringLiteral("2"));
        env.insert(QStringLiteral("SLURM_ARRAY_JOB_ID"), QStringLiteral("77"));
        p.setProcessEnvironment(env);
        p.setWorkingDirectory(tmp.path());
        p.start(QStringLiteral("bash"), {QStringLiteral("job.sbatch")});
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 0);
        const std::string want = "sweep\n" + o.sweep_file + "\n--out\n" + o.run_dir + "/shard_2\n--shard\n2/4\n--quiet\n";
        QCOMPARE(QString::fromStdString(qbtest::readFile(d / "args.txt")), QString::fromStdString(want));
        QVERIFY(!fs::exists(d / "pwned"));
        QCOMPARE(QString::fromStdString(qbtest::readFile(fs::path(o.run_dir) / "shard_2/.slurm_exit")), QStringLiteral("0 77\n"));
    }

    void optionsAreValidated_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("message");
        QTest::newRow("time") << "time" << "1:2" << "--time: expected HH:MM:SS";
        QTest::newRow("time-minutes-ok") << "time" << "90" << "";
        QTest::newRow("time-days-ok") << "time" << "2-00:00:00" << "";
        QTest::newRow("mem") << "mem" << "lots" << "--mem: expected a size";
        QTest::newRow("partition") << "partition" << "gpu; rm -rf /" << "--partition:";
        QTest::newRow("shards") << "shards" << "0" << "--shards: N must be at least 1";
        QTest::newRow("array") << "array" << "2-9" << "out of range for 4 shards";
    }
    void optionsAreValidated()
    {
        QFETCH(QString, field);
        QFETCH(QString, value);
        QFETCH(QString, message);
        auto o = goldenOptions();
        const std::string v = value.toStdString();
        if (field == QLatin1String("time"))
            o.time = v;
        else if (field == QLatin1String("mem"))
            o.mem = v;
        else if (field == QLatin1String("partition"))
            o.partition = v;
        else if (field == QLatin1String("shards"))
            o.shards = std::stoi(v);
        else if (field == QLatin1String("array"))
            o.array = v;
        std::string err;
        try {
            qb::validateSlurmOptions(o);
        } catch (const qb::Error& e) {
            err = e.what();
        }
        if (message.isEmpty())
            QVERIFY2(err.empty(), err.c_str());
        else
            QVERIFY2(QString::fromStdString(err).contains(message), err.c_str());
    }

    void parsesSqueueAndSacct()
    {
        auto sq = qb::parseSqueue("55_0|RUNNING|None\n55_[2-3%2]|PENDING|Priority\n56_1|RUNNING|None\n", "55");
        QCOMPARE(int(sq.size()), 3);
        QCOMPARE(QString::fromStdString(sq[0].state), QStringLiteral("running"));
        QCOMPARE(QString::fromStdString(sq[3].state), QStringLiteral("pending"));
        QCOMPARE(QString::fromStdString(sq[3].reason), QStringLiteral("Priority"));
        // squeue -t all keeps ended tasks a while: the way they ended is the reason
        auto ended = qb::parseSqueue("55_0|CANCELLED|None\n55_1|TIMEOUT|None\n55_2|COMPLETED|None\n", "55");
        QCOMPARE(QString::fromStdString(ended[0].reason), QStringLiteral("CANCELLED"));
        QCOMPARE(QString::fromStdString(ended[1].reason), QStringLiteral("TIMEOUT (time limit)"));
        QCOMPARE(QString::fromStdString(ended[2].state), QStringLiteral("done"));
        auto sa = qb::parseSacct("55_0|COMPLETED|0:0|None\n55_0.batch|COMPLETED|0:0|\n55_1|TIMEOUT|0:15|TimeLimit\n"
                                 "55_2|CANCELLED by 0|0:15|None\n55_3|FAILED|3:0|NonZeroExitCode\n", "55");
        QCOMPARE(int(sa.size()), 4);
        QCOMPARE(QString::fromStdString(sa[0].state), QStringLiteral("done"));
        QCOMPARE(QString::fromStdString(sa[1].state), QStringLiteral("failed"));
        QVERIFY(QString::fromStdString(sa[1].reason).contains(QStringLiteral("TIMEOUT (time limit)")));
        QCOMPARE(QString::fromStdString(sa[2].state), QStringLiteral("failed"));
        QCOMPARE(QString::fromStdString(sa[3].reason), QStringLiteral("NonZeroExitCode"));
        QCOMPARE(QString::fromStdString(qb::formatArrayRange({3, 0, 1, 5})), QStringLiteral("0-1,3,5"));
    }

    // submit / status / resubmit / cancel against fake Slurm programs; the error paths.
    void cliWithFakeSlurm()
    {
        QTemporaryDir tmp;
        fs::path d = tmp.path().toStdString();
        fs::path bin = d / "bin";
        fs::create_directories(bin);
        fs::path sweep = smallSweep(d);
        fs::path run = d / "run";

        // no sbatch on PATH (an empty folder first, and PATH without Slurm anyway here)
        auto env = QProcessEnvironment::systemEnvironment();
        {
            QProcess p;
            auto e2 = env;
            e2.insert(QStringLiteral("PATH"), q(d / "empty"));
            p.setProcessEnvironment(e2);
            p.start(QString::fromStdString(qbtest::cliPath()),
                    {QStringLiteral("slurm"), QStringLiteral("submit"), q(sweep), QStringLiteral("--out"), q(run)});
            QVERIFY(p.waitForFinished(30000));
            QCOMPARE(p.exitCode(), 1);
            QVERIFY2(p.readAllStandardError().contains("sbatch not found on PATH"), "no clear error without sbatch");
        }
        // bad option values: clear messages, nothing written
        auto bad = cli({QStringLiteral("slurm"), QStringLiteral("submit"), q(sweep), QStringLiteral("--out"), q(run),
                        QStringLiteral("--time"), QStringLiteral("2h"), QStringLiteral("--dry-run")});
        QCOMPARE(bad.rc, 1);
        QVERIFY2(bad.err.find("--time: expected HH:MM:SS") != std::string::npos, bad.err.c_str());
        QVERIFY(!fs::exists(run));

        // sbatch refusing: its message is shown
        writeExe(bin / "sbatch", "#!/bin/bash\necho 'sbatch: error: invalid partition specified: gpuz' >&2\nexit 1\n");
        auto refused = cli({QStringLiteral("slurm"), QStringLiteral("submit"), q(sweep), QStringLiteral("--out"), q(run),
                            QStringLiteral("--partition"), QStringLiteral("gpuz")}, q(bin));
        QCOMPARE(refused.rc, 1);
        QVERIFY2(refused.err.find("invalid partition specified: gpuz") != std::string::npos, refused.err.c_str());
        fs::remove_all(run);

        // a working submit: sbatch records its arguments and working folder
        writeExe(bin / "sbatch", "#!/bin/bash\necho \"$PWD|$*\" >> \"" + (d / "sbatch.log").string() +
                                     "\"\ncp job.sbatch \"" + (d / "submitted_").string() + "$(date +%N)\"\n"
                                     "if [ -f \"" + (d / "second").string() + "\" ]; then echo '4243;c'; else echo '4242;c'; touch \"" +
                                     (d / "second").string() + "\"; fi\n");
        auto sub = cli({QStringLiteral("slurm"), QStringLiteral("submit"), q(sweep), QStringLiteral("--out"), q(run),
                        QStringLiteral("--shards"), QStringLiteral("4"), QStringLiteral("--time"), QStringLiteral("00:10:00")}, q(bin));
        QVERIFY2(sub.rc == 0, sub.err.c_str());
        QCOMPARE(QString::fromStdString(sub.out), QStringLiteral("4242\n"));
        QVERIFY(qbtest::readFile(d / "sbatch.log").find(run.string() + "|--parsable job.sbatch") == 0);
        const std::string script = qbtest::readFile(run / "job.sbatch");
        QVERIFY(script.find("#SBATCH --array=0-3\n") != std::string::npos);
        QVERIFY(script.find("#SBATCH --time=00:10:00\n") != std::string::npos);
        QVERIFY(fs::is_directory(run / "logs"));
        auto rec = qb::RunDirSlurm::load(run);
        QCOMPARE(int(rec.jobs.size()), 1);
        QCOMPARE(QString::fromStdString(rec.jobs[0].id), QStringLiteral("4242"));
        // a second submit into the same folder is refused
        auto again = cli({QStringLiteral("slurm"), QStringLiteral("submit"), q(sweep), QStringLiteral("--out"), q(run)}, q(bin));
        QCOMPARE(again.rc, 1);
        QVERIFY(again.err.find("already holds a Slurm run") != std::string::npos);

        // status: task 0 done (sacct), 1 killed by the time limit, 2 running, 3 pending
        writeExe(bin / "squeue", "#!/bin/bash\necho '4242_2|RUNNING|None'\necho '4242_[3]|PENDING|Resources'\n");
        writeExe(bin / "sacct", "#!/bin/bash\necho '4242_0|COMPLETED|0:0|None'\necho '4242_1|TIMEOUT|0:15|None'\n"
                                "echo '4242_1.batch|CANCELLED|0:15|None'\n");
        auto st = cli({QStringLiteral("slurm"), QStringLiteral("status"), q(run), QStringLiteral("--json")}, q(bin));
        QVERIFY2(st.rc == 0, st.err.c_str());
        auto j = nlohmann::json::parse(st.out)["tasks"];
        QCOMPARE(int(j.size()), 4);
        QCOMPARE(QString::fromStdString(j[0]["state"]), QStringLiteral("done"));
        QCOMPARE(QString::fromStdString(j[1]["state"]), QStringLiteral("failed"));
        QVERIFY(QString::fromStdString(j[1]["reason"]).contains(QStringLiteral("time limit")));
        QCOMPARE(QString::fromStdString(j[2]["state"]), QStringLiteral("running"));
        QCOMPARE(QString::fromStdString(j[3]["state"]), QStringLiteral("pending"));
        QCOMPARE(QString::fromStdString(j[3]["reason"]), QStringLiteral("Resources"));

        // resubmit --failed: only task 1
        auto rs = cli({QStringLiteral("slurm"), QStringLiteral("resubmit"), q(run), QStringLiteral("--failed")}, q(bin));
        QVERIFY2(rs.rc == 0, rs.err.c_str());
        QCOMPARE(QString::fromStdString(rs.out), QStringLiteral("4243\n"));
        QVERIFY(qbtest::readFile(run / "job.sbatch").find("#SBATCH --array=1\n") != std::string::npos);
        rec = qb::RunDirSlurm::load(run);
        QCOMPARE(int(rec.jobs.size()), 2);
        QCOMPARE(QString::fromStdString(rec.currentJobs()[1]), QStringLiteral("4243"));
        QCOMPARE(QString::fromStdString(rec.currentJobs()[0]), QStringLiteral("4242"));

        // cancel: scancel gets every job of the run
        writeExe(bin / "scancel", "#!/bin/bash\necho \"$*\" > \"" + (d / "scancel.log").string() + "\"\n");
        auto c = cli({QStringLiteral("slurm"), QStringLiteral("cancel"), q(run)}, q(bin));
        QVERIFY2(c.rc == 0, c.err.c_str());
        QCOMPARE(QString::fromStdString(qbtest::readFile(d / "scancel.log")), QStringLiteral("4242 4243\n"));
    }

    // A 3-shard run through a fake sbatch that runs the array tasks here, one after another:
    // the shard files read as one run equal a local unsharded sweep, config for config.
    void shardedRunEqualsLocalRun()
    {
        QTemporaryDir tmp;
        fs::path d = tmp.path().toStdString();
        fs::path bin = d / "bin";
        fs::create_directories(bin);
        fs::path sweep = smallSweep(d);
        writeExe(bin / "sbatch", "#!/bin/bash\n"
                                 "for t in 0 1 2; do SLURM_ARRAY_TASK_ID=$t SLURM_ARRAY_JOB_ID=9 bash job.sbatch > logs/task_$t.out 2>&1; done\n"
                                 "echo 9\n");
        auto sub = cli({QStringLiteral("slurm"), QStringLiteral("submit"), q(sweep), QStringLiteral("--out"), q(d / "run"),
                        QStringLiteral("--shards"), QStringLiteral("3")}, q(bin));
        QVERIFY2(sub.rc == 0, sub.err.c_str());
        for (int t = 0; t < 3; ++t)
            QVERIFY2(fs::exists(d / "run" / qb::shardDirName(t) / "results.jsonl"), qbtest::readFile(d / "run/logs/task_0.out").c_str());
        auto local = cli({QStringLiteral("sweep"), q(sweep), QStringLiteral("--out"), q(d / "local"), QStringLiteral("--quiet")});
        QVERIFY2(local.rc == 0, local.err.c_str());
        std::string msgs;
        auto a = pplByConfig(d / "run", &msgs);
        auto b = pplByConfig(d / "local");
        QVERIFY2(msgs.empty(), msgs.c_str()); // slurm.json, sweep.json files and logs are no noise
        QCOMPARE(int(a.size()), 4);
        std::string why;
        QVERIFY2(samePpl(a, b, why), why.c_str());
        // report RUN_DIR reads all shard files
        auto rep = cli({QStringLiteral("report"), q(d / "run"), QStringLiteral("--format"), QStringLiteral("csv")});
        QVERIFY2(rep.rc == 0, rep.err.c_str());
        QVERIFY(rep.out.find("INT8_Per_Tensor_Fake") != std::string::npos);
        // status from the exit markers (no squeue here): all done
        writeExe(bin / "squeue", "#!/bin/bash\necho 'slurm_load_jobs error: Invalid job id specified' >&2\nexit 1\n");
        auto st = cli({QStringLiteral("slurm"), QStringLiteral("status"), q(d / "run"), QStringLiteral("--json")}, q(bin));
        QVERIFY2(st.rc == 0, st.err.c_str());
        const auto status = nlohmann::json::parse(st.out); // (a range-for over a temporary's member reads freed memory)
        for (const auto& t : status["tasks"])
            QCOMPARE(QString::fromStdString(t["state"]), QStringLiteral("done"));
    }

    // The real thing: a single-node Slurm started here; 4 array tasks, merged report equal to a
    // local run; then a cancelled array resubmitted (--failed) to completion.
    void realSlurmCluster()
    {
        LocalSlurm slurm;
        if (!slurm.why.empty())
            QSKIP(qPrintable(QStringLiteral("real Slurm not available: ") + QString::fromStdString(slurm.why)));
        QTemporaryDir tmp;
        fs::path d = tmp.path().toStdString();
        // The demo sweep (19 configs x 5 tasks) as 4 array tasks: the merged run equals a local
        // `sweep --demo` on every metric but timings and memory.
        const fs::path demo = qbtest::sourceDir() / "resources/demo/demo_sweep.json";
        auto localDemo = cli({QStringLiteral("sweep"), QStringLiteral("--demo"), QStringLiteral("--out"), q(d / "local_demo"),
                              QStringLiteral("--quiet")});
        QVERIFY2(localDemo.rc == 0, localDemo.err.c_str());
        auto sub = cli({QStringLiteral("slurm"), QStringLiteral("submit"), q(demo), QStringLiteral("--out"), q(d / "run"),
                        QStringLiteral("--shards"), QStringLiteral("4"), QStringLiteral("--time"), QStringLiteral("00:10:00")});
        QVERIFY2(sub.rc == 0, sub.err.c_str());
        auto tasks = waitForTasks(d / "run", 400);
        QCOMPARE(int(tasks.size()), 4);
        for (const auto& t : tasks)
            QVERIFY2(t["state"] == "done", (t.dump() + "\n" + qbtest::readFile(d / "run/logs" / ("task_" + std::to_string(t["task"].get<int>()) + "_job_" + t["job"].get<std::string>() + ".out"))).c_str());
        std::string why;
        int compared = 0;
        QVERIFY2(sameMetrics(d / "run", d / "local_demo", why, &compared), why.c_str());
        qInfo("demo sweep on Slurm (4 array tasks) equals the local run on %d metric values", compared);
        QVERIFY(compared > 19 * 5 * 3);
        const auto report = cli({QStringLiteral("report"), q(d / "run")});
        QVERIFY2(report.rc == 0 && report.out.find("SmoothQuant_FP8_W8A8") != std::string::npos, report.err.c_str());

        // --per-config: one array task per config of a small sweep
        fs::path sweep = smallSweep(d);
        auto local = cli({QStringLiteral("sweep"), q(sweep), QStringLiteral("--out"), q(d / "local"), QStringLiteral("--quiet")});
        QVERIFY2(local.rc == 0, local.err.c_str());
        const auto want = pplByConfig(d / "local");
        auto subc = cli({QStringLiteral("slurm"), QStringLiteral("submit"), q(sweep), QStringLiteral("--out"), q(d / "runc"),
                         QStringLiteral("--per-config"), QStringLiteral("--time"), QStringLiteral("00:05:00")});
        QVERIFY2(subc.rc == 0, subc.err.c_str());
        tasks = waitForTasks(d / "runc", 90);
        QCOMPARE(int(tasks.size()), 4);
        for (const auto& t : tasks)
            QVERIFY2(t["state"] == "done", t.dump().c_str());
        QVERIFY2(samePpl(pplByConfig(d / "runc"), want, why), why.c_str());

        // Cancel the demo array while its tasks run (each takes seconds), resubmit what failed: the
        // run completes from the records the cancelled tasks had finished, with the same numbers.
        auto sub2 = cli({QStringLiteral("slurm"), QStringLiteral("submit"), q(demo), QStringLiteral("--out"), q(d / "run2"),
                         QStringLiteral("--shards"), QStringLiteral("4"), QStringLiteral("--time"), QStringLiteral("00:10:00")});
        QVERIFY2(sub2.rc == 0, sub2.err.c_str());
        bool running = false;
        std::string seen;
        QElapsedTimer wait;
        wait.start();
        while (!running && wait.elapsed() < 60000) {
            auto st = cli({QStringLiteral("slurm"), QStringLiteral("status"), q(d / "run2"), QStringLiteral("--json")});
            if (st.rc == 0) {
                const nlohmann::json status = nlohmann::json::parse(st.out); // named: the loop reads into it
                for (const auto& t : status["tasks"]) {
                    running = running || t["state"] == "running";
                    seen += t["state"].get<std::string>() + " ";
                }
            } else {
                seen += "[status rc " + std::to_string(st.rc) + ": " + st.err + "] ";
            }
            if (!running)
                QThread::msleep(300);
        }
        QVERIFY2(running, ("no array task seen running within 60 s; states: " + seen.substr(0, 2000)).c_str());
        QThread::msleep(1000); // let the running tasks record something before they are killed
        auto c = cli({QStringLiteral("slurm"), QStringLiteral("cancel"), q(d / "run2")});
        QVERIFY2(c.rc == 0, c.err.c_str());
        tasks = waitForTasks(d / "run2", 60);
        int cancelled = 0;
        for (const auto& t : tasks)
            cancelled += t["state"] == "failed";
        QVERIFY2(cancelled > 0, "every task finished before the cancel reached it");
        auto rs = cli({QStringLiteral("slurm"), QStringLiteral("resubmit"), q(d / "run2"), QStringLiteral("--failed")});
        QVERIFY2(rs.rc == 0, rs.err.c_str());
        tasks = waitForTasks(d / "run2", 400);
        for (const auto& t : tasks)
            QVERIFY2(t["state"] == "done", t.dump().c_str());
        QVERIFY2(sameMetrics(d / "run2", d / "local_demo", why), why.c_str());
        qInfo("cancelled %d of 4 array tasks while running; resubmitted, the run equals the local one", cancelled);
    }
};

QTEST_GUILESS_MAIN(TestSlurm)
#include "tst_slurm.moc"
