#pragma once
/// Tensor shapes. Activations are NHWC; batch lives in the graph settings, so a
/// Shape is one image: height x width x channels.

#include <cstdint>
#include <string>

namespace convscope::ir {

struct Shape {
  std::int64_t h = 0;  ///< height in pixels
  std::int64_t w = 0;  ///< width in pixels
  std::int64_t c = 0;  ///< channels

  [[nodiscard]] std::int64_t elements() const { return h * w * c; }
  [[nodiscard]] bool valid() const { return h > 0 && w > 0 && c > 0; }
  /// "112x112x32"
  [[nodiscard]] std::string str() const {
    return std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c);
  }
  friend bool operator==(const Shape&, const Shape&) = default;
};

/// Output extent of a sliding window (convolution or pooling), or a value <= 0
/// when the (dilated) window does not fit into the padded input.
/// `pad_total` is the sum of both sides' padding.
inline std::int64_t window_out(std::int64_t in, std::int64_t k, std::int64_t stride, std::int64_t pad_total,
                               std::int64_t dilation, bool ceil_mode = false) {
  const std::int64_t span = dilation * (k - 1) + 1;
  const std::int64_t room = in + pad_total - span;
  if (room < 0) return 0;
  return (ceil_mode ? (room + stride - 1) / stride : room / stride) + 1;
}

}  // namespace convscope::ir
