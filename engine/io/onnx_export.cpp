#include "io/onnx_export.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <map>

namespace convscope::io {
namespace {

using onnx::AttributeProto;
using onnx::NodeProto;
using onnx::TensorProto;

class Builder {
 public:
  explicit Builder(onnx::GraphProto* g) : g_(g) {}

  std::string fresh(const std::string& stem) { return stem + "_" + std::to_string(counter_++); }

  /// A float initializer with these dims and values.
  std::string weight(const std::string& name, const std::vector<std::int64_t>& dims, const std::vector<float>& values) {
    TensorProto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(TensorProto::FLOAT);
    for (auto d : dims) t->add_dims(d);
    t->mutable_raw_data()->assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
    return name;
  }
  std::string ints(const std::string& name, const std::vector<std::int64_t>& values) {
    TensorProto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(TensorProto::INT64);
    t->add_dims(static_cast<std::int64_t>(values.size()));
    for (auto v : values) t->add_int64_data(v);
    return name;
  }
  std::string scalar(const std::string& name, float v) {
    TensorProto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(TensorProto::FLOAT);
    t->add_float_data(v);
    return name;
  }

  NodeProto* node(const std::string& op, const std::vector<std::string>& in, const std::string& out,
                  const std::string& name) {
    NodeProto* n = g_->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& i : in) n->add_input(i);
    n->add_output(out);
    return n;
  }

 private:
  onnx::GraphProto* g_;
  int counter_ = 0;
};

void attr_ints(NodeProto* n, const std::string& name, const std::vector<std::int64_t>& v) {
  AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(AttributeProto::INTS);
  for (auto x : v) a->add_ints(x);
}
void attr_int(NodeProto* n, const std::string& name, std::int64_t v) {
  AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(AttributeProto::INT);
  a->set_i(v);
}
void attr_float(NodeProto* n, const std::string& name, float v) {
  AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(AttributeProto::FLOAT);
  a->set_f(v);
}
void attr_string(NodeProto* n, const std::string& name, const std::string& v) {
  AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(AttributeProto::STRING);
  a->set_s(v);
}

/// kernel_shape, strides, pads (symmetric) and, for convolutions, dilations.
void window_attrs(NodeProto* n, const ir::Op& op, bool dilations) {
  attr_ints(n, "kernel_shape", {op.k_h, op.k_w});
  attr_ints(n, "strides", {op.stride, op.stride});
  attr_ints(n, "pads", {op.pad, op.pad, op.pad, op.pad});
  if (dilations) attr_ints(n, "dilations", {op.dilation, op.dilation});
}

void value_info(onnx::ValueInfoProto* v, const std::string& name, std::int64_t n, const ir::Shape& s) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(TensorProto::FLOAT);
  for (auto d : {n, s.c, s.h, s.w}) tt->mutable_shape()->add_dim()->set_dim_value(d);
}

}  // namespace

Result<std::string> to_onnx(const ir::Graph& graph, const cost::Analysis& a, const runtime::Weights& weights) {
  if (!a.complete()) return fail("", "the graph has problems; fix them before exporting");
  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name("ConvScope");
  model.set_producer_version("0.1");
  model.set_doc_string(graph.name);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name(graph.name.empty() ? "convscope" : graph.name);
  Builder b(g);
  const std::int64_t n = a.settings.batch;

  std::map<int, std::string> name_of;
  std::vector<bool> read(a.tensors.size(), false);
  for (const auto& o : a.ops)
    for (int t : o.inputs) read[static_cast<std::size_t>(t)] = true;
  for (std::size_t t = 0; t < a.tensors.size(); ++t)
    if (a.tensors[t].producer < 0) {
      const std::string name = graph.nodes[static_cast<std::size_t>(a.tensors[t].node)].id;
      name_of[static_cast<int>(t)] = name;
      value_info(g->add_input(), name, n, a.tensors[t].shape);
    }

  for (std::size_t k = 0; k < a.ops.size(); ++k) {
    const auto& o = a.ops[k];
    const ir::Op& op = o.op;
    const runtime::OpWeights& w = weights.op(k);
    const std::string base = graph.nodes[static_cast<std::size_t>(o.node)].id + "/" + op.name;
    const ir::Shape in = a.tensors[static_cast<std::size_t>(o.inputs.front())].shape;
    const ir::Shape out_shape = a.tensors[static_cast<std::size_t>(o.output)].shape;
    const std::string x = name_of.at(o.inputs.front());
    const std::string y = base;
    switch (op.kind) {
      case ir::OpKind::Conv: {
        const std::int64_t cin_g = in.c / op.groups, kh = op.k_h, kw = op.k_w;
        std::vector<float> oihw(w.w.size());
        for (std::int64_t oc = 0; oc < op.out_c; ++oc)
          for (std::int64_t ky = 0; ky < kh; ++ky)
            for (std::int64_t kx = 0; kx < kw; ++kx)
              for (std::int64_t i = 0; i < cin_g; ++i)
                oihw[static_cast<std::size_t>(((oc * cin_g + i) * kh + ky) * kw + kx)] =
                    w.w[static_cast<std::size_t>(((oc * kh + ky) * kw + kx) * cin_g + i)];
        std::vector<std::string> ins{x, b.weight(base + "/W", {op.out_c, cin_g, kh, kw}, oihw)};
        if (op.bias) ins.push_back(b.weight(base + "/B", {op.out_c}, w.bias));
        auto* nd = b.node("Conv", ins, y, base);
        window_attrs(nd, op, true);
        attr_int(nd, "group", op.groups);
        break;
      }
      case ir::OpKind::ConvTranspose: {
        const std::int64_t cout_g = op.out_c / op.groups, kh = op.k_h, kw = op.k_w;
        std::vector<float> iohw(w.w.size());
        for (std::int64_t i = 0; i < in.c; ++i)
          for (std::int64_t ky = 0; ky < kh; ++ky)
            for (std::int64_t kx = 0; kx < kw; ++kx)
              for (std::int64_t ol = 0; ol < cout_g; ++ol)
                iohw[static_cast<std::size_t>(((i * cout_g + ol) * kh + ky) * kw + kx)] =
                    w.w[static_cast<std::size_t>(((i * kh + ky) * kw + kx) * cout_g + ol)];
        std::vector<std::string> ins{x, b.weight(base + "/W", {in.c, cout_g, kh, kw}, iohw)};
        if (op.bias) ins.push_back(b.weight(base + "/B", {op.out_c}, w.bias));
        auto* nd = b.node("ConvTranspose", ins, y, base);
        window_attrs(nd, op, true);
        attr_ints(nd, "output_padding", {op.output_padding, op.output_padding});
        attr_int(nd, "group", op.groups);
        break;
      }
      case ir::OpKind::FullyConnected: {
        // ONNX flattens NCHW (c, y, x); ConvScope's weights follow NHWC (y, x, c).
        const std::int64_t hw = in.h * in.w, kin = in.elements();
        std::vector<float> wt(w.w.size());
        for (std::int64_t oc = 0; oc < op.out_c; ++oc)
          for (std::int64_t p = 0; p < hw; ++p)
            for (std::int64_t c = 0; c < in.c; ++c)
              wt[static_cast<std::size_t>(oc * kin + c * hw + p)] =
                  w.w[static_cast<std::size_t>(oc * kin + p * in.c + c)];
        const std::string flat = b.fresh(base + "/flat");
        attr_int(b.node("Flatten", {x}, flat, flat), "axis", 1);
        std::vector<std::string> ins{flat, b.weight(base + "/W", {op.out_c, kin}, wt)};
        if (op.bias) ins.push_back(b.weight(base + "/B", {op.out_c}, w.bias));
        const std::string gemm = b.fresh(base + "/gemm");
        attr_int(b.node("Gemm", ins, gemm, gemm), "transB", 1);
        b.node("Unsqueeze", {gemm, b.ints(base + "/axes", {2, 3})}, y, base);
        break;
      }
      case ir::OpKind::BatchNorm: {
        auto* nd = b.node("BatchNormalization",
                          {x, b.weight(base + "/scale", {in.c}, w.gamma), b.weight(base + "/B", {in.c}, w.beta),
                           b.weight(base + "/mean", {in.c}, w.mean), b.weight(base + "/var", {in.c}, w.var)},
                          y, base);
        attr_float(nd, "epsilon", runtime::kBnEpsilon);
        break;
      }
      case ir::OpKind::Activation:
        switch (op.act) {
          case ir::Activation::None:
            b.node("Identity", {x}, y, base);
            break;
          case ir::Activation::ReLU:
            b.node("Relu", {x}, y, base);
            break;
          case ir::Activation::ReLU6:
            b.node("Clip", {x, b.scalar(base + "/min", 0.f), b.scalar(base + "/max", 6.f)}, y, base);
            break;
          case ir::Activation::HSwish:
            b.node("HardSwish", {x}, y, base);
            break;
          case ir::Activation::HSigmoid: {
            auto* nd = b.node("HardSigmoid", {x}, y, base);
            attr_float(nd, "alpha", 1.f / 6.f);
            attr_float(nd, "beta", 0.5f);
            break;
          }
          case ir::Activation::Sigmoid:
            b.node("Sigmoid", {x}, y, base);
            break;
          case ir::Activation::Swish:  // no Swish op before opset 24: x * Sigmoid(x), as PyTorch exports SiLU
            b.node("Sigmoid", {x}, y + "/sigmoid", base + "/sigmoid");
            b.node("Mul", {x, y + "/sigmoid"}, y, base);
            break;
        }
        break;
      case ir::OpKind::Add:
        b.node("Add", {x, name_of.at(o.inputs[1])}, y, base);
        break;
      case ir::OpKind::Mul:
        b.node("Mul", {x, name_of.at(o.inputs[1])}, y, base);
        break;
      case ir::OpKind::Concat: {
        std::vector<std::string> ins;
        for (int t : o.inputs) ins.push_back(name_of.at(t));
        attr_int(b.node("Concat", ins, y, base), "axis", 1);
        break;
      }
      case ir::OpKind::Slice:
        b.node("Slice",
               {x, b.ints(base + "/starts", {op.slice_start}),
                b.ints(base + "/ends", {op.slice_start + op.slice_count}), b.ints(base + "/axes", {1})},
               y, base);
        break;
      case ir::OpKind::ChannelShuffle: {
        const std::string r1 = b.fresh(base + "/split"), tr = b.fresh(base + "/transpose");
        b.node("Reshape", {x, b.ints(base + "/shape1", {n, op.groups, in.c / op.groups, in.h, in.w})}, r1, r1);
        attr_ints(b.node("Transpose", {r1}, tr, tr), "perm", {0, 2, 1, 3, 4});
        b.node("Reshape", {tr, b.ints(base + "/shape2", {n, in.c, in.h, in.w})}, y, base);
        break;
      }
      case ir::OpKind::Pool: {
        auto* nd = b.node(op.pool == ir::PoolMode::Max ? "MaxPool" : "AveragePool", {x}, y, base);
        window_attrs(nd, op, false);
        attr_int(nd, "ceil_mode", op.ceil_mode ? 1 : 0);
        if (op.pool == ir::PoolMode::Avg) attr_int(nd, "count_include_pad", 0);
        break;
      }
      case ir::OpKind::GlobalPool:
        b.node(op.pool == ir::PoolMode::Max ? "GlobalMaxPool" : "GlobalAveragePool", {x}, y, base);
        break;
      case ir::OpKind::Upsample: {
        const auto s = static_cast<float>(op.scale);
        auto* nd = b.node("Resize", {x, "", b.weight(base + "/scales", {4}, {1.f, 1.f, s, s})}, y, base);
        if (op.upsample == ir::UpsampleMode::Nearest) {
          attr_string(nd, "mode", "nearest");
          attr_string(nd, "coordinate_transformation_mode", "asymmetric");
          attr_string(nd, "nearest_mode", "floor");
        } else {
          attr_string(nd, "mode", "linear");
          attr_string(nd, "coordinate_transformation_mode", "half_pixel");
        }
        break;
      }
      case ir::OpKind::CReLU: {
        const std::string pos = b.fresh(base + "/pos"), neg = b.fresh(base + "/neg"), negr = b.fresh(base + "/negrelu");
        b.node("Relu", {x}, pos, pos);
        b.node("Neg", {x}, neg, neg);
        b.node("Relu", {neg}, negr, negr);
        attr_int(b.node("Concat", {pos, negr}, y, base), "axis", 1);
        break;
      }
    }
    name_of[o.output] = y;
    if (!read[static_cast<std::size_t>(o.output)]) value_info(g->add_output(), y, n, out_shape);
  }
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    return fail("", std::string("ONNX checker rejected the export: ") + e.what());
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) return fail("", "protobuf could not serialize the model");
  return bytes;
}

}  // namespace convscope::io
