#include "cost/op_cost.h"

#include "util/checked.h"

namespace convscope::cost {

std::int64_t activation_ops_per_element(ir::Activation act) {
  switch (act) {
    case ir::Activation::None:
      return 0;
    case ir::Activation::ReLU:
      return 1;  // max
    case ir::Activation::ReLU6:
      return 2;  // max, min
    case ir::Activation::HSigmoid:
      return 4;  // add 3, max, min, multiply 1/6
    case ir::Activation::HSwish:
      return 5;  // h-sigmoid, multiply
    case ir::Activation::Sigmoid:
      return 4;  // negate, exp, add, divide
    case ir::Activation::Swish:
      return 5;  // sigmoid, multiply
  }
  return 0;
}

tl::expected<OpCost, std::string> op_cost(const ir::Op& op, std::span<const ir::Shape> inputs, const ir::Shape& out) {
  using ir::OpKind;
  OpCost c;
  for (const auto& s : inputs) c.input_elements = sat_add(c.input_elements, s.elements());
  c.output_elements = out.elements();
  const ir::Shape& in = inputs.front();
  const std::int64_t out_el = c.output_elements;

  auto product = [](const char* what,
                    std::initializer_list<std::int64_t> f) -> tl::expected<std::int64_t, std::string> {
    auto v = checked_product(f);
    if (!v) return tl::unexpected(std::string(what) + " overflows the 2^62 counting limit");
    return *v;
  };

  switch (op.kind) {
    case OpKind::Conv:
    case OpKind::ConvTranspose: {
      // A convolution visits every output pixel; a transposed one scatters every input pixel.
      const bool transposed = op.kind == OpKind::ConvTranspose;
      auto w = transposed ? product("weight count", {in.c, op.out_c / op.groups, op.k_h, op.k_w})
                          : product("weight count", {op.out_c, in.c / op.groups, op.k_h, op.k_w});
      if (!w) return tl::unexpected(w.error());
      const ir::Shape& visited = transposed ? in : out;
      auto m = product("multiply-add count", {*w, visited.h, visited.w});
      if (!m) return tl::unexpected(m.error());
      c.weights = *w;
      c.madds = *m;
      c.biases = op.bias ? op.out_c : 0;
      c.other_ops = op.bias ? out_el : 0;
      break;
    }
    case OpKind::FullyConnected: {
      auto w = product("weight count", {in.elements(), op.out_c});
      if (!w) return tl::unexpected(w.error());
      c.weights = *w;
      c.madds = *w;
      c.biases = op.bias ? op.out_c : 0;
      c.other_ops = op.bias ? op.out_c : 0;
      break;
    }
    case OpKind::BatchNorm:
      c.bn_params = 2 * out.c;
      c.other_ops = 2 * out_el;
      break;
    case OpKind::Activation:
      c.other_ops = activation_ops_per_element(op.act) * out_el;
      break;
    case OpKind::Add:
    case OpKind::Mul:
      c.other_ops = out_el;
      break;
    case OpKind::Concat:
    case OpKind::Slice:
    case OpKind::ChannelShuffle:
      break;  // data movement only
    case OpKind::Pool: {
      const std::int64_t window = op.k_h * op.k_w;
      c.other_ops = (op.pool == ir::PoolMode::Max ? window - 1 : window) * out_el;
      break;
    }
    case OpKind::GlobalPool:
      c.other_ops = in.elements();
      break;
    case OpKind::Upsample:
      c.other_ops = op.upsample == ir::UpsampleMode::Bilinear ? 7 * out_el : 0;
      break;
    case OpKind::CReLU:
      c.other_ops = in.elements() + out_el;
      break;  // negate half, max on all
  }
  return c;
}

}  // namespace convscope::cost
