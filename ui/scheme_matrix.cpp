// The dtype x granularity x mode matrix of check boxes that picks the schemes.
#include "ui/scheme_matrix.h"

#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QVBoxLayout>

namespace qb::ui {

namespace {
const char* kRowNames[SchemeMatrix::kRows] = {"INT8", "FP8 E4M3"};
const char* kColNames[SchemeMatrix::kCols] = {"Per-tensor", "Per-row", "Group 64", "Group 128", "Group 256", "Group 512"};
const int kGroup[SchemeMatrix::kCols] = {0, 0, 64, 128, 256, 512};
} // namespace

SchemeMatrix::SchemeMatrix(QWidget* parent) : QWidget(parent)
{
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    auto* grid = new QGridLayout;
    grid->setHorizontalSpacing(6);
    for (int c = 0; c < kCols; ++c) {
        auto* b = new QToolButton(this);
        b->setText(QString::fromLatin1(kColNames[c]));
        b->setAutoRaise(true);
        b->setToolTip(tr("Select or clear the whole column"));
        connect(b, &QToolButton::clicked, this, [this, c] { selectColumn(c); });
        grid->addWidget(b, 0, c + 1, Qt::AlignCenter);
    }
    for (int r = 0; r < kRows; ++r) {
        auto* b = new QToolButton(this);
        b->setText(QString::fromLatin1(kRowNames[r]));
        b->setAutoRaise(true);
        b->setToolTip(tr("Select or clear the whole row"));
        connect(b, &QToolButton::clicked, this, [this, r] { selectRow(r); });
        grid->addWidget(b, r + 1, 0);
        for (int c = 0; c < kCols; ++c) {
            auto* box = new QCheckBox(this);
            box->setObjectName(QStringLiteral("cell_%1_%2").arg(r).arg(c));
            connect(box, &QCheckBox::toggled, this, &SchemeMatrix::onChanged);
            grid->addWidget(box, r + 1, c + 1, Qt::AlignCenter);
            cells_[r][c] = box;
        }
    }
    outer->addLayout(grid);
    auto* modes = new QHBoxLayout;
    modes->addWidget(new QLabel(tr("Modes:"), this));
    fake_ = new QCheckBox(tr("Fake"), this);
    fake_->setToolTip(tr("Quantize then dequantize the weights; run in the baseline dtype"));
    real_ = new QCheckBox(tr("Real"), this);
    real_->setToolTip(tr("Store 8-bit codes + scales; kernels consume the codes (memory saving measured)"));
    real_->setChecked(true);
    act_ = new QComboBox(this);
    act_->addItem(tr("Weight-only"), int(qb::ActQuant::None));
    act_->addItem(tr("W8A8, per-token activations"), int(qb::ActQuant::PerToken));
    act_->addItem(tr("W8A8, per-tensor activations"), int(qb::ActQuant::PerTensor));
    modes->addWidget(fake_);
    modes->addWidget(real_);
    modes->addSpacing(12);
    modes->addWidget(act_);
    modes->addStretch(1);
    outer->addLayout(modes);
    problem_ = new QLabel(this);
    problem_->setStyleSheet(QStringLiteral("color: #b02020"));
    problem_->setWordWrap(true);
    problem_->hide();
    outer->addWidget(problem_);
    connect(fake_, &QCheckBox::toggled, this, &SchemeMatrix::onChanged);
    connect(real_, &QCheckBox::toggled, this, &SchemeMatrix::onChanged);
    connect(act_, qOverload<int>(&QComboBox::currentIndexChanged), this, &SchemeMatrix::onChanged);
    updateTooltips();
}

qb::QuantScheme SchemeMatrix::schemeAt(int row, int col, qb::QuantMode mode) const
{
    qb::QuantScheme s;
    s.dtype = row == 0 ? qb::QDType::INT8 : qb::QDType::FP8_E4M3;
    s.granularity = col == 0 ? qb::Granularity::PerTensor : col == 1 ? qb::Granularity::PerRow : qb::Granularity::PerGroup;
    s.group_size = kGroup[col];
    s.mode = mode;
    s.activation = qb::ActQuant(act_->currentData().toInt());
    return s;
}

void SchemeMatrix::updateTooltips()
{
    for (int r = 0; r < kRows; ++r)
        for (int c = 0; c < kCols; ++c) {
            auto s = schemeAt(r, c, qb::QuantMode::Real);
            auto f = schemeAt(r, c, qb::QuantMode::Fake);
            cells_[r][c]->setToolTip(QString::fromStdString(s.name() + " / " + f.name() + "\n" + s.describe()));
        }
}

std::vector<qb::QuantScheme> SchemeMatrix::schemes() const
{
    std::vector<qb::QuantScheme> out;
    std::vector<qb::QuantMode> modes;
    if (real_->isChecked())
        modes.push_back(qb::QuantMode::Real);
    if (fake_->isChecked())
        modes.push_back(qb::QuantMode::Fake);
    for (auto m : modes)
        for (int r = 0; r < kRows; ++r)
            for (int c = 0; c < kCols; ++c)
                if (cells_[r][c]->isChecked())
                    out.push_back(schemeAt(r, c, m));
    return out;
}

void SchemeMatrix::setSchemes(const std::vector<qb::QuantScheme>& schemes)
{
    QSignalBlocker block(this);
    bool fake = false, real = false;
    int act = -1;
    for (int r = 0; r < kRows; ++r)
        for (int c = 0; c < kCols; ++c)
            cells_[r][c]->setChecked(false);
    for (const auto& s : schemes) {
        if (s.isBaseline() || s.smoothing != qb::Smoothing::None)
            continue;
        int r = s.dtype == qb::QDType::INT8 ? 0 : 1;
        for (int c = 0; c < kCols; ++c) {
            auto t = schemeAt(r, c, s.mode);
            if (t.granularity == s.granularity && t.group_size == s.group_size)
                cells_[r][c]->setChecked(true);
        }
        (s.mode == qb::QuantMode::Fake ? fake : real) = true;
        act = int(s.activation);
    }
    fake_->setChecked(fake);
    real_->setChecked(real || !fake);
    if (act >= 0)
        act_->setCurrentIndex(act_->findData(act));
    block.unblock();
    onChanged();
}

void SchemeMatrix::selectRow(int row)
{
    bool all = true;
    for (int c = 0; c < kCols; ++c)
        all = all && cells_[row][c]->isChecked();
    for (int c = 0; c < kCols; ++c)
        cells_[row][c]->setChecked(!all);
}

void SchemeMatrix::selectColumn(int col)
{
    bool all = true;
    for (int r = 0; r < kRows; ++r)
        all = all && cells_[r][col]->isChecked();
    for (int r = 0; r < kRows; ++r)
        cells_[r][col]->setChecked(!all);
}

QString SchemeMatrix::problem() const
{
    bool anyCell = false;
    for (int r = 0; r < kRows; ++r)
        for (int c = 0; c < kCols; ++c)
            anyCell = anyCell || cells_[r][c]->isChecked();
    if (anyCell && !fake_->isChecked() && !real_->isChecked())
        return tr("Cells are ticked but neither Fake nor Real: tick at least one mode.");
    return {};
}

void SchemeMatrix::onChanged()
{
    updateTooltips();
    QString p = problem();
    problem_->setText(p);
    problem_->setVisible(!p.isEmpty());
    Q_EMIT changed();
}

} // namespace qb::ui
