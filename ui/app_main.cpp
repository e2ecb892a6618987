// The `quantbench` command line: options, the window, --run/--screenshot automation and exit status.
#include "ui/app_main.h"

#include "ui/analysis_page.h"

#include "ui/elide.h"
#include "ui/main_window.h"
#include "ui/model_info.h"
#include "ui/run_panel.h"
#include "ui/run_controller.h"
#include "ui/setup_panel.h"

#include "core/report/rows.h"

#include <QApplication>
#include <QColor>
#include <QCommandLineParser>
#include <QImage>
#include <QPixmap>
#include <QSet>
#include <QTabWidget>
#include <QTimer>

#include <cstdio>
#include <cstdlib>

namespace qb::ui {

bool haveDisplay()
{
    auto set = [](const char* v) { const char* s = std::getenv(v); return s && *s; };
    return set("DISPLAY") || set("WAYLAND_DISPLAY") || set("QT_QPA_PLATFORM");
}

static int distinctColours(const QImage& img)
{
    QSet<QRgb> seen;
    for (int y = 0; y < img.height(); y += 3)
        for (int x = 0; x < img.width(); x += 3)
            seen.insert(img.pixel(x, y));
    return int(seen.size());
}

int runApp(int argc, char** argv)
{
    if (!haveDisplay()) {
        std::fprintf(stderr,
                     "quantbench: no display (neither DISPLAY nor WAYLAND_DISPLAY is set).\n"
                     "  Run the window offscreen:  QT_QPA_PLATFORM=offscreen quantbench --demo --run "
                     "--screenshot out.png --quit-when-done\n"
                     "  or use the headless CLI:   quantbench-cli sweep --demo --out run/ && quantbench-cli report run/\n");
        return 2;
    }
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("QuantBench"));
    QApplication::setApplicationName(QStringLiteral("QuantBench"));
    QApplication::setApplicationVersion(QString::fromStdString(versions().app));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/quantbench.svg")));

    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral("QuantBench: post-training quantization workbench"));
    p.addHelpOption();
    p.addVersionOption();
    QCommandLineOption sweep(QStringLiteral("sweep"), QStringLiteral("Load the sweep setup FILE."), QStringLiteral("FILE"));
    QCommandLineOption open(QStringLiteral("open"), QStringLiteral("Open result files or folders (repeatable; "
                                                                   "further paths may follow as arguments)."),
                            QStringLiteral("RESULTS"));
    QCommandLineOption run(QStringLiteral("run"), QStringLiteral("Start the sweep at once."));
    QCommandLineOption shot(QStringLiteral("screenshot"), QStringLiteral("Save a PNG of the window (after the run with --run)."),
                            QStringLiteral("PNG"));
    QCommandLineOption quit(QStringLiteral("quit-when-done"), QStringLiteral("Quit after the run / screenshot."));
    QCommandLineOption demo(QStringLiteral("demo"), QStringLiteral("Demo model and demo sweep, ready to run."));
    QCommandLineOption size(QStringList{QStringLiteral("window-size"), QStringLiteral("size")},
                            QStringLiteral("Window size WIDTHxHEIGHT (e.g. 1366x768)."), QStringLiteral("WxH"));
    QCommandLineOption tab(QStringLiteral("tab"), QStringLiteral("Tab to show in the screenshot: charts, results, summary, compare or analysis "
                                                        "(analysis:outliers, analysis:alpha for its pages)."),
                           QStringLiteral("TAB"), QStringLiteral("charts"));
    QCommandLineOption cluster(QStringLiteral("cluster-dialog"),
                               QStringLiteral("Open the Run on cluster dialog (with --screenshot: also saved as <name>-cluster.png)."));
    QCommandLineOption follow(QStringLiteral("follow"), QStringLiteral("Follow the run folder DIR as its shard files grow."),
                              QStringLiteral("DIR"));
    p.addOptions({sweep, open, run, shot, quit, demo, size, tab, cluster, follow});
    p.addPositionalArgument(QStringLiteral("results"), QStringLiteral("More result files or folders to open."), QStringLiteral("[RESULTS…]"));
    p.process(app);

    MainWindow w;
    const bool automated = p.isSet(quit);
    w.setQuietDialogs(automated);
    if (p.isSet(shot))
        w.resize(1500, 950); // deterministic screenshot size, whatever the saved geometry
    if (p.isSet(size)) {
        const QStringList wh = p.value(size).split(QLatin1Char('x'));
        if (wh.size() == 2 && wh[0].toInt() > 0 && wh[1].toInt() > 0)
            w.resize(wh[0].toInt(), wh[1].toInt());
    }

    // Every failure is said on stderr, shown in the window (log and status bar, so a screenshot
    // shows it too) and makes the exit status 1; the screenshot is still written.
    int exitCode = 0;
    auto failWith = [&](const QString& what) {
        std::fprintf(stderr, "quantbench: %s\n", qPrintable(what));
        exitCode = 1;
    };
    bool canRun = true;
    if (p.isSet(demo) && !w.setupPanel()->useDemo()) {
        failWith(QStringLiteral("cannot use the demo: ") + w.lastError());
        canRun = false;
    }
    if (p.isSet(sweep) && !w.loadSweep(p.value(sweep))) {
        failWith(w.lastError());
        canRun = false;
    }
    QStringList toOpen = p.values(open) + p.positionalArguments();
    if (!toOpen.isEmpty()) {
        const QStringList problems = w.openPaths(toOpen);
        if (!problems.isEmpty())
            failWith(QStringLiteral("some result files could not be read:\n  ") + problems.join(QStringLiteral("\n  ")));
    }
    w.show();
    if (p.isSet(follow))
        w.followRunFolder(p.value(follow));
    if (p.isSet(cluster))
        w.runOnClusterDialog();

    auto grabAndQuit = [&] {
        if (auto* dlg = w.findChild<QWidget*>(QStringLiteral("clusterDialog")); dlg && p.isSet(shot)) {
            QString name = p.value(shot);
            name.insert(name.endsWith(QLatin1String(".png")) ? name.size() - 4 : name.size(), QStringLiteral("-cluster"));
            if (!dlg->grab().save(name, "PNG"))
                failWith(name + QStringLiteral(": cannot write the screenshot"));
        }
        if (p.isSet(shot)) {
            QImage img = w.grab().toImage();
            int colours = distinctColours(img);
            if (!img.save(p.value(shot), "PNG")) {
                failWith(p.value(shot) + QStringLiteral(": cannot write the screenshot"));
            } else {
                std::fprintf(stderr, "quantbench: screenshot %s (%dx%d, %d colours)\n", qPrintable(p.value(shot)),
                             img.width(), img.height(), colours);
            }
        }
        if (automated)
            QApplication::exit(exitCode);
    };
    auto finish = [&] {
        // Show the chosen tab (charts by default) with the final data (the log, with any error,
        // stays visible beside it), then let the scene lay out (legends are laid out by deferred
        // events) before grabbing.
        // "analysis:outliers" / "analysis:alpha" pick the Analysis tab's page too.
        const QString t = p.value(tab).section(QLatin1Char(':'), 0, 0);
        const QString sub = p.value(tab).section(QLatin1Char(':'), 1);
        w.tabs()->setCurrentIndex(t == QLatin1String("results")   ? 1
                                  : t == QLatin1String("summary") ? 2
                                  : t == QLatin1String("compare") ? 3
                                  : t == QLatin1String("analysis") ? 4
                                                                  : 0);
        if (t == QLatin1String("analysis") && !sub.isEmpty())
            w.analysisPage()->pages()->setCurrentIndex(sub == QLatin1String("outliers") ? 1 : sub == QLatin1String("alpha") ? 2 : 0);
        w.flushViews();
        QTimer::singleShot(250, &w, grabAndQuit);
    };
    if (p.isSet(run)) {
        QObject::connect(&w, &MainWindow::runFinished, &w, [&](bool cancelled) {
            // A sweep that failed as a whole, or evaluations that failed inside it, fail the command.
            if (!w.lastRunError().isEmpty())
                failWith(QStringLiteral("sweep failed: ") + w.lastRunError());
            const auto rows = qb::groupRecords(w.controller()->records());
            QStringList failed;
            for (const auto& row : rows)
                for (const auto* r : row.failures())
                    failed << QString::fromStdString(elide(r->config) + " " + r->task + ": " + elide(r->error, kMaxMessageChars));
            if (!failed.isEmpty())
                failWith(QStringLiteral("%1 evaluation(s) failed:\n  ").arg(failed.size()) + failed.join(QStringLiteral("\n  ")));
            if (cancelled)
                failWith(QStringLiteral("the sweep was cancelled"));
            // Let the last repaint of the charts happen before grabbing.
            QTimer::singleShot(300, &w, finish);
        });
        QTimer::singleShot(0, &w, [&] {
            // A sweep that did not load was said already; its leftovers' problems would bury it.
            const QStringList problems = canRun ? w.setupPanel()->problems() : QStringList();
            if (!problems.isEmpty()) {
                w.showError(QStringLiteral("Cannot run"), problems.join(QLatin1Char('\n')));
                failWith(QStringLiteral("cannot run: ") + problems.join(QStringLiteral("; ")));
            }
            if (!canRun || !problems.isEmpty()) {
                QTimer::singleShot(300, &w, finish);
                return;
            }
            w.startRun();
        });
    } else if (p.isSet(shot) || automated) {
        QTimer::singleShot(500, &w, finish);
    }
    int rc = app.exec();
    return rc != 0 ? rc : exitCode;
}

} // namespace qb::ui
