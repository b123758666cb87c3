#include "cost/memory.h"

#include <algorithm>

namespace convscope::cost {

MemoryReport peak_memory(Analysis& a, std::int64_t bpe, std::int64_t split) {
  MemoryReport r;
  r.split = split;
  const auto n_ops = static_cast<int>(a.ops.size());
  const std::size_t n_t = a.tensors.size();
  auto bytes = [&](std::size_t t) { return a.tensors[t].shape.elements() * bpe; };

  // Ops view: a tensor lives from its producer (or the start) to its last reader
  // (or the end, for graph outputs).
  std::vector<int> first(n_t), last(n_t, -1);
  for (std::size_t t = 0; t < n_t; ++t) first[t] = std::max(a.tensors[t].producer, 0);
  for (int i = 0; i < n_ops; ++i)
    for (int t : a.ops[static_cast<std::size_t>(i)].inputs) last[static_cast<std::size_t>(t)] = i;
  for (std::size_t t = 0; t < n_t; ++t)
    if (last[t] < 0) last[t] = std::max(n_ops - 1, first[t]);
  std::vector<std::int64_t> delta(static_cast<std::size_t>(std::max(n_ops, 1)) + 1, 0);
  for (std::size_t t = 0; t < n_t; ++t) {
    delta[static_cast<std::size_t>(first[t])] += bytes(t);
    delta[static_cast<std::size_t>(last[t]) + 1] -= bytes(t);
  }
  std::int64_t live = 0;
  for (int i = 0; i < std::max(n_ops, 1); ++i) {
    live += delta[static_cast<std::size_t>(i)];
    if (live > r.ops_peak_bytes) {
      r.ops_peak_bytes = live;
      r.ops_peak_at = n_ops > 0 ? i : -1;
    }
  }

  // Blocks view: only block outputs (and graph inputs) are tensors; positions are
  // places in the execution order of valid nodes.
  std::vector<int> pos(a.nodes.size(), -1);
  std::vector<int> seq;
  for (int idx : a.order)
    if (a.nodes[static_cast<std::size_t>(idx)].status == NodeStatus::Ok) {
      pos[static_cast<std::size_t>(idx)] = static_cast<int>(seq.size());
      seq.push_back(idx);
    }
  const auto n_seq = static_cast<int>(seq.size());
  std::vector<int> node_last(a.nodes.size(), -1);
  for (int p = 0; p < n_seq; ++p) {
    const NodeRecord& rec = a.nodes[static_cast<std::size_t>(seq[static_cast<std::size_t>(p)])];
    for (int k = rec.first_op; k < rec.first_op + rec.n_ops; ++k)
      for (int t : a.ops[static_cast<std::size_t>(k)].inputs) {
        const int owner = a.tensors[static_cast<std::size_t>(t)].node;
        if (owner >= 0 && a.nodes[static_cast<std::size_t>(owner)].output_tensor == t)
          node_last[static_cast<std::size_t>(owner)] = p;
      }
  }
  // Inner tensors of each block: its op outputs other than the block output.
  for (int p = 0; p < n_seq; ++p) {
    NodeRecord& rec = a.nodes[static_cast<std::size_t>(seq[static_cast<std::size_t>(p)])];
    std::int64_t peak = 0;
    for (int k = rec.first_op; k < rec.first_op + rec.n_ops; ++k) {
      std::int64_t inner = 0;
      for (int q = rec.first_op; q < rec.first_op + rec.n_ops; ++q) {
        const auto t = static_cast<std::size_t>(a.ops[static_cast<std::size_t>(q)].output);
        if (static_cast<int>(t) == rec.output_tensor) continue;
        if (first[t] <= k && last[t] >= k) inner += bytes(t);
      }
      peak = std::max(peak, inner);
    }
    rec.inner_peak_bytes = peak;
  }
  std::int64_t best = 0, best_split = 0;
  for (int p = 0; p < n_seq; ++p) {
    std::int64_t boundary = 0;
    for (int q = 0; q <= p; ++q) {
      const NodeRecord& other = a.nodes[static_cast<std::size_t>(seq[static_cast<std::size_t>(q)])];
      const int lu = node_last[static_cast<std::size_t>(seq[static_cast<std::size_t>(q)])];
      const bool is_output = lu < 0;  // read by nobody: a graph output, kept to the end
      if (q == p || lu >= p || is_output) boundary += other.out.elements() * bpe;
    }
    const NodeRecord& rec = a.nodes[static_cast<std::size_t>(seq[static_cast<std::size_t>(p)])];
    if (boundary > best) {
      best = boundary;
      r.blocks_peak_at = seq[static_cast<std::size_t>(p)];
    }
    const std::int64_t inner = split > 0 ? (rec.inner_peak_bytes + split - 1) / split : 0;
    best_split = std::max(best_split, boundary + inner);
  }
  r.blocks_peak_bytes = best;
  r.blocks_split_peak_bytes = split > 0 ? best_split : best;
  return r;
}

}  // namespace convscope::cost
