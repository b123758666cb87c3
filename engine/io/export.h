#pragma once
/// Exports of an analyzed graph for other tools: Graphviz DOT and PyTorch
/// module source (the graph file itself is graph_json.h; the per-layer report
/// as CSV is report.h).

#include <string>

#include "cost/analysis.h"
#include "ir/graph.h"

namespace convscope::io {

/// A Graphviz digraph: one node per block (id, kind, output shape, MAdds and
/// parameters), one edge per input; invalid blocks drawn red with the reason.
std::string to_dot(const ir::Graph& graph, const cost::Analysis& a);

/// Python source defining `class Net(torch.nn.Module)` with one layer per
/// primitive op and a forward() that wires them as the graph does (NCHW). Its
/// sum of parameters() equals `stats --convention torchvision`. The analysis
/// must be complete.
std::string to_pytorch(const ir::Graph& graph, const cost::Analysis& a);

}  // namespace convscope::io
