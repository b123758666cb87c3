#pragma once
/// Which blocks run fused. An inverted residual's expand 1x1 -> depthwise ->
/// project 1x1 chain can run op by op (every expanded tensor materialised, as
/// ONNX Runtime runs it), fused in row bands (the expanded rows stay in cache),
/// or fused over channel slices (the MobileNetV2 paper's t-way split: least
/// memory); a separable block's depthwise -> pointwise chain op by op or in
/// row bands. Which is faster depends on the block's shape, the machine and
/// the thread count, so by default the latency model decides, block by block,
/// from the two schedules' predicted steps.

#include <optional>
#include <string>
#include <string_view>

#include "cost/analysis.h"
#include "profile/latency_model.h"
#include "runtime/schedule.h"
#include "util/result.h"

namespace convscope::profile {

/// What --fuse-bottleneck (and the app's setting) asks for.
struct FusionSetting {
  enum class Mode { Auto, Off, Rows, Slices };
  Mode mode = Mode::Auto;
  std::int64_t slices = 0;  ///< Mode::Slices

  /// "auto", "off", "rows" or "slices T".
  [[nodiscard]] std::string str() const;
};

/// "auto", "off", "rows", or a slice count T >= 1; anything else is refused
/// with a message naming what was given.
Result<FusionSetting> parse_fusion(std::string_view text);

/// What was decided, for reports.
struct FusionChoice {
  FusionSetting setting;
  int candidates = 0;  ///< chains that can fuse
  int fused = 0;       ///< chains that run fused
  /// Auto: the predicted time of the chosen form and of every chain op by op.
  double predicted_ns = 0, predicted_unfused_ns = 0;
  bool model_used = false;  ///< auto with a latency model (else op by op)
  /// "auto (latency model): 11 of 17 blocks fused in row bands, predicted 0.52 ms faster"
  [[nodiscard]] std::string summary() const;
};

/// A chain fuses only where the model predicts its band step at least this
/// share faster than its ops one by one: smaller differences are within what
/// one recalibration moves, and at two threads the compared schedules skip
/// the placement by thread. Model v37 flipped MobileNetV1's 14 x 14 separable
/// blocks to fused on a predicted 0.6 % gain (measured 4-7 % slower fused,
/// Zen 5, one thread, three alternated rounds) and fused its first block at
/// two threads on 4.6 % (the network 1-4 % slower, four rounds). Against 3 %,
/// 5 % ran EfficientNet-B0 2 % faster at one thread (four rounds out of four;
/// MobileNetV2 within the noise).
inline constexpr double kFusionMargin = 0.05;

/// `base` with `setting` applied (split, fuse_rows, fused_nodes). Auto: each
/// chain runs in row bands where `model` predicts them faster than its ops one
/// by one by kFusionMargin, op by op elsewhere and everywhere when there is no
/// model.
/// Building the two schedules and predicting them costs well under a
/// millisecond for a preset. `schedule`, when given, receives the schedule of
/// the options returned if one built on the way is it (nothing to fuse, every
/// block or none chosen, rows forced) and was placed as the plan will be (on
/// one thread, or without PlanOptions::place_by_thread: the schedules compared
/// here skip that placement), else nullopt: callers that only predict then
/// need not build it again.
runtime::PlanOptions apply_fusion(const ir::Graph& graph, const cost::Analysis& a, const LatencyModel* model,
                                  const FusionSetting& setting, runtime::PlanOptions base,
                                  FusionChoice* choice = nullptr, std::optional<runtime::Schedule>* schedule = nullptr);

}  // namespace convscope::profile
