#pragma once
// The left-hand setup panel: model, scheme matrix, SmoothQuant, evaluations, device. It edits
// a SweepSetup and explains invalid combinations right where they are made.
#include "ui/sweep_setup.h"

#include <QStringList>
#include <vector>
#include <QWidget>

QT_BEGIN_NAMESPACE
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;
QT_END_NAMESPACE

namespace qb::ui {

class SchemeMatrix;

class SetupPanel : public QWidget {
    Q_OBJECT
public:
    explicit SetupPanel(QWidget* parent = nullptr);

    SweepSetup setup() const;
    void setSetup(const SweepSetup& s);
    bool useDemo();                       // demo model + demo sweep; false (and error()) if missing
    void setRecentModels(const QStringList& dirs);
    QStringList recentModels() const;
    QStringList problems() const;         // blocking problems (Run is disabled while any)
    SchemeMatrix* matrix() const { return matrix_; }
    // Schemes by name beyond the matrix and SmoothQuant boxes (mixed precision "+keep:" schemes
    // from the Analysis tab, extra α values of a loaded α sweep, ...): one per line.
    void addExtraScheme(const QString& name); // appended unless already listed
    QStringList extraSchemes() const;         // the non-empty lines, trimmed
    QPlainTextEdit* extraSchemesEdit() const { return extra_; }

Q_SIGNALS:
    void changed();
    void modelChosen(const QString& dir); // for the recent-models list
    void error(const QString& title, const QString& text);

private:
    QWidget* buildModelGroup();
    QWidget* buildSmoothGroup();
    QWidget* buildExtraGroup();
    QWidget* buildEvalGroup();
    QWidget* buildDeviceGroup();
    void browseModel();
    void refresh();                       // summary + inline messages
    std::vector<double> alphas() const;   // the SmoothQuant α list that parses (in [0, 1], no repeats)
    std::vector<qb::QuantScheme> smoothSchemes() const; // per α: INT8 then FP8, as ticked
    void addAnalysisRows(QFormLayout* f, QWidget* g);   // sensitivity (scheme, mode, KL budget), outliers
    static QLabel* problemLabel(QWidget* parent);       // a red, wrapped, hidden-until-needed message
    void fillSensitivitySchemes();        // the sensitivity combo = the configs that will run
    QLineEdit* pathEdit(const QString& objectName, bool folder, QWidget** row);

    QComboBox* model_ = nullptr;
    QLabel* modelSummary_ = nullptr;
    SchemeMatrix* matrix_ = nullptr;
    QCheckBox* sqInt8_ = nullptr;
    QCheckBox* sqFp8_ = nullptr;
    QLineEdit* alpha_ = nullptr; // one α or a comma list (the α sweep)
    QPlainTextEdit* extra_ = nullptr;
    QLabel* extraProblems_ = nullptr;
    QCheckBox* ppl_ = nullptr;
    QLineEdit* pplText_ = nullptr;
    QSpinBox* pplCtx_ = nullptr;
    QSpinBox* pplWindows_ = nullptr;
    QCheckBox* mmluDirect_ = nullptr;
    QCheckBox* mmluGenerate_ = nullptr;
    QLineEdit* mmluDir_ = nullptr;
    QSpinBox* shots_ = nullptr;
    QSpinBox* mmluLimit_ = nullptr;
    QSpinBox* mmluBatch_ = nullptr;
    QCheckBox* throughput_ = nullptr;
    QSpinBox* prefillBatch_ = nullptr;
    QSpinBox* prefillLen_ = nullptr;
    QSpinBox* decodeBatch_ = nullptr;
    QSpinBox* decodeLen_ = nullptr;
    QCheckBox* matmul_ = nullptr;
    QCheckBox* sensitivity_ = nullptr;
    QComboBox* sensScheme_ = nullptr;
    QComboBox* sensMode_ = nullptr;
    QDoubleSpinBox* budgetKl_ = nullptr;
    QCheckBox* outliers_ = nullptr;
    QString sensPick_; // the scheme chosen for sensitivity (kept while the list is rebuilt)
    QLineEdit* calibText_ = nullptr;
    QComboBox* device_ = nullptr;
    QComboBox* dtype_ = nullptr;
    QSpinBox* threads_ = nullptr;
    QLabel* evalProblems_ = nullptr;
    QLabel* warnings_ = nullptr;
    bool loading_ = false;
    qb::SweepSpec base_; // settings of the loaded sweep that the panel does not show
};

} // namespace qb::ui
