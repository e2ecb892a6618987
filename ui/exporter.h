#pragma once
// Writes what the window shows to files, through core's writers: the report (Markdown,
// core/report), the per-config table (CSV, core's rowsTable), the records (JSON, core's
// writeResultsJson: the document `quantbench-cli import` writes and every loader reads) and
// the charts (PNG and SVG). Each returns an error naming the file, or "".
#include "core/results/record.h"

#include <QString>
#include <QStringList>

#include <utility>
#include <vector>

namespace qb::ui {

class ChartWidget;

QString writeTextFile(const QString& path, const QByteArray& bytes); // atomic (QSaveFile)
QString exportMarkdown(const QString& path, const std::vector<qb::ResultRecord>& records);
QString exportCsv(const QString& path, const std::vector<qb::ResultRecord>& records);
QString exportJson(const QString& path, const std::vector<qb::ResultRecord>& records);
// Dispatches on the suffix (.md, .csv, .json).
QString exportBySuffix(const QString& path, const std::vector<qb::ResultRecord>& records);
// Writes <dir>/<stem>.png and <dir>/<stem>.svg for every chart; returns the files written.
QStringList exportCharts(const QString& dir, const std::vector<std::pair<QString, ChartWidget*>>& charts,
                         QString* error);

} // namespace qb::ui
