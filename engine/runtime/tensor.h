#pragma once
/// An owned NHWC float32 tensor (batch n of h x w x c images).

#include <cstdint>
#include <vector>

#include "ir/shape.h"

namespace convscope::runtime {

struct Tensor {
  std::int64_t n = 1;
  ir::Shape shape;
  std::vector<float> data;

  Tensor() = default;
  Tensor(std::int64_t batch, ir::Shape s, float fill = 0.f)
      : n(batch), shape(s), data(static_cast<std::size_t>(batch * s.elements()), fill) {}
  [[nodiscard]] std::int64_t image_size() const { return shape.elements(); }
  [[nodiscard]] float& at(std::int64_t b, std::int64_t y, std::int64_t x, std::int64_t c) {
    return data[static_cast<std::size_t>(((b * shape.h + y) * shape.w + x) * shape.c + c)];
  }
  [[nodiscard]] float at(std::int64_t b, std::int64_t y, std::int64_t x, std::int64_t c) const {
    return data[static_cast<std::size_t>(((b * shape.h + y) * shape.w + x) * shape.c + c)];
  }
};

}  // namespace convscope::runtime
