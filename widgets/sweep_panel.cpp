#include "sweep_panel.h"

#include "plot_layout.h"

#include <qcustomplot.h>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMouseEvent>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <array>
#include <cmath>
#include <exception>
#include <limits>
#include <utility>

#include "io/graph_json.h"
#include "io/report.h"
#include "kernels/cpu.h"
#include "plots.h"
#include "qt_strings.h"

namespace convscope::gui {
namespace {

/// How close (in pixels) the pointer must be to a scatter point for its tooltip.
constexpr double kHoverPx = 8.0;
/// Larger grids are refused: the table and charts would be unreadable anyway.
constexpr std::size_t kMaxPoints = 20000;
/// Table item roles: the number a cell sorts by, and (first column) the point's index.
constexpr int kSortRole = Qt::UserRole;
constexpr int kIndexRole = Qt::UserRole + 1;

const QColor kParetoColour(0xd3, 0x2f, 0x2f);
const QColor kProblemColour(0x75, 0x75, 0x75);
/// Curve colours, one per α (cycled); red is kept for the Pareto front.
constexpr std::array<QRgb, 9> kCurveColours = {0x1565c0, 0xef6c00, 0x2e7d32, 0x6a1b9a, 0x6d4c41,
                                               0xad1457, 0x546e7a, 0x9e9d24, 0x00838f};
/// Marker shapes, one per parameter combination (cycled).
constexpr std::array<QCPScatterStyle::ScatterShape, 8> kShapes = {QCPScatterStyle::ssCircle,
                                                                  QCPScatterStyle::ssSquare,
                                                                  QCPScatterStyle::ssTriangle,
                                                                  QCPScatterStyle::ssDiamond,
                                                                  QCPScatterStyle::ssTriangleInverted,
                                                                  QCPScatterStyle::ssCross,
                                                                  QCPScatterStyle::ssPlus,
                                                                  QCPScatterStyle::ssStar};

QString num(double v, int precision) { return QString::number(v, 'f', precision); }
QString alpha_text(double a) { return QString::number(a, 'g', 6); }
QString resolution_text(std::int64_t r) { return r > 0 ? QString::number(r) : SweepPanel::tr("as inputs"); }
/// "1 point", "25 points".
QString points_text(std::size_t n) { return n == 1 ? SweepPanel::tr("1 point") : SweepPanel::tr("%1 points").arg(n); }

/// Engine diagnostics, one per line, with the engine's field names (alpha, resolution, param) named after the editors.
QString grid_message(const Diagnostics& diagnostics) {
  QStringList lines;
  for (const auto& d : diagnostics) {
    QString where = qs(d.where);
    if (where == QLatin1String("alpha"))
      where = SweepPanel::tr("α");
    else if (where == QLatin1String("resolution"))
      where = SweepPanel::tr("Resolutions");
    else if (where == QLatin1String("param"))
      where = SweepPanel::tr("Parameter");
    lines << (where.isEmpty() ? qs(d.message) : where + QStringLiteral(": ") + qs(d.message));
  }
  return lines.join(QLatin1Char('\n'));
}

/// A read-only table cell that sorts by its number (kSortRole) when it has one; cells without a
/// number sort after those with one, and among themselves by text.
class SortItem : public QTableWidgetItem {
 public:
  SortItem(const QString& text, std::optional<double> key) : QTableWidgetItem(text) {
    setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
    if (key) {
      setData(kSortRole, *key);
      setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
  }

  bool operator<(const QTableWidgetItem& other) const override {
    const QVariant mine = data(kSortRole), theirs = other.data(kSortRole);
    if (mine.isValid() && theirs.isValid()) return mine.toDouble() < theirs.toDouble();
    if (mine.isValid() != theirs.isValid()) return mine.isValid();
    return text().localeAwareCompare(other.text()) < 0;
  }
};

/// A parameter value as a table cell: numbers sort as numbers.
SortItem* value_item(const ir::ParamValue& value) {
  std::optional<double> key;
  if (const auto* i = std::get_if<std::int64_t>(&value)) key = static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&value)) key = *d;
  return new SortItem(qs(ir::param_value_str(value)), key);
}

/// A chart with a bold title row above its axis rect.
QCustomPlot* make_chart(QWidget* parent, const QString& name, QCPTextElement** title) {
  auto* p = new QCustomPlot(parent);
  p->setObjectName(name);
  p->setMouseTracking(true);
  p->setMinimumSize(300, 140);
  p->plotLayout()->insertRow(0);
  QFont title_font = p->font();
  title_font.setBold(true);
  *title = new QCPTextElement(p, QString(), title_font);
  p->plotLayout()->addElement(0, 0, *title);
  return p;
}

/// Tick labels at 0, 1, ... (every `step`-th, so that long lists stay readable).
QSharedPointer<QCPAxisTickerText> index_ticker(const QStringList& labels) {
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  const int step = std::max(1, static_cast<int>(std::ceil(static_cast<double>(labels.size()) / 16.0)));
  for (int i = 0; i < labels.size(); i += step) ticker->addTick(static_cast<double>(i), labels[i]);
  ticker->setSubTickCount(0);
  return ticker;
}

/// [lo, hi] padded by 5 % of the span (or around a single value), for an axis.
QCPRange padded(double lo, double hi) {
  if (!(hi >= lo)) return {0, 1};
  const double span = hi - lo;
  const double pad = span > 0 ? span * 0.05 : std::max(std::abs(hi) * 0.05, 1e-3);
  return {lo - pad, hi + pad};
}

}  // namespace

SweepPanel::SweepPanel(Document* doc, QWidget* parent)
    : QWidget(parent),
      doc_(doc),
      alphas_(new QLineEdit(QStringLiteral("0.35,0.5,0.75,1.0,1.4"), this)),
      resolutions_(new QLineEdit(QStringLiteral("96:224:32"), this)),
      param_(new QLineEdit(this)),
      measure_(new QCheckBox(tr("Measure latency"), this)),
      threads_(new QSpinBox(this)),
      run_button_(new QPushButton(tr("Run"), this)),
      cancel_button_(new QPushButton(tr("Cancel"), this)),
      export_csv_(new QPushButton(tr("Export CSV…"), this)),
      export_chart_(new QPushButton(tr("Export chart…"), this)),
      progress_(new QProgressBar(this)),
      status_(new QLabel(this)),
      table_(new QTableWidget(this)),
      charts_(new QTabWidget(this)),
      scatter_(make_chart(this, QStringLiteral("sweepScatter"), &scatter_title_)),
      heatmap_(make_chart(this, QStringLiteral("sweepHeatmap"), &heatmap_title_)),
      colour_map_(new QCPColorMap(heatmap_->xAxis, heatmap_->yAxis)),
      colour_scale_(new QCPColorScale(heatmap_)),
      slice_(new QComboBox(this)) {
  alphas_->setObjectName(QStringLiteral("alphas"));
  alphas_->setPlaceholderText(tr("the graph's own α"));
  alphas_->setToolTip(tr("Width multipliers α, separated by commas (each in (0, 16]); empty: the graph's own"));
  resolutions_->setObjectName(QStringLiteral("resolutions"));
  resolutions_->setPlaceholderText(tr("the graph's own"));
  resolutions_->setToolTip(
      tr("Input resolutions: START:STOP:STEP (inclusive) or a list such as 128,160,224; empty: the graph's own"));
  param_->setObjectName(QStringLiteral("param"));
  param_->setPlaceholderText(tr("optional, e.g. inverted_residual.expansion=4,6"));
  param_->setToolTip(
      tr("Block parameters to sweep as NAME=V1,V2, several separated by ';'. NAME is a parameter (every block "
         "that has it), kind.param (every block of that kind) or block_id.param (one block)"));
  measure_->setObjectName(QStringLiteral("measureLatency"));
  measure_->setToolTip(tr("Also time every valid point on this machine (whole network, at least 0.2 s each)"));
  threads_->setObjectName(QStringLiteral("sweepThreads"));
  threads_->setRange(1, std::max(1, kernels::cpu_info().logical_cpus));
  threads_->setPrefix(tr("threads "));
  threads_->setToolTip(tr("Threads per measurement (1 gives the steadiest figures on a shared machine)"));
  run_button_->setObjectName(QStringLiteral("run"));
  run_button_->setToolTip(tr("Evaluate the grid on the current graph"));
  cancel_button_->setObjectName(QStringLiteral("cancel"));
  cancel_button_->setToolTip(tr("Stop measuring; the points measured so far are kept"));
  cancel_button_->setEnabled(false);
  export_csv_->setObjectName(QStringLiteral("exportCsv"));
  export_csv_->setToolTip(tr("Save every point of the last sweep as CSV"));
  export_csv_->setEnabled(false);
  export_chart_->setObjectName(QStringLiteral("exportChart"));
  export_chart_->setToolTip(tr("Save the chart shown as .png, .svg or .pdf"));
  export_chart_->setEnabled(false);
  progress_->setObjectName(QStringLiteral("sweepProgress"));
  progress_->setVisible(false);
  status_->setObjectName(QStringLiteral("sweepStatus"));
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  status_->setText(tr("Set the grid and press Run"));

  auto* grid = new QHBoxLayout;
  grid->addWidget(new QLabel(tr("α"), this));
  grid->addWidget(alphas_, 3);
  grid->addWidget(new QLabel(tr("Resolution"), this));
  grid->addWidget(resolutions_, 2);
  grid->addWidget(new QLabel(tr("Parameter"), this));
  grid->addWidget(param_, 4);

  auto* actions = new QHBoxLayout;
  actions->addWidget(measure_);
  actions->addWidget(threads_);
  actions->addWidget(run_button_);
  actions->addWidget(cancel_button_);
  actions->addWidget(progress_, 1);
  actions->addStretch(0);
  actions->addWidget(export_csv_);
  actions->addWidget(export_chart_);

  table_->setObjectName(QStringLiteral("sweepTable"));
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->verticalHeader()->setVisible(false);
  table_->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->horizontalHeader()->setSortIndicator(0, Qt::AscendingOrder);
  table_->setSortingEnabled(true);
  table_->setToolTip(tr("Double-click a row to open that configuration on the canvas"));

  scatter_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom | QCP::iSelectPlottables);
  scatter_->legend->setVisible(true);
  QFont legend_font = scatter_->legend->font();
  legend_font.setPointSizeF(legend_font.pointSizeF() * 0.9);
  scatter_->legend->setFont(legend_font);
  scatter_->legend->setBrush(QColor(255, 255, 255, 220));
  legend_beside(scatter_);  // off the sweep's points
  scatter_->xAxis->setLabel(tr("MAdds (millions)"));

  // The heat map: one cell per (α, resolution), by index, coloured on a blue-yellow-red scale.
  heatmap_->plotLayout()->addElement(1, 1, colour_scale_);
  colour_scale_->setType(QCPAxis::atRight);
  colour_scale_->setBarWidth(14);
  auto* margins = new QCPMarginGroup(heatmap_);
  heatmap_->axisRect()->setMarginGroup(QCP::msTop | QCP::msBottom, margins);
  colour_scale_->setMarginGroup(QCP::msTop | QCP::msBottom, margins);
  QCPColorGradient gradient;
  gradient.setColorStopAt(0.0, QColor(0x2c, 0x7b, 0xb6));
  gradient.setColorStopAt(0.5, QColor(0xff, 0xf5, 0xb0));
  gradient.setColorStopAt(1.0, QColor(0xd7, 0x19, 0x1c));
  gradient.setNanHandling(QCPColorGradient::nhNanColor);
  gradient.setNanColor(QColor(0xe0, 0xe0, 0xe0));
  colour_map_->setColorScale(colour_scale_);  // the scale's gradient and range now drive the map
  colour_scale_->setGradient(gradient);
  colour_map_->setInterpolate(false);
  colour_map_->setTightBoundary(true);
  colour_map_->setName(tr("Heat map"));
  heatmap_->xAxis->setLabel(tr("Width multiplier α"));
  heatmap_->yAxis->setLabel(tr("Resolution (px)"));
  heatmap_->xAxis->grid()->setVisible(false);
  heatmap_->yAxis->grid()->setVisible(false);

  slice_->setObjectName(QStringLiteral("heatmapSlice"));
  slice_->setToolTip(tr("The parameter values the heat map shows"));
  auto* heat_page = new QWidget(this);
  auto* heat_layout = new QVBoxLayout(heat_page);
  heat_layout->setContentsMargins(0, 0, 0, 0);
  auto* slice_row = new QHBoxLayout;
  auto* slice_label = new QLabel(tr("Parameter values:"), heat_page);
  slice_label->setObjectName(QStringLiteral("heatmapSliceLabel"));
  slice_row->addWidget(slice_label);
  slice_row->addWidget(slice_, 1);
  heat_layout->addLayout(slice_row);
  heat_layout->addWidget(heatmap_, 1);
  slice_->setVisible(false);
  slice_label->setVisible(false);

  charts_->addTab(scatter_, tr("Latency vs MAdds"));
  charts_->addTab(heat_page, tr("Heat map"));

  auto* splitter = new QSplitter(Qt::Horizontal, this);
  splitter->addWidget(table_);
  splitter->addWidget(charts_);
  splitter->setStretchFactor(0, 2);
  splitter->setStretchFactor(1, 3);
  splitter->setSizes({400, 600});

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(grid);
  layout->addLayout(actions);
  layout->addWidget(status_);
  layout->addWidget(splitter, 1);

  connect(run_button_, &QPushButton::clicked, this, [this] { (void)run(); });
  connect(cancel_button_, &QPushButton::clicked, this, &SweepPanel::cancel);
  // Results follow the counting convention (costs recomputed, measured times kept)
  // and are cleared when another design is opened.
  connect(doc_, &Document::analysisOptionsChanged, this, &SweepPanel::recount);
  connect(doc_, &Document::replaced, this, &SweepPanel::clearResults);
  for (QLineEdit* edit : {alphas_, resolutions_, param_})
    connect(edit, &QLineEdit::returnPressed, this, [this] {
      if (!running()) (void)run();
    });
  connect(export_csv_, &QPushButton::clicked, this, &SweepPanel::exportCsvDialog);
  connect(export_chart_, &QPushButton::clicked, this, &SweepPanel::exportChartDialog);
  connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
    if (const QTableWidgetItem* item = table_->item(row, 0)) {
      const QVariant index = item->data(kIndexRole);
      if (index.isValid()) (void)openPoint(static_cast<std::size_t>(index.toULongLong()));
    }
  });
  connect(slice_, &QComboBox::currentIndexChanged, this, [this](int) { fillHeatmap(); });
  connect(scatter_, &QCustomPlot::mouseMove, this, [this](QMouseEvent* e) { showHover(kScatterTab, e); });
  connect(heatmap_, &QCustomPlot::mouseMove, this, [this](QMouseEvent* e) { showHover(kHeatmapTab, e); });
  connect(scatter_, &QCustomPlot::plottableClick, this,
          [this](QCPAbstractPlottable*, int, QMouseEvent* e) { openAt(kScatterTab, e); });
  connect(heatmap_, &QCustomPlot::mouseDoubleClick, this, [this](QMouseEvent* e) { openAt(kHeatmapTab, e); });

  // Delivered on the UI thread once the worker has ended, so a receiver may start the next run at once.
  connect(&job_, &Job::finished, this, [this](const QString& error) {
    if (!error.isEmpty()) work_error_ = tr("Measuring %1").arg(error);
    onMeasured();
  });
  refresh();
}

SweepPanel::~SweepPanel() = default;  // job_ (the last member) cancels the measurement and waits for it

QCustomPlot* SweepPanel::chart(int tab) const {
  if (tab == kScatterTab) return scatter_;
  if (tab == kHeatmapTab) return heatmap_;
  return nullptr;
}

QString SweepPanel::statusText() const { return status_->text(); }

void SweepPanel::setGrid(const QString& alphas, const QString& resolutions, const QString& param, bool measure) {
  alphas_->setText(alphas);
  resolutions_->setText(resolutions);
  param_->setText(param);
  measure_->setChecked(measure);
}

void SweepPanel::setStatus(const QString& text, bool error) {
  status_->setText(text);
  status_->setStyleSheet(error ? QStringLiteral("color: #c62828") : QString());
}

void SweepPanel::setControlsEnabled(bool enabled) {
  for (QWidget* w : std::initializer_list<QWidget*>{alphas_, resolutions_, param_, measure_, threads_, run_button_})
    w->setEnabled(enabled);
  cancel_button_->setEnabled(!enabled);
}

std::optional<sweep::Spec> SweepPanel::parseGrid(QString* error) const {
  sweep::Spec result;
  if (const QString text = alphas_->text().trimmed(); !text.isEmpty()) {
    auto alphas = sweep::parse_alphas(text.toStdString());
    if (!alphas) {
      *error = grid_message(alphas.error());
      return std::nullopt;
    }
    result.alphas = std::move(*alphas);
  }
  if (const QString text = resolutions_->text().trimmed(); !text.isEmpty()) {
    auto resolutions = sweep::parse_resolutions(text.toStdString());
    if (!resolutions) {
      *error = grid_message(resolutions.error());
      return std::nullopt;
    }
    result.resolutions = std::move(*resolutions);
  }
  for (const QString& part : param_->text().split(QLatin1Char(';'), Qt::SkipEmptyParts)) {
    const QString text = part.trimmed();
    if (text.isEmpty()) continue;
    auto axis = sweep::parse_param_axis(text.toStdString());
    if (!axis) {
      *error = grid_message(axis.error());
      return std::nullopt;
    }
    result.params.push_back(std::move(*axis));
  }
  // The grid's size, saturating, before anything is evaluated.
  double count = static_cast<double>(std::max<std::size_t>(result.alphas.size(), 1)) *
                 static_cast<double>(std::max<std::size_t>(result.resolutions.size(), 1));
  for (const auto& axis : result.params) count *= static_cast<double>(axis.values.size());
  if (count > static_cast<double>(kMaxPoints)) {
    *error = tr("The grid has %1 points; at most %2 can be swept at once").arg(count, 0, 'f', 0).arg(kMaxPoints);
    return std::nullopt;
  }
  return result;
}

bool SweepPanel::run() {
  if (running()) {
    setStatus(tr("A sweep is measuring: cancel it before starting another"), true);
    return false;
  }
  QString error;
  std::optional<sweep::Spec> grid = parseGrid(&error);
  if (grid) {
    if (auto ok = sweep::check(doc_->graph(), *grid); !ok) {
      error = grid_message(ok.error());
      grid.reset();
    }
  }
  if (!grid) {
    setStatus(tr("Grid refused: %1").arg(error), true);
    Q_EMIT finished(false);
    return false;
  }

  graph_ = doc_->graph();
  spec_ = std::move(*grid);
  measured_ = measure_->isChecked();
  points_ = sweep::evaluate(graph_, spec_, doc_->analysisOptions(),
                            doc_->latencyModel() ? &*doc_->latencyModel() : nullptr);
  indexGrid();
  fillSliceChoices();
  analyse();
  refresh();

  const auto invalid = static_cast<std::size_t>(
      std::count_if(points_.begin(), points_.end(), [](const sweep::Point& p) { return !p.valid; }));
  if (!measured_) {
    const auto front = static_cast<std::size_t>(
        std::count_if(points_.begin(), points_.end(), [](const sweep::Point& p) { return p.pareto; }));
    QString text = tr("%1 evaluated").arg(points_text(points_.size()));
    if (invalid > 0) text += tr(", %1 invalid (see Problem)").arg(invalid);
    text += anyPredicted() ? tr("; Pareto front of predicted latency against parameters: %1").arg(points_text(front))
                           : tr("; Pareto front of MAdds against parameters: %1").arg(points_text(front));
    setStatus(text);
    Q_EMIT finished(true);
    return true;
  }
  startMeasuring();
  return true;
}

void SweepPanel::startMeasuring() {
  const auto total = static_cast<std::size_t>(
      std::count_if(points_.begin(), points_.end(), [](const sweep::Point& p) { return p.valid && !p.median_ms; }));
  work_points_ = points_;
  work_complete_ = false;
  work_error_.clear();
  progress_->setRange(0, static_cast<int>(std::max<std::size_t>(total, 1)));
  progress_->setValue(0);
  progress_->setFormat(tr("%v of %m points"));
  progress_->setVisible(true);
  setControlsEnabled(false);
  setStatus(tr("Measuring %1 (the costs are shown meanwhile)…").arg(points_text(total)));

  measured_threads_ = threads_->value();
  job_.start([this, graph = graph_, grid = spec_, threads = measured_threads_](const std::atomic<bool>& cancel,
                                                                                const Job::Progress&) {
    sweep::MeasureOptions options;
    options.threads = threads;
    options.cancel = &cancel;
    options.progress = [this](std::size_t done, std::size_t count) {
      QMetaObject::invokeMethod(
          this, [this, done, count] { onProgress(done, count); }, Qt::QueuedConnection);
    };
    work_complete_ = sweep::measure(graph, grid, work_points_, options);
  });
}

void SweepPanel::onProgress(std::size_t done, std::size_t total) {
  if (!running() || job_.cancelled()) return;
  progress_->setRange(0, static_cast<int>(std::max<std::size_t>(total, 1)));
  progress_->setValue(static_cast<int>(done));
  setStatus(tr("Measuring: %1 of %2 done…").arg(done).arg(points_text(total)));
}

void SweepPanel::recount() {
  if (points_.empty() || running()) return;
  std::vector<sweep::Point> fresh = sweep::evaluate(graph_, spec_, doc_->analysisOptions(),
                                                    doc_->latencyModel() ? &*doc_->latencyModel() : nullptr);
  if (fresh.size() != points_.size()) return;
  for (std::size_t i = 0; i < fresh.size(); ++i) {
    fresh[i].median_ms = points_[i].median_ms;
    fresh[i].min_ms = points_[i].min_ms;
    fresh[i].p90_ms = points_[i].p90_ms;
  }
  points_ = std::move(fresh);
  analyse();
  refresh();
  setStatus(tr("Costs recounted under the %1 convention").arg(qs(doc_->analysisOptions().convention.name)));
}

void SweepPanel::clearResults() {
  if (running()) {
    // The measurement belongs to the design that was replaced: stop it; its points are dropped when it ends.
    cancel();
    drop_results_ = true;
    return;
  }
  if (points_.empty()) return;
  points_.clear();
  refresh();
  setStatus(tr("Results cleared: another design was opened"));
}

void SweepPanel::cancel() {
  if (!running()) return;
  job_.cancel();
  cancel_button_->setEnabled(false);
  setStatus(tr("Cancelling…"));
}

void SweepPanel::onMeasured() {
  const bool cancelled = job_.cancelled() || !work_complete_;
  points_ = std::move(work_points_);
  work_points_.clear();
  const bool dropped = drop_results_;
  if (dropped) {
    drop_results_ = false;
    points_.clear();
  }
  analyse();
  refresh();
  progress_->setVisible(false);
  setControlsEnabled(true);
  if (dropped) {
    setStatus(tr("Results cleared: another design was opened"));
    Q_EMIT finished(false);
    return;
  }

  std::size_t valid = 0, timed = 0, front = 0;
  for (const auto& p : points_) {
    valid += p.valid ? 1 : 0;
    timed += p.median_ms ? 1 : 0;
    front += p.pareto ? 1 : 0;
  }
  if (!work_error_.isEmpty()) {
    setStatus(tr("%1; %2 of %3 were measured before").arg(work_error_).arg(timed).arg(points_text(valid)), true);
  } else if (cancelled) {
    setStatus(tr("Cancelled: %1 of %2 measured (shown); Pareto front among them: %3")
                  .arg(timed)
                  .arg(points_text(valid), points_text(front)));
  } else {
    QString text =
        tr("Measured %1 at %n thread(s); Pareto front of latency against parameters: %2", nullptr, measured_threads_)
            .arg(points_text(timed), points_text(front));
    if (timed < valid) text += tr("; %1 could not be run (see Problem)").arg(valid - timed);
    setStatus(text);
  }
  Q_EMIT finished(work_error_.isEmpty() && !cancelled);
}

bool SweepPanel::anyMeasured() const {
  return std::any_of(points_.begin(), points_.end(), [](const sweep::Point& p) { return p.median_ms.has_value(); });
}

bool SweepPanel::anyPredicted() const {
  return std::any_of(points_.begin(), points_.end(), [](const sweep::Point& p) { return p.predicted_ms.has_value(); });
}

std::optional<double> SweepPanel::shownLatency(const sweep::Point& p) const {
  if (anyMeasured()) return p.median_ms;
  return p.predicted_ms;
}

void SweepPanel::analyse() {
  sweep::fill_laws(points_);
  // The engine's rule: latency among measured points only, the predicted latency
  // when none is measured, MAdds when nothing is predicted either.
  sweep::mark_pareto(points_, sweep::Metric::Latency, sweep::Metric::Params);
}

void SweepPanel::indexGrid() {
  alpha_values_.clear();
  resolution_values_.clear();
  combo_names_.clear();
  cells_.clear();
  cells_.reserve(points_.size());
  const auto position = [](auto& list, const auto& value) {
    const auto it = std::find(list.begin(), list.end(), value);
    if (it != list.end()) return static_cast<std::size_t>(it - list.begin());
    list.push_back(value);
    return list.size() - 1;
  };
  // Axes are named by their parameter alone ("expansion") unless two axes share it.
  axis_names_.clear();
  for (const auto& axis : spec_.params) {
    const QString selector = qs(axis.selector);
    axis_names_.push_back(selector.section(QLatin1Char('.'), -1));
  }
  for (std::size_t a = 0; a < axis_names_.size(); ++a)
    if (std::count(axis_names_.begin(), axis_names_.end(), axis_names_[a]) > 1)
      axis_names_[a] = qs(spec_.params[a].selector);
  for (std::size_t a = 0; a < axis_names_.size(); ++a)
    if (axis_names_[a].isEmpty()) axis_names_[a] = qs(spec_.params[a].selector);
  for (const auto& p : points_)
    cells_.push_back(Cell{position(alpha_values_, p.alpha), position(resolution_values_, p.resolution),
                          position(combo_names_, valuesText(p))});
}

QString SweepPanel::valuesText(const sweep::Point& p) const {
  QStringList parts;
  for (std::size_t a = 0; a < p.values.size() && a < axis_names_.size(); ++a)
    parts << axis_names_[a] + QLatin1Char('=') + qs(ir::param_value_str(p.values[a]));
  return parts.join(QStringLiteral(", "));
}

void SweepPanel::fillSliceChoices() {
  const QSignalBlocker block(slice_);
  slice_->clear();
  for (const QString& name : combo_names_) slice_->addItem(name);
  const bool visible = combo_names_.size() > 1 || !spec_.params.empty();
  slice_->setVisible(visible);
  if (auto* label = findChild<QLabel*>(QStringLiteral("heatmapSliceLabel"))) label->setVisible(visible);
}

QString SweepPanel::pointTitle(const sweep::Point& p) const {
  QString title = tr("α %1").arg(alpha_text(p.alpha));
  title += p.resolution > 0 ? tr(", %1 px").arg(p.resolution) : tr(", inputs' resolution");
  if (const QString values = valuesText(p); !values.isEmpty()) title += QStringLiteral(", ") + values;
  return title;
}

QString SweepPanel::pointTooltip(std::size_t index) const {
  const sweep::Point& p = points_[index];
  QString text = QStringLiteral("<b>%1</b>").arg(pointTitle(p).toHtmlEscaped());
  if (!p.valid) {
    return text + tr("<br>invalid: %1").arg(qs(p.problem).toHtmlEscaped());
  }
  text += tr("<br>parameters: %1").arg(qs(io::with_commas(p.params)));
  text += tr("<br>MAdds: %1 (%2)").arg(qs(io::human(p.madds)), qs(io::with_commas(p.madds)));
  text += tr("<br>peak memory: %1").arg(qs(io::human(p.peak_memory_bytes, true)));
  if (p.predicted_ms)
    text += tr("<br>predicted: %1 ms%2").arg(num(*p.predicted_ms, 3), p.extrapolated ? tr(" (extrapolated)") : QString());
  if (auto e = p.prediction_error()) text += tr("<br>measured / predicted − 1: %1 %").arg(num(*e * 100, 1));
  if (p.median_ms) {
    text += tr("<br>median: %1 ms").arg(num(*p.median_ms, 3));
    if (p.min_ms && p.p90_ms) text += tr(" (min %1, p90 %2)").arg(num(*p.min_ms, 3), num(*p.p90_ms, 3));
  } else if (measured_) {
    text += p.problem.empty() ? tr("<br>not measured") : tr("<br>not run: %1").arg(qs(p.problem).toHtmlEscaped());
  }
  text += tr("<br>MAdds law: %1, params law: %2").arg(num(p.madds_law, 3), num(p.params_law, 3));
  if (p.latency_law > 0) text += tr(", latency law: %1").arg(num(p.latency_law, 3));
  if (p.pareto) text += tr("<br><b>on the Pareto front</b>");
  return text;
}

void SweepPanel::refresh() {
  fillTable();
  fillScatter();
  fillHeatmap();
  export_csv_->setEnabled(!points_.empty());
  export_chart_->setEnabled(!points_.empty());
}

void SweepPanel::fillTable() {
  table_->setSortingEnabled(false);
  table_->clearContents();
  const bool timed = measured_;
  QStringList headers{tr("α"), tr("Resolution")};
  QStringList tips{tr("Width multiplier"), tr("Input resolution (px)")};
  for (std::size_t a = 0; a < spec_.params.size() && a < axis_names_.size(); ++a) {
    headers << axis_names_[a];
    tips << tr("Swept block parameter %1").arg(qs(spec_.params[a].selector));
  }
  headers << tr("Parameters") << tr("MAdds") << tr("Peak memory");
  tips << tr("Weights and biases") << tr("Multiply-adds per image") << tr("Peak activation memory");
  const bool predicted = anyPredicted();
  if (predicted) {
    headers << tr("Predicted (ms)");
    tips << (doc_->latencyModel() ? tr("Predicted by the %1").arg(qs(doc_->latencyModel()->describe()))
                                  : tr("Predicted by the latency model"));
  }
  if (timed) {
    headers << tr("Median (ms)");
    tips << tr("Measured whole-network median on this machine");
    if (predicted) {
      headers << tr("Error");
      tips << tr("Measured / predicted − 1");
    }
  }
  headers << tr("MAdds law") << tr("Params law") << tr("Latency law") << tr("Pareto") << tr("Problem");
  tips << tr("(MAdds / MAdds_ref) / ((α/α_ref)² (ρ/ρ_ref)²), relative to the largest α and resolution: 1 when "
             "the law holds")
       << tr("(params / params_ref) / (α/α_ref)²: 1 when the law holds")
       << tr("(latency / latency_ref) / (MAdds / MAdds_ref): 1 when latency follows MAdds")
       << (timed ? tr("On the Pareto front of latency against parameters")
                 : tr("On the Pareto front of MAdds against parameters"))
       << tr("Why the point is invalid or could not be run");
  table_->setColumnCount(static_cast<int>(headers.size()));
  table_->setHorizontalHeaderLabels(headers);
  for (int c = 0; c < headers.size(); ++c) table_->horizontalHeaderItem(c)->setToolTip(tips[c]);
  table_->setRowCount(static_cast<int>(points_.size()));

  for (std::size_t i = 0; i < points_.size(); ++i) {
    const sweep::Point& p = points_[i];
    const int row = static_cast<int>(i);
    int column = 0;
    const auto put = [&](SortItem* item) {
      if (!p.valid) item->setForeground(kProblemColour);
      table_->setItem(row, column++, item);
      return item;
    };
    SortItem* first = put(new SortItem(alpha_text(p.alpha), p.alpha));
    first->setData(kIndexRole, QVariant::fromValue<qulonglong>(i));
    first->setToolTip(pointTooltip(i) + tr("<br><i>double-click the row to open it on the canvas</i>"));
    put(new SortItem(resolution_text(p.resolution), static_cast<double>(p.resolution)));
    for (const auto& value : p.values) put(value_item(value));
    put(new SortItem(qs(io::with_commas(p.params)), static_cast<double>(p.params)));
    put(new SortItem(qs(io::human(p.madds)), static_cast<double>(p.madds)))->setToolTip(qs(io::with_commas(p.madds)));
    put(new SortItem(qs(io::human(p.peak_memory_bytes, true)), static_cast<double>(p.peak_memory_bytes)))
        ->setToolTip(tr("%1 bytes").arg(qs(io::with_commas(p.peak_memory_bytes))));
    if (predicted)
      put(p.predicted_ms
              ? new SortItem(num(*p.predicted_ms, 3) + (p.extrapolated ? QStringLiteral("*") : QString()), *p.predicted_ms)
              : new SortItem(QString(), std::nullopt));
    if (timed) {
      SortItem* median = p.median_ms ? put(new SortItem(num(*p.median_ms, 3), *p.median_ms))
                                     : put(new SortItem(QString(), std::nullopt));
      if (p.median_ms && p.min_ms && p.p90_ms)
        median->setToolTip(tr("min %1 ms, p90 %2 ms").arg(num(*p.min_ms, 3), num(*p.p90_ms, 3)));
      if (predicted) {
        const auto e = p.prediction_error();
        put(e ? new SortItem(QStringLiteral("%1%2 %").arg(*e >= 0 ? "+" : "").arg(num(*e * 100, 1)), *e)
              : new SortItem(QString(), std::nullopt));
      }
    }
    const auto law = [&](double v, bool shown) {
      put(shown ? new SortItem(num(v, 3), v) : new SortItem(QString(), std::nullopt));
    };
    law(p.madds_law, p.valid);
    law(p.params_law, p.valid);
    law(p.latency_law, p.latency_law > 0);
    SortItem* pareto = put(new SortItem(p.pareto ? QStringLiteral("✓") : QString(), p.pareto ? 1.0 : 0.0));
    pareto->setTextAlignment(Qt::AlignCenter);
    if (p.pareto) pareto->setForeground(kParetoColour);
    SortItem* problem = put(new SortItem(qs(p.problem), std::nullopt));
    if (!p.problem.empty()) problem->setToolTip(qs(p.problem));
  }
  table_->setSortingEnabled(true);
  table_->resizeColumnsToContents();
}

void SweepPanel::fillScatter() {
  QCustomPlot* p = scatter_;
  p->clearPlottables();
  scatter_hover_.clear();
  const bool measured_latency = anyMeasured();
  const bool latency = measured_latency || anyPredicted();
  const std::size_t n_combos = std::max<std::size_t>(combo_names_.size(), 1);
  // One curve per α and parameter combination (markers tell the combinations apart).
  std::vector<QVector<double>> xs(alpha_values_.size() * n_combos), ys(xs.size());
  QVector<double> front_x, front_y;
  double xlo = std::numeric_limits<double>::max(), xhi = std::numeric_limits<double>::lowest();
  double ylo = xlo, yhi = xhi;
  std::size_t shown = 0, valid = 0;
  for (std::size_t i = 0; i < points_.size(); ++i) {
    const sweep::Point& point = points_[i];
    if (!point.valid) continue;
    ++valid;
    const auto shown_latency = shownLatency(point);
    if (latency && !shown_latency) continue;
    const double x = static_cast<double>(point.madds) / 1e6;
    const double y = latency ? *shown_latency : static_cast<double>(point.params) / 1e6;
    const std::size_t curve = cells_[i].alpha * n_combos + cells_[i].combo;
    xs[curve] << x;
    ys[curve] << y;
    if (point.pareto) {
      front_x << x;
      front_y << y;
    }
    scatter_hover_.push_back({x, y, i});
    xlo = std::min(xlo, x);
    xhi = std::max(xhi, x);
    ylo = std::min(ylo, y);
    yhi = std::max(yhi, y);
    ++shown;
  }
  for (std::size_t curve = 0; curve < xs.size(); ++curve) {
    if (xs[curve].isEmpty()) continue;
    const std::size_t a = curve / n_combos, combo = curve % n_combos;
    const QColor colour = QColor::fromRgb(kCurveColours[a % kCurveColours.size()]);
    QCPGraph* g = p->addGraph();
    QString name = tr("α %1").arg(alpha_text(alpha_values_[a]));
    if (combo < combo_names_.size() && !combo_names_[combo].isEmpty())
      name += QStringLiteral(" · ") + combo_names_[combo];
    g->setName(name);
    g->setPen(QPen(colour, 1.5));
    g->setLineStyle(QCPGraph::lsLine);
    g->setScatterStyle(QCPScatterStyle(kShapes[combo % kShapes.size()], colour.darker(120), colour, 7));
    g->setData(xs[curve], ys[curve]);
  }
  if (!front_x.isEmpty()) {
    QCPGraph* front = p->addGraph();
    front->setName(tr("Pareto front"));
    front->setLineStyle(QCPGraph::lsNone);
    QColor fill = kParetoColour;
    fill.setAlpha(70);
    front->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(kParetoColour, 2), fill, 14));
    front->setData(front_x, front_y);
  }
  p->legend->setVisible(p->graphCount() > 0 && p->graphCount() <= 24);
  p->xAxis->setRange(shown > 0 ? padded(xlo, xhi) : QCPRange(0, 1));
  p->yAxis->setRange(shown > 0 ? padded(ylo, yhi) : QCPRange(0, 1));

  if (points_.empty()) {
    scatter_title_->setText(tr("Run a sweep to see its points"));
    p->yAxis->setLabel(QString());
  } else if (latency) {
    p->yAxis->setLabel(measured_latency ? tr("Median latency (ms)") : tr("Predicted latency (ms)"));
    QString title = measured_latency ? tr("Measured latency against MAdds") : tr("Predicted latency against MAdds");
    if (shown < valid) title += tr(" (%1 of %2 measured)").arg(shown).arg(valid);
    scatter_title_->setText(
        title + QLatin1Char('\n') +
        tr("Pareto front (latency vs params): %1 of %2").arg(front_x.size()).arg(points_text(shown)));
  } else {
    p->yAxis->setLabel(tr("Parameters (millions)"));
    scatter_title_->setText(tr("Parameters against MAdds (latency not measured)") + QLatin1Char('\n') +
                            tr("Pareto front (MAdds vs params): %1 of %2").arg(front_x.size()).arg(points_text(shown)));
  }
  p->replot(QCustomPlot::rpQueuedReplot);
}

void SweepPanel::fillHeatmap() {
  const bool measured_latency = anyMeasured();
  const bool latency = measured_latency || anyPredicted();
  const std::size_t nx = alpha_values_.size(), ny = resolution_values_.size();
  const std::size_t combo = slice_->currentIndex() > 0 ? static_cast<std::size_t>(slice_->currentIndex()) : 0;
  heatmap_cells_.assign(nx * ny, std::nullopt);
  for (std::size_t i = 0; i < points_.size() && i < cells_.size(); ++i)
    if (cells_[i].combo == combo) heatmap_cells_[cells_[i].alpha * ny + cells_[i].resolution] = i;

  QCPColorMapData* map_data = colour_map_->data();
  const int kx = static_cast<int>(std::max<std::size_t>(nx, 1)), ky = static_cast<int>(std::max<std::size_t>(ny, 1));
  map_data->setSize(kx, ky);
  map_data->setRange(QCPRange(-0.5, kx - 0.5), QCPRange(-0.5, ky - 0.5));
  map_data->fill(std::numeric_limits<double>::quiet_NaN());
  double lo = std::numeric_limits<double>::max(), hi = std::numeric_limits<double>::lowest();
  for (std::size_t a = 0; a < nx; ++a)
    for (std::size_t r = 0; r < ny; ++r) {
      const auto& index = heatmap_cells_[a * ny + r];
      if (!index) continue;
      const sweep::Point& p = points_[*index];
      const auto shown_latency = shownLatency(p);
      if (!p.valid || (latency && !shown_latency)) continue;
      const double z = latency ? *shown_latency : static_cast<double>(p.madds) / 1e6;
      map_data->setCell(static_cast<int>(a), static_cast<int>(r), z);
      lo = std::min(lo, z);
      hi = std::max(hi, z);
    }
  if (!(hi >= lo)) {
    lo = 0;
    hi = 1;
  } else if (hi == lo) {
    const double pad = std::max(std::abs(hi) * 0.05, 1e-3);
    lo -= pad;
    hi += pad;
  }
  colour_map_->setDataRange(QCPRange(lo, hi));
  colour_scale_->axis()->setLabel(measured_latency ? tr("Median latency (ms)")
                                  : latency        ? tr("Predicted latency (ms)")
                                                   : tr("MAdds (millions)"));

  QStringList alpha_labels, resolution_labels;
  for (double a : alpha_values_) alpha_labels << alpha_text(a);
  for (std::int64_t r : resolution_values_) resolution_labels << resolution_text(r);
  heatmap_->xAxis->setTicker(index_ticker(alpha_labels));
  heatmap_->yAxis->setTicker(index_ticker(resolution_labels));
  heatmap_->xAxis->setRange(-0.5, kx - 0.5);
  heatmap_->yAxis->setRange(-0.5, ky - 0.5);

  if (points_.empty()) {
    heatmap_title_->setText(tr("Run a sweep to see its heat map"));
  } else {
    QString title = measured_latency ? tr("Median latency by α and resolution")
                    : latency        ? tr("Predicted latency by α and resolution")
                                     : tr("MAdds by α and resolution");
    title += QLatin1Char('\n') + (measured_latency ? tr("grey: invalid or not measured")
                                  : latency        ? tr("not measured yet; grey: invalid")
                                                   : tr("latency not measured; grey: invalid"));
    heatmap_title_->setText(title);
  }
  heatmap_->replot(QCustomPlot::rpQueuedReplot);
}

std::optional<std::size_t> SweepPanel::pointAt(int tab, QPointF pos) const {
  const QCustomPlot* p = chart(tab);
  if (!p || !p->axisRect()->rect().contains(pos.toPoint())) return std::nullopt;
  if (tab == kHeatmapTab) {
    const double x = std::round(p->xAxis->pixelToCoord(pos.x()));
    const double y = std::round(p->yAxis->pixelToCoord(pos.y()));
    const auto nx = static_cast<double>(alpha_values_.size()), ny = static_cast<double>(resolution_values_.size());
    if (x < 0 || y < 0 || x >= nx || y >= ny) return std::nullopt;
    return heatmap_cells_[static_cast<std::size_t>(x) * resolution_values_.size() + static_cast<std::size_t>(y)];
  }
  std::optional<std::size_t> best;
  double best_distance = kHoverPx;
  for (const auto& point : scatter_hover_) {
    const double dx = p->xAxis->coordToPixel(point.key) - pos.x();
    const double dy = p->yAxis->coordToPixel(point.value) - pos.y();
    const double d = std::hypot(dx, dy);
    if (d <= best_distance) {
      best_distance = d;
      best = point.index;
    }
  }
  return best;
}

void SweepPanel::showHover(int tab, QMouseEvent* event) {
  if (const auto index = pointAt(tab, event->position()); index && *index < points_.size())
    QToolTip::showText(
        event->globalPosition().toPoint(),
        pointTooltip(*index) + (tab == kHeatmapTab ? tr("<br><i>double-click to open it on the canvas</i>")
                                                   : tr("<br><i>click to open it on the canvas</i>")),
        chart(tab));
  else
    QToolTip::hideText();
}

void SweepPanel::openAt(int tab, QMouseEvent* event) {
  if (const auto index = pointAt(tab, event->position())) (void)openPoint(*index);
}

bool SweepPanel::openPoint(std::size_t index) {
  if (index >= points_.size()) return false;
  const sweep::Point& p = points_[index];
  QString text = p.resolution > 0 ? tr("Sweep point α %1, %2 px").arg(alpha_text(p.alpha)).arg(p.resolution)
                                  : tr("Sweep point α %1").arg(alpha_text(p.alpha));
  if (const QString values = valuesText(p); !values.isEmpty()) text += QStringLiteral(", ") + values;
  doc_->apply(text, sweep::apply(graph_, spec_, p));
  // Show the point's row as well (the table may be sorted).
  for (int row = 0; row < table_->rowCount(); ++row) {
    const QTableWidgetItem* item = table_->item(row, 0);
    if (item && item->data(kIndexRole).toULongLong() == index) {
      table_->selectRow(row);
      table_->scrollToItem(item);
      break;
    }
  }
  setStatus(tr("Opened %1 on the canvas (Undo returns to the previous design)").arg(pointTitle(p)));
  return true;
}

bool SweepPanel::exportCsv(const QString& path, QString* error) {
  const auto fail_with = [error](const QString& message) {
    if (error) *error = message;
    return false;
  };
  if (points_.empty()) return fail_with(tr("There is no sweep to export: run one first"));
  auto ok = io::write_file_atomic(path.toStdString(), sweep::to_csv(spec_, points_));
  if (!ok) return fail_with(tr("Cannot write %1: %2").arg(QDir::toNativeSeparators(path), describe(ok.error())));
  return true;
}

bool SweepPanel::exportChart(const QString& path, QString* error) {
  return savePlot(chart(charts_->currentIndex()), path, charts_->tabText(charts_->currentIndex()), error);
}

void SweepPanel::exportCsvDialog() {
  QString path = QFileDialog::getSaveFileName(this, tr("Export sweep"), QStringLiteral("sweep.csv"),
                                              tr("CSV table (*.csv);;All files (*)"));
  if (path.isEmpty()) return;
  if (QFileInfo(path).suffix().isEmpty()) path += QStringLiteral(".csv");
  QString error;
  if (exportCsv(path, &error))
    setStatus(tr("Exported %1 to %2").arg(points_text(points_.size()), QDir::toNativeSeparators(path)));
  else
    setStatus(error, true);
}

void SweepPanel::exportChartDialog() {
  QString filter;
  QString path =
      QFileDialog::getSaveFileName(this, tr("Export chart"), QStringLiteral("sweep.png"),
                                   tr("PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)"), &filter);
  if (path.isEmpty()) return;
  if (QFileInfo(path).suffix().isEmpty())
    path += filter.section(QLatin1Char('*'), 1, 1).section(QLatin1Char(')'), 0, 0);
  QString error;
  if (exportChart(path, &error))
    setStatus(tr("Saved the chart to %1").arg(QDir::toNativeSeparators(path)));
  else
    setStatus(error, true);
}

}  // namespace convscope::gui
