#pragma once
/// Primitive ops: what every block lowers to, and what the cost model counts
/// and the runtime executes. One row per op kind; a `switch` over OpKind has no
/// `default:`, so adding a kind is a compile error wherever it must be handled.

#include <cstdint>
#include <string>
#include <string_view>

namespace convscope::ir {

enum class OpKind {
  Conv,            ///< 2-D convolution with groups (depthwise: groups = C_in)
  ConvTranspose,   ///< transposed convolution (learned upsampling)
  FullyConnected,  ///< dense layer over the flattened input
  BatchNorm,       ///< inference batch norm: per-channel scale and shift
  Activation,      ///< element-wise nonlinearity
  Add,             ///< element-wise sum of two equal shapes
  Mul,             ///< x (HxWxC) times a per-channel scale (1x1xC), squeeze-excite
  Concat,          ///< channel concatenation
  Slice,           ///< contiguous channel range (ShuffleNet V2 channel split)
  ChannelShuffle,  ///< interleave channels of `groups` groups (ShuffleNet, IGC)
  Pool,            ///< max or average pooling with a window
  GlobalPool,      ///< average or max over all pixels, output 1x1xC
  Upsample,        ///< nearest or bilinear resize by an integer factor
  CReLU,           ///< concat(relu(x), relu(-x)): doubles the channels
};

/// Swish (Ramachandran et al. 2017; SiLU, Elfwing et al. 2018) is x * sigmoid(x), EfficientNet's activation.
enum class Activation { None, ReLU, ReLU6, HSwish, HSigmoid, Sigmoid, Swish };
/// Every activation, in declaration order (for loops over all of them: parsing, tests).
inline constexpr Activation kAllActivations[] = {Activation::None,     Activation::ReLU,    Activation::ReLU6,
                                                 Activation::HSwish,   Activation::HSigmoid, Activation::Sigmoid,
                                                 Activation::Swish};
enum class PoolMode { Max, Avg };
enum class UpsampleMode { Nearest, Bilinear };

/// All attributes of a primitive op; each kind reads the fields it needs.
struct Op {
  OpKind kind = OpKind::Conv;
  std::string name;  ///< role inside its block: "expand", "dw", "project", ...

  std::int64_t out_c = 0;  ///< Conv, ConvTranspose, FullyConnected: output channels
  std::int64_t k_h = 1, k_w = 1;
  std::int64_t stride = 1;
  std::int64_t pad = 0;  ///< per side, symmetric
  std::int64_t dilation = 1;
  std::int64_t groups = 1;          ///< Conv, ConvTranspose: channel groups; ChannelShuffle: groups
  std::int64_t output_padding = 0;  ///< ConvTranspose: extra rows/cols at the bottom/right
  bool bias = false;                ///< Conv, ConvTranspose, FullyConnected
  bool ceil_mode = false;           ///< Pool
  Activation act = Activation::None;
  PoolMode pool = PoolMode::Max;
  UpsampleMode upsample = UpsampleMode::Nearest;
  std::int64_t scale = 2;        ///< Upsample factor
  std::int64_t slice_start = 0;  ///< Slice: first channel
  std::int64_t slice_count = 0;  ///< Slice: number of channels
};

/// "conv", "batch_norm", ... (stable names used in reports and JSON output).
std::string_view op_kind_name(OpKind kind);
/// "relu6", "hswish", "none", ...
std::string_view activation_name(Activation act);
/// Parses an activation name; returns false if unknown.
bool parse_activation(std::string_view name, Activation& out);

/// A short description of the op for tables: "conv 3x3/2 g32", "relu6".
std::string op_summary(const Op& op);

}  // namespace convscope::ir
