#include "cost/analysis.h"

#include <algorithm>
#include <cassert>
#include <set>
#include <string_view>
#include <unordered_map>

#include "blocks/registry.h"
#include "cost/memory.h"
#include "util/checked.h"

namespace convscope::cost {
namespace {

std::string node_path(std::size_t index) { return "blocks[" + std::to_string(index) + "]"; }

/// Kahn's algorithm, preferring file order among ready nodes. Nodes on a cycle
/// (or behind one) are returned in `stuck`.
void topo_order(const ir::Graph& g, const std::vector<std::vector<int>>& preds, std::vector<int>& order,
                std::vector<int>& stuck) {
  const std::size_t n = g.nodes.size();
  std::vector<int> indeg(n, 0);
  std::vector<std::vector<int>> succ(n);
  for (std::size_t i = 0; i < n; ++i)
    for (int p : preds[i]) {
      ++indeg[i];
      succ[static_cast<std::size_t>(p)].push_back(static_cast<int>(i));
    }
  std::set<int> ready;
  for (std::size_t i = 0; i < n; ++i)
    if (indeg[i] == 0) ready.insert(static_cast<int>(i));
  while (!ready.empty()) {
    const int v = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(v);
    for (int s : succ[static_cast<std::size_t>(v)])
      if (--indeg[static_cast<std::size_t>(s)] == 0) ready.insert(s);
  }
  for (std::size_t i = 0; i < n; ++i)
    if (indeg[i] > 0) stuck.push_back(static_cast<int>(i));
}

/// A cycle among `stuck` nodes, as "a -> b -> a", starting at `start`.
/// Text of a cycle: its blocks in edge order, back to the first; long cycles
/// show their first dozen blocks and how many more there are.
std::string describe_cycle(const ir::Graph& g, const std::vector<int>& cyc) {
  std::string s;
  const std::size_t shown = std::min<std::size_t>(cyc.size(), 12);
  for (std::size_t i = 0; i < shown; ++i) s += "'" + g.nodes[static_cast<std::size_t>(cyc[i])].id + "' -> ";
  if (shown < cyc.size()) return s + "... (" + std::to_string(cyc.size()) + " blocks in all)";
  return s + "'" + g.nodes[static_cast<std::size_t>(cyc.front())].id + "'";
}

/// Reports every cycle among the stuck nodes once, on its first block in file
/// order; the other blocks on it and behind it are left unresolved (their input
/// has no shape).
/// Each stuck node is walked once (predecessor walks stop at nodes already
/// seen), so this is linear in the graph.
void report_cycles(const ir::Graph& g, const std::vector<std::vector<int>>& preds, const std::vector<int>& stuck,
                   std::vector<NodeRecord>& nodes) {
  const std::size_t n = g.nodes.size();
  std::vector<bool> in_stuck(n, false);
  for (int v : stuck) in_stuck[static_cast<std::size_t>(v)] = true;
  std::vector<int> walk_of(n, -1), pos_in_walk(n, -1);
  for (int s : stuck) {
    if (walk_of[static_cast<std::size_t>(s)] >= 0) continue;
    std::vector<int> path;
    int v = s;
    while (v >= 0 && walk_of[static_cast<std::size_t>(v)] < 0) {
      walk_of[static_cast<std::size_t>(v)] = s;
      pos_in_walk[static_cast<std::size_t>(v)] = static_cast<int>(path.size());
      path.push_back(v);
      int next = -1;
      for (int p : preds[static_cast<std::size_t>(v)])
        if (in_stuck[static_cast<std::size_t>(p)]) {
          next = p;
          break;
        }
      v = next;
    }
    // Stopped at a node of this walk: a new cycle. (At a node of an earlier walk, or at
    // none, this walk only leads to a cycle already reported.)
    if (v < 0 || walk_of[static_cast<std::size_t>(v)] != s) continue;
    // Predecessor walk goes against edge direction: reversed, it is the cycle in edge order.
    std::vector<int> cyc(path.begin() + pos_in_walk[static_cast<std::size_t>(v)], path.end());
    std::reverse(cyc.begin(), cyc.end());
    const int reporter = *std::min_element(cyc.begin(), cyc.end());
    std::rotate(cyc.begin(), std::find(cyc.begin(), cyc.end(), reporter), cyc.end());
    nodes[static_cast<std::size_t>(reporter)].problems.push_back(
        {node_path(static_cast<std::size_t>(reporter)) + ".inputs", "cycle " + describe_cycle(g, cyc)});
  }
}

/// Channel connectivity depends only on the block's kind, parameters and input
/// shapes. Re-costing after an edit re-analyzes every block, so unchanged blocks
/// reuse their matrix from a small per-thread cache.
std::optional<Connectivity> cached_connectivity(const blocks::BlockKind& kind, const blocks::BlockContext& ctx,
                                                const ir::BlockLowering& low) {
  std::string key = kind.name();
  for (const auto& [name, value] : ctx.params()) key += "|" + name + "=" + ir::param_value_str(value);
  for (std::size_t i = 0; i < ctx.n_inputs(); ++i) key += "|" + ctx.in(i).str();
  thread_local std::unordered_map<std::string, std::optional<Connectivity>> cache;
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  if (cache.size() >= 256) cache.clear();
  auto c = channel_connectivity(low, low.connectivity_output);
  cache.emplace(std::move(key), c);
  return c;
}

}  // namespace

std::string_view memory_view_name(MemoryView v) {
  switch (v) {
    case MemoryView::Ops:
      return "ops";
    case MemoryView::Blocks:
      return "blocks";
  }
  return "?";
}

bool parse_memory_view(std::string_view name, MemoryView& out) {
  for (MemoryView v : {MemoryView::Ops, MemoryView::Blocks})
    if (memory_view_name(v) == name) {
      out = v;
      return true;
    }
  return false;
}

void Totals::add(const Totals& o) {
  madds = sat_add(madds, o.madds);
  flops = sat_add(flops, o.flops);
  params = sat_add(params, o.params);
  weights = sat_add(weights, o.weights);
  biases = sat_add(biases, o.biases);
  bn_params = sat_add(bn_params, o.bn_params);
  other_ops = sat_add(other_ops, o.other_ops);
  weight_bytes = sat_add(weight_bytes, o.weight_bytes);
  activation_bytes = sat_add(activation_bytes, o.activation_bytes);
  bytes_moved = sat_add(bytes_moved, o.bytes_moved);
}

ir::ParamMap effective_params(const blocks::BlockKind& kind, const ir::Node& node, const ir::Settings& settings,
                              std::int64_t classes, const std::string& path, Diagnostics& problems) {
  ir::ParamMap eff;
  for (const auto& [name, value] : node.params) {
    if (!kind.param(name)) {
      std::string known;
      for (const auto& p : kind.info().params) known += (known.empty() ? "" : ", ") + p.name;
      problems.push_back({path + "." + name, "unknown parameter for '" + kind.name() + "'" +
                                                 (known.empty() ? " (it takes none)" : " (known: " + known + ")")});
    }
  }
  const bool is_input = kind.info().category == blocks::Category::Input;
  for (const auto& spec : kind.info().params) {
    auto it = node.params.find(spec.name);
    if (it == node.params.end()) {
      if (!spec.optional) eff.emplace(spec.name, spec.def);
      continue;
    }
    ir::ParamValue v = it->second;
    // Integers are fine where a real number is expected.
    if (spec.type == ir::ParamType::Float)
      if (const auto* i = std::get_if<std::int64_t>(&v)) v = static_cast<double>(*i);
    if (auto complaint = ir::check_param(spec, v)) {
      problems.push_back({path + "." + spec.name, *complaint});
      continue;
    }
    eff.emplace(spec.name, std::move(v));
  }
  for (const auto& spec : kind.info().params) {
    if (spec.type != ir::ParamType::Channels) continue;
    auto it = eff.find(spec.name);
    if (it == eff.end()) continue;
    auto& c = std::get<std::int64_t>(it->second);
    if (node.classifier && spec.name == "out") {
      c = classes > 0 ? classes : c;
    } else {
      c = ir::scale_channels(c, settings.alpha, settings.channel_divisor, node.width);
    }
  }
  if (is_input && settings.resolution) {
    eff["height"] = *settings.resolution;
    eff["width"] = *settings.resolution;
  }
  return eff;
}

Analysis analyze(const ir::Graph& graph, const AnalysisOptions& options) {
  Analysis a;
  a.options = options;
  a.settings = graph.settings;
  const auto& registry = blocks::Registry::builtin();
  const std::size_t n = graph.nodes.size();
  a.nodes.resize(n);
  const std::int64_t bpe = bytes_per_element(options.precision);
  const std::int64_t batch = graph.settings.batch;

  // Settings.
  if (!(graph.settings.alpha > 0.0) || graph.settings.alpha > 16.0)
    a.diagnostics.push_back({"settings.alpha", "must be in (0, 16], got " + std::to_string(graph.settings.alpha)});
  if (graph.settings.resolution && (*graph.settings.resolution < 1 || *graph.settings.resolution > kDimLimit))
    a.diagnostics.push_back({"settings.resolution", "must be in 1.." + std::to_string(kDimLimit) + ", got " +
                                                        std::to_string(*graph.settings.resolution)});
  if (graph.settings.classes && (*graph.settings.classes < 1 || *graph.settings.classes > kDimLimit))
    a.diagnostics.push_back({"settings.classes", "must be in 1.." + std::to_string(kDimLimit) + ", got " +
                                                     std::to_string(*graph.settings.classes)});
  if (graph.settings.channel_divisor < 1 || graph.settings.channel_divisor > 1024)
    a.diagnostics.push_back(
        {"settings.channel_divisor", "must be in 1..1024, got " + std::to_string(graph.settings.channel_divisor)});
  if (graph.settings.batch < 1 || graph.settings.batch > 65536)
    a.diagnostics.push_back({"settings.batch", "must be in 1..65536, got " + std::to_string(graph.settings.batch)});
  if (!a.diagnostics.empty()) {
    for (auto& node : a.nodes) node.unresolved_because = "the graph settings are invalid";
    return a;
  }

  // Structure: ids, kinds, edges, arity. Ids are looked up in a hash map (the
  // first block with an id, as Graph::find), so this stays linear in the graph.
  std::unordered_map<std::string_view, int> index_of;
  index_of.reserve(n);
  for (std::size_t i = 0; i < n; ++i) index_of.emplace(graph.nodes[i].id, static_cast<int>(i));
  auto find = [&](const std::string& id) {
    const auto it = index_of.find(id);
    return it == index_of.end() ? -1 : it->second;
  };
  std::vector<std::vector<int>> preds(n);
  for (std::size_t i = 0; i < n; ++i) {
    const ir::Node& node = graph.nodes[i];
    NodeRecord& rec = a.nodes[i];
    const std::string path = node_path(i);
    rec.kind = registry.find(node.kind);
    if (node.id.empty()) rec.problems.push_back({path + ".id", "must not be empty"});
    if (const int first = find(node.id); !node.id.empty() && first != static_cast<int>(i))
      rec.problems.push_back(
          {path + ".id", "duplicate id '" + node.id + "' (also " + node_path(static_cast<std::size_t>(first)) + ")"});
    if (!rec.kind) rec.problems.push_back({path + ".kind", "unknown block kind '" + node.kind + "'"});
    for (std::size_t k = 0; k < node.inputs.size(); ++k) {
      const int p = find(node.inputs[k]);
      const std::string ipath = path + ".inputs[" + std::to_string(k) + "]";
      if (p < 0)
        rec.problems.push_back({ipath, "no block with id '" + node.inputs[k] + "'"});
      else if (static_cast<std::size_t>(p) == i)
        rec.problems.push_back({ipath, "a block cannot feed itself"});
      else
        preds[i].push_back(p);
    }
    if (rec.kind) {
      const auto& info = rec.kind->info();
      const std::size_t got = node.inputs.size();
      if (got < info.min_inputs || got > info.max_inputs) {
        std::string want = info.min_inputs == info.max_inputs ? "exactly " + std::to_string(info.min_inputs)
                           : info.max_inputs == blocks::kVariadic
                               ? "at least " + std::to_string(info.min_inputs)
                               : std::to_string(info.min_inputs) + " to " + std::to_string(info.max_inputs);
        rec.problems.push_back({path + ".inputs", "'" + node.kind + "' takes " + want + " input" +
                                                      (info.max_inputs == 1 ? "" : "s") + ", got " +
                                                      std::to_string(got)});
      }
      if (node.classifier && !rec.kind->param("out"))
        rec.problems.push_back({path + ".classifier", "'" + node.kind + "' has no output count to set to the classes"});
    }
  }

  std::vector<int> stuck;
  topo_order(graph, preds, a.order, stuck);
  if (!stuck.empty()) {
    report_cycles(graph, preds, stuck, a.nodes);
    for (int v : stuck) a.order.push_back(v);
  }


  // Class count: the settings override the classifier's own, the convention may add one.
  for (std::size_t i = 0; i < n; ++i) {
    if (!graph.nodes[i].classifier || !a.nodes[i].kind) continue;
    std::int64_t base = 0;
    auto it = graph.nodes[i].params.find("out");
    if (graph.settings.classes)
      base = *graph.settings.classes;
    else if (it != graph.nodes[i].params.end() && std::holds_alternative<std::int64_t>(it->second))
      base = std::get<std::int64_t>(it->second);
    else if (const auto* spec = a.nodes[i].kind->param("out"))
      base = std::get<std::int64_t>(spec->def);
    a.classes = base + (options.convention.background_class ? 1 : 0);
    break;
  }

  // Blocks in execution order: parameters, checks, lowering, costs.
  std::vector<std::int64_t> tensor_last_use;
  for (int idx : a.order) {
    const auto i = static_cast<std::size_t>(idx);
    const ir::Node& node = graph.nodes[i];
    NodeRecord& rec = a.nodes[i];
    const std::string path = node_path(i);
    if (!rec.kind) {
      rec.status = NodeStatus::Invalid;
      continue;
    }
    rec.effective = effective_params(*rec.kind, node, graph.settings, a.classes, path, rec.problems);
    if (!rec.problems.empty()) {
      rec.status = NodeStatus::Invalid;
      continue;
    }
    // Inputs must be resolved.
    std::vector<int> in_tensors;
    for (const auto& in_id : node.inputs) {
      const int p = find(in_id);
      const NodeRecord& pr = a.nodes[static_cast<std::size_t>(p)];
      if (pr.status != NodeStatus::Ok) {
        rec.unresolved_because =
            "input '" + in_id + "' " + (pr.status == NodeStatus::Invalid ? "is invalid" : "has no shape");
        break;
      }
      in_tensors.push_back(pr.output_tensor);
      rec.in_shapes.push_back(pr.out);
    }
    if (!rec.unresolved_because.empty()) {
      rec.status = NodeStatus::Unresolved;
      continue;
    }
    const blocks::BlockContext ctx(rec.effective, rec.in_shapes);
    blocks::Checks checks;
    if (rec.in_shapes.size() == node.inputs.size()) rec.kind->check(ctx, checks);
    for (const auto& item : checks.items()) rec.problems.push_back({path + "." + item.field, item.message});
    if (!rec.problems.empty()) {
      rec.status = NodeStatus::Invalid;
      continue;
    }
    for (const auto& spec : rec.kind->info().params)
      if (spec.optional && !ctx.has(spec.name))
        if (auto v = rec.kind->derived(ctx, spec.name)) rec.derived[spec.name] = *v;
    ir::BlockLowering low = rec.kind->lower(ctx);
    for (const auto& e : low.errors) rec.problems.push_back({path, e});
    // Every tensor within the size limit, batch included, so no byte count can wrap.
    for (const auto& t : low.tensors)
      if (!checked_product({t.h, t.w, t.c, a.settings.batch, bpe}) || t.elements() > kTensorElementLimit) {
        rec.problems.push_back({path, "tensor " + t.str() + " (batch " + std::to_string(a.settings.batch) +
                                          ") exceeds the tensor size limit of 2^40 elements"});
        break;
      }
    if (low.output == ir::kNoTensor && rec.problems.empty())
      rec.problems.push_back({path, "lowering produced no output"});
    // Costs per op (checked).
    std::vector<OpCost> costs;
    for (const auto& op : low.ops) {
      if (!rec.problems.empty()) break;
      std::vector<ir::Shape> ins;
      for (auto t : op.inputs) ins.push_back(low.tensors[static_cast<std::size_t>(t)]);
      auto c = op_cost(op.op, ins, low.tensors[static_cast<std::size_t>(op.output)]);
      if (!c)
        rec.problems.push_back({path, "op '" + op.op.name + "': " + c.error()});
      else
        costs.push_back(*c);
    }
    if (!rec.problems.empty()) {
      rec.status = NodeStatus::Invalid;
      continue;
    }

    // Map local tensors to global ones and record the ops.
    std::vector<int> global(low.tensors.size(), -1);
    for (std::size_t t = 0; t < low.n_inputs; ++t) global[t] = in_tensors[t];
    rec.first_op = static_cast<int>(a.ops.size());
    for (std::size_t k = 0; k < low.ops.size(); ++k) {
      const auto& lop = low.ops[k];
      OpRecord orec;
      orec.op = lop.op;
      orec.node = idx;
      for (auto t : lop.inputs) orec.inputs.push_back(global[static_cast<std::size_t>(t)]);
      orec.output = static_cast<int>(a.tensors.size());
      global[static_cast<std::size_t>(lop.output)] = orec.output;
      a.tensors.push_back({low.tensors[static_cast<std::size_t>(lop.output)], static_cast<int>(a.ops.size()), idx});
      orec.cost = costs[k];
      orec.counted = !(node.classifier && !options.convention.include_classifier);
      a.ops.push_back(std::move(orec));
    }
    rec.n_ops = static_cast<int>(a.ops.size()) - rec.first_op;
    if (low.output >= 0 && global[static_cast<std::size_t>(low.output)] < 0) {
      // A source tensor (graph input).
      global[static_cast<std::size_t>(low.output)] = static_cast<int>(a.tensors.size());
      a.tensors.push_back({low.tensors[static_cast<std::size_t>(low.output)], -1, idx});
    }
    rec.output_tensor = global[static_cast<std::size_t>(low.output)];
    rec.out = low.tensors[static_cast<std::size_t>(low.output)];
    rec.formula = rec.kind->formula(ctx);
    if (low.connectivity_output != ir::kNoTensor) rec.connectivity = cached_connectivity(*rec.kind, ctx, low);
    rec.status = NodeStatus::Ok;
  }

  // Convention and batch per op; BN folding needs the producing op.
  const Convention& conv = options.convention;
  for (auto& o : a.ops) {
    const OpCost& c = o.cost;
    Totals& t = o.totals;
    t.madds = c.madds * batch;
    t.flops = 2 * t.madds;
    t.weights = c.weights;
    t.biases = c.biases;
    t.bn_params = c.bn_params;
    t.other_ops = c.other_ops * batch;
    std::int64_t folded_bias = 0;
    bool bn_folds = false;
    if (o.op.kind == ir::OpKind::BatchNorm) {
      const int producer = a.tensors[static_cast<std::size_t>(o.inputs.front())].producer;
      if (producer >= 0) {
        const auto& p = a.ops[static_cast<std::size_t>(producer)].op;
        if (p.kind == ir::OpKind::Conv || p.kind == ir::OpKind::ConvTranspose || p.kind == ir::OpKind::FullyConnected) {
          bn_folds = true;
          folded_bias = p.bias ? 0 : p.out_c;
        }
      }
    }
    t.params = c.weights + (conv.count_bias ? c.biases : 0);
    switch (conv.bn) {
      case BnCounting::Separate:
        break;
      case BnCounting::Counted:
        t.params += c.bn_params;
        break;
      case BnCounting::Folded:
        t.params += bn_folds ? (conv.count_bias ? folded_bias : 0) : c.bn_params;
        break;
    }
    t.weight_bytes = (c.weights + c.biases + c.bn_params) * bpe;
    t.activation_bytes = c.output_elements * batch * bpe;
    t.bytes_moved = (c.input_elements + c.output_elements) * batch * bpe + t.weight_bytes;
    if (!o.counted) continue;
    a.nodes[static_cast<std::size_t>(o.node)].totals.add(t);
    a.totals.add(t);
  }
  for (std::size_t i = 0; i < n; ++i)
    for (const auto& d : a.nodes[i].problems) a.diagnostics.push_back(d);

  a.memory = peak_memory(a, bpe * batch, options.split);
  a.memory.peak_bytes = options.memory_view == MemoryView::Ops
                            ? a.memory.ops_peak_bytes
                            : (options.split > 0 ? a.memory.blocks_split_peak_bytes : a.memory.blocks_peak_bytes);
  return a;
}

}  // namespace convscope::cost
