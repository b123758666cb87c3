#pragma once
/// Renders a profile: measured latency per plan step (fused ops share a step)
/// beside the latency model's prediction (when there is a model) and the
/// roofline bound, per block, and for the whole network, from a summary
/// (profile::summarize_checked: the one the ceilings were checked against).

#include <string>

#include "cost/analysis.h"
#include "profile/calibration.h"
#include "profile/layers.h"
#include "profile/profiler.h"
#include "runtime/plan.h"

namespace convscope::io {

std::string profile_table(const ir::Graph& g, const cost::Analysis& a, const runtime::Plan& plan,
                          const profile::ProfileResult& r, const profile::Calibration& cal,
                          const profile::ProfileSummary& sum);
/// JSON: {"network": {median_ms, min_ms, p90_ms, cv, runs, sum_of_step_medians_ms, ...},
///        "machine": {...}, "layers": [per step], "blocks": [per block]}.
std::string profile_json(const ir::Graph& g, const cost::Analysis& a, const runtime::Plan& plan,
                         const profile::ProfileResult& r, const profile::Calibration& cal,
                         const profile::ProfileSummary& sum);

}  // namespace convscope::io
