#include "sweep_charts.h"

#include <qcustomplot.h>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "plot_layout.h"
#include "plots.h"
#include "sweep_run.h"

namespace convscope::gui {
namespace {

/// How close (in pixels) the pointer must be to a scatter point for its tooltip.
constexpr double kHoverPx = 8.0;

const QColor kParetoColour(0xd3, 0x2f, 0x2f);
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

SweepCharts::SweepCharts(QWidget* parent)
    : QTabWidget(parent),
      scatter_(make_titled_plot(this, QStringLiteral("sweepScatter"), &scatter_title_)),
      heatmap_(make_titled_plot(this, QStringLiteral("sweepHeatmap"), &heatmap_title_, /*legend=*/false)),
      colour_map_(new QCPColorMap(heatmap_->xAxis, heatmap_->yAxis)),
      colour_scale_(new QCPColorScale(heatmap_)),
      slice_(new QComboBox(this)),
      slice_label_(new QLabel(tr("Parameter values:"), this)) {
  for (QCustomPlot* chart : {scatter_, heatmap_}) chart->setMinimumSize(300, 140);
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
  heatmap_->setInteractions(QCP::Interactions());  // cells are picked by index: no drag or zoom
  heatmap_->xAxis->grid()->setVisible(false);
  heatmap_->yAxis->grid()->setVisible(false);

  slice_->setObjectName(QStringLiteral("heatmapSlice"));
  slice_->setToolTip(tr("The parameter values the heat map shows"));
  slice_label_->setObjectName(QStringLiteral("heatmapSliceLabel"));
  auto* heat_page = new QWidget(this);
  auto* heat_layout = new QVBoxLayout(heat_page);
  heat_layout->setContentsMargins(0, 0, 0, 0);
  auto* slice_row = new QHBoxLayout;
  slice_row->addWidget(slice_label_);
  slice_row->addWidget(slice_, 1);
  heat_layout->addLayout(slice_row);
  heat_layout->addWidget(heatmap_, 1);
  slice_->setVisible(false);
  slice_label_->setVisible(false);

  addTab(scatter_, tr("Latency vs MAdds"));
  addTab(heat_page, tr("Heat map"));

  connect(slice_, &QComboBox::currentIndexChanged, this, [this](int) { fillHeatmap(); });
  connect(scatter_, &QCustomPlot::mouseMove, this, [this](QMouseEvent* e) { showHover(kScatterTab, e); });
  connect(heatmap_, &QCustomPlot::mouseMove, this, [this](QMouseEvent* e) { showHover(kHeatmapTab, e); });
  connect(scatter_, &QCustomPlot::plottableClick, this,
          [this](QCPAbstractPlottable*, int, QMouseEvent* e) { openAt(kScatterTab, e); });
  connect(heatmap_, &QCustomPlot::mouseDoubleClick, this, [this](QMouseEvent* e) { openAt(kHeatmapTab, e); });
  showSession(nullptr, false);
}

QCustomPlot* SweepCharts::chart(int tab) const {
  if (tab == kScatterTab) return scatter_;
  if (tab == kHeatmapTab) return heatmap_;
  return nullptr;
}

bool SweepCharts::exportCurrent(const QString& path, QString* error) {
  return savePlot(chart(currentIndex()), path, tabText(currentIndex()), error);
}

void SweepCharts::showSession(const sweep::Session* session, bool measured) {
  session_ = session;
  measured_ = measured;
  axes_ = session ? axis_names(session->spec()) : QStringList();
  combo_names_.clear();
  by_measured_ = by_latency_ = false;
  if (session) {
    for (const auto& combo : session->grid().combos) combo_names_ << values_text(axes_, combo);
    const auto summary = session->summary();
    by_measured_ = summary.measured > 0;
    by_latency_ = by_measured_ || summary.predicted > 0;
  }
  fillSliceChoices();
  fillScatter();
  fillHeatmap();
}

std::optional<double> SweepCharts::latency(const sweep::Point& p) const {
  return by_measured_ ? p.median_ms : p.predicted_ms;
}

void SweepCharts::fillSliceChoices() {
  const QSignalBlocker block(slice_);
  slice_->clear();
  slice_->addItems(combo_names_);
  const bool visible = session_ && !session_->spec().params.empty();
  slice_->setVisible(visible);
  slice_label_->setVisible(visible);
}

void SweepCharts::fillScatter() {
  QCustomPlot* p = scatter_;
  p->clearPlottables();
  scatter_hover_.clear();
  static const std::vector<sweep::Point> kNone;
  const auto& points = session_ ? session_->points() : kNone;
  const sweep::GridIndex* grid = session_ ? &session_->grid() : nullptr;
  const std::size_t n_alphas = grid ? grid->alphas.size() : 0;
  const std::size_t n_combos = std::max<std::size_t>(grid ? grid->combos.size() : 0, 1);
  // One curve per α and parameter combination (markers tell the combinations apart).
  std::vector<QVector<double>> xs(n_alphas * n_combos), ys(xs.size());
  QVector<double> front_x, front_y;
  double xlo = std::numeric_limits<double>::max(), xhi = std::numeric_limits<double>::lowest();
  double ylo = xlo, yhi = xhi;
  std::size_t shown = 0, valid = 0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const sweep::Point& point = points[i];
    if (!point.valid) continue;
    ++valid;
    const auto y_latency = latency(point);
    if (by_latency_ && !y_latency) continue;
    const double x = static_cast<double>(point.madds) / 1e6;
    const double y = by_latency_ ? *y_latency : static_cast<double>(point.params) / 1e6;
    const std::size_t curve = grid->cells[i].alpha * n_combos + grid->cells[i].combo;
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
    QString name = tr("α %1").arg(alpha_text(grid->alphas[a]));
    if (combo < static_cast<std::size_t>(combo_names_.size()) && !combo_names_[static_cast<int>(combo)].isEmpty())
      name += QStringLiteral(" · ") + combo_names_[static_cast<int>(combo)];
    g->setName(name);
    g->setPen(QPen(colour, 1.5));
    g->setLineStyle(QCPGraph::lsLine);
    g->setScatterStyle(QCPScatterStyle(kShapes[combo % kShapes.size()], colour.darker(120), colour, 7));
    g->setData(xs[curve], ys[curve]);
  }
  if (!front_x.isEmpty()) {
    QCPGraph* front = p->addGraph();
    // The front's size in its legend entry (the status line says on which metrics).
    front->setName(tr("Pareto: %1").arg(front_x.size()));
    front->setLineStyle(QCPGraph::lsNone);
    QColor fill = kParetoColour;
    fill.setAlpha(70);
    front->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(kParetoColour, 2), fill, 14));
    front->setData(front_x, front_y);
  }
  p->legend->setVisible(p->graphCount() > 0 && p->graphCount() <= 24);
  p->xAxis->setRange(shown > 0 ? padded(xlo, xhi) : QCPRange(0, 1));
  p->yAxis->setRange(shown > 0 ? padded(ylo, yhi) : QCPRange(0, 1));

  if (points.empty()) {
    scatter_title_->setText(tr("Run a sweep to see its points"));
    p->yAxis->setLabel(QString());
  } else if (by_latency_) {
    p->yAxis->setLabel(by_measured_ ? tr("Median latency (ms)") : tr("Predicted latency (ms)"));
    QString title = by_measured_ ? tr("Measured latency vs MAdds") : tr("Predicted latency vs MAdds");
    if (shown < valid) title += QLatin1Char('\n') + tr("%1 of %2 measured").arg(shown).arg(valid);
    scatter_title_->setText(title);
  } else {
    p->yAxis->setLabel(tr("Parameters (millions)"));
    scatter_title_->setText(tr("Parameters vs MAdds (no latency)"));
  }
  p->replot(QCustomPlot::rpQueuedReplot);
}

void SweepCharts::fillHeatmap() {
  const sweep::GridIndex* grid = session_ ? &session_->grid() : nullptr;
  const std::size_t nx = grid ? grid->alphas.size() : 0, ny = grid ? grid->resolutions.size() : 0;
  const std::size_t combo = slice_->currentIndex() > 0 ? static_cast<std::size_t>(slice_->currentIndex()) : 0;
  heatmap_cells_.assign(nx * ny, std::nullopt);
  if (grid)
    for (std::size_t i = 0; i < grid->cells.size(); ++i)
      if (grid->cells[i].combo == combo) heatmap_cells_[grid->cells[i].alpha * ny + grid->cells[i].resolution] = i;

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
      const sweep::Point& p = session_->points()[*index];
      const auto z_latency = latency(p);
      if (!p.valid || (by_latency_ && !z_latency)) continue;
      const double z = by_latency_ ? *z_latency : static_cast<double>(p.madds) / 1e6;
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
  colour_scale_->axis()->setLabel(by_measured_  ? tr("Median latency (ms)")
                                  : by_latency_ ? tr("Predicted latency (ms)")
                                                : tr("MAdds (millions)"));

  QStringList alpha_labels, resolution_labels;
  if (grid) {
    for (double a : grid->alphas) alpha_labels << alpha_text(a);
    for (std::int64_t r : grid->resolutions) resolution_labels << resolution_text(r);
  }
  heatmap_->xAxis->setTicker(index_ticker(alpha_labels));
  heatmap_->yAxis->setTicker(index_ticker(resolution_labels));
  heatmap_->xAxis->setRange(-0.5, kx - 0.5);
  heatmap_->yAxis->setRange(-0.5, ky - 0.5);

  if (!session_ || session_->points().empty()) {
    heatmap_title_->setText(tr("Run a sweep to see its heat map"));
  } else {
    QString title = by_measured_  ? tr("Median latency by α and resolution")
                    : by_latency_ ? tr("Predicted latency by α and resolution")
                                  : tr("MAdds by α and resolution");
    title += QLatin1Char('\n') + (by_measured_  ? tr("grey: invalid or not measured")
                                  : by_latency_ ? tr("not measured yet; grey: invalid")
                                                : tr("latency not measured; grey: invalid"));
    heatmap_title_->setText(title);
  }
  heatmap_->replot(QCustomPlot::rpQueuedReplot);
}

std::optional<std::size_t> SweepCharts::pointAt(int tab, QPointF pos) const {
  const QCustomPlot* p = chart(tab);
  if (!session_ || !p || !p->axisRect()->rect().contains(pos.toPoint())) return std::nullopt;
  if (tab == kHeatmapTab) {
    const std::size_t nx = session_->grid().alphas.size(), ny = session_->grid().resolutions.size();
    const double x = std::round(p->xAxis->pixelToCoord(pos.x()));
    const double y = std::round(p->yAxis->pixelToCoord(pos.y()));
    if (x < 0 || y < 0 || x >= static_cast<double>(nx) || y >= static_cast<double>(ny)) return std::nullopt;
    return heatmap_cells_[static_cast<std::size_t>(x) * ny + static_cast<std::size_t>(y)];
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

void SweepCharts::showHover(int tab, QMouseEvent* event) {
  if (const auto index = pointAt(tab, event->position()); index && *index < session_->points().size())
    QToolTip::showText(event->globalPosition().toPoint(),
                       point_tooltip(axes_, session_->points()[*index], measured_) +
                           (tab == kHeatmapTab ? tr("<br><i>double-click to open it on the canvas</i>")
                                               : tr("<br><i>click to open it on the canvas</i>")),
                       chart(tab));
  else
    QToolTip::hideText();
}

void SweepCharts::openAt(int tab, QMouseEvent* event) {
  if (const auto index = pointAt(tab, event->position())) Q_EMIT openRequested(*index);
}

}  // namespace convscope::gui
