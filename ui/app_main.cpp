#include "ui/app_main.h"

#include "ui/main_window.h"
#include "ui/run_panel.h"
#include "ui/setup_panel.h"

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
    p.addOptions({sweep, open, run, shot, quit, demo});
    p.addPositionalArgument(QStringLiteral("results"), QStringLiteral("More result files or folders to open."), QStringLiteral("[RESULTS…]"));
    p.process(app);

    MainWindow w;
    const bool automated = p.isSet(quit);
    w.setQuietDialogs(automated);
    if (p.isSet(shot))
        w.resize(1500, 950); // deterministic screenshot size, whatever the saved geometry
    if (p.isSet(demo) && !w.setupPanel()->useDemo() && automated)
        return 1;
    if (p.isSet(sweep) && !w.loadSweep(p.value(sweep)) && automated)
        return 1;
    QStringList toOpen = p.values(open) + p.positionalArguments();
    if (!toOpen.isEmpty())
        w.openPaths(toOpen);
    w.show();

    int exitCode = 0;
    auto grabAndQuit = [&] {
        if (p.isSet(shot)) {
            QImage img = w.grab().toImage();
            int colours = distinctColours(img);
            if (!img.save(p.value(shot), "PNG")) {
                std::fprintf(stderr, "quantbench: %s: cannot write the screenshot\n", qPrintable(p.value(shot)));
                exitCode = 1;
            } else {
                std::fprintf(stderr, "quantbench: screenshot %s (%dx%d, %d colours)\n", qPrintable(p.value(shot)),
                             img.width(), img.height(), colours);
            }
        }
        if (automated)
            QApplication::exit(exitCode);
    };
    auto finish = [&] {
        // Show the charts with the final data, then let the scene lay out (legends are laid out
        // by deferred events) before grabbing.
        w.tabs()->setCurrentIndex(0);
        w.flushViews();
        QTimer::singleShot(250, &w, grabAndQuit);
    };
    if (p.isSet(run)) {
        QObject::connect(&w, &MainWindow::runFinished, &w, [&](bool) {
            // Let the last repaint of the charts happen before grabbing.
            QTimer::singleShot(300, &w, finish);
        });
        QTimer::singleShot(0, &w, [&] {
            QStringList problems = w.setupPanel()->problems();
            if (!problems.isEmpty()) {
                std::fprintf(stderr, "quantbench: cannot run: %s\n", qPrintable(problems.join(QStringLiteral("; "))));
                exitCode = 1;
                if (automated)
                    QApplication::exit(1);
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
