// What the setup panel adds to the scheme matrix: SmoothQuant with its α list (the α sweep), extra
// schemes by name (mixed precision from the Analysis tab), and the analysis tasks, whose sensitivity
// row picks one of the schemes that will run.
#include "ui/setup_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QVBoxLayout>

#include <algorithm>

namespace qb::ui {

QWidget* SetupPanel::buildSmoothGroup()
{
    auto* g = new QGroupBox(tr("SmoothQuant W8A8 (per-row weights, per-token activations)"), this);
    auto* h = new QHBoxLayout(g);
    sqInt8_ = new QCheckBox(tr("INT8"), g);
    sqFp8_ = new QCheckBox(tr("FP8"), g);
    alpha_ = new QLineEdit(QStringLiteral("0.5"), g);
    alpha_->setObjectName(QStringLiteral("alphas"));
    alpha_->setMaximumWidth(fontMetrics().horizontalAdvance(QStringLiteral("0, 0.25, 0.5, 0.75, 0.85, 1xx")));
    alpha_->setToolTip(tr("Migration strength α: s_j = max|X_j|^α / max|W_j|^(1-α). A comma list "
                          "(e.g. 0, 0.25, 0.5, 0.75, 0.85, 1) runs one config per α: the α sweep, calibrated once; "
                          "the Analysis tab plots PPL / KL / MMLU against α"));
    sqInt8_->setToolTip(QString::fromStdString(qb::QuantScheme::smoothQuant(qb::QDType::INT8).describe()));
    sqFp8_->setToolTip(QString::fromStdString(qb::QuantScheme::smoothQuant(qb::QDType::FP8_E4M3).describe()));
    h->addWidget(sqInt8_);
    h->addWidget(sqFp8_);
    h->addWidget(new QLabel(tr("α"), g));
    h->addWidget(alpha_);
    h->addStretch(1);
    for (auto* c : {sqInt8_, sqFp8_})
        connect(c, &QCheckBox::toggled, this, &SetupPanel::refresh);
    connect(alpha_, &QLineEdit::textChanged, this, &SetupPanel::refresh);
    return g;
}

QWidget* SetupPanel::buildExtraGroup()
{
    auto* g = new QGroupBox(tr("Extra schemes (by name, one per line)"), this);
    auto* v = new QVBoxLayout(g);
    extra_ = new QPlainTextEdit(g);
    extra_->setObjectName(QStringLiteral("extraSchemes"));
    extra_->setPlaceholderText(tr("e.g. INT8_Per_Tensor+keep:L0.down,L3.q (Analysis tab: Add to sweep)"));
    extra_->setToolTip(tr("Any scheme name quantbench-cli accepts, one per line: mixed precision keeps the listed "
                          "decoder linears (L<layer>.q|k|v|o|gate|up|down) in the baseline dtype; "
                          "SmoothQuant_INT8_W8A8_Alpha0.75 adds one more α"));
    extra_->setLineWrapMode(QPlainTextEdit::NoWrap);
    extra_->setTabChangesFocus(true);
    const int lineH = extra_->fontMetrics().lineSpacing();
    extra_->setFixedHeight(3 * lineH + 14);
    v->addWidget(extra_);
    extraProblems_ = problemLabel(g);
    v->addWidget(extraProblems_);
    connect(extra_, &QPlainTextEdit::textChanged, this, &SetupPanel::refresh);
    return g;
}

QStringList SetupPanel::extraSchemes() const
{
    QStringList out;
    for (const QString& line : extra_->toPlainText().split(QLatin1Char('\n'))) {
        const QString t = line.trimmed();
        if (!t.isEmpty())
            out << t;
    }
    return out;
}

void SetupPanel::addExtraScheme(const QString& name)
{
    const QString n = name.trimmed();
    if (n.isEmpty() || extraSchemes().contains(n))
        return;
    QStringList lines = extraSchemes();
    lines << n;
    extra_->setPlainText(lines.join(QLatin1Char('\n')));
}

std::vector<double> SetupPanel::alphas() const
{
    std::vector<double> out;
    for (const QString& t : alpha_->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const double a = t.trimmed().toDouble(&ok);
        if (ok && a >= 0.0 && a <= 1.0 && std::find(out.begin(), out.end(), a) == out.end())
            out.push_back(a);
    }
    return out;
}

std::vector<qb::QuantScheme> SetupPanel::smoothSchemes() const
{
    std::vector<qb::QuantScheme> out;
    for (double a : alphas()) {
        if (sqInt8_->isChecked())
            out.push_back(qb::QuantScheme::smoothQuant(qb::QDType::INT8, a));
        if (sqFp8_->isChecked())
            out.push_back(qb::QuantScheme::smoothQuant(qb::QDType::FP8_E4M3, a));
    }
    return out;
}

void SetupPanel::addAnalysisRows(QFormLayout* f, QWidget* g)
{
    sensitivity_ = new QCheckBox(tr("Sensitivity"), g);
    sensitivity_->setObjectName(QStringLiteral("sensitivity"));
    sensitivity_->setToolTip(tr("Quantize one linear (or one decoder layer) at a time, the rest in the baseline "
                                "dtype: KL vs the baseline per unit, then the measured curve \"keep the k most "
                                "sensitive in the baseline dtype\" and the smallest mixed-precision scheme within "
                                "the KL budget. Costs about N + 8 scored passes (N = 7 × layers) per analysed scheme."));
    sensScheme_ = new QComboBox(g);
    sensScheme_->setObjectName(QStringLiteral("sensitivityScheme"));
    sensScheme_->setToolTip(tr("The scheme to analyse"));
    sensScheme_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    sensScheme_->setMinimumContentsLength(16);
    sensMode_ = new QComboBox(g);
    sensMode_->addItem(tr("per linear"), QStringLiteral("linear"));
    sensMode_->addItem(tr("per layer"), QStringLiteral("layer"));
    budgetKl_ = new QDoubleSpinBox(g);
    budgetKl_->setObjectName(QStringLiteral("budgetKl"));
    budgetKl_->setDecimals(5);
    budgetKl_->setRange(0.0, 10.0);
    budgetKl_->setSingleStep(0.0005);
    budgetKl_->setValue(0.001);
    budgetKl_->setToolTip(tr("Mixed-precision budget: mean KL(baseline ‖ quantized) in nats per token"));
    auto* sr = new QHBoxLayout;
    sr->addWidget(sensScheme_, 1);
    sr->addWidget(sensMode_);
    sr->addWidget(new QLabel(tr("KL ≤"), g));
    sr->addWidget(budgetKl_);
    f->addRow(sensitivity_, sr);
    outliers_ = new QCheckBox(tr("Activation outliers (per-channel max before / after smoothing)"), g);
    outliers_->setObjectName(QStringLiteral("outliers"));
    outliers_->setToolTip(tr("From the calibration pass: per input channel max |x| and per column max |W| of every "
                             "linear's input, for the baseline and each SmoothQuant config; the heat map of "
                             "max/median per layer × projection"));
    f->addRow(outliers_);
    connect(sensScheme_, qOverload<int>(&QComboBox::currentIndexChanged), this, &SetupPanel::refresh);
    connect(sensMode_, qOverload<int>(&QComboBox::currentIndexChanged), this, &SetupPanel::refresh);
    connect(budgetKl_, qOverload<double>(&QDoubleSpinBox::valueChanged), this, &SetupPanel::refresh);
    for (auto* c : {sensitivity_, outliers_})
        connect(c, &QCheckBox::toggled, this, &SetupPanel::refresh);
}

void SetupPanel::fillSensitivitySchemes()
{
    // The ticked quantized configs; the choice survives re-ticking (sensPick_ = the user's pick).
    const std::vector<qb::QuantScheme> schemes = setup().schemes; // before the combo is cleared
    QSignalBlocker b(sensScheme_);
    sensScheme_->clear();
    sensScheme_->addItem(tr("every ticked scheme"), QString());
    for (const auto& q : schemes)
        sensScheme_->addItem(QString::fromStdString(q.name()), QString::fromStdString(q.name()));
    if (!sensPick_.isEmpty() && sensScheme_->findData(sensPick_) < 0)
        sensScheme_->addItem(sensPick_, sensPick_); // named in the file, not ticked: problems() says so
    sensScheme_->setCurrentIndex(std::max(0, sensScheme_->findData(sensPick_)));
}

} // namespace qb::ui
