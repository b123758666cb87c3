#pragma once
/// 3x3 stride-1 convolutions by Winograd F(4x4, 3x3) (kernels.h): the plan
/// runs them over bands of tile rows. A band's input transforms (36 x tiles x
/// cin) and the 36 GEMMs' results (36 x tiles x cout) live in the thread's
/// scratch; each GEMM multiplies one position's tiles by its transformed
/// weights, then the output transform writes the band's output rows through
/// the output's pixel stride (into a concat in place, as SqueezeNet's expands
/// are). Per 4 x 4 output pixels 36 products per channel pair instead of 144:
/// SqueezeNet's and GoogLeNet's 3x3 layers alone took 0.28-0.45 of their
/// implicit-im2col time (bench_blocks BM_Conv3x3, Zen 5, one thread;
/// docs/performance.md).

#include <algorithm>
#include <cstdint>

#include "ir/op.h"
#include "ir/shape.h"
#include "kernels/kernels.h"

namespace convscope::runtime {

/// Whether a convolution runs by Winograd: 3 x 3, stride 1, dilation 1, one
/// group, at least 16 input and output channels (fewer leave the GEMMs too
/// shallow or too narrow to gain on the transforms' cost), and at least 16
/// tiles over the batch (a 13 x 13 or 14 x 14 map). The transformed weights
/// are 4x the direct ones (36 per channel pair, not 9) and a network reads
/// them from L3 or DRAM; over 16 tiles that still pays (Zen 5, one thread,
/// alternated profiles: SqueezeNet 1.1's 13 x 13 x 64 -> 256 expands 180-203
/// us against 232-238 direct, GoogLeNet's 14 x 14 branches 8-20 % faster),
/// over the 4 tiles of a 7 x 7 map (49 pixels computed as 64) it was not tried.
inline bool runs_winograd(const ir::Op& op, const ir::Shape& out, std::int64_t cin, std::int64_t batch) {
  const std::int64_t tiles = batch * kernels::winograd_tiles(out.h) * kernels::winograd_tiles(out.w);
  return op.kind == ir::OpKind::Conv && op.k_h == 3 && op.k_w == 3 && op.stride == 1 && op.dilation == 1 &&
         op.groups == 1 && cin >= 16 && op.out_c >= 16 && tiles >= 16;
}

/// The arithmetic of one image's Winograd convolution: the 36 GEMMs' multiply-
/// adds (2 flops each, over whole tiles) and the transforms' adds (about 144
/// per input tile and channel, 100 per output tile and channel), bias and activation.
inline std::int64_t winograd_flops(const ir::Shape& out, std::int64_t cin) {
  const std::int64_t tiles = kernels::winograd_tiles(out.h) * kernels::winograd_tiles(out.w);
  return tiles * (2 * kernels::kWinogradPositions * cin * out.c + 144 * cin + 100 * out.c) + 2 * out.elements();
}

/// How a Winograd step divides its work: tiles, bands, and each band's buffers.
struct WinogradShape {
  std::int64_t tiles_w = 0, tiles_h = 0;  ///< per image
  std::int64_t band_rows = 0;             ///< tile rows per band
  std::int64_t v_tile = 0, m_tile = 0;    ///< floats per tile per position (cin, cout rounded up to vectors)
  [[nodiscard]] std::int64_t band_tiles() const { return band_rows * tiles_w; }
  [[nodiscard]] std::int64_t v_pos() const { return band_tiles() * v_tile; }
  [[nodiscard]] std::int64_t m_pos() const { return band_tiles() * m_tile; }
  /// One thread's scratch: a band's transforms and results.
  [[nodiscard]] std::int64_t scratch_floats() const { return kernels::kWinogradPositions * (v_pos() + m_pos()); }
};

/// Bands of at least 32 tiles (over two 14-row GEMM tiles per position),
/// whole tile rows. SqueezeNet 1.1's expands and 28 x 28 x 128 -> 128 (Zen 5)
/// ran within a few per cent of their best band there; fewer tiles starve the
/// GEMMs, more stream the band's buffers through L2 for nothing.
inline WinogradShape winograd_shape(const ir::Shape& out, std::int64_t cin, std::int64_t lanes) {
  WinogradShape w;
  w.tiles_w = kernels::winograd_tiles(out.w);
  w.tiles_h = kernels::winograd_tiles(out.h);
  w.band_rows = std::min(w.tiles_h, (32 + w.tiles_w - 1) / w.tiles_w);
  // Rows of the GEMM's A one cache line apart, and 1 KiB multiples padded by a line (as
  // the plan pads a 1x1 convolution's input): a GEMM tile's rows would share an L1 set.
  const auto row = [&](std::int64_t c) {
    const std::int64_t r = (c + lanes - 1) / lanes * lanes;
    return r % 256 == 0 ? r + 16 : r;
  };
  w.v_tile = row(cin);
  w.m_tile = row(out.c);
  return w;
}

/// The bands of part `part` of `parts` (contiguous shares of the batch's tile
/// rows, so two threads on a 7-row map run 4 and 3 rows, not 5 and 2): bands of
/// at most band_rows rows, cut at an image's end and at the part's end;
/// fn(image, first tile row, end tile row). The executor runs these and the
/// schedule's row_parts reports them, so the two cannot drift apart.
template <class F>
void for_each_winograd_band(const WinogradShape& w, std::int64_t batch, std::int64_t part, std::int64_t parts, F&& fn) {
  const std::int64_t rows = batch * w.tiles_h, end = rows * (part + 1) / parts;
  for (std::int64_t r = rows * part / parts; r < end;) {
    const std::int64_t ty0 = r % w.tiles_h, ty1 = std::min({w.tiles_h, ty0 + w.band_rows, ty0 + end - r});
    fn(r / w.tiles_h, ty0, ty1);
    r += ty1 - ty0;
  }
}

/// Parts a Winograd step's tile rows split into: one per thread, at most one per tile row.
inline std::int64_t winograd_parts(const WinogradShape& w, std::int64_t batch, std::int64_t threads) {
  return std::max<std::int64_t>(1, std::min(threads, batch * w.tiles_h));
}

}  // namespace convscope::runtime
