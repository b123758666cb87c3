#pragma once
/// Runs an analyzed graph op by op with the reference kernels: the oracle for
/// the planned, fused, SIMD executor. Slow by design.

#include <vector>

#include "cost/analysis.h"
#include "runtime/tensor.h"
#include "runtime/weights.h"

namespace convscope::runtime {

/// Every tensor of the analysis (index = Analysis::tensors index), computed
/// from `inputs` (one per graph input, in graph order). The analysis must be complete.
std::vector<Tensor> run_reference(const cost::Analysis& a, const Weights& w, const std::vector<Tensor>& inputs);

/// Indices of the graph's input tensors (producer -1), in graph order.
std::vector<int> input_tensors(const cost::Analysis& a);
/// Indices of the graph's output tensors (read by no op), in execution order.
std::vector<int> output_tensors(const cost::Analysis& a);

}  // namespace convscope::runtime
