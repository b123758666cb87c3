#pragma once
/// Lowering a block to primitive ops. A block kind's `lower()` calls OpBuilder;
/// the builder infers every op's output shape as it goes, so shape inference and
/// lowering are one step and cannot disagree.

#include <string>
#include <vector>

#include "ir/op.h"
#include "ir/shape.h"

namespace convscope::ir {

/// A tensor handle inside one block's lowering: indices [0, n_inputs) are the
/// block's inputs, later ones are op outputs. kNoTensor marks a failed op.
using TensorRef = int;
inline constexpr TensorRef kNoTensor = -1;

struct LocalOp {
  Op op;
  std::vector<TensorRef> inputs;
  TensorRef output = kNoTensor;
};

/// The ops one block lowers to.
struct BlockLowering {
  std::vector<Shape> tensors;  ///< shapes of every local tensor
  std::size_t n_inputs = 0;
  std::vector<LocalOp> ops;
  TensorRef output = kNoTensor;
  /// Interleaved group convolutions: the tensor whose channel connectivity to
  /// input 0 is checked against the complementary condition (else kNoTensor).
  TensorRef connectivity_output = kNoTensor;
  /// Shape errors the builder met (normally caught earlier by validation).
  std::vector<std::string> errors;
};

/// Convolution attributes for OpBuilder::conv.
struct ConvSpec {
  std::int64_t out_c = 0;
  std::int64_t k = 1;
  std::int64_t stride = 1;
  std::int64_t pad = 0;  ///< per side
  std::int64_t dilation = 1;
  std::int64_t groups = 1;
  bool bias = false;
};

/// Builds a BlockLowering op by op. Every method returns the new tensor, or
/// kNoTensor (recording an error) when the op cannot be applied; ops whose
/// inputs are kNoTensor silently return kNoTensor.
class OpBuilder {
 public:
  explicit OpBuilder(const std::vector<Shape>& inputs);

  [[nodiscard]] TensorRef input(std::size_t i) const { return static_cast<TensorRef>(i); }
  [[nodiscard]] const Shape& shape(TensorRef t) const { return result_.tensors.at(static_cast<std::size_t>(t)); }

  TensorRef conv(TensorRef x, const ConvSpec& spec, std::string name);
  TensorRef conv_transpose(TensorRef x, const ConvSpec& spec, std::int64_t output_padding, std::string name);
  TensorRef fully_connected(TensorRef x, std::int64_t out_c, bool bias, std::string name);
  TensorRef batch_norm(TensorRef x, std::string name);
  TensorRef activation(TensorRef x, Activation act, std::string name);
  TensorRef add(TensorRef a, TensorRef b, std::string name);
  TensorRef mul(TensorRef x, TensorRef scale, std::string name);
  TensorRef concat(const std::vector<TensorRef>& xs, std::string name);
  TensorRef slice(TensorRef x, std::int64_t start, std::int64_t count, std::string name);
  TensorRef channel_shuffle(TensorRef x, std::int64_t groups, std::string name);
  TensorRef pool(TensorRef x, PoolMode mode, std::int64_t k, std::int64_t stride, std::int64_t pad, bool ceil_mode,
                 std::string name);
  TensorRef global_pool(TensorRef x, PoolMode mode, std::string name);
  TensorRef upsample(TensorRef x, UpsampleMode mode, std::int64_t scale, std::string name);
  TensorRef crelu(TensorRef x, std::string name);

  /// conv, then batch norm if `bn`, then the activation unless None.
  TensorRef conv_bn_act(TensorRef x, const ConvSpec& spec, bool bn, Activation act, const std::string& name);
  /// batch norm if `bn`, then the activation unless None (names "<name>_bn", "<name>_<act>").
  TensorRef bn_act(TensorRef x, bool bn, Activation act, const std::string& name);

  void mark_connectivity_output(TensorRef t) { result_.connectivity_output = t; }
  /// Finishes the lowering with `out` as the block's output.
  [[nodiscard]] BlockLowering finish(TensorRef out) &&;

 private:
  TensorRef add_op(Op op, std::vector<TensorRef> inputs, Shape out);
  bool ok(std::initializer_list<TensorRef> ts) const;
  TensorRef error(const std::string& name, const std::string& message);

  BlockLowering result_;
};

}  // namespace convscope::ir
