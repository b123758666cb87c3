#pragma once
/// The cost of one primitive op, per image, before any convention is applied.
/// MAdds follow the papers (one per multiply-accumulate; conv and fc only);
/// everything else that computes is "other ops" with the per-element constants
/// documented in docs/conventions.md, so nothing is hidden.

#include <cstdint>
#include <span>
#include <string>

#include "ir/op.h"
#include "ir/shape.h"
#include "util/result.h"

namespace convscope::cost {

struct OpCost {
  std::int64_t madds = 0;            ///< multiply-accumulates
  std::int64_t weights = 0;          ///< weight parameters (no bias, no batch norm)
  std::int64_t biases = 0;           ///< bias parameters the op is built with
  std::int64_t bn_params = 0;        ///< batch norm scale + shift (2 per channel)
  std::int64_t other_ops = 0;        ///< non-MAdd arithmetic: bias adds, BN, activations, adds, pooling
  std::int64_t input_elements = 0;   ///< elements read from all inputs
  std::int64_t output_elements = 0;  ///< elements written
};

/// Per-element constants for "other ops" (see docs/conventions.md).
std::int64_t activation_ops_per_element(ir::Activation act);

/// Cost of `op` given its input and output shapes. Fails, naming the count,
/// when a count would pass the 2^62 limit.
tl::expected<OpCost, std::string> op_cost(const ir::Op& op, std::span<const ir::Shape> inputs, const ir::Shape& out);

}  // namespace convscope::cost
