#pragma once
/// The kernel interface. Micro-kernels are pure functions over pointers and
/// strides; one table per instruction set, picked at start-up from the CPU's
/// features (or forced, for tests and for comparing the paths).
///
/// Layout: activations NHWC float32; a "pixel stride" is the distance in floats
/// between two neighbouring pixels (>= channels, so a kernel can read or write a
/// channel range of a wider tensor, e.g. a slice or a concat written in place).

#include <cstdint>
#include <string_view>

#include "ir/op.h"
#include "kernels/cpu.h"
#include "util/result.h"

namespace convscope::kernels {

/// A pixel-major view of one image: h x w pixels of c channels, `stride` floats apart.
struct View {
  float* data = nullptr;
  std::int64_t h = 0, w = 0, c = 0;
  std::int64_t stride = 0;  ///< floats between neighbouring pixels
  [[nodiscard]] float* px(std::int64_t y, std::int64_t x) const { return data + (y * w + x) * stride; }
};

/// C[m x n] = act(A[m x k] * B + bias) (or act(C + A * B + bias) with
/// `accumulate`): A row-major (lda), B pre-packed by pack_gemm_b, C row-major
/// (ldc). `bias` may be null. B must be packed for the table that runs the GEMM.
struct GemmArgs {
  std::int64_t m = 0, n = 0, k = 0;
  const float* a = nullptr;
  std::int64_t lda = 0;
  const float* packed_b = nullptr;
  float* c = nullptr;
  std::int64_t ldc = 0;
  const float* bias = nullptr;
  ir::Activation act = ir::Activation::None;
  bool accumulate = false;  ///< add to C instead of overwriting it
  /// Implicit im2col: with a_seg > 0, row r of A is read in segments of a_seg
  /// floats, segment s starting at a + r * lda + a_seg_offsets[s] (depth k =
  /// s * a_seg + j), so a convolution reads its input in place instead of
  /// copying every pixel's window. a_seg_offsets holds k / a_seg + 1 entries
  /// (the last one is read past the end and not used).
  std::int64_t a_seg = 0;
  const std::int64_t* a_seg_offsets = nullptr;
  /// Only columns [col_begin, col_end) of C (col_end 0: to n): how threads
  /// split a GEMM with too few rows to split (a fully connected layer, a 7 x 7
  /// layer), each then streaming only its share of B. col_begin must be a
  /// multiple of the table's gemm_nr.
  std::int64_t col_begin = 0, col_end = 0;
};

/// Depthwise convolution of one image, weights [k*k][c], one filter per channel.
struct DwArgs {
  View in, out;
  std::int64_t k = 3, stride = 1, pad = 0, dilation = 1;
  const float* weights = nullptr;  ///< [k*k][w_stride], the first c of each row used
  std::int64_t w_stride = 0;       ///< floats between two taps' weights (0: c)
  const float* bias = nullptr;     ///< [c] or null
  ir::Activation act = ir::Activation::None;
  std::int64_t y_begin = 0, y_end = 0;  ///< output rows to compute (for threads)
};

/// A grouped 1x1 convolution whose groups are at most a vector wide (IGCV2's
/// 4 to 8 channels per group): y[p][c] = act(bias[c] + sum_j x[p][(c / cout_g) *
/// cin_g + j] * w[c][j]). Each vector of output channels takes its groups'
/// inputs by lane permutes of the (at most two) vectors of input channels they
/// read: one permute and one FMA per lane-group input, where a GEMM per group
/// would run a whole tile for a few columns and a few depths. Weights packed
/// by pack_narrow_groups.
struct NarrowGroupArgs {
  const float* x = nullptr;
  std::int64_t x_stride = 0;  ///< floats between pixels of the input
  float* y = nullptr;
  std::int64_t y_stride = 0;  ///< floats between pixels of the output
  std::int64_t cin_g = 0, cout_g = 0, cout = 0;
  const float* packed_w = nullptr;
  const float* bias = nullptr;  ///< [cout]
  ir::Activation act = ir::Activation::None;
};

/// Max or average pooling of one image (average over the window cells inside the input).
struct PoolArgs {
  View in, out;
  std::int64_t k = 2, stride = 2, pad = 0;
  bool max = true;
  std::int64_t y_begin = 0, y_end = 0;  ///< output rows to compute
};

/// Winograd F(4x4, 3x3) (Lavin & Gray 2016) for 3x3 stride-1 convolutions:
/// each 4 x 4 output tile comes from a 6 x 6 input tile through 36 products
/// per channel pair instead of 144. The input tiles are transformed (B^T d B)
/// into 36 matrices of tiles x cin, each multiplied by its transformed weights
/// (G g G^T, cin x cout, packed by pack_winograd) in one GEMM, and the 36
/// results transformed back (A^T m A). The plan runs it over bands of tile
/// rows whose transforms stay in L2 (runtime/winograd.h).
inline constexpr std::int64_t kWinogradPositions = 36;
/// Tiles across `out_w` output pixels (4 per tile; the last one clipped).
inline std::int64_t winograd_tiles(std::int64_t out_w) { return (out_w + 3) / 4; }

/// One image's band of tile rows. Position p of band tile t (t = (ty - ty0) *
/// winograd_tiles(out.w) + tx) is at v + p * v_pos + t * v_tile (cin floats)
/// and at m + p * m_pos + t * m_tile (cout floats, m_tile a whole number of
/// vectors: the output transform reads whole vectors).
struct WinogradArgs {
  View in, out;
  std::int64_t pad = 1;  ///< output pixel (0, 0)'s window starts at input pixel (-pad, -pad)
  float* v = nullptr;
  float* m = nullptr;
  std::int64_t v_pos = 0, v_tile = 0, m_pos = 0, m_tile = 0;
  const float* bias = nullptr;  ///< [cout] or null
  ir::Activation act = ir::Activation::None;
};

/// Revision of the kernels and of how plans use them. Bump it with any change
/// that moves their speed: latency models calibrated before are then redone.
inline constexpr int kKernelRevision =
    35;  // 2: sigmoid and swish in vector form; 3: channel scale, global pooling; 4: shuffles of 4+ groups in 4 x 4
         // transposes; 5: B prefetched in 1-2 row GEMM tiles; 6: row bands of at least 4 GEMM row tiles;
         // 7: every GEMM tile prefetches its share of B's next panel; 8: copies, CReLU, upsampling in the tables
         // and written in place into concats; 9: transposed convolutions as one GEMM per output phase;
         // 10: pooling in vector form, GEMMs with few rows split across threads by columns; 11: slices read in
         // place by 1x1 convolutions, depthwise and concats; 12: element-wise and data-movement steps split
         // across threads by pixels, grouped GEMMs by rows over all groups; 13: the thread pool hands off without
         // a lock; 14: small pixel-split steps run across the threads when their input's writer did; 15: steps
         // with no work (concats written wholly in place, slices read in place) are skipped; 16: row-band buffers
         // a cache line wider per pixel when e is a multiple of 256, a GEMM panel's last vector of <= 8 columns
         // half-width (AVX-512); 17: depthwise 3x3 in column order with its weights in registers (AVX-512);
         // 18: 5x5 and 7x7 depthwise in column order too; 19: their next channel vector's weights prefetched;
         // 20: column-order border tiles of rows of 7 and 14 skip their padded columns with no test;
         // 21: implicit-im2col GEMM tiles walk each segment in a plain loop (no accumulator spilled);
         // 22: a depthwise's output of 256 * n channels one cache line wider per pixel when read strided, a stride-1
         // depthwise's input too when its K rows crowd an L1 set (56 x 56 x 128); 23: grouped 1x1 convolutions of
         // narrow groups by lane permutes (AVX-512); 24: also on AVX2, and for groups of a whole vector;
         // 25: global pooling in one pass in memory order (vector tables); 26: 3x3 stride-1 convolutions
         // by Winograd F(4x4, 3x3) in bands of tile rows; 27: also over 16 to 39 tiles (13 x 13, 14 x 14 maps);
         // 28: pixel-major depthwise tiles as wide as the L1's ways allow (dw_tile_width); 29: a row-band
         // chain's activation after its project runs in the project GEMM's epilogue (no pass of its own);
         // 30: across threads, a thread done with its range takes over a slower one's unstarted pieces;
         // 31: GEMM tiles issue their next-panel prefetches four depth steps at a time, outside the FMA loop;
         // 32: GEMM tiles address A's rows from one pointer per three rows (no offsets spilled, 14 x 32 tile);
         // 33: GEMMs whose block of B fits in 16 KiB run each row tile over every panel;
         // 34: depthwise in pixel-major order where column order's input rows crowd L1 (dw_column_rows_crowd_l1);
         // 35: GEMM tiles of the last depth block prefetch (for writing) the C lines of the tile two on

struct KernelTable {
  Isa isa = Isa::Portable;
  /// Rows [row_begin, row_end) of a GEMM (the caller splits rows across threads).
  void (*gemm)(const GemmArgs& args, std::int64_t row_begin, std::int64_t row_end) = nullptr;
  void (*depthwise)(const DwArgs& args) = nullptr;
  /// Pixels [pixel_begin, pixel_end) of a grouped 1x1 convolution of narrow groups
  /// (null where the table has none; runs_narrow_groups says when it applies).
  void (*narrow_groups)(const NarrowGroupArgs& args, std::int64_t pixel_begin, std::int64_t pixel_end) = nullptr;
  /// y[i] = act(y[i]) over n floats.
  void (*activation)(float* y, std::int64_t n, ir::Activation act) = nullptr;
  /// y[i] = act(a[i] + b[i]); y may be a or b (an add in place).
  void (*add)(const float* a, const float* b, float* y, std::int64_t n, ir::Activation act) = nullptr;
  /// y[i] = x[i] * scale[i] + shift[i] (per-channel, over n channels).
  void (*scale_shift)(const float* x, const float* scale, const float* shift, float* y, std::int64_t n) = nullptr;
  void (*pool)(const PoolArgs& args) = nullptr;
  /// Winograd transforms of tile rows [ty0, ty1) of one image: input tiles into
  /// args.v, and args.m (the 36 GEMMs' results) back into the output with bias
  /// and activation.
  void (*winograd_input)(const WinogradArgs& args, std::int64_t ty0, std::int64_t ty1) = nullptr;
  void (*winograd_output)(const WinogradArgs& args, std::int64_t ty0, std::int64_t ty1) = nullptr;
  /// The loops `pool` runs over a window's cell for c channels (its blocks of
  /// channels): what a pooling step costs per tap beyond its elements (the latency model).
  std::int64_t (*pool_loops)(std::int64_t c) = nullptr;
  /// Channel shuffle of `pixels` pixels of c channels in `groups` groups:
  /// y[a * groups + g] = x[g * (c / groups) + a].
  void (*shuffle)(const float* x, float* y, std::int64_t pixels, std::int64_t c, std::int64_t groups) = nullptr;
  /// Channel scale (squeeze-excite's gate applied): y[p * c + i] = x[p * c + i] * s[i] over `pixels` pixels;
  /// y may be x (in place).
  void (*channel_scale)(const float* x, const float* s, float* y, std::int64_t pixels, std::int64_t c) = nullptr;
  /// Global pooling of `pixels` pixels of c channels: y[i] = max or mean over p of x[p * c + i].
  void (*global_pool)(const float* x, float* y, std::int64_t pixels, std::int64_t c, bool max) = nullptr;
  /// Copies `pixels` pixels of c channels: y[p * sy + i] = x[p * sx + i] (concat and slice copies; sx = 0
  /// repeats one pixel, as nearest upsampling does).
  void (*copy_pixels)(const float* x, std::int64_t sx, float* y, std::int64_t sy, std::int64_t pixels,
                      std::int64_t c) = nullptr;
  /// CReLU of `pixels` pixels of c channels into 2c: y[p * sy + i] = max(x, 0), y[p * sy + c + i] = max(-x, 0).
  void (*crelu)(const float* x, float* y, std::int64_t pixels, std::int64_t c, std::int64_t sy) = nullptr;
  /// y[i] = w[0] p[0][i] + w[1] p[1][i] + w[2] p[2][i] + w[3] p[3][i] over c floats (bilinear upsampling).
  void (*blend4)(const float* const* p, const float* w, float* y, std::int64_t c) = nullptr;
  /// Calibration: `iterations` rounds of independent multiply-adds in registers;
  /// returns the FLOPs performed (writes a sink so nothing is optimised away).
  double (*fma_loop)(std::int64_t iterations, float* sink) = nullptr;
  /// Calibration: sums n floats (a streaming read); returns the sum.
  float (*read_sum)(const float* x, std::int64_t n) = nullptr;
  /// The GEMM's packed-B layout (see pack_gemm_b): columns per panel, depth per block;
  /// and its rows per micro-kernel call, the grain in which callers split rows across threads.
  std::int64_t gemm_nr = 16, gemm_kc = 256, gemm_mr = 4;
  /// Columns per vector of the GEMM micro-kernel: a panel whose valid columns
  /// fit fewer vectors (the last one of a 48-channel layer) runs only those
  /// (gemm_nr: every panel runs whole).
  std::int64_t gemm_lanes = 16;
  /// Depthwise 3x3, 5x5 and 7x7 at strides 1 and 2 run in column order (one
  /// channel vector of `gemm_lanes` over every row of a band) where the
  /// input's lines do not conflict in L1.
  bool dw_columns = false;
  /// Widest depthwise tile in pixels for 3x3 kernels and for 5x5 / 7x7 (the
  /// pixel-major tiles of dw_rows; column order runs 8 where it runs).
  int dw_max_tile3 = 1, dw_max_tile57 = 1;
};

/// Ways of this CPU's L1 data cache (sysconf; 8 where the system does not
/// say: the fewest of any x86 core we know of), read once.
int l1d_ways();

/// The widest tile (at most t_max pixels, halving) whose K x K, stride S input
/// lines stay in L1 together. With a pixel stride of 2 KiB (512 channels) every
/// input line of a tile falls in the same two of L1's 64 sets; more lines than
/// the `ways` of a set evict each other and each tile then streams from L2.
/// Counts the tile's lines per set (64 sets). in_w: input row in pixels;
/// px_stride: floats per pixel. A 12-way L1 (Zen 5, Intel since Ice Lake) holds
/// 3x3 tiles of 4 over 512 channels where an 8-way one (Zen 3, Zen 4) holds 2:
/// a dense 14 x 14 x 512 depthwise ran 38.8 -> 26.4 us on Zen 5 (one thread).
inline int dw_tile_width(int k, int s, std::int64_t in_w, std::int64_t px_stride, int t_max, int ways = l1d_ways()) {
  const std::int64_t px_bytes = px_stride * 4, row_bytes = in_w * px_bytes;
  for (int t = t_max; t > 1; t /= 2) {
    int lines[64] = {};
    bool fits = true;
    const int span = (t - 1) * s + k;
    for (int ky = 0; ky < k && fits; ++ky)
      for (int i = 0; i < span && fits; ++i) fits = ++lines[((ky * row_bytes + i * px_bytes) / 64) % 64] <= ways;
    if (fits) return t;
  }
  return 1;
}

/// The most cache lines that one of L1's 64 sets holds when a depthwise in
/// column order keeps one channel vector's K input rows there (in_w pixels
/// each, px_stride floats apart; the vector's line of every pixel). More than
/// its ways and they evict each other before the next output row reads them
/// again: each then comes from L2 (or further) once per output row.
inline int dw_column_rows_per_set(int k, std::int64_t in_w, std::int64_t px_stride) {
  const std::int64_t px_bytes = px_stride * 4, row_bytes = in_w * px_bytes;
  int lines[64] = {}, most = 0;
  for (int ky = 0; ky < k; ++ky)
    for (std::int64_t x = 0; x < in_w; ++x) {
      const int n = ++lines[((ky * row_bytes + x * px_bytes) / 64) % 64];
      most = n > most ? n : most;
    }
  return most;
}

/// Whether column order's K input rows crowd L1 (dw_column_rows_per_set) past
/// what it gains there; then pixel-major order, whose tiles read each pixel's
/// channels as one run the prefetchers follow, is faster. At stride 1 column
/// order reuses two of its three rows from one output row to the next and
/// pays off up to 16 lines a set (the schedule pads crowded inputs instead,
/// schedule.cpp); at stride 2 only one, and it lost from 2/3 of the ways on
/// (on an Intel Xeon with AVX-512, 12-way L1: 112 x 112 x 96 at stride 2, 11
/// lines a set, 279 us in column order, 217 in pixel-major; 56 x 56 x 144 at
/// stride 2, 3 a set, 47 in column order, 52 in pixel-major; MobileNetV1's
/// fused blocks over 112 x 112 x 64 and 56 x 56 x 128, 21 a set, 8-10 %
/// faster in pixel-major; docs/performance.md).
inline bool dw_column_rows_crowd_l1(int k, int s, std::int64_t in_w, std::int64_t px_stride, int ways) {
  return dw_column_rows_per_set(k, in_w, px_stride) > (s == 1 ? 16 : 2 * ways / 3);
}

/// How the depthwise kernels walk an output row (simd_impl.h dw_rows), decided
/// here for the kernels and for the latency model's tile count alike.
struct DwRowWalk {
  /// Column order: channel vector by channel vector over bands of rows (a
  /// table with dw_columns, where tiles of 8 fit L1 and the vector's input
  /// rows do not crowd it: dw_column_rows_crowd_l1); else pixel-major.
  bool columns = false;
  /// Column order on rows of 7 and 14 pixels (MobileNets' last resolutions): tiles of 7.
  bool sevens = false;
  /// The widest tile (8 in column order, else the widest of 8, 4, 2, 1 that
  /// fits L1); narrower ones, halving, finish each row.
  int widest = 1;

  /// Tiles per row of out_w pixels.
  [[nodiscard]] std::int64_t tiles(std::int64_t out_w) const {
    if (sevens) return out_w / 7;
    std::int64_t n = 0, left = out_w;
    for (int w = 8; w >= 1; w /= 2)
      if (w <= widest) {
        n += left / w;
        left %= w;
      }
    return n;
  }
};

/// The walk of a K x K, stride S depthwise (dilation 1) over rows of out_w
/// output pixels from input rows of in_w pixels, px_stride floats apart, on
/// a table with or without column order and tiles of at most t_max pixels.
inline DwRowWalk dw_row_walk(bool table_columns, int k, int s, std::int64_t in_w, std::int64_t px_stride,
                             std::int64_t out_w, int t_max, int ways = l1d_ways()) {
  DwRowWalk w;
  w.widest = dw_tile_width(k, s, in_w, px_stride, t_max, ways);
  w.columns = table_columns && w.widest >= 8 && !dw_column_rows_crowd_l1(k, s, in_w, px_stride, ways);
  w.sevens = w.columns && out_w % 8 != 0 && out_w % 7 == 0;
  return w;
}

/// The walk of `kt`'s depthwise over rows of out_w pixels (dw_row_walk);
/// kernels other than 3, 5, 7 or strides above 2 go pixel by pixel (widest 1).
DwRowWalk dw_walk(const KernelTable& kt, int k, int s, std::int64_t in_w, std::int64_t px_stride, std::int64_t out_w);

/// Packs B given as rows of K weights per output column (W[n][k], the OHWI
/// layout of a 1x1 convolution) for table `kt`: panels of kt.gemm_nr columns,
/// zero padded, depth block by depth block: [k / gemm_kc][panel][kc][gemm_nr], so the GEMM
/// reads B once, front to back, as one sequential stream (what the hardware
/// prefetcher follows best when B comes from L3 or DRAM, as a fully connected
/// layer's weights do). `out` must hold packed_b_size(kt, n, k) floats.
std::int64_t packed_b_size(const KernelTable& kt, std::int64_t n, std::int64_t k);
void pack_gemm_b(const KernelTable& kt, const float* w, std::int64_t n, std::int64_t k, float* out);

/// Transforms 3x3 weights W[cout][3][3][cin] (OHWI) for Winograd F(4x4, 3x3)
/// and packs each of the 36 positions' cin x cout matrix for `kt`'s GEMM:
/// position p at out + p * packed_b_size(kt, cout, cin).
std::int64_t winograd_weights_size(const KernelTable& kt, std::int64_t cout, std::int64_t cin);
void pack_winograd(const KernelTable& kt, const float* w, std::int64_t cout, std::int64_t cin, float* out);

/// Whether `kt` runs a 1x1 convolution of `groups` groups of cin_g -> cout_g
/// channels with narrow_groups: groups of at most a vector, at most 8 inputs
/// per group (their weights stay in registers), and every output vector's
/// groups reading at most two vectors of input channels.
bool runs_narrow_groups(const KernelTable& kt, std::int64_t groups, std::int64_t cin_g, std::int64_t cout_g);
/// Widest run of input channels one output vector of `lanes` channels reads
/// (narrow_groups loads it in one or two vectors).
inline std::int64_t narrow_group_span(std::int64_t lanes, std::int64_t cin_g, std::int64_t cout_g, std::int64_t cout) {
  std::int64_t span = 0;
  for (std::int64_t c0 = 0; c0 < cout; c0 += lanes) {
    const std::int64_t c1 = (c0 + lanes < cout ? c0 + lanes : cout) - 1;
    const std::int64_t s = (c1 / cout_g - c0 / cout_g + 1) * cin_g;
    span = s > span ? s : span;
  }
  return span;
}
/// Packs grouped 1x1 weights W[cout][cin_g] for narrow_groups: per output vector v,
/// cin_g vectors of weights (lane l: W[v * lanes + l][j], zero past cout), then
/// cin_g vectors of lane indices into the vector's input span (int32 bits).
std::int64_t narrow_groups_size(const KernelTable& kt, std::int64_t cin_g, std::int64_t cout);
void pack_narrow_groups(const KernelTable& kt, const float* w, std::int64_t cin_g, std::int64_t cout_g,
                        std::int64_t cout, float* out);

/// Floats between two taps' rows of packed depthwise weights for c channels:
/// c, padded by one cache line when c * 4 bytes is a multiple of 1 KiB (then
/// the nine taps' rows of a channel block would share a few L1 sets with each
/// other and with the input pixels, which are as far apart).
std::int64_t dw_weight_stride(std::int64_t c);
/// Packs depthwise weights given per channel ([c][kk], OHWI with one input
/// channel) into [kk][dw_weight_stride(c)], the layout DwArgs::weights reads.
/// `out` must hold kk * dw_weight_stride(c) floats.
void pack_depthwise(const float* w, std::int64_t c, std::int64_t kk, float* out);

/// The best table for this CPU, or the one CONVSCOPE_ISA names (avx512, avx2,
/// portable); a name this CPU cannot run is reported on stderr once and ignored.
const KernelTable& best_kernels();
/// A specific table; the AVX2 and AVX-512 tables are only valid when the CPU has them.
const KernelTable& kernels_for(Isa isa);

/// The table named `name`: "auto" (best_kernels()), or an ISA of available_isas()
/// by its short name ("avx512", "avx2", "portable"). An ISA this CPU or build lacks is
/// refused, naming the ones available.
Result<const KernelTable*> kernels_by_name(std::string_view name);

/// Applies an activation to one value (shared by every path).
inline float activate(float v, ir::Activation act) {
  switch (act) {
    case ir::Activation::None:
      return v;
    case ir::Activation::ReLU:
      return v > 0.f ? v : 0.f;
    case ir::Activation::ReLU6:
      return v < 0.f ? 0.f : (v > 6.f ? 6.f : v);
    case ir::Activation::HSigmoid: {
      const float t = v + 3.f;
      return (t < 0.f ? 0.f : (t > 6.f ? 6.f : t)) * (1.f / 6.f);
    }
    case ir::Activation::HSwish: {
      const float t = v + 3.f;
      return v * (t < 0.f ? 0.f : (t > 6.f ? 6.f : t)) * (1.f / 6.f);
    }
    case ir::Activation::Sigmoid:
      return 1.f / (1.f + __builtin_expf(-v));
    case ir::Activation::Swish:
      return v / (1.f + __builtin_expf(-v));
  }
  return v;
}

}  // namespace convscope::kernels
