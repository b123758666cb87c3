#pragma once
/// Graph passes: rewrites of an ir::Graph that keep what it computes.
///
/// recognize_blocks: op-by-op chains become ConvScope's blocks where the pattern
/// matches exactly, so costs, parameters and outputs are unchanged:
/// depthwise + pointwise -> separable; expand 1x1 + depthwise + project 1x1
/// (+ squeeze-excite, + shortcut) -> inverted_residual; squeeze 1x1 + expand
/// 1x1 / 3x3 + concat -> fire; four branches + concat -> inception. The ONNX
/// importer runs it on every model; `convscope-cli format --recognize-blocks`
/// runs it on a graph file written layer by layer.

#include <map>
#include <string>

#include "ir/graph.h"
#include "runtime/weights.h"

namespace convscope::passes {

/// Rewrites `g` in place. `weights` (optional, keyed "<block id>/<op name>") are
/// renamed to follow the merged blocks' op names.
void recognize_blocks(ir::Graph& g, std::map<std::string, runtime::OpWeights>* weights = nullptr);

}  // namespace convscope::passes
