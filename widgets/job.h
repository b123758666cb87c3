#pragma once
/// The one way the app runs long work off the UI thread: profiles, sweeps,
/// calibrations and Deep Compression. The work runs on a worker thread with a
/// cancel flag and a progress callback; whatever it throws becomes an error
/// text; `finished` arrives on the UI thread once the worker has ended (so a
/// receiver may start the next run at once). Deleting a Job cancels its work
/// and waits for it, so no worker outlives the object it reports to.

#include <QObject>
#include <QString>
#include <atomic>
#include <functional>

class QThread;

namespace convscope::gui {

class Job : public QObject {
  Q_OBJECT

 public:
  /// Progress in [0, 1] with a short stage name; callable from the worker.
  using Progress = std::function<void(double fraction, const QString& stage)>;
  /// The work. It reads `cancel` (or passes it to the engine) to stop early.
  using Work = std::function<void(const std::atomic<bool>& cancel, const Progress& progress)>;

  explicit Job(QObject* parent = nullptr);
  ~Job() override;

  /// Starts `work`; false (and nothing started) while this Job still runs.
  bool start(Work work);
  /// Asks the running work to stop (it ends at its next check of the flag).
  void cancel() { cancel_ = true; }
  [[nodiscard]] bool running() const { return thread_ != nullptr; }
  [[nodiscard]] bool cancelled() const { return cancel_; }

 signals:
  void progress(double fraction, const QString& stage);
  /// The work ended; `error` is empty unless it threw (then it says what).
  void finished(const QString& error);

 private:
  QThread* thread_ = nullptr;
  std::atomic<bool> cancel_{false};
  QString error_;  ///< written by the worker, read after it has ended
};

}  // namespace convscope::gui
