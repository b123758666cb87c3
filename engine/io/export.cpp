#include "io/export.h"

#include <cctype>
#include <cstdio>
#include <map>

#include "io/report.h"

namespace convscope::io {
namespace {

std::string dot_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

/// A Python identifier from a block id and op name.
std::string py_name(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out.front()))) out = "l_" + out;
  return out;
}

std::string py_act(ir::Activation act, const std::string& x) {
  switch (act) {
    case ir::Activation::None:
      return x;
    case ir::Activation::ReLU:
      return "F.relu(" + x + ")";
    case ir::Activation::ReLU6:
      return "F.relu6(" + x + ")";
    case ir::Activation::HSwish:
      return "F.hardswish(" + x + ")";
    case ir::Activation::HSigmoid:
      return "F.hardsigmoid(" + x + ")";
    case ir::Activation::Sigmoid:
      return "torch.sigmoid(" + x + ")";
    case ir::Activation::Swish:
      return "F.silu(" + x + ")";
  }
  return x;
}

std::string b(bool v) { return v ? "True" : "False"; }
std::string n(std::int64_t v) { return std::to_string(v); }

}  // namespace

std::string to_dot(const ir::Graph& g, const cost::Analysis& a) {
  std::string out = "digraph \"" + dot_escape(g.name) + "\" {\n";
  out +=
      "  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f4f6fb\", fontname=\"Helvetica\"];\n";
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& node = g.nodes[i];
    const auto& rec = a.nodes[i];
    std::string label = node.id + "\\n" + node.kind;
    std::string extra;
    if (rec.status == cost::NodeStatus::Ok) {
      label += "\\n" + rec.out.str();
      if (rec.totals.madds > 0)
        label += "\\n" + human(rec.totals.madds) + " MAdds, " + human(rec.totals.params) + " params";
    } else if (rec.status == cost::NodeStatus::Invalid) {
      label += "\\n" + dot_escape(rec.problems.front().message);
      extra = ", fillcolor=\"#f8d0d0\", color=\"#c0392b\"";
    } else {
      label += "\\n(" + dot_escape(rec.unresolved_because) + ")";
      extra = ", fillcolor=\"#eeeeee\"";
    }
    out += "  \"" + dot_escape(node.id) + "\" [label=\"" + dot_escape(label) + "\"" + extra + "];\n";
  }
  for (const auto& node : g.nodes)
    for (const auto& in : node.inputs) out += "  \"" + dot_escape(in) + "\" -> \"" + dot_escape(node.id) + "\";\n";
  out += "}\n";
  return out;
}

std::string to_pytorch(const ir::Graph& g, const cost::Analysis& a) {
  std::string init, fwd;
  std::map<int, std::string> var;  // tensor -> python variable
  std::vector<std::string> inputs;
  int counter = 0;
  for (std::size_t t = 0; t < a.tensors.size(); ++t)
    if (a.tensors[t].producer < 0) {
      const std::string v = py_name(g.nodes[static_cast<std::size_t>(a.tensors[t].node)].id);
      var[static_cast<int>(t)] = v;
      inputs.push_back(v);
    }
  std::vector<bool> read(a.tensors.size(), false);
  for (const auto& o : a.ops)
    for (int t : o.inputs) read[static_cast<std::size_t>(t)] = true;
  for (const auto& o : a.ops) {
    const std::string layer = py_name(g.nodes[static_cast<std::size_t>(o.node)].id + "_" + o.op.name);
    const ir::Shape in = a.tensors[static_cast<std::size_t>(o.inputs.front())].shape;
    const std::string x = var.at(o.inputs.front());
    const std::string y = "t" + std::to_string(counter++);
    std::string expr;
    const ir::Op& op = o.op;
    switch (op.kind) {
      case ir::OpKind::Conv:
        init += "        self." + layer + " = nn.Conv2d(" + n(in.c) + ", " + n(op.out_c) + ", " + n(op.k_h) +
                ", stride=" + n(op.stride) + ", padding=" + n(op.pad) + ", dilation=" + n(op.dilation) +
                ", groups=" + n(op.groups) + ", bias=" + b(op.bias) + ")\n";
        expr = "self." + layer + "(" + x + ")";
        break;
      case ir::OpKind::ConvTranspose:
        init += "        self." + layer + " = nn.ConvTranspose2d(" + n(in.c) + ", " + n(op.out_c) + ", " + n(op.k_h) +
                ", stride=" + n(op.stride) + ", padding=" + n(op.pad) + ", output_padding=" + n(op.output_padding) +
                ", groups=" + n(op.groups) + ", bias=" + b(op.bias) + ", dilation=" + n(op.dilation) + ")\n";
        expr = "self." + layer + "(" + x + ")";
        break;
      case ir::OpKind::FullyConnected:
        init += "        self." + layer + " = nn.Linear(" + n(in.elements()) + ", " + n(op.out_c) +
                ", bias=" + b(op.bias) + ")\n";
        expr = "self." + layer + "(torch.flatten(" + x + ", 1))[:, :, None, None]";
        break;
      case ir::OpKind::BatchNorm:
        init += "        self." + layer + " = nn.BatchNorm2d(" + n(in.c) + ")\n";
        expr = "self." + layer + "(" + x + ")";
        break;
      case ir::OpKind::Activation:
        expr = py_act(op.act, x);
        break;
      case ir::OpKind::Add:
        expr = x + " + " + var.at(o.inputs[1]);
        break;
      case ir::OpKind::Mul:
        expr = x + " * " + var.at(o.inputs[1]);
        break;
      case ir::OpKind::Concat: {
        expr = "torch.cat([";
        for (std::size_t i = 0; i < o.inputs.size(); ++i) expr += (i ? ", " : "") + var.at(o.inputs[i]);
        expr += "], 1)";
        break;
      }
      case ir::OpKind::Slice:
        expr = x + "[:, " + n(op.slice_start) + ":" + n(op.slice_start + op.slice_count) + "]";
        break;
      case ir::OpKind::ChannelShuffle:
        expr = x + ".reshape(" + x + ".shape[0], " + n(op.groups) + ", " + n(in.c / op.groups) + ", " + n(in.h) + ", " +
               n(in.w) + ").transpose(1, 2).reshape(" + x + ".shape[0], " + n(in.c) + ", " + n(in.h) + ", " + n(in.w) +
               ")";
        break;
      case ir::OpKind::Pool:
        expr = op.pool == ir::PoolMode::Max
                   ? "F.max_pool2d(" + x + ", " + n(op.k_h) + ", " + n(op.stride) + ", " + n(op.pad) +
                         ", ceil_mode=" + b(op.ceil_mode) + ")"
                   : "F.avg_pool2d(" + x + ", " + n(op.k_h) + ", " + n(op.stride) + ", " + n(op.pad) +
                         ", ceil_mode=" + b(op.ceil_mode) + ", count_include_pad=False)";
        break;
      case ir::OpKind::GlobalPool:
        expr = op.pool == ir::PoolMode::Max ? x + ".amax((2, 3), keepdim=True)" : x + ".mean((2, 3), keepdim=True)";
        break;
      case ir::OpKind::Upsample:
        expr = "F.interpolate(" + x + ", scale_factor=" + n(op.scale) + ", mode=" +
               (op.upsample == ir::UpsampleMode::Nearest ? "\"nearest\"" : "\"bilinear\", align_corners=False") + ")";
        break;
      case ir::OpKind::CReLU:
        expr = "torch.cat([F.relu(" + x + "), F.relu(-" + x + ")], 1)";
        break;
    }
    fwd +=
        "        " + y + " = " + expr + "  # " + g.nodes[static_cast<std::size_t>(o.node)].id + ": " + op.name + "\n";
    var[o.output] = y;
  }
  std::vector<std::string> outputs;
  for (const auto& o : a.ops)
    if (!read[static_cast<std::size_t>(o.output)]) outputs.push_back(var.at(o.output));

  std::string out;
  out += "# Generated by ConvScope from \"" + g.name + "\" (alpha " + std::to_string(a.settings.alpha).substr(0, 4) +
         (a.settings.resolution ? ", resolution " + std::to_string(*a.settings.resolution) : std::string()) + ").\n";
  out += "# One layer per primitive op; tensors are NCHW. sum(p.numel() for p in Net().parameters()) = " +
         with_commas(a.totals.weights + a.totals.biases + a.totals.bn_params) + ".\n";
  out += "import torch\nfrom torch import nn\nimport torch.nn.functional as F\n\n\n";
  out += "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n";
  out += init.empty() ? "        pass\n" : init;
  out += "\n    def forward(self";
  for (const auto& i : inputs) out += ", " + i;
  out += "):\n" + fwd;
  out += "        return ";
  for (std::size_t i = 0; i < outputs.size(); ++i) out += (i ? ", " : "") + outputs[i];
  out += "\n\n\n";
  out += "INPUT_SHAPES = [";
  for (std::size_t t = 0, k = 0; t < a.tensors.size(); ++t)
    if (a.tensors[t].producer < 0) {
      const auto& s = a.tensors[t].shape;
      out += std::string(k++ ? ", " : "") + "(" + n(a.settings.batch) + ", " + n(s.c) + ", " + n(s.h) + ", " + n(s.w) +
             ")";
    }
  out += "]\n\n\nif __name__ == \"__main__\":\n";
  out += "    net = Net().eval()\n";
  out += "    outs = net(*[torch.zeros(s) for s in INPUT_SHAPES])\n";
  out += "    outs = outs if isinstance(outs, tuple) else (outs,)\n";
  out += "    print(sum(p.numel() for p in net.parameters()), *[tuple(o.shape) for o in outs])\n";
  return out;
}

}  // namespace convscope::io
