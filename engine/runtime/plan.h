#pragma once
/// An execution plan: a Schedule (the steps, fusions and arena layout) made
/// real: weights folded and packed for the kernels, and the arena, where
/// buffers are reused once their last reader has run, allocated once, when the
/// plan is built, so runs never page-fault on fresh memory.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cost/analysis.h"
#include "kernels/kernels.h"
#include "runtime/schedule.h"
#include "runtime/thread_pool.h"
#include "runtime/weights.h"
#include "util/result.h"

namespace convscope::runtime {

/// Whether a plan of `sc` (arena, weights, scratch) fits `limit_bytes`; if not,
/// the message names the total, the limit and the largest tensor. Plan::build
/// checks it; callers check a schedule first to refuse before slower work.
Result<bool> check_plan_memory(const Schedule& sc, std::int64_t limit_bytes);

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
  /// What the plan was built from (steps, layout), for latency models.
  [[nodiscard]] const Schedule& schedule() const;

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
