#include "profile_runner.h"

#include <utility>

#include "kernels/kernels.h"
#include "profile/fusion_choice.h"
#include "profile/latency_calibration.h"
#include "profile/layers.h"
#include "profile/speed_probe.h"
#include "runtime/plan.h"

namespace convscope::gui {

Result<profile::Calibration> calibration() { return profile::load_or_measure(kernels::best_kernels()); }

ProfileRunner::ProfileRunner(QObject* parent) : QObject(parent) {
  qRegisterMetaType<std::shared_ptr<const ProfileData>>("std::shared_ptr<const convscope::gui::ProfileData>");
  connect(&job_, &Job::progress, this, &ProfileRunner::progress);
  connect(&job_, &Job::finished, this, [this](const QString& error) {
    if (data_)
      Q_EMIT finished(std::exchange(data_, nullptr));
    else if (!error.isEmpty())
      Q_EMIT failed(tr("Profiling %1").arg(error));
    else
      Q_EMIT failed(error_.isEmpty() ? tr("Profiling produced no result") : error_);
  });
}

bool ProfileRunner::start(ProfileJob job) {
  if (job_.running()) return false;
  data_.reset();
  error_.clear();
  return job_.start([this, job = std::move(job)](const std::atomic<bool>& cancel, const Job::Progress& progress) {
    run(job, cancel, progress);
  });
}

void ProfileRunner::run(const ProfileJob& job, const std::atomic<bool>& cancel, const Job::Progress& progress) {
  progress(0.0, tr("calibrating"));
  auto cal = calibration();
  if (!cal) {
    error_ = tr("Calibration failed: %1").arg(describe(cal.error()));
    return;
  }
  auto data = std::make_shared<ProfileData>();
  data->graph = job.graph;
  data->calibration = *cal;
  data->analysis = cost::analyze(job.graph);
  if (!data->analysis.complete()) {
    error_ = tr("The graph has problems; fix them before profiling:\n%1").arg(describe(data->analysis.diagnostics));
    return;
  }
  progress(0.0, tr("building the plan"));
  runtime::Weights weights;
  runtime::PlanOptions po;
  po.threads = job.threads;
  if (auto fits = runtime::check_weight_memory(data->analysis, po.memory_limit_bytes); !fits) {
    error_ = QString::fromStdString(format_diagnostics(fits.error()));
    return;
  }
  if (!job.weights.empty()) {
    weights = runtime::Weights::with_named(job.graph, data->analysis, job.weights);
    po.weights = &weights;
  }
  // Bottlenecks fused where the latency model predicts it pays, as the prediction assumed.
  const profile::LatencyModel* model = job.model && job.model->threads == job.threads ? &*job.model : nullptr;
  profile::FusionChoice fusion;
  po = profile::apply_fusion(job.graph, data->analysis, model, {}, po, &fusion);
  auto plan = runtime::Plan::build(job.graph, data->analysis, po);
  if (!plan) {
    error_ = tr("Cannot run the graph: %1").arg(describe(plan.error()));
    return;
  }
  profile::ProfileOptions opt;
  opt.min_runs = job.min_runs;
  opt.min_seconds = job.min_seconds;
  opt.cancel = &cancel;
  opt.progress = [this, &progress, last = -1.0](double f) mutable {
    if (f - last < 0.005 && f < 1.0) return;  // a few hundred updates at most
    last = f;
    progress(f, tr("measuring"));
  };
  // The speed probe around the run: how fast the machine runs against the model's calibration.
  const profile::RunConditions around = profile::conditions_around(kernels::best_kernels(), model, [&] {
    data->result = profile::profile_plan(*plan, opt);
    return !data->result.cancelled;
  });
  if (model) {
    // Predicted beside the measurement at the cores' placement the run had (LatencyModel::cross_core_scale).
    data->model = profile::model_for_round_trip(kernels::best_kernels(), job.threads, around.round_trip_ns, *model);
    data->model->cross_core_scale = around.cross_core_scale(*data->model);
  }
  // A step faster than the calibrated peak means the ceilings were measured under load: measured again first.
  std::string note;
  data->summary = profile::summarize_checked(job.graph, *plan, data->result, data->calibration,
                                             data->model ? &*data->model : nullptr, kernels::best_kernels(), &note);
  data->summary.fusion = fusion.summary();
  data->summary.speed = model ? around.speed(*model) : 0;
  data->recalibrated = QString::fromStdString(note);
  data_ = std::move(data);
}

}  // namespace convscope::gui
