#include "runtime/reference_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/kernels.h"

namespace convscope::runtime::ref {
namespace {

void conv(const ir::Op& op, const Tensor& x, const OpWeights& w, Tensor& y) {
  const std::int64_t g = op.groups, cin_g = x.shape.c / g, cout_g = op.out_c / g;
  for (std::int64_t b = 0; b < x.n; ++b)
    for (std::int64_t oy = 0; oy < y.shape.h; ++oy)
      for (std::int64_t ox = 0; ox < y.shape.w; ++ox)
        for (std::int64_t o = 0; o < op.out_c; ++o) {
          const std::int64_t grp = o / cout_g;
          double acc = op.bias ? w.bias[static_cast<std::size_t>(o)] : 0.0;
          for (std::int64_t ky = 0; ky < op.k_h; ++ky) {
            const std::int64_t iy = oy * op.stride - op.pad + ky * op.dilation;
            if (iy < 0 || iy >= x.shape.h) continue;
            for (std::int64_t kx = 0; kx < op.k_w; ++kx) {
              const std::int64_t ix = ox * op.stride - op.pad + kx * op.dilation;
              if (ix < 0 || ix >= x.shape.w) continue;
              for (std::int64_t i = 0; i < cin_g; ++i)
                acc += static_cast<double>(x.at(b, iy, ix, grp * cin_g + i)) *
                       w.w[static_cast<std::size_t>(((o * op.k_h + ky) * op.k_w + kx) * cin_g + i)];
            }
          }
          y.at(b, oy, ox, o) = static_cast<float>(acc);
        }
}

void conv_transpose(const ir::Op& op, const Tensor& x, const OpWeights& w, Tensor& y) {
  const std::int64_t g = op.groups, cin_g = x.shape.c / g, cout_g = op.out_c / g;
  std::vector<double> acc(y.data.size(), 0.0);
  for (std::int64_t b = 0; b < x.n; ++b)
    for (std::int64_t iy = 0; iy < x.shape.h; ++iy)
      for (std::int64_t ix = 0; ix < x.shape.w; ++ix)
        for (std::int64_t i = 0; i < x.shape.c; ++i) {
          const double v = x.at(b, iy, ix, i);
          const std::int64_t grp = i / cin_g;
          for (std::int64_t ky = 0; ky < op.k_h; ++ky) {
            const std::int64_t oy = iy * op.stride - op.pad + ky * op.dilation;
            if (oy < 0 || oy >= y.shape.h) continue;
            for (std::int64_t kx = 0; kx < op.k_w; ++kx) {
              const std::int64_t ox = ix * op.stride - op.pad + kx * op.dilation;
              if (ox < 0 || ox >= y.shape.w) continue;
              for (std::int64_t o = 0; o < cout_g; ++o)
                acc[static_cast<std::size_t>(((b * y.shape.h + oy) * y.shape.w + ox) * y.shape.c + grp * cout_g + o)] +=
                    v * w.w[static_cast<std::size_t>(((i * op.k_h + ky) * op.k_w + kx) * cout_g + o)];
            }
          }
        }
  for (std::size_t k = 0; k < acc.size(); ++k) {
    const auto o = static_cast<std::size_t>(static_cast<std::int64_t>(k) % y.shape.c);
    y.data[k] = static_cast<float>(acc[k] + (op.bias ? w.bias[o] : 0.f));
  }
}

}  // namespace

void run_op(const ir::Op& op, const std::vector<const Tensor*>& inputs, const OpWeights& w, Tensor& y) {
  const Tensor& x = *inputs.front();
  const std::int64_t n = x.n;
  switch (op.kind) {
    case ir::OpKind::Conv:
      conv(op, x, w, y);
      return;
    case ir::OpKind::ConvTranspose:
      conv_transpose(op, x, w, y);
      return;
    case ir::OpKind::FullyConnected: {
      const std::int64_t k = x.image_size();
      for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t o = 0; o < op.out_c; ++o) {
          double acc = op.bias ? w.bias[static_cast<std::size_t>(o)] : 0.0;
          for (std::int64_t i = 0; i < k; ++i)
            acc += static_cast<double>(x.data[static_cast<std::size_t>(b * k + i)]) *
                   w.w[static_cast<std::size_t>(o * k + i)];
          y.data[static_cast<std::size_t>(b * op.out_c + o)] = static_cast<float>(acc);
        }
      return;
    }
    case ir::OpKind::BatchNorm:
      for (std::size_t i = 0; i < y.data.size(); ++i) {
        const auto c = i % static_cast<std::size_t>(x.shape.c);
        y.data[i] = (x.data[i] - w.mean[c]) / std::sqrt(w.var[c] + kBnEpsilon) * w.gamma[c] + w.beta[c];
      }
      return;
    case ir::OpKind::Activation:
      for (std::size_t i = 0; i < y.data.size(); ++i) y.data[i] = kernels::activate(x.data[i], op.act);
      return;
    case ir::OpKind::Add:
      for (std::size_t i = 0; i < y.data.size(); ++i) y.data[i] = x.data[i] + inputs[1]->data[i];
      return;
    case ir::OpKind::Mul:
      for (std::size_t i = 0; i < y.data.size(); ++i) {
        const auto c = static_cast<std::int64_t>(i) % x.shape.c;
        const auto b = static_cast<std::int64_t>(i) / x.image_size();
        y.data[i] = x.data[i] * inputs[1]->data[static_cast<std::size_t>(b * x.shape.c + c)];
      }
      return;
    case ir::OpKind::Concat:
      for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t yy = 0; yy < y.shape.h; ++yy)
          for (std::int64_t xx = 0; xx < y.shape.w; ++xx) {
            std::int64_t c0 = 0;
            for (const Tensor* t : inputs) {
              for (std::int64_t c = 0; c < t->shape.c; ++c) y.at(b, yy, xx, c0 + c) = t->at(b, yy, xx, c);
              c0 += t->shape.c;
            }
          }
      return;
    case ir::OpKind::Slice:
      for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t yy = 0; yy < y.shape.h; ++yy)
          for (std::int64_t xx = 0; xx < y.shape.w; ++xx)
            for (std::int64_t c = 0; c < op.slice_count; ++c) y.at(b, yy, xx, c) = x.at(b, yy, xx, op.slice_start + c);
      return;
    case ir::OpKind::ChannelShuffle: {
      const std::int64_t g = op.groups, per = x.shape.c / g;
      for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t yy = 0; yy < y.shape.h; ++yy)
          for (std::int64_t xx = 0; xx < y.shape.w; ++xx)
            for (std::int64_t a = 0; a < per; ++a)
              for (std::int64_t gg = 0; gg < g; ++gg) y.at(b, yy, xx, a * g + gg) = x.at(b, yy, xx, gg * per + a);
      return;
    }
    case ir::OpKind::Pool:
      for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t oy = 0; oy < y.shape.h; ++oy)
          for (std::int64_t ox = 0; ox < y.shape.w; ++ox)
            for (std::int64_t c = 0; c < x.shape.c; ++c) {
              double acc = op.pool == ir::PoolMode::Max ? -std::numeric_limits<double>::infinity() : 0.0;
              std::int64_t count = 0;
              for (std::int64_t ky = 0; ky < op.k_h; ++ky)
                for (std::int64_t kx = 0; kx < op.k_w; ++kx) {
                  const std::int64_t iy = oy * op.stride - op.pad + ky, ix = ox * op.stride - op.pad + kx;
                  if (iy < 0 || ix < 0 || iy >= x.shape.h || ix >= x.shape.w) continue;
                  const double v = x.at(b, iy, ix, c);
                  acc = op.pool == ir::PoolMode::Max ? std::max(acc, v) : acc + v;
                  ++count;
                }
              // Average pooling divides by the window cells inside the input (count_include_pad = false).
              y.at(b, oy, ox, c) =
                  static_cast<float>(op.pool == ir::PoolMode::Max ? acc : acc / static_cast<double>(count));
            }
      return;
    case ir::OpKind::GlobalPool:
      for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t c = 0; c < x.shape.c; ++c) {
          double acc = op.pool == ir::PoolMode::Max ? -std::numeric_limits<double>::infinity() : 0.0;
          for (std::int64_t yy = 0; yy < x.shape.h; ++yy)
            for (std::int64_t xx = 0; xx < x.shape.w; ++xx)
              acc = op.pool == ir::PoolMode::Max ? std::max(acc, static_cast<double>(x.at(b, yy, xx, c)))
                                                 : acc + x.at(b, yy, xx, c);
          y.at(b, 0, 0, c) =
              static_cast<float>(op.pool == ir::PoolMode::Max ? acc : acc / static_cast<double>(x.shape.h * x.shape.w));
        }
      return;
    case ir::OpKind::Upsample:
      for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t oy = 0; oy < y.shape.h; ++oy)
          for (std::int64_t ox = 0; ox < y.shape.w; ++ox)
            for (std::int64_t c = 0; c < y.shape.c; ++c) {
              if (op.upsample == ir::UpsampleMode::Nearest) {
                y.at(b, oy, ox, c) = x.at(b, oy / op.scale, ox / op.scale, c);
                continue;
              }
              // Bilinear, half-pixel centres (align_corners = false), edges clamped.
              const double sy = std::max(0.0, (static_cast<double>(oy) + 0.5) / static_cast<double>(op.scale) - 0.5);
              const double sx = std::max(0.0, (static_cast<double>(ox) + 0.5) / static_cast<double>(op.scale) - 0.5);
              const auto y0 = std::min(static_cast<std::int64_t>(sy), x.shape.h - 1);
              const auto x0 = std::min(static_cast<std::int64_t>(sx), x.shape.w - 1);
              const std::int64_t y1 = std::min(y0 + 1, x.shape.h - 1), x1 = std::min(x0 + 1, x.shape.w - 1);
              const double fy = sy - static_cast<double>(y0), fx = sx - static_cast<double>(x0);
              y.at(b, oy, ox, c) =
                  static_cast<float>((1 - fy) * ((1 - fx) * x.at(b, y0, x0, c) + fx * x.at(b, y0, x1, c)) +
                                     fy * ((1 - fx) * x.at(b, y1, x0, c) + fx * x.at(b, y1, x1, c)));
            }
      return;
    case ir::OpKind::CReLU:
      for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t yy = 0; yy < y.shape.h; ++yy)
          for (std::int64_t xx = 0; xx < y.shape.w; ++xx)
            for (std::int64_t c = 0; c < x.shape.c; ++c) {
              const float v = x.at(b, yy, xx, c);
              y.at(b, yy, xx, c) = v > 0.f ? v : 0.f;
              y.at(b, yy, xx, x.shape.c + c) = v < 0.f ? -v : 0.f;
            }
      return;
  }
}

}  // namespace convscope::runtime::ref
