#pragma once
/// Which blocks run fused. An inverted residual's expand 1x1 -> depthwise ->
/// project 1x1 chain can run op by op (every expanded tensor materialised, as
/// ONNX Runtime runs it), fused in row bands (the expanded rows stay in cache),
/// or fused over channel slices (the MobileNetV2 paper's t-way split: least
/// memory); a separable block's depthwise -> pointwise chain op by op or in
/// row bands. Which is faster depends on the block's shape, the machine and
/// the thread count, so by default the latency model decides, block by block,
/// from the two schedules' predicted steps.

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "cost/analysis.h"
#include "ir/graph.h"
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
  /// Auto: chains whose form was measured on this machine (calibrate --fusion)
  /// rather than predicted.
  int measured = 0;
  /// "auto (latency model): 11 of 17 blocks fused in row bands, predicted 0.52 ms faster"
  [[nodiscard]] std::string summary() const;
};

/// A fusible chain timed both ways on this machine (calibrate --fusion).
struct MeasuredForm {
  double fused_ns = 0, unfused_ns = 0;
  [[nodiscard]] bool fused_faster() const { return fused_ns < unfused_ns; }
};

/// What identifies a chain's two forms for a measured choice: its shape
/// (channels, maps, kernel, stride, activations, groups, shuffles, shortcut)
/// and the batch; the same chain in another network runs alike.
std::string chain_key(const runtime::BottleneckShape& b, std::int64_t batch);

/// Where measured forms are kept: fusion-choices.json beside the latency models.
std::filesystem::path fusion_cache_path();

/// The forms measured on this CPU with table `isa` and `threads` threads at
/// this kernel revision, by chain_key (empty when none: other revisions'
/// are stale and not used). Read again only when the file changes.
std::map<std::string, MeasuredForm> measured_forms(const std::string& isa, int threads);

/// Adds (or replaces) `forms` for this CPU, `isa` and `threads`, written
/// atomically; forms of an older kernel revision are dropped.
Result<bool> save_measured_forms(const std::string& isa, int threads, const std::map<std::string, MeasuredForm>& forms);

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
/// chain runs in the form measured faster on this machine (measured_forms,
/// when `model` is this machine's calibrated model for the table and thread
/// count), else in row bands where `model` predicts them faster than its ops
/// one by one by kFusionMargin, op by op elsewhere and everywhere when there
/// is no model.
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

/// One fusible block of a fusion check: its chain run both ways.
struct BlockFusionCheck {
  int node = -1;     ///< graph node
  std::string name;  ///< its id
  std::string key;   ///< chain_key
  /// Measured: the block's steps, each the median over the rounds, summed.
  double fused_ns = 0, unfused_ns = 0;
  double predicted_fused_ns = 0, predicted_unfused_ns = 0;
  bool chosen = false;  ///< auto runs it fused
  /// What auto's choice costs against the faster form measured (0 when it picked it).
  [[nodiscard]] double lost_ns() const {
    const double took = chosen ? fused_ns : unfused_ns;
    return took - std::min(fused_ns, unfused_ns);
  }
};

/// Every fusible block of a network measured fused in row bands and op by op,
/// beside what the latency model predicts and what auto chooses: how far the
/// choice can be trusted on this machine.
struct FusionCheck {
  std::vector<BlockFusionCheck> blocks;
  int rounds = 0;
  int threads = 1;
  /// The measured sums: every block fused, every block op by op, as auto
  /// chooses, and each block in its faster form.
  [[nodiscard]] double total_ns(bool fused) const;
  [[nodiscard]] double auto_ns() const;
  [[nodiscard]] double best_ns() const;
};

/// Builds `graph` twice (`base` op by op, and with every chain in row bands),
/// runs `warmup` rounds and then `rounds` rounds alternating the two plans, each
/// step timed on its own in run order (as the profile times steps), and sums
/// each block's steps. Alternating within every round keeps both forms in the
/// same state of the machine: on a shared machine whole runs of one form and
/// then the other drift apart by more than the forms differ. Auto's choice is
/// apply_fusion's with `model`.
Result<FusionCheck> check_fusion(const ir::Graph& graph, const cost::Analysis& a, const LatencyModel& model,
                                 runtime::PlanOptions base, int rounds, int warmup = 3,
                                 const std::atomic<bool>* cancel = nullptr);

}  // namespace convscope::profile
