// Transposed convolution by output phases (see conv_transpose.h): geometry,
// weight packing and the step's executor.
#include "runtime/conv_transpose.h"

#include <algorithm>

#include "runtime/plan_impl.h"

namespace convscope::runtime {

std::vector<TransposePhase> transpose_phases(std::int64_t k, std::int64_t s, std::int64_t pad, std::int64_t out) {
  std::vector<TransposePhase> phases;
  for (std::int64_t q = 0; q < s; ++q) {
    TransposePhase p;
    p.q = q;
    p.t = (q + pad) % s;
    p.base = (q + pad) / s;
    p.taps = p.t < k ? (k - p.t + s - 1) / s : 0;
    p.n = out > q ? (out - q + s - 1) / s : 0;
    phases.push_back(p);
  }
  return phases;
}

std::int64_t transpose_max_depth(const ir::Op& op, std::int64_t cin_g) {
  const std::int64_t s = op.stride;
  return (op.k_h + s - 1) / s * ((op.k_w + s - 1) / s) * cin_g;
}

std::int64_t col_stride(std::int64_t depth) {
  // Rows a multiple of 1 KiB apart would put a GEMM tile's rows of A into the
  // same few L1 sets (4096 floats apart: one set, more rows than ways).
  return depth % 256 == 0 ? depth + 16 : depth;
}

namespace {

/// Calls fn(phase y, phase x, group, packed floats) in packing order.
template <class Fn>
void for_each_phase(const kernels::KernelTable& kt, const ir::Op& op, std::int64_t cin, Fn&& fn) {
  const std::int64_t s = op.stride, g = op.groups, cin_g = cin / g, cout_g = op.out_c / g;
  // The output size does not change the taps; 1 keeps every phase's n out of it.
  for (const TransposePhase& py : transpose_phases(op.k_h, s, op.pad, s))
    for (const TransposePhase& px : transpose_phases(op.k_w, s, op.pad, s))
      for (std::int64_t grp = 0; grp < g; ++grp) {
        const std::int64_t depth = py.taps * px.taps * cin_g;
        fn(py, px, grp, depth > 0 ? kernels::packed_b_size(kt, cout_g, depth) : 0);
      }
}

}  // namespace

std::int64_t conv_transpose_packed_size(const kernels::KernelTable& kt, const ir::Op& op, std::int64_t cin) {
  std::int64_t total = 0;
  for_each_phase(kt, op, cin,
                 [&](const TransposePhase&, const TransposePhase&, std::int64_t, std::int64_t size) { total += size; });
  return total;
}

std::vector<float> pack_conv_transpose(const kernels::KernelTable& kt, const ir::Op& op, std::int64_t cin,
                                       const std::vector<float>& folded) {
  const std::int64_t s = op.stride, g = op.groups, cin_g = cin / g, cout_g = op.out_c / g;
  const std::int64_t kh = op.k_h, kw = op.k_w;
  std::vector<float> packed(static_cast<std::size_t>(conv_transpose_packed_size(kt, op, cin)));
  std::vector<float> rows;  // W[o][tap (my, mx)][ci], what pack_gemm_b reads
  std::int64_t offset = 0;
  for_each_phase(
      kt, op, cin, [&](const TransposePhase& py, const TransposePhase& px, std::int64_t grp, std::int64_t size) {
        if (size == 0) return;
        const std::int64_t depth = py.taps * px.taps * cin_g;
        rows.assign(static_cast<std::size_t>(cout_g * depth), 0.f);
        for (std::int64_t my = 0; my < py.taps; ++my)
          for (std::int64_t mx = 0; mx < px.taps; ++mx) {
            const std::int64_t ky = py.t + s * my, kx = px.t + s * mx;
            for (std::int64_t ci = 0; ci < cin_g; ++ci)
              for (std::int64_t o = 0; o < cout_g; ++o)
                rows[static_cast<std::size_t>(o * depth + (my * px.taps + mx) * cin_g + ci)] =
                    folded[static_cast<std::size_t>(((grp * cin_g + ci) * kh * kw + ky * kw + kx) * cout_g + o)];
          }
        kernels::pack_gemm_b(kt, rows.data(), cout_g, depth, packed.data() + offset);
        offset += size;
      });
  return packed;
}

void Plan::Impl::run_conv_transpose(const Step& s) {
  const ir::Shape in = shape(s.in[0]), out = shape(s.out);
  const float* x = ptr(s.in[0]);
  float* y = ptr(s.out);
  const std::int64_t st = s.op.stride, g = s.op.groups, cin_g = in.c / g, cout_g = s.op.out_c / g;
  const std::int64_t ys = stride(s.out);

  // Every (phase, group) with its packed weights, then every output row of
  // each as one unit of work for the threads.
  struct Unit {
    TransposePhase py, px;
    std::int64_t grp, depth;
    const float* w;
    std::vector<std::int64_t> seg_off;  // tap (my, mx) relative to tap (0, 0), in floats
  };
  std::vector<Unit> units;
  std::int64_t offset = 0;
  const auto phases_y = transpose_phases(s.op.k_h, st, s.op.pad, out.h);
  const auto phases_x = transpose_phases(s.op.k_w, st, s.op.pad, out.w);
  for (const TransposePhase& py : phases_y)
    for (const TransposePhase& px : phases_x)
      for (std::int64_t grp = 0; grp < g; ++grp) {
        Unit u{py, px, grp, py.taps * px.taps * cin_g, s.w.data() + offset, {}};
        if (u.depth > 0) offset += kernels::packed_b_size(*kt, cout_g, u.depth);
        for (std::int64_t my = 0; my < py.taps; ++my)
          for (std::int64_t mx = 0; mx < px.taps; ++mx) u.seg_off.push_back(-(my * in.w + mx) * in.c);
        u.seg_off.push_back(0);  // read past the last segment, never used
        if (py.n > 0 && px.n > 0) units.push_back(std::move(u));
      }
  std::vector<std::int64_t> first_row{0};  // rows of units before unit i
  for (const Unit& u : units) first_row.push_back(first_row.back() + batch * u.py.n);
  const std::int64_t rows = first_row.back();

  const std::int64_t parts = std::min<std::int64_t>(static_cast<std::int64_t>(scratch.size()), rows);
  split(s, parts, [&](std::int64_t part_begin, std::int64_t part_end) {
    for (std::int64_t part = part_begin; part < part_end; ++part) {
      float* col = scratch[static_cast<std::size_t>(part)].get();
      // Pixels whose windows are gathered into col, across rows of one unit
      // (so that each pass over the unit's weights serves up to kIm2colTile
      // pixels), and where their results go.
      float* pending[kIm2colTile];
      std::int64_t n = 0;
      const Unit* tile_unit = nullptr;
      auto flush = [&] {
        if (n == 0) return;
        const Unit& u = *tile_unit;
        float* res = col + kIm2colTile * col_stride(u.depth);
        kernels::GemmArgs ga{
            n, cout_g, u.depth, col, col_stride(u.depth), u.w, res, cout_g, s.bias.data() + u.grp * cout_g, s.act};
        kt->gemm(ga, 0, n);
        for (std::int64_t k = 0; k < n; ++k) std::copy(res + k * cout_g, res + (k + 1) * cout_g, pending[k]);
        n = 0;
      };
      const std::int64_t r_begin = rows * part / parts, r_end = rows * (part + 1) / parts;
      std::size_t ui =
          static_cast<std::size_t>(std::upper_bound(first_row.begin(), first_row.end(), r_begin) - first_row.begin()) -
          1;
      for (std::int64_t r = r_begin; r < r_end; ++r) {
        while (r >= first_row[ui + 1]) ++ui;
        const Unit& u = units[ui];
        const TransposePhase &py = u.py, &px = u.px;
        const std::int64_t b = (r - first_row[ui]) / py.n, j = (r - first_row[ui]) % py.n;
        const std::int64_t oy = py.q + st * j;
        float* yrow = y + ((b * out.h + oy) * out.w + px.q) * ys + u.grp * cout_g;  // phase pixel i at + i * st * ys
        const float* bias = s.bias.data() + u.grp * cout_g;
        if (u.depth == 0) {  // no tap reaches this phase (kernel smaller than the stride): the bias alone
          for (std::int64_t i = 0; i < px.n; ++i)
            for (std::int64_t o = 0; o < cout_g; ++o) yrow[i * st * ys + o] = kernels::activate(bias[o], s.act);
          continue;
        }
        if (tile_unit != &u) {
          flush();
          tile_unit = &u;
        }
        const float* xin = x + b * in.h * in.w * in.c + u.grp * cin_g;
        const std::int64_t iy0 = j + py.base;  // input row of tap my = 0
        const bool row_inside = iy0 - (py.taps - 1) >= 0 && iy0 < in.h;
        // Pixels i whose every tap lies inside the input (ix0 = i + base in
        // [taps - 1, in.w)) run as one GEMM reading the input in place, when
        // there are enough of them to pay for a pass over the weights.
        std::int64_t i_lo = row_inside ? std::clamp<std::int64_t>(px.taps - 1 - px.base, 0, px.n) : px.n;
        std::int64_t i_hi = row_inside ? std::clamp<std::int64_t>(in.w - px.base, i_lo, px.n) : px.n;
        if (i_hi - i_lo < kMinImplicitWidth) i_lo = i_hi = px.n;
        if (i_hi > i_lo) {
          kernels::GemmArgs ga{i_hi - i_lo,
                               cout_g,
                               u.depth,
                               xin + (iy0 * in.w + i_lo + px.base) * in.c,
                               in.c,
                               u.w,
                               yrow + i_lo * st * ys,
                               st * ys,
                               bias,
                               s.act};
          ga.a_seg = cin_g;
          ga.a_seg_offsets = u.seg_off.data();
          kt->gemm(ga, 0, ga.m);
        }
        // Every other pixel's window gathered (zeros outside the input).
        auto gather = [&](std::int64_t i) {
          float* dst = col + n * col_stride(u.depth);
          pending[n++] = yrow + i * st * ys;
          for (std::int64_t my = 0; my < py.taps; ++my)
            for (std::int64_t mx = 0; mx < px.taps; ++mx, dst += cin_g) {
              const std::int64_t iy = iy0 - my, ix = i + px.base - mx;
              if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w)
                std::fill(dst, dst + cin_g, 0.f);
              else
                std::copy(xin + (iy * in.w + ix) * in.c, xin + (iy * in.w + ix) * in.c + cin_g, dst);
            }
          if (n == kIm2colTile) flush();
        };
        for (std::int64_t i = 0; i < i_lo; ++i) gather(i);
        for (std::int64_t i = i_hi; i < px.n; ++i) gather(i);
      }
      flush();
    }
  });
}

}  // namespace convscope::runtime
