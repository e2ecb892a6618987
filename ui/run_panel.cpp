// The run panel: Run/Cancel buttons, progress bars with ETA and the log.
#include "ui/run_panel.h"

#include "ui/elide.h"

#include <QDateTime>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

namespace qb::ui {

RunPanel::RunPanel(QWidget* parent) : QWidget(parent)
{
    auto* v = new QVBoxLayout(this);
    auto* h = new QHBoxLayout;
    run_ = new QPushButton(tr("Run"), this);
    run_->setObjectName(QStringLiteral("runButton"));
    run_->setIcon(QIcon(QStringLiteral(":/icons/run.svg")));
    cancel_ = new QPushButton(tr("Cancel"), this);
    cancel_->setObjectName(QStringLiteral("cancelButton"));
    cancel_->setIcon(QIcon(QStringLiteral(":/icons/cancel.svg")));
    cancel_->setEnabled(false);
    cluster_ = new QPushButton(tr("Run on cluster…"), this);
    cluster_->setObjectName(QStringLiteral("clusterButton"));
    cluster_->setToolTip(tr("Submit this sweep as a Slurm job array and follow its run folder"));
    h->addWidget(run_);
    h->addWidget(cluster_);
    h->addWidget(cancel_);
    eta_ = new QLabel(this);
    h->addWidget(eta_, 1, Qt::AlignRight);
    v->addLayout(h);
    auto* g = new QGridLayout;
    overall_ = new QProgressBar(this);
    overall_->setObjectName(QStringLiteral("overallProgress"));
    overall_->setRange(0, 1000);
    overall_->setFormat(tr("overall %p%"));
    config_ = new QProgressBar(this);
    config_->setObjectName(QStringLiteral("configProgress"));
    config_->setRange(0, 1000);
    config_->setFormat(tr("config %p%"));
    current_ = new QLabel(tr("idle"), this);
    g->addWidget(new QLabel(tr("Overall"), this), 0, 0);
    g->addWidget(overall_, 0, 1);
    g->addWidget(current_, 1, 0);
    g->addWidget(config_, 1, 1);
    v->addLayout(g);
    log_ = new QPlainTextEdit(this);
    log_->setObjectName(QStringLiteral("log"));
    log_->setReadOnly(true);
    log_->setMaximumBlockCount(5000);
    log_->setMinimumHeight(80);
    v->addWidget(log_, 1);
}

void RunPanel::setRunning(bool running)
{
    running_ = running;
    cancel_->setEnabled(running);
    if (running)
        run_->setEnabled(false);
}

void RunPanel::setRunEnabled(bool enabled, const QString& why)
{
    run_->setEnabled(enabled && !running_);
    run_->setToolTip(enabled ? tr("Run the sweep (Ctrl+R)") : why);
}

void RunPanel::onRunStarted(int total, int alreadyDone)
{
    setRunning(true);
    overall_->setValue(total ? 1000 * alreadyDone / total : 0);
    config_->setValue(0);
    eta_->setText(tr("estimating…"));
}

void RunPanel::onConfigStarted(int index, int total, const QString& config)
{
    current_->setText(QStringLiteral("%1/%2 %3").arg(index + 1).arg(total).arg(config));
    config_->setValue(0);
}

void RunPanel::onProgress(int, double configFraction, double overall, double eta)
{
    config_->setValue(int(configFraction * 1000));
    overall_->setValue(int(overall * 1000));
    if (eta >= 0)
        eta_->setText(tr("ETA %1").arg(eta < 90 ? tr("%1 s").arg(int(eta + 0.5)) : tr("%1 min").arg(eta / 60, 0, 'f', 1)));
}

void RunPanel::onFinished(bool cancelled, const QString& error)
{
    setRunning(false);
    run_->setEnabled(true);
    if (!cancelled && error.isEmpty()) {
        overall_->setValue(1000);
        config_->setValue(1000);
    }
    current_->setText(cancelled ? tr("cancelled") : error.isEmpty() ? tr("done") : tr("failed"));
    eta_->clear();
}

void RunPanel::appendLog(const QString& line)
{
    log_->appendPlainText(QTime::currentTime().toString(QStringLiteral("HH:mm:ss ")) + elided(line));
}

QString RunPanel::logText() const { return log_->toPlainText(); }

} // namespace qb::ui
