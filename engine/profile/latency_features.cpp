/// The features of a step for its kind's linear model (docs/latency-model.md,
/// *Features per step kind*): shapes, tiles and passes as the kernels run them,
/// the lines the caches lost and those that move between cores.
#include "profile/latency_model.h"

#include "profile/calibration.h"
#include "profile/core_traffic.h"
#include "runtime/conv_transpose.h"
#include "runtime/winograd.h"

#include <algorithm>
#include <cmath>

namespace convscope::profile {
namespace {

using runtime::StepKind;

double round_up(double x, double to) { return std::ceil(x / to) * to; }

/// 0 up to lo, 1 from hi, linear in log(x) between: the share of a footprint's
/// lines a cache level loses, as the footprint grows past what it holds (a
/// shared L3 loses them gradually, to other cores and tenants as well).
double ramp(double x, double lo, double hi) {
  if (x <= lo) return 0.0;
  if (x >= hi) return 1.0;
  return std::log(x / lo) / std::log(hi / lo);
}

/// The footprint ramps of a one-row-tile GEMM's weights (bytes).
constexpr std::array<std::pair<double, double>, 5> kOneTileRamps{{{kL2FitBytes, kSharedL3FitBytes},
                                                                  {kSharedL3FitBytes, 2 * kSharedL3FitBytes},
                                                                  {2 * kSharedL3FitBytes, kL3FitBytes},
                                                                  {kL3FitBytes, 2 * kL3FitBytes},
                                                                  {2 * kL3FitBytes, 4 * kL3FitBytes}}};

/// Activations built on an exponential (a vector exp per element): several times
/// the cost of a clamp, so the steps that apply one fused pay per output element.
bool exp_based(ir::Activation a) { return a == ir::Activation::Sigmoid || a == ir::Activation::Swish; }
bool hard(ir::Activation a) { return a == ir::Activation::HSwish || a == ir::Activation::HSigmoid; }
/// A fused bottleneck's elements through activations of one family: the
/// expand's (`expanded` elements computed) and the depthwise's (`dw_out`).
double act_elements(const runtime::BottleneckShape& b, bool (*family)(ir::Activation), double expanded, double dw_out) {
  return (family(b.act_expand) ? expanded : 0.0) + (family(b.act_dw) ? dw_out : 0.0);
}

bool costly(ir::Activation a) {
  return a == ir::Activation::HSwish || a == ir::Activation::HSigmoid || a == ir::Activation::Sigmoid ||
         a == ir::Activation::Swish;
}

/// A GEMM of m rows by n columns over depth k, as the micro-kernel runs it:
/// multiply-adds over whole column panels, those of a last panel that runs
/// fewer vectors (narrow: fewer multiply-adds per broadcast of A, so a cost of
/// its own), and the passes over the packed weights (one per tile of rows).
struct GemmWork {
  double fma = 0, fma_narrow = 0, b_passes = 0;
  GemmWork& operator+=(const GemmWork& o) {
    fma += o.fma;
    fma_narrow += o.fma_narrow;
    b_passes += o.b_passes;
    return *this;
  }
  GemmWork& operator*=(double f) {
    fma *= f;
    fma_narrow *= f;
    b_passes *= f;
    return *this;
  }
  double all_fma() const { return fma + fma_narrow; }
};
GemmWork gemm_work(const kernels::KernelTable& kt, double m, double n, double k) {
  const double nr = static_cast<double>(kt.gemm_nr), full = std::floor(n / nr) * nr;
  const double last = round_up(n - full, static_cast<double>(kt.gemm_lanes));  // the last panel's vectors
  const bool narrow = last > 0 && last < nr;
  const double np = full + last;
  return {m * (narrow ? full : np) * k, narrow ? m * last * k : 0.0,
          std::ceil(m / static_cast<double>(kt.gemm_mr)) * np * k};
}

/// Depthwise work: the channels padded to two vectors of 8 (the widest tile of any table).
constexpr double kDwChannelTile = 16;

/// The work of the busiest of `parts` parts (work(part), compared by their
/// multiply-adds, fma()): the time of a step whose threads each run a part.
template <class Work, class F>
Work busiest_part(std::int64_t parts, F&& work) {
  Work busiest;
  for (std::int64_t part = 0; part < parts; ++part)
    if (Work w = work(part); w.fma() > busiest.fma()) busiest = std::move(w);
  return busiest;
}

/// A row-band bottleneck's work on its busiest thread, over the bands the
/// executor runs (runtime::for_each_band): the batch's output rows split in
/// contiguous parts (one per thread; one for a step too small to split), each
/// part's rows in bands that stop at the part's end, a band's expanded rows
/// computed except those the thread's previous band left in its buffer. Each
/// part streams the expand and project weights once per band, so two threads
/// on a 7 x 7 block each stream them all.
struct BandWork {
  GemmWork expand, project;
  double bands = 0, out_pixels = 0, expanded = 0;  ///< expanded: elements the expand computes
  double fma() const { return expand.all_fma() + project.all_fma(); }
};
BandWork band_work(const kernels::KernelTable& kt, const runtime::BottleneckShape& b, std::int64_t batch, int threads,
                   bool parallel) {
  const double e = static_cast<double>(b.e), cin = static_cast<double>(b.cin), cout = static_cast<double>(b.cout);
  const double win = static_cast<double>(b.mid_in.w), wout = static_cast<double>(b.mid_out.w);
  const double g1 = static_cast<double>(b.expand_groups), g2 = static_cast<double>(b.project_groups);
  const std::int64_t parts = runtime::band_parts(b, batch, parallel ? threads : 1);
  return busiest_part<BandWork>(parts, [&](std::int64_t part) {
    BandWork w;
    runtime::for_each_band(b, batch, part, parts, [&](const runtime::RowBand& band) {
      if (band.from < band.hi) {
        GemmWork ex = gemm_work(kt, static_cast<double>(band.hi - band.from) * win, e / g1, cin / g1);
        ex *= g1;
        w.expand += ex;
        if (b.expand >= 0) w.expanded += static_cast<double>(band.hi - band.from) * win * e;
      }
      if (b.project >= 0) {  // else expand -> depthwise only
        GemmWork pr = gemm_work(kt, static_cast<double>(band.oy1 - band.oy0) * wout, cout / g2, e / g2);
        pr *= g2;
        w.project += pr;
      }
      w.bands += 1;
      w.out_pixels += static_cast<double>(band.oy1 - band.oy0) * wout;
    });
    return w;
  });
}

}  // namespace

namespace {
std::vector<std::string> kind_feature_names(StepKind kind) {
  switch (kind) {
    case StepKind::Gemm:
      return {"fixed",
              "groups",
              "m*n*k (whole panels)",
              "m*n*k (narrow last panel)",
              "weight passes",
              "m*n (output)",
              "m*k (input)",
              "weight passes (beyond L2)",
              "m*n (sigmoid, swish fused)",
              "one row tile (network beyond L2)",
              "weights of one row tile (network 1 -> 4 MiB)",
              "weights of one row tile (network 4 -> 8 MiB)",
              "weights of one row tile (network 8 -> 16 MiB)",
              "weights of one row tile (network 16 -> 32 MiB)",
              "weights of one row tile (network 32 -> 64 MiB)",
              "pixels*vectors*cin_g (narrow groups: a permute and an FMA each)"};
    case StepKind::ConvIm2col:
      return {"fixed",         "m*n*k (whole panels)",     "m*n*k (narrow last panel)",
              "weight passes", "gathered pixels*k",        "output elements",
              "implicit rows", "weight passes (beyond L2)"};
    case StepKind::Depthwise:
      return {"fixed",
              "pixels*c*k^2 (stride 1)",
              "pixels*c*k^2 (stride >1)",
              "pixels*c (output)",
              "input elements",
              "row passes (output rows, per channel vector in column order)",
              "pixels*c (sigmoid, swish fused)",
              "pixels*c (h-swish, h-sigmoid fused)",
              "tiles*vectors (output rows x tiles per row x channel vectors)",
              "input vectors loaded (k rows x the columns of each tile)"};
    case StepKind::FusedBottleneck:
      return {"fixed",
              "slices",
              "row bands",
              "expand + project m*n*k (slices)",
              "expand + project m*n*k (row bands)",
              "expand + project weight passes",
              "depthwise pixels*c*k^2 (stride 1)",
              "depthwise pixels*c*k^2 (stride >1)",
              "output * slices",
              "input + output",
              "GEMM calls beyond one per convolution per band (groups)",
              "output elements shuffled in bands",
              "expanded and depthwise elements through sigmoid, swish",
              "expanded and depthwise elements through h-swish, h-sigmoid",
              "weight floats x bands (weights beyond L2: from L3 every band)"};
    case StepKind::ConvTranspose:
      return {"fixed", "m*n*k (n padded to vectors)", "weight passes", "output elements"};
    case StepKind::Winograd:
      return {"fixed",
              "bands",
              "tiles*36*cin*cout (m*n*k of the 36 GEMMs, whole panels)",
              "tiles*36*cin*cout (m*n*k, narrow last panel)",
              "weight passes",
              "weight passes (beyond L2)",
              "tiles*36*cin (input transform, channels padded to vectors)",
              "tiles*36*cout (output transform, channels padded to vectors)",
              "output elements",
              "output elements (sigmoid, swish, h-swish, h-sigmoid after)"};
    case StepKind::Pool:
      return {"fixed", "output pixels*k^2*blocks (a window loop per block of up to 4 vectors)",
              "output*k^2 (channels padded to vectors, stride >1)", "input elements",
              "output*k^2 (channels padded to vectors, stride 1)"};
    case StepKind::Activation:
      return {"fixed", "elements (relu, relu6)", "elements (sigmoid, h-swish, h-sigmoid)"};
    case StepKind::ScaleShift:
      return {"fixed", "elements", "elements (sigmoid, h-swish, h-sigmoid after)"};
    case StepKind::Concat:
      return {"fixed", "elements copied", "inputs copied", "pixels copied", "output lines the copies touch"};
    case StepKind::Add:
    case StepKind::Mul:
      return {"fixed", "elements", "elements (sigmoid, h-swish, h-sigmoid after)"};
    case StepKind::Shuffle:
      return {"fixed", "output elements (2 groups)", "output elements (other groups)", "output pixels"};
    case StepKind::Slice:
      return {"fixed", "output elements", "output pixels", "output elements (rows off a cache line)",
              "output pixels (written inside a wider tensor)"};
    case StepKind::Upsample:
    case StepKind::CReLU:
      return {"fixed", "output elements", "output pixels"};
    case StepKind::GlobalPool:
      return {"fixed", "input elements", "input pixels"};
  }
  return {"fixed"};
}

/// The 64-byte lines a row of `c` floats starting at float `start` of rows
/// `stride` floats apart touches: exact when every row starts alike, else the
/// mean over the sixteen ways a row can start within a line.
double lines_per_row(std::int64_t start, std::int64_t c, std::int64_t stride) {
  constexpr std::int64_t kLine = runtime::kArenaAlignFloats;  // a 64-byte line
  if (c <= 0) return 0;
  if (stride % kLine == 0) return static_cast<double>((start % kLine + c - 1) / kLine + 1);
  return static_cast<double>(c - 1) / kLine + 1;
}

/// Kinds that stream their inputs once (element-wise, data movement, pooling,
/// depthwise): an input written long before they run comes back from L3 or DRAM.
bool streams_inputs(StepKind kind) {
  return runtime::step_kind_traits(kind).splits_pixels || kind == StepKind::GlobalPool;
}

/// Kinds whose windows read rows beyond a thread's own pixels (Schedule::row_parts):
/// the cross-core bytes of those halo rows are a feature of their own (model v31).
bool reads_halos(StepKind kind) {
  return kind == StepKind::Depthwise || kind == StepKind::Pool || kind == StepKind::ConvIm2col ||
         kind == StepKind::Winograd || kind == StepKind::FusedBottleneck || kind == StepKind::Upsample;
}

/// A kind's features of its shape (the weight features come after these).
/// Kinds that stream their inputs count the input elements L2 and L3 lost
/// before the step reads them (inputs_missing_from_cache), and the output
/// elements whose arena lines they lost before the step writes them
/// (core_traffic, model v24).
/// A kind that splits its pixels across threads has its work features counted
/// on the busiest thread and one more: running across the threads at all (the
/// hand-off), since a small step of it may run on one thread or on all.
std::vector<std::string> shape_feature_names(StepKind kind) {
  auto names = kind_feature_names(kind);
  if (streams_inputs(kind)) {
    names.emplace_back("input elements L2 lost before the read");
    names.emplace_back("input elements L3 lost before the read");
    names.emplace_back("output elements L2 lost before the write");
    names.emplace_back("output elements L3 lost before the write");
  }
  if (runtime::step_kind_traits(kind).splits_pixels) names.emplace_back("across threads (the hand-off)");
  names.emplace_back("bytes read from lines another core wrote (busiest thread)");
  names.emplace_back("bytes written over lines another core holds (busiest thread)");
  if (reads_halos(kind)) names.emplace_back("bytes of halo rows read from lines another core wrote (busiest thread)");
  return names;
}

/// Input elements of step i (those it reads, not those written into its output
/// in place) that L2 (kL2FitBytes) and L3 (kL3FitBytes) no longer hold when step i reads them: a
/// skip connection's encoder features, a residual's block input after a large
/// expansion, a tensor larger than the cache that the step before wrote (model
/// v20). Beyond L2's worth their lines come back from L3, beyond L3's from DRAM.
/// With `traffic` bytes of other steps between its writer and the read, an
/// LRU cache of C bytes keeps the last free = C - traffic bytes written of a tensor of
/// size S; reading it from the start, the S - free misses evict that tail
/// oldest first, so max(0, 2 free - S) bytes hit (all of S when S <= free).
/// `footprint`: the run's weights and arena (bytes), step_features'.
struct Missing {
  double l2 = 0, l3 = 0;
};
Missing inputs_missing_from_cache(const runtime::Schedule& s, std::size_t i, double footprint) {
  const runtime::ScheduledStep& st = s.steps[i];
  Missing out;
  for (int v : st.in) {
    const runtime::ScheduledValue& val = s.values[static_cast<std::size_t>(v)];
    if (val.parent == st.out) continue;  // written in place: never read
    // The step that wrote v's data (through views, which copy nothing).
    int w = v;
    std::size_t j = i;
    double traffic = 0;
    bool written = false;
    while (j-- > 0) {
      const runtime::ScheduledStep& prev = s.steps[j];
      if (prev.out != w) {
        if (!prev.info.no_work) traffic += static_cast<double>(prev.info.bytes);  // the whole batch's
        continue;
      }
      if (!prev.info.no_work) {
        written = true;
        // The writer's weights stream through the caches while it writes v, its
        // first lines early and its last at the end: on average half of them
        // after a line of v (model v25).
        traffic += 0.5 * 4.0 * static_cast<double>(prev.weight_floats);
        break;
      }
      w = prev.in[0];  // a view: follow it to its source
    }
    // A graph input was written before the previous run: the rest of that run
    // (this step and those after it) passed through the caches since. A one-step
    // probe on a 6 MB input reads it from L3 on every run, as a network reads a
    // tensor written long before.
    if (!written)
      for (std::size_t k = i; k < s.steps.size(); ++k)
        if (!s.steps[k].info.no_work) traffic += static_cast<double>(s.steps[k].info.bytes);
    const double elements = static_cast<double>(s.batch) * static_cast<double>(val.shape.elements());
    const double size = 4 * elements;
    // An LRU cache loses lines to distinct data only: no more passes through it
    // than the rest of the run's weights and arena, however often its steps
    // reread them (model v46: a network that fits a level loses nothing from it).
    traffic = std::min(traffic, std::max(0.0, footprint - size));
    const auto missed = [&](double cache) {
      const double free = cache - traffic;
      const double hits = size <= free ? size : std::max(0.0, 2 * free - size);
      return (size - hits) / 4;
    };
    out.l2 += missed(kL2FitBytes);
    out.l3 += missed(kL3FitBytes);
  }
  return out;
}

/// The share of a step's work done by its busiest thread: 1 on one thread; a
/// step across the threads splits its pixels (in grains of 8) or its output
/// rows in contiguous ranges, as ThreadPool::parallel_for does.
double busiest_share(const runtime::Schedule& s, const runtime::ScheduledStep& st) {
  if (!st.info.parallel || s.threads <= 1) return 1.0;
  const ir::Shape& out = s.values[static_cast<std::size_t>(st.out)].shape;
  const ir::Shape& in = s.values[static_cast<std::size_t>(st.in[0])].shape;
  const bool by_rows = st.info.kind == StepKind::Depthwise || st.info.kind == StepKind::Pool ||
                       st.info.kind == StepKind::Upsample || st.info.kind == StepKind::GlobalPool;
  const std::int64_t n = st.info.kind == StepKind::GlobalPool ? in.h
                         : by_rows ? (st.info.kind == StepKind::Upsample ? s.batch : 1) * out.h
                                   : s.batch * out.h * out.w;
  const std::int64_t grain = by_rows ? 1 : 8, units = (n + grain - 1) / grain;
  const std::int64_t parts = std::min<std::int64_t>(s.threads, units);
  if (n <= 0 || parts <= 1) return 1.0;
  return std::min(1.0, static_cast<double>((units + parts - 1) / parts * grain) / static_cast<double>(n));
}
}  // namespace

bool has_weights(StepKind kind) {
  switch (kind) {
    case StepKind::Gemm:
    case StepKind::ConvIm2col:
    case StepKind::Depthwise:
    case StepKind::ConvTranspose:
    case StepKind::ScaleShift:
    case StepKind::FusedBottleneck:
    case StepKind::Winograd:  // model v49: 36 transformed taps per filter, 4x a 3x3's floats
      return true;
    default:
      return false;
  }
}

std::vector<std::string> feature_names(StepKind kind, bool with_weights) {
  auto names = shape_feature_names(kind);
  if (with_weights) {
    names.push_back("weights (network beyond L2)");
    names.push_back("weights (network beyond L3)");
  }
  return names;
}

StepFeatures step_features(const runtime::Schedule& s, std::size_t i) {
  return step_features(s, i, core_traffic(s).at(i));
}

std::vector<StepFeatures> schedule_features(const runtime::Schedule& s) {
  const std::vector<CoreTraffic> traffic = core_traffic(s);
  std::vector<StepFeatures> out;
  out.reserve(s.steps.size());
  for (std::size_t i = 0; i < s.steps.size(); ++i) out.push_back(step_features(s, i, traffic[i]));
  return out;
}

StepFeatures step_features(const runtime::Schedule& s, std::size_t i, const CoreTraffic& traffic) {
  const runtime::ScheduledStep& st = s.steps.at(i);
  const auto shape = [&](int v) { return s.values[static_cast<std::size_t>(v)].shape; };
  const double n = static_cast<double>(s.batch);
  const kernels::KernelTable& kt = *s.kt;
  const ir::Shape out = shape(st.out);
  // A whole run's weights and activations: what passes through the caches between
  // two runs of this step.
  const double footprint = static_cast<double>(s.weight_floats + s.arena_floats) * 4.0;
  const double out_el = n * static_cast<double>(out.elements());
  const double out_px = n * static_cast<double>(out.h * out.w);  // data steps loop over pixels
  StepFeatures f;
  f.kind = st.info.kind;
  std::vector<double> x{1.0};
  switch (st.info.kind) {
    case StepKind::Gemm: {
      const runtime::GemmDims d = s.gemm_dims(st);
      const auto g = static_cast<double>(d.groups), m = static_cast<double>(d.m), nn = static_cast<double>(d.n);
      const auto k = static_cast<double>(st.k_gemm);
      const GemmWork w = gemm_work(kt, m, nn, k);
      // Passes over packed weights that do not stay in L2 stream them from L3.
      const bool b_beyond_l2 = static_cast<double>(st.weight_floats) * 4.0 > kL2FitBytes / 2;
      // A GEMM of one row tile (a fully connected layer, squeeze-excite's) has no
      // multiply-adds to hide its weights' fetch behind: where the network pushed
      // them out of the caches it waits for every line.
      const bool one_tile = m <= static_cast<double>(kt.gemm_mr);
      const double wt = static_cast<double>(st.weight_floats);
      // Narrow groups run no GEMM tiles: one permute and one FMA per input of a
      // group, per pixel and vector of output channels.
      const double nw = st.narrow_groups ? 0.0 : 1.0;
      const double narrow =
          st.narrow_groups ? m * std::ceil(static_cast<double>(st.op.out_c) / static_cast<double>(kt.gemm_lanes)) * k
                           : 0.0;
      x.insert(x.end(), {nw * g, nw * g * w.fma, nw * g * w.fma_narrow, nw * g * w.b_passes, g * m * nn, g * m * k,
                         b_beyond_l2 ? nw * g * w.b_passes : 0.0, exp_based(st.act) ? g * m * nn : 0.0,
                         one_tile && footprint > kL2FitBytes ? 1.0 : 0.0});
      // Its weights' cost rises with the network's footprint piecewise linearly
      // in log(footprint), knots at 1, 4, 8, 16, 32 and 64 MiB: where a shared L3
      // stops keeping them moves with the machine and its tenants, and can be
      // sharp (Zen 4 VM: a classifier's 4 MiB at 54 GB/s in MobileNetV3-Small's
      // 10 MiB, at 17 GB/s in EfficientNet-B0's 21 MiB; model v43).
      for (const auto& [lo, hi] : kOneTileRamps) x.push_back(one_tile ? wt * ramp(footprint, lo, hi) : 0.0);
      x.push_back(narrow);
      break;
    }
    case StepKind::ConvIm2col: {
      const ir::Shape in = shape(st.in[0]);
      const runtime::Im2colCover c = runtime::im2col_cover(st.op, in, out);
      const double g = static_cast<double>(st.op.groups), nn = static_cast<double>(st.op.out_c) / g;
      const double k = static_cast<double>(st.k_gemm);
      const double rows = c.implicit ? static_cast<double>(c.y_hi - c.y_lo) : 0.0;
      const double implicit_px = static_cast<double>(c.implicit_pixels());
      const double gathered = static_cast<double>(out.h * out.w) - implicit_px;
      GemmWork w = gemm_work(kt, static_cast<double>(c.x_hi - c.x_lo), nn, k);
      w *= rows;
      w += gemm_work(kt, gathered, nn, k);
      const bool b_beyond_l2 = static_cast<double>(st.weight_floats) * 4.0 > kL2FitBytes / 2;
      x.insert(x.end(), {n * g * w.fma, n * g * w.fma_narrow, n * g * w.b_passes, n * g * gathered * k, out_el,
                         n * g * rows, b_beyond_l2 ? n * g * w.b_passes : 0.0});
      break;
    }
    case StepKind::Depthwise: {
      const ir::Shape in = shape(st.in[0]);
      const double work = n * static_cast<double>(out.h * out.w) *
                          round_up(static_cast<double>(out.c), kDwChannelTile) *
                          static_cast<double>(st.op.k_h * st.op.k_w);
      const bool s1 = st.op.stride == 1;
      // The shapes dw_rows runs (square kernels, no dilation); the others go pixel by pixel.
      const kernels::DwRowWalk walk =
          st.op.dilation == 1 && st.op.k_h == st.op.k_w
              ? kernels::dw_walk(kt, static_cast<int>(st.op.k_h), static_cast<int>(st.op.stride), in.w,
                                 runtime::pixel_stride(s.values, st.in[0]), out.w)
              : kernels::DwRowWalk{};
      const bool columns = walk.columns;
      const double row_passes =
          n * static_cast<double>(out.h) *
          (columns ? std::ceil(static_cast<double>(out.c) / static_cast<double>(kt.gemm_lanes)) : 1.0);
      const bool hard_act = st.act == ir::Activation::HSwish || st.act == ir::Activation::HSigmoid;
      // Model v22: a row's tiles each load their input columns and store their
      // pixels; narrow ones (the 2 + 1 after 8 + 8 of a 19-pixel row, or all
      // tiles where the input crowds L1) do fewer multiply-adds per load.
      const std::int64_t tiles = walk.tiles(out.w);
      const double row_vectors =
          n * static_cast<double>(out.h) * std::ceil(static_cast<double>(out.c) / static_cast<double>(kt.gemm_lanes));
      const double tile_vectors = row_vectors * static_cast<double>(tiles);
      // Each tile loads k input rows of its columns (out.w * stride over a row,
      // plus k - stride more per tile): narrow tiles and large kernels load more
      // per multiply-add.
      const double st_w = static_cast<double>(st.op.stride), kw = static_cast<double>(st.op.k_w);
      const double loaded = row_vectors * static_cast<double>(st.op.k_h) *
                            (static_cast<double>(out.w) * st_w + static_cast<double>(tiles) * std::max(0.0, kw - st_w));
      x.insert(x.end(), {s1 ? work : 0.0, s1 ? 0.0 : work, out_el, n * static_cast<double>(in.elements()), row_passes,
                         exp_based(st.act) ? out_el : 0.0, hard_act ? out_el : 0.0, tile_vectors, loaded});
      break;
    }
    case StepKind::FusedBottleneck: {
      const runtime::BottleneckShape& b = *st.bottleneck;
      const double p_in = n * static_cast<double>(b.mid_in.h * b.mid_in.w);
      const double p_out = n * static_cast<double>(b.mid_out.h * b.mid_out.w);
      const double kk = static_cast<double>(b.dw_op.k_h * b.dw_op.k_w);
      const double cin = static_cast<double>(b.cin), cout = static_cast<double>(b.cout);
      GemmWork expand, project;
      double dw = 0, slices = 0, bands = 0;
      double io_share = 1.0;  // of the block's input and output read and written
      // Elements the expand and the depthwise compute (their activations run over them).
      double expanded = b.expand >= 0 ? p_in * static_cast<double>(b.e) : 0.0;
      double dw_out = p_out * static_cast<double>(b.e);
      if (b.band_rows > 0) {
        const BandWork w = band_work(kt, b, s.batch, s.threads, st.info.parallel);
        expand = w.expand;
        project = w.project;
        dw = w.out_pixels * round_up(static_cast<double>(b.e), kDwChannelTile) * kk;
        bands = w.bands;
        io_share = w.out_pixels / p_out;
        expanded = w.expanded;
        dw_out = w.out_pixels * static_cast<double>(b.e);
      } else {
        for (std::int64_t q = 0; q < b.slices(); ++q) {
          const double es =
              static_cast<double>(b.lo[static_cast<std::size_t>(q) + 1] - b.lo[static_cast<std::size_t>(q)]);
          expand += gemm_work(kt, p_in, es, cin);
          dw += p_out * round_up(es, kDwChannelTile) * kk;
          project += gemm_work(kt, p_out, cout, es);
        }
        slices = static_cast<double>(b.slices());
      }
      const bool s1 = b.dw_op.stride == 1;
      const double mnk = expand.all_fma() + project.all_fma();
      // expand_groups and project_groups are 1 where the chain has no such convolution.
      const double extra_calls = bands * static_cast<double>(b.expand_groups - 1 + b.project_groups - 1);
      // Weights that do not stay in L2 beside a band's buffers come back from
      // L3 for every band (a separable block's 512 x 512 pointwise, 1 MiB),
      // where the op-by-op GEMM keeps a block of them in L2 over all its rows.
      const double wt = static_cast<double>(st.weight_floats);
      const double l3_weights = wt * 4.0 > kL2FitBytes / 2 ? bands * wt : 0.0;
      const double passes = expand.b_passes + project.b_passes;
      x.insert(x.end(), {slices, bands, slices > 0 ? mnk : 0.0, bands > 0 ? mnk : 0.0, passes, s1 ? dw : 0.0,
                         s1 ? 0.0 : dw, p_out * cout * std::max(slices, 1.0) * io_share,
                         (p_in * cin + out_el * (b.shortcut ? 2.0 : 1.0)) * io_share, extra_calls,
                         b.shuffle2 > 0 ? out_el * io_share : 0.0, act_elements(b, exp_based, expanded, dw_out),
                         act_elements(b, hard, expanded, dw_out), l3_weights});
      break;
    }
    case StepKind::Winograd: {
      // Per band: the input transform, 36 GEMMs of the band's tiles, the output
      // transform (runtime/winograd.h); the busiest thread's bands.
      const ir::Shape in = shape(st.in[0]);
      const runtime::WinogradShape w = runtime::winograd_shape(out, in.c, kt.gemm_lanes);
      const std::int64_t parts = runtime::winograd_parts(w, s.batch, st.info.parallel ? s.threads : 1);
      const double vec_in = round_up(static_cast<double>(in.c), static_cast<double>(kt.gemm_lanes));
      const double vec_out = round_up(static_cast<double>(out.c), static_cast<double>(kt.gemm_lanes));
      struct PartWork {
        GemmWork gemm;
        double bands = 0, tiles = 0, rows = 0;
        double fma() const { return gemm.all_fma(); }
      };
      const PartWork busiest = busiest_part<PartWork>(parts, [&](std::int64_t part) {
        PartWork pw;
        runtime::for_each_winograd_band(w, s.batch, part, parts, [&](std::int64_t, std::int64_t ty0, std::int64_t ty1) {
          const double band_tiles = static_cast<double>((ty1 - ty0) * w.tiles_w);
          GemmWork g = gemm_work(kt, band_tiles, static_cast<double>(out.c), static_cast<double>(in.c));
          g *= static_cast<double>(kernels::kWinogradPositions);
          pw.gemm += g;
          pw.bands += 1;
          pw.tiles += band_tiles;
          pw.rows += static_cast<double>(std::min(out.h, ty1 * 4) - ty0 * 4);
        });
        return pw;
      });
      const GemmWork& g = busiest.gemm;
      const double out_share = busiest.rows / (n * static_cast<double>(out.h));
      const bool b_beyond_l2 = static_cast<double>(st.weight_floats) * 4.0 > kL2FitBytes / 2;
      const double positions = static_cast<double>(kernels::kWinogradPositions);
      x.insert(x.end(), {busiest.bands, g.fma, g.fma_narrow, g.b_passes, b_beyond_l2 ? g.b_passes : 0.0,
                         busiest.tiles * positions * vec_in, busiest.tiles * positions * vec_out, out_el * out_share,
                         costly(st.act) ? out_el * out_share : 0.0});
      break;
    }
    case StepKind::ConvTranspose: {
      // One GEMM per output phase and group (runtime/conv_transpose.h).
      const ir::Shape in = shape(st.in[0]);
      const double g = static_cast<double>(st.op.groups), cout_g = static_cast<double>(st.op.out_c) / g;
      const std::int64_t cin_g = in.c / st.op.groups;
      double fma = 0, b_passes = 0;
      for (const auto& py : runtime::transpose_phases(st.op.k_h, st.op.stride, st.op.pad, out.h))
        for (const auto& px : runtime::transpose_phases(st.op.k_w, st.op.stride, st.op.pad, out.w)) {
          const double depth = static_cast<double>(py.taps * px.taps * cin_g);
          if (depth == 0) continue;
          const GemmWork w = gemm_work(kt, n * static_cast<double>(py.n * px.n), cout_g, depth);
          fma += g * w.all_fma();
          b_passes += g * w.b_passes;
        }
      x.insert(x.end(), {fma, b_passes, out_el});
      break;
    }
    case StepKind::Pool: {
      // Each window is set up per pixel, then its taps run over the channels in vectors.
      // At stride 1 (an inception's pooling branch) neighbouring windows share all
      // but one column of their taps: a cost per tap of its own.
      const ir::Shape in = shape(st.in[0]);
      const double kk = static_cast<double>(st.op.k_h * st.op.k_w);
      const double vec_c = round_up(static_cast<double>(out.c), static_cast<double>(kt.gemm_lanes));
      const double taps = out_px * vec_c * kk;
      const bool s1 = st.op.stride == 1;
      x.insert(x.end(), {out_px * kk * static_cast<double>(kt.pool_loops(out.c)), s1 ? 0.0 : taps,
                         n * static_cast<double>(in.elements()), s1 ? taps : 0.0});
      break;
    }
    case StepKind::Activation:
      x.insert(x.end(), {costly(st.act) ? 0.0 : out_el, costly(st.act) ? out_el : 0.0});
      break;
    case StepKind::ScaleShift:
    case StepKind::Add:
    case StepKind::Mul:
      x.insert(x.end(), {out_el, costly(st.act) ? out_el : 0.0});
      break;
    case StepKind::Concat: {
      // Copies go pixel by pixel, each a part of a wider output row: a copy of
      // few channels (a U-Net's 3-channel input beside 32 decoder channels)
      // touches a cache line or two of the output per pixel for 12 bytes, a
      // line the step before wrote and L2 may no longer hold (model v28).
      double copied = 0, inputs = 0, pixels = 0, lines = 0;
      const std::int64_t out_stride = runtime::pixel_stride(s.values, st.out);
      std::int64_t start = 0;  // the input's first channel in the output
      for (int v : st.in) {
        const std::int64_t c = shape(v).c;
        if (s.values[static_cast<std::size_t>(v)].parent != st.out) {
          copied += n * static_cast<double>(shape(v).elements());
          inputs += 1;
          pixels += out_px;
          lines += out_px * lines_per_row(start, c, out_stride);
        }
        start += c;
      }
      x.insert(x.end(), {copied, inputs, pixels, lines});  // none at all: a step with no work, predicted 0
      break;
    }
    case StepKind::GlobalPool: {
      const ir::Shape in = shape(st.in[0]);
      x.insert(x.end(), {n * static_cast<double>(in.elements()), n * static_cast<double>(in.h * in.w)});
      break;
    }
    case StepKind::Shuffle: {
      // Two groups interleave two halves (a vectorised loop); any other count is
      // a transpose (4 x 4 register blocks where groups and channels per group
      // allow, else element by element), dearer per element.
      const bool halves = st.op.groups == 2;
      x.insert(x.end(), {halves ? out_el : 0.0, halves ? 0.0 : out_el, out_px});
      break;
    }
    case StepKind::Slice: {  // a view of its source is a step with no work, predicted 0
      // ShuffleNet V2's halves of 116 or 232 channels start off a 64-byte line
      // (model v27): every pixel's copy loads across lines and ends in a masked tail.
      // And its left half is copied into the concat's buffer, every pixel's row
      // a part of a wider one: in networks such copies took 1.5-2x what the
      // one-block probes, writing a tensor of their own, predicted. Per pixel
      // since model v47 (a row's partial first and last lines, whatever its
      // length): per element, the probe networks' rows of 8-24 floats priced
      // ShuffleNet V2's of 58-232 at 1.6x their time.
      constexpr std::int64_t line = runtime::kArenaAlignFloats;  // a 64-byte line
      const std::int64_t out_stride = runtime::pixel_stride(s.values, st.out);
      const bool off = st.op.slice_start % line != 0 || runtime::pixel_stride(s.values, st.in[0]) % line != 0 ||
                       out_stride % line != 0;
      x.insert(x.end(), {out_el, out_px, off ? out_el : 0.0, out_stride > out.c ? out_px : 0.0});
      break;
    }
    case StepKind::Upsample:
    case StepKind::CReLU:
      x.insert(x.end(), {out_el, out_px});
      break;
  }
  if (streams_inputs(st.info.kind)) {
    const Missing in = inputs_missing_from_cache(s, i, footprint);
    x.insert(x.end(), {in.l2, in.l3, traffic.out_l2_lost, traffic.out_l3_lost});
  }
  if (runtime::step_kind_traits(st.info.kind).splits_pixels) {
    const double share = busiest_share(s, st);
    for (std::size_t j = 1; j < x.size(); ++j) x[j] *= share;
    f.cross_core |= 1u << x.size();
    x.push_back(st.info.parallel && s.threads > 1 ? 1.0 : 0.0);
  }
  const bool halos = reads_halos(st.info.kind);
  const std::size_t cross_first = x.size();
  x.push_back(traffic.read_bytes + (halos ? 0.0 : traffic.halo_read_bytes));
  x.push_back(traffic.write_bytes);
  if (halos) x.push_back(traffic.halo_read_bytes);
  for (std::size_t j = cross_first; j < x.size(); ++j) f.cross_core |= 1u << j;
  // Weights read where a whole network's footprint pushed them: its weights and
  // activations between two runs of this step either fit in L2, in L3, or not.
  if (has_weights(st.info.kind)) {
    const double w = static_cast<double>(st.weight_floats);
    x.push_back(footprint > kL2FitBytes ? w : 0.0);
    x.push_back(footprint > kL3FitBytes ? w : 0.0);
  }
  f.n = static_cast<int>(x.size());
  std::copy(x.begin(), x.end(), f.x.begin());
  return f;
}

}  // namespace convscope::profile
