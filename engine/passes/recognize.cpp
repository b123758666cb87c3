#include "passes/recognize.h"

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cost/analysis.h"

namespace convscope::passes {
namespace {

/// Merges op-by-op chains of a graph into ConvScope's blocks where
/// the pattern matches exactly (so costs, parameters and outputs are unchanged):
/// depthwise + pointwise -> separable; expand 1x1 + depthwise + project 1x1
/// (+ shortcut) -> inverted_residual; squeeze 1x1 + expand 1x1 / 3x3 + concat -> fire;
/// four branches (1x1; 1x1, 3x3; 1x1, k x k; max pool, 1x1) + concat -> inception.
/// The merged block takes the id of the chain's last node, so its consumers stay wired.
class Recognizer {
 public:
  Recognizer(ir::Graph& g, std::map<std::string, runtime::OpWeights>* weights) : g_(g), weights_(weights) {}

  void run() {
    bool changed = true;
    while (changed) {
      changed = false;
      for (std::size_t i = 0; i < g_.nodes.size() && !changed; ++i)
        changed = inverted_residual(i) || separable(i) || fire(i) || inception(i);
    }
  }

 private:
  using Params = ir::ParamMap;

  /// The nodes reading node `id`, in graph order. Indexed once per change (every
  /// question of a match is answered from the index, not by a walk of the graph).
  const std::vector<int>& consumers(const std::string& id) const {
    if (!readers_) {
      readers_.emplace();
      for (std::size_t i = 0; i < g_.nodes.size(); ++i)
        for (const auto& in : g_.nodes[i].inputs) (*readers_)[in].push_back(static_cast<int>(i));  // once per input
    }
    static const std::vector<int> kNone;
    const auto it = readers_->find(id);
    return it == readers_->end() ? kNone : it->second;
  }
  /// The only consumer of node i, when it is of `kind`.
  int only_next(int i, const std::string& kind) const {
    if (i < 0) return -1;
    const auto c = consumers(g_.nodes[static_cast<std::size_t>(i)].id);
    if (c.size() != 1 || g_.nodes[static_cast<std::size_t>(c[0])].kind != kind ||
        g_.nodes[static_cast<std::size_t>(c[0])].inputs.size() != 1)
      return -1;
    return c[0];
  }
  const ir::Node& at(int i) const { return g_.nodes[static_cast<std::size_t>(i)]; }
  std::int64_t pi(int i, const char* name, std::int64_t def) const {
    auto it = at(i).params.find(name);
    return it == at(i).params.end() ? def : std::get<std::int64_t>(it->second);
  }
  bool pb(int i, const char* name) const {
    auto it = at(i).params.find(name);
    return it != at(i).params.end() && std::get<bool>(it->second);
  }
  std::string act_of(int i) const { return i < 0 ? "none" : std::get<std::string>(at(i).params.at("function")); }
  /// Output shape of a node; the graph is analysed once per change, not per question.
  ir::Shape shape(const std::string& id) {
    if (!analysis_) analysis_ = cost::analyze(g_);
    const int i = g_.find(id);
    return i < 0 ? ir::Shape{} : analysis_->nodes[static_cast<std::size_t>(i)].out;
  }
  bool is_conv(int i, std::int64_t k) const {
    return i >= 0 && at(i).kind == "conv" && pi(i, "kernel", 3) == k && !pb(i, "bias") && pi(i, "dilation", 1) == 1;
  }
  /// conv, then optional batch_norm, then optional activation: {conv, bn, act, last}.
  struct Unit {
    int conv = -1, bn = -1, act = -1, last = -1;
  };
  Unit unit(int conv) const {
    Unit u{conv, -1, -1, conv};
    u.bn = only_next(conv, "batch_norm");
    if (u.bn >= 0) u.last = u.bn;
    u.act = only_next(u.last, "activation");
    if (u.act >= 0) u.last = u.act;
    return u;
  }
  void rename(int node, const std::string& op, const std::string& to) {
    if (node < 0 || !weights_) return;
    auto it = weights_->find(at(node).id + "/" + op);
    if (it == weights_->end()) return;
    auto w = std::move(it->second);
    weights_->erase(it);
    (*weights_)[to] = std::move(w);
  }
  /// Replaces nodes `absorbed` (the last of which gives its id) by `block`.
  void replace(const std::vector<int>& absorbed, ir::Node block) {
    const int last = *std::max_element(absorbed.begin(), absorbed.end());
    block.id = at(last).id;
    std::vector<ir::Node> nodes;
    for (std::size_t i = 0; i < g_.nodes.size(); ++i) {
      if (static_cast<int>(i) == last)
        nodes.push_back(block);
      else if (std::find(absorbed.begin(), absorbed.end(), static_cast<int>(i)) == absorbed.end())
        nodes.push_back(g_.nodes[i]);
    }
    g_.nodes = std::move(nodes);
    analysis_.reset();
    readers_.reset();
  }

  bool separable(std::size_t start) {
    const int d = static_cast<int>(start);
    if (at(d).kind != "conv" || at(d).inputs.size() != 1) return false;
    const std::int64_t k = pi(d, "kernel", 3), groups = pi(d, "groups", 1), out = pi(d, "out", 32);
    const ir::Shape in = shape(at(d).inputs[0]);
    if (groups != in.c || out != in.c || k == 1 || !is_conv(d, k)) return false;
    if (pi(d, "padding", 0) != (k - 1) / 2) return false;
    const Unit du = unit(d);
    const int p = only_next(du.last, "conv");
    if (!is_conv(p, 1) || pi(p, "groups", 1) != 1 || pi(p, "stride", 1) != 1 || pi(p, "padding", 0) != 0) return false;
    const Unit pu = unit(p);
    // The separable block: BN after both or neither; inner = bn_act (same activation) / bn / none.
    std::string inner;
    if (du.bn >= 0 && du.act >= 0 && act_of(du.act) == act_of(pu.act))
      inner = "bn_act";
    else if (du.bn >= 0 && du.act < 0)
      inner = "bn";
    else if (du.bn < 0 && du.act < 0)
      inner = "none";
    else
      return false;
    if (inner != "none" && pu.bn < 0) return false;
    if (inner == "none" && pu.bn < 0 && du.bn >= 0) return false;
    const bool bn = pu.bn >= 0;
    const std::string id = at(pu.last).id;
    rename(d, "conv", id + "/dw");
    rename(du.bn, "bn", id + "/dw_bn");
    rename(p, "conv", id + "/pw");
    rename(pu.bn, "bn", id + "/pw_bn");
    Params params{{"out", pi(p, "out", 64)}, {"kernel", k}, {"stride", pi(d, "stride", 1)},
                  {"inner", inner},          {"bn", bn},    {"activation", act_of(pu.act)}};
    std::vector<int> absorbed{d, p};
    for (int x : {du.bn, du.act, pu.bn, pu.act})
      if (x >= 0) absorbed.push_back(x);
    replace(absorbed,
            ir::Node{.kind = "separable", .inputs = at(d).inputs, .params = params, .width = ir::WidthRule::Fixed});
    return true;
  }

  struct Se {
    int pool = -1, reduce = -1, act = -1, expand = -1, gate = -1, scale = -1;
    std::int64_t reduction = 4;  ///< 0: no r gives the squeeze channels, so they are given explicitly
    std::int64_t squeeze = 0;
  };
  /// The squeeze-excite of ConvScope's inverted residual hanging off node `x` (e channels), if any.
  Se squeeze_excite(int x, std::int64_t e) const {
    const auto cons = consumers(at(x).id);
    if (cons.size() != 2) return {};
    int pool = -1, scale = -1;
    for (int c : cons) {
      if (at(c).kind == "global_pool" &&
          (!at(c).params.count("mode") || std::get<std::string>(at(c).params.at("mode")) == "avg"))
        pool = c;
      if (at(c).kind == "scale" && at(c).inputs.size() == 2 && at(c).inputs[0] == at(x).id) scale = c;
    }
    if (pool < 0 || scale < 0) return {};
    auto pointwise_bias = [&](int i) {
      return i >= 0 && at(i).kind == "conv" && pi(i, "kernel", 3) == 1 && pb(i, "bias") && pi(i, "groups", 1) == 1 &&
             pi(i, "stride", 1) == 1 && pi(i, "padding", 0) == 0;
    };
    const int reduce = only_next(pool, "conv");
    if (!pointwise_bias(reduce)) return {};
    const int act = only_next(reduce, "activation");
    if (act < 0) return {};
    const int expand = only_next(act, "conv");
    if (!pointwise_bias(expand) || pi(expand, "out", 0) != e) return {};
    const auto gate_cons = consumers(at(expand).id);
    if (gate_cons.size() != 1 || at(gate_cons[0]).kind != "activation") return {};
    const int gate = gate_cons[0];
    if ((act_of(gate) != "hsigmoid" && act_of(gate) != "sigmoid") || at(scale).inputs[1] != at(gate).id) return {};
    // The block derives the squeeze channels as make_divisible(e / r, 8) (MobileNetV3): find
    // the r that gives them; otherwise (EfficientNet's C_in / 4) they are given as they are.
    const std::int64_t squeeze = pi(reduce, "out", 0);
    for (std::int64_t r = 1; r <= 64; ++r)
      if (ir::make_divisible(static_cast<double>(e / r), 8) == squeeze)
        return Se{pool, reduce, act, expand, gate, scale, r, squeeze};
    return Se{pool, reduce, act, expand, gate, scale, 0, squeeze};
  }

  bool inverted_residual(std::size_t start) {
    int s = static_cast<int>(start);
    if (at(s).kind != "conv" || at(s).inputs.size() != 1) return false;
    const std::string block_in = at(s).inputs[0];
    const ir::Shape in = shape(block_in);
    // Optional expansion 1x1 + BN + act.
    Unit eu;
    int d = s;
    if (is_conv(s, 1) && pi(s, "groups", 1) == 1 && pi(s, "stride", 1) == 1 && pi(s, "padding", 0) == 0) {
      eu = unit(s);
      if (eu.bn < 0 || eu.act < 0) return false;
      d = only_next(eu.last, "conv");
    }
    if (d < 0) return false;
    const std::int64_t e = pi(d, "out", 0), k = pi(d, "kernel", 3);
    if (pi(d, "groups", 1) != e || !is_conv(d, k) || k == 1 || pi(d, "padding", 0) != (k - 1) / 2) return false;
    if (eu.conv < 0 && e != in.c) return false;
    const Unit du = unit(d);
    if (du.bn < 0 || du.act < 0) return false;
    if (eu.conv >= 0 && act_of(eu.act) != act_of(du.act)) return false;
    // Optional squeeze-excite: global_pool -> 1x1 (bias) -> relu -> 1x1 (bias) -> gate -> scale.
    const Se se = squeeze_excite(du.last, e);
    const int p = only_next(se.scale >= 0 ? se.scale : du.last, "conv");
    if (!is_conv(p, 1) || pi(p, "groups", 1) != 1 || pi(p, "stride", 1) != 1 || pi(p, "padding", 0) != 0) return false;
    const int pbn = only_next(p, "batch_norm");
    if (pbn < 0 || only_next(pbn, "activation") >= 0) return false;  // linear bottleneck
    const std::int64_t out = pi(p, "out", 0), stride = pi(d, "stride", 1);
    const bool shortcut = stride == 1 && in.c == out;
    int last = pbn;
    int add = -1;
    const auto cons = consumers(at(pbn).id);
    if (shortcut) {
      if (cons.size() != 1 || at(cons[0]).kind != "add" || at(cons[0]).inputs.size() != 2) return false;
      const auto& ins = at(cons[0]).inputs;
      if (!((ins[0] == at(pbn).id && ins[1] == block_in) || (ins[1] == at(pbn).id && ins[0] == block_in))) return false;
      if (at(cons[0]).params.count("activation") &&
          std::get<std::string>(at(cons[0]).params.at("activation")) != "none")
        return false;
      add = cons[0];
      last = add;
    }
    const std::string id = at(last).id;
    rename(eu.conv, "conv", id + "/expand");
    rename(eu.bn, "bn", id + "/expand_bn");
    rename(d, "conv", id + "/dw");
    rename(du.bn, "bn", id + "/dw_bn");
    rename(p, "conv", id + "/project");
    rename(pbn, "bn", id + "/project_bn");
    rename(se.reduce, "conv", id + "/se_reduce");
    rename(se.expand, "conv", id + "/se_expand");
    Params params{{"out", out}, {"kernel", k}, {"stride", stride}, {"activation", act_of(du.act)}};
    if (se.scale >= 0) {
      params["se"] = true;
      if (se.reduction > 0)
        params["se_reduction"] = se.reduction;
      else
        params["se_channels"] = se.squeeze;
      if (act_of(se.act) != "relu") params["se_activation"] = act_of(se.act);
      params["se_gate"] = act_of(se.gate);
    }
    if (eu.conv < 0)
      params["expansion"] = std::int64_t{1};
    else if (e % in.c == 0)
      params["expansion"] = e / in.c;
    else
      params["expanded"] = e;
    std::vector<int> absorbed{d, du.bn, du.act, p, pbn};
    for (int x : {eu.conv, eu.bn, eu.act, add, se.pool, se.reduce, se.act, se.expand, se.gate, se.scale})
      if (x >= 0) absorbed.push_back(x);
    replace(
        absorbed,
        ir::Node{.kind = "inverted_residual", .inputs = {block_in}, .params = params, .width = ir::WidthRule::Fixed});
    return true;
  }

  bool fire(std::size_t start) {
    const int sq = static_cast<int>(start);
    if (at(sq).kind != "conv" || at(sq).inputs.size() != 1 || pi(sq, "kernel", 3) != 1 || pi(sq, "groups", 1) != 1 ||
        pi(sq, "stride", 1) != 1 || pi(sq, "padding", 0) != 0 || !pb(sq, "bias"))
      return false;
    const int sqa = only_next(sq, "activation");
    if (sqa < 0 || act_of(sqa) != "relu") return false;
    const auto branches = consumers(at(sqa).id);
    if (branches.size() != 2) return false;
    int e1 = -1, e3 = -1;
    for (int b : branches) {
      if (at(b).kind != "conv" || !pb(b, "bias") || pi(b, "groups", 1) != 1 || pi(b, "stride", 1) != 1) return false;
      if (pi(b, "kernel", 3) == 1 && pi(b, "padding", 0) == 0)
        e1 = b;
      else if (pi(b, "kernel", 3) == 3 && pi(b, "padding", 0) == 1)
        e3 = b;
    }
    if (e1 < 0 || e3 < 0) return false;
    const int a1 = only_next(e1, "activation"), a3 = only_next(e3, "activation");
    if (a1 < 0 || a3 < 0 || act_of(a1) != "relu" || act_of(a3) != "relu") return false;
    const auto c1 = consumers(at(a1).id), c3 = consumers(at(a3).id);
    if (c1.size() != 1 || c3.size() != 1 || c1[0] != c3[0] || at(c1[0]).kind != "concat") return false;
    const int cat = c1[0];
    if (at(cat).inputs != std::vector<std::string>{at(a1).id, at(a3).id}) return false;
    const std::string id = at(cat).id;
    rename(sq, "conv", id + "/squeeze");
    rename(e1, "conv", id + "/expand1x1");
    rename(e3, "conv", id + "/expand3x3");
    Params params{{"squeeze", pi(sq, "out", 16)}, {"expand1x1", pi(e1, "out", 64)}, {"expand3x3", pi(e3, "out", 64)}};
    replace({sq, sqa, e1, a1, e3, a3, cat},
            ir::Node{.kind = "fire", .inputs = at(sq).inputs, .params = params, .width = ir::WidthRule::Fixed});
    return true;
  }

  /// The conv [+ batch_norm] [+ activation] unit whose last node is `id`, every
  /// link its producer's only consumer; conv = -1 if there is none.
  Unit unit_ending(const std::string& id) const {
    int i = g_.find(id);
    while (i >= 0 && (at(i).kind == "activation" || at(i).kind == "batch_norm") && at(i).inputs.size() == 1)
      i = g_.find(at(i).inputs[0]);
    if (i < 0 || at(i).kind != "conv" || at(i).inputs.size() != 1) return {};
    const Unit u = unit(i);
    return at(u.last).id == id ? u : Unit{};
  }

  bool inception(std::size_t start) {
    const int cat = static_cast<int>(start);
    if (at(cat).kind != "concat" || at(cat).inputs.size() != 4) return false;
    Unit b[4];
    for (int j = 0; j < 4; ++j)
      if ((b[j] = unit_ending(at(cat).inputs[static_cast<std::size_t>(j)])).conv < 0) return false;
    // Every unit alike: stride 1, no groups or dilation, "same" padding, one bias / BN / activation choice.
    const bool bias = pb(b[0].conv, "bias"), bn = b[0].bn >= 0;
    const std::string act = act_of(b[0].act);
    auto alike = [&](const Unit& u, std::int64_t k) {
      return u.conv >= 0 && pi(u.conv, "kernel", 3) == k && pi(u.conv, "stride", 1) == 1 &&
             pi(u.conv, "groups", 1) == 1 && pi(u.conv, "dilation", 1) == 1 &&
             pi(u.conv, "padding", 0) == (k - 1) / 2 && pb(u.conv, "bias") == bias && (u.bn >= 0) == bn &&
             act_of(u.act) == act;
    };
    const std::string x = at(b[0].conv).inputs[0];
    // The reductions before the 3x3 and the k x k: 1x1 units on x, read only by their branch.
    Unit red[2];
    for (int j = 0; j < 2; ++j) {
      red[j] = unit_ending(at(b[j + 1].conv).inputs[0]);
      if (!alike(red[j], 1) || at(red[j].conv).inputs[0] != x || consumers(at(red[j].last).id).size() != 1)
        return false;
    }
    const std::int64_t k = pi(b[2].conv, "kernel", 3);
    if (!alike(b[0], 1) || !alike(b[1], 3) || k % 2 == 0 || !alike(b[2], k) || !alike(b[3], 1)) return false;
    // The pool branch: a 3x3 max pool, stride 1, padding 1, on x, read only by its projection.
    const int pool = g_.find(at(b[3].conv).inputs[0]);
    if (pool < 0 || at(pool).kind != "pool" || at(pool).inputs != std::vector<std::string>{x} ||
        (at(pool).params.count("mode") && std::get<std::string>(at(pool).params.at("mode")) != "max") ||
        pi(pool, "kernel", 2) != 3 || pi(pool, "stride", 2) != 1 || pi(pool, "padding", 0) != 1 ||
        consumers(at(pool).id).size() != 1)
      return false;
    const std::string id = at(cat).id;
    const char* names[6] = {"branch1x1", "reduce3x3", "branch3x3", "reduce5x5", "branch5x5", "pool_proj"};
    const Unit* units[6] = {&b[0], &red[0], &b[1], &red[1], &b[2], &b[3]};
    std::vector<int> absorbed{cat, pool};
    for (int j = 0; j < 6; ++j) {
      rename(units[j]->conv, "conv", id + "/" + names[j]);
      rename(units[j]->bn, "bn", id + "/" + names[j] + "_bn");
      for (int n : {units[j]->conv, units[j]->bn, units[j]->act})
        if (n >= 0) absorbed.push_back(n);
    }
    Params params{{"out1x1", pi(b[0].conv, "out", 0)},
                  {"reduce3x3", pi(red[0].conv, "out", 0)},
                  {"out3x3", pi(b[1].conv, "out", 0)},
                  {"reduce5x5", pi(red[1].conv, "out", 0)},
                  {"out5x5", pi(b[2].conv, "out", 0)},
                  {"kernel5x5", k},
                  {"pool_proj", pi(b[3].conv, "out", 0)},
                  {"bias", bias},
                  {"bn", bn},
                  {"activation", act}};
    replace(absorbed, ir::Node{.kind = "inception", .inputs = {x}, .params = params, .width = ir::WidthRule::Fixed});
    return true;
  }

  ir::Graph& g_;
  std::map<std::string, runtime::OpWeights>* weights_;
  std::optional<cost::Analysis> analysis_;
  mutable std::optional<std::unordered_map<std::string, std::vector<int>>> readers_;  ///< consumers(), per change
};

}  // namespace

void recognize_blocks(ir::Graph& g, std::map<std::string, runtime::OpWeights>* weights) {
  Recognizer(g, weights).run();
}

}  // namespace convscope::passes
