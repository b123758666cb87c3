#pragma once
/// Runs a profile off the UI thread: plan build, calibration (cached per
/// machine), then the profiler, reporting progress and honouring cancel. One
/// job at a time; results arrive as a ProfileData through a queued signal.

#include <QObject>
#include <QThread>
#include <atomic>
#include <memory>

#include "document.h"

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
  explicit ProfileRunner(QObject* parent = nullptr);
  ~ProfileRunner() override;  ///< cancels a running job and waits for it

  [[nodiscard]] bool busy() const { return thread_ != nullptr; }
  /// Starts `job`; returns false (and does nothing) while another job runs.
  bool start(ProfileJob job);
  /// Asks the running job to stop; `finished` then arrives with result.cancelled set.
  void cancel();

 signals:
  /// Fraction done (0..1) and what is happening ("calibrating", "building the plan", "measuring").
  void progress(double fraction, const QString& stage);
  void finished(std::shared_ptr<const convscope::gui::ProfileData> data);
  /// The graph could not be run (invalid blocks, memory limit, ...): the message says why.
  void failed(const QString& message);

 private:
  QThread* thread_ = nullptr;
  std::atomic<bool> cancel_{false};
  // Written by the worker, read on the UI thread after it has ended.
  std::shared_ptr<const ProfileData> data_;
  QString error_;
};

/// The cached calibration, or a fresh one (2-4 s); errors as text.
Result<profile::Calibration> calibration();

}  // namespace convscope::gui
