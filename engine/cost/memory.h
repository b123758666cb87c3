#pragma once
/// Peak activation memory over the execution order, in the two views of the
/// MobileNetV2 paper (sec. 5.1): every op materialises its output, or each block
/// is one op whose inner tensors are disposable (optionally kept in t slices).

#include <cstdint>

#include "cost/analysis.h"

namespace convscope::cost {

/// Computes the memory report of `a` (its ops, tensors and order must be set)
/// and each node's inner_peak_bytes. `bytes_per_element` includes the batch.
MemoryReport peak_memory(Analysis& a, std::int64_t bytes_per_element, std::int64_t split);

}  // namespace convscope::cost
