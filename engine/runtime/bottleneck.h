#pragma once
/// The fused bottleneck: an expand 1x1 -> depthwise -> project 1x1 chain (the
/// inverted residual), or a depthwise -> pointwise chain (the separable
/// block), run as one step over channel slices (the t-way split) or over bands
/// of output rows, so the expanded tensor never exists whole. This file
/// matches the chain in an analysis; bottleneck.cpp also runs the step.

#include <cstdint>
#include <optional>
#include <vector>

#include "runtime/schedule.h"

namespace convscope::runtime {

/// A matched chain: the step (its shape, covered ops, name, weights and
/// traffic; not its values or MAdds, which the scheduler assigns) and the
/// analysis tensors it reads and writes.
struct BottleneckMatch {
  ScheduledStep step;
  int in_tensor = -1, out_tensor = -1;
};

/// expand 1x1 [+bn][+act] -> depthwise [+bn][+act] -> project 1x1 [+bn]
/// [-> add(block input)][+act] (in row bands: the 1x1s grouped or not, a
/// shuffle after each allowed, or no project at all) starting at analysis op `i` (or, with
/// options.fuse_rows, from the depthwise on), every intermediate read only by
/// the next op, all in one graph node: one FusedBottleneck step over
/// options.split slices or, with fuse_rows, over row bands sized for
/// kBandBytes. `readers`: readers per analysis tensor.
std::optional<BottleneckMatch> match_bottleneck(const cost::Analysis& a, const std::vector<int>& readers, std::size_t i,
                                                const PlanOptions& options, const kernels::KernelTable& kt,
                                                std::int64_t n);

}  // namespace convscope::runtime
