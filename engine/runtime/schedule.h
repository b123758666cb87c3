#pragma once
/// What a plan will do, decided without weights or memory: the analyzed graph's
/// ops grouped into steps (convolution + batch norm + activation fused, the
/// inverted residual's chain as one sliced step), the layout choices (concats
/// written in place, padded pixel strides) and every tensor's place in the
/// arena. Plan::build materialises a schedule (weights packed, memory
/// allocated); the latency model predicts one step by step, so predictions
/// see exactly the steps a run would time. Building a schedule costs
/// microseconds per op.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cost/analysis.h"
#include "kernels/kernels.h"
#include "runtime/memory_plan.h"
#include "util/result.h"

namespace convscope::runtime {

class Weights;

struct PlanOptions {
  int threads = 1;                   ///< 1 by default for stable numbers
  std::uint64_t seed = 1;            ///< deterministic weights (unless `weights` is given)
  const Weights* weights = nullptr;  ///< weights given by the caller, one per analysis op
  /// Refuse plans whose arena + weights + scratch exceed this many bytes.
  std::int64_t memory_limit_bytes = std::int64_t{4} << 30;
  bool fuse = true;  ///< fold BN into convolutions, fuse activations
  /// Run each expand 1x1 -> depthwise -> project 1x1 chain (the inverted
  /// residual) as one step over `split` channel slices of the expanded tensor,
  /// which then never exists whole (MobileNetV2 paper, sec. 5.1, the t-way
  /// split). 0 = run the chain op by op.
  std::int64_t split = 0;
  /// Run each such chain, and each depthwise -> pointwise chain (the separable
  /// block), as one step over bands of output rows instead: a band's
  /// expanded rows are computed once (the rows a band shares with the next stay
  /// in the buffer), then the depthwise and the project run on them, all in a
  /// per-thread buffer sized for the L2 cache, so the expanded tensor never
  /// leaves the cache. Takes precedence over `split`.
  bool fuse_rows = false;
  /// When set, only the chains of these graph nodes are fused (as `split` or
  /// `fuse_rows` say); the others run op by op. How the latency model's choice
  /// of the faster form per block reaches the plan.
  std::optional<std::vector<int>> fused_nodes;
  /// Layouts in place: a step feeding only a concat writes into the concat's
  /// output directly, and a slice read only through pixel strides is a view
  /// of its source (no copy). Off: every value has its own buffer.
  bool concat_in_place = true;
  /// A channel scale (squeeze-excite's) or an add writes over an input of its
  /// own shape that no later step reads: its output is a view of that input
  /// (no new lines to fetch for the writes, one tensor less live). Off: a
  /// buffer of its own.
  bool elementwise_in_place = true;
  /// On several threads, move each tensor to where every thread writes lines
  /// it held last, for up to an eighth more arena (plan_arena_by_thread,
  /// core_walk.h). Off: the arena by liveness and size alone (plan_arena).
  bool place_by_thread = true;
  /// A channel shuffle read only by 1x1 convolutions (grouped or not), or
  /// only by a depthwise step whose readers all are (IGCV3's and ShuffleNet
  /// V1's first permutation), is folded away: the depthwise runs on the
  /// unshuffled tensor with its filters permuted, and each group of a
  /// convolution reads its channels in place, in segments of at least a cache
  /// line (ScheduledStep::unshuffled). Off: the shuffle runs.
  bool fold_shuffles = true;
  /// 3x3 stride-1 convolutions of one group and at least 16 input and output
  /// channels run by Winograd F(4x4, 3x3) (runtime/winograd.h). Off: by the
  /// implicit-im2col GEMM, as every other convolution.
  bool winograd = true;
  /// Kernels to use (best_kernels() when null): tests pin the portable path.
  const kernels::KernelTable* kernels = nullptr;
};

enum class StepKind {
  Gemm,           ///< 1x1 stride-1 convolution or fully connected: one GEMM
  ConvIm2col,     ///< any other convolution: im2col tiles + GEMM, per group
  Depthwise,      ///< depthwise convolution (one filter per channel)
  ConvTranspose,  ///< one implicit-im2col GEMM per output phase (conv_transpose.h)
  ScaleShift,     ///< batch norm that could not be folded
  Activation,
  Add,
  Mul,  ///< per-channel scale (squeeze-excite)
  Concat,
  Slice,
  Shuffle,
  Pool,
  GlobalPool,
  Upsample,
  CReLU,
  /// expand 1x1 + depthwise + project 1x1 (+ shortcut) over channel slices
  FusedBottleneck,
  /// 3x3 stride-1 convolution by Winograd F(4x4, 3x3) in bands of tile rows (winograd.h)
  Winograd,
};
inline constexpr int kStepKinds = static_cast<int>(StepKind::Winograd) + 1;

/// What the planner may assume about a step kind's executor.
struct StepKindTraits {
  std::string_view name;
  /// Writes its output through a pixel stride wider than its channels, so the
  /// output can live inside a concat's buffer (written in place) or carry a
  /// padded stride (a depthwise input). Only these kinds get either.
  bool strided_output = false;
  /// Splits its output pixels (or rows) across threads in contiguous ranges:
  /// a small one follows the threads that wrote its input (see StepInfo::parallel).
  bool splits_pixels = false;
  /// Across threads, a thread done with its own range takes over the unstarted
  /// pieces of a slower one (ThreadPool::parallel_for's balance). Not for
  /// channel copies (concat, slice, shuffle): a piece copied by the other core
  /// leaves its output there for the next step, which costs more than waiting.
  bool balances = true;
};
/// A step under both of these runs on one thread unless it follows its input's
/// threads (splits_pixels): waking a worker costs about a microsecond.
inline constexpr std::int64_t kMinParallelFlops = 500000, kMinParallelBytes = 256 << 10;
/// The one table of step kinds (schedule.cpp), indexed by StepKind.
const StepKindTraits& step_kind_traits(StepKind k);
inline std::string_view step_kind_name(StepKind k) { return step_kind_traits(k).name; }

/// One step of a plan, as reported to profilers and users.
struct StepInfo {
  StepKind kind;
  int node = -1;         ///< graph node the step belongs to
  std::vector<int> ops;  ///< analysis op indices it covers (fused ops share a step)
  std::string name;      ///< e.g. "expand+expand_bn+expand_relu6"
  ir::Shape out;
  std::int64_t madds = 0;  ///< per batch
  std::int64_t flops = 0;  ///< 2 x madds + other ops, per batch
  std::int64_t bytes = 0;  ///< inputs + output + parameters read, per batch
  /// The arithmetic the kernels run where an algorithm does less than `flops`
  /// counts (Winograd: 36 products per 16 outputs, not 144, plus its
  /// transforms); 0: `flops`. Achieved GFLOP/s, %peak and the roofline use it.
  std::int64_t kernel_flops = 0;
  [[nodiscard]] std::int64_t run_flops() const { return kernel_flops > 0 ? kernel_flops : flops; }
  /// Nothing to do: a concat whose every input was written in place, a slice
  /// read in place. Runs and profiles skip it; the latency model predicts 0.
  bool no_work = false;
  /// Runs across the plan's threads (large, or small and following the threads
  /// that wrote its input); else on the calling thread. Never with one thread.
  bool parallel = false;
};

/// Pixels per im2col / col2im tile.
inline constexpr std::int64_t kIm2colTile = 96;

/// Which output pixels of an im2col step the GEMM reads in place (implicit
/// im2col): columns [x_lo, x_hi) of rows [y_lo, y_hi), whose windows lie inside
/// the input, when that span is at least kMinImplicitWidth pixels wide (each
/// implicit row costs a pass over the weights). Every other pixel's window is
/// gathered into tiles of kIm2colTile pixels.
struct Im2colCover {
  std::int64_t x_lo = 0, x_hi = 0, y_lo = 0, y_hi = 0;
  bool implicit = false;
  [[nodiscard]] bool row_implicit(std::int64_t oy) const { return implicit && oy >= y_lo && oy < y_hi; }
  /// Pixels per image read in place.
  [[nodiscard]] std::int64_t implicit_pixels() const { return implicit ? (y_hi - y_lo) * (x_hi - x_lo) : 0; }
};
inline constexpr std::int64_t kMinImplicitWidth = 16;
Im2colCover im2col_cover(const ir::Op& op, const ir::Shape& in, const ir::Shape& out);

/// Bytes of a row band's buffers (expanded rows and depthwise output) per
/// thread: with the block's weights, within the L2 cache of current x86 cores
/// (512 KiB to 2 MiB). On a Zen 5 (1 MiB L2), 256, 512 and 1024 KiB gave
/// MobileNetV2 times within the run-to-run spread of each other
/// (docs/performance.md); the smallest also fits Zen 3's 512 KiB.
inline constexpr std::int64_t kBandBytes = 256 << 10;

/// Floats per pixel of a row band's expanded and depthwise buffers: e, or one
/// cache line more when e is a multiple of 256 (pixels a multiple of 1 KiB
/// apart put the lines a depthwise tile or a GEMM row tile reads into a few L1
/// sets, more lines than ways; the same remedy as a tensor's padded stride).
/// MobileNetV1's 7 x 7 x 1024 block fused, one thread, Zen 4: 1.6-1.9 ms ->
/// 1.0 ms (docs/performance.md, kernel revision 16).
[[nodiscard]] inline std::int64_t band_pixel_stride(std::int64_t e) {
  return e % 256 == 0 ? e + kArenaAlignFloats : e;  // one cache line, as a padded tensor's pad_c
}

/// A fused expand -> depthwise -> project chain over channel slices or row bands.
/// In row bands the two 1x1 convolutions may be grouped and a channel shuffle
/// may follow each (IGCV3's permutations): the first runs folded (the depthwise
/// takes its filters permuted, the project reads each group's channels in
/// segments, as a folded shuffle does between steps), the second on the band's
/// output before the residual add.
/// In row bands a chain may also stop at the depthwise (project -1: its output
/// read by more than a project, as squeeze-excite reads it): the band's
/// expanded rows stay in cache and the depthwise writes the step's output.
struct BottleneckShape {
  /// Analysis ops whose weights it takes (-1: absent).
  int expand = -1, bn1 = -1, dw = -1, bn2 = -1, project = -1, bn3 = -1;
  std::int64_t expand_groups = 1, project_groups = 1;
  /// Groups of the shuffle after the expand and of the one after the project (0: none).
  std::int64_t shuffle1 = 0, shuffle2 = 0;
  std::vector<std::int64_t> lo;  ///< slice boundaries over the expanded channels (slices + 1 entries)
  ir::Activation act_expand = ir::Activation::None, act_dw = ir::Activation::None, act_out = ir::Activation::None;
  ir::Op dw_op;  ///< kernel, stride, padding, dilation of the depthwise
  std::int64_t cin = 0, e = 0, cout = 0;
  ir::Shape mid_in, mid_out;  ///< expanded tensor before and after the depthwise
  bool shortcut = false;
  std::int64_t ebuf_floats = 0, dbuf_floats = 0;  ///< one slice or band, before and after the depthwise
  std::int64_t pbuf_floats = 0;                   ///< a band's project output before its shuffle (shuffle2 > 0)
  /// One thread's buffers (a band's, or the widest slice's).
  [[nodiscard]] std::int64_t buffer_floats() const { return ebuf_floats + dbuf_floats + pbuf_floats; }
  /// Row-band form: floats per pixel in a band's buffers, e or one cache line
  /// more (see band_pixel_stride).
  std::int64_t e_stride = 0;
  /// Row-band form: output rows per band (slices() is then 1); 0: channel slices.
  std::int64_t band_rows = 0;
  [[nodiscard]] std::int64_t slices() const { return static_cast<std::int64_t>(lo.size()) - 1; }
  /// Expanded rows the depthwise reads for `rows` output rows.
  [[nodiscard]] std::int64_t input_rows(std::int64_t rows) const {
    return std::min(mid_in.h, (rows - 1) * dw_op.stride + (dw_op.k_h - 1) * dw_op.dilation + 1);
  }
  /// Bands over one image's output rows.
  [[nodiscard]] std::int64_t bands() const { return band_rows > 0 ? (mid_out.h + band_rows - 1) / band_rows : 0; }
};

/// One band of a row-band bottleneck: output rows [oy0, oy1) of image img from
/// expanded rows [lo, hi), of which [from, hi) are not in the thread's buffer
/// yet (those it shares with the thread's previous band are). Without an
/// expand, from == hi: the depthwise reads the block input in place.
struct RowBand {
  std::int64_t img = 0, oy0 = 0, oy1 = 0, lo = 0, hi = 0, from = 0;
};

/// Parts a row-band bottleneck's output rows split into: one per thread.
[[nodiscard]] inline std::int64_t band_parts(const BottleneckShape& b, std::int64_t batch, std::int64_t threads) {
  return std::max<std::int64_t>(1, std::min(threads, batch * b.mid_out.h));
}

/// Part `part` of `parts` (contiguous shares of the batch's output rows) band
/// by band, in order: bands of at most band_rows rows, cut at an image's end
/// and at the part's end. The executor runs these bands and the latency model
/// prices them, so the two cannot drift apart.
template <class F>
void for_each_band(const BottleneckShape& b, std::int64_t batch, std::int64_t part, std::int64_t parts, F&& fn) {
  const std::int64_t hin = b.mid_in.h, hout = b.mid_out.h, rows = batch * hout;
  const std::int64_t sy = b.dw_op.stride, pad = b.dw_op.pad, reach = (b.dw_op.k_h - 1) * b.dw_op.dilation;
  std::int64_t have_img = -1, have_hi = 0;
  const std::int64_t end = rows * (part + 1) / parts;
  for (std::int64_t r = rows * part / parts; r < end;) {
    RowBand band;
    band.img = r / hout;
    band.oy0 = r % hout;
    band.oy1 = std::min({band.oy0 + b.band_rows, hout, band.oy0 + end - r});
    band.lo = std::max<std::int64_t>(0, band.oy0 * sy - pad);
    band.hi = std::min(hin, (band.oy1 - 1) * sy - pad + reach + 1);
    band.from = b.expand < 0 ? band.hi : band.img == have_img && band.lo < have_hi ? have_hi : band.lo;
    have_img = band.img;
    have_hi = band.hi;
    fn(band);
    r += band.oy1 - band.oy0;
  }
}

struct ScheduledStep {
  StepInfo info;
  ir::Op op;  ///< the first op (the convolution of a fused step)
  ir::Activation act = ir::Activation::None;
  std::vector<int> in;  ///< value ids
  int out = -1;
  int bn = -1;                     ///< analysis op of a batch norm folded into this convolution
  std::int64_t k_gemm = 0;         ///< GEMM depth per group
  bool narrow_groups = false;      ///< a grouped 1x1 convolution run by the table's narrow_groups
  /// The groups of a channel shuffle folded into this step (PlanOptions::fold_shuffles),
  /// or 0. A depthwise step reads the shuffle's input and runs channel c
  /// (= j * per + i, per = channels / groups) with the filter of shuffled
  /// position i * groups + j; a grouped 1x1 convolution reads that unshuffled
  /// output and takes each group's depth in `unshuffled` segments, one from
  /// each shuffle group (its weights reordered to match).
  std::int64_t unshuffled = 0;
  std::int64_t weight_floats = 0;  ///< packed weights, biases, scales
  /// A fused bottleneck's shape, else null. Held apart (360 bytes that few
  /// steps have): a schedule is built several times per keystroke, and inline
  /// it doubled every step, enough for EfficientNet-B0's step vector (128 x
  /// 704 bytes) to grow the heap past glibc's trim threshold and give the pages
  /// back on every build (Schedule::build 141 -> 32 us held apart, Zen 5 VM).
  std::shared_ptr<const BottleneckShape> bottleneck;
};

/// A tensor passed between steps, placed in the arena.
struct ScheduledValue {
  ir::Shape shape;
  std::int64_t offset = 0;  ///< floats into the arena
  int first = 0, last = 0;  ///< live steps (inclusive)
  std::string name;
  /// Inside another value's buffer: written in place into a concat's output,
  /// or a slice read in place from its source. That value, and the first channel.
  int parent = -1;
  std::int64_t channel_offset = 0;
  /// Extra floats per pixel: a padded pixel stride.
  std::int64_t pad_c = 0;
};

/// Floats between neighbouring pixels of value v: its own channels plus its
/// padding, or its parent's when it lives in the parent's buffer.
inline std::int64_t pixel_stride(const std::vector<ScheduledValue>& values, int v) {
  const ScheduledValue& val = values[static_cast<std::size_t>(v)];
  const ScheduledValue& home = val.parent >= 0 ? values[static_cast<std::size_t>(val.parent)] : val;
  return home.shape.c + home.pad_c;
}

/// How a step divides its output across the threads, and so which core's
/// cache holds each part of it afterwards.
enum class ThreadSplit {
  One,      ///< all on the calling thread: one thread, a small step, global pooling
  Rows,     ///< contiguous ranges of output pixels (or rows), one per thread
  Columns,  ///< ranges of output channels: a GEMM with too few rows for four row tiles per thread
};

/// Whether a GEMM of m rows and `cols` columns (per group) splits its column
/// panels across `threads` rather than its rows: too few rows for each thread
/// to get four row tiles, and a panel for each (each thread then streams only
/// its share of the weights; a fully connected layer has one row per image).
inline bool gemm_splits_columns(const kernels::KernelTable& kt, std::int64_t m, std::int64_t cols, int threads) {
  const std::int64_t panels = (cols + kt.gemm_nr - 1) / kt.gemm_nr;
  return threads > 1 && m < threads * 4 * kt.gemm_mr && panels >= threads;
}

/// A GEMM step's problem: m rows (the pixels; the batch for a fully connected
/// layer), its groups, and n output channels per group.
struct GemmDims {
  std::int64_t m = 0, groups = 1, n = 0;
};

/// Output pixels [out0, out1) of a step (counted across the batch) and the
/// pixels [in0, in1) of its first input it reads to compute them.
struct PixelPart {
  std::int64_t out0 = 0, out1 = 0, in0 = 0, in1 = 0;
};

struct SteadyTraffic;  // core_walk.h

struct Schedule {
  const kernels::KernelTable* kt = nullptr;
  int threads = 1;
  std::int64_t batch = 1;
  std::vector<ScheduledStep> steps;
  std::vector<ScheduledValue> values;
  std::vector<int> inputs, outputs;  ///< value ids
  std::int64_t arena_floats = 0;
  std::int64_t scratch_floats = 0;  ///< per thread
  std::int64_t bottleneck_floats = 0;
  std::int64_t weight_floats = 0;
  /// Each step's traffic between cores and caches with the buffers where the
  /// memory plan put them (steady_traffic, core_walk.h), when placing them by
  /// thread walked it already; else null (profile::core_traffic walks then).
  std::shared_ptr<const std::vector<SteadyTraffic>> traffic;

  /// Schedules a complete analysis of `graph` (memory is not limited here).
  static Result<Schedule> build(const ir::Graph& graph, const cost::Analysis& a, const PlanOptions& options = {});
  /// Arena + weights + scratch for all threads, in bytes.
  [[nodiscard]] std::int64_t total_bytes() const;
  /// The GEMM a Gemm step `st` runs (of a ConvIm2col step, its groups and n:
  /// its rows are output pixels, which this does not give).
  [[nodiscard]] GemmDims gemm_dims(const ScheduledStep& st) const;
  /// How step i's executor divides its output across the threads.
  [[nodiscard]] ThreadSplit thread_split(std::size_t i) const;
  /// Under ThreadSplit::Rows, what thread t runs of step i, as its executor
  /// splits it (ThreadPool::chunk in the step's grain: a GEMM's row tiles, 8
  /// pixels, whole output rows of each image for depthwise and pooling, the
  /// parts of an implicit-im2col convolution or a row-band bottleneck): ranges
  /// of output pixels across the batch, each with the pixels of the first input
  /// its windows read (the halo rows a neighbouring thread writes included).
  /// Empty for a thread with nothing to do.
  [[nodiscard]] std::vector<PixelPart> row_parts(std::size_t i, int t) const;
};

}  // namespace convscope::runtime
