#include "ir/lowering.h"

#include "util/checked.h"

namespace convscope::ir {

OpBuilder::OpBuilder(const std::vector<Shape>& inputs) {
  result_.tensors = inputs;
  result_.n_inputs = inputs.size();
}

bool OpBuilder::ok(std::initializer_list<TensorRef> ts) const {
  for (TensorRef t : ts)
    if (t == kNoTensor) return false;
  return true;
}

TensorRef OpBuilder::error(const std::string& name, const std::string& message) {
  result_.errors.push_back("op '" + name + "': " + message);
  return kNoTensor;
}

TensorRef OpBuilder::add_op(Op op, std::vector<TensorRef> inputs, Shape out) {
  if (!out.valid()) return error(op.name, "output shape " + out.str() + " is empty");
  if (out.h > kDimLimit || out.w > kDimLimit || out.c > kDimLimit)
    return error(op.name, "output shape " + out.str() + " exceeds the dimension limit " + std::to_string(kDimLimit));
  if (!checked_product({out.h, out.w, out.c}) || out.elements() > kTensorElementLimit)
    return error(op.name, "output " + out.str() + " exceeds the tensor size limit of 2^40 elements");
  const auto ref = static_cast<TensorRef>(result_.tensors.size());
  result_.tensors.push_back(out);
  result_.ops.push_back(LocalOp{std::move(op), std::move(inputs), ref});
  return ref;
}

namespace {
/// The op for a convolution spec (Conv or ConvTranspose).
Op conv_op(OpKind kind, const ConvSpec& s, std::string name) {
  Op op{.kind = kind, .name = std::move(name)};
  op.out_c = s.out_c;
  op.k_h = op.k_w = s.k;
  op.stride = s.stride;
  op.pad = s.pad;
  op.dilation = s.dilation;
  op.groups = s.groups;
  op.bias = s.bias;
  return op;
}

bool groups_fit(const ConvSpec& s, std::int64_t in_c) {
  return s.groups >= 1 && in_c % s.groups == 0 && s.out_c % s.groups == 0;
}

std::string groups_error(const ConvSpec& s, std::int64_t in_c) {
  return "groups " + std::to_string(s.groups) + " must divide input channels " + std::to_string(in_c) +
         " and output channels " + std::to_string(s.out_c);
}
}  // namespace

TensorRef OpBuilder::conv(TensorRef x, const ConvSpec& s, std::string name) {
  if (!ok({x})) return kNoTensor;
  const Shape in = shape(x);
  if (!groups_fit(s, in.c)) return error(name, groups_error(s, in.c));
  const std::int64_t oh = window_out(in.h, s.k, s.stride, 2 * s.pad, s.dilation);
  const std::int64_t ow = window_out(in.w, s.k, s.stride, 2 * s.pad, s.dilation);
  if (oh <= 0 || ow <= 0)
    return error(name, "kernel " + std::to_string(s.k) + "x" + std::to_string(s.k) + " (dilation " +
                           std::to_string(s.dilation) + ") is larger than the padded input " +
                           std::to_string(in.h + 2 * s.pad) + "x" + std::to_string(in.w + 2 * s.pad));
  return add_op(conv_op(OpKind::Conv, s, std::move(name)), {x}, Shape{oh, ow, s.out_c});
}

TensorRef OpBuilder::conv_transpose(TensorRef x, const ConvSpec& s, std::int64_t output_padding, std::string name) {
  if (!ok({x})) return kNoTensor;
  const Shape in = shape(x);
  if (!groups_fit(s, in.c)) return error(name, groups_error(s, in.c));
  if (output_padding >= s.stride && output_padding >= s.dilation)
    return error(name, "output_padding " + std::to_string(output_padding) + " must be smaller than stride or dilation");
  const std::int64_t span = s.dilation * (s.k - 1) + 1;
  const std::int64_t oh = (in.h - 1) * s.stride - 2 * s.pad + span + output_padding;
  const std::int64_t ow = (in.w - 1) * s.stride - 2 * s.pad + span + output_padding;
  if (oh <= 0 || ow <= 0) return error(name, "padding " + std::to_string(s.pad) + " removes the whole output");
  Op op = conv_op(OpKind::ConvTranspose, s, std::move(name));
  op.output_padding = output_padding;
  return add_op(std::move(op), {x}, Shape{oh, ow, s.out_c});
}

TensorRef OpBuilder::fully_connected(TensorRef x, std::int64_t out_c, bool bias, std::string name) {
  if (!ok({x})) return kNoTensor;
  Op op{.kind = OpKind::FullyConnected, .name = std::move(name)};
  op.out_c = out_c;
  op.bias = bias;
  return add_op(std::move(op), {x}, Shape{1, 1, out_c});
}

TensorRef OpBuilder::batch_norm(TensorRef x, std::string name) {
  if (!ok({x})) return kNoTensor;
  return add_op(Op{.kind = OpKind::BatchNorm, .name = std::move(name)}, {x}, shape(x));
}

TensorRef OpBuilder::activation(TensorRef x, Activation act, std::string name) {
  if (!ok({x})) return kNoTensor;
  if (act == Activation::None) return x;
  Op op{.kind = OpKind::Activation, .name = std::move(name)};
  op.act = act;
  return add_op(std::move(op), {x}, shape(x));
}

TensorRef OpBuilder::add(TensorRef a, TensorRef b, std::string name) {
  if (!ok({a, b})) return kNoTensor;
  if (!(shape(a) == shape(b)))
    return error(name, "cannot add " + shape(a).str() + " and " + shape(b).str() + ": shapes differ");
  return add_op(Op{.kind = OpKind::Add, .name = std::move(name)}, {a, b}, shape(a));
}

TensorRef OpBuilder::mul(TensorRef x, TensorRef scale, std::string name) {
  if (!ok({x, scale})) return kNoTensor;
  const Shape s = shape(scale);
  if (s.h != 1 || s.w != 1 || s.c != shape(x).c)
    return error(name, "scale " + s.str() + " must be 1x1x" + std::to_string(shape(x).c));
  return add_op(Op{.kind = OpKind::Mul, .name = std::move(name)}, {x, scale}, shape(x));
}

TensorRef OpBuilder::concat(const std::vector<TensorRef>& xs, std::string name) {
  for (TensorRef t : xs)
    if (t == kNoTensor) return kNoTensor;
  if (xs.empty()) return error(name, "concat needs at least one input");
  Shape out = shape(xs.front());
  out.c = 0;
  for (TensorRef t : xs) {
    const Shape s = shape(t);
    if (s.h != out.h || s.w != out.w)
      return error(
          name, "cannot concatenate " + shape(xs.front()).str() + " and " + s.str() + ": height and width must match");
    out.c += s.c;
  }
  return add_op(Op{.kind = OpKind::Concat, .name = std::move(name)}, xs, out);
}

TensorRef OpBuilder::slice(TensorRef x, std::int64_t start, std::int64_t count, std::string name) {
  if (!ok({x})) return kNoTensor;
  Shape out = shape(x);
  if (start < 0 || count < 1 || start + count > out.c)
    return error(name, "channel range [" + std::to_string(start) + ", " + std::to_string(start + count) +
                           ") is outside the input's " + std::to_string(out.c) + " channels");
  Op op{.kind = OpKind::Slice, .name = std::move(name)};
  op.slice_start = start;
  op.slice_count = count;
  out.c = count;
  return add_op(std::move(op), {x}, out);
}

TensorRef OpBuilder::channel_shuffle(TensorRef x, std::int64_t groups, std::string name) {
  if (!ok({x})) return kNoTensor;
  if (groups < 1 || shape(x).c % groups != 0)
    return error(name, "groups " + std::to_string(groups) + " must divide channels " + std::to_string(shape(x).c));
  Op op{.kind = OpKind::ChannelShuffle, .name = std::move(name)};
  op.groups = groups;
  return add_op(std::move(op), {x}, shape(x));
}

TensorRef OpBuilder::pool(TensorRef x, PoolMode mode, std::int64_t k, std::int64_t stride, std::int64_t pad,
                          bool ceil_mode, std::string name) {
  if (!ok({x})) return kNoTensor;
  const Shape in = shape(x);
  if (2 * pad > k)
    return error(name, "padding " + std::to_string(pad) + " must be at most half the window " + std::to_string(k));
  std::int64_t oh = window_out(in.h, k, stride, 2 * pad, 1, ceil_mode);
  std::int64_t ow = window_out(in.w, k, stride, 2 * pad, 1, ceil_mode);
  // With ceil_mode the last window must start inside the input or left padding.
  if (ceil_mode && oh > 0 && (oh - 1) * stride >= in.h + pad) --oh;
  if (ceil_mode && ow > 0 && (ow - 1) * stride >= in.w + pad) --ow;
  if (oh <= 0 || ow <= 0)
    return error(name, "window " + std::to_string(k) + "x" + std::to_string(k) + " is larger than the padded input " +
                           std::to_string(in.h + 2 * pad) + "x" + std::to_string(in.w + 2 * pad));
  Op op{.kind = OpKind::Pool, .name = std::move(name)};
  op.pool = mode;
  op.k_h = op.k_w = k;
  op.stride = stride;
  op.pad = pad;
  op.ceil_mode = ceil_mode;
  return add_op(std::move(op), {x}, Shape{oh, ow, in.c});
}

TensorRef OpBuilder::global_pool(TensorRef x, PoolMode mode, std::string name) {
  if (!ok({x})) return kNoTensor;
  Op op{.kind = OpKind::GlobalPool, .name = std::move(name)};
  op.pool = mode;
  return add_op(std::move(op), {x}, Shape{1, 1, shape(x).c});
}

TensorRef OpBuilder::upsample(TensorRef x, UpsampleMode mode, std::int64_t scale, std::string name) {
  if (!ok({x})) return kNoTensor;
  const Shape in = shape(x);
  Op op{.kind = OpKind::Upsample, .name = std::move(name)};
  op.upsample = mode;
  op.scale = scale;
  return add_op(std::move(op), {x}, Shape{in.h * scale, in.w * scale, in.c});
}

TensorRef OpBuilder::crelu(TensorRef x, std::string name) {
  if (!ok({x})) return kNoTensor;
  Shape out = shape(x);
  out.c *= 2;
  return add_op(Op{.kind = OpKind::CReLU, .name = std::move(name)}, {x}, out);
}

TensorRef OpBuilder::bn_act(TensorRef x, bool bn, Activation act, const std::string& name) {
  if (bn) x = batch_norm(x, name + "_bn");
  return activation(x, act, name + "_" + std::string(activation_name(act)));
}

TensorRef OpBuilder::conv_bn_act(TensorRef x, const ConvSpec& spec, bool bn, Activation act, const std::string& name) {
  return bn_act(conv(x, spec, name), bn, act, name);
}

BlockLowering OpBuilder::finish(TensorRef out) && {
  result_.output = out;
  return std::move(result_);
}

}  // namespace convscope::ir
