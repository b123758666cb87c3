#include "job.h"

#include <QThread>
#include <exception>

namespace convscope::gui {

Job::Job(QObject* parent) : QObject(parent) {}

Job::~Job() {
  if (!thread_) return;
  cancel_ = true;
  thread_->wait();
  delete thread_;
}

bool Job::start(Work work) {
  if (thread_) return false;
  cancel_ = false;
  error_.clear();
  thread_ = QThread::create([this, work = std::move(work)] {
    // Nothing thrown here may reach the event loop: it becomes the error text.
    try {
      work(cancel_, [this](double fraction, const QString& stage) { Q_EMIT progress(fraction, stage); });
    } catch (const std::exception& e) {
      error_ = tr("stopped: %1").arg(QString::fromUtf8(e.what()));
    } catch (...) {
      error_ = tr("stopped by an unknown error");
    }
  });
  connect(thread_, &QThread::finished, this, [this] {
    thread_->deleteLater();
    thread_ = nullptr;
    Q_EMIT finished(error_);
  });
  thread_->start();
  return true;
}

}  // namespace convscope::gui
