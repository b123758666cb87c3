// Running a plan's steps: each step kind on the kernel table, split across the
// thread pool where it pays.
#include <algorithm>
#include <cstring>
#include <limits>

#include "runtime/plan_impl.h"

namespace convscope::runtime {

void Plan::Impl::run_conv_im2col(const Step& s) {
  const ir::Shape in = shape(s.in[0]), out = shape(s.out);
  const float* x = ptr(s.in[0]);
  float* y = ptr(s.out);
  const std::int64_t g = s.op.groups, cin_g = in.c / g, cout_g = s.op.out_c / g, k = s.k_gemm;
  const std::int64_t kh = s.op.k_h, kw = s.op.k_w, st = s.op.stride, pad = s.op.pad, dil = s.op.dilation;
  const std::int64_t per = kernels::packed_b_size(*kt, cout_g, k), ys = stride(s.out);

  // Implicit im2col for windows inside the input: the GEMM reads each pixel's
  // window in place, as segments of the input (a kernel row of k_w * C_in
  // neighbouring floats with one group and no dilation, else one tap's C_in / g
  // channels), one output row at a time (rows of A are stride * C_in apart).
  const bool whole_rows = g == 1 && dil == 1;
  const std::int64_t seg = whole_rows ? kw * cin_g : cin_g;
  std::vector<std::int64_t> seg_off;
  for (std::int64_t ky = 0; ky < kh; ++ky)
    for (std::int64_t kx = 0; kx < (whole_rows ? 1 : kw); ++kx) seg_off.push_back((ky * in.w + kx) * dil * in.c);
  seg_off.push_back(0);  // read past the last segment, never used
  const Im2colCover cover = im2col_cover(s.op, in, out);
  const std::int64_t x_lo = cover.x_lo, x_hi = cover.x_hi;

  const std::int64_t rows = batch * out.h;
  // One part per thread, each with its own scratch: an im2col tile of up to
  // kIm2colTile pixels (the windows of the pixels the implicit GEMM does not cover,
  // gathered across rows so each GEMM on it reuses B kIm2colTile times) and its results.
  const std::int64_t parts = std::min<std::int64_t>(static_cast<std::int64_t>(scratch.size()), rows);
  split(s, parts, [&](std::int64_t part_begin, std::int64_t part_end) {
    for (std::int64_t part = part_begin; part < part_end; ++part) {
      float* col = scratch[static_cast<std::size_t>(part)].get();
      float* res = col + kIm2colTile * k;
      std::int64_t pending[kIm2colTile], n = 0;  // output pixels whose windows are in col
      for (std::int64_t grp = 0; grp < g; ++grp) {
        auto flush = [&] {
          if (n == 0) return;
          kernels::GemmArgs ga{
              n, cout_g, k, col, k, s.w.data() + grp * per, res, cout_g, s.bias.data() + grp * cout_g, s.act};
          kt->gemm(ga, 0, n);
          for (std::int64_t i = 0; i < n; ++i)
            std::copy(res + i * cout_g, res + (i + 1) * cout_g, y + pending[i] * ys + grp * cout_g);
          n = 0;
        };
        // Copies pixel (b, oy, ox)'s window into the tile (zeros for the padding).
        auto gather = [&](std::int64_t b, std::int64_t oy, std::int64_t ox) {
          float* row = col + n * k;
          pending[n++] = (b * out.h + oy) * out.w + ox;
          const std::int64_t ix0 = ox * st - pad;
          for (std::int64_t ky = 0; ky < kh; ++ky) {
            const std::int64_t iy = oy * st - pad + ky * dil;
            float* dst_row = row + ky * kw * cin_g;
            if (iy < 0 || iy >= in.h) {
              std::fill(dst_row, dst_row + kw * cin_g, 0.f);
              continue;
            }
            const float* src_row = x + ((b * in.h + iy) * in.w) * in.c + grp * cin_g;
            for (std::int64_t kx = 0; kx < kw; ++kx) {
              const std::int64_t ix = ix0 + kx * dil;
              float* dst = dst_row + kx * cin_g;
              if (ix < 0 || ix >= in.w)
                std::fill(dst, dst + cin_g, 0.f);
              else
                std::copy(src_row + ix * in.c, src_row + ix * in.c + cin_g, dst);
            }
          }
          if (n == kIm2colTile) flush();
        };
        for (std::int64_t r = rows * part / parts; r < rows * (part + 1) / parts; ++r) {
          const std::int64_t b = r / out.h, oy = r % out.h, iy0 = oy * st - pad;
          if (!cover.row_implicit(oy)) {
            for (std::int64_t ox = 0; ox < out.w; ++ox) gather(b, oy, ox);
            continue;
          }
          for (std::int64_t ox = 0; ox < x_lo; ++ox) gather(b, oy, ox);
          for (std::int64_t ox = x_hi; ox < out.w; ++ox) gather(b, oy, ox);
          kernels::GemmArgs ga{x_hi - x_lo,
                               cout_g,
                               k,
                               x + ((b * in.h + iy0) * in.w + x_lo * st - pad) * in.c + grp * cin_g,
                               st * in.c,
                               s.w.data() + grp * per,
                               y + (r * out.w + x_lo) * ys + grp * cout_g,
                               ys,
                               s.bias.data() + grp * cout_g,
                               s.act};
          ga.a_seg = seg;
          ga.a_seg_offsets = seg_off.data();
          kt->gemm(ga, 0, x_hi - x_lo);
        }
        flush();
      }
    }
  });
}

void Plan::Impl::run_step(const Step& s) {
  if (s.info.no_work) return;  // written in place, or a view
  const ir::Shape out = shape(s.out);
  float* y = ptr(s.out);
  const std::int64_t pixels = batch * out.h * out.w;
  switch (s.info.kind) {
    case StepKind::Gemm: {
      const bool fc = s.op.kind == ir::OpKind::FullyConnected;
      const GemmDims d = schedule.gemm_dims(s);
      const std::int64_t m = d.m, g = d.groups, cout_g = d.n;  // named: lambdas capture them
      if (s.narrow_groups) {
        const kernels::NarrowGroupArgs na{ptr(s.in[0]), stride(s.in[0]), y,          stride(s.out), s.k_gemm,
                                          cout_g,       s.op.out_c,      s.w.data(), s.bias.data(), s.act};
        split_pixels(s, m, [&](std::int64_t p0, std::int64_t p1) { kt->narrow_groups(na, p0, p1); });
        return;
      }
      const std::int64_t per = kernels::packed_b_size(*kt, cout_g, s.k_gemm);
      // Group grp reads its input channels in place (row stride = all channels, or
      // the padded stride), or after a folded shuffle the whole row in segments.
      auto group = [&](std::int64_t grp) {
        return group_gemm(grp, m, cout_g, s.k_gemm, ptr(s.in[0]), fc ? s.k_gemm : stride(s.in[0]),
                          s.w.data() + grp * per, y, stride(s.out), s.bias.data(), s.act, s.unshuffled,
                          s.seg_offsets.data());
      };
      // Threads split the rows (every group of a row range on one thread: one
      // hand-off per step, and each thread reads the pixels it wrote before),
      // unless too few rows: then the columns (gemm_splits_columns).
      if (gemm_splits_columns(*kt, m, cout_g, pool->threads())) {
        const std::int64_t panels = (cout_g + kt->gemm_nr - 1) / kt->gemm_nr;
        for (std::int64_t grp = 0; grp < g; ++grp)
          split(s, panels, [&](std::int64_t p0, std::int64_t p1) {
            kernels::GemmArgs part = group(grp);
            part.col_begin = p0 * kt->gemm_nr;
            part.col_end = std::min(cout_g, p1 * kt->gemm_nr);
            kt->gemm(part, 0, m);
          });
        return;
      }
      split(
          s, m,
          [&](std::int64_t r0, std::int64_t r1) {
            for (std::int64_t grp = 0; grp < g; ++grp) kt->gemm(group(grp), r0, r1);
          },
          kt->gemm_mr);
      return;
    }
    case StepKind::ConvIm2col:
      run_conv_im2col(s);
      return;
    case StepKind::Depthwise: {
      const ir::Shape in = shape(s.in[0]);
      for (std::int64_t b = 0; b < batch; ++b) {
        kernels::DwArgs d;
        d.in = {ptr(s.in[0]) + b * in.h * in.w * stride(s.in[0]), in.h, in.w, in.c, stride(s.in[0])};
        d.out = {y + b * out.h * out.w * stride(s.out), out.h, out.w, out.c, stride(s.out)};
        d.k = s.op.k_h;
        d.stride = s.op.stride;
        d.pad = s.op.pad;
        d.dilation = s.op.dilation;
        d.weights = s.w.data();
        d.w_stride = kernels::dw_weight_stride(in.c);
        d.bias = s.bias.data();
        d.act = s.act;
        split(s, out.h, [&](std::int64_t r0, std::int64_t r1) {
          kernels::DwArgs part = d;
          part.y_begin = r0;
          part.y_end = r1;
          kt->depthwise(part);
        });
      }
      return;
    }
    case StepKind::ConvTranspose:
      run_conv_transpose(s);
      return;
    case StepKind::Winograd:
      run_winograd(s);
      return;
    case StepKind::FusedBottleneck:
      run_bottleneck(s);
      return;
    case StepKind::ScaleShift: {
      const float* x = ptr(s.in[0]);
      split_pixels(s, pixels, [&](std::int64_t p0, std::int64_t p1) {
        for (std::int64_t px = p0; px < p1; ++px)
          kt->scale_shift(x + px * out.c, s.scale.data(), s.shift.data(), y + px * out.c, out.c);
        kt->activation(y + p0 * out.c, (p1 - p0) * out.c, s.act);
      });
      return;
    }
    case StepKind::Activation: {
      const float* x = ptr(s.in[0]);
      split_pixels(s, pixels, [&](std::int64_t p0, std::int64_t p1) {
        const std::int64_t e0 = p0 * out.c, n = (p1 - p0) * out.c;
        if (x != y) std::memcpy(y + e0, x + e0, static_cast<std::size_t>(n) * sizeof(float));
        kt->activation(y + e0, n, s.act);
      });
      return;
    }
    case StepKind::Add:
      split_pixels(s, pixels, [&](std::int64_t p0, std::int64_t p1) {
        const std::int64_t e0 = p0 * out.c;
        kt->add(ptr(s.in[0]) + e0, ptr(s.in[1]) + e0, y + e0, (p1 - p0) * out.c, s.act);
      });
      return;
    case StepKind::Mul: {
      const float* x = ptr(s.in[0]);
      const float* sc = ptr(s.in[1]);
      const std::int64_t hw = out.h * out.w;
      split_pixels(s, pixels, [&](std::int64_t p0, std::int64_t p1) {
        for (std::int64_t p = p0; p < p1;) {  // a range may span images, each with its own scales
          const std::int64_t b = p / hw, n = std::min(p1, (b + 1) * hw) - p;
          kt->channel_scale(x + p * out.c, sc + b * out.c, y + p * out.c, n, out.c);
          p += n;
        }
      });
      return;
    }
    case StepKind::Concat: {
      const std::int64_t ys = stride(s.out);  // wider than out.c when padded for a depthwise reader
      split_pixels(s, pixels, [&](std::int64_t p0, std::int64_t p1) {
        std::int64_t c0 = 0;
        for (int v : s.in) {
          const std::int64_t c = shape(v).c;
          if (values[static_cast<std::size_t>(v)].parent != s.out)  // else already written in place
            kt->copy_pixels(ptr(v) + p0 * stride(v), stride(v), y + p0 * ys + c0, ys, p1 - p0, c);
          c0 += c;
        }
      });
      return;
    }
    case StepKind::Slice: {
      const float* x = ptr(s.in[0]) + s.op.slice_start;
      const std::int64_t xs = stride(s.in[0]), ys = stride(s.out);
      split_pixels(s, pixels, [&](std::int64_t p0, std::int64_t p1) {
        kt->copy_pixels(x + p0 * xs, xs, y + p0 * ys, ys, p1 - p0, out.c);
      });
      return;
    }
    case StepKind::Shuffle:
      split_pixels(s, pixels, [&](std::int64_t p0, std::int64_t p1) {
        kt->shuffle(ptr(s.in[0]) + p0 * out.c, y + p0 * out.c, p1 - p0, out.c, s.op.groups);
      });
      return;
    case StepKind::Pool: {
      const ir::Shape in = shape(s.in[0]);
      for (std::int64_t b = 0; b < batch; ++b) {
        kernels::PoolArgs pa;
        pa.in = {ptr(s.in[0]) + b * in.elements(), in.h, in.w, in.c, in.c};
        pa.out = {y + b * out.h * out.w * stride(s.out), out.h, out.w, out.c, stride(s.out)};
        pa.k = s.op.k_h;
        pa.stride = s.op.stride;
        pa.pad = s.op.pad;
        pa.max = s.op.pool == ir::PoolMode::Max;
        split(s, out.h, [&](std::int64_t r0, std::int64_t r1) {
          kernels::PoolArgs part = pa;
          part.y_begin = r0;
          part.y_end = r1;
          kt->pool(part);
        });
      }
      return;
    }
    case StepKind::GlobalPool: {
      const ir::Shape in = shape(s.in[0]);
      const std::int64_t hw = in.h * in.w, c = out.c;
      const bool max = s.op.pool == ir::PoolMode::Max;
      const auto parts = static_cast<int>(scratch.size());
      for (std::int64_t b = 0; b < batch; ++b) {
        const float* x = ptr(s.in[0]) + b * hw * in.c;
        if (!s.info.parallel || parts <= 1) {
          kt->global_pool(x, y + b * c, hw, c, max);
          continue;
        }
        // Each thread pools the rows it wrote (Schedule::row_parts) into its
        // scratch; the parts' means, weighted by their rows, or their maxima
        // make the result. Read by one thread, the other threads' rows became
        // shared with its core, and the squeeze-excite scale writing over them
        // next waited for every line (Zen 4 VM, two threads: 21-28 us against 6-12).
        split(s, parts, [&](std::int64_t part_begin, std::int64_t part_end) {
          for (auto t = static_cast<int>(part_begin); t < part_end; ++t) {
            const auto [r0, r1] = ThreadPool::chunk(in.h, 1, parts, t);
            if (r0 < r1)
              kt->global_pool(x + r0 * in.w * in.c, scratch[static_cast<std::size_t>(t)].get(), (r1 - r0) * in.w, c,
                              max);
          }
        });
        float* yb = y + b * c;
        for (int t = 0; t < parts; ++t) {
          const auto [r0, r1] = ThreadPool::chunk(in.h, 1, parts, t);
          if (r0 >= r1) continue;
          const float* part = scratch[static_cast<std::size_t>(t)].get();
          const float wt = static_cast<float>(r1 - r0) / static_cast<float>(in.h);
          for (std::int64_t i = 0; i < c; ++i)
            yb[i] = t == 0 ? (max ? part[i] : part[i] * wt) : (max ? std::max(yb[i], part[i]) : yb[i] + part[i] * wt);
        }
      }
      return;
    }
    case StepKind::Upsample: {
      const ir::Shape in = shape(s.in[0]);
      const float* x = ptr(s.in[0]);
      const std::int64_t sc = s.op.scale, ys = stride(s.out);
      split(s, batch * out.h, [&](std::int64_t row0, std::int64_t row1) {
        for (std::int64_t r = row0; r < row1; ++r) {
          const std::int64_t b = r / out.h, oy = r % out.h;
          float* yrow = y + r * out.w * ys;
          if (s.op.upsample == ir::UpsampleMode::Nearest) {
            // Each input pixel of the row repeated sc times.
            const float* xrow = x + (b * in.h + oy / sc) * in.w * in.c;
            for (std::int64_t ix = 0; ix < in.w; ++ix)
              kt->copy_pixels(xrow + ix * in.c, 0, yrow + ix * sc * ys, ys, std::min(sc, out.w - ix * sc), out.c);
            continue;
          }
          // Bilinear, half-pixel centres (as ONNX Resize's default and PyTorch's align_corners=False).
          const float sy = std::max(0.f, (static_cast<float>(oy) + 0.5f) / static_cast<float>(sc) - 0.5f);
          const std::int64_t y0 = std::min(static_cast<std::int64_t>(sy), in.h - 1), y1 = std::min(y0 + 1, in.h - 1);
          const float fy = sy - static_cast<float>(y0);
          const float* r0 = x + (b * in.h + y0) * in.w * in.c;
          const float* r1 = x + (b * in.h + y1) * in.w * in.c;
          for (std::int64_t ox = 0; ox < out.w; ++ox) {
            const float sx = std::max(0.f, (static_cast<float>(ox) + 0.5f) / static_cast<float>(sc) - 0.5f);
            const std::int64_t x0 = std::min(static_cast<std::int64_t>(sx), in.w - 1), x1 = std::min(x0 + 1, in.w - 1);
            const float fx = sx - static_cast<float>(x0);
            const float* p[4] = {r0 + x0 * in.c, r0 + x1 * in.c, r1 + x0 * in.c, r1 + x1 * in.c};
            const float w[4] = {(1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx};
            kt->blend4(p, w, yrow + ox * ys, out.c);
          }
        }
      });
      return;
    }
    case StepKind::CReLU: {
      const std::int64_t c = shape(s.in[0]).c, ys = stride(s.out);
      split_pixels(s, pixels, [&](std::int64_t p0, std::int64_t p1) {
        kt->crelu(ptr(s.in[0]) + p0 * c, y + p0 * ys, p1 - p0, c, ys);
      });
      return;
    }
  }
}

}  // namespace convscope::runtime
