#pragma once
/// A framework's arrays (NumPy files in NCHW or NHWC) to and from the engine's
/// NHWC tensors, and the comparison `convscope-cli run --compare` reports.

#include <cstdint>
#include <string>
#include <string_view>

#include "io/npy.h"
#include "ir/shape.h"
#include "util/result.h"

namespace convscope::io {

/// How an array's axes are ordered: PyTorch and ONNX use NCHW, TensorFlow NHWC.
enum class Layout { Nchw, Nhwc };
Result<Layout> parse_layout(std::string_view name);
std::string_view layout_name(Layout l);

/// The batch of `a` read as images of `image` in `layout`: a 4-D array [N, C, H, W]
/// (or [N, H, W, C]), or a 3-D one without the batch axis (N = 1). A shape that
/// does not match says what was expected and what was found.
Result<std::int64_t> batch_of(const Array& a, Layout layout, ir::Shape image);

/// Copies `a` (checked by batch_of) into `dst`, NHWC, batch x image.
void to_nhwc(const Array& a, Layout layout, ir::Shape image, float* dst);

/// An NHWC tensor (batch x image) as an array in `layout`; a 1x1 image (a
/// classifier's output) becomes [N, C], as frameworks give it.
Array from_nhwc(const float* src, std::int64_t batch, ir::Shape image, Layout layout);

/// Element-wise comparison of `got` with a reference, numpy.allclose style:
/// an element passes when |got - ref| <= atol + rtol * |ref|.
struct Comparison {
  std::int64_t elements = 0;
  double max_abs = 0;        ///< largest |got - ref|
  double max_rel = 0;        ///< largest |got - ref| / |ref| over elements with |ref| > atol
  std::int64_t worst = -1;   ///< flat index of the element furthest outside the tolerance (or of max_abs)
  std::int64_t failing = 0;  ///< elements outside the tolerance (a NaN or Inf mismatch counts)
  [[nodiscard]] bool ok() const { return failing == 0; }
};
/// Shapes must hold the same elements in the same order: equal once axes of size 1 are dropped.
Result<Comparison> compare_arrays(const Array& got, const Array& ref, double atol, double rtol);

}  // namespace convscope::io
