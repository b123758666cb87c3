#pragma once
/// Runs a profile off the UI thread (a Job): plan build, calibration (cached
/// per machine), then the profiler, reporting progress and honouring cancel.
/// One job at a time; results arrive as a ProfileData through a queued signal.

#include <QObject>
#include <memory>

#include "document.h"
#include "job.h"

namespace convscope::gui {

struct ProfileJob {
  ir::Graph graph;
  std::map<std::string, runtime::OpWeights> weights;  ///< imported weights (empty: generated)
  int threads = 1;
  int min_runs = 10;
  double min_seconds = 0.5;  ///< per phase (whole network, then per step)
  std::optional<profile::LatencyModel> model;  ///< predicts each step beside its measurement (same threads)
};

class ProfileRunner : public QObject {
  Q_OBJECT

 public:
  explicit ProfileRunner(QObject* parent = nullptr);  ///< deleting it cancels a running job and waits

  [[nodiscard]] bool busy() const { return job_.running(); }
  /// Starts `job`; returns false (and does nothing) while another job runs.
  bool start(ProfileJob job);
  /// Asks the running job to stop; `finished` then arrives with result.cancelled set.
  void cancel() { job_.cancel(); }

 signals:
  /// Fraction done (0..1) and what is happening ("calibrating", "building the plan", "measuring").
  void progress(double fraction, const QString& stage);
  void finished(std::shared_ptr<const convscope::gui::ProfileData> data);
  /// The graph could not be run (invalid blocks, memory limit, ...): the message says why.
  void failed(const QString& message);

 private:
  void run(const ProfileJob& job, const std::atomic<bool>& cancel, const Job::Progress& progress);
  // Written by the worker, read on the UI thread after it has ended.
  std::shared_ptr<const ProfileData> data_;
  QString error_;
  Job job_;  ///< last: destroyed first, so the worker has ended before what it writes goes
};

/// The cached calibration, or a fresh one (2-4 s); errors as text.
Result<profile::Calibration> calibration();

}  // namespace convscope::gui
