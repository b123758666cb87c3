#include "compress/deep_compression.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <queue>
#include <random>

#include "runtime/plan.h"

namespace convscope::compress {
namespace {

bool compressible(const ir::Op& op) {
  return op.kind == ir::OpKind::Conv || op.kind == ir::OpKind::ConvTranspose || op.kind == ir::OpKind::FullyConnected;
}

std::int64_t bytes_of_bits(double bits) { return static_cast<std::int64_t>(std::ceil(bits / 8.0)); }

double entropy(const std::vector<std::int64_t>& freq) {
  const double total = static_cast<double>(std::accumulate(freq.begin(), freq.end(), std::int64_t{0}));
  double h = 0;
  for (auto f : freq)
    if (f > 0) {
      const double p = static_cast<double>(f) / total;
      h -= p * std::log2(p);
    }
  return h;
}

/// Coded bits of a symbol stream and the bytes of its canonical code table
/// (one byte per used symbol, listed by code length, plus 32 length counts).
struct Coded {
  double bits = 0;
  std::int64_t table_bytes = 0;
};
Coded huffman_coded(const std::vector<std::int64_t>& freq) {
  const auto len = huffman_lengths(freq);
  Coded c;
  for (std::size_t s = 0; s < freq.size(); ++s)
    if (freq[s] > 0) {
      c.bits += static_cast<double>(freq[s]) * len[s];
      ++c.table_bytes;
    }
  c.table_bytes += 32;
  return c;
}

std::string layer_name(const ir::Graph& g, const cost::OpRecord& o) {
  return g.nodes[static_cast<std::size_t>(o.node)].id + "/" + o.op.name;
}

}  // namespace

std::vector<int> huffman_lengths(const std::vector<std::int64_t>& freq) {
  std::vector<int> len(freq.size(), 0);
  // Nodes: leaves 0..n-1, then internal ones; parent links give each leaf's depth.
  std::vector<int> parent;
  using Item = std::pair<std::int64_t, int>;  // (weight, node); ties by node index for determinism
  std::priority_queue<Item, std::vector<Item>, std::greater<>> q;
  std::vector<int> leaves;
  for (std::size_t s = 0; s < freq.size(); ++s)
    if (freq[s] > 0) {
      leaves.push_back(static_cast<int>(s));
      q.push({freq[s], static_cast<int>(parent.size())});
      parent.push_back(-1);
    }
  if (leaves.size() == 1) {
    len[static_cast<std::size_t>(leaves[0])] = 1;  // one symbol still takes a bit per occurrence
    return len;
  }
  while (q.size() > 1) {
    const auto a = q.top();
    q.pop();
    const auto b = q.top();
    q.pop();
    const int node = static_cast<int>(parent.size());
    parent.push_back(-1);
    parent[static_cast<std::size_t>(a.second)] = node;
    parent[static_cast<std::size_t>(b.second)] = node;
    q.push({a.first + b.first, node});
  }
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    int d = 0;
    for (int n = static_cast<int>(i); parent[static_cast<std::size_t>(n)] >= 0; n = parent[static_cast<std::size_t>(n)])
      ++d;
    len[static_cast<std::size_t>(leaves[i])] = d;
  }
  return len;
}

Clusters kmeans_linear(const std::vector<float>& values, int k, int iterations) {
  Clusters c;
  if (values.empty() || k < 1) return c;
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  const double lo = values[order.front()], hi = values[order.back()];
  std::vector<double> cent(static_cast<std::size_t>(k));
  for (int j = 0; j < k; ++j) cent[static_cast<std::size_t>(j)] = k == 1 ? (lo + hi) / 2 : lo + (hi - lo) * j / (k - 1);
  std::vector<int> code(values.size(), -1);  // by sorted position
  for (int it = 0; it < std::max(iterations, 1); ++it) {
    std::sort(cent.begin(), cent.end());
    // Sorted values against sorted centroids: one walk assigns each to its nearest.
    bool changed = false;
    std::size_t j = 0;
    std::vector<double> sum(cent.size(), 0.0);
    std::vector<std::int64_t> count(cent.size(), 0);
    for (std::size_t p = 0; p < order.size(); ++p) {
      const double v = values[order[p]];
      while (j + 1 < cent.size() && std::fabs(cent[j + 1] - v) <= std::fabs(cent[j] - v)) ++j;
      if (code[p] != static_cast<int>(j)) changed = true;
      code[p] = static_cast<int>(j);
      sum[j] += v;
      ++count[j];
    }
    for (std::size_t q = 0; q < cent.size(); ++q)
      if (count[q] > 0) cent[q] = sum[q] / static_cast<double>(count[q]);  // an empty cluster keeps its place
    if (!changed && it > 0) break;
  }
  c.centroids.assign(cent.begin(), cent.end());
  c.code.assign(values.size(), 0);
  for (std::size_t p = 0; p < order.size(); ++p) c.code[order[p]] = code[p];
  return c;
}

LayerResult compress_layer(std::vector<float>& w, double ratio, int bits, int index_bits, int iterations) {
  LayerResult r;
  const auto n = static_cast<std::int64_t>(w.size());
  r.weights = n;
  r.prune = ratio;
  r.bits = bits;
  r.index_bits = index_bits;
  // 1. Magnitude pruning: the floor(ratio * n) smallest |w| (ties by position) become zero.
  const auto remove = static_cast<std::int64_t>(std::floor(ratio * static_cast<double>(n)));
  if (remove > 0) {
    std::vector<std::int64_t> idx(static_cast<std::size_t>(n));
    std::iota(idx.begin(), idx.end(), std::int64_t{0});
    std::nth_element(idx.begin(), idx.begin() + (remove - 1), idx.end(), [&](std::int64_t a, std::int64_t b) {
      const float fa = std::fabs(w[static_cast<std::size_t>(a)]), fb = std::fabs(w[static_cast<std::size_t>(b)]);
      return fa < fb || (fa == fb && a < b);
    });
    for (std::int64_t i = 0; i < remove; ++i) w[static_cast<std::size_t>(idx[static_cast<std::size_t>(i)])] = 0.f;
  }
  // 2. Sparse storage: each entry stores the zeros skipped before it in index_bits;
  // a longer run gets a filler zero after every 2^index_bits - 1 zeros.
  const std::int64_t max_run = (std::int64_t{1} << index_bits) - 1;
  std::vector<std::int64_t> index_freq(static_cast<std::size_t>(max_run + 1), 0);
  std::vector<float> kept;
  std::vector<bool> is_filler;
  std::int64_t run = 0;
  for (std::int64_t p = 0; p < n; ++p) {
    const float v = w[static_cast<std::size_t>(p)];
    if (v == 0.f) {
      ++run;
      continue;
    }
    while (run > max_run) {
      ++index_freq[static_cast<std::size_t>(max_run)];
      ++r.fillers;
      run -= max_run + 1;
    }
    ++index_freq[static_cast<std::size_t>(run)];
    kept.push_back(v);
    run = 0;
  }
  r.kept = static_cast<std::int64_t>(kept.size());
  const std::int64_t entries = r.kept + r.fillers;
  r.dense_bytes = 4 * n;
  r.pruned_bytes = bytes_of_bits(static_cast<double>(entries) * (32 + index_bits));
  // 3. Weight sharing: k-means over the kept weights; one code is kept for the
  // filler zeros when there are any.
  const int codes = 1 << bits;
  const int k = std::max(1, r.fillers > 0 ? codes - 1 : codes);
  const Clusters cl = kmeans_linear(kept, k, iterations);
  std::vector<std::int64_t> value_freq(static_cast<std::size_t>(codes), 0);
  for (int c : cl.code) ++value_freq[static_cast<std::size_t>(c)];
  if (r.fillers > 0) value_freq[static_cast<std::size_t>(codes - 1)] += r.fillers;
  for (auto f : value_freq) r.clusters += f > 0;
  const std::int64_t codebook_bytes = 4 * static_cast<std::int64_t>(cl.centroids.size());
  r.quantised_bytes = bytes_of_bits(static_cast<double>(entries) * (bits + index_bits)) + codebook_bytes;
  // 4. Huffman coding of the codes and of the indices.
  const Coded hv = huffman_coded(value_freq), hi = huffman_coded(index_freq);
  r.huffman_bytes = bytes_of_bits(hv.bits + hi.bits) + codebook_bytes + hv.table_bytes + hi.table_bytes;
  r.value_bits = entries ? hv.bits / static_cast<double>(entries) : 0;
  r.index_bits_coded = entries ? hi.bits / static_cast<double>(entries) : 0;
  r.value_entropy = entropy(value_freq);
  r.index_entropy = entropy(index_freq);
  // The weights the compressed network runs with.
  std::size_t q = 0;
  for (auto& v : w)
    if (v != 0.f) v = cl.centroids[static_cast<std::size_t>(cl.code[q++])];
  return r;
}

Result<bool> check_options(const Options& o, const ir::Graph& g, const cost::Analysis& a) {
  auto ratio_ok = [](double r) { return r >= 0 && r < 1; };
  if (!ratio_ok(o.prune)) return fail("prune", "must be in [0, 1), got " + std::to_string(o.prune));
  const std::pair<const char*, int> bits[] = {{"conv bits", o.conv_bits},
                                              {"fc bits", o.fc_bits},
                                              {"conv index bits", o.conv_index_bits},
                                              {"fc index bits", o.fc_index_bits}};
  for (const auto& [name, b] : bits)
    if (b < 1 || b > 16) return fail(name, "must be in 1..16, got " + std::to_string(b));
  for (const auto& [key, r] : o.prune_layer) {
    if (!ratio_ok(r)) return fail("prune-layer " + key, "must be in [0, 1), got " + std::to_string(r));
    bool found = false;
    for (const auto& op : a.ops)
      if (compressible(op.op) && (layer_name(g, op) == key || g.nodes[static_cast<std::size_t>(op.node)].id == key))
        found = true;
    if (!found)
      return fail("prune-layer " + key,
                  "no convolution or fully connected layer is called that (use a block id or \"block/op\")");
  }
  return true;
}

Result<Report> deep_compress(const ir::Graph& graph, const cost::Analysis& a, const runtime::Weights& weights,
                             const Options& o, int inputs, std::uint64_t seed) {
  if (auto ok = check_options(o, graph, a); !ok) return tl::unexpected(ok.error());
  if (!a.complete()) return fail("", "the graph has problems; validate it first");
  Report rep;
  runtime::Weights compressed = weights;
  for (std::size_t i = 0; i < a.ops.size(); ++i) {
    const auto& op = a.ops[i];
    const auto& ow = weights.op(i);
    rep.other_bytes += 4 * static_cast<std::int64_t>(ow.bias.size() + ow.gamma.size() + ow.beta.size());
    if (!compressible(op.op) || ow.w.empty()) continue;
    const std::string name = layer_name(graph, op);
    double ratio = o.prune;
    if (auto it = o.prune_layer.find(graph.nodes[static_cast<std::size_t>(op.node)].id); it != o.prune_layer.end())
      ratio = it->second;
    if (auto it = o.prune_layer.find(name); it != o.prune_layer.end()) ratio = it->second;
    const bool fc = op.op.kind == ir::OpKind::FullyConnected;
    runtime::OpWeights cw = ow;
    LayerResult r = compress_layer(cw.w, ratio, fc ? o.fc_bits : o.conv_bits,
                                   fc ? o.fc_index_bits : o.conv_index_bits, o.kmeans_iterations);
    r.name = name;
    r.kind = fc ? "fc" : "conv";
    compressed.set(i, std::move(cw));
    rep.weights += r.weights;
    rep.kept += r.kept;
    rep.dense_bytes += r.dense_bytes;
    rep.pruned_bytes += r.pruned_bytes;
    rep.quantised_bytes += r.quantised_bytes;
    rep.huffman_bytes += r.huffman_bytes;
    rep.layers.push_back(std::move(r));
  }
  if (rep.layers.empty()) return fail("", "the model has no convolution or fully connected weights to compress");
  // The drift: the same random images through both networks.
  if (inputs > 0) {
    runtime::PlanOptions po;
    po.weights = &weights;
    auto base = runtime::Plan::build(graph, a, po);
    if (!base) return tl::unexpected(base.error());
    po.weights = &compressed;
    auto comp = runtime::Plan::build(graph, a, po);
    if (!comp) return tl::unexpected(comp.error());
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    double diff2 = 0, ref2 = 0;
    int same = 0;
    for (int img = 0; img < inputs; ++img) {
      for (std::size_t k = 0; k < base->n_inputs(); ++k) {
        const auto count = static_cast<std::size_t>(base->input_shape(k).elements() * base->batch());
        for (std::size_t e = 0; e < count; ++e) base->input(k)[e] = comp->input(k)[e] = u(rng);
      }
      base->run();
      comp->run();
      const auto count = static_cast<std::size_t>(base->output_shape(0).elements() * base->batch());
      const float* y = base->output(0);
      const float* z = comp->output(0);
      for (std::size_t e = 0; e < count; ++e) {
        const double d = static_cast<double>(y[e]) - z[e];
        diff2 += d * d;
        ref2 += static_cast<double>(y[e]) * y[e];
        rep.max_abs_diff = std::max(rep.max_abs_diff, std::fabs(d));
        rep.output_scale = std::max(rep.output_scale, std::fabs(static_cast<double>(y[e])));
      }
      same += std::max_element(y, y + count) - y == std::max_element(z, z + count) - z;
    }
    rep.inputs = inputs;
    rep.relative_l2 = ref2 > 0 ? std::sqrt(diff2 / ref2) : 0;
    rep.top1_agreement = static_cast<double>(same) / inputs;
  }
  return rep;
}

}  // namespace convscope::compress
