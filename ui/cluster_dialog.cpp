#include "ui/cluster_dialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QVBoxLayout>

namespace qb::ui {

ClusterDialog::ClusterDialog(const QString& cliPath, PrepareFn prepare, QWidget* parent)
    : QDialog(parent), cli_(cliPath), prepare_(std::move(prepare))
{
    setWindowTitle(tr("Run on cluster (Slurm)"));
    setObjectName(QStringLiteral("clusterDialog"));
    auto* v = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    auto* dirRow = new QHBoxLayout;
    dir_ = new QLineEdit(this);
    dir_->setObjectName(QStringLiteral("clusterRunDir"));
    dir_->setPlaceholderText(tr("run folder on a file system the nodes share"));
    auto* browse = new QPushButton(tr("Browse…"), this);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString d = QFileDialog::getExistingDirectory(this, tr("Run folder"), dir_->text());
        if (!d.isEmpty())
            dir_->setText(d);
    });
    dirRow->addWidget(dir_, 1);
    dirRow->addWidget(browse);
    form->addRow(tr("Run folder"), dirRow);
    auto* shardRow = new QHBoxLayout;
    shards_ = new QSpinBox(this);
    shards_->setRange(1, 10000);
    perConfig_ = new QCheckBox(tr("one task per config"), this);
    connect(perConfig_, &QCheckBox::toggled, shards_, &QWidget::setDisabled);
    shardRow->addWidget(shards_);
    shardRow->addWidget(perConfig_, 1);
    form->addRow(tr("Array tasks"), shardRow);
    auto line = [&](const QString& label, const QString& hint) {
        auto* e = new QLineEdit(this);
        e->setPlaceholderText(hint);
        form->addRow(label, e);
        return e;
    };
    partition_ = line(tr("Partition"), tr("cluster default"));
    gres_ = line(tr("GRES"), tr("e.g. gpu:1"));
    time_ = line(tr("Time limit"), tr("HH:MM:SS, e.g. 04:00:00"));
    cpus_ = new QSpinBox(this);
    cpus_->setRange(0, 1024);
    cpus_->setSpecialValueText(tr("default"));
    form->addRow(tr("CPUs per task"), cpus_);
    mem_ = line(tr("Memory"), tr("e.g. 32G"));
    account_ = line(tr("Account"), tr("cluster default"));
    v->addLayout(form);
    script_ = new QPlainTextEdit(this);
    script_->setObjectName(QStringLiteral("clusterScript"));
    script_->setReadOnly(true);
    script_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    script_->setLineWrapMode(QPlainTextEdit::NoWrap);
    script_->setPlaceholderText(tr("Show script: the job.sbatch that Submit writes into the run folder"));
    script_->setMinimumHeight(180);
    v->addWidget(script_, 1);
    message_ = new QLabel(this);
    message_->setWordWrap(true);
    message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    v->addWidget(message_);
    auto* buttons = new QDialogButtonBox(this);
    previewBtn_ = buttons->addButton(tr("Show script"), QDialogButtonBox::ActionRole);
    submitBtn_ = buttons->addButton(tr("Submit"), QDialogButtonBox::AcceptRole);
    buttons->addButton(QDialogButtonBox::Close);
    connect(previewBtn_, &QPushButton::clicked, this, &ClusterDialog::preview);
    connect(submitBtn_, &QPushButton::clicked, this, &ClusterDialog::submit);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    v->addWidget(buttons);
    readSettings();
    if (QStandardPaths::findExecutable(QStringLiteral("sbatch")).isEmpty())
        message_->setText(tr("sbatch is not on PATH: Submit needs a Slurm login node (the script can still be shown)."));
    resize(640, 600);
}

ClusterDialog::~ClusterDialog()
{
    if (proc_) {
        proc_->disconnect(this);
        proc_->kill();
        proc_->waitForFinished(1000);
    }
}

QString ClusterDialog::runDir() const { return QDir::cleanPath(dir_->text().trimmed()); }

QStringList ClusterDialog::submitArgs(const QString& sweepFile, bool dryRun) const
{
    QStringList a{QStringLiteral("slurm"), QStringLiteral("submit"), sweepFile, QStringLiteral("--out"), runDir()};
    if (perConfig_->isChecked())
        a << QStringLiteral("--per-config");
    else
        a << QStringLiteral("--shards") << QString::number(shards_->value());
    auto opt = [&](const char* name, const QLineEdit* e) {
        if (!e->text().trimmed().isEmpty())
            a << QLatin1String(name) << e->text().trimmed();
    };
    opt("--partition", partition_);
    opt("--gres", gres_);
    opt("--time", time_);
    opt("--mem", mem_);
    opt("--account", account_);
    if (cpus_->value() > 0)
        a << QStringLiteral("--cpus-per-task") << QString::number(cpus_->value());
    if (dryRun)
        a << QStringLiteral("--dry-run");
    return a;
}

void ClusterDialog::preview()
{
    if (!proc_)
        launch(true);
}

void ClusterDialog::launch(bool dryRun)
{
    if (runDir().isEmpty() || runDir() == QLatin1String(".")) {
        message_->setText(tr("Choose a run folder first."));
        return;
    }
    QString error;
    const QString sweep = prepare_(runDir(), error);
    if (sweep.isEmpty()) {
        message_->setText(error);
        return;
    }
    writeSettings();
    start(submitArgs(sweep, dryRun), dryRun);
}

void ClusterDialog::submit()
{
    if (proc_)
        return;
    if (script_->toPlainText().isEmpty()) { // the script is always seen before it is submitted
        preview();
        message_->setText(tr("Check the script, then Submit again."));
        return;
    }
    launch(false);
}

void ClusterDialog::start(const QStringList& args, bool dryRun)
{
    proc_ = new QProcess(this);
    setBusy(true);
    message_->setText(dryRun ? tr("Writing the script…") : tr("Submitting…"));
    connect(proc_, &QProcess::finished, this, [this, dryRun](int code, QProcess::ExitStatus st) {
        const QString out = QString::fromUtf8(proc_->readAllStandardOutput());
        const QString err = QString::fromUtf8(proc_->readAllStandardError()).trimmed();
        proc_->deleteLater();
        proc_ = nullptr;
        setBusy(false);
        if (st != QProcess::NormalExit || code != 0) {
            message_->setText(err.isEmpty() ? tr("quantbench-cli exited with %1").arg(code) : err);
            return;
        }
        if (dryRun) {
            script_->setPlainText(out);
            message_->setText(tr("This script is written to %1/job.sbatch and submitted as one array.").arg(runDir()));
            return;
        }
        jobId_ = out.trimmed();
        message_->setText(tr("Submitted job %1.").arg(jobId_));
        Q_EMIT submitted(runDir(), jobId_);
        accept();
    });
    connect(proc_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e != QProcess::FailedToStart || !proc_)
            return;
        proc_->deleteLater();
        proc_ = nullptr;
        setBusy(false);
        message_->setText(tr("Cannot run %1").arg(cli_));
    });
    proc_->start(cli_, args);
}

void ClusterDialog::setBusy(bool busy)
{
    previewBtn_->setEnabled(!busy);
    submitBtn_->setEnabled(!busy);
}

void ClusterDialog::readSettings()
{
    QSettings s;
    s.beginGroup(QStringLiteral("cluster"));
    dir_->setText(s.value(QStringLiteral("runDir")).toString());
    shards_->setValue(s.value(QStringLiteral("shards"), 4).toInt());
    perConfig_->setChecked(s.value(QStringLiteral("perConfig"), false).toBool());
    partition_->setText(s.value(QStringLiteral("partition")).toString());
    gres_->setText(s.value(QStringLiteral("gres")).toString());
    time_->setText(s.value(QStringLiteral("time")).toString());
    cpus_->setValue(s.value(QStringLiteral("cpus"), 0).toInt());
    mem_->setText(s.value(QStringLiteral("mem")).toString());
    account_->setText(s.value(QStringLiteral("account")).toString());
}

void ClusterDialog::writeSettings() const
{
    QSettings s;
    s.beginGroup(QStringLiteral("cluster"));
    s.setValue(QStringLiteral("runDir"), dir_->text());
    s.setValue(QStringLiteral("shards"), shards_->value());
    s.setValue(QStringLiteral("perConfig"), perConfig_->isChecked());
    s.setValue(QStringLiteral("partition"), partition_->text());
    s.setValue(QStringLiteral("gres"), gres_->text());
    s.setValue(QStringLiteral("time"), time_->text());
    s.setValue(QStringLiteral("cpus"), cpus_->value());
    s.setValue(QStringLiteral("mem"), mem_->text());
    s.setValue(QStringLiteral("account"), account_->text());
}

} // namespace qb::ui
