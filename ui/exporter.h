#pragma once
// Writes what the window shows to files: the report (Markdown), the table (CSV), the raw
// results (JSON) and the charts (PNG and SVG). Each returns an error naming the file, or "".
#include "ui/core_bridge.h"

#include <QString>

#include <utility>
#include <vector>

namespace qb::ui {

class ChartWidget;

QString writeTextFile(const QString& path, const QByteArray& bytes); // atomic (QSaveFile)
QString exportMarkdown(const QString& path, const std::vector<ConfigResult>& results);
QString exportCsv(const QString& path, const std::vector<ConfigResult>& results);
QString exportJson(const QString& path, const std::vector<ConfigResult>& results);
// Dispatches on the suffix (.md, .csv, .json).
QString exportBySuffix(const QString& path, const std::vector<ConfigResult>& results);
// Writes <dir>/<stem>.png and <dir>/<stem>.svg for every chart; returns the files written.
QStringList exportCharts(const QString& dir, const std::vector<std::pair<QString, ChartWidget*>>& charts,
                         QString* error);

} // namespace qb::ui
