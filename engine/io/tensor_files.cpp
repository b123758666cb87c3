#include "io/tensor_files.h"

#include <cmath>

namespace convscope::io {

Result<Layout> parse_layout(std::string_view name) {
  if (name == "nchw" || name == "NCHW") return Layout::Nchw;
  if (name == "nhwc" || name == "NHWC") return Layout::Nhwc;
  return fail("layout", "expected nchw or nhwc, got '" + std::string(name) + "'");
}

std::string_view layout_name(Layout l) { return l == Layout::Nchw ? "NCHW" : "NHWC"; }

namespace {
/// The image's dims in layout order, without the batch axis.
std::vector<std::int64_t> image_dims(ir::Shape s, Layout l) {
  return l == Layout::Nchw ? std::vector<std::int64_t>{s.c, s.h, s.w} : std::vector<std::int64_t>{s.h, s.w, s.c};
}

std::string dims_text(const std::vector<std::int64_t>& d) {
  std::string s;
  for (auto v : d) s += (s.empty() ? "" : "x") + std::to_string(v);
  return s;
}

std::vector<std::int64_t> squeezed(const std::vector<std::int64_t>& d) {
  std::vector<std::int64_t> out;
  for (auto v : d)
    if (v != 1) out.push_back(v);
  return out;
}
}  // namespace

Result<std::int64_t> batch_of(const Array& a, Layout layout, ir::Shape image) {
  const auto want = image_dims(image, layout);
  const bool has_batch = a.shape.size() == 4;
  if (a.shape.size() == 4 || a.shape.size() == 3) {
    const std::vector<std::int64_t> got(a.shape.end() - 3, a.shape.end());
    if (got == want) return has_batch ? a.shape[0] : 1;
  }
  std::string hint;
  if (a.shape.size() == 4) {
    const auto other = image_dims(image, layout == Layout::Nchw ? Layout::Nhwc : Layout::Nchw);
    if (std::vector<std::int64_t>(a.shape.begin() + 1, a.shape.end()) == other)
      hint = " (it is " + std::string(layout_name(layout == Layout::Nchw ? Layout::Nhwc : Layout::Nchw)) +
             ": give --layout " + (layout == Layout::Nchw ? "nhwc" : "nchw") + ")";
    else if (a.shape[layout == Layout::Nchw ? 1 : 3] == image.c)
      hint = " (another resolution: --resolution sets the graph's input size)";
  }
  return fail("", "shape " + a.shape_str() + " does not match the graph's input: expected Nx" + dims_text(want) + " (" +
                      std::string(layout_name(layout)) + ", " + image.str() + " per image)" + hint);
}

void to_nhwc(const Array& a, Layout layout, ir::Shape image, float* dst) {
  const std::int64_t n = static_cast<std::int64_t>(a.data.size()) / image.elements();
  if (layout == Layout::Nhwc) {
    std::copy(a.data.begin(), a.data.end(), dst);
    return;
  }
  const std::int64_t hw = image.h * image.w;
  for (std::int64_t b = 0; b < n; ++b)
    for (std::int64_t c = 0; c < image.c; ++c)
      for (std::int64_t p = 0; p < hw; ++p)
        dst[(b * hw + p) * image.c + c] = a.data[static_cast<std::size_t>((b * image.c + c) * hw + p)];
}

Array from_nhwc(const float* src, std::int64_t batch, ir::Shape image, Layout layout) {
  Array a;
  const std::int64_t hw = image.h * image.w;
  a.data.resize(static_cast<std::size_t>(batch * image.elements()));
  if (hw == 1)
    a.shape = {batch, image.c};
  else
    a.shape = layout == Layout::Nchw ? std::vector<std::int64_t>{batch, image.c, image.h, image.w}
                                     : std::vector<std::int64_t>{batch, image.h, image.w, image.c};
  if (layout == Layout::Nhwc || hw == 1) {
    std::copy(src, src + a.data.size(), a.data.begin());
    return a;
  }
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t p = 0; p < hw; ++p)
      for (std::int64_t c = 0; c < image.c; ++c)
        a.data[static_cast<std::size_t>((b * image.c + c) * hw + p)] = src[(b * hw + p) * image.c + c];
  return a;
}

Result<Comparison> compare_arrays(const Array& got, const Array& ref, double atol, double rtol) {
  if (squeezed(got.shape) != squeezed(ref.shape))
    return fail("", "the output has shape " + got.shape_str() + ", the reference " + ref.shape_str());
  Comparison c;
  c.elements = static_cast<std::int64_t>(got.data.size());
  double worst_excess = -1;
  for (std::size_t i = 0; i < got.data.size(); ++i) {
    const double g = got.data[i], r = ref.data[i];
    const double diff = std::fabs(g - r);
    const bool same_special = (std::isnan(g) && std::isnan(r)) || (std::isinf(g) && g == r);
    const double tol = atol + rtol * std::fabs(r);
    if (same_special) continue;
    if (!std::isfinite(diff) || diff > tol) ++c.failing;
    const double excess = std::isfinite(diff) ? diff - tol : HUGE_VAL;
    if (excess > worst_excess) {
      worst_excess = excess;
      c.worst = static_cast<std::int64_t>(i);
    }
    if (std::isfinite(diff)) {
      c.max_abs = std::max(c.max_abs, diff);
      if (std::fabs(r) > atol) c.max_rel = std::max(c.max_rel, diff / std::fabs(r));
    } else {
      c.max_abs = HUGE_VAL;
    }
  }
  return c;
}

}  // namespace convscope::io
