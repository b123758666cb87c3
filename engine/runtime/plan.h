#pragma once
/// An execution plan: the analyzed graph's ops in execution order, with
/// convolution + bias + batch norm + activation fused into one step, weights
/// folded and packed for the kernels, and every tensor placed in one arena by
/// liveness (buffers are reused once their last reader has run). Memory is
/// allocated once, when the plan is built, so runs never page-fault on fresh memory.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cost/analysis.h"
#include "kernels/kernels.h"
#include "runtime/thread_pool.h"
#include "runtime/weights.h"
#include "util/result.h"

namespace convscope::runtime {

struct PlanOptions {
  int threads = 1;                   ///< 1 by default for stable numbers
  std::uint64_t seed = 1;            ///< deterministic weights (unless `weights` is given)
  const Weights* weights = nullptr;  ///< weights given by the caller, one per analysis op
  /// Refuse plans whose arena + weights + scratch exceed this many bytes.
  std::int64_t memory_limit_bytes = std::int64_t{4} << 30;
  bool fuse = true;  ///< fold BN into convolutions, fuse activations
  /// Run each expand 1x1 -> depthwise -> project 1x1 chain (the inverted
  /// residual) as one step over `split` channel slices of the expanded tensor,
  /// which then never exists whole (MobileNetV2 paper, sec. 5.1, the t-way
  /// split). 0 = run the chain op by op.
  std::int64_t split = 0;
  /// Convolutions feeding only a concat write into its output directly.
  bool concat_in_place = true;
  /// Kernels to use (best_kernels() when null): tests pin the portable path.
  const kernels::KernelTable* kernels = nullptr;
};

enum class StepKind {
  Gemm,           ///< 1x1 stride-1 convolution or fully connected: one GEMM
  ConvIm2col,     ///< any other convolution: im2col tiles + GEMM, per group
  Depthwise,      ///< depthwise convolution (one filter per channel)
  ConvTranspose,  ///< GEMM then col2im scatter
  ScaleShift,     ///< batch norm that could not be folded
  Activation,
  Add,
  Mul,  ///< per-channel scale (squeeze-excite)
  Concat,
  Slice,
  Shuffle,
  Pool,
  GlobalPool,
  Upsample,
  CReLU,
  /// expand 1x1 + depthwise + project 1x1 (+ shortcut) over channel slices
  FusedBottleneck,
};
std::string_view step_kind_name(StepKind k);

/// One step of a plan, as reported to profilers and users.
struct StepInfo {
  StepKind kind;
  int node = -1;         ///< graph node the step belongs to
  std::vector<int> ops;  ///< analysis op indices it covers (fused ops share a step)
  std::string name;      ///< e.g. "expand+expand_bn+expand_relu6"
  ir::Shape out;
  std::int64_t madds = 0;  ///< per batch
  std::int64_t flops = 0;  ///< 2 x madds + other ops, per batch
  std::int64_t bytes = 0;  ///< inputs + output + parameters read, per batch
};

class Plan {
 public:
  Plan();
  ~Plan();
  Plan(Plan&&) noexcept;
  Plan& operator=(Plan&&) noexcept;

  /// Builds a plan for a complete analysis of `graph`. Fails (naming the tensor
  /// and its size) when the memory limit would be exceeded.
  static Result<Plan> build(const ir::Graph& graph, const cost::Analysis& a, const PlanOptions& options = {});

  /// Input i (graph order): batch x h x w x c floats to fill before run().
  [[nodiscard]] float* input(std::size_t i);
  [[nodiscard]] ir::Shape input_shape(std::size_t i) const;
  [[nodiscard]] std::size_t n_inputs() const;
  /// Output i (tensors no op reads, in execution order).
  [[nodiscard]] const float* output(std::size_t i) const;
  [[nodiscard]] ir::Shape output_shape(std::size_t i) const;
  [[nodiscard]] std::size_t n_outputs() const;
  [[nodiscard]] std::int64_t batch() const;

  /// Runs every step.
  void run();
  /// Runs one step (profilers time them one by one).
  void run_step(std::size_t i);
  [[nodiscard]] std::size_t n_steps() const;
  [[nodiscard]] const StepInfo& step(std::size_t i) const;

  /// Bytes of the activation arena (tensors passed between steps).
  [[nodiscard]] std::int64_t arena_bytes() const;
  /// Bytes of the steps' own temporaries (im2col tiles, bottleneck slices).
  [[nodiscard]] std::int64_t scratch_bytes() const;
  /// Bytes of packed weights and biases.
  [[nodiscard]] std::int64_t weight_bytes() const;
  [[nodiscard]] int threads() const;
  [[nodiscard]] kernels::Isa isa() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace convscope::runtime
