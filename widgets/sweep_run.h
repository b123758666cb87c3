#pragma once
/// The app's side of a sweep: the engine's sweep::Session (graph snapshot, grid,
/// points, laws, Pareto front) and the Job that measures it off the UI thread.
/// The worker measures a copy of the session; the copy replaces the session on
/// the UI thread once the worker has ended, so the views only ever read a
/// session no thread is writing. The sweep view shows what this holds.

#include <QObject>
#include <QString>
#include <QStringList>
#include <cstddef>
#include <optional>

#include "job.h"
#include "sweep/session.h"

namespace convscope::gui {

class SweepRun : public QObject {
  Q_OBJECT

 public:
  explicit SweepRun(QObject* parent = nullptr);
  /// Cancels a running measurement and waits for it.
  ~SweepRun() override;

  /// Starts a sweep of `spec` on `graph`: every point is evaluated before this
  /// returns; with `measure`, latencies follow from the worker at `threads`
  /// (then `measureEnded`). The grid's refusal, with the engine's field names,
  /// when it is refused; nothing changes then. Refused while measuring.
  Result<bool> start(const ir::Graph& graph, sweep::Spec spec, sweep::SessionSetup setup, bool measure, int threads);
  /// Costs and predictions again under other counting options or latency model (measured times kept).
  /// False (nothing done) while measuring or without a sweep.
  bool recount(const cost::AnalysisOptions& analysis, std::optional<profile::LatencyModel> model);
  /// The metrics the front is marked on, now and in later sweeps (applied when a running measurement ends).
  void setPareto(sweep::ParetoAxes axes);
  [[nodiscard]] sweep::ParetoAxes pareto() const { return pareto_; }
  /// Drops the sweep; a running measurement is cancelled and its points dropped when it ends.
  void clear();
  /// Asks a running measurement to stop; the points measured so far are kept.
  void cancel();

  [[nodiscard]] bool running() const { return job_.running(); }
  /// The last sweep, or nullptr (none yet, or cleared). While measuring, the points as evaluated.
  [[nodiscard]] const sweep::Session* session() const { return session_ ? &*session_ : nullptr; }
  /// True when the last sweep measured (or is measuring) latency.
  [[nodiscard]] bool measured() const { return measured_; }
  /// Threads of the last measurement.
  [[nodiscard]] int threads() const { return threads_; }

 Q_SIGNALS:
  /// `done` of `total` points measured (on the UI thread).
  void progress(std::size_t done, std::size_t total);
  /// The measurement ended: `complete` when every point was measured; `error` says why it stopped
  /// when it threw; `dropped` when the sweep was cleared meanwhile (no session any more).
  void measureEnded(bool complete, const QString& error, bool dropped);

 private:
  std::optional<sweep::Session> session_;
  bool measured_ = false;
  int threads_ = 1;
  sweep::ParetoAxes pareto_{sweep::Metric::Latency, sweep::Metric::Params, true};
  bool drop_ = false;  ///< clear the sweep when the running measurement ends
  // The worker's copy; the UI thread reads it once the worker has ended.
  std::optional<sweep::Session> work_;
  bool work_complete_ = false;
  Job job_;  ///< last: destroyed first, so the worker has ended before what it writes goes
};

/// The parameter axes' names as shown: the parameter alone ("expansion") unless two axes share it.
QStringList axis_names(const sweep::Spec& spec);
/// A point's parameter values ("expansion=4, kernel=5"; empty without parameter axes).
QString values_text(const QStringList& axes, const std::vector<ir::ParamValue>& values);
/// "α 0.5, 160 px, expansion=4".
QString point_title(const QStringList& axes, const sweep::Point& p);
/// A point's costs, latencies, laws and front as rich text; `measured`: the sweep measured latency.
QString point_tooltip(const QStringList& axes, const sweep::Point& p, bool measured);
/// "Pareto front of predicted latency against parameters" for the metrics a front was marked on.
QString front_text(sweep::ParetoAxes axes);
/// "1 point", "25 points".
QString points_text(std::size_t n);
QString alpha_text(double alpha);
QString resolution_text(std::int64_t resolution);

}  // namespace convscope::gui
