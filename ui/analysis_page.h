#pragma once
// The Analysis tab (docs/analysis.md), three pages:
//  - Sensitivity: a layer x projection heat map of KL (one unit quantized at a time), the
//    mixed-precision curve (KL vs k units kept in the baseline dtype, budget line, recommended
//    point) and "Add to sweep" for the recommended scheme;
//  - Outliers: a layer x projection heat map of the activation max/median ratio (smoothed when the
//    config is SmoothQuant), and the per-channel activation and weight maxima of one layer's input;
//  - SmoothQuant α: PPL / KL / MMLU vs α, one series per (dtype, mode), the best α marked.
// Built from core's rows; the window hands them over only while the tab is visible (setRows is
// cheap when the analysis records did not change). Export: PNG + SVG + CSV of every chart and
// heat map and one analysis.md.
#include "core/report/rows.h"
#include "ui/analysis_specs.h"

#include <QString>
#include <QStringList>
#include <QWidget>

#include <vector>

QT_BEGIN_NAMESPACE
class QBoxLayout;
class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QStackedWidget;
class QTabWidget;
QT_END_NAMESPACE

namespace qb::ui {

class ChartWidget;
class HeatMapWidget;

class AnalysisPage : public QWidget {
    Q_OBJECT
public:
    explicit AnalysisPage(QWidget* parent = nullptr);

    void setRows(const std::vector<qb::ConfigRow>& rows);

    QTabWidget* pages() const { return pages_; }
    HeatMapWidget* sensitivityHeatMap() const { return sensHeat_; }
    ChartWidget* curveChart() const { return curve_; }
    QComboBox* sensitivityConfig() const { return sensConfig_; }
    QPushButton* addToSweepButton() const { return addBtn_; }
    QString recommendedScheme() const { return recommended_; }
    QLabel* recommendationLabel() const { return recLabel_; }
    bool sensitivityHintShown() const;

    HeatMapWidget* outlierHeatMap() const { return outHeat_; }
    ChartWidget* activationChart() const { return actChart_; }
    ChartWidget* weightChart() const { return wChart_; }
    QComboBox* outlierConfig() const { return outConfig_; }
    QSpinBox* outlierLayer() const { return outLayer_; }
    QComboBox* outlierInput() const { return outInput_; }
    QCheckBox* smoothedToggle() const { return smoothed_; }
    bool outliersHintShown() const;

    ChartWidget* alphaChartWidget() const { return alpha_; }
    QComboBox* alphaMetric() const { return alphaMetric_; }
    const std::vector<AlphaBest>& bestAlphas() const { return best_; }
    QLabel* alphaBestLabel() const { return alphaBest_; }

    // Every chart and heat map (PNG + SVG + CSV) and analysis.md into `dir`; the files written.
    QStringList exportTo(const QString& dir, QString* error = nullptr);

Q_SIGNALS:
    void addSchemeRequested(const QString& scheme); // "Add to sweep" (the window adds it to the setup)
    void exportRequested();                          // the Export button (the window asks for a folder)

protected:
    void resizeEvent(QResizeEvent* e) override;

private:
    QWidget* buildSensitivity();
    QWidget* buildOutliers();
    QWidget* buildAlpha();
    void rebuildSensitivity();
    void rebuildOutliers(bool pickWorst);
    void rebuildOutlierCharts();
    void rebuildAlpha();
    void onOutlierCell(int row, int col);
    void arrange();

    std::vector<qb::ConfigRow> rows_; // the rows the tab uses (analysis records, SmoothQuant, baseline)
    std::vector<AnalysisItem> sens_, out_;
    std::string signature_ = "-";

    QTabWidget* pages_ = nullptr;
    QPushButton* exportBtn_ = nullptr;

    QComboBox* sensConfig_ = nullptr;
    QLabel* sensSummary_ = nullptr;
    QStackedWidget* sensStack_ = nullptr;
    QBoxLayout* sensBox_ = nullptr;
    HeatMapWidget* sensHeat_ = nullptr;
    ChartWidget* curve_ = nullptr;
    QLabel* recLabel_ = nullptr;
    QPushButton* addBtn_ = nullptr;
    QString recommended_;

    QComboBox* outConfig_ = nullptr;
    QSpinBox* outLayer_ = nullptr;
    QComboBox* outInput_ = nullptr;
    QCheckBox* smoothed_ = nullptr;
    QLabel* outSummary_ = nullptr;
    QStackedWidget* outStack_ = nullptr;
    QBoxLayout* outBox_ = nullptr;
    HeatMapWidget* outHeat_ = nullptr;
    ChartWidget* actChart_ = nullptr;
    ChartWidget* wChart_ = nullptr;

    QComboBox* alphaMetric_ = nullptr;
    QLabel* alphaBest_ = nullptr;
    ChartWidget* alpha_ = nullptr;
    std::vector<AlphaBest> best_;
};

} // namespace qb::ui
