#include "ir/op.h"

namespace convscope::ir {

std::string_view op_kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::Conv:
      return "conv";
    case OpKind::ConvTranspose:
      return "conv_transpose";
    case OpKind::FullyConnected:
      return "fully_connected";
    case OpKind::BatchNorm:
      return "batch_norm";
    case OpKind::Activation:
      return "activation";
    case OpKind::Add:
      return "add";
    case OpKind::Mul:
      return "mul";
    case OpKind::Concat:
      return "concat";
    case OpKind::Slice:
      return "slice";
    case OpKind::ChannelShuffle:
      return "channel_shuffle";
    case OpKind::Pool:
      return "pool";
    case OpKind::GlobalPool:
      return "global_pool";
    case OpKind::Upsample:
      return "upsample";
    case OpKind::CReLU:
      return "crelu";
  }
  return "?";
}

std::string_view activation_name(Activation act) {
  switch (act) {
    case Activation::None:
      return "none";
    case Activation::ReLU:
      return "relu";
    case Activation::ReLU6:
      return "relu6";
    case Activation::HSwish:
      return "hswish";
    case Activation::HSigmoid:
      return "hsigmoid";
    case Activation::Sigmoid:
      return "sigmoid";
    case Activation::Swish:
      return "swish";
  }
  return "?";
}

bool parse_activation(std::string_view name, Activation& out) {
  for (Activation a : kAllActivations) {
    if (activation_name(a) == name) {
      out = a;
      return true;
    }
  }
  return false;
}

std::string op_summary(const Op& op) {
  auto kernel = [&] {
    std::string s = std::to_string(op.k_h) + "x" + std::to_string(op.k_w);
    if (op.stride != 1) s += "/" + std::to_string(op.stride);
    if (op.dilation != 1) s += " d" + std::to_string(op.dilation);
    return s;
  };
  switch (op.kind) {
    case OpKind::Conv: {
      std::string s = "conv " + kernel();
      if (op.groups != 1) s += " g" + std::to_string(op.groups);
      return s;
    }
    case OpKind::ConvTranspose:
      return "convT " + kernel() + (op.groups != 1 ? " g" + std::to_string(op.groups) : "");
    case OpKind::FullyConnected:
      return "fc";
    case OpKind::BatchNorm:
      return "bn";
    case OpKind::Activation:
      return std::string(activation_name(op.act));
    case OpKind::Add:
      return "add";
    case OpKind::Mul:
      return "mul (channel scale)";
    case OpKind::Concat:
      return "concat";
    case OpKind::Slice:
      return "slice [" + std::to_string(op.slice_start) + ", " + std::to_string(op.slice_start + op.slice_count) + ")";
    case OpKind::ChannelShuffle:
      return "shuffle g" + std::to_string(op.groups);
    case OpKind::Pool:
      return std::string(op.pool == PoolMode::Max ? "maxpool " : "avgpool ") + kernel();
    case OpKind::GlobalPool:
      return op.pool == PoolMode::Max ? "global maxpool" : "global avgpool";
    case OpKind::Upsample:
      return std::string(op.upsample == UpsampleMode::Nearest ? "upsample nearest x" : "upsample bilinear x") +
             std::to_string(op.scale);
    case OpKind::CReLU:
      return "crelu";
  }
  return "?";
}

}  // namespace convscope::ir
