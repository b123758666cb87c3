// The plots panel: per-layer latency (measured, predicted, bound), the roofline of
// this machine and latency against MAdds, as tabs sharing one way to hover, select
// a block and export. Over 500 lines because the three plots share the panel's
// helpers (groups, colours, log axes, hover points); each rebuild* is one plot.
#include "plots.h"

#include "plot_layout.h"

#include <qcustomplot.h>
#include <QDir>
#include <QFileInfo>
#include <QMouseEvent>
#include <QSvgGenerator>
#include <QToolTip>
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "io/report.h"
#include "ir/op.h"
#include "qt_strings.h"

namespace convscope::gui {
namespace {

/// How close (in pixels) the pointer must be to a point for its tooltip.
constexpr double kHoverPx = 8.0;
/// The ceilings of the roofline span this intensity range (FLOP/byte), far beyond any layer.
constexpr double kLineLo = 1e-4;
constexpr double kLineHi = 1e5;

QString esc(const std::string& s) { return qs(s).toHtmlEscaped(); }
QString num(double v, int precision) { return QString::number(v, 'f', precision); }
QString madds(std::int64_t v) { return qs(io::human(v)); }

/// Step kinds grouped for colouring: the GEMMs, the depthwise convolutions, the other
/// convolutions, everything element-wise (adds, activations, pools, shuffles, ...) and
/// the fused blocks (expand, depthwise and project in one step).
constexpr int kGroups = 5;
int kind_group(const std::string& kind) {
  if (kind == "gemm") return 0;
  if (kind == "depthwise") return 1;
  if (kind == "conv_im2col" || kind == "conv_transpose" || kind == "winograd") return 2;
  if (kind == "fused_bottleneck") return 4;
  return 3;
}
QString group_name(int group) {
  switch (group) {
    case 0:
      return QStringLiteral("GEMM (1×1, dense)");
    case 1:
      return QStringLiteral("Depthwise");
    case 2:
      return QStringLiteral("Other convolution");
    case 4:
      return QStringLiteral("Fused block");
    default:
      return QStringLiteral("Element-wise and other");
  }
}
QColor group_colour(int group) {
  switch (group) {
    case 0:
      return {0x15, 0x65, 0xc0};
    case 1:
      return {0x2e, 0x7d, 0x32};
    case 2:
      return {0x6a, 0x1b, 0x9a};
    case 4:
      return {0x00, 0x83, 0x8f};
    default:
      return {0xef, 0x6c, 0x00};
  }
}

const QColor kMeasuredColour(0x15, 0x65, 0xc0);
const QColor kPredictedColour(0xff, 0xa7, 0x26);
const QColor kBoundColour(0x61, 0x61, 0x61);

void set_log(QCPAxis* axis) {
  QSharedPointer<QCPAxisTickerLog> ticker(new QCPAxisTickerLog);
  axis->setTicker(ticker);
  axis->setScaleType(QCPAxis::stLogarithmic);
  axis->setNumberFormat(QStringLiteral("gb"));
  axis->setNumberPrecision(3);
}

/// A line graph (a ceiling of the roofline), not selectable.
QCPGraph* add_line(QCustomPlot* p, const QString& name, const QPen& pen, const QVector<double>& x,
                   const QVector<double>& y) {
  QCPGraph* g = p->addGraph();
  g->setName(name);
  g->setPen(pen);
  g->setLineStyle(QCPGraph::lsLine);
  g->setSelectable(QCP::stNone);
  g->setData(x, y, true);
  return g;
}

/// A scatter graph of one kind group.
QCPGraph* add_points(QCustomPlot* p, int group, const QVector<double>& x, const QVector<double>& y) {
  QCPGraph* g = p->addGraph();
  const QColor c = group_colour(group);
  g->setName(group_name(group));
  g->setPen(QPen(c));
  g->setLineStyle(QCPGraph::lsNone);
  g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, c.darker(130), c, 7));
  g->setData(x, y);
  return g;
}

/// The roofline bound of each layer as a short dark dash: a floor under the bars, not a prediction.
void add_bound_marks(QCustomPlot* p, const QVector<double>& x, const QVector<double>& y) {
  if (x.isEmpty()) return;
  QCPGraph* g = p->addGraph();
  g->setName(QObject::tr("Roofline bound (µs)"));
  g->setLineStyle(QCPGraph::lsNone);
  QPainterPath dash;
  dash.moveTo(-6, 0);
  dash.lineTo(6, 0);
  QCPScatterStyle style(dash, QPen(kBoundColour, 1.5), Qt::NoBrush, 8);
  g->setScatterStyle(style);
  g->setPen(QPen(kBoundColour, 2));
  g->setSelectable(QCP::stNone);
  g->setData(x, y, true);
}

/// "latency model, 1 thread, calibrated 2026-12-01": which model predicted.
QString model_note(const profile::LatencyModel& m) {
  return QObject::tr("latency model, %n thread(s), calibrated %1", nullptr, m.threads)
      .arg(qs(m.measured_at.substr(0, 10)));
}

/// The first lines of every layer tooltip: block, step and kind.
QString layer_head(const profile::LayerTiming& l) {
  return QStringLiteral("<b>%1</b> · %2<br>kind: %3").arg(esc(l.block), esc(l.step), esc(l.kind));
}

}  // namespace

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  if (n < 2 || y.size() != n) return 0;
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxx = 0, syy = 0, sxy = 0, qx = 0, qy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double dx = x[i] - mx, dy = y[i] - my;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
    qx += x[i] * x[i];
    qy += y[i] * y[i];
  }
  // Constant inputs leave only rounding noise in the deviations: treat that as no variance.
  constexpr double kRelative = 1e-24;
  if (sxx <= kRelative * qx || syy <= kRelative * qy) return 0;
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

PlotsPanel::PlotsPanel(Document* doc, QWidget* parent) : QTabWidget(parent), doc_(doc) {
  const std::array<QString, 3> names = {QStringLiteral("layerPlot"), QStringLiteral("rooflinePlot"),
                                        QStringLiteral("scatterPlot")};
  const std::array<QString, 3> tab_titles = {tr("Per layer"), tr("Roofline"), tr("Latency vs MAdds")};
  for (int tab = 0; tab < 3; ++tab) {
    const auto t = static_cast<std::size_t>(tab);
    plots_[t] = make_titled_plot(this, names[t], &titles_[t]);
    addTab(plots_[t], tab_titles[t]);
    connect(plots_[t], &QCustomPlot::mouseMove, this, [this, tab](QMouseEvent* e) { showHover(tab, e); });
    connect(plots_[t], &QCustomPlot::plottableClick, this,
            [this, tab](QCPAbstractPlottable*, int, QMouseEvent* e) { selectAt(tab, e); });
  }
  hover_[kLayerTab].columns = true;

  QCustomPlot* layers = plots_[kLayerTab];
  // Bars fill the whole width here, so the legend goes in a row of its own under
  // the title instead of over the last layers' bars.
  legend_above(layers);
  layer_group_ = new QCPBarsGroup(layers);
  layer_group_->setSpacingType(QCPBarsGroup::stAbsolute);
  layer_group_->setSpacing(1);
  QSharedPointer<QCPAxisTickerFixed> steps(new QCPAxisTickerFixed);
  steps->setTickStep(1.0);
  steps->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  layers->xAxis->setTicker(steps);
  layers->yAxis->setLabel(tr("Latency (µs)"));

  QCustomPlot* roof = plots_[kRooflineTab];
  set_log(roof->xAxis);
  set_log(roof->yAxis);
  roof->xAxis->setLabel(tr("Arithmetic intensity (FLOP/byte)"));
  roof->yAxis->setLabel(tr("Achieved performance (GFLOP/s)"));
  legend_beside(roof);  // off the points and the ceilings

  QCustomPlot* scatter = plots_[kScatterTab];
  scatter->xAxis->setLabel(tr("MAdds (millions)"));
  scatter->yAxis->setLabel(tr("Measured median latency (µs)"));
  legend_beside(scatter);

  connect(doc_, &Document::profileChanged, this, &PlotsPanel::refresh);
  connect(doc_, &Document::changed, this, &PlotsPanel::onDocumentChanged);
  refresh();
}

QCustomPlot* PlotsPanel::plot(int tab) const {
  if (tab < 0 || tab >= static_cast<int>(plots_.size())) return nullptr;
  return plots_[static_cast<std::size_t>(tab)];
}

void PlotsPanel::refresh() {
  stale_ = doc_->profile() != nullptr && !doc_->profileCurrent();
  rebuildLayers();
  rebuildRoofline();
  rebuildScatter();
}

void PlotsPanel::onDocumentChanged() {
  // Called on every edit: without a profile only the prediction views follow the
  // analysis; with one, the plots stay and only the "older graph" note may change.
  if (!doc_->profile()) {
    rebuildLayers();
    rebuildRoofline();
    return;
  }
  const bool stale = !doc_->profileCurrent();
  if (stale == stale_) return;
  stale_ = stale;
  for (int tab = 0; tab < 3; ++tab) {
    setTitle(tab, title_texts_[static_cast<std::size_t>(tab)]);
    plot(tab)->replot(QCustomPlot::rpQueuedReplot);
  }
}

void PlotsPanel::setTitle(int tab, const QString& text) {
  const auto t = static_cast<std::size_t>(tab);
  title_texts_[t] = text;
  QString shown = text;
  if (stale_) shown += QLatin1Char('\n') + tr("(profile of an earlier version of the graph: profile again to update)");
  titles_[t]->setText(shown);
}

void PlotsPanel::rebuildLayers() {
  QCustomPlot* p = plots_[kLayerTab];
  p->clearPlottables();
  Hover& hover = hover_[kLayerTab];
  hover.points.clear();
  layer_points_ = 0;
  double top = 0;
  int count = 0;

  const ProfileData* profile_data = doc_->profile();
  if (profile_data && !profile_data->summary.layers.empty()) {
    const auto& sum = profile_data->summary;
    const auto& layers = sum.layers;
    const bool modelled = sum.predicted_ns > 0;
    auto* measured = new QCPBars(p->xAxis, p->yAxis);
    measured->setName(tr("Measured median (µs)"));
    std::vector<std::pair<QCPBars*, QColor>> series{{measured, kMeasuredColour}};
    QCPBars* predicted = nullptr;
    if (modelled) {
      predicted = new QCPBars(p->xAxis, p->yAxis);
      predicted->setName(tr("Predicted (µs)"));
      series.emplace_back(predicted, kPredictedColour);
    }
    for (const auto& [bars, colour] : series) {
      bars->setWidth(modelled ? 0.4 : 0.7);
      bars->setBrush(colour);
      bars->setPen(QPen(colour.darker(140)));
      bars->setBarsGroup(layer_group_);
    }
    QVector<double> mk, mv, pk, pv, bk, bv;
    double measured_sum = 0;
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const auto& l = layers[i];
      const auto key = static_cast<double>(i);
      // Every step gets a measured bar (zero height when a cancelled run never reached it).
      mk << key;
      mv << l.median_ns / 1000.0;
      measured_sum += l.median_ns;
      if (l.predicted_ns > 0) {
        pk << key;
        pv << l.predicted_ns / 1000.0;
      }
      if (l.bound_ns > 0) {
        bk << key;
        bv << l.bound_ns / 1000.0;
      }
      QString text = layer_head(l) + QStringLiteral("<br>MAdds: %1").arg(madds(l.madds));
      if (l.in_place) {  // not run: its inputs were written into it, or it is read where it lies
        hover.points.push_back({key, 0.0, text + tr("<br>in place: no work, not run"), l.block});
        continue;
      }
      if (modelled)
        text += tr("<br>predicted: %1%2")
                    .arg(latency_text(l.predicted_ns), l.extrapolated ? tr(" (extrapolated)") : QString());
      text += tr("<br>median: %1").arg(l.median_ns > 0 ? latency_text(l.median_ns) : tr("not measured"));
      if (l.median_ns > 0) text += tr(" (min %1, p90 %2)").arg(latency_text(l.min_ns), latency_text(l.p90_ns));
      if (l.median_ns > 0 && l.predicted_ns > 0)
        text += tr("<br>measured/predicted: %1×").arg(num(l.median_ns / l.predicted_ns, 2));
      text +=
          tr("<br>roofline bound: %1 (%2)").arg(l.bound_ns > 0 ? latency_text(l.bound_ns) : tr("n/a"), esc(l.bound));
      const double height = std::max({l.median_ns, l.predicted_ns, l.bound_ns}) / 1000.0;
      top = std::max(top, height);
      hover.points.push_back({key, height, text, l.block});
    }
    measured->setData(mk, mv, true);
    if (predicted) predicted->setData(pk, pv, true);
    add_bound_marks(p, bk, bv);
    layer_points_ = static_cast<int>(mk.size());
    count = static_cast<int>(layers.size());
    QString title = tr("Per layer, %1 steps: measured Σ %2, network median %3")
                        .arg(count)
                        .arg(latency_text(measured_sum), latency_text(profile_data->result.network_ns.median));
    if (profile_data->result.cancelled) title += tr(" (cancelled: partial)");
    if (modelled)
      title += QLatin1Char('\n') +
               tr("predicted %1 (%2)").arg(latency_text(sum.predicted_ns), model_note(*profile_data->model));
    setTitle(kLayerTab, title);
    p->xAxis->setLabel(tr("Layer (plan step, in execution order)"));
  } else {
    // Before a profile: the model's prediction per op (a fused step on its first op), else the bound alone.
    const auto& predicted_ns = doc_->predictedOpsNs();
    const auto& bound_ns = doc_->boundOpsNs();
    const auto& a = doc_->analysis();
    const bool modelled = !predicted_ns.empty();
    const auto& shown = modelled ? predicted_ns : bound_ns;
    if (!shown.empty()) {
      auto* bars = new QCPBars(p->xAxis, p->yAxis);
      bars->setName(modelled ? tr("Predicted (µs)") : tr("Roofline bound (µs)"));
      bars->setWidth(0.7);
      const QColor colour = modelled ? kPredictedColour : kBoundColour;
      bars->setBrush(colour);
      bars->setPen(QPen(colour.darker(140)));
      QVector<double> keys, values, bk, bv;
      const std::size_t n = std::min(shown.size(), a.ops.size());
      for (std::size_t i = 0; i < n; ++i) {
        const auto& op = a.ops[i];
        const auto key = static_cast<double>(i);
        const double us = shown[i] / 1000.0;
        const double bound_us = i < bound_ns.size() ? bound_ns[i] / 1000.0 : 0.0;
        if (us > 0) {
          keys << key;
          values << us;
        }
        if (modelled && bound_us > 0) {
          bk << key;
          bv << bound_us;
        }
        const auto node = static_cast<std::size_t>(op.node);
        const std::string block = node < doc_->graph().nodes.size() ? doc_->graph().nodes[node].id : std::string();
        QString text = QStringLiteral("<b>%1</b> · %2<br>op: %3<br>MAdds: %4")
                           .arg(esc(block), esc(op.op.name), esc(ir::op_summary(op.op)), madds(op.totals.madds));
        if (modelled)
          text +=
              shown[i] > 0 ? tr("<br>predicted: %1").arg(latency_text(shown[i])) : tr("<br>predicted: in its step ↑");
        if (bound_us > 0) text += tr("<br>roofline bound: %1").arg(latency_text(bound_ns[i]));
        top = std::max({top, us, bound_us});
        hover.points.push_back({key, std::max(us, bound_us), text, block});
      }
      bars->setData(keys, values, true);
      add_bound_marks(p, bk, bv);
      count = static_cast<int>(n);
      if (modelled) {
        QString title = tr("Predicted latency %1, per op:").arg(latency_text(doc_->predictedNs()));
        if (doc_->extrapolatedSteps() > 0)
          title += tr(" (%n step(s) outside the calibrated shapes)", nullptr, doc_->extrapolatedSteps());
        setTitle(kLayerTab,
                 title + QLatin1Char('\n') + tr("%1; profile to measure it").arg(model_note(*doc_->latencyModel())));
      } else {
        setTitle(kLayerTab, tr("Roofline bound per op: %1 (a floor; no latency model yet). Profile to measure")
                                .arg(latency_text(doc_->boundNs())));
      }
    } else {
      setTitle(kLayerTab, tr("Profile to see measured latency"));
    }
    p->xAxis->setLabel(tr("Op (analysis order)"));
  }
  p->xAxis->setRange(-0.6, std::max(count, 1) - 0.4);
  p->yAxis->setRange(0, top > 0 ? top * 1.08 : 1.0);
  p->replot(QCustomPlot::rpQueuedReplot);
}

void PlotsPanel::rebuildRoofline() {
  QCustomPlot* p = plots_[kRooflineTab];
  p->clearPlottables();
  Hover& hover = hover_[kRooflineTab];
  hover.points.clear();

  const ProfileData* profile_data = doc_->profile();
  const profile::Calibration* cal = nullptr;
  if (profile_data)
    cal = &profile_data->calibration;
  else if (doc_->calibration())
    cal = &*doc_->calibration();
  double peak = profile_data ? profile_data->summary.peak_gflops : 0;
  if (peak <= 0 && cal) peak = cal->peak_gflops(profile_data ? profile_data->result.threads : 1);

  // The layers: one point each, grouped by step kind.
  double xlo = std::numeric_limits<double>::max(), xhi = 0, ylo = std::numeric_limits<double>::max(), yhi = 0;
  if (profile_data) {
    std::array<QVector<double>, kGroups> gx, gy;
    for (const auto& l : profile_data->summary.layers) {
      const double x = l.intensity(), y = l.achieved_gflops();
      if (x <= 0 || y <= 0) continue;
      const auto g = static_cast<std::size_t>(kind_group(l.kind));
      gx[g] << x;
      gy[g] << y;
      xlo = std::min(xlo, x);
      xhi = std::max(xhi, x);
      ylo = std::min(ylo, y);
      yhi = std::max(yhi, y);
      QString text = layer_head(l);
      text += tr("<br>intensity: %1 FLOP/byte").arg(num(x, 2));
      text += tr("<br>achieved: %1 GFLOP/s").arg(num(y, 2));
      if (peak > 0) text += tr(" (%1% of peak)").arg(num(100.0 * y / peak, 1));
      text += tr("<br>median: %1, bound: %2").arg(latency_text(l.median_ns), esc(l.bound));
      hover.points.push_back({x, y, text, l.block});
    }
    for (int g = 0; g < kGroups; ++g) {
      const auto i = static_cast<std::size_t>(g);
      if (!gx[i].isEmpty()) add_points(p, g, gx[i], gy[i]);
    }
  }

  // The ceilings: compute peak, and each bandwidth up to where it meets the peak.
  if (cal && peak > 0) {
    struct Ceiling {
      const char* name;
      double gbps;
      Qt::PenStyle style;
    };
    const std::array<Ceiling, 3> ceilings = {Ceiling{"DRAM", cal->dram_gbps, Qt::DashLine},
                                             Ceiling{"L3", cal->l3_gbps, Qt::DashDotLine},
                                             Ceiling{"L2", cal->cache_gbps, Qt::DotLine}};
    double first_ridge = kLineHi;
    for (const auto& c : ceilings) {
      if (c.gbps <= 0) continue;
      const double ridge = peak / c.gbps;
      first_ridge = std::min(first_ridge, ridge);
      xlo = std::min(xlo, ridge / 2);
      xhi = std::max(xhi, ridge * 2);
      QPen pen(QColor(0x42, 0x42, 0x42), 1.5, c.style);
      add_line(p, QStringLiteral("%1 %2 GB/s").arg(QLatin1String(c.name), num(c.gbps, 1)), pen, {kLineLo, ridge},
               {c.gbps * kLineLo, peak});
    }
    add_line(p, tr("Peak %1 GFLOP/s").arg(num(peak, 1)), QPen(QColor(0xc6, 0x28, 0x28), 2),
             {std::min(first_ridge, kLineLo * 10), kLineHi}, {peak, peak});
    yhi = std::max(yhi, peak);
    ylo = std::min(ylo, peak / 1000);
  }

  if (xhi <= 0) {
    xlo = 0.1;
    xhi = 100;
  }
  if (yhi <= 0) {
    ylo = 0.1;
    yhi = 100;
  }
  p->xAxis->setRange(xlo / 1.5, xhi * 1.5);
  p->yAxis->setRange(ylo / 1.5, yhi * 2);

  if (!profile_data)
    setTitle(kRooflineTab,
             cal ? tr("Roofline of this machine. Profile to see the layers") : tr("Profile to see the roofline"));
  else
    setTitle(kRooflineTab,
             tr("Roofline: %1 layers on %2 (%3, %4 thread(s))")
                 .arg(hover.points.size())
                 .arg(qs(profile_data->calibration.cpu).toHtmlEscaped(), qs(profile_data->calibration.isa))
                 .arg(profile_data->result.threads));
  p->replot(QCustomPlot::rpQueuedReplot);
}

void PlotsPanel::rebuildScatter() {
  QCustomPlot* p = plots_[kScatterTab];
  p->clearPlottables();
  Hover& hover = hover_[kScatterTab];
  hover.points.clear();

  const ProfileData* profile_data = doc_->profile();
  std::vector<double> xs, ys;
  if (profile_data) {
    std::array<QVector<double>, kGroups> gx, gy;
    for (const auto& l : profile_data->summary.layers) {
      if (l.median_ns <= 0) continue;
      const double x = static_cast<double>(l.madds) / 1e6, y = l.median_ns / 1000.0;
      const auto g = static_cast<std::size_t>(kind_group(l.kind));
      gx[g] << x;
      gy[g] << y;
      xs.push_back(x);
      ys.push_back(y);
      QString text = layer_head(l) + QStringLiteral("<br>MAdds: %1").arg(madds(l.madds));
      text += tr("<br>median: %1").arg(latency_text(l.median_ns));
      if (l.madds > 0)
        text +=
            tr("<br>%1 ns per thousand MAdds").arg(l.median_ns / (static_cast<double>(l.madds) / 1000.0), 0, 'g', 3);
      hover.points.push_back({x, y, text, l.block});
    }
    for (int g = 0; g < kGroups; ++g) {
      const auto i = static_cast<std::size_t>(g);
      if (!gx[i].isEmpty()) add_points(p, g, gx[i], gy[i]);
    }
  }

  if (xs.size() >= 2) {
    setTitle(kScatterTab, tr("r = %1 over %2 layers").arg(num(pearson(xs, ys), 2)).arg(xs.size()));
  } else {
    setTitle(kScatterTab, tr("Profile to see measured latency"));
  }
  if (xs.empty()) {
    p->xAxis->setRange(0, 1);
    p->yAxis->setRange(0, 1);
  } else {
    const double xmax = *std::max_element(xs.begin(), xs.end());
    const double ymax = *std::max_element(ys.begin(), ys.end());
    p->xAxis->setRange(-0.03 * std::max(xmax, 1e-3), std::max(xmax, 1e-3) * 1.05);
    p->yAxis->setRange(0, std::max(ymax, 1e-3) * 1.08);
  }
  p->replot(QCustomPlot::rpQueuedReplot);
}

const PlotsPanel::HoverPoint* PlotsPanel::hoverAt(int tab, QPointF pos) const {
  const QCustomPlot* p = plot(tab);
  if (!p || !p->axisRect()->rect().contains(pos.toPoint())) return nullptr;
  const Hover& hover = hover_[static_cast<std::size_t>(tab)];
  if (hover.columns) {
    // Bars: the column under the pointer, anywhere from its base up to a little above its top.
    const double key = p->xAxis->pixelToCoord(pos.x());
    const double base = p->yAxis->coordToPixel(0);
    for (const auto& point : hover.points) {
      if (std::abs(key - point.key) > 0.5) continue;
      const double top = p->yAxis->coordToPixel(point.value);
      if (pos.y() >= top - kHoverPx && pos.y() <= base + kHoverPx) return &point;
    }
    return nullptr;
  }
  const HoverPoint* best = nullptr;
  double best_distance = kHoverPx;
  for (const auto& point : hover.points) {
    const double dx = p->xAxis->coordToPixel(point.key) - pos.x();
    const double dy = p->yAxis->coordToPixel(point.value) - pos.y();
    const double d = std::hypot(dx, dy);
    if (d <= best_distance) {
      best_distance = d;
      best = &point;
    }
  }
  return best;
}

void PlotsPanel::showHover(int tab, QMouseEvent* event) {
  if (const HoverPoint* point = hoverAt(tab, event->position()))
    QToolTip::showText(event->globalPosition().toPoint(), point->text, plot(tab));
  else
    QToolTip::hideText();
}

void PlotsPanel::selectAt(int tab, QMouseEvent* event) {
  const HoverPoint* point = hoverAt(tab, event->position());
  if (!point || point->block.empty() || doc_->graph().find(point->block) < 0) return;
  doc_->select({point->block});
}

bool savePlot(QCustomPlot* p, const QString& path, const QString& title, QString* error) {
  const auto fail = [error](const QString& message) {
    if (error) *error = message;
    return false;
  };
  if (!p) return fail(QObject::tr("There is no plot to export"));
  // A plot that was never shown has a placeholder size: export at a readable one instead.
  const int width = p->width() >= 200 ? p->width() : 900;
  const int height = p->height() >= 150 ? p->height() : 600;
  const QString suffix = QFileInfo(path).suffix().toLower();
  const QString shown = QDir::toNativeSeparators(path);
  bool ok = false;
  if (suffix == QLatin1String("png")) {
    ok = p->savePng(path, width, height);
  } else if (suffix == QLatin1String("pdf")) {
    ok = p->savePdf(path, width, height, QCP::epAllowCosmetic, QStringLiteral("ConvScope"), title);
  } else if (suffix == QLatin1String("svg")) {
    QSvgGenerator generator;
    generator.setFileName(path);
    generator.setSize(QSize(width, height));
    generator.setViewBox(QRect(0, 0, width, height));
    generator.setTitle(title);
    generator.setDescription(QStringLiteral("ConvScope"));
    QCPPainter painter;
    if (!painter.begin(&generator)) return fail(QObject::tr("Cannot write %1").arg(shown));
    painter.setMode(QCPPainter::pmVectorized);
    painter.setMode(QCPPainter::pmNoCaching);
    p->toPainter(&painter, width, height);
    ok = painter.end();
  } else {
    return fail(QObject::tr("Unknown image format \"%1\": use .png, .svg or .pdf").arg(suffix));
  }
  if (!ok || !QFileInfo::exists(path)) return fail(QObject::tr("Cannot write %1").arg(shown));
  return true;
}

bool PlotsPanel::exportCurrent(const QString& path, QString* error) {
  return savePlot(plot(currentIndex()), path, tabText(currentIndex()), error);
}

}  // namespace convscope::gui
