#pragma once
/// The oracle: every primitive op as plain loops, no SIMD, no fusion, no
/// cleverness. Optimised kernels and the planned executor are tested against it.

#include <vector>

#include "ir/op.h"
#include "runtime/tensor.h"
#include "runtime/weights.h"

namespace convscope::runtime::ref {

/// Computes `op` on `inputs` into `out` (already shaped by the caller).
void run_op(const ir::Op& op, const std::vector<const Tensor*>& inputs, const OpWeights& w, Tensor& out);

}  // namespace convscope::runtime::ref
