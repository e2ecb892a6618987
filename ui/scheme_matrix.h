#pragma once
// The scheme matrix: rows INT8 / FP8-E4M3, columns per-tensor, per-row, group 64..512; each
// ticked cell runs in every ticked mode (fake, real). Row and column headers select all.
// Each cell's tooltip is QuantScheme::describe() of the scheme it stands for.
#include "core/quant/scheme.h"

#include <QWidget>

#include <vector>

QT_BEGIN_NAMESPACE
class QCheckBox;
class QComboBox;
class QLabel;
QT_END_NAMESPACE

namespace qb::ui {

class SchemeMatrix : public QWidget {
    Q_OBJECT
public:
    static constexpr int kRows = 2;  // INT8, FP8
    static constexpr int kCols = 6;  // per-tensor, per-row, g64, g128, g256, g512

    explicit SchemeMatrix(QWidget* parent = nullptr);

    // Ticked cells x ticked modes, ordered as qb::schemeMatrix orders them (mode, dtype, granularity).
    std::vector<qb::QuantScheme> schemes() const;
    // Ticks the cells and modes that produce `schemes` (SmoothQuant entries are ignored).
    void setSchemes(const std::vector<qb::QuantScheme>& schemes);
    QCheckBox* cell(int row, int col) const { return cells_[row][col]; }
    QCheckBox* fakeBox() const { return fake_; }
    QCheckBox* realBox() const { return real_; }
    void selectRow(int row);    // toggles: all on unless all already on
    void selectColumn(int col);
    QString problem() const;     // empty when the selection is consistent

Q_SIGNALS:
    void changed();

private:
    qb::QuantScheme schemeAt(int row, int col, qb::QuantMode mode) const;
    void updateTooltips();
    void onChanged();

    QCheckBox* cells_[kRows][kCols] = {};
    QCheckBox* fake_ = nullptr;
    QCheckBox* real_ = nullptr;
    QComboBox* act_ = nullptr;
    QLabel* problem_ = nullptr;
};

} // namespace qb::ui
