#pragma once
/// The oracle: every primitive op as plain loops, no SIMD, no fusion, no
/// cleverness. Optimised kernels and the planned executor are tested against it.

#include <vector>

#include "ir/op.h"
#include "runtime/tensor.h"
#include "runtime/weights.h"

namespace convscope::kernels::ref {

/// Computes `op` on `inputs` into `out` (already shaped by the caller).
void run_op(const ir::Op& op, const std::vector<const runtime::Tensor*>& inputs, const runtime::OpWeights& w,
            runtime::Tensor& out);

}  // namespace convscope::kernels::ref
