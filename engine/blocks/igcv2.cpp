// IGCV2, interleaved structured sparse convolution: a channel-wise k x k
// convolution, then L - 1 group 1x1 convolutions with K_l channels per branch,
// an interleaving permutation after each. With K_2 * ... * K_L = C every output
// channel reaches every input channel through exactly one path (the strict
// complementary condition, checked on the real connectivity by the cost
// model); the balance condition K_2 = ... = K_L minimises the weights for a
// given L, and L = 1 + ln C overall. The block reports both with its numbers.
#include "blocks/igcv2.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <numeric>
#include <tuple>

#include "blocks/common.h"

namespace convscope::blocks {

namespace igcv2 {
namespace {

struct Split {
  std::int64_t sum = 0;
  std::vector<std::int64_t> factors;
};

/// Factors >= 2 and <= max_factor, non-increasing, multiplying to d, with the smallest sum.
std::optional<Split> split(std::int64_t d, std::int64_t parts, std::int64_t max_factor,
                           std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, std::optional<Split>>& memo) {
  if (parts == 1) return d >= 2 && d <= max_factor ? std::optional<Split>{Split{d, {d}}} : std::nullopt;
  const auto key = std::make_tuple(d, parts, max_factor);
  if (auto it = memo.find(key); it != memo.end()) return it->second;
  std::optional<Split> best;
  auto consider = [&](std::int64_t f) {
    if (f < 2 || f > max_factor || (d / f) < (std::int64_t{1} << (parts - 1))) return;
    auto rest = split(d / f, parts - 1, f, memo);
    if (rest && (!best || f + rest->sum < best->sum)) {
      best = Split{f + rest->sum, {f}};
      best->factors.insert(best->factors.end(), rest->factors.begin(), rest->factors.end());
    }
  };
  for (std::int64_t i = 2; i * i <= d; ++i)
    if (d % i == 0) {
      consider(i);
      if (i != d / i) consider(d / i);
    }
  consider(d);
  memo[key] = best;
  return best;
}

/// Number of prime factors of c, with multiplicity.
std::int64_t prime_factors(std::int64_t c) {
  std::int64_t n = 0;
  for (std::int64_t p = 2; p * p <= c; ++p)
    while (c % p == 0) c /= p, ++n;
  return n + (c > 1 ? 1 : 0);
}

}  // namespace

std::int64_t weights(std::int64_t c, std::int64_t n, std::int64_t k, const std::vector<std::int64_t>& branches) {
  std::int64_t w = k * k * c;
  for (std::size_t l = 0; l < branches.size(); ++l) w += branches[l] * (l + 1 == branches.size() ? n : c);
  return w;
}

std::optional<std::vector<std::int64_t>> balanced_branches(std::int64_t c, std::int64_t parts) {
  if (parts < 1 || c < 2 || parts > prime_factors(c)) return std::nullopt;
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, std::optional<Split>> memo;
  auto s = split(c, parts, c, memo);
  return s ? std::optional<std::vector<std::int64_t>>{s->factors} : std::nullopt;
}

Optimum optimum(std::int64_t c, std::int64_t k) {
  Optimum best;
  for (std::int64_t m = 1; m <= prime_factors(c); ++m) {
    const auto b = balanced_branches(c, m);
    if (!b) continue;
    const std::int64_t w = weights(c, c, k, *b);
    if (best.layers == 0 || w < best.weights) best = Optimum{m + 1, *b, w};
  }
  return best;
}

}  // namespace igcv2

namespace {

std::string joined(const std::vector<std::int64_t>& v, const char* sep) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + num(v[i]);
  return s;
}

class Igcv2Block final : public BlockKind {
 public:
  Igcv2Block()
      : BlockKind(
            {.name = "igcv2",
             .title = "IGCV2 structured sparse conv",
             .category = Category::Block,
             .summary = "Channel-wise k x k, then L - 1 interleaved group 1x1 convs (K_l channels per branch)",
             .reference = "Xie et al., IGCV2: Interleaved Structured Sparse Convolutional Neural Networks, CVPR 2018",
             .params = {[] {
                          auto p = channels_param("out", 64, "output channels N of the last group conv; auto = C");
                          p.optional = true;
                          return p;
                        }(),
                        int_param("layers", 3, 2, 17, "L: group convolutions, the channel-wise k x k included"),
                        [] {
                          ir::ParamSpec p{"branches",
                                          ir::ParamType::IntList,
                                          std::string("8,8"),
                                          1,
                                          static_cast<double>(kDimLimit),
                                          {},
                                          "K_2..K_L: channels per branch of each group 1x1 conv (strict: product = C); "
                                          "auto = the most balanced split of C"};
                          p.optional = true;
                          return p;
                        }(),
                        kernel_param(3, "channel-wise kernel size k"), stride_param(),
                        bool_param("interleave", true,
                                   "permute channels between the group convs (without it the complementary "
                                   "condition breaks)"),
                        bool_param("bn", true, "batch norm after each convolution"),
                        activation_param("activation", "relu", "activation after the block")}}) {}

  void check(const BlockContext& c, Checks& checks) const override {
    const std::int64_t cin = c.in().c, layers = c.i("layers");
    const std::int64_t k = c.i("kernel");
    check_kernel_fits(c.in(), k, (k - 1) / 2, 1, checks);
    std::vector<std::int64_t> b;
    if (c.has("branches")) {
      std::string why;
      b = *ir::parse_int_list(c.s("branches"), why);  // the schema check has parsed it
      if (static_cast<std::int64_t>(b.size()) != layers - 1) {
        checks.error("branches", "has " + num(static_cast<std::int64_t>(b.size())) + " sizes; L = " + num(layers) +
                                     " needs L - 1 = " + num(layers - 1));
        return;
      }
      std::int64_t product = 1;
      for (std::size_t l = 0; l < b.size(); ++l) {
        if (cin % b[l] != 0) {
          checks.error("branches", "K_" + num(static_cast<std::int64_t>(l) + 2) + " = " + num(b[l]) +
                                       " does not divide the " + num(cin) + " input channels");
          return;
        }
        product = product > kDimLimit ? product : product * b[l];
      }
      if (product != cin) {
        checks.error("branches", joined(b, "*") + " = " + num(product) + " is not the " + num(cin) +
                                     " input channels (the strict complementary condition needs K_2*...*K_L = C)");
        return;
      }
    } else {
      auto auto_b = igcv2::balanced_branches(cin, layers - 1);
      if (!auto_b) {
        checks.error("layers", "C = " + num(cin) + " has too few prime factors to split into L - 1 = " +
                                   num(layers - 1) + " branch sizes >= 2");
        return;
      }
      b = *auto_b;
    }
    const std::int64_t n = c.has("out") ? c.i("out") : cin, last_groups = cin / b.back();
    if (n % last_groups != 0)
      checks.error("out", "the last group conv has C / K_L = " + num(last_groups) + " groups, which must divide the " +
                              num(n) + " output channels");
  }

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::OpBuilder b({c.in()});
    const Dims v = dims(c);
    const bool bn = c.b("bn");
    auto x = b.conv(b.input(0), {.out_c = v.c, .k = v.k, .stride = v.s, .pad = (v.k - 1) / 2, .groups = v.c},
                    "channelwise");
    if (bn) x = b.batch_norm(x, "channelwise_bn");
    for (std::size_t l = 0; l < v.branches.size(); ++l) {
      const std::string tag = std::to_string(l + 2);
      const bool last = l + 1 == v.branches.size();
      const std::int64_t groups = v.c / v.branches[l];
      x = b.conv(x, {.out_c = last ? v.n : v.c, .k = 1, .groups = groups}, "group" + tag);
      if (last) break;
      if (bn) x = b.batch_norm(x, "group" + tag + "_bn");
      // Mixed-radix interleave: the next conv's branch takes one channel from each of K_{l+1} groups.
      if (c.b("interleave")) x = b.channel_shuffle(x, groups, "interleave" + tag);
    }
    b.mark_connectivity_output(x);
    return std::move(b).finish(b.bn_act(x, bn, c.act("activation"), "out"));
  }

  Formula formula(const BlockContext& c) const override {
    const Dims v = dims(c);
    const std::int64_t ho = conv_out(c.in().h, v.k, v.s, (v.k - 1) / 2), wo = conv_out(c.in().w, v.k, v.s, (v.k - 1) / 2);
    const std::int64_t layers = static_cast<std::int64_t>(v.branches.size()) + 1;
    std::vector<std::int64_t> middle(v.branches.begin(), v.branches.end() - 1);
    Formula f;
    f.symbolic = layers > 2 ? "H'*W'*(k^2*C + C*(K_2 + ... + K_{L-1}) + K_L*N)" : "H'*W'*(k^2*C + K_2*N)";
    f.filled = num(ho) + "*" + num(wo) + "*(" + num(v.k) + "^2*" + num(v.c) +
               (middle.empty()       ? ""
                : middle.size() == 1 ? " + " + num(v.c) + "*" + num(middle[0])
                                      : " + " + num(v.c) + "*(" + joined(middle, " + ") + ")") +
               " + " +
               num(v.branches.back()) + "*" + num(v.n) + ")";
    f.legend = "H'xW'=" + num(ho) + "x" + num(wo) + ", k=" + num(v.k) + ", C=" + num(v.c) + ", N=" + num(v.n) +
               ", L=" + num(layers) + ", K=" + joined(v.branches, ",");
    f.weights = igcv2::weights(v.c, v.n, v.k, v.branches);
    f.madds = ho * wo * f.weights;
    // The balance condition and the optimal depth, as in the paper (C -> C).
    const bool balanced = std::adjacent_find(v.branches.begin(), v.branches.end(), std::not_equal_to<>()) ==
                          v.branches.end();
    f.notes.push_back("balance condition K_2 = ... = K_L: " +
                      std::string(balanced ? "holds (K = " + num(v.branches.front()) + " = C^(1/(L-1)))"
                                           : "does not hold (K = " + joined(v.branches, ", ") + ")") +
                      "; for a given L the weights k^2*C + C*(K_2 + ... + K_L) are smallest when it holds");
    const auto best = igcv2::optimum(v.c, v.k);
    if (best.layers > 0) {
      const std::int64_t sum = std::accumulate(best.branches.begin(), best.branches.end(), std::int64_t{0});
      f.notes.push_back("fewest weights for C = " + num(v.c) + " (C -> C, K_2*...*K_L = C): L = " + num(best.layers) +
                        ", K = " + joined(best.branches, ",") + ": " + num(v.k) + "^2*" + num(v.c) + " + " + num(v.c) +
                        "*" + num(sum) + " = " + thousands(best.weights) + " weights, " +
                        thousands(ho * wo * best.weights) + " MAdds at " + num(ho) + "x" + num(wo) +
                        " (with this block's L and K: " + thousands(igcv2::weights(v.c, v.c, v.k, v.branches)) +
                        " weights); real-valued optimum L = 1 + ln C = " +
                        fixed1(1.0 + std::log(static_cast<double>(v.c))) + " with K = e");
    }
    return f;
  }

  std::optional<ir::ParamMap> compare_config(std::int64_t out_c, std::int64_t stride) const override {
    return ir::ParamMap{{"out", out_c}, {"stride", stride}};
  }

 private:
  struct Dims {
    std::int64_t c, n, k, s;
    std::vector<std::int64_t> branches;
  };
  static std::string fixed1(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
  }
  static Dims dims(const BlockContext& c) {
    Dims v{};
    v.c = c.in().c;
    v.n = c.has("out") ? c.i("out") : v.c;
    v.k = c.i("kernel");
    v.s = c.i("stride");
    if (c.has("branches")) {
      std::string why;
      v.branches = *ir::parse_int_list(c.s("branches"), why);
    } else {
      v.branches = igcv2::balanced_branches(v.c, c.i("layers") - 1).value_or(std::vector<std::int64_t>{v.c});
    }
    return v;
  }
  std::optional<ir::ParamValue> derived(const BlockContext& c, std::string_view name) const override {
    if (c.n_inputs() == 0 || c.has(name)) return std::nullopt;
    if (name == "out") return ir::ParamValue{c.in().c};
    if (name == "branches")
      if (auto b = igcv2::balanced_branches(c.in().c, c.i("layers") - 1)) return ir::ParamValue{ir::int_list_str(*b)};
    return std::nullopt;
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_igcv2_block() { return std::make_unique<Igcv2Block>(); }

}  // namespace convscope::blocks
