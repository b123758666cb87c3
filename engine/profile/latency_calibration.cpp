#include "profile/latency_calibration.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <thread>

#include <nlohmann/json.hpp>

#include "cost/analysis.h"
#include "io/graph_json.h"
#include "kernels/cpu.h"
#include "profile/calibration.h"
#include "profile/profiler.h"
#include "profile/speed_probe.h"
#include "profile/stats.h"
#include "runtime/plan.h"

namespace convscope::profile {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

/// A deterministic pick from a list (the probe set must not change between runs).
class Picker {
 public:
  explicit Picker(std::uint64_t seed) : state_(seed) {}
  template <class T>
  T pick(const std::vector<T>& v) {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return v[static_cast<std::size_t>((state_ >> 33) % v.size())];
  }

 private:
  std::uint64_t state_;
};

/// input (h x w x c) followed by `blocks`; a block without "inputs" reads the one before.
std::string graph(std::int64_t h, std::int64_t w, std::int64_t c, std::vector<json> blocks) {
  json all = json::array();
  all.push_back({{"id", "input"}, {"kind", "input"}, {"height", h}, {"width", w}, {"channels", c}});
  std::string prev = "input";
  int n = 0;
  for (auto& b : blocks) {
    if (!b.contains("id")) b["id"] = "b" + std::to_string(n++);
    if (!b.contains("inputs")) b["inputs"] = json::array({prev});
    prev = b["id"].get<std::string>();
    all.push_back(b);
  }
  return json{{"format", "convscope-graph"}, {"version", 1}, {"name", "probe"}, {"blocks", all}}.dump();
}

const std::vector<std::int64_t> kChannels{16,  24,  32,  48,  64,  96,  128, 144, 160,  192, 240,
                                          256, 320, 384, 480, 512, 576, 672, 960, 1024, 1280};
const std::vector<std::int64_t> kSizes{7, 14, 28, 56, 112};
constexpr int kRandomNetworks = 40;
/// Probes between two timings of the speed probe (each about 20 ms).
constexpr int kProbesPerSpeedMark = 12;
const std::vector<std::string> kActs{"relu6", "relu", "hswish", "swish", "none"};

std::int64_t round8(double x) { return std::max<std::int64_t>(8, static_cast<std::int64_t>(std::lround(x / 8)) * 8); }

/// A random network in the style of the efficient families (stem, five stages
/// of random units, 1x1 head, classifier): steps are then timed where a network
/// runs them, after the step that wrote their input and with the weights of a
/// whole network competing for the caches.
Probe random_network(Picker& r) {
  std::vector<json> b;
  int n = 0;
  auto id = [&] { return "n" + std::to_string(n++); };
  std::string cur = "input";
  auto push = [&](json blk, std::vector<std::string> inputs = {}) {
    const std::string name = id();
    blk["id"] = name;
    blk["inputs"] = inputs.empty() ? std::vector<std::string>{cur} : inputs;
    b.push_back(std::move(blk));
    return name;
  };
  const std::int64_t res = r.pick(std::vector<std::int64_t>{128, 160, 192, 224});
  std::int64_t c = r.pick(std::vector<std::int64_t>{16, 24, 32});
  const std::string act = r.pick(std::vector<std::string>{"relu", "relu6", "hswish", "swish"});
  // A third of the networks are written op by op, as an imported ONNX model is:
  // convolutions without their batch norm and activation, which follow as blocks
  // of their own (the schedule fuses them back into the convolution's step).
  const bool op_by_op = r.pick(std::vector<int>{0, 0, 1}) == 1;
  auto conv = [&](json blk) {
    if (!op_by_op) return push(std::move(blk));
    const std::string f = blk.value("activation", std::string("relu"));
    blk["bn"] = false;
    blk["activation"] = "none";
    cur = push(std::move(blk));
    cur = push({{"kind", "batch_norm"}});
    return f == "none" ? cur : push({{"kind", "activation"}, {"function", f}});
  };
  cur = conv({{"kind", "conv"}, {"out", c}, {"stride", 2}, {"activation", act}});
  if (r.pick(std::vector<int>{0, 0, 1}) == 1)
    cur = push({{"kind", "pool"}, {"kernel", 3}, {"stride", 2}, {"padding", 1}});
  const double grow = r.pick(std::vector<double>{1.5, 2.0, 2.0});
  double width = static_cast<double>(c);
  for (int stage = 0; stage < 5; ++stage) {
    width *= stage == 0 ? 1.0 : grow;
    const std::int64_t out = round8(width * r.pick(std::vector<double>{0.75, 1.0, 1.25}));
    const int units = r.pick(std::vector<int>{1, 2, 3});
    for (int u = 0; u < units; ++u) {
      const std::int64_t s = (u == 0 && stage > 0) ? 2 : 1;
      const std::int64_t k = r.pick(std::vector<std::int64_t>{3, 3, 5});
      switch (r.pick(std::vector<int>{0, 0, 0, 1, 2, 3, 4, 5, 6})) {
        case 0:  // inverted residual
          cur = push({{"kind", "inverted_residual"},
                      {"out", out},
                      {"expansion", r.pick(std::vector<int>{3, 4, 6})},
                      {"kernel", k},
                      {"stride", s},
                      {"se", r.pick(std::vector<bool>{false, false, true})},
                      {"activation", act}});
          break;
        case 1:
          cur = push({{"kind", "separable"}, {"out", out}, {"kernel", k}, {"stride", s}, {"activation", act}});
          break;
        case 2:  // fire, after a pooling when it must downsample
          if (s == 2) cur = push({{"kind", "pool"}, {"kernel", 3}, {"stride", 2}, {"padding", 1}});
          cur = push({{"kind", "fire"},
                      {"squeeze", round8(static_cast<double>(c) / 6)},
                      {"expand1x1", out / 2},
                      {"expand3x3", out - out / 2},
                      {"bypass", c == out}});
          break;
        case 3:
          cur = conv({{"kind", "conv"}, {"out", out}, {"kernel", 3}, {"stride", s}, {"activation", act}});
          break;
        case 4:
          cur =
              push({{"kind", "igcv3"}, {"out", out}, {"expansion", r.pick(std::vector<int>{2, 4, 6})}, {"stride", s}});
          break;
        case 5: {  // ShuffleNet V2 unit (stride 1, equal halves), else an inverted residual
          if (s == 2 || c != out) {
            cur = push({{"kind", "inverted_residual"}, {"out", out}, {"expansion", 4}, {"kernel", k}, {"stride", s}});
            break;
          }
          const std::string left = push({{"kind", "split"}, {"parts", 2}, {"index", 0}});
          cur = push({{"kind", "split"}, {"parts", 2}, {"index", 1}});
          cur = conv({{"kind", "conv"}, {"out", c / 2}, {"kernel", 1}, {"activation", "relu"}});
          cur = push({{"kind", "depthwise"}, {"kernel", k}, {"activation", "none"}});
          cur = conv({{"kind", "conv"}, {"out", c / 2}, {"kernel", 1}, {"activation", "relu"}});
          cur = push({{"kind", "concat"}}, {left, cur});
          cur = push({{"kind", "channel_shuffle"}, {"groups", 2}});
          break;
        }
        default: {  // depthwise, then an element-wise oddity, then pointwise
          cur = push({{"kind", "depthwise"}, {"kernel", k}, {"stride", s}, {"activation", "none"}});
          const int extra = r.pick(std::vector<int>{0, 1, 2, 3});
          if (extra == 1)
            cur = push({{"kind", "activation"},
                        {"function", r.pick(std::vector<std::string>{"hswish", "sigmoid", "swish", "relu"})}});
          if (extra == 2) cur = push({{"kind", "crelu"}});
          if (extra == 3) cur = push({{"kind", "batch_norm"}});
          cur = conv({{"kind", "conv"}, {"out", out}, {"kernel", 1}, {"activation", act}});
          break;
        }
      }
      c = out;
    }
  }
  if (r.pick(std::vector<int>{0, 0, 0, 1}) == 1) {  // a segmentation-style tail
    cur = push({{"kind", "upsample"}, {"mode", r.pick(std::vector<std::string>{"nearest", "bilinear"})}});
    cur = push({{"kind", "conv"}, {"out", 64}, {"kernel", 1}});
  } else {
    cur = conv({{"kind", "conv"},
                {"out", r.pick(std::vector<std::int64_t>{576, 960, 1024, 1280})},
                {"kernel", 1},
                {"activation", act}});
    cur = push({{"kind", "global_pool"}});
    cur = push({{"kind", "fc"}, {"out", 1000}});
  }
  std::vector<json> all{{{"id", "input"}, {"kind", "input"}, {"height", res}, {"width", res}, {"channels", 3}}};
  all.insert(all.end(), b.begin(), b.end());
  return {"network",
          json{{"format", "convscope-graph"}, {"version", 1}, {"name", "probe network"}, {"blocks", all}}.dump(),
          r.pick(std::vector<std::int64_t>{0, 0, 3, 6})};
}

/// A network in EfficientNet's style at a random width and depth: inverted
/// residuals with squeeze-excite in every block, as wide as EfficientNet-B0
/// to B4 (weights + arena 16-70 MiB). Squeeze-excite's one-pixel GEMMs run
/// there with their weights beyond what L3 keeps between runs: EfficientNet-B0
/// and MobileNetV3-Large timed them at 1.4-2.1 times the v41 fit, which had
/// seen cold one-pixel GEMMs only in networks below about 12 MiB.
Probe se_network(Picker& r) {
  const double w = r.pick(std::vector<double>{0.75, 1.0, 1.25, 1.5, 2.0});
  const std::int64_t res = r.pick(std::vector<std::int64_t>{128, 160});
  const std::string act = r.pick(std::vector<std::string>{"swish", "swish", "hswish"});
  // (out, units, stride, kernel) of EfficientNet-B0's stages.
  const std::int64_t stages[7][4] = {{16, 1, 1, 3},  {24, 2, 2, 3},  {40, 2, 2, 5}, {80, 3, 2, 3},
                                     {112, 3, 1, 5}, {192, 4, 2, 5}, {320, 1, 1, 3}};
  std::vector<json> b;
  std::int64_t c = round8(32 * w);
  b.push_back({{"kind", "conv"}, {"out", c}, {"stride", 2}, {"activation", act}});
  for (const auto& st : stages) {
    const std::int64_t out = round8(static_cast<double>(st[0]) * w);
    const std::int64_t units = std::max<std::int64_t>(1, st[1] - r.pick(std::vector<std::int64_t>{0, 0, 1}));
    for (std::int64_t u = 0; u < units; ++u) {
      const std::int64_t e = st[0] == 16 ? 1 : 6;
      b.push_back({{"kind", "inverted_residual"},
                   {"out", out},
                   {"expansion", e},
                   {"kernel", st[3]},
                   {"stride", u == 0 ? st[2] : 1},
                   {"activation", act},
                   {"se", true},
                   {"se_channels", std::max<std::int64_t>(8, c / 4)},
                   {"se_activation", act},
                   {"se_gate", act == "swish" ? "sigmoid" : "hsigmoid"}});
      c = out;
    }
  }
  b.push_back({{"kind", "conv"}, {"out", round8(1280 * std::max(1.0, w))}, {"kernel", 1}, {"activation", act}});
  b.push_back({{"kind", "global_pool"}});
  b.push_back({{"kind", "fc"}, {"out", 1000}});
  return {"network", graph(res, res, 3, std::move(b)), 0, r.pick(std::vector<bool>{false, true})};
}

/// A network of interleaved group convolutions on MobileNetV1's skeleton at a
/// random width: IGCV2 blocks (a channel-wise 3x3, then two or three group 1x1
/// convolutions of 4 to 64 groups with permutations between) and ShuffleNet V1
/// units (group 1x1, shuffle, depthwise, group 1x1, residual add). Their grouped
/// GEMMs and many-group shuffles appear in no other probe network, and the
/// GEMM's fit uses only steps timed inside networks: without these, IGCV2's
/// steps were priced from the groups <= 2 of the random networks (extrapolated,
/// 14-18 % over at half width on an Intel Xeon, model v50).
Probe group_network(Picker& r) {
  const double w = r.pick(std::vector<double>{0.5, 0.75, 1.0});
  const std::int64_t res = r.pick(std::vector<std::int64_t>{160, 224});
  const std::int64_t g = r.pick(std::vector<std::int64_t>{2, 3, 4, 8});
  std::vector<json> b;
  std::string cur = "input";
  auto push = [&](json blk, std::vector<std::string> inputs = {}) {
    blk["id"] = "n" + std::to_string(b.size());
    blk["inputs"] = inputs.empty() ? std::vector<std::string>{cur} : inputs;
    b.push_back(blk);
    return cur = blk["id"].get<std::string>();
  };
  // Widths multiples of 8 g that double as MobileNetV1's do: an IGCV2 block's last
  // group count (a divisor of its input) then divides its output.
  std::int64_t c = std::max<std::int64_t>(1, std::llround(32 * w / static_cast<double>(8 * g))) * 8 * g;
  push({{"kind", "conv"}, {"out", c}, {"stride", 2}});
  // (width relative to the previous unit's, stride) of MobileNetV1's 13 units.
  const std::int64_t units[][2] = {{2, 1}, {2, 2}, {1, 1}, {2, 2}, {1, 1}, {2, 2}, {1, 1},
                                   {1, 1}, {1, 1}, {1, 1}, {1, 1}, {2, 2}, {1, 1}};
  for (const auto& [grow, s] : units) {
    const std::int64_t out = c * grow;
    if (s == 1 && c == out && r.pick(std::vector<int>{0, 1}) == 1) {  // a ShuffleNet V1 unit
      const std::string in = cur;
      push({{"kind", "conv"}, {"out", std::max(g, c / 4 / g * g)}, {"kernel", 1}, {"groups", g}});
      push({{"kind", "channel_shuffle"}, {"groups", g}});
      push({{"kind", "depthwise"}, {"kernel", 3}, {"activation", "none"}});
      const std::string last = push({{"kind", "conv"}, {"out", c}, {"kernel", 1}, {"groups", g}});
      push({{"kind", "add"}}, {in, last});
      continue;
    }
    push({{"kind", "igcv2"}, {"out", out}, {"layers", r.pick(std::vector<int>{3, 3, 4})}, {"stride", s}});
    c = out;
  }
  push({{"kind", "global_pool"}});
  push({{"kind", "fc"}, {"out", 1000}});
  std::vector<json> all{{{"id", "input"}, {"kind", "input"}, {"height", res}, {"width", res}, {"channels", 3}}};
  all.insert(all.end(), b.begin(), b.end());
  return {"network",
          json{{"format", "convscope-graph"}, {"version", 1}, {"name", "probe network"}, {"blocks", all}}.dump(), 0,
          false};
}

}  // namespace

std::vector<Probe> probes() {
  std::vector<Probe> out;
  Picker r(20261201);
  auto add = [&](const std::string& family, std::string text, std::int64_t split = 0, bool rows = false) {
    out.push_back({family, std::move(text), split, rows});
  };
  // Pointwise convolutions (one GEMM each), up to about 2 x 10^8 multiply-adds.
  for (std::int64_t h : kSizes)
    for (int i = 0; i < 8; ++i) {
      std::int64_t cin = r.pick(kChannels), cout = r.pick(kChannels);
      while (h * h * cin * cout > 200'000'000)
        cin = std::max<std::int64_t>(16, cin / 2), cout = std::max<std::int64_t>(16, cout / 2);
      const std::string act = r.pick(kActs);
      add("pointwise", graph(h, h, cin, {{{"kind", "conv"}, {"out", cout}, {"kernel", 1}, {"activation", act}}}));
      // The same shape with a swish (or relu after a swish) timed right after: the cost of a
      // fused exp is then a difference between neighbours, not something fitted from noise.
      add("pointwise",
          graph(h, h, cin,
                {{{"kind", "conv"}, {"out", cout}, {"kernel", 1}, {"activation", act == "swish" ? "relu" : "swish"}}}));
    }
  // Grouped pointwise convolutions (IGCV, ShuffleNet V1): 2 to 16 groups, narrow groups included.
  for (std::int64_t h : kSizes)
    for (std::int64_t g : {2, 3, 4, 8, 16}) {
      std::int64_t c = g * r.pick(std::vector<std::int64_t>{2, 4, 8, 16, 32, 64});
      while (h * h * c * c / g > 100'000'000) c = std::max(g, c / 2 / g * g);
      add("pointwise", graph(h, h, c, {{{"kind", "conv"}, {"out", c}, {"kernel", 1}, {"groups", g}}}));
    }
  // Fully connected layers: classifiers and squeeze-excite sized.
  for (std::int64_t cin : {64, 128, 256, 576, 960, 1024, 1280, 2048})
    for (std::int64_t cout : {16, 240, 1000, 1280})
      if ((cin * 7 + cout) % 3 != 0 || cout == 1000)
        add("fc", graph(1, 1, cin, {{{"kind", "fc"}, {"out", cout}, {"activation", r.pick(kActs)}}}));
  // k x k convolutions: stems and body layers, some grouped.
  for (auto [h, c, cout, k, s] : std::vector<std::array<std::int64_t, 5>>{{224, 3, 16, 3, 2},
                                                                          {224, 3, 32, 3, 2},
                                                                          {224, 3, 24, 3, 2},
                                                                          {224, 3, 64, 7, 2},
                                                                          {227, 3, 96, 7, 2},
                                                                          {192, 3, 32, 3, 2},
                                                                          {160, 3, 32, 3, 2},
                                                                          {128, 3, 16, 3, 2},
                                                                          {299, 3, 32, 3, 2},
                                                                          {112, 32, 64, 3, 1}})
    add("conv", graph(h, h, c, {{{"kind", "conv"}, {"out", cout}, {"kernel", k}, {"stride", s}}}));
  for (int i = 0; i < 20; ++i) {
    const std::int64_t h = r.pick(std::vector<std::int64_t>{7, 14, 28, 56, 112}),
                       k = r.pick(std::vector<std::int64_t>{3, 3, 5});
    const std::int64_t s = r.pick(std::vector<std::int64_t>{1, 2}),
                       g = r.pick(std::vector<std::int64_t>{1, 1, 1, 2, 4});
    std::int64_t cin = r.pick(kChannels), cout = r.pick(kChannels);
    while (h * h * cin * cout * k * k / (s * s * g) > 250'000'000)
      cin = std::max<std::int64_t>(16, cin / 2), cout = std::max<std::int64_t>(16, cout / 2);
    add("conv", graph(h, h, cin, {{{"kind", "conv"}, {"out", cout}, {"kernel", k}, {"stride", s}, {"groups", g}}}));
  }
  // Depthwise: every kernel size and stride at every size, and at sizes whose
  // rows end in narrow tiles (19 = 8 + 8 + 2 + 1, Xception's; 37, 10).
  for (std::int64_t k : {3, 5, 7})
    for (std::int64_t s : {1, 2})
      for (std::int64_t h : {7, 10, 14, 19, 28, 37, 56, 112})
        for (int i = 0; i < 2; ++i) {
          std::int64_t c = r.pick(kChannels);
          while (h * h * c > 1'600'000) c /= 2;
          const std::string act = r.pick(kActs);
          for (const std::string& a : {act, std::string(act == "swish" ? "relu" : "swish")})  // paired, as above
            add("depthwise",
                graph(h, h, c, {{{"kind", "depthwise"}, {"kernel", k}, {"stride", s}, {"activation", a}}}));
        }
  // Inverted residuals, fused (in row bands or over channel slices) and op by
  // op with squeeze-excite.
  for (int i = 0; i < 56; ++i) {
    const std::int64_t h = r.pick(kSizes), t = r.pick(std::vector<std::int64_t>{3, 4, 6, 6});
    const std::int64_t k = r.pick(std::vector<std::int64_t>{3, 3, 5}), s = r.pick(std::vector<std::int64_t>{1, 1, 2});
    std::int64_t cin = r.pick(std::vector<std::int64_t>{16, 24, 32, 40, 48, 64, 80, 96, 112, 160, 320});
    while (h * h * cin * t > 2'500'000) cin = std::max<std::int64_t>(8, cin / 2);
    const std::int64_t cout = i % 3 == 0 ? cin : r.pick(std::vector<std::int64_t>{16, 24, 32, 64, 96, 160});
    const bool se = i % 4 == 1;
    const json b{{"kind", "inverted_residual"},
                 {"out", cout},
                 {"expansion", t},
                 {"kernel", k},
                 {"stride", s},
                 {"se", se},
                 {"activation", std::vector<std::string>{"relu6", "hswish", "swish"}[(i / 2) % 3]}};
    const std::int64_t split = r.pick(std::vector<std::int64_t>{2, 3, 6});
    add("inverted_residual", graph(h, h, cin, {b}), split, i % 2 == 0);
    // Separable blocks (depthwise -> pointwise) fused in row bands: their depthwise reads the input in place.
    if (i % 4 == 2)
      add("separable", graph(h, h, cin, {{{"kind", "separable"}, {"out", cout}, {"kernel", k}, {"stride", s}}}), 0,
          true);
    if (se) {
      add("squeeze_excite", graph(h, h, cin, {b}), 0);
      // In row bands the chain stops at the depthwise, which squeeze-excite reads.
      add("inverted_residual", graph(h, h, cin, {b}), 0, true);
    }
    // IGCV3 blocks in row bands: grouped expand and project, both permutations in the step.
    if (i % 4 == 3) {
      // 4 groups where every group takes whole segments of the first shuffle
      // (else the block would run op by op: the probe would time nothing fused).
      const std::int64_t g = cin >= 64 && cout % 4 == 0 && cin * t % 16 == 0 && i % 8 == 7 ? 4 : 2;
      add("igcv3",
          graph(h, h, cin,
                {{{"kind", "igcv3"},
                  {"out", cout},
                  {"expansion", t},
                  {"groups1", g},
                  {"groups2", g},
                  {"kernel", k},
                  {"stride", s}}}),
          0, true);
    }
  }
  // The widest chains in row bands, which the picks above rarely reach: EfficientNet's
  // and IGCV3-D's second blocks (112 x 112 x 16 expanded to 96, stride 2), and stride 1.
  for (std::int64_t s : {1, 2}) {
    add("inverted_residual",
        graph(112, 112, 16,
              {{{"kind", "inverted_residual"},
                {"out", 24},
                {"expansion", 6},
                {"stride", s},
                {"se", true},
                {"activation", "swish"}}}),
        0, true);
    add("igcv3", graph(112, 112, 16, {{{"kind", "igcv3"}, {"out", 24}, {"expansion", 6}, {"stride", s}}}), 0, true);
  }
  // Separable blocks as wide as MobileNetV1's and Xception's (pointwise weights up to
  // about 6 MiB, most beyond L2), each timed in both forms one right after the other: in row
  // bands, then op by op. Whether a block fuses is the difference of the two, small
  // beside either: the fused chains' fit then sees such shapes, not only the narrow
  // chains above, and the one-block fits of depthwise and GEMM their op-by-op steps.
  Picker wide(20261206);
  for (auto [h, c0, grow, s] : std::vector<std::array<std::int64_t, 4>>{{112, 32, 2, 1},
                                                                        {112, 64, 2, 2},
                                                                        {56, 128, 1, 1},
                                                                        {56, 128, 2, 2},
                                                                        {37, 256, 3, 1},
                                                                        {28, 256, 1, 1},
                                                                        {28, 256, 2, 2},
                                                                        {19, 728, 1, 1},
                                                                        {14, 512, 1, 1},
                                                                        {14, 512, 2, 2},
                                                                        {10, 1024, 1, 1},
                                                                        {7, 1024, 1, 1}}) {
    // Widths jittered around the presets' (a pick of their own: the probes after keep theirs).
    const std::int64_t c = std::max<std::int64_t>(
        16, std::llround(static_cast<double>(c0) * wide.pick(std::vector<double>{0.75, 1.0, 1.25}) / 16) * 16);
    const std::string act = wide.pick(std::vector<std::string>{"relu6", "relu", "hswish", "swish"});
    const std::string text =
        graph(h, h, c, {{{"kind", "separable"}, {"out", c * grow}, {"kernel", 3}, {"stride", s}, {"activation", act}}});
    add("separable", text, 0, true);
    add("separable", text, 0, false);
  }
  // Element-wise steps and data movement over a grid of sizes.
  for (std::int64_t h : kSizes)
    for (std::int64_t c : {16, 64, 256}) {
      if (h * h * c > 1'000'000) continue;
      const std::string act =
          r.pick(std::vector<std::string>{"relu", "relu6", "hswish", "hsigmoid", "sigmoid", "swish"});
      add("activation", graph(h, h, c, {{{"kind", "activation"}, {"function", act}}}));
      add("add", graph(h, h, c, {{{"kind", "add"}, {"inputs", {"input", "input"}}, {"activation", r.pick(kActs)}}}));
      add("concat", graph(h, h, c, {{{"kind", "concat"}, {"inputs", {"input", "input"}}}}));
      add("split", graph(h, h, c, {{{"kind", "split"}, {"parts", 2}, {"index", 1}}}));
      add("channel_shuffle", graph(h, h, c, {{{"kind", "channel_shuffle"}, {"groups", 2}}}));
      add("channel_shuffle",
          graph(h, h, c, {{{"kind", "channel_shuffle"}, {"groups", r.pick(std::vector<std::int64_t>{4, 8, 16})}}}));
      add("pool", graph(h, h, c, {{{"kind", "pool"}, {"kernel", 3}, {"stride", 2}, {"padding", 1}}}));
      add("pool", graph(h, h, c, {{{"kind", "pool"}, {"mode", "avg"}, {"kernel", 2}, {"stride", 2}}}));
      add("global_pool", graph(h, h, c, {{{"kind", "global_pool"}}}));
      add("crelu", graph(h, h, c, {{{"kind", "crelu"}}}));
      add("batch_norm", graph(h, h, c, {{{"kind", "batch_norm"}}}));
      add("scale",
          graph(h, h, c, {{{"id", "gp"}, {"kind", "global_pool"}}, {{"kind", "scale"}, {"inputs", {"input", "gp"}}}}));
      // Halves that start off a cache line, as ShuffleNet V2's 116 and 232 channels split.
      const std::int64_t odd = c == 16 ? 48 : c == 64 ? 116 : 232;
      add("split", graph(h, h, odd, {{{"kind", "split"}, {"parts", 2}, {"index", (h / 7 + c / 16) % 2}}}));
      if (h <= 56) add("upsample", graph(h, h, c, {{{"kind", "upsample"}, {"mode", h % 2 ? "nearest" : "bilinear"}}}));
    }
  // A few channels copied beside many (a U-Net's input beside its last decoder
  // stage): the convolution writes its 32 channels into the concat in place,
  // the input's are copied, a line or two of each wider row per pixel.
  for (const auto& [h, c] :
       std::vector<std::pair<std::int64_t, std::int64_t>>{{56, 3}, {112, 3}, {224, 3}, {28, 8}, {112, 8}, {56, 24}})
    add("concat", graph(h, h, c,
                        {{{"id", "wide"}, {"kind", "conv"}, {"out", 32}, {"kernel", 1}, {"activation", "relu"}},
                         {{"kind", "concat"}, {"inputs", {"wide", "input"}}}}));
  // Transposed convolutions (k 4, stride 2 by default): decoder shapes from a 5x5 map
  // of 1024 channels to a 80x80 map of 64, halving channels as they double the size.
  for (std::int64_t h : {5, 7, 10, 14, 20, 28, 40, 56, 80})
    for (std::int64_t c : {32, 64, 128, 256, 512, 1024}) {
      const std::int64_t madds = 4 * h * h * c * c / 2 * 4;  // (2h)^2 outputs of c/2, k^2/s^2 = 4 taps of c
      if (madds < 2'000'000 || madds > 250'000'000) continue;
      add("conv_transpose", graph(h, h, c, {{{"kind", "conv_transpose"}, {"out", c / 2}}}));
      if (h <= 14 && c <= 256)
        add("conv_transpose",
            graph(h, h, c, {{{"kind", "conv_transpose"}, {"out", c}, {"kernel", 2}, {"padding", 0}}}));
    }
  // Skip connections: a concat and an add of a tensor written several MB of
  // other steps' traffic before (a segmentation decoder's encoder features, a
  // long residual), whose lines come back from L3 or DRAM, not L2.
  // At 112 x 112 the chain passes tens of MB: the tensor comes back from DRAM,
  // as a segmentation decoder's encoder features do (MobileNet-seg's concats
  // ran at 2.0-2.4x what the smaller skips taught the fit, model v36).
  for (const auto& [h, c] : std::vector<std::pair<std::int64_t, std::int64_t>>{
           {28, 32}, {28, 64}, {28, 128}, {56, 32}, {56, 64}, {56, 128}, {112, 32}, {112, 64}}) {
    std::vector<json> chain{{{"id", "a"}, {"kind", "activation"}, {"function", "relu"}}};
    for (std::int64_t width : {4 * c, c, 4 * c, c}) chain.push_back({{"kind", "conv"}, {"out", width}, {"kernel", 1}});
    auto concat = chain, sum = chain;
    concat.push_back({{"kind", "concat"}, {"inputs", {"a", "b3"}}});
    sum.push_back({{"kind", "add"}, {"inputs", {"a", "b3"}}});
    add("skip", graph(h, h, c, concat));
    add("skip", graph(h, h, c, sum));
  }
  Picker nets(4242);
  for (int i = 0; i < kRandomNetworks; ++i) out.push_back(random_network(nets));
  // Inception networks: their pooling branches pool at stride 1 over the block's
  // input, written before the other branches ran, which no random network does.
  Picker inc(20261203);
  for (int i = 0; i < 6; ++i) {
    const std::int64_t h = inc.pick(std::vector<std::int64_t>{14, 28, 56});
    const std::int64_t c = inc.pick(std::vector<std::int64_t>{64, 128, 192, 256});
    auto w = [&](std::vector<std::int64_t> v) { return inc.pick(v); };
    std::vector<json> blocks;
    for (int b = 0; b < 3; ++b)
      blocks.push_back({{"kind", "inception"},
                        {"out1x1", w({32, 64, 128})},
                        {"reduce3x3", w({48, 96, 128})},
                        {"out3x3", w({64, 128, 192})},
                        {"reduce5x5", w({16, 32})},
                        {"out5x5", w({32, 64})},
                        {"kernel5x5", 3},
                        {"pool_proj", w({32, 64})}});
    blocks.push_back({{"kind", "global_pool"}});
    blocks.push_back({{"kind", "fc"}, {"out", 1000}});
    add("network", graph(h, h, c, std::move(blocks)));
  }
  // Winograd convolutions (3x3, stride 1, 16 tiles or more): on their own over
  // sizes whose rows end in partial tiles or not, and in chains of fire modules
  // (SqueezeNet's), where their four-times-larger weights come from L3 or DRAM.
  Picker wino(20261205);
  for (int i = 0; i < 24; ++i) {
    const std::int64_t h = wino.pick(std::vector<std::int64_t>{13, 14, 25, 27, 28, 35, 55, 56, 112});
    std::int64_t cin = wino.pick(std::vector<std::int64_t>{16, 24, 32, 48, 64, 96, 128, 192, 256}),
                 cout = wino.pick(std::vector<std::int64_t>{16, 32, 48, 64, 96, 128, 192, 256});
    while (h * h * cin * cout * 9 > 250'000'000)
      cin = std::max<std::int64_t>(16, cin / 2), cout = std::max<std::int64_t>(16, cout / 2);
    add("winograd",
        graph(h, h, cin, {{{"kind", "conv"}, {"out", cout}, {"kernel", 3}, {"activation", wino.pick(kActs)}}}));
  }
  for (int i = 0; i < 4; ++i) {
    const std::int64_t h = wino.pick(std::vector<std::int64_t>{13, 27, 55, 56});
    const std::int64_t s = wino.pick(std::vector<std::int64_t>{16, 32, 48}), e = s * 4;
    std::vector<json> blocks;
    for (int b = 0; b < 3; ++b)
      blocks.push_back({{"kind", "fire"}, {"squeeze", s}, {"expand1x1", e}, {"expand3x3", e}});
    blocks.push_back({{"kind", "global_pool"}});
    add("network", graph(h, h, 2 * e, std::move(blocks)));
  }
  // Winograd weights from DRAM: GoogLeNet's 14 x 14 inception branches (160 ->
  // 320 channels: 7.4 MB of transformed weights for 16 tiles) in a network whose
  // footprint passes L3, as no probe above has it (GoogLeNet's steps ran at
  // 1.6-2.0x the prediction on an Intel Xeon, model v48).
  for (const auto& [h, c, c2] :
       std::vector<std::array<std::int64_t, 3>>{{14, 160, 320}, {13, 256, 384}, {28, 128, 224}}) {
    std::vector<json> chain;
    for (int i = 0; i < 4; ++i) chain.push_back({{"kind", "conv"}, {"out", i % 2 ? c : c2}, {"kernel", 3}});
    add("network", graph(h, h, c, std::move(chain)));
  }
  Picker se(20261207);
  for (int i = 0; i < 5; ++i) out.push_back(se_network(se));
  Picker groups(20261208);
  for (int i = 0; i < 6; ++i) out.push_back(group_network(groups));
  return out;
}

namespace {

struct NetworkRun {
  std::size_t probe = 0;             // index into Pass::probe_first
  std::size_t first = 0, steps = 0;  // its samples
  double whole_ns = 0;               // median of un-instrumented runs
  double footprint = 0;              // bytes: its weights and arena
};

struct SpeedMark {
  std::size_t sample = 0;  // first sample timed after this mark
  double ns = 0;
};

/// One timing of every probe: its samples in probe order, with the speed
/// probe's marks between them.
struct Pass {
  std::vector<Sample> samples;
  std::vector<NetworkRun> networks;
  std::vector<std::size_t> probe_first;  // each probe's first sample
  /// On several threads, the cores' round trip around each probe: the mean of
  /// one timed just before and one just after it (the placement moves in
  /// jumps, minutes apart: interpolating between speed marks smeared them).
  std::vector<double> probe_trip;
  std::vector<SpeedMark> marks;
};

Result<Pass> time_pass(const kernels::KernelTable& kt, const LatencyCalibrationOptions& o,
                       const std::vector<Probe>& all, int threads, SpeedProbe& speed, int pass, int passes) {
  Pass out;
  const int stride = std::max(1, o.probe_stride);
  auto mark = [&] { out.marks.push_back({out.samples.size(), speed.time_ns()}); };
  auto trip = [&] { return threads > 1 ? core_round_trip_ns(1000, 3) : 0.0; };
  // A placement asked for (LatencyCalibrationOptions::min_round_trip_ns): wait for it.
  const bool placed = threads > 1 && (o.min_round_trip_ns > 0 || o.max_round_trip_ns > 0);
  auto in_place = [&](double t) {
    return !placed || (t > 0 && t >= o.min_round_trip_ns && (o.max_round_trip_ns <= 0 || t < o.max_round_trip_ns));
  };
  double waited = 0;
  auto wait_for_place = [&](double& t) -> Result<bool> {
    while (!in_place(t)) {
      if (o.cancel && o.cancel->load(std::memory_order_relaxed)) return fail("", "calibration cancelled");
      if (waited > o.placement_wait_seconds) {
        char b[200];
        std::snprintf(b, sizeof b,
                      "the cores' round trip stayed outside %.0f-%.0f ns (last %.0f ns) for %.0f s of waiting",
                      o.min_round_trip_ns, o.max_round_trip_ns > 0 ? o.max_round_trip_ns : HUGE_VAL, t, waited);
        return fail("", b);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      waited += 0.1;
      t = trip();
    }
    return true;
  };
  mark();
  double trip_before = trip();
  const std::size_t per_pass = (all.size() + static_cast<std::size_t>(stride) - 1) / static_cast<std::size_t>(stride);
  int timed = 0;
  for (std::size_t pi = 0; pi < all.size(); pi += static_cast<std::size_t>(stride)) {
    if (o.cancel && o.cancel->load(std::memory_order_relaxed)) return fail("", "calibration cancelled");
    if (timed > 0 && timed % kProbesPerSpeedMark == 0) {
      mark();
      trip_before = trip();
    }
    const Probe& p = all[pi];
    auto g = io::graph_from_json(p.json);
    if (!g) return fail("probe " + std::to_string(pi) + " (" + p.family + ")", g.error().front().message);
    const cost::Analysis a = cost::analyze(*g);
    runtime::PlanOptions po;
    po.threads = threads;
    po.kernels = &kt;
    po.split = p.split;
    po.fuse_rows = p.rows;
    auto plan = runtime::Plan::build(*g, a, po);
    if (!plan) return fail("probe " + std::to_string(pi) + " (" + p.family + ")", plan.error().front().message);
    fill_timing_inputs(*plan);
    // Timed by the profiler itself: whole runs, then each step on its own in run order.
    ProfileOptions popt;
    popt.warmup = 2;
    popt.min_runs = o.min_runs;
    popt.min_seconds = o.seconds_per_probe / 2;  // per phase
    // Only the network probes fit a whole run against its steps; the others'
    // whole runs were a third of the calibration's time (a Zen 3 took 73-81 s).
    popt.steps_only = p.family != "network";
    popt.cancel = o.cancel;
    ProfileResult r;
    double trip_after = 0;
    for (;;) {  // once, unless the cores left the placement asked for while it ran
      if (auto ok = wait_for_place(trip_before); !ok) return tl::unexpected(ok.error());
      r = profile_plan(*plan, popt);
      if (r.cancelled) return fail("", "calibration cancelled");
      trip_after = trip();
      if (in_place(trip_after)) break;
      trip_before = trip_after;
    }
    const std::size_t first = out.samples.size();
    out.probe_first.push_back(first);
    out.probe_trip.push_back(0.5 * (trip_before + trip_after));
    trip_before = trip_after;
    std::size_t working = 0;  // steps that run (a run skips those with no work)
    const std::vector<StepFeatures> features = schedule_features(plan->schedule());
    for (std::size_t s = 0; s < plan->n_steps(); ++s) {
      if (plan->step(s).no_work) continue;
      out.samples.push_back({features[s], r.step_ns[s].median, p.family == "network"});
      ++working;
    }
    if (p.family == "network")
      out.networks.push_back(
          {out.probe_first.size() - 1, first, working, r.network_ns.median, network_footprint(plan->schedule())});
    ++timed;
    if (o.progress) o.progress((pass + static_cast<double>(timed) / static_cast<double>(per_pass)) / passes);
  }
  mark();
  // A load burst during one timing of the speed probe is not the machine's
  // speed: each inner mark is the median of itself and its neighbours.
  std::vector<double> ref(out.marks.size());
  for (std::size_t k = 0; k < out.marks.size(); ++k) {
    if (k == 0 || k + 1 == out.marks.size()) {
      ref[k] = out.marks[k].ns;
      continue;
    }
    std::array<double, 3> w{out.marks[k - 1].ns, out.marks[k].ns, out.marks[k + 1].ns};
    std::sort(w.begin(), w.end());
    ref[k] = w[1];
  }
  for (std::size_t k = 0; k < out.marks.size(); ++k) out.marks[k].ns = ref[k];
  return out;
}

/// Each probe's speed-probe time (the marks before and after the probe,
/// interpolated by position).
std::vector<double> speed_at_probes(const Pass& p) {
  std::vector<double> out(p.probe_first.size(), 0.0);
  std::size_t k = 0;
  for (std::size_t i = 0; i < p.probe_first.size(); ++i) {
    const std::size_t begin = p.probe_first[i];
    while (k + 2 < p.marks.size() && p.marks[k + 1].sample <= begin) ++k;
    const SpeedMark &a = p.marks[k], &b = p.marks[k + 1];
    const double t = b.sample > a.sample ? (static_cast<double>(begin) - static_cast<double>(a.sample)) /
                                               static_cast<double>(b.sample - a.sample)
                                         : 0.0;
    out[i] = a.ns + std::clamp(t, 0.0, 1.0) * (b.ns - a.ns);
  }
  return out;
}

/// The samples of probe i in `p`.
std::pair<std::size_t, std::size_t> probe_samples(const Pass& p, std::size_t i) {
  return {p.probe_first[i], i + 1 < p.probe_first.size() ? p.probe_first[i + 1] : p.samples.size()};
}

/// Scales each probe's times in `p` to the speed `reference_ns`.
void normalize(Pass& p, double reference_ns) {
  const std::vector<double> speed = speed_at_probes(p);
  for (std::size_t i = 0; i < speed.size(); ++i) {
    const auto [begin, end] = probe_samples(p, i);
    for (std::size_t s = begin; s < end; ++s) p.samples[s].ns *= reference_ns / speed[i];
  }
  for (auto& n : p.networks) n.whole_ns *= reference_ns / speed[n.probe];
}

}  // namespace

Result<LatencyModel> calibrate_latency(const kernels::KernelTable& kt, const LatencyCalibrationOptions& o,
                                       std::vector<Sample>* samples_out) {
  const auto start = Clock::now();
  LatencyModel m;
  m.cpu = kernels::cpu_info().model;
  m.isa = kernels::isa_name(kt.isa);
  m.threads = std::max(1, o.threads);
  m.kernel_revision = kernels::kKernelRevision;
  const auto all = probes();
  // The speed probe, timed every few probes: where the machine's speed moves
  // during the calibration (other tenants, clocks), each probe's times are
  // scaled to the calibration's median speed, so the fit sees the kernels and
  // not the load. On several threads the cross-core round trip is measured
  // around every probe: each probe's cross-core features are scaled by its
  // round trip against the calibration's median (LatencyModel::round_trip_ns), so that a
  // calibration whose vCPUs moved between core complexes fits one price per
  // nanosecond of round trip.
  auto speed = SpeedProbe::build(kt);
  if (!speed) return tl::unexpected(speed.error());
  if (m.threads > 1) m.core_round_trip_ns[0] = core_round_trip_ns();
  const int passes = std::max(1, o.passes);
  std::vector<Pass> timed;
  for (int pass = 0; pass < passes; ++pass) {
    auto p = time_pass(kt, o, all, m.threads, *speed, pass, passes);
    if (!p) return tl::unexpected(p.error());
    timed.push_back(std::move(*p));
  }
  if (m.threads > 1) m.core_round_trip_ns[1] = core_round_trip_ns();
  std::vector<double> ref;
  for (const Pass& p : timed)
    for (const SpeedMark& mk : p.marks) ref.push_back(mk.ns);
  const Stats rs = summarize(ref);
  const auto [lo, hi] = std::minmax_element(ref.begin(), ref.end());
  m.reference_ns = rs.median;
  m.calibration_drift = rs.median > 0 ? (*hi - *lo) / rs.median : 0;
  if (o.normalize_drift && rs.median > 0)
    for (Pass& p : timed) normalize(p, rs.median);
  // The passes combined: each step's time is the mean of its passes' medians.
  // On Zen 5 beside other tenants (two sets of three calibrations per variant),
  // a probe step's time, as a share of the speed probe's, moved between
  // calibrations by 9.6-11.9 % (median of max / min - 1) with the mean of two
  // passes, 14.3-14.6 % with their least, 16.6-17.9 % with one pass; the
  // fitted predictions of the probe steps by 5.2-5.4 %, 6.1-7.7 %, 7.6-11.1 %.
  Pass& first = timed.front();
  if (m.threads > 1) {
    std::vector<double> trips;
    for (const Pass& p : timed)
      for (double t : p.probe_trip)
        if (t > 0) trips.push_back(t);
    m.round_trip_ns = trips.empty() ? 0 : summarize(trips).median;
    if (!trips.empty())
      m.other_placement_share =
          static_cast<double>(std::count_if(trips.begin(), trips.end(),
                                            [&](double t) {
                                              return std::max(t, m.round_trip_ns) >=
                                                     kOtherPlacement * std::min(t, m.round_trip_ns);
                                            })) /
          static_cast<double>(trips.size());
  }
  if (m.round_trip_ns > 0) {
    // A probe's time is the mean of its passes', so its features' scale is the mean of theirs (the model is linear).
    std::vector<double> scale(first.probe_first.size(), 0.0);
    for (const Pass& p : timed)
      for (std::size_t i = 0; i < scale.size() && i < p.probe_trip.size(); ++i)
        scale[i] += (p.probe_trip[i] > 0 ? p.probe_trip[i] / m.round_trip_ns : 1.0) / static_cast<double>(timed.size());
    for (std::size_t i = 0; i < scale.size(); ++i) {
      const auto [begin, end] = probe_samples(first, i);
      for (std::size_t s = begin; s < end; ++s) {
        StepFeatures& f = first.samples[s].f;
        for (int j = 0; j < f.n; ++j)
          if (f.cross_core >> j & 1u) f.x[static_cast<std::size_t>(j)] *= scale[i];
      }
    }
  }
  for (std::size_t q = 1; q < timed.size(); ++q) {
    if (timed[q].samples.size() != first.samples.size() || timed[q].networks.size() != first.networks.size())
      return fail("", "the probes scheduled differently from one pass to the next");
    for (std::size_t s = 0; s < first.samples.size(); ++s) first.samples[s].ns += timed[q].samples[s].ns;
    for (std::size_t n = 0; n < first.networks.size(); ++n) first.networks[n].whole_ns += timed[q].networks[n].whole_ns;
  }
  const auto n_passes = static_cast<double>(timed.size());
  for (Sample& s : first.samples) s.ns /= n_passes;
  for (NetworkRun& n : first.networks) n.whole_ns /= n_passes;
  std::vector<Sample>& samples = first.samples;
  const std::vector<NetworkRun>& networks = first.networks;
  m.probes = static_cast<int>(first.probe_first.size());
  // The roofline's FMA peak (cached with the ceilings; measured now if it is not)
  // floors the multiply-add coefficients.
  if (auto ceilings = load_or_measure(kt)) m.peak_gflops = ceilings->peak_gflops(m.threads);
  fit(m, samples);
  std::vector<NetworkSample> whole;
  for (const auto& n : networks) {
    NetworkSample w{n.whole_ns, 0, static_cast<int>(n.steps), n.footprint};
    for (std::size_t s = n.first; s < n.first + n.steps; ++s) w.steps_ns += m.predict(samples[s].f).ns;
    whole.push_back(w);
  }
  fit_network(m, whole);
  m.measured_at = now_iso();
  m.calibration_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (samples_out) *samples_out = std::move(samples);
  return m;
}

std::filesystem::path latency_cache_path() { return cache_path().parent_path() / "latency-models.json"; }

std::string machine_cache_key(const std::string& isa, int threads) {
  return kernels::cpu_info().model + " | " + isa + " | " + std::to_string(threads);
}

namespace {
std::string key_of(const kernels::KernelTable& kt, int threads) {
  return machine_cache_key(kernels::isa_name(kt.isa), threads);
}

/// Where the newest model of the other placement of the cores is kept (kOtherPlacement).
std::string other_placement_key(const std::string& key) { return key + " | other core placement"; }

json read_cache() {
  std::ifstream in(latency_cache_path());
  if (!in) return json::object();
  try {
    json j = json::parse(in);
    return j.is_object() ? j : json::object();
  } catch (const json::exception&) {
    return json::object();  // a damaged cache is calibrated again
  }
}
}  // namespace

const LatencyModel& nearest_placement(const std::vector<LatencyModel>& placements, double round_trip_ns,
                                      const LatencyModel& fallback) {
  const LatencyModel* best = &fallback;
  double best_gap = std::numeric_limits<double>::infinity();
  if (round_trip_ns > 0)
    for (const LatencyModel& m : placements)
      if (m.round_trip_ns > 0)
        if (const double gap = std::abs(std::log(round_trip_ns / m.round_trip_ns)); gap < best_gap) {
          best = &m;
          best_gap = gap;
        }
  return *best;
}

CachedModel load_latency_model(const kernels::KernelTable& kt, int threads) {
  CachedModel out = cached_latency_models(kt, threads);
  if (out.placements.size() > 1) out.model = nearest_placement(out.placements, core_round_trip_ns(1000, 3), *out.model);
  return out;
}

LatencyModel model_for_round_trip(const kernels::KernelTable& kt, int threads, double round_trip_ns,
                                  const LatencyModel& fallback) {
  const std::vector<LatencyModel> placements = cached_latency_models(kt, threads).placements;
  return placements.size() > 1 ? nearest_placement(placements, round_trip_ns, fallback) : fallback;
}

CachedModel cached_latency_models(const kernels::KernelTable& kt, int threads) {
  const json all = read_cache();
  const std::string key = key_of(kt, threads);
  if (!all.contains(key))
    return {std::nullopt,
            "no latency model for " + kernels::isa_name(kt.isa) + " with " + std::to_string(threads) +
                (threads == 1 ? " thread" : " threads") + " on this CPU yet",
            {}};
  auto m = latency_model_from_json(all[key]);
  if (!m) return {std::nullopt, "the cached latency model is damaged (" + m.error().front().message + ")", {}};
  const auto valid = [&](const LatencyModel& x) {
    return x.mismatch(kernels::cpu_info().model, kernels::isa_name(kt.isa), threads).empty();
  };
  if (!valid(*m))
    return {std::nullopt,
            "the cached latency model is stale: " +
                m->mismatch(kernels::cpu_info().model, kernels::isa_name(kt.isa), threads),
            {}};
  CachedModel out{std::nullopt, "", {std::move(*m)}};
  // The other placement's model, when there is a valid one (a stale one is not used).
  if (const std::string other = other_placement_key(key); all.contains(other))
    if (auto o = latency_model_from_json(all[other]); o && valid(*o)) out.placements.push_back(std::move(*o));
  out.model = out.placements.front();
  return out;
}

void save_latency_model(const kernels::KernelTable& kt, const LatencyModel& m) {
  json all = read_cache();
  const std::string key = key_of(kt, m.threads), other = other_placement_key(key);
  // A valid model of the other placement of the cores than m's.
  const auto apart = [&](const json& j) {
    const auto x = latency_model_from_json(j);
    return x && x->mismatch(kernels::cpu_info().model, kernels::isa_name(kt.isa), m.threads).empty() &&
           x->round_trip_ns > 0 && m.round_trip_ns > 0 &&
           std::max(x->round_trip_ns, m.round_trip_ns) >= kOtherPlacement * std::min(x->round_trip_ns, m.round_trip_ns);
  };
  if (m.threads > 1) {
    // The model it replaces is kept when it is of the other placement; one kept
    // before that is not (m's own placement, stale, or m without a round trip) goes.
    if (all.contains(key) && apart(all[key]))
      all[other] = all[key];
    else if (all.contains(other) && !apart(all[other]))
      all.erase(other);
  }
  all[key] = to_json(m);
  std::error_code ec;
  std::filesystem::create_directories(latency_cache_path().parent_path(), ec);
  // A cache that cannot be written only costs a calibration next time.
  (void)io::write_file_atomic(latency_cache_path(), all.dump(1) + "\n");
}

Result<LatencyModel> load_or_calibrate_latency(const kernels::KernelTable& kt, const LatencyCalibrationOptions& o,
                                               bool force, std::string* why, std::vector<Sample>* samples) {
  const int threads = std::max(1, o.threads);
  if (why) why->clear();
  if (!force) {
    auto cached = load_latency_model(kt, threads);
    if (cached.model) return std::move(*cached.model);
    if (why) *why = cached.why_not;
  } else if (why) {
    *why = "asked to calibrate again";
  }
  auto m = calibrate_latency(kt, o, samples);
  if (!m) return m;
  save_latency_model(kt, *m);
  return m;
}

}  // namespace convscope::profile
