#pragma once
/// Analysis of a whole graph: validation, shape inference, lowering, per-op and
/// per-block costs under a counting convention, totals and peak memory. This is
/// what the CLI prints and what the canvas re-runs on every keystroke; invalid
/// blocks are reported with their field while the rest keeps its numbers.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "blocks/block_kind.h"
#include "cost/connectivity.h"
#include "cost/convention.h"
#include "cost/op_cost.h"
#include "ir/graph.h"

namespace convscope::cost {

/// Which tensors count toward peak memory.
enum class MemoryView {
  Ops,     ///< every op materialises its output (the default)
  Blocks,  ///< a block is one op: its inner tensors are disposable (MobileNetV2 paper, sec. 5.1)
};
std::string_view memory_view_name(MemoryView v);
bool parse_memory_view(std::string_view name, MemoryView& out);

struct AnalysisOptions {
  Convention convention = default_convention();
  Precision precision = Precision::FP32;
  MemoryView memory_view = MemoryView::Ops;
  /// Blocks view only: inner tensors materialised in `split` slices (the paper's
  /// t-way split); 0 = inner tensors not counted at all.
  std::int64_t split = 0;
};

/// Sums over ops, convention applied, times the batch size where per image.
struct Totals {
  std::int64_t madds = 0;
  std::int64_t flops = 0;   ///< 2 x madds
  std::int64_t params = 0;  ///< by the convention
  std::int64_t weights = 0;
  std::int64_t biases = 0;     ///< as built (whether or not counted in params)
  std::int64_t bn_params = 0;  ///< batch norm scale + shift (whether or not counted in params)
  std::int64_t other_ops = 0;
  std::int64_t weight_bytes = 0;            ///< stored parameters (weights, biases, BN) at the precision
  std::int64_t activation_bytes = 0;        ///< every op output at the precision
  std::int64_t bytes_moved = 0;             ///< inputs + outputs + parameters, each touched once
  [[nodiscard]] double intensity() const {  ///< FLOPs per byte moved
    return bytes_moved > 0 ? static_cast<double>(flops) / static_cast<double>(bytes_moved) : 0.0;
  }
  void add(const Totals& o);
};

/// One lowered op in the whole graph.
struct OpRecord {
  ir::Op op;
  int node = -1;            ///< index into Graph::nodes
  std::vector<int> inputs;  ///< global tensor indices
  int output = -1;
  OpCost cost;          ///< per image, before the convention
  Totals totals;        ///< convention and batch applied
  bool counted = true;  ///< false when excluded by the convention (classifier)
};

struct TensorRecord {
  ir::Shape shape;
  int producer = -1;  ///< op index, or -1 for a graph input
  int node = -1;      ///< node that owns it
};

enum class NodeStatus {
  Ok,          ///< valid, with shapes and costs
  Invalid,     ///< has its own problems (see NodeRecord::problems)
  Unresolved,  ///< valid itself, but an input has no shape (upstream problem)
};

struct NodeRecord {
  NodeStatus status = NodeStatus::Unresolved;
  Diagnostics problems;            ///< this block's own problems, with paths
  std::string unresolved_because;  ///< e.g. "input 'conv3' is invalid"
  const blocks::BlockKind* kind = nullptr;
  ir::ParamMap effective;  ///< every parameter as evaluated (defaults, alpha applied)
  ir::ParamMap derived;    ///< optional parameters left unset, as the block derives them (expanded = t * C_in)
  std::vector<ir::Shape> in_shapes;
  ir::Shape out;
  int output_tensor = -1;
  int first_op = 0;  ///< range into Analysis::ops
  int n_ops = 0;
  Totals totals;
  std::optional<blocks::Formula> formula;
  std::optional<Connectivity> connectivity;  ///< interleaved group convolutions only
  /// Blocks view: largest sum of the block's inner tensors live at once (bytes).
  std::int64_t inner_peak_bytes = 0;
};

struct MemoryReport {
  std::int64_t ops_peak_bytes = 0;           ///< every op materialises its output
  int ops_peak_at = -1;                      ///< op index where the peak occurs
  std::int64_t blocks_peak_bytes = 0;        ///< blocks as single ops, inner tensors disposable
  int blocks_peak_at = -1;                   ///< node index
  std::int64_t split = 0;                    ///< the t of the split view
  std::int64_t blocks_split_peak_bytes = 0;  ///< blocks view, inner tensors in `split` slices
  std::int64_t peak_bytes = 0;               ///< the selected view
};

struct Analysis {
  AnalysisOptions options;
  ir::Settings settings;          ///< as evaluated
  std::int64_t classes = 0;       ///< classifier outputs after the convention (0: no classifier)
  std::vector<NodeRecord> nodes;  ///< index = graph node index
  std::vector<int> order;         ///< execution order of node indices (valid and not)
  std::vector<OpRecord> ops;      ///< in execution order
  std::vector<TensorRecord> tensors;
  Totals totals;  ///< over counted ops of valid blocks
  MemoryReport memory;
  Diagnostics diagnostics;  ///< every problem, graph order

  /// True when every block is valid (totals cover the whole graph).
  [[nodiscard]] bool complete() const { return diagnostics.empty(); }
};

/// Analyzes `graph` under `options`. Never throws on bad input: problems end up
/// in Analysis::diagnostics and the affected NodeRecords.
Analysis analyze(const ir::Graph& graph, const AnalysisOptions& options = {});

/// Evaluates a node's parameters: schema defaults, range checks, width
/// multiplier, class count and resolution. Appends problems to `problems` using
/// `path` (e.g. "blocks[3]") as the prefix.
ir::ParamMap effective_params(const blocks::BlockKind& kind, const ir::Node& node, const ir::Settings& settings,
                              std::int64_t classes, const std::string& path, Diagnostics& problems);

}  // namespace convscope::cost
