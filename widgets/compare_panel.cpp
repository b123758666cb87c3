#include "compare_panel.h"

#include "plot_layout.h"

#include <qcustomplot.h>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMouseEvent>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <array>
#include <cmath>

#include "blocks/registry.h"
#include "io/report.h"
#include "qt_strings.h"

namespace convscope::gui {
namespace {

QString num(double v, int precision) { return QString::number(v, 'f', precision); }
QString micros(double ns) {
  const double us = ns / 1000.0;
  return num(us, us < 10 ? 2 : 1);
}
/// "1/N + 1/k^2" -> "1/N + 1/k²"
QString pretty_formula(const std::string& formula) {
  QString f = qs(formula);
  f.replace(QLatin1String("^2"), QStringLiteral("²"));
  f.replace(QLatin1String("^3"), QStringLiteral("³"));
  return f;
}
QString params_text(const ir::ParamMap& params) {
  QStringList parts;
  for (const auto& [name, value] : params) parts << qs(name) + QLatin1Char('=') + qs(ir::param_value_str(value));
  return parts.join(QStringLiteral(", "));
}

const QColor kMAddsColour(0x15, 0x65, 0xc0);
const QColor kTheoryColour(0x9e, 0x9e, 0x9e);
const QColor kMeasuredColour(0x2e, 0x7d, 0x32);
const QColor kProblemColour(0x75, 0x75, 0x75);

/// A read-only table cell; numbers are right-aligned.
QTableWidgetItem* cell(const QString& text, bool number = true) {
  auto* item = new QTableWidgetItem(text);
  item->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
  if (number) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
  return item;
}

QSpinBox* spin(QWidget* parent, const char* name, int lo, int hi, int value, const QString& tip) {
  auto* s = new QSpinBox(parent);
  s->setObjectName(QLatin1String(name));
  s->setRange(lo, hi);
  s->setValue(value);
  s->setToolTip(tip);
  return s;
}

}  // namespace

ComparePanel::ComparePanel(Document* doc, QWidget* parent)
    : QWidget(parent),
      doc_(doc),
      height_(spin(this, "height", 1, 4096, 56, tr("Input height (pixels)"))),
      width_(spin(this, "width", 1, 4096, 56, tr("Input width (pixels)"))),
      in_channels_(spin(this, "inChannels", 1, 16384, 64, tr("Input channels M"))),
      out_channels_(spin(this, "outChannels", 1, 16384, 128, tr("Output channels N"))),
      stride_(spin(this, "stride", 1, 8, 1, tr("Stride of every block"))),
      kernel_(spin(this, "kernel", 1, 15, 3, tr("Spatial kernel size k (blocks that have one)"))),
      measure_(new QPushButton(tr("Measure"), this)),
      cancel_(new QPushButton(tr("Cancel"), this)),
      progress_(new QProgressBar(this)),
      status_(new QLabel(this)),
      table_(new QTableWidget(this)),
      plot_(new QCustomPlot(this)),
      group_(new QCPBarsGroup(plot_)),
      runner_(new ProfileRunner(this)) {
  measure_->setObjectName(QStringLiteral("measure"));
  measure_->setToolTip(tr("Time every block's two-node graph on this machine (a few seconds)"));
  cancel_->setObjectName(QStringLiteral("cancel"));
  cancel_->setEnabled(false);
  progress_->setObjectName(QStringLiteral("compareProgress"));
  progress_->setRange(0, 1000);
  progress_->setVisible(false);
  status_->setObjectName(QStringLiteral("compareStatus"));

  // The mapping in two short rows (input; output, stride, kernel), so the panel
  // stays narrow enough for a 1024-pixel window.
  auto* controls = new QGridLayout;
  controls->setHorizontalSpacing(4);
  const auto add = [&](int row, int col, const QString& label, QSpinBox* box) {
    controls->addWidget(new QLabel(label, this), row, col * 2, Qt::AlignRight);
    controls->addWidget(box, row, col * 2 + 1);
  };
  add(0, 0, tr("Input H"), height_);
  add(0, 1, tr("W"), width_);
  add(0, 2, tr("C"), in_channels_);
  add(1, 0, tr("→ C"), out_channels_);
  add(1, 1, tr("stride"), stride_);
  add(1, 2, tr("k"), kernel_);
  out_channels_->setToolTip(tr("output channels"));
  kernel_->setToolTip(tr("kernel size of the standard convolution and the depthwise ones"));
  controls->setColumnStretch(6, 1);
  controls->addWidget(measure_, 0, 7);
  controls->addWidget(cancel_, 1, 7);

  auto* progress_row = new QHBoxLayout;
  progress_row->addWidget(progress_, 1);
  progress_row->addWidget(status_, 2);

  table_->setObjectName(QStringLiteral("compareTable"));
  table_->setColumnCount(kColumnCount);
  table_->setHorizontalHeaderLabels({tr("Block"), tr("Parameters (weights)"), tr("MAdds"), tr("Peak memory"),
                                     tr("MAdds ratio"), tr("Theory ratio"), tr("Measured latency (µs)"),
                                     tr("Measured ratio")});
  const std::array<QString, kColumnCount> header_tips = {
      tr("Block kind configured for this mapping (hover for its parameters and closed form)"),
      tr("Weights of the block (without biases and batch norm)"),
      tr("Multiply-adds per image"),
      tr("Peak activation memory of the two-node graph"),
      tr("MAdds relative to the standard convolution"),
      tr("The paper's closed-form ratio to the standard convolution"),
      tr("Measured network median on this machine"),
      tr("Measured latency relative to the standard convolution")};
  for (int c = 0; c < kColumnCount; ++c)
    table_->horizontalHeaderItem(c)->setToolTip(header_tips[static_cast<std::size_t>(c)]);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->verticalHeader()->setVisible(false);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setStretchLastSection(true);

  plot_->setObjectName(QStringLiteral("comparePlot"));
  plot_->setMouseTracking(true);
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom | QCP::iSelectPlottables);
  plot_->legend->setVisible(true);
  // The legend in a column of its own right of the bars, never over them, and
  // leaving the panel's little height to the bars.
  legend_beside(plot_);
  plot_->yAxis->setLabel(tr("× conv"));
  QFont ticks = plot_->xAxis->tickLabelFont();
  ticks.setPointSizeF(ticks.pointSizeF() * 0.85);  // eight kinds side by side in a narrow chart
  plot_->xAxis->setTickLabelFont(ticks);
  plot_->setMinimumHeight(140);
  group_->setSpacingType(QCPBarsGroup::stAbsolute);
  group_->setSpacing(1);

  // Table and chart side by side in a wide panel, stacked in a tall one (resizeEvent).
  splitter_ = new QSplitter(Qt::Horizontal, this);
  auto* splitter = splitter_;
  splitter->setChildrenCollapsible(false);
  splitter->addWidget(table_);
  splitter->addWidget(plot_);
  splitter->setStretchFactor(0, 1);
  splitter->setStretchFactor(1, 1);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addLayout(progress_row);
  layout->addWidget(splitter, 1);

  for (QSpinBox* box : {height_, width_, in_channels_, out_channels_, stride_, kernel_})
    connect(box, &QSpinBox::valueChanged, this, &ComparePanel::recompute);
  connect(measure_, &QPushButton::clicked, this, &ComparePanel::measure);
  connect(cancel_, &QPushButton::clicked, this, &ComparePanel::cancel);
  connect(runner_, &ProfileRunner::finished, this, &ComparePanel::onFinished);
  connect(runner_, &ProfileRunner::failed, this, &ComparePanel::onFailed);
  connect(runner_, &ProfileRunner::progress, this, &ComparePanel::onProgress);
  connect(plot_, &QCustomPlot::mouseMove, this, &ComparePanel::showHover);

  recompute();
}

ComparePanel::~ComparePanel() {
  // The runner (a child) cancels and waits for its job when deleted; nothing may reach this half-destroyed panel.
  runner_->disconnect(this);
}

int ComparePanel::referenceRow() const {
  const auto& registry = blocks::Registry::builtin();
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    const blocks::BlockKind* kind = registry.find(rows_[i].kind);
    if (rows_[i].ok && kind && kind->info().compare_reference) return static_cast<int>(i);
  }
  return -1;
}

void ComparePanel::recompute() {
  if (measuring_) return;  // the controls are disabled while measuring; keep the rows being measured
  in_ = ir::Shape{height_->value(), width_->value(), in_channels_->value()};
  rows_ = cost::compare_blocks(in_, out_channels_->value(), stride_->value(), kernel_->value());
  measured_ns_.assign(rows_.size(), 0.0);
  failures_.assign(rows_.size(), QString());
  status_->setText(tr("%1 → %2 channels, stride %3, kernel %4")
                       .arg(qs(in_.str()))
                       .arg(out_channels_->value())
                       .arg(stride_->value())
                       .arg(kernel_->value()));
  fillTable();
  fillPlot();
}

void ComparePanel::fillTable() {
  const int ref = referenceRow();
  const double ref_ns = ref >= 0 ? measured_ns_[static_cast<std::size_t>(ref)] : 0.0;
  table_->clearSpans();
  table_->setRowCount(static_cast<int>(rows_.size()));
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    const cost::CompareRow& row = rows_[i];
    const int r = static_cast<int>(i);
    QTableWidgetItem* block = cell(qs(row.title), false);
    QString tip = QStringLiteral("<b>%1</b> <code>%2</code>").arg(qs(row.title).toHtmlEscaped(), qs(row.kind));
    if (!row.params.empty()) tip += QStringLiteral("<br>") + params_text(row.params).toHtmlEscaped();
    if (row.ok) {
      tip += tr("<br>output %1").arg(qs(row.out.str()));
      if (!row.formula.empty()) tip += tr("<br>MAdds = <code>%1</code>").arg(qs(row.formula).toHtmlEscaped());
    }
    block->setToolTip(tip);
    table_->setItem(r, kBlockColumn, block);
    if (!row.ok) {
      QTableWidgetItem* problem = cell(qs(row.problem), false);
      problem->setForeground(kProblemColour);
      problem->setToolTip(qs(row.problem));
      block->setForeground(kProblemColour);
      table_->setItem(r, kWeightsColumn, problem);
      for (int c = kWeightsColumn + 1; c < kColumnCount; ++c) table_->setItem(r, c, cell(QString()));
      table_->setSpan(r, kWeightsColumn, 1, kColumnCount - kWeightsColumn);
      continue;
    }
    table_->setItem(r, kWeightsColumn, cell(qs(io::with_commas(row.totals.weights))));
    QTableWidgetItem* madds = cell(qs(io::human(row.totals.madds)));
    madds->setToolTip(qs(io::with_commas(row.totals.madds)));
    table_->setItem(r, kMAddsColumn, madds);
    QTableWidgetItem* memory = cell(qs(io::human(row.peak_memory_bytes, true)));
    memory->setToolTip(tr("%1 bytes").arg(qs(io::with_commas(row.peak_memory_bytes))));
    table_->setItem(r, kMemoryColumn, memory);
    table_->setItem(r, kMAddsRatioColumn, cell(row.madds_ratio > 0 ? num(row.madds_ratio, 3) : QString()));
    table_->setItem(
        r, kTheoryColumn,
        cell(row.theory.empty() ? QStringLiteral("—")
                                : pretty_formula(row.theory) + QStringLiteral(" = ") + num(row.theory_ratio, 3)));
    const double ns = measured_ns_[i];
    QTableWidgetItem* latency = cell(QString());
    if (ns > 0) {
      latency->setText(micros(ns));
    } else if (!failures_[i].isEmpty()) {
      latency->setText(tr("failed"));
      latency->setToolTip(failures_[i]);
      latency->setForeground(kProblemColour);
    } else if (measuring_ && i == current_) {
      latency->setText(tr("measuring…"));
    }
    table_->setItem(r, kLatencyColumn, latency);
    table_->setItem(r, kMeasuredRatioColumn, cell(ns > 0 && ref_ns > 0 ? num(ns / ref_ns, 3) : QString()));
  }
}

void ComparePanel::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  const Qt::Orientation o = width() > height() * 2 ? Qt::Horizontal : Qt::Vertical;
  if (splitter_->orientation() == o && splitter_->property("arranged").toBool()) return;
  splitter_->setOrientation(o);
  // The table (its numbers) and the chart share the room about evenly.
  const int room = o == Qt::Horizontal ? splitter_->width() : splitter_->height();
  splitter_->setSizes({room * 9 / 20, room * 11 / 20});
  splitter_->setProperty("arranged", true);
}

void ComparePanel::fillPlot() {
  plot_->clearPlottables();
  const int ref = referenceRow();
  const double ref_ns = ref >= 0 ? measured_ns_[static_cast<std::size_t>(ref)] : 0.0;
  const auto make = [this](const QString& name, const QColor& colour) {
    auto* bars = new QCPBars(plot_->xAxis, plot_->yAxis);
    bars->setName(name);
    bars->setWidth(0.27);
    bars->setBrush(colour);
    bars->setPen(QPen(colour.darker(140)));
    bars->setBarsGroup(group_);
    return bars;
  };
  QCPBars* madds = make(tr("MAdds ratio"), kMAddsColour);
  QCPBars* theory = make(tr("Theory ratio"), kTheoryColour);
  QCPBars* measured_bars = make(tr("Measured ratio"), kMeasuredColour);
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  QVector<double> mk, mv, tk, tv, lk, lv;
  double top = 1.0;
  int key = 0;
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    const cost::CompareRow& row = rows_[i];
    if (!row.ok) continue;
    const auto x = static_cast<double>(key++);
    // The short registry name on two lines at most (the title is in the table).
    ticker->addTick(x, qs(row.kind).replace('_', '\n'));
    if (row.madds_ratio > 0) {
      mk << x;
      mv << row.madds_ratio;
      top = std::max(top, row.madds_ratio);
    }
    if (row.theory_ratio > 0) {
      tk << x;
      tv << row.theory_ratio;
      top = std::max(top, row.theory_ratio);
    }
    if (measured_ns_[i] > 0 && ref_ns > 0) {
      lk << x;
      lv << measured_ns_[i] / ref_ns;
      top = std::max(top, measured_ns_[i] / ref_ns);
    }
  }
  madds->setData(mk, mv, true);
  theory->setData(tk, tv, true);
  measured_bars->setData(lk, lv, true);
  plot_->xAxis->setTicker(ticker);
  plot_->xAxis->setRange(-0.6, std::max(key, 1) - 0.4);
  plot_->yAxis->setRange(0, top * 1.08);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ComparePanel::showHover(QMouseEvent* event) {
  const QPointF pos = event->position();
  if (!plot_->axisRect()->rect().contains(pos.toPoint())) {
    QToolTip::hideText();
    return;
  }
  const double key = std::round(plot_->xAxis->pixelToCoord(pos.x()));
  const int ref = referenceRow();
  const double ref_ns = ref >= 0 ? measured_ns_[static_cast<std::size_t>(ref)] : 0.0;
  int k = 0;
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    const cost::CompareRow& row = rows_[i];
    if (!row.ok) continue;
    if (static_cast<double>(k++) != key) continue;
    QString text = QStringLiteral("<b>%1</b><br>").arg(qs(row.title).toHtmlEscaped());
    text += tr("MAdds ratio: %1").arg(num(row.madds_ratio, 3));
    if (!row.theory.empty())
      text += tr("<br>theory: %1 = %2").arg(pretty_formula(row.theory).toHtmlEscaped(), num(row.theory_ratio, 3));
    if (measured_ns_[i] > 0)
      text += tr("<br>measured: %1 µs").arg(micros(measured_ns_[i])) +
              (ref_ns > 0 ? tr(" (ratio %1)").arg(num(measured_ns_[i] / ref_ns, 3)) : QString());
    QToolTip::showText(event->globalPosition().toPoint(), text, plot_);
    return;
  }
  QToolTip::hideText();
}

void ComparePanel::setControlsEnabled(bool enabled) {
  for (QSpinBox* box : {height_, width_, in_channels_, out_channels_, stride_, kernel_}) box->setEnabled(enabled);
  measure_->setEnabled(enabled);
  cancel_->setEnabled(!enabled);
}

void ComparePanel::measure() {
  if (measuring_) return;
  queue_.clear();
  for (std::size_t i = 0; i < rows_.size(); ++i)
    if (rows_[i].ok) queue_.push_back(i);
  std::fill(measured_ns_.begin(), measured_ns_.end(), 0.0);
  std::fill(failures_.begin(), failures_.end(), QString());
  if (queue_.empty()) {
    status_->setText(tr("No block can be measured for this configuration"));
    Q_EMIT measured();
    return;
  }
  total_ = queue_.size();
  measuring_ = true;
  cancelled_ = false;
  setControlsEnabled(false);
  progress_->setValue(0);
  progress_->setVisible(true);
  startNext();
}

void ComparePanel::cancel() {
  if (!measuring_) return;
  cancelled_ = true;
  status_->setText(tr("Cancelling…"));
  if (runner_->busy())
    runner_->cancel();  // `finished` (cancelled) then ends the measurement
  else
    finishMeasuring(tr("Cancelled"));
}

void ComparePanel::startNext() {
  if (cancelled_) {
    finishMeasuring(tr("Cancelled"));
    return;
  }
  if (queue_.empty()) {
    const auto failed =
        std::count_if(failures_.begin(), failures_.end(), [](const QString& f) { return !f.isEmpty(); });
    finishMeasuring(failed > 0
                        ? tr("Measured %1 blocks, %2 failed").arg(total_ - static_cast<std::size_t>(failed)).arg(failed)
                        : tr("Measured %1 blocks (network median of at least 5 runs each)").arg(total_));
    return;
  }
  current_ = queue_.front();
  queue_.erase(queue_.begin());
  const cost::CompareRow& row = rows_[current_];
  ProfileJob job{.graph = cost::compare_graph(in_, row.kind, row.params), .min_runs = 5, .min_seconds = 0.1};
  if (!runner_->start(std::move(job))) {
    finishMeasuring(tr("The profiler is busy"));
    return;
  }
  status_->setText(tr("Measuring %1 (%2 of %3)").arg(qs(row.title)).arg(total_ - queue_.size()).arg(total_));
  fillTable();
}

void ComparePanel::onFinished(const std::shared_ptr<const ProfileData>& result) {
  if (!measuring_) return;
  if (!result || result->result.cancelled)
    cancelled_ = true;
  else
    measured_ns_[current_] = result->result.network_ns.median;
  fillTable();
  fillPlot();
  startNext();
}

void ComparePanel::onFailed(const QString& message) {
  if (!measuring_) return;
  failures_[current_] = message;
  fillTable();
  startNext();
}

void ComparePanel::onProgress(double fraction, const QString& stage) {
  if (!measuring_ || total_ == 0) return;
  const double done = static_cast<double>(total_ - queue_.size() - 1);
  const double overall = std::clamp((done + fraction) / static_cast<double>(total_), 0.0, 1.0);
  progress_->setValue(static_cast<int>(std::lround(overall * 1000.0)));
  progress_->setFormat(stage + QStringLiteral(" %p%"));
}

void ComparePanel::finishMeasuring(const QString& status) {
  measuring_ = false;
  queue_.clear();
  setControlsEnabled(true);
  progress_->setVisible(false);
  status_->setText(status);
  fillTable();
  fillPlot();
  Q_EMIT measured();
}

}  // namespace convscope::gui
