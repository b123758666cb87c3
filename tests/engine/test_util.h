#pragma once
// Helpers shared by the engine tests.
#include <string>
#include <vector>

#include "cost/analysis.h"
#include "ir/graph.h"
#include "runtime/tensor.h"

namespace convscope::testing {

/// Loads presets/<name>.json; fails the test (via ADD_FAILURE) and returns an empty graph if it cannot.
ir::Graph load_preset(const std::string& name);
/// The analysis of a preset under a named convention.
cost::Analysis analyze_preset(const std::string& name, const std::string& convention = "paper", double alpha = 1.0,
                              int resolution = 0);
/// A graph: one input of h x w x c feeding one block of `kind` with `params`.
ir::Graph single_block(const std::string& kind, const ir::ParamMap& params, ir::Shape in);
/// A graph exercising one block kind: an input of shape `in` feeding the block
/// (every input of a multi-input kind; where the kind wants a 1x1xC side input,
/// as a channel scale does, the extra inputs come through a global pool).
ir::Graph graph_for_kind(const std::string& kind, const ir::ParamMap& params, ir::Shape in, double alpha = 1.0);
/// One tensor per graph input, uniform in [-1, 1) from `seed` (same seed, same values).
std::vector<runtime::Tensor> random_inputs(const cost::Analysis& a, unsigned seed);
/// NHWC -> NCHW (ONNX's layout), batch included.
std::vector<float> to_nchw(const runtime::Tensor& t);
/// The node record of the block with this id.
const cost::NodeRecord& node(const ir::Graph& g, const cost::Analysis& a, const std::string& id);
/// Reads a whole file.
std::string read_file(const std::string& path);
/// The preset folder.
std::string preset_dir();
/// Every preset's name (the .json files of the preset folder), sorted.
std::vector<std::string> preset_names();

}  // namespace convscope::testing
