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
  // Inner tensors of each block: its op outputs other than the block output,
  // each live over [first, last] among the block's op positions; a sweep over
  // those positions gives the most live at once (linear in the block's ops).
  std::vector<std::int64_t> inner_delta;
  for (int p = 0; p < n_seq; ++p) {
    NodeRecord& rec = a.nodes[static_cast<std::size_t>(seq[static_cast<std::size_t>(p)])];
    const int f = rec.first_op, n = rec.n_ops;
    inner_delta.assign(static_cast<std::size_t>(n) + 1, 0);
    for (int q = f; q < f + n; ++q) {
      const auto t = static_cast<std::size_t>(a.ops[static_cast<std::size_t>(q)].output);
      if (static_cast<int>(t) == rec.output_tensor) continue;
      const int lo = std::max(first[t], f), hi = std::min(last[t], f + n - 1);
      if (lo > hi) continue;
      inner_delta[static_cast<std::size_t>(lo - f)] += bytes(t);
      inner_delta[static_cast<std::size_t>(hi - f) + 1] -= bytes(t);
    }
    std::int64_t live_inner = 0, peak = 0;
    for (int k = 0; k < n; ++k) peak = std::max(peak, live_inner += inner_delta[static_cast<std::size_t>(k)]);
    rec.inner_peak_bytes = peak;
  }
  // Block outputs: block q's output lives from its position to its last reader's
  // (to the end for a graph output); the same sweep over positions.
  std::vector<std::int64_t> out_delta(static_cast<std::size_t>(n_seq) + 1, 0);
  for (int q = 0; q < n_seq; ++q) {
    const NodeRecord& other = a.nodes[static_cast<std::size_t>(seq[static_cast<std::size_t>(q)])];
    const int lu = node_last[static_cast<std::size_t>(seq[static_cast<std::size_t>(q)])];
    const int end = lu < 0 ? n_seq - 1 : std::max(lu, q);  // read by nobody: a graph output, kept to the end
    out_delta[static_cast<std::size_t>(q)] += other.out.elements() * bpe;
    out_delta[static_cast<std::size_t>(end) + 1] -= other.out.elements() * bpe;
  }
  std::int64_t best = 0, best_split = 0, boundary = 0;
  for (int p = 0; p < n_seq; ++p) {
    boundary += out_delta[static_cast<std::size_t>(p)];
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
