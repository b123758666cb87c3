#include "sweep_run.h"

#include <QCoreApplication>
#include <utility>

#include "io/report.h"
#include "qt_strings.h"

namespace convscope::gui {
namespace {
QString tr(const char* text) { return QCoreApplication::translate("SweepRun", text); }
QString num(double v, int precision) { return QString::number(v, 'f', precision); }
}  // namespace

SweepRun::SweepRun(QObject* parent) : QObject(parent) {
  // Delivered on the UI thread once the worker has ended.
  connect(&job_, &Job::finished, this, [this](const QString& error) {
    const bool complete = error.isEmpty() && !job_.cancelled() && work_complete_;
    const bool dropped = std::exchange(drop_, false);
    if (dropped)
      session_.reset();
    else if (work_)
      session_ = std::move(work_);
    if (session_) session_->set_pareto(pareto_);  // chosen while it measured
    work_.reset();
    Q_EMIT measureEnded(complete, error.isEmpty() ? QString() : tr("Measuring %1").arg(error), dropped);
  });
}

SweepRun::~SweepRun() = default;  // job_ (the last member) cancels the measurement and waits for it

Result<bool> SweepRun::start(const ir::Graph& graph, sweep::Spec spec, sweep::SessionSetup setup, bool measure,
                             int threads) {
  if (running()) return fail("", "a sweep is measuring: cancel it before starting another");
  setup.pareto = pareto_;
  auto started = sweep::Session::start(graph, std::move(spec), std::move(setup));
  if (!started) return tl::unexpected(started.error());
  session_ = std::move(*started);
  measured_ = measure;
  threads_ = threads;
  if (!measure) return true;

  work_ = session_;
  work_complete_ = false;
  job_.start([this, threads](const std::atomic<bool>& cancel, const Job::Progress&) {
    sweep::MeasureOptions options;
    options.threads = threads;
    options.cancel = &cancel;
    options.progress = [this](std::size_t done, std::size_t total) {
      QMetaObject::invokeMethod(
          this, [this, done, total] { Q_EMIT progress(done, total); }, Qt::QueuedConnection);
    };
    work_complete_ = work_->measure(std::move(options));
  });
  return true;
}

bool SweepRun::recount(const cost::AnalysisOptions& analysis, std::optional<profile::LatencyModel> model) {
  if (!session_ || running()) return false;
  session_->recount(analysis, std::move(model));
  return true;
}

void SweepRun::setPareto(sweep::ParetoAxes axes) {
  pareto_ = axes;
  if (session_ && !running()) session_->set_pareto(axes);
}

void SweepRun::clear() {
  if (running()) {
    // The measurement belongs to what was replaced: stop it; its points are dropped when it ends.
    job_.cancel();
    drop_ = true;
    return;
  }
  session_.reset();
}

void SweepRun::cancel() {
  if (running()) job_.cancel();
}

QStringList axis_names(const sweep::Spec& spec) {
  QStringList names;
  for (const auto& axis : spec.params) names << qs(axis.selector).section(QLatin1Char('.'), -1);
  for (int a = 0; a < names.size(); ++a)
    if (names.count(names[a]) > 1 || names[a].isEmpty())
      names[a] = qs(spec.params[static_cast<std::size_t>(a)].selector);
  return names;
}

QString values_text(const QStringList& axes, const std::vector<ir::ParamValue>& values) {
  QStringList parts;
  for (std::size_t a = 0; a < values.size() && a < static_cast<std::size_t>(axes.size()); ++a)
    parts << axes[static_cast<int>(a)] + QLatin1Char('=') + qs(ir::param_value_str(values[a]));
  return parts.join(QStringLiteral(", "));
}

QString point_title(const QStringList& axes, const sweep::Point& p) {
  QString title = tr("α %1").arg(alpha_text(p.alpha));
  title += p.resolution > 0 ? tr(", %1 px").arg(p.resolution) : tr(", inputs' resolution");
  if (const QString values = values_text(axes, p.values); !values.isEmpty()) title += QStringLiteral(", ") + values;
  return title;
}

QString point_tooltip(const QStringList& axes, const sweep::Point& p, bool measured) {
  QString text = QStringLiteral("<b>%1</b>").arg(point_title(axes, p).toHtmlEscaped());
  if (!p.valid) return text + tr("<br>invalid: %1").arg(qs(p.problem).toHtmlEscaped());
  text += tr("<br>parameters: %1").arg(qs(io::with_commas(p.params)));
  text += tr("<br>MAdds: %1 (%2)").arg(qs(io::human(p.madds)), qs(io::with_commas(p.madds)));
  text += tr("<br>peak memory: %1").arg(qs(io::human(p.peak_memory_bytes, true)));
  if (p.predicted_ms)
    text +=
        tr("<br>predicted: %1 ms%2").arg(num(*p.predicted_ms, 3), p.extrapolated ? tr(" (extrapolated)") : QString());
  if (auto e = p.prediction_error()) text += tr("<br>measured / predicted − 1: %1 %").arg(num(*e * 100, 1));
  if (p.median_ms) {
    text += tr("<br>median: %1 ms").arg(num(*p.median_ms, 3));
    if (p.min_ms && p.p90_ms) text += tr(" (min %1, p90 %2)").arg(num(*p.min_ms, 3), num(*p.p90_ms, 3));
  } else if (measured) {
    text += p.problem.empty() ? tr("<br>not measured") : tr("<br>not run: %1").arg(qs(p.problem).toHtmlEscaped());
  }
  text += tr("<br>MAdds law: %1, params law: %2").arg(num(p.madds_law, 3), num(p.params_law, 3));
  if (p.latency_law > 0) text += tr(", latency law: %1").arg(num(p.latency_law, 3));
  if (p.pareto) text += tr("<br><b>on the Pareto front</b>");
  return text;
}

QString front_text(sweep::ParetoAxes axes) {
  const auto name = [](sweep::Metric m) {
    switch (m) {
      case sweep::Metric::Latency:
        return tr("latency");
      case sweep::Metric::Predicted:
        return tr("predicted latency");
      case sweep::Metric::MAdds:
        return tr("MAdds");
      case sweep::Metric::Params:
        return tr("parameters");
      case sweep::Metric::PeakMemory:
        return tr("peak memory");
    }
    return QString();
  };
  if (axes.y_more) return tr("Pareto front of the most %1 for the %2").arg(name(axes.y), name(axes.x));
  return tr("Pareto front of %1 against %2").arg(name(axes.x), name(axes.y));
}

QString points_text(std::size_t n) { return n == 1 ? tr("1 point") : tr("%1 points").arg(n); }
QString alpha_text(double alpha) { return QString::number(alpha, 'g', 6); }
QString resolution_text(std::int64_t resolution) {
  return resolution > 0 ? QString::number(resolution) : tr("as inputs");
}

}  // namespace convscope::gui
