// ONNX import: one table (Importer::handlers) from op type to the inputs it must
// have and the member that turns a node of it into blocks, one handler per op;
// constants and shape folding are in onnx_consts.cpp, the block recogniser is a
// graph pass (passes/recognize.cpp). Over 500 lines because the handlers (36 op
// types, each a few dozen lines of checks with precise messages) share the
// importer's state (tensor -> block map, pattern state for CReLU and channel
// shuffle); spreading them over files would spread that state.
#include "io/onnx_import.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "cost/analysis.h"
#include "io/onnx_consts.h"
#include "passes/recognize.h"

namespace convscope::io {
namespace {

using onnx_consts::Const;
using onnx_consts::read_tensor;

/// Inputs and outputs an op must have (ONNX's schema, for the parts ConvScope reads).
struct Arity {
  int min_in = 1, max_in = 1, min_out = 1;
};

const onnx::AttributeProto* attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
std::vector<std::int64_t> attr_ints(const onnx::NodeProto& n, const std::string& name,
                                    std::vector<std::int64_t> def = {}) {
  const auto* a = attr(n, name);
  if (!a) return def;
  return {a->ints().begin(), a->ints().end()};
}
std::int64_t attr_int(const onnx::NodeProto& n, const std::string& name, std::int64_t def) {
  const auto* a = attr(n, name);
  return a ? a->i() : def;
}
float attr_float(const onnx::NodeProto& n, const std::string& name, float def) {
  const auto* a = attr(n, name);
  return a ? a->f() : def;
}

bool all_equal(const std::vector<std::int64_t>& v) {
  for (auto x : v)
    if (x != v.front()) return false;
  return true;
}

/// Whether node n has the inputs and outputs its op needs (the required ones named); else why not.
std::string arity_problem(const onnx::NodeProto& n, const Arity& a) {
  if (n.input_size() < a.min_in || n.input_size() > a.max_in)
    return "takes " +
           (a.min_in == a.max_in ? std::to_string(a.min_in) + (a.min_in == 1 ? " input" : " inputs")
                                 : std::to_string(a.min_in) + " to " + std::to_string(a.max_in) + " inputs") +
           ", has " + std::to_string(n.input_size());
  for (int i = 0; i < a.min_in; ++i)
    if (n.input(i).empty()) return "input " + std::to_string(i) + " is required but has no name";
  if (n.output_size() < a.min_out) return "has no output";
  for (int i = 0; i < n.output_size(); ++i)
    if (n.output(i).empty() && i < a.min_out) return "output " + std::to_string(i) + " has no name";
  return {};
}

/// Printable ASCII of a name from a file (graph names reach JSON writers, which need valid UTF-8).
std::string printable(const std::string& s) {
  std::string out;
  for (char c : s) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

class Importer {
 public:
  Result<ImportedModel> run(const onnx::ModelProto& m, const std::string& name) {
    const auto& g = m.graph();
    out_.graph.name = name;  // the file name says more than exporters' generic graph names ("torch_jit")
    out_.graph.description = "Imported from ONNX (graph \"" + printable(g.name()) + "\", opset " +
                             std::to_string(m.opset_import_size() ? m.opset_import(0).version() : 0) + ")";
    for (const auto& t : g.initializer()) consts_[t.name()] = read_tensor(t);
    // Unsupported ops, all at once, with where they are.
    std::map<std::string, std::vector<std::string>> unsupported;
    for (int k = 0; k < g.node_size(); ++k)
      if (!handlers().count(g.node(k).op_type()))
        unsupported[g.node(k).op_type()].push_back("nodes[" + std::to_string(k) + "] '" + g.node(k).name() + "'");
    if (!unsupported.empty()) {
      Diagnostics d;
      for (const auto& [op, where] : unsupported) {
        std::string w;
        for (std::size_t i = 0; i < where.size() && i < 3; ++i) w += (i ? ", " : "") + where[i];
        if (where.size() > 3) w += " and " + std::to_string(where.size() - 3) + " more";
        d.push_back({"op " + op, "unsupported (used by " + w + ")"});
      }
      return tl::unexpected(d);
    }
    // Inputs: static NCHW shapes.
    for (const auto& in : g.input()) {
      if (consts_.count(in.name())) continue;
      const auto& shape = in.type().tensor_type().shape();
      if (shape.dim_size() != 4)
        return fail("input '" + in.name() + "'",
                    "expected 4 dimensions (N, C, H, W), got " + std::to_string(shape.dim_size()));
      std::vector<std::int64_t> dims;
      for (int a = 0; a < 4; ++a) {
        const auto& dim = shape.dim(a);
        if (!dim.has_dim_value())
          return fail("input '" + in.name() + "'", "dimension " + std::to_string(a) + " is dynamic ('" +
                                                       dim.dim_param() +
                                                       "'): export the model with a fixed input shape");
        if (dim.dim_value() < 1 || dim.dim_value() > (std::int64_t{1} << 20))
          return fail("input '" + in.name() + "'", "dimension " + std::to_string(a) + " is " +
                                                       std::to_string(dim.dim_value()) + ", outside 1 .. 1048576");
        dims.push_back(dim.dim_value());
      }
      const std::string id = out_.graph.unique_id(clean(in.name()));
      out_.graph.nodes.push_back(ir::Node{
          .id = id, .kind = "input", .params = {{"height", dims[2]}, {"width", dims[3]}, {"channels", dims[1]}}});
      out_.graph.settings.batch = dims[0];
      value_[in.name()] = id;
    }
    for (const auto& nd : g.node())
      for (const auto& t : nd.input()) ++readers_[t];
    for (const auto& o : g.output()) ++readers_[o.name()];
    for (int k = 0; k < g.node_size(); ++k) {
      where_ = "nodes[" + std::to_string(k) + "] '" + printable(g.node(k).name()) + "' (" + g.node(k).op_type() + ")";
      const onnx::NodeProto& n = g.node(k);
      const Handler& h = handlers().at(n.op_type());
      if (auto why = arity_problem(n, h.arity); !why.empty()) return err(why);
      if (auto why = misused_negation(n); !why.empty()) return err(why);
      if (auto r = (this->*h.handle)(n); !r) return tl::unexpected(r.error());
    }
    out_.graph.settings.alpha = 1.0;
    return std::move(out_);
  }

 private:
  /// A block id from an ONNX node name. PyTorch names nodes by their module scopes,
  /// "/features/features.1/conv/conv.0/conv.0.0/Conv": a scope the next one extends
  /// ("conv" before "conv.0") adds nothing, so it is left out, giving
  /// features_1_conv_0_0_Conv rather than features_features_1_conv_conv_0_conv_0_0_Conv.
  static std::string block_id(const std::string& name) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= name.size()) {
      const std::size_t slash = std::min(name.find('/', start), name.size());
      if (slash > start) parts.push_back(name.substr(start, slash - start));
      start = slash + 1;
    }
    std::string kept;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const bool extended = i + 1 < parts.size() && parts[i + 1].size() > parts[i].size() &&
                            parts[i + 1].compare(0, parts[i].size(), parts[i]) == 0 &&
                            parts[i + 1][parts[i].size()] == '.';
      if (extended) continue;
      if (!kept.empty()) kept += '_';
      kept += parts[i];
    }
    return clean(kept);
  }

  static std::string clean(const std::string& s) {
    std::string out;
    for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_';
    while (!out.empty() && out.front() == '_') out.erase(out.begin());
    return out.empty() ? "node" : out;
  }

  tl::unexpected<Diagnostics> err(const std::string& msg) const { return fail(where_, msg); }

  const Const* constant(const std::string& name) const {
    auto it = consts_.find(name);
    return it == consts_.end() ? nullptr : &it->second;
  }

  /// Input 2 of n as the bias of `out_c` outputs.
  Result<const Const*> bias_of(const onnx::NodeProto& n, std::int64_t out_c) const {
    auto bc = weights(n, 2, 0, "bias tensor");
    if (bc && (*bc)->count() != out_c)
      return err("bias tensor '" + printable(n.input(2)) + "' has " + std::to_string((*bc)->count()) + " values for " +
                 std::to_string(out_c) + " outputs");
    return bc;
  }

  /// Input i of n as float32 weights: an initializer (or Constant) with `rank`
  /// dimensions (0: any), every dimension >= 1, all its values present.
  Result<const Const*> weights(const onnx::NodeProto& n, int i, std::size_t rank, const std::string& what) const {
    const std::string name = what + " '" + printable(n.input(i)) + "'";
    const Const* c = constant(n.input(i));
    if (!c) return err(name + " must be an initializer");
    if (!c->problem.empty()) return err(name + " " + c->problem);
    if (rank && c->dims.size() != rank)
      return err(name + " must have " + std::to_string(rank) + " dimensions, has " + std::to_string(c->dims.size()));
    for (auto d : c->dims)
      if (d < 1) return err(name + " has an empty dimension");
    if (static_cast<std::int64_t>(c->f.size()) != c->count()) return err(name + " must be float32");
    return c;
  }

  /// The block producing an ONNX tensor (through aliases).
  Result<std::string> block(const std::string& tensor) const {
    auto it = value_.find(tensor);
    if (it == value_.end()) return err("input '" + tensor + "' is neither a graph input nor produced earlier");
    return it->second;
  }

  /// Output shape of a block of the graph built so far.
  ir::Shape shape_of(const std::string& id) {
    const auto a = cost::analyze(out_.graph);
    const int i = out_.graph.find(id);
    return i < 0 ? ir::Shape{} : a.nodes[static_cast<std::size_t>(i)].out;
  }

  std::string add(const onnx::NodeProto& n, const std::string& kind, std::vector<std::string> inputs,
                  ir::ParamMap params, const std::string& out) {
    const std::string id = out_.graph.unique_id(block_id(n.name().empty() ? n.op_type() : n.name()));
    out_.graph.nodes.push_back(ir::Node{.id = id,
                                        .kind = kind,
                                        .inputs = std::move(inputs),
                                        .params = std::move(params),
                                        .width = ir::WidthRule::Fixed});
    value_[out] = id;
    return id;
  }

  /// One ONNX op: the inputs and outputs it must have and the member that turns a node of it into blocks.
  struct Handler {
    Arity arity;
    Result<bool> (Importer::*handle)(const onnx::NodeProto&);
  };
  /// Every op the importer reads. An op type not listed is refused, all at once, before anything is built.
  static const std::map<std::string, Handler>& handlers();

  /// The block producing input i of n.
  Result<std::string> input(const onnx::NodeProto& n, int i) const { return block(n.input(i)); }

  /// A tensor of a CReLU in progress (-x, relu(-x)) read by anything but the CReLU itself.
  std::string misused_negation(const onnx::NodeProto& n) const {
    const std::string& op = n.op_type();
    for (int i = 0; i < n.input_size(); ++i) {
      const bool negated = negated_.count(n.input(i)) > 0, relu_of = relu_of_negated_.count(n.input(i)) > 0;
      if (!negated && !relu_of) continue;
      const bool crelu_step = (op == "Relu" && negated) || (op == "Concat" && relu_of && i == 1 && n.input_size() == 2);
      if (!crelu_step) return "negation is only supported inside a CReLU, concat(relu(x), relu(-x))";
    }
    return {};
  }

  /// Folds n when every input is a constant: true when it was folded (its output is a constant now).
  Result<bool> try_fold(const onnx::NodeProto& n) {
    std::vector<const Const*> ins;
    for (int i = 0; i < n.input_size(); ++i) {
      if (n.input(i).empty()) continue;
      const Const* c = constant(n.input(i));
      if (!c) return false;
      ins.push_back(c);
    }
    auto folded = onnx_consts::fold(n.op_type(), ins);
    if (!folded) return err(folded.error().front().message);
    if (!*folded) return false;
    consts_[n.output(0)] = std::move(**folded);
    return true;
  }

  /// Output 0 of n is input 0 under another name (a constant stays a constant).
  Result<bool> alias(const onnx::NodeProto& n) {
    if (const Const* c = constant(n.input(0))) {
      consts_[n.output(0)] = *c;
      return true;
    }
    auto b = input(n, 0);
    if (!b) return tl::unexpected(b.error());
    value_[n.output(0)] = *b;
    if (n.op_type() == "Flatten" || flat_.count(n.input(0))) flat_.insert(n.output(0));
    return true;
  }

  Result<bool> on_constant(const onnx::NodeProto& n) {
    if (const auto* a = attr(n, "value"); a && a->has_t()) consts_[n.output(0)] = read_tensor(a->t());
    return true;
  }

  /// Shape arithmetic on static shapes (PyTorch spells view/chunk sizes out): Shape becomes a constant.
  Result<bool> on_shape(const onnx::NodeProto& n) {
    auto b = input(n, 0);
    if (!b) return tl::unexpected(b.error());
    const ir::Shape sh = shape_of(*b);
    Const c;
    c.dims = {flat_.count(n.input(0)) ? 2 : 4};
    c.i = flat_.count(n.input(0)) ? std::vector<std::int64_t>{out_.graph.settings.batch, sh.elements()}
                                  : std::vector<std::int64_t>{out_.graph.settings.batch, sh.c, sh.h, sh.w};
    consts_[n.output(0)] = c;
    return true;
  }

  /// Gather, Div, Sub, Cast: integer shape arithmetic only.
  Result<bool> on_shape_arithmetic(const onnx::NodeProto& n) {
    auto folded = try_fold(n);
    if (!folded) return folded;
    if (!*folded) return err("only computes on constant integer shapes are supported for " + n.op_type());
    return true;
  }

  /// Unsqueeze, Squeeze: folded on shapes, else the same tensor (after a fully connected layer).
  Result<bool> on_squeeze(const onnx::NodeProto& n) {
    auto folded = try_fold(n);
    if (!folded || *folded) return folded;
    return alias(n);
  }

  Result<bool> on_flatten(const onnx::NodeProto& n) {
    if (constant(n.input(0))) return err("not supported in this position (only as part of a recognised pattern)");
    return alias(n);
  }

  Result<bool> on_conv(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    auto wr = weights(n, 1, 4, "weight tensor");
    if (!wr) return tl::unexpected(wr.error());
    const Const* w = *wr;
    const auto ks = attr_ints(n, "kernel_shape", {w->dims[2], w->dims[3]});
    const auto strides = attr_ints(n, "strides", {1, 1}), dil = attr_ints(n, "dilations", {1, 1});
    const auto pads = attr_ints(n, "pads", {0, 0, 0, 0});
    if (ks.size() != 2 || strides.size() != 2 || dil.size() != 2 || pads.size() != 4)
      return err("kernel_shape, strides and dilations need 2 values and pads 4 (2-D convolution); got " +
                 std::to_string(ks.size()) + ", " + std::to_string(strides.size()) + ", " + std::to_string(dil.size()) +
                 " and " + std::to_string(pads.size()));
    if (ks[0] != w->dims[2] || ks[1] != w->dims[3])
      return err("kernel_shape " + std::to_string(ks[0]) + "x" + std::to_string(ks[1]) +
                 " does not match the weights' " + std::to_string(w->dims[2]) + "x" + std::to_string(w->dims[3]));
    if (ks[0] != ks[1] || !all_equal(strides) || !all_equal(dil) || !all_equal(pads))
      return err("only square kernels with equal strides, dilations and symmetric padding are supported");
    if (op != "Conv" && dil[0] != 1)
      return err("dilations " + std::to_string(dil[0]) + " on a ConvTranspose are not supported (only 1)");
    const auto* auto_pad = attr(n, "auto_pad");
    if (auto_pad && auto_pad->s() != "NOTSET")
      return err("auto_pad '" + auto_pad->s() + "' is not supported; export with explicit pads");
    const std::int64_t group = attr_int(n, "group", 1);
    if (group < 1 || group > (std::int64_t{1} << 20)) return err("group " + std::to_string(group) + " is out of range");
    const auto out_pad = attr_ints(n, "output_padding", {0, 0});
    if (out_pad.size() != 2) return err("output_padding needs 2 values, got " + std::to_string(out_pad.size()));
    const bool bias = n.input_size() > 2 && !n.input(2).empty();
    auto x = input(n, 0);
    if (!x) return tl::unexpected(x.error());
    runtime::OpWeights ow;
    const std::int64_t kh = ks[0], kw = ks[1];
    // ONNX keeps [A][B][kh][kw] (Conv: A = outputs, B = inputs per group; ConvTranspose: A = inputs,
    // B = outputs per group); the lowering reads [A][kh][kw][B].
    const std::int64_t a_dim = w->dims[0], b_dim = w->dims[1];
    const std::int64_t out_c = op == "Conv" ? a_dim : b_dim * group;
    ow.w.resize(w->f.size());
    for (std::int64_t a = 0; a < a_dim; ++a)
      for (std::int64_t b = 0; b < b_dim; ++b)
        for (std::int64_t y = 0; y < kh; ++y)
          for (std::int64_t xx = 0; xx < kw; ++xx)
            ow.w[static_cast<std::size_t>(((a * kh + y) * kw + xx) * b_dim + b)] =
                w->f[static_cast<std::size_t>(((a * b_dim + b) * kh + y) * kw + xx)];
    if (bias) {
      auto bc = bias_of(n, out_c);
      if (!bc) return tl::unexpected(bc.error());
      ow.bias = (*bc)->f;
    }
    ir::ParamMap p{{"out", out_c},    {"kernel", kh}, {"stride", strides[0]}, {"padding", pads[0]},
                   {"groups", group}, {"bias", bias}, {"bn", false},          {"activation", std::string("none")}};
    if (op == "Conv")
      p["dilation"] = dil[0];
    else
      p["output_padding"] = out_pad[0];
    const std::string id = add(n, op == "Conv" ? "conv" : "conv_transpose", {*x}, p, n.output(0));
    out_.weights[id + (op == "Conv" ? "/conv" : "/convT")] = std::move(ow);
    return true;
  }

  Result<bool> on_batch_norm(const onnx::NodeProto& n) {
    auto x = input(n, 0);
    if (!x) return tl::unexpected(x.error());
    const Const* p[4] = {};
    const char* names[4] = {"scale tensor", "bias tensor", "mean tensor", "variance tensor"};
    const std::int64_t channels = shape_of(*x).c;
    for (int i = 0; i < 4; ++i) {
      auto c = weights(n, i + 1, 1, names[i]);
      if (!c) return tl::unexpected(c.error());
      if ((*c)->count() != channels)
        return err(std::string(names[i]) + " '" + printable(n.input(i + 1)) + "' has " + std::to_string((*c)->count()) +
                   " values for " + std::to_string(channels) + " channels");
      p[i] = *c;
    }
    runtime::OpWeights ow{.gamma = p[0]->f, .beta = p[1]->f, .mean = p[2]->f, .var = p[3]->f};
    // ConvScope's batch norm uses epsilon 1e-5; a different epsilon moves into the variance exactly.
    const float eps = attr_float(n, "epsilon", 1e-5f);
    for (auto& x2 : ow.var) x2 += eps - runtime::kBnEpsilon;
    const std::string id = add(n, "batch_norm", {*x}, {}, n.output(0));
    out_.weights[id + "/bn"] = std::move(ow);
    return true;
  }

  /// CReLU, Concat(Relu(x), Relu(Neg(x))): -x is remembered until the concat.
  Result<bool> on_neg(const onnx::NodeProto& n) {
    auto x = input(n, 0);
    if (!x) return tl::unexpected(x.error());
    negated_[n.output(0)] = *x;
    return true;
  }

  /// Relu, Sigmoid, HardSwish, HardSigmoid (1/6, 1/2), Clip (ReLU6, ReLU), Swish (alpha 1).
  Result<bool> on_activation(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    if (op == "Relu" && negated_.count(n.input(0))) {
      relu_of_negated_[n.output(0)] = negated_.at(n.input(0));
      return true;
    }
    auto x = input(n, 0);
    if (!x) return tl::unexpected(x.error());
    std::string fn = op == "Relu"        ? "relu"
                     : op == "Sigmoid"   ? "sigmoid"
                     : op == "HardSwish" ? "hswish"
                     : op == "Swish"     ? "swish"
                                         : "";
    if (op == "Swish" && attr_float(n, "alpha", 1.f) != 1.f)
      return err("only Swish with alpha = 1 (SiLU) is supported, got alpha " +
                 std::to_string(attr_float(n, "alpha", 1.f)));
    if (op == "HardSigmoid") {
      if (std::fabs(attr_float(n, "alpha", 0.2f) - 1.f / 6.f) > 1e-6f ||
          std::fabs(attr_float(n, "beta", 0.5f) - 0.5f) > 1e-6f)
        return err("only HardSigmoid(alpha = 1/6, beta = 1/2) is supported");
      fn = "hsigmoid";
    }
    if (op == "Clip") {
      auto bound = [&](int i, const char* name, float def) {
        if (n.input_size() > i && !n.input(i).empty()) {
          const Const* c = constant(n.input(i));
          return c && !c->f.empty() ? c->f[0] : std::nanf("");
        }
        return attr_float(n, name, def);
      };
      const float lo = bound(1, "min", -INFINITY), hi = bound(2, "max", INFINITY);
      if (lo == 0.f && hi == 6.f)
        fn = "relu6";
      else if (lo == 0.f && std::isinf(hi))
        fn = "relu";
      else
        return err("only Clip(0, 6) (ReLU6) and Clip(0, inf) are supported, got Clip(" + std::to_string(lo) + ", " +
                   std::to_string(hi) + ")");
    }
    add(n, "activation", {*x}, {{"function", fn}}, n.output(0));
    if (flat_.count(n.input(0))) flat_.insert(n.output(0));  // an activation between fully connected layers
    return true;
  }

  /// Add: a residual sum; Mul: swish / h-swish spelled out, or a channel scale. Both fold on shapes.
  Result<bool> on_add_mul(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    if (constant(n.input(0)) && constant(n.input(1))) return on_shape_arithmetic(n);
    auto a = input(n, 0), b = input(n, 1);
    if (!a || !b) return tl::unexpected((!a ? a : b).error());
    if (op == "Add") {
      add(n, "add", {*a, *b}, {}, n.output(0));
      return true;
    }
    // x * HardSigmoid(x) and x * Sigmoid(x): h-swish and swish (SiLU) spelled out, when
    // nothing else reads the gate.
    for (int side = 0; side < 2; ++side) {
      const std::string& gate = side ? *b : *a;
      const std::string& other = side ? *a : *b;
      const int gi = out_.graph.find(gate);
      if (gi < 0)
        return err("input '" + printable(n.input(side)) + "' was folded into a pattern and cannot be used here");
      const auto& gn = out_.graph.nodes[static_cast<std::size_t>(gi)];
      if (gn.kind != "activation" || gn.inputs.size() != 1 || gn.inputs[0] != other || readers_[n.input(side)] != 1)
        continue;
      const std::string gate_fn = std::get<std::string>(gn.params.at("function"));
      if (gate_fn == "hsigmoid" || gate_fn == "sigmoid") {
        out_.graph.nodes[static_cast<std::size_t>(gi)].params["function"] =
            std::string(gate_fn == "hsigmoid" ? "hswish" : "swish");
        value_[n.output(0)] = gate;
        if (flat_.count(n.input(side ? 0 : 1))) flat_.insert(n.output(0));
        return true;
      }
    }
    const ir::Shape sa = shape_of(*a), sb = shape_of(*b);
    if (sb.h == 1 && sb.w == 1 && sb.c == sa.c && (sa.h != 1 || sa.w != 1))
      add(n, "scale", {*a, *b}, {}, n.output(0));
    else if (sa.h == 1 && sa.w == 1 && sa.c == sb.c)
      add(n, "scale", {*b, *a}, {}, n.output(0));
    else
      return err("only x * Sigmoid(x), x * HardSigmoid(x) and channel scales (x * s with s 1x1xC) are supported");
    return true;
  }

  /// Concat: folded on shapes, the end of a CReLU, or a channel concatenation.
  Result<bool> on_concat(const onnx::NodeProto& n) {
    if (n.input_size() > 1 && constant(n.input(0)) && constant(n.input(1))) return on_shape_arithmetic(n);
    if (n.input_size() == 2 && relu_of_negated_.count(n.input(1))) {
      const std::string x = relu_of_negated_[n.input(1)];
      auto pos = input(n, 0);
      if (!pos) return tl::unexpected(pos.error());
      const int pi_ = out_.graph.find(*pos);
      const auto& pn = out_.graph.nodes[static_cast<std::size_t>(pi_)];
      if (pn.kind != "activation" || pn.inputs != std::vector<std::string>{x} ||
          std::get<std::string>(pn.params.at("function")) != "relu")
        return err("a concat of relu(-x) needs relu(x) first (CReLU)");
      out_.graph.nodes.erase(out_.graph.nodes.begin() + pi_);  // relu(x) is part of the CReLU
      add(n, "crelu", {x}, {}, n.output(0));
      return true;
    }
    if (attr_int(n, "axis", 1) != 1) return err("only channel concatenation (axis 1) is supported");
    std::vector<std::string> ins;
    for (int i = 0; i < n.input_size(); ++i) {
      auto b = input(n, i);
      if (!b) return tl::unexpected(b.error());
      ins.push_back(*b);
    }
    add(n, "concat", ins, {}, n.output(0));
    return true;
  }

  Result<bool> on_pool(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    auto x = input(n, 0);
    if (!x) return tl::unexpected(x.error());
    const auto ks = attr_ints(n, "kernel_shape"), strides = attr_ints(n, "strides", {1, 1}),
               pads = attr_ints(n, "pads", {0, 0, 0, 0});
    if (ks.size() != 2 || ks[0] != ks[1] || !all_equal(strides) || !all_equal(pads))
      return err("only square windows with equal strides and symmetric padding are supported");
    if (op == "AveragePool" && attr_int(n, "count_include_pad", 0) != 0 && pads[0] != 0)
      return err("AveragePool with count_include_pad = 1 and padding is not supported");
    add(n, "pool", {*x},
        {{"mode", std::string(op == "MaxPool" ? "max" : "avg")},
         {"kernel", ks[0]},
         {"stride", strides[0]},
         {"padding", pads[0]},
         {"ceil_mode", attr_int(n, "ceil_mode", 0) != 0}},
        n.output(0));
    return true;
  }

  Result<bool> on_reduce_mean(const onnx::NodeProto& n) {
    auto x = input(n, 0);
    if (!x) return tl::unexpected(x.error());
    auto axes = attr_ints(n, "axes");
    if (axes.empty() && n.input_size() > 1)
      if (const Const* c = constant(n.input(1))) axes = c->i;
    std::sort(axes.begin(), axes.end());
    if (axes != std::vector<std::int64_t>{2, 3} && axes != std::vector<std::int64_t>{-2, -1})
      return err("only ReduceMean over height and width (axes 2, 3) is supported");
    add(n, "global_pool", {*x}, {{"mode", std::string("avg")}}, n.output(0));
    if (attr_int(n, "keepdims", 1) == 0) flat_.insert(n.output(0));
    return true;
  }

  Result<bool> on_global_pool(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    auto x = input(n, 0);
    if (!x) return tl::unexpected(x.error());
    add(n, "global_pool", {*x}, {{"mode", std::string(op == "GlobalMaxPool" ? "max" : "avg")}}, n.output(0));
    return true;
  }

  /// Gemm, MatMul: a fully connected layer after Flatten (or another one).
  Result<bool> on_fully_connected(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    auto x = input(n, 0);
    if (!x) return tl::unexpected(x.error());
    if (!flat_.count(n.input(0))) return err("a fully connected layer must follow Flatten (or another Gemm)");
    auto wr = weights(n, 1, 2, "weight tensor");
    if (!wr) return tl::unexpected(wr.error());
    const Const* w = *wr;
    const bool trans_b = op == "Gemm" && attr_int(n, "transB", 0) != 0;
    if (op == "Gemm" &&
        (attr_int(n, "transA", 0) != 0 || attr_float(n, "alpha", 1.f) != 1.f || attr_float(n, "beta", 1.f) != 1.f))
      return err("only Gemm with transA = 0, alpha = 1, beta = 1 is supported");
    const std::int64_t out_c = trans_b ? w->dims[0] : w->dims[1], kin = trans_b ? w->dims[1] : w->dims[0];
    const ir::Shape s = shape_of(*x);
    if (s.elements() != kin)
      return err("weights expect " + std::to_string(kin) + " inputs, the tensor has " + std::to_string(s.elements()));
    // ONNX flattens NCHW (c, y, x); ConvScope's fully connected weights follow NHWC (y, x, c).
    runtime::OpWeights ow;
    ow.w.resize(static_cast<std::size_t>(out_c * kin));
    const std::int64_t hw = s.h * s.w;
    for (std::int64_t o = 0; o < out_c; ++o)
      for (std::int64_t c = 0; c < s.c; ++c)
        for (std::int64_t p = 0; p < hw; ++p) {
          const std::int64_t src = c * hw + p;
          ow.w[static_cast<std::size_t>(o * kin + p * s.c + c)] =
              w->f[static_cast<std::size_t>(trans_b ? o * kin + src : src * out_c + o)];
        }
    const bool bias = op == "Gemm" && n.input_size() > 2 && !n.input(2).empty();
    if (bias) {
      auto bc = bias_of(n, out_c);
      if (!bc) return tl::unexpected(bc.error());
      ow.bias = (*bc)->f;
    }
    const std::string id = add(n, "fc", {*x}, {{"out", out_c}, {"bias", bias}}, n.output(0));
    flat_.insert(n.output(0));
    out_.weights[id + "/fc"] = std::move(ow);
    return true;
  }

  /// A channel range as one of equal parts (ShuffleNet's chunk).
  Result<bool> channel_part(const onnx::NodeProto& n, const std::string& x, std::int64_t start, std::int64_t count,
                            const std::string& outname) {
    const ir::Shape sh = shape_of(x);
    if (count <= 0 || sh.c % count != 0 || start % count != 0)
      return err("only equal channel parts are supported, got channels [" + std::to_string(start) + ", " +
                 std::to_string(start + count) + ") of " + std::to_string(sh.c));
    add(n, "split", {x}, {{"parts", sh.c / count}, {"index", start / count}}, outname);
    return true;
  }

  Result<bool> on_slice(const onnx::NodeProto& n) {
    auto x = input(n, 0);
    if (!x) return tl::unexpected(x.error());
    const Const *st = constant(n.input(1)), *en = constant(n.input(2));
    const Const* ax = n.input_size() > 3 ? constant(n.input(3)) : nullptr;
    const Const* steps = n.input_size() > 4 ? constant(n.input(4)) : nullptr;
    if (!st || !en || st->i.size() != 1 || en->i.size() != 1 || (ax && (ax->i.size() != 1 || ax->i[0] != 1)) ||
        (steps && (steps->i.size() != 1 || steps->i[0] != 1)) || (!ax))
      return err("only Slice over channels (axis 1, step 1) with constant bounds is supported");
    const std::int64_t c = shape_of(*x).c;
    const std::int64_t b0 = std::clamp<std::int64_t>(st->i[0] < 0 ? st->i[0] + c : st->i[0], 0, c);
    const std::int64_t b1 = std::clamp<std::int64_t>(en->i[0] < 0 ? en->i[0] + c : en->i[0], 0, c);
    auto r = channel_part(n, *x, b0, b1 - b0, n.output(0));
    if (!r) return tl::unexpected(r.error());
    return true;
  }

  Result<bool> on_split(const onnx::NodeProto& n) {
    auto x = input(n, 0);
    if (!x) return tl::unexpected(x.error());
    if (attr_int(n, "axis", 0) != 1) return err("only Split over channels (axis 1) is supported");
    const std::int64_t c = shape_of(*x).c;
    std::vector<std::int64_t> sizes;
    if (n.input_size() > 1 && !n.input(1).empty()) {
      const Const* sp = constant(n.input(1));
      if (!sp) return err("the split sizes must be constant");
      sizes = sp->i;
    } else {
      sizes = attr_ints(n, "split");
      if (sizes.empty()) sizes.assign(static_cast<std::size_t>(n.output_size()), c / n.output_size());
    }
    std::int64_t start = 0;
    for (int o = 0; o < n.output_size() && o < static_cast<int>(sizes.size()); ++o) {
      auto r = channel_part(n, *x, start, sizes[static_cast<std::size_t>(o)], n.output(o));
      if (!r) return tl::unexpected(r.error());
      start += sizes[static_cast<std::size_t>(o)];
    }
    return true;
  }

  Result<bool> on_resize(const onnx::NodeProto& n) {
    auto x = input(n, 0);
    if (!x) return tl::unexpected(x.error());
    const Const* sc = n.input_size() > 2 ? constant(n.input(2)) : nullptr;
    if (!sc || sc->f.size() != 4 || sc->f[0] != 1.f || sc->f[1] != 1.f || sc->f[2] != sc->f[3] ||
        !std::isfinite(sc->f[2]) || sc->f[2] != std::floor(sc->f[2]) || sc->f[2] < 1.f || sc->f[2] > 64.f)
      return err("only Resize by one integer factor (1 to 64) for height and width (constant scales) is supported");
    const auto* mode = attr(n, "mode");
    const std::string m = mode ? mode->s() : "nearest";
    if (m != "nearest" && m != "linear") return err("only nearest and linear Resize are supported, got '" + m + "'");
    add(n, "upsample", {*x},
        {{"scale", static_cast<std::int64_t>(sc->f[2])},
         {"mode", std::string(m == "nearest" ? "nearest" : "bilinear")}},
        n.output(0));
    return true;
  }

  /// Channel shuffle: Reshape to (N, g, C/g, H, W), Transpose (0, 2, 1, 3, 4), Reshape back.
  /// A Reshape after a fully connected layer is the same tensor.
  Result<bool> on_reshape(const onnx::NodeProto& n) {
    if (flat_.count(n.input(0))) return alias(n);
    if (transposed_.count(n.input(0))) {
      const auto& [src, groups] = transposed_.at(n.input(0));
      add(n, "channel_shuffle", {src}, {{"groups", groups}}, n.output(0));
      return true;
    }
    const Const* shape = constant(n.input(1));
    auto x = input(n, 0);
    if (!shuffle_.count(n.input(0)) && shape && shape->i.size() == 5 && x) {
      shuffle_[n.output(0)] = {*x, shape->i[1]};
      return true;
    }
    return err("not supported in this position (only as part of a recognised pattern)");
  }

  Result<bool> on_transpose(const onnx::NodeProto& n) {
    if (shuffle_.count(n.input(0)) && attr_ints(n, "perm") == std::vector<std::int64_t>{0, 2, 1, 3, 4}) {
      transposed_[n.output(0)] = shuffle_.at(n.input(0));
      return true;
    }
    return err("not supported in this position (only as part of a recognised pattern)");
  }

  ImportedModel out_;
  std::map<std::string, Const> consts_;
  std::map<std::string, std::string> value_;  // ONNX tensor -> block id
  std::set<std::string> flat_;                // tensors that are flattened views (Flatten, fc outputs)
  std::map<std::string, std::pair<std::string, std::int64_t>> shuffle_, transposed_;  // channel shuffle in progress
  std::map<std::string, std::string> negated_, relu_of_negated_;  // CReLU in progress: tensor -> block of x
  std::map<std::string, int> readers_;  // tensor -> how many node inputs and graph outputs read it
  std::string where_;
};

const std::map<std::string, Importer::Handler>& Importer::handlers() {
  static const std::map<std::string, Handler> table = {
      {"Constant", {{0, 0}, &Importer::on_constant}},
      {"Shape", {{}, &Importer::on_shape}},
      {"Gather", {{2, 2}, &Importer::on_shape_arithmetic}},
      {"Div", {{2, 2}, &Importer::on_shape_arithmetic}},
      {"Sub", {{2, 2}, &Importer::on_shape_arithmetic}},
      {"Cast", {{}, &Importer::on_shape_arithmetic}},
      {"Unsqueeze", {{1, 2}, &Importer::on_squeeze}},
      {"Squeeze", {{1, 2}, &Importer::on_squeeze}},
      {"Identity", {{}, &Importer::alias}},
      {"Dropout", {{1, 3}, &Importer::alias}},
      {"Flatten", {{}, &Importer::on_flatten}},
      {"Conv", {{2, 3}, &Importer::on_conv}},
      {"ConvTranspose", {{2, 3}, &Importer::on_conv}},
      {"BatchNormalization", {{5, 5}, &Importer::on_batch_norm}},
      {"Neg", {{}, &Importer::on_neg}},
      {"Relu", {{}, &Importer::on_activation}},
      {"Sigmoid", {{}, &Importer::on_activation}},
      {"HardSwish", {{}, &Importer::on_activation}},
      {"HardSigmoid", {{}, &Importer::on_activation}},
      {"Clip", {{1, 3}, &Importer::on_activation}},
      {"Swish", {{}, &Importer::on_activation}},
      {"Add", {{2, 2}, &Importer::on_add_mul}},
      {"Mul", {{2, 2}, &Importer::on_add_mul}},
      {"Concat", {{1, 1 << 20}, &Importer::on_concat}},
      {"MaxPool", {{}, &Importer::on_pool}},
      {"AveragePool", {{}, &Importer::on_pool}},
      {"ReduceMean", {{1, 2}, &Importer::on_reduce_mean}},
      {"GlobalAveragePool", {{}, &Importer::on_global_pool}},
      {"GlobalMaxPool", {{}, &Importer::on_global_pool}},
      {"Gemm", {{2, 3}, &Importer::on_fully_connected}},
      {"MatMul", {{2, 2}, &Importer::on_fully_connected}},
      {"Slice", {{3, 5}, &Importer::on_slice}},
      {"Split", {{1, 2}, &Importer::on_split}},
      {"Resize", {{1, 4}, &Importer::on_resize}},
      {"Reshape", {{2, 2}, &Importer::on_reshape}},
      {"Transpose", {{}, &Importer::on_transpose}},
  };
  return table;
}

/// Drops the name prefix every block but the inputs shares ("features_" when the whole
/// network sits in one module), at a '_' boundary, when the shorter ids stay unique.
void drop_common_prefix(ImportedModel& m) {
  std::vector<ir::Node*> blocks;
  for (auto& n : m.graph.nodes)
    if (n.kind != "input") blocks.push_back(&n);
  if (blocks.size() < 2) return;
  std::string_view prefix = blocks.front()->id;
  for (const auto* n : blocks) {
    std::size_t k = 0;
    while (k < prefix.size() && k < n->id.size() && prefix[k] == n->id[k]) ++k;
    prefix = prefix.substr(0, k);
  }
  const std::size_t cut = prefix.rfind('_');
  if (cut == std::string_view::npos) return;
  const std::size_t drop = cut + 1;
  std::unordered_map<std::string, std::string> renamed;
  std::unordered_set<std::string> taken;
  for (const auto& n : m.graph.nodes)
    if (n.kind == "input") taken.insert(n.id);
  for (const auto* n : blocks) {
    std::string id = n->id.substr(drop);
    if (id.empty() || !taken.insert(id).second) return;
    renamed.emplace(n->id, std::move(id));
  }
  for (auto& n : m.graph.nodes) {
    if (auto it = renamed.find(n.id); it != renamed.end()) n.id = it->second;
    for (auto& in : n.inputs)
      if (auto it = renamed.find(in); it != renamed.end()) in = it->second;
  }
  std::map<std::string, runtime::OpWeights> weights;
  for (auto& [key, w] : m.weights) {
    const std::size_t slash = key.find('/');
    const auto it = slash == std::string::npos ? renamed.end() : renamed.find(key.substr(0, slash));
    weights.emplace(it == renamed.end() ? key : it->second + key.substr(slash), std::move(w));
  }
  m.weights = std::move(weights);
}

}  // namespace

Result<ImportedModel> import_onnx_bytes(const std::string& bytes, const std::string& name) {
  onnx::ModelProto m;
  if (bytes.empty() || !m.ParseFromString(bytes))
    return fail("", "not a valid ONNX model (the file is corrupt, truncated or of another format)");
  if (!m.has_graph() || m.graph().node_size() == 0) return fail("", "the ONNX model has no graph");
  auto imported = Importer().run(m, name);
  if (imported) {
    passes::recognize_blocks(imported->graph, &imported->weights);
    drop_common_prefix(*imported);
  }
  return imported;
}

Result<ImportedModel> import_onnx(const std::filesystem::path& path) {
  // protobuf cannot parse a message over 2 GiB; refuse before reading it whole.
  constexpr std::uintmax_t kMaxOnnxBytes = std::uintmax_t{2} << 30;
  std::error_code ec;
  if (const auto size = std::filesystem::file_size(path, ec); !ec && size >= kMaxOnnxBytes)
    return fail("", "file of " + std::to_string(size) + " bytes is larger than an ONNX model may be (2 GiB)");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("", "cannot open: " + std::string(std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  return import_onnx_bytes(ss.str(), path.stem().string());
}

}  // namespace convscope::io
