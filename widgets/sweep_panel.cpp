// The sweep view: grid editors, the run controls and the points table; the sweep
// itself is a SweepRun (sweep_run.h) and the charts a SweepCharts (sweep_charts.h).
// About 530 lines: most of it is the table (one sortable column per figure).
#include "sweep_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <array>
#include <utility>

#include "io/graph_json.h"
#include "io/report.h"
#include "kernels/cpu.h"
#include "qt_strings.h"

namespace convscope::gui {
namespace {

/// Larger grids are refused: the table and charts would be unreadable anyway.
constexpr std::size_t kMaxPoints = 20000;
/// Table item roles: the number a cell sorts by, and (first column) the point's index.
constexpr int kSortRole = Qt::UserRole;
constexpr int kIndexRole = Qt::UserRole + 1;

/// The fronts the view offers, the first by default (as the CLI's --pareto).
struct FrontChoice {
  const char* name;
  sweep::ParetoAxes axes;
};
constexpr std::array<FrontChoice, 4> kFronts = {{
    {QT_TRANSLATE_NOOP("convscope::gui::SweepPanel", "front: most parameters for the latency"),
     {sweep::Metric::Latency, sweep::Metric::Params, true}},
    {QT_TRANSLATE_NOOP("convscope::gui::SweepPanel", "front: most MAdds for the latency"),
     {sweep::Metric::Latency, sweep::Metric::MAdds, true}},
    {QT_TRANSLATE_NOOP("convscope::gui::SweepPanel", "front: least latency and peak memory"),
     {sweep::Metric::Latency, sweep::Metric::PeakMemory}},
    {QT_TRANSLATE_NOOP("convscope::gui::SweepPanel", "front: most parameters for the MAdds"),
     {sweep::Metric::MAdds, sweep::Metric::Params, true}},
}};

const QColor kParetoColour(0xd3, 0x2f, 0x2f);
const QColor kProblemColour(0x75, 0x75, 0x75);

QString num(double v, int precision) { return QString::number(v, 'f', precision); }

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

}  // namespace

SweepPanel::SweepPanel(Document* doc, QWidget* parent)
    : QWidget(parent),
      doc_(doc),
      alphas_(new QLineEdit(QStringLiteral("0.35,0.5,0.75,1.0,1.4"), this)),
      resolutions_(new QLineEdit(QStringLiteral("96:224:32"), this)),
      param_(new QLineEdit(this)),
      measure_(new QCheckBox(tr("Measure latency"), this)),
      threads_(new QSpinBox(this)),
      front_(new QComboBox(this)),
      run_button_(new QPushButton(tr("Run"), this)),
      cancel_button_(new QPushButton(tr("Cancel"), this)),
      export_csv_(new QPushButton(tr("Export CSV…"), this)),
      export_chart_(new QPushButton(tr("Export chart…"), this)),
      progress_(new QProgressBar(this)),
      status_(new QLabel(this)),
      table_(new QTableWidget(this)),
      charts_(new SweepCharts(this)) {
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
  front_->setObjectName(QStringLiteral("paretoAxes"));
  front_->setToolTip(
      tr("The Pareto front to mark, both metrics minimised. Latency is compared among measured "
         "points only; when none is measured, the predicted latency stands in (MAdds without a "
         "latency model)"));
  for (const auto& choice : kFronts) front_->addItem(tr(choice.name));
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
  actions->addWidget(front_);
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
  connect(front_, &QComboBox::currentIndexChanged, this, [this](int) {
    run_.setPareto(kFronts[static_cast<std::size_t>(std::max(front_->currentIndex(), 0))].axes);
    if (!run_.session() || running()) return;
    refresh();
    setStatus(QStringLiteral("%1: %2").arg(front_text(run_.session()->front_axes()),
                                           points_text(run_.session()->summary().front)));
  });
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
  connect(charts_, &SweepCharts::openRequested, this, [this](std::size_t index) { (void)openPoint(index); });
  connect(&run_, &SweepRun::progress, this, &SweepPanel::onProgress);
  connect(&run_, &SweepRun::measureEnded, this, &SweepPanel::onMeasured);
  refresh();
}

const std::vector<sweep::Point>& SweepPanel::points() const {
  static const std::vector<sweep::Point> kNone;
  return run_.session() ? run_.session()->points() : kNone;
}

QCustomPlot* SweepPanel::chart(int tab) const { return charts_->chart(tab); }
QTabWidget* SweepPanel::charts() const { return charts_; }
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

Result<sweep::Spec> SweepPanel::parseGrid() const {
  sweep::GridText text{alphas_->text().trimmed().toStdString(), resolutions_->text().trimmed().toStdString(), {}};
  for (const QString& part : param_->text().split(QLatin1Char(';'), Qt::SkipEmptyParts))
    if (const QString axis = part.trimmed(); !axis.isEmpty()) text.params.push_back(axis.toStdString());
  auto spec = sweep::parse_spec(text);
  if (!spec) return spec;
  if (const std::size_t n = sweep::point_count(*spec); n > kMaxPoints)
    return fail("", tr("The grid has %1 points; at most %2 can be swept at once")
                        .arg(n == std::numeric_limits<std::size_t>::max() ? tr("more than 10^19") : QString::number(n))
                        .arg(kMaxPoints)
                        .toStdString());
  return spec;
}

bool SweepPanel::run() {
  if (running()) {
    setStatus(tr("A sweep is measuring: cancel it before starting another"), true);
    return false;
  }
  auto grid = parseGrid();
  Result<bool> started = grid ? Result<bool>(true) : tl::unexpected(grid.error());
  if (grid) {
    sweep::SessionSetup setup;
    setup.analysis = doc_->analysisOptions();
    setup.model = doc_->latencyModel();
    started = run_.start(doc_->graph(), std::move(*grid), std::move(setup), measure_->isChecked(), threads_->value());
  }
  if (!started) {
    setStatus(tr("Grid refused: %1").arg(grid_message(started.error())), true);
    Q_EMIT finished(false);
    return false;
  }
  refresh();
  const auto summary = run_.session()->summary();
  if (!run_.measured()) {
    QString text = tr("%1 evaluated").arg(points_text(summary.points));
    if (summary.valid < summary.points) text += tr(", %1 invalid (see Problem)").arg(summary.points - summary.valid);
    text += QStringLiteral("; %1: %2").arg(front_text(run_.session()->front_axes()), points_text(summary.front));
    setStatus(text);
    Q_EMIT finished(true);
    return true;
  }
  progress_->setRange(0, static_cast<int>(std::max<std::size_t>(summary.unmeasured(), 1)));
  progress_->setValue(0);
  progress_->setFormat(tr("%v of %m points"));
  progress_->setVisible(true);
  setControlsEnabled(false);
  setStatus(tr("Measuring %1 (the costs are shown meanwhile)…").arg(points_text(summary.unmeasured())));
  return true;
}

void SweepPanel::onProgress(std::size_t done, std::size_t total) {
  if (!running()) return;
  progress_->setRange(0, static_cast<int>(std::max<std::size_t>(total, 1)));
  progress_->setValue(static_cast<int>(done));
  setStatus(tr("Measuring: %1 of %2 done…").arg(done).arg(points_text(total)));
}

void SweepPanel::recount() {
  if (!run_.recount(doc_->analysisOptions(), doc_->latencyModel())) return;
  refresh();
  setStatus(tr("Costs recounted under the %1 convention").arg(qs(doc_->analysisOptions().convention.name)));
}

void SweepPanel::clearResults() {
  const bool had = run_.session() != nullptr;
  run_.clear();
  if (running()) {
    // The measurement is dropped when it ends (onMeasured says so).
    cancel_button_->setEnabled(false);
    return;
  }
  if (!had) return;
  refresh();
  setStatus(tr("Results cleared: another design was opened"));
}

void SweepPanel::cancel() {
  if (!running()) return;
  run_.cancel();
  cancel_button_->setEnabled(false);
  setStatus(tr("Cancelling…"));
}

void SweepPanel::onMeasured(bool complete, const QString& error, bool dropped) {
  refresh();
  progress_->setVisible(false);
  setControlsEnabled(true);
  if (dropped) {
    setStatus(tr("Results cleared: another design was opened"));
    Q_EMIT finished(false);
    return;
  }
  const auto summary = run_.session()->summary();
  if (!error.isEmpty()) {
    setStatus(tr("%1; %2 of %3 were measured before").arg(error).arg(summary.measured).arg(points_text(summary.valid)),
              true);
  } else if (!complete) {
    setStatus(tr("Cancelled: %1 of %2 measured (shown); Pareto front among them: %3")
                  .arg(summary.measured)
                  .arg(points_text(summary.valid), points_text(summary.front)));
  } else {
    QString text =
        tr("Measured %1 at %n thread(s); %2: %3", nullptr, run_.threads())
            .arg(points_text(summary.measured), front_text(run_.session()->front_axes()), points_text(summary.front));
    if (summary.measured < summary.valid)
      text += tr("; %1 could not be run (see Problem)").arg(summary.valid - summary.measured);
    setStatus(text);
  }
  Q_EMIT finished(error.isEmpty() && complete);
}

void SweepPanel::refresh() {
  fillTable();
  charts_->showSession(run_.session(), run_.measured());
  export_csv_->setEnabled(run_.session() != nullptr);
  export_chart_->setEnabled(run_.session() != nullptr);
}

void SweepPanel::fillTable() {
  table_->setSortingEnabled(false);
  table_->clearContents();
  const sweep::Session* session = run_.session();
  const auto& points = this->points();
  const bool timed = run_.measured();
  const QStringList axes = session ? axis_names(session->spec()) : QStringList();
  QStringList headers{tr("α"), tr("Resolution")};
  QStringList tips{tr("Width multiplier"), tr("Input resolution (px)")};
  for (int a = 0; a < axes.size(); ++a) {
    headers << axes[a];
    tips << tr("Swept block parameter %1").arg(qs(session->spec().params[static_cast<std::size_t>(a)].selector));
  }
  headers << tr("Parameters") << tr("MAdds") << tr("Peak memory");
  tips << tr("Weights and biases") << tr("Multiply-adds per image") << tr("Peak activation memory");
  const bool predicted = session && session->summary().predicted > 0;
  if (predicted) {
    headers << tr("Predicted (ms)");
    tips << tr("Predicted by the %1").arg(qs(session->model_description()));
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
       << (session ? tr("On the %1 (both minimised)").arg(front_text(session->front_axes()))
                   : tr("On the Pareto front"))
       << tr("Why the point is invalid or could not be run");
  table_->setColumnCount(static_cast<int>(headers.size()));
  table_->setHorizontalHeaderLabels(headers);
  for (int c = 0; c < headers.size(); ++c) table_->horizontalHeaderItem(c)->setToolTip(tips[c]);
  table_->setRowCount(static_cast<int>(points.size()));

  for (std::size_t i = 0; i < points.size(); ++i) {
    const sweep::Point& p = points[i];
    const int row = static_cast<int>(i);
    int column = 0;
    const auto put = [&](SortItem* item) {
      if (!p.valid) item->setForeground(kProblemColour);
      table_->setItem(row, column++, item);
      return item;
    };
    SortItem* first = put(new SortItem(alpha_text(p.alpha), p.alpha));
    first->setData(kIndexRole, QVariant::fromValue<qulonglong>(i));
    first->setToolTip(point_tooltip(axes, p, timed) + tr("<br><i>double-click the row to open it on the canvas</i>"));
    put(new SortItem(resolution_text(p.resolution), static_cast<double>(p.resolution)));
    for (const auto& value : p.values) put(value_item(value));
    put(new SortItem(qs(io::with_commas(p.params)), static_cast<double>(p.params)));
    put(new SortItem(qs(io::human(p.madds)), static_cast<double>(p.madds)))->setToolTip(qs(io::with_commas(p.madds)));
    put(new SortItem(qs(io::human(p.peak_memory_bytes, true)), static_cast<double>(p.peak_memory_bytes)))
        ->setToolTip(tr("%1 bytes").arg(qs(io::with_commas(p.peak_memory_bytes))));
    if (predicted)
      put(p.predicted_ms ? new SortItem(num(*p.predicted_ms, 3) + (p.extrapolated ? QStringLiteral("*") : QString()),
                                        *p.predicted_ms)
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

bool SweepPanel::openPoint(std::size_t index) {
  if (index >= points().size()) return false;
  const sweep::Session& session = *run_.session();
  const sweep::Point& p = session.points()[index];
  const QStringList axes = axis_names(session.spec());
  QString text = p.resolution > 0 ? tr("Sweep point α %1, %2 px").arg(alpha_text(p.alpha)).arg(p.resolution)
                                  : tr("Sweep point α %1").arg(alpha_text(p.alpha));
  if (const QString values = values_text(axes, p.values); !values.isEmpty()) text += QStringLiteral(", ") + values;
  doc_->apply(text, session.point_graph(index));
  // Show the point's row as well (the table may be sorted).
  for (int row = 0; row < table_->rowCount(); ++row) {
    const QTableWidgetItem* item = table_->item(row, 0);
    if (item && item->data(kIndexRole).toULongLong() == index) {
      table_->selectRow(row);
      table_->scrollToItem(item);
      break;
    }
  }
  setStatus(tr("Opened %1 on the canvas (Undo returns to the previous design)").arg(point_title(axes, p)));
  return true;
}

bool SweepPanel::exportCsv(const QString& path, QString* error) {
  const auto fail_with = [error](const QString& message) {
    if (error) *error = message;
    return false;
  };
  if (!run_.session()) return fail_with(tr("There is no sweep to export: run one first"));
  auto ok = io::write_file_atomic(path.toStdString(), run_.session()->csv());
  if (!ok) return fail_with(tr("Cannot write %1: %2").arg(QDir::toNativeSeparators(path), describe(ok.error())));
  return true;
}

bool SweepPanel::exportChart(const QString& path, QString* error) { return charts_->exportCurrent(path, error); }

void SweepPanel::exportCsvDialog() {
  QString path = QFileDialog::getSaveFileName(this, tr("Export sweep"), QStringLiteral("sweep.csv"),
                                              tr("CSV table (*.csv);;All files (*)"));
  if (path.isEmpty()) return;
  if (QFileInfo(path).suffix().isEmpty()) path += QStringLiteral(".csv");
  QString error;
  if (exportCsv(path, &error))
    setStatus(tr("Exported %1 to %2").arg(points_text(points().size()), QDir::toNativeSeparators(path)));
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
