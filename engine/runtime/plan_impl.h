#pragma once
/// What a built plan holds, shared by plan.cpp (building it) and plan_run.cpp
/// (running its steps). Private to the runtime: include runtime/plan.h instead.

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "runtime/plan.h"

namespace convscope::runtime {

namespace plan_detail {

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<float[], FreeDeleter>;

/// 64-byte aligned floats, zeroed (every page touched now, not during timing).
Buffer allocate(std::int64_t floats);

/// A fused bottleneck's weights: BN folded, packed per channel slice.
struct BottleneckWeights {
  std::vector<std::vector<float>> expand_w, dw_w, project_w;  // per slice, or per group in row bands
  std::vector<float> expand_bias, dw_bias, project_bias;
  /// A folded first shuffle: per project group, its segments' offsets (GemmArgs::a_seg_offsets).
  std::vector<std::int64_t> seg_offsets;
};

/// A scheduled step with its weights.
struct Step : ScheduledStep {
  std::vector<float> w;             // packed GEMM panels (per group, concatenated) or depthwise (pack_depthwise)
  std::vector<float> bias;          // folded bias [out_c]
  std::vector<float> scale, shift;  // ScaleShift
  /// A GEMM reading an unshuffled input (ScheduledStep::unshuffled): per group,
  /// where each of its segments starts in a pixel's channels (GemmArgs::a_seg_offsets).
  std::vector<std::int64_t> seg_offsets;
  BottleneckWeights bw;
};

/// Group `grp` of a grouped 1x1 convolution over m rows (pixels) of `a`
/// (lda floats apart), writing c (ldc apart): its k input channels of each row
/// and its n output channels, its panels at `packed_w` and its biases at
/// bias + grp * n. With `segments` > 0 (a folded channel shuffle) the group
/// reads the whole row instead, in that many segments of k / segments
/// channels starting at seg_offsets[grp * (segments + 1) ...] (GemmArgs::a_seg).
kernels::GemmArgs group_gemm(std::int64_t grp, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
                             std::int64_t lda, const float* packed_w, float* c, std::int64_t ldc, const float* bias,
                             ir::Activation act, std::int64_t segments = 0, const std::int64_t* seg_offsets = nullptr);

}  // namespace plan_detail

using plan_detail::BottleneckWeights;
using plan_detail::Buffer;
using plan_detail::group_gemm;
using plan_detail::Step;

struct Plan::Impl {
  Schedule schedule;
  const kernels::KernelTable* kt = nullptr;
  std::unique_ptr<ThreadPool> pool;
  std::int64_t batch = 1;
  std::vector<ScheduledValue> values;
  std::vector<Step> steps;
  std::vector<int> inputs, outputs;  // value ids
  Buffer arena;
  std::int64_t arena_floats = 0;
  std::vector<Buffer> scratch;  // one per thread
  std::int64_t scratch_floats = 0;
  std::int64_t weight_floats = 0;

  float* ptr(int v) const {
    const ScheduledValue& val = values[static_cast<std::size_t>(v)];
    if (val.parent >= 0) return arena.get() + values[static_cast<std::size_t>(val.parent)].offset + val.channel_offset;
    return arena.get() + val.offset;
  }
  /// Floats between neighbouring pixels of a value (its parent's channels when in place).
  std::int64_t stride(int v) const { return pixel_stride(values, v); }
  /// Splits [0, n) across the pool when the schedule says the step runs across
  /// the threads (StepInfo::parallel).
  void split(const Step& s, std::int64_t n, const std::function<void(std::int64_t, std::int64_t)>& fn,
             std::int64_t grain = 1) const {
    if (!s.info.parallel)
      fn(0, n);
    else
      pool->parallel_for(n, fn, grain, step_kind_traits(s.info.kind).balances);
  }
  /// Splits a step's pixels [0, n) in contiguous ranges, as GEMM steps split
  /// their rows: each thread then reads the pixels it wrote in the step before
  /// (on a VM whose two vCPUs sit on different core complexes, a shuffle run on
  /// one thread after a two-thread GEMM read half its input from the other
  /// core's cache and took 5x as long).
  void split_pixels(const Step& s, std::int64_t n, const std::function<void(std::int64_t, std::int64_t)>& fn) const {
    split(s, n, fn, 8);
  }
  const ir::Shape& shape(int v) const { return values[static_cast<std::size_t>(v)].shape; }

  void run_step(const Step& s);
  void run_conv_im2col(const Step& s);
  void run_conv_transpose(const Step& s);
  void run_winograd(const Step& s);
  void run_bottleneck(const Step& s);       // channel slices
  void run_bottleneck_rows(const Step& s);  // row bands
  std::int64_t bottleneck_floats = 0;
  /// Shared by every fused bottleneck (steps run one at a time); row bands take one part per thread.
  Buffer bottleneck_scratch;
};

}  // namespace convscope::runtime
