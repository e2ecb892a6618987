// Exports through core's writers (report Markdown, rows CSV, records JSON) and chart PNG/SVG.
#include "ui/exporter.h"

#include "ui/charts/chart_adapter.h"

#include "core/report/report.h"
#include "core/results/store.h"

#include <QDir>
#include <QFileInfo>
#include <QSaveFile>

namespace qb::ui {

QString writeTextFile(const QString& path, const QByteArray& bytes)
{
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return path + QStringLiteral(": cannot write (") + f.errorString() + QLatin1Char(')');
    f.write(bytes);
    if (!f.commit())
        return path + QStringLiteral(": cannot write (") + f.errorString() + QLatin1Char(')');
    return {};
}

QString exportMarkdown(const QString& path, const std::vector<qb::ResultRecord>& records)
{
    return writeTextFile(path, QByteArray::fromStdString(qb::buildReport(records).markdown()));
}

QString exportCsv(const QString& path, const std::vector<qb::ResultRecord>& records)
{
    return writeTextFile(path, QByteArray::fromStdString(qb::rowsTable(qb::groupRecords(records)).csv()));
}

QString exportJson(const QString& path, const std::vector<qb::ResultRecord>& records)
{
    try {
        qb::writeResultsJson(path.toStdString(), records);
        return {};
    } catch (const std::exception& e) {
        return QString::fromUtf8(e.what());
    }
}

QString exportBySuffix(const QString& path, const std::vector<qb::ResultRecord>& records)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("md") || suffix == QLatin1String("markdown"))
        return exportMarkdown(path, records);
    if (suffix == QLatin1String("csv"))
        return exportCsv(path, records);
    if (suffix == QLatin1String("json"))
        return exportJson(path, records);
    return path + QStringLiteral(": unknown export format (use .md, .csv or .json)");
}

QStringList exportCharts(const QString& dir, const std::vector<std::pair<QString, ChartWidget*>>& charts,
                         QString* error)
{
    QStringList written;
    if (!QDir().mkpath(dir)) {
        if (error)
            *error = dir + QStringLiteral(": cannot create the folder");
        return written;
    }
    for (const auto& [stem, chart] : charts) {
        const QString base = QDir(dir).filePath(QStringLiteral("chart_") + stem);
        QString err;
        if (chart->savePng(base + QStringLiteral(".png"), &err))
            written << base + QStringLiteral(".png");
        else if (error)
            *error = err;
        if (chart->saveSvg(base + QStringLiteral(".svg"), &err))
            written << base + QStringLiteral(".svg");
        else if (error)
            *error = err;
    }
    return written;
}

} // namespace qb::ui
