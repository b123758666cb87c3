#include "runtime/weights.h"

#include <cmath>
#include <string_view>

#include "util/checked.h"

namespace convscope::runtime {
namespace {

std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

/// splitmix64: small, fast, and good enough for initial weights.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [lo, hi).
  float uniform(float lo, float hi) {
    const double u = static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0);
    return static_cast<float>(lo + (hi - lo) * u);
  }

 private:
  std::uint64_t s_;
};

void fill(std::vector<float>& v, std::size_t n, Rng& rng, float lo, float hi) {
  v.resize(n);
  for (float& x : v) x = rng.uniform(lo, hi);
}

}  // namespace

Weights Weights::generate(const ir::Graph& graph, const cost::Analysis& a, std::uint64_t seed) {
  Weights w;
  w.ops_.resize(a.ops.size());
  for (std::size_t i = 0; i < a.ops.size(); ++i) {
    const auto& o = a.ops[i];
    const ir::Shape& in = a.tensors[static_cast<std::size_t>(o.inputs.front())].shape;
    Rng rng(fnv1a(o.op.name, fnv1a(graph.nodes[static_cast<std::size_t>(o.node)].id, seed * 0x100000001B3ull + 7)));
    OpWeights& ow = w.ops_[i];
    auto he = [&](std::int64_t count, std::int64_t fan_in) {
      // Uniform with He's variance 2 / fan_in.
      const float a_ = std::sqrt(6.0f / static_cast<float>(std::max<std::int64_t>(fan_in, 1)));
      fill(ow.w, static_cast<std::size_t>(count), rng, -a_, a_);
    };
    switch (o.op.kind) {
      case ir::OpKind::Conv: {
        const std::int64_t fan_in = o.op.k_h * o.op.k_w * (in.c / o.op.groups);
        he(o.op.out_c * fan_in, fan_in);
        break;
      }
      case ir::OpKind::ConvTranspose: {
        const std::int64_t per = o.op.k_h * o.op.k_w * (o.op.out_c / o.op.groups);
        he(in.c * per, o.op.k_h * o.op.k_w * in.c / o.op.groups / (o.op.stride * o.op.stride));
        break;
      }
      case ir::OpKind::FullyConnected:
        he(o.op.out_c * in.elements(), in.elements());
        break;
      case ir::OpKind::BatchNorm: {
        const auto c = static_cast<std::size_t>(in.c);
        fill(ow.gamma, c, rng, 0.5f, 1.5f);
        fill(ow.beta, c, rng, -0.1f, 0.1f);
        fill(ow.mean, c, rng, -0.1f, 0.1f);
        fill(ow.var, c, rng, 0.5f, 1.5f);
        break;
      }
      case ir::OpKind::Activation:
      case ir::OpKind::Add:
      case ir::OpKind::Mul:
      case ir::OpKind::Concat:
      case ir::OpKind::Slice:
      case ir::OpKind::ChannelShuffle:
      case ir::OpKind::Pool:
      case ir::OpKind::GlobalPool:
      case ir::OpKind::Upsample:
      case ir::OpKind::CReLU:
        break;
    }
    if (o.op.bias) fill(ow.bias, static_cast<std::size_t>(o.op.out_c), rng, -0.1f, 0.1f);
  }
  return w;
}

Weights Weights::with_named(const ir::Graph& graph, const cost::Analysis& a,
                            const std::map<std::string, OpWeights>& named, std::uint64_t seed, std::size_t* used) {
  Weights w = generate(graph, a, seed);
  std::size_t n = 0;
  for (std::size_t i = 0; i < a.ops.size(); ++i) {
    const auto& o = a.ops[i];
    auto it = named.find(graph.nodes[static_cast<std::size_t>(o.node)].id + "/" + o.op.name);
    if (it == named.end()) continue;
    const OpWeights& given = it->second;
    const OpWeights& shape = w.ops_[i];
    // Only weights of exactly the expected sizes replace the generated ones.
    if (given.w.size() != shape.w.size() || given.bias.size() != shape.bias.size() ||
        given.gamma.size() != shape.gamma.size())
      continue;
    w.ops_[i] = given;
    ++n;
  }
  if (used) *used = n;
  return w;
}

Result<bool> check_weight_memory(const cost::Analysis& a, std::int64_t limit_bytes) {
  std::int64_t total = 0, largest = 0;
  const cost::OpRecord* big = nullptr;
  for (const auto& o : a.ops) {
    const std::int64_t floats = sat_add(sat_add(o.cost.weights, o.cost.biases), o.cost.bn_params);
    total = sat_add(total, floats);
    if (floats > largest) {
      largest = floats;
      big = &o;
    }
  }
  if (total <= limit_bytes / 4) return true;
  return fail("", "the weights need " + std::to_string(total) + " floats (" + std::to_string(total / (1 << 20) * 4) +
                      " MiB), over the memory limit of " + std::to_string(limit_bytes >> 20) + " MiB; largest: op '" +
                      (big ? big->op.name : std::string("?")) + "' with " + std::to_string(largest) + " floats");
}

}  // namespace convscope::runtime
