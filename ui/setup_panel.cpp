// The setup panel: model, the scheme matrix, evaluations, device, and what blocks Run (the SmoothQuant,
// extra-scheme and analysis-task controls are in setup_panel_schemes.cpp).
#include "ui/setup_panel.h"

#include "ui/model_info.h"
#include "ui/scheme_matrix.h"

#include "core/util/threads.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>

#include <algorithm>
#include <optional>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

namespace qb::ui {

static QSpinBox* spin(QWidget* parent, int lo, int hi, int value, const QString& name)
{
    auto* s = new QSpinBox(parent);
    s->setRange(lo, hi);
    s->setValue(value);
    s->setObjectName(name);
    return s;
}

QLabel* SetupPanel::problemLabel(QWidget* parent)
{
    auto* l = new QLabel(parent);
    l->setStyleSheet(QStringLiteral("color: #b02020"));
    l->setWordWrap(true);
    l->hide();
    return l;
}

SetupPanel::SetupPanel(QWidget* parent) : QWidget(parent)
{
    auto* lay = new QVBoxLayout(this);
    lay->addWidget(buildModelGroup());
    auto* schemes = new QGroupBox(tr("Schemes (weight quantization)"), this);
    auto* sl = new QVBoxLayout(schemes);
    matrix_ = new SchemeMatrix(schemes);
    sl->addWidget(matrix_);
    lay->addWidget(schemes);
    lay->addWidget(buildSmoothGroup());
    lay->addWidget(buildExtraGroup());
    lay->addWidget(buildEvalGroup());
    lay->addWidget(buildDeviceGroup());
    warnings_ = new QLabel(this);
    warnings_->setStyleSheet(QStringLiteral("color: #8a6d00"));
    warnings_->setWordWrap(true);
    lay->addWidget(warnings_);
    lay->addStretch(1);
    connect(matrix_, &SchemeMatrix::changed, this, &SetupPanel::refresh);
    refresh();
}

QLineEdit* SetupPanel::pathEdit(const QString& objectName, bool folder, QWidget** row)
{
    auto* w = new QWidget(this);
    auto* h = new QHBoxLayout(w);
    h->setContentsMargins(0, 0, 0, 0);
    auto* e = new QLineEdit(w);
    e->setObjectName(objectName);
    e->setClearButtonEnabled(true);
    auto* b = new QToolButton(w);
    b->setText(QStringLiteral("…"));
    b->setToolTip(folder ? tr("Choose a folder") : tr("Choose a file"));
    connect(b, &QToolButton::clicked, this, [this, e, folder] {
        QString p = folder ? QFileDialog::getExistingDirectory(this, tr("Choose a folder"), e->text())
                           : QFileDialog::getOpenFileName(this, tr("Choose a text file"), e->text());
        if (!p.isEmpty())
            e->setText(p);
    });
    connect(e, &QLineEdit::textChanged, this, &SetupPanel::refresh);
    h->addWidget(e, 1);
    h->addWidget(b);
    *row = w;
    return e;
}

QWidget* SetupPanel::buildModelGroup()
{
    auto* g = new QGroupBox(tr("Model"), this);
    auto* v = new QVBoxLayout(g);
    auto* h = new QHBoxLayout;
    model_ = new QComboBox(g);
    model_->setEditable(true);
    model_->setObjectName(QStringLiteral("model"));
    model_->setInsertPolicy(QComboBox::NoInsert);
    model_->setToolTip(tr("Hugging Face model folder (config.json + safetensors) or llama2.c checkpoint folder; "
                          "the drop-down lists recent models"));
    model_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    auto* browse = new QToolButton(g);
    browse->setText(QStringLiteral("…"));
    browse->setToolTip(tr("Choose a model folder"));
    auto* demo = new QPushButton(tr("Demo model"), g);
    demo->setObjectName(QStringLiteral("demoButton"));
    demo->setToolTip(tr("The bundled stories260K Llama with the demo sweep"));
    h->addWidget(model_, 1);
    h->addWidget(browse);
    h->addWidget(demo);
    v->addLayout(h);
    modelSummary_ = new QLabel(g);
    modelSummary_->setWordWrap(true);
    modelSummary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    v->addWidget(modelSummary_);
    connect(browse, &QToolButton::clicked, this, &SetupPanel::browseModel);
    connect(demo, &QPushButton::clicked, this, &SetupPanel::useDemo);
    connect(model_, &QComboBox::currentTextChanged, this, &SetupPanel::refresh);
    return g;
}

QWidget* SetupPanel::buildEvalGroup()
{
    auto* g = new QGroupBox(tr("Evaluations"), this);
    auto* f = new QFormLayout(g);
    QWidget* row = nullptr;
    ppl_ = new QCheckBox(tr("Perplexity"), g);
    pplText_ = pathEdit(QStringLiteral("pplText"), false, &row);
    pplText_->setPlaceholderText(tr("text file (WikiText-2 raw)"));
    f->addRow(ppl_, row);
    auto* pr = new QHBoxLayout;
    pplCtx_ = spin(g, 16, 32768, 256, QStringLiteral("pplCtx"));
    pplWindows_ = spin(g, 0, 100000, 8, QStringLiteral("pplWindows"));
    pplWindows_->setSpecialValueText(tr("all"));
    pr->addWidget(new QLabel(tr("ctx"), g));
    pr->addWidget(pplCtx_);
    pr->addWidget(new QLabel(tr("windows"), g));
    pr->addWidget(pplWindows_);
    f->addRow(QString(), pr);
    mmluDirect_ = new QCheckBox(tr("MMLU direct"), g);
    mmluGenerate_ = new QCheckBox(tr("MMLU generate"), g);
    auto* mh = new QHBoxLayout;
    mh->addWidget(mmluDirect_);
    mh->addWidget(mmluGenerate_);
    f->addRow(mh);
    mmluDir_ = pathEdit(QStringLiteral("mmluDir"), true, &row);
    mmluDir_->setPlaceholderText(tr("MMLU folder with dev/ and test/"));
    f->addRow(tr("MMLU data"), row);
    auto* mr = new QHBoxLayout;
    shots_ = spin(g, 0, 5, 5, QStringLiteral("shots"));
    mmluLimit_ = spin(g, 0, 20000, 100, QStringLiteral("mmluLimit"));
    mmluLimit_->setSpecialValueText(tr("all"));
    mmluBatch_ = spin(g, 1, 256, 8, QStringLiteral("mmluBatch"));
    for (auto [label, w] : {std::pair{tr("shots"), shots_}, {tr("limit"), mmluLimit_}, {tr("batch"), mmluBatch_}}) {
        mr->addWidget(new QLabel(label, g));
        mr->addWidget(w);
    }
    f->addRow(QString(), mr);
    throughput_ = new QCheckBox(tr("Throughput"), g);
    auto* tr1 = new QHBoxLayout;
    prefillBatch_ = spin(g, 1, 512, 8, QStringLiteral("prefillBatch"));
    prefillLen_ = spin(g, 1, 32768, 128, QStringLiteral("prefillLen"));
    decodeBatch_ = spin(g, 1, 512, 8, QStringLiteral("decodeBatch"));
    decodeLen_ = spin(g, 1, 8192, 32, QStringLiteral("decodeLen"));
    for (auto [label, w] : {std::pair{tr("prefill b"), prefillBatch_}, {tr("len"), prefillLen_},
                            {tr("decode b"), decodeBatch_}, {tr("len"), decodeLen_}}) {
        tr1->addWidget(new QLabel(label, g));
        tr1->addWidget(w);
    }
    f->addRow(throughput_, tr1);
    matmul_ = new QCheckBox(tr("Matmul accuracy (SQNR, relative error on real layer shapes)"), g);
    f->addRow(matmul_);
    addAnalysisRows(f, g);
    calibText_ = pathEdit(QStringLiteral("calibText"), false, &row);
    calibText_->setPlaceholderText(tr("SmoothQuant calibration text"));
    f->addRow(tr("Calibration"), row);
    evalProblems_ = problemLabel(g);
    f->addRow(evalProblems_);
    for (auto* c : {ppl_, mmluDirect_, mmluGenerate_, throughput_, matmul_})
        connect(c, &QCheckBox::toggled, this, &SetupPanel::refresh);
    for (auto* s : {pplCtx_, pplWindows_, shots_, mmluLimit_, mmluBatch_, prefillBatch_, prefillLen_, decodeBatch_, decodeLen_})
        connect(s, qOverload<int>(&QSpinBox::valueChanged), this, &SetupPanel::refresh);
    return g;
}

QWidget* SetupPanel::buildDeviceGroup()
{
    auto* g = new QGroupBox(tr("Device"), this);
    auto* h = new QHBoxLayout(g);
    device_ = new QComboBox(g);
    device_->setObjectName(QStringLiteral("device"));
    device_->addItem(tr("CPU"), QStringLiteral("cpu"));
    auto v = versions();
    if (v.cudaAvailable)
        device_->addItem(tr("CUDA"), QStringLiteral("cuda"));
    device_->setToolTip(QString::fromStdString("CUDA: " + v.cuda));
    dtype_ = new QComboBox(g);
    dtype_->setObjectName(QStringLiteral("baselineDtype"));
    for (const char* d : {"FP32", "BF16", "FP16"})
        dtype_->addItem(QString::fromLatin1(d), QString::fromLatin1(d));
    h->addWidget(new QLabel(tr("Run on"), g));
    h->addWidget(device_);
    h->addWidget(new QLabel(tr("baseline dtype"), g));
    h->addWidget(dtype_);
    // CPU threads: a setting of this machine, remembered, applied at the start of each run.
    threads_ = new QSpinBox(g);
    threads_->setObjectName(QStringLiteral("threads"));
    threads_->setRange(0, 1024);
    threads_->setSpecialValueText(tr("auto (%1)").arg(qb::allowedCpus()));
    threads_->setValue(QSettings().value(QStringLiteral("run/threads"), 0).toInt());
    threads_->setToolTip(tr("CPU threads for libtorch and the quantized kernels (auto: the %1 CPUs this process may use; "
                            "the BLAS library then runs single-threaded so nothing oversubscribes). "
                            "Recorded in every result's provenance; takes effect at the next Run.")
                             .arg(qb::allowedCpus()));
    connect(threads_, qOverload<int>(&QSpinBox::valueChanged), this,
            [](int v) { QSettings().setValue(QStringLiteral("run/threads"), v); });
    h->addWidget(new QLabel(tr("threads"), g));
    h->addWidget(threads_);
    h->addStretch(1);
    connect(device_, qOverload<int>(&QComboBox::currentIndexChanged), this, &SetupPanel::refresh);
    connect(dtype_, qOverload<int>(&QComboBox::currentIndexChanged), this, &SetupPanel::refresh);
    return g;
}

void SetupPanel::browseModel()
{
    QString dir = QFileDialog::getExistingDirectory(this, tr("Choose a model folder"), model_->currentText());
    if (!dir.isEmpty())
        model_->setCurrentText(dir);
}

SweepSetup SetupPanel::setup() const
{
    SweepSetup s;
    s.base = base_;
    s.evals.calib_samples = int(base_.calib_sequences);
    s.model_dir = model_->currentText().trimmed().toStdString();
    s.device = device_->currentData().toString().toStdString();
    s.baseline_dtype = dtype_->currentData().toString().toStdString();
    s.threads = threads_->value();
    s.schemes = matrix_->schemes();
    for (const auto& q : smoothSchemes())
        s.schemes.push_back(q);
    for (const QString& n : extraSchemes()) { // the ones that parse; problems() names the others
        try {
            qb::QuantScheme q = qb::QuantScheme::parse(n.toStdString());
            bool dup = q.isBaseline();
            for (const auto& o : s.schemes)
                dup = dup || o.name() == q.name();
            if (!dup)
                s.schemes.push_back(q);
        } catch (const std::exception&) {
        }
    }
    auto& e = s.evals;
    e.ppl = ppl_->isChecked();
    e.ppl_dataset = pplText_->text().trimmed().toStdString();
    e.ppl_ctx = pplCtx_->value();
    e.ppl_windows = pplWindows_->value();
    e.mmlu_direct = mmluDirect_->isChecked();
    e.mmlu_generate = mmluGenerate_->isChecked();
    e.mmlu_dir = mmluDir_->text().trimmed().toStdString();
    e.mmlu_shots = shots_->value();
    e.mmlu_limit = mmluLimit_->value();
    e.mmlu_batch = mmluBatch_->value();
    e.throughput = throughput_->isChecked();
    e.prefill_batch = prefillBatch_->value();
    e.prefill_len = prefillLen_->value();
    e.decode_batch = decodeBatch_->value();
    e.decode_len = decodeLen_->value();
    e.matmul = matmul_->isChecked();
    e.sensitivity = sensitivity_->isChecked();
    e.sensitivity_scheme = sensScheme_->currentData().toString().toStdString();
    e.sensitivity_mode = sensMode_->currentData().toString().toStdString();
    e.budget_kl = budgetKl_->value();
    e.outliers = outliers_->isChecked();
    e.calib_dataset = calibText_->text().trimmed().toStdString();
    return s;
}

void SetupPanel::setSetup(const SweepSetup& s)
{
    loading_ = true;
    base_ = s.base;
    base_.calib_sequences = s.evals.calib_samples;
    model_->setCurrentText(QString::fromStdString(s.model_dir));
    int d = device_->findData(QString::fromStdString(s.device));
    device_->setCurrentIndex(d < 0 ? 0 : d);
    int t = dtype_->findData(QString::fromStdString(s.baseline_dtype));
    dtype_->setCurrentIndex(t < 0 ? 0 : t);
    matrix_->setSchemes(s.schemes);
    sqInt8_->setChecked(false);
    sqFp8_->setChecked(false);
    {
        // The α list of the first smoothed dtype; other combinations stay as extra schemes below.
        QStringList al;
        std::optional<qb::QDType> first;
        for (const auto& q : s.schemes)
            if (q.smoothing == qb::Smoothing::SmoothQuant && q.name() == qb::QuantScheme::smoothQuant(q.dtype, q.alpha).name()) {
                (q.dtype == qb::QDType::INT8 ? sqInt8_ : sqFp8_)->setChecked(true);
                if (!first)
                    first = q.dtype;
                if (q.dtype == *first)
                    al << QString::number(q.alpha);
            }
        al.removeDuplicates();
        alpha_->setText(al.isEmpty() ? QStringLiteral("0.5") : al.join(QStringLiteral(", ")));
    }
    // What neither the matrix nor the SmoothQuant boxes produce (mixed precision, more α values)
    // stays in the sweep as an extra scheme instead of being dropped.
    {
        std::vector<std::string> covered;
        for (const auto& q : matrix_->schemes())
            covered.push_back(q.name());
        for (const auto& q : smoothSchemes())
            covered.push_back(q.name());
        QStringList extra;
        for (const auto& q : s.schemes)
            if (!q.isBaseline() && std::find(covered.begin(), covered.end(), q.name()) == covered.end())
                extra << QString::fromStdString(q.name());
        extra.removeDuplicates();
        QSignalBlocker b(extra_);
        extra_->setPlainText(extra.join(QLatin1Char('\n')));
    }
    const auto& e = s.evals;
    ppl_->setChecked(e.ppl);
    pplText_->setText(QString::fromStdString(e.ppl_dataset));
    pplCtx_->setValue(e.ppl_ctx);
    pplWindows_->setValue(e.ppl_windows);
    mmluDirect_->setChecked(e.mmlu_direct);
    mmluGenerate_->setChecked(e.mmlu_generate);
    mmluDir_->setText(QString::fromStdString(e.mmlu_dir));
    shots_->setValue(e.mmlu_shots);
    mmluLimit_->setValue(e.mmlu_limit);
    mmluBatch_->setValue(e.mmlu_batch);
    throughput_->setChecked(e.throughput);
    prefillBatch_->setValue(e.prefill_batch);
    prefillLen_->setValue(e.prefill_len);
    decodeBatch_->setValue(e.decode_batch);
    decodeLen_->setValue(e.decode_len);
    matmul_->setChecked(e.matmul);
    sensitivity_->setChecked(e.sensitivity);
    sensMode_->setCurrentIndex(std::max(0, sensMode_->findData(QString::fromStdString(e.sensitivity_mode))));
    budgetKl_->setValue(e.budget_kl < 0 ? 0.0 : e.budget_kl);
    outliers_->setChecked(e.outliers);
    sensPick_ = QString::fromStdString(e.sensitivity_scheme);
    calibText_->setText(QString::fromStdString(e.calib_dataset));
    loading_ = false;
    refresh();
}

bool SetupPanel::useDemo()
{
    try {
        setSetup(demoSweep());
    } catch (const std::exception& e) {
        Q_EMIT error(tr("Cannot use the demo"), QString::fromUtf8(e.what()));
        return false;
    }
    Q_EMIT modelChosen(model_->currentText());
    return true;
}

void SetupPanel::setRecentModels(const QStringList& dirs)
{
    QString cur = model_->currentText();
    QSignalBlocker b(model_);
    model_->clear();
    model_->addItems(dirs);
    model_->setCurrentText(cur);
}

QStringList SetupPanel::recentModels() const
{
    QStringList out;
    for (int i = 0; i < model_->count(); ++i)
        out << model_->itemText(i);
    return out;
}

QStringList SetupPanel::problems() const
{
    QStringList out;
    for (const auto& p : setup().problems())
        out << QString::fromStdString(p);
    if (!matrix_->problem().isEmpty())
        out << matrix_->problem();
    if ((sqInt8_->isChecked() || sqFp8_->isChecked()) && alphas().empty())
        out << tr("SmoothQuant α: give one or more numbers in [0, 1], separated by commas.");
    for (const QString& n : extraSchemes()) {
        try {
            const qb::QuantScheme q = qb::QuantScheme::parse(n.toStdString());
            if (const std::string v = q.validate(); !v.empty())
                out << tr("Extra scheme %1: %2").arg(n, QString::fromStdString(v));
        } catch (const std::exception& ex) {
            out << tr("Extra scheme: %1").arg(QString::fromUtf8(ex.what()));
        }
    }
    return out;
}

void SetupPanel::refresh()
{
    if (loading_)
        return;
    if (sensScheme_->currentIndex() >= 0 && sender() == sensScheme_)
        sensPick_ = sensScheme_->currentData().toString();
    fillSensitivitySchemes();
    const SweepSetup s = setup();
    if (s.model_dir.empty()) {
        modelSummary_->setText(tr("No model chosen: pick a folder or press Demo model."));
        modelSummary_->setStyleSheet(QString());
    } else {
        auto sum = summarizeModel(s.model_dir);
        modelSummary_->setText(QString::fromStdString(sum.text));
        modelSummary_->setStyleSheet(sum.ok ? QString() : QStringLiteral("color: #b02020"));
    }
    // Evaluation/dataset problems next to the evaluations; model problems are in the summary.
    QStringList evalProblems;
    for (const auto& p : s.problems()) {
        QString q = QString::fromStdString(p);
        if (!q.startsWith(QStringLiteral("Model folder")) && !q.startsWith(QStringLiteral("Choose a model")))
            evalProblems << q;
    }
    QStringList extraProblems;
    for (const QString& p : problems())
        if (p.startsWith(tr("Extra scheme")) || p.startsWith(tr("SmoothQuant α")))
            extraProblems << p;
    extraProblems_->setText(extraProblems.join(QLatin1Char('\n')));
    extraProblems_->setVisible(!extraProblems.isEmpty());
    evalProblems_->setText(evalProblems.join(QLatin1Char('\n')));
    evalProblems_->setVisible(!evalProblems.isEmpty());
    QStringList warn;
    for (const auto& w : s.warnings())
        warn << QString::fromStdString(w);
    warnings_->setText(warn.join(QLatin1Char('\n')));
    warnings_->setVisible(!warn.isEmpty());
    Q_EMIT changed();
}

} // namespace qb::ui
