#include "profile/latency_model.h"

#include "profile/calibration.h"
#include "profile/core_traffic.h"
#include "profile/stats.h"
#include "runtime/conv_transpose.h"
#include "runtime/winograd.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

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
BandWork band_work(const kernels::KernelTable& kt, const runtime::BottleneckShape& b, std::int64_t batch,
                   int threads, bool parallel) {
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
struct Missing {
  double l2 = 0, l3 = 0;
};
Missing inputs_missing_from_cache(const runtime::Schedule& s, std::size_t i) {
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
    traffic = std::min(traffic, std::max(0.0, static_cast<double>(s.weight_floats + s.arena_floats) * 4.0 - size));
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
      const std::int64_t k = st.op.k_h;  // the shapes dw_rows runs (the others go pixel by pixel)
      const bool columns =
          kt.dw_columns && k == st.op.k_w && (k == 3 || k == 5 || k == 7) && st.op.stride <= 2 && st.op.dilation == 1;
      const double row_passes =
          n * static_cast<double>(out.h) *
          (columns ? std::ceil(static_cast<double>(out.c) / static_cast<double>(kt.gemm_lanes)) : 1.0);
      const bool hard_act = st.act == ir::Activation::HSwish || st.act == ir::Activation::HSigmoid;
      // Model v22: a row's tiles each load their input columns and store their
      // pixels; narrow ones (the 2 + 1 after 8 + 8 of a 19-pixel row, or all
      // tiles where the input crowds L1) do fewer multiply-adds per load.
      const std::int64_t tiles = st.op.dilation == 1 && st.op.k_h == st.op.k_w
                                     ? kernels::dw_row_tiles(kt, static_cast<int>(k), static_cast<int>(st.op.stride),
                                                             in.w, runtime::pixel_stride(s.values, st.in[0]), out.w)
                                     : out.w;
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
    const Missing in = inputs_missing_from_cache(s, i);
    x.insert(x.end(), {in.l2, in.l3, traffic.out_l2_lost, traffic.out_l3_lost});
  }
  if (runtime::step_kind_traits(st.info.kind).splits_pixels) {
    const double share = busiest_share(s, st);
    for (std::size_t j = 1; j < x.size(); ++j) x[j] *= share;
    x.push_back(st.info.parallel && s.threads > 1 ? 1.0 : 0.0);
  }
  const bool halos = reads_halos(st.info.kind);
  x.push_back(traffic.read_bytes + (halos ? 0.0 : traffic.halo_read_bytes));
  x.push_back(traffic.write_bytes);
  if (halos) x.push_back(traffic.halo_read_bytes);
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

LatencyModel LatencyModel::per_step(double ns) {
  LatencyModel m;
  m.cpu = m.isa = "none";
  m.measured_at = "never (a fixed cost per step)";
  for (int k = 0; k < runtime::kStepKinds; ++k) {
    const auto kind = static_cast<StepKind>(k);
    const std::size_t n = feature_names(kind, has_weights(kind)).size();
    KindFit& f = m.fits[static_cast<std::size_t>(k)];
    f.coef.assign(n, 0.0);
    f.coef[0] = ns;
    f.lo.assign(n, 0.0);
    f.hi.assign(n, std::numeric_limits<double>::max());
  }
  return m;
}

StepPrediction LatencyModel::predict(const StepFeatures& f) const {
  const KindFit& k = fits[static_cast<std::size_t>(f.kind)];
  StepPrediction p;
  if (k.coef.size() != static_cast<std::size_t>(f.n)) return p;
  p.fitted = true;
  for (int j = 0; j < f.n; ++j) p.ns += k.coef[static_cast<std::size_t>(j)] * f.x[static_cast<std::size_t>(j)];
  // Extrapolated: a feature outside the calibrated range by more than half
  // again that makes a tenth of the prediction or more. (EfficientNet's
  // squeeze-excite GEMMs fuse a swish over 20-1152 outputs where the probes
  // fused it over 15,360 or more: a few nanoseconds of a 1-7 us step, which
  // marked 32 of its steps.)
  for (int j = 0; j < f.n; ++j) {
    const auto u = static_cast<std::size_t>(j);
    const bool outside = f.x[u] > k.hi[u] * 1.5 || (f.x[u] > 0 && f.x[u] < k.lo[u] / 1.5);
    if (outside && std::abs(k.coef[u] * f.x[u]) >= 0.1 * std::abs(p.ns)) p.extrapolated = true;
  }
  return p;
}

NetworkPrediction LatencyModel::predict(const runtime::Schedule& s) const {
  NetworkPrediction r;
  r.steps.reserve(s.steps.size());
  const std::vector<StepFeatures> features = schedule_features(s);
  double working = 0;
  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    if (s.steps[i].info.no_work) {  // skipped by runs
      r.steps.push_back(StepPrediction{0.0, true, false});
      continue;
    }
    const StepPrediction p = predict(features[i]);
    r.total_ns += p.ns;
    r.extrapolated += p.extrapolated ? 1 : 0;
    r.unfitted += p.fitted ? 0 : 1;
    r.steps.push_back(p);
    working += 1;
  }
  r.total_ns = r.total_ns * network_factor + network_step_ns * working;
  return r;
}

std::string LatencyModel::describe() const {
  return "latency model v" + std::to_string(version) + ", " + cpu + " / " + isa + ", " + std::to_string(threads) +
         (threads == 1 ? " thread, " : " threads, ") + "calibrated " + measured_at;
}

std::string LatencyModel::mismatch(const std::string& cpu_model, const std::string& isa_name, int n_threads) const {
  if (version != kLatencyModelVersion)
    return "it was made by model version " + std::to_string(version) + ", this is version " +
           std::to_string(kLatencyModelVersion);
  if (kernel_revision != kernels::kKernelRevision)
    return "it timed kernel revision " + std::to_string(kernel_revision) + ", these are revision " +
           std::to_string(kernels::kKernelRevision);
  if (cpu != cpu_model) return "it was calibrated on '" + cpu + "', this CPU is '" + cpu_model + "'";
  if (isa != isa_name) return "it timed the " + isa + " kernels, these are " + isa_name;
  if (threads != n_threads)
    return "it was calibrated with " + std::to_string(threads) + " threads, not " + std::to_string(n_threads);
  return "";
}

namespace {
/// The cost of one unit of feature `j` measured by differences: neighbouring
/// one-block probes of a kind whose features differ in `j` alone (the
/// calibration times such pairs back to back, e.g. a convolution with and
/// without a fused swish). Within a pair the machine's speed and every other
/// feature are the same, so the difference is the feature's own cost; in a
/// least-squares fit over networks it is confounded with whatever else the
/// networks that use it have in common (on Zen 5 the fit put a fused swish at
/// 0.39 ns per element, the pairs at 0.16). Nothing when fewer than 5 pairs.
std::optional<double> paired_cost(const std::vector<Sample>& samples, int kind, int j) {
  std::vector<double> d;
  const auto u = static_cast<std::size_t>(j);
  for (std::size_t i = 0; i + 1 < samples.size(); ++i) {
    const Sample &a = samples[i], &b = samples[i + 1];
    if (a.in_network || b.in_network || static_cast<int>(a.f.kind) != kind || a.f.kind != b.f.kind || a.f.n != b.f.n ||
        a.ns <= 0 || b.ns <= 0 || a.f.x[u] == b.f.x[u])
      continue;
    bool alike = true;
    for (std::size_t q = 0; q < static_cast<std::size_t>(a.f.n); ++q) alike = alike && (q == u || a.f.x[q] == b.f.x[q]);
    if (alike) d.push_back((a.ns - b.ns) / (a.f.x[u] - b.f.x[u]));
  }
  if (d.size() < 5) return std::nullopt;
  std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(d.size() / 2), d.end());
  return std::max(0.0, d[d.size() / 2]);
}

bool is_madds_feature(StepKind kind, int j) {
  const auto names = shape_feature_names(kind);  // the weight features come after these
  const auto u = static_cast<std::size_t>(j);
  return u < names.size() && names[u].find("m*n*k") != std::string::npos;
}

/// The feature of a kind that paired probes measure (a fused exp), or -1.
int paired_feature(StepKind kind) {
  const auto names = shape_feature_names(kind);
  for (std::size_t j = 0; j < names.size(); ++j)
    if (names[j].find("swish fused") != std::string::npos) return static_cast<int>(j);
  return -1;
}
}  // namespace

void fit(LatencyModel& m, const std::vector<Sample>& samples) {
  for (int kind = 0; kind < runtime::kStepKinds; ++kind) {
    std::vector<const Sample*> rows, in_networks;
    for (const auto& s : samples)
      if (static_cast<int>(s.f.kind) == kind && s.ns > 0) {
        rows.push_back(&s);
        if (s.in_network) in_networks.push_back(&s);
      }
    // Steps timed inside networks ran where a network runs them (after the step
    // that wrote their input, with worker threads and caches as a run leaves
    // them); one-block probes fill in the kinds and shapes networks lack.
    // On Zen 5 this moved the validation networks within 10 % from 84 to 92 %
    // at one thread and from 21 to 29 % at two.
    // Only when the networks cover every feature the probes do: a shuffle of
    // four groups, say, appears in probes but in no probe network.
    const auto covers_all = [&] {
      for (int j = 0; j < rows.front()->f.n; ++j) {
        const auto u = static_cast<std::size_t>(j);
        const auto uses = [u](const Sample* r) { return r->f.x[u] != 0; };
        if (std::any_of(rows.begin(), rows.end(), uses) && std::none_of(in_networks.begin(), in_networks.end(), uses))
          return false;
      }
      return true;
    };
    if (!rows.empty() && in_networks.size() >= 3 * static_cast<std::size_t>(rows.front()->f.n) && covers_all())
      rows = in_networks;
    KindFit& k = m.fits[static_cast<std::size_t>(kind)];
    k = KindFit{};
    if (rows.empty()) continue;
    const int nf = rows.front()->f.n;
    const auto nr = static_cast<Eigen::Index>(rows.size());
    // Rows weighted by 1 / measured^p: p = 1 would be least squares on the
    // relative error (every step counts alike), p = 0 on the absolute error.
    // p = 3/4 lets the long steps, which make up a network's time, count more
    // while keeping short steps right (on Zen 5 it put 87 to 92 % of the
    // validation networks within 10 %, p = 1 66 to 79 %). Columns scaled to
    // unit norm, so features of very different magnitude (a fixed cost of 1
    // and 10^9 multiply-adds) condition the solve alike.
    constexpr double power = 0.75;
    // A feature measured by paired probes is taken out of the fit: its cost is
    // subtracted from every row and its column left empty.
    const int pj = paired_feature(static_cast<StepKind>(kind));
    double pcost = 0;  // ns per unit of feature pj, when paired probes measured it
    bool pc = false;
    if (pj >= 0)
      if (const auto c = paired_cost(samples, kind, pj)) {
        pcost = *c;
        pc = true;
      }
    // Multiply-add features cost at least what the FMA peak allows: their
    // coefficient is fitted as floor + a non-negative rest. Without the floor a
    // noisy calibration traded the multiply-adds against the weight passes and
    // priced MobileNetV1's large 1x1 convolutions above the peak (125 GFLOP/s
    // against a measured 118 on a Zen 4), 15-25 % too fast.
    std::vector<double> floor(static_cast<std::size_t>(nf), 0.0);
    if (m.peak_gflops > 0)
      for (int j = 0; j < nf; ++j)
        if (is_madds_feature(static_cast<StepKind>(kind), j)) floor[static_cast<std::size_t>(j)] = 2.0 / m.peak_gflops;
    Eigen::MatrixXd a(nr, nf);
    Eigen::VectorXd b(nr);
    for (Eigen::Index r = 0; r < nr; ++r) {
      const Sample& row = *rows[static_cast<std::size_t>(r)];
      const double t = row.ns, w = std::pow(t, -power);
      double rest = pc ? t - pcost * row.f.x[static_cast<std::size_t>(pj)] : t;
      for (int j = 0; j < nf; ++j) rest -= floor[static_cast<std::size_t>(j)] * row.f.x[static_cast<std::size_t>(j)];
      b(r) = rest * w;
      for (int j = 0; j < nf; ++j) a(r, j) = pc && j == pj ? 0.0 : row.f.x[static_cast<std::size_t>(j)] * w;
    }
    Eigen::VectorXd scale(nf);
    for (int j = 0; j < nf; ++j) {
      const double norm = a.col(j).norm();
      scale(j) = norm > 0 ? norm : 1.0;
      a.col(j) /= scale(j);
    }
    // Non-negative: solve, drop the most negative coefficient's feature, solve again.
    std::vector<bool> active(static_cast<std::size_t>(nf));
    for (int j = 0; j < nf; ++j) active[static_cast<std::size_t>(j)] = a.col(j).squaredNorm() > 0;
    Eigen::VectorXd coef = Eigen::VectorXd::Zero(nf);
    for (int round = 0; round < nf; ++round) {
      std::vector<int> cols;
      for (int j = 0; j < nf; ++j)
        if (active[static_cast<std::size_t>(j)]) cols.push_back(j);
      if (cols.empty()) break;
      Eigen::MatrixXd sub(nr, static_cast<Eigen::Index>(cols.size()));
      for (std::size_t c = 0; c < cols.size(); ++c) sub.col(static_cast<Eigen::Index>(c)) = a.col(cols[c]);
      const Eigen::VectorXd sol = sub.colPivHouseholderQr().solve(b);
      coef.setZero();
      int worst = -1;
      for (std::size_t c = 0; c < cols.size(); ++c) {
        coef(cols[c]) = sol(static_cast<Eigen::Index>(c));
        if (sol(static_cast<Eigen::Index>(c)) < 0 && (worst < 0 || sol(static_cast<Eigen::Index>(c)) < coef(worst)))
          worst = cols[c];
      }
      if (worst < 0) break;
      active[static_cast<std::size_t>(worst)] = false;
      coef(worst) = 0;
    }
    for (int j = 0; j < nf; ++j) coef(j) = std::max(0.0, coef(j)) / scale(j) + floor[static_cast<std::size_t>(j)];
    if (pc) coef(pj) = pcost;
    k.coef.assign(coef.data(), coef.data() + nf);
    k.samples = static_cast<int>(rows.size());
    k.lo.assign(static_cast<std::size_t>(nf), 0.0);
    k.hi.assign(static_cast<std::size_t>(nf), 0.0);
    for (int j = 0; j < nf; ++j) {
      double lo = 0, hi = 0;
      for (const Sample* s : rows) {
        const double v = s->f.x[static_cast<std::size_t>(j)];
        hi = std::max(hi, v);
        if (v > 0) lo = lo > 0 ? std::min(lo, v) : v;
      }
      k.lo[static_cast<std::size_t>(j)] = lo;
      k.hi[static_cast<std::size_t>(j)] = hi;
    }
    std::vector<double> err;
    for (const Sample* s : rows) {
      double p = 0;
      for (int j = 0; j < nf; ++j) p += k.coef[static_cast<std::size_t>(j)] * s->f.x[static_cast<std::size_t>(j)];
      err.push_back(std::abs(p / s->ns - 1.0));
    }
    std::nth_element(err.begin(), err.begin() + static_cast<std::ptrdiff_t>(err.size() / 2), err.end());
    k.median_abs_error = err[err.size() / 2];
  }
}

void fit_network(LatencyModel& m, const std::vector<NetworkSample>& networks) {
  std::vector<double> y, x;  // whole / sum, steps / sum
  for (const auto& n : networks)
    if (n.steps_ns > 0 && n.whole_ns > 0) {
      y.push_back(n.whole_ns / n.steps_ns);
      x.push_back(static_cast<double>(n.steps) / n.steps_ns);
    }
  m.network_factor = 1.0;
  m.network_step_ns = 0;
  if (y.empty()) return;
  const double median_ratio = std::clamp(summarize(y).median, 0.5, 2.0);
  m.network_factor = median_ratio;
  if (y.size() < 4) return;
  // Theil-Sen: the median of the slopes between every pair of networks, then the
  // median intercept; one network timed during a load burst moves neither.
  std::vector<double> slopes, intercepts;
  for (std::size_t i = 0; i < y.size(); ++i)
    for (std::size_t j = i + 1; j < y.size(); ++j)
      if (std::abs(x[j] - x[i]) > 1e-12 * std::max(x[i], x[j])) slopes.push_back((y[j] - y[i]) / (x[j] - x[i]));
  if (slopes.empty()) return;
  const double step_ns = summarize(slopes).median;
  for (std::size_t i = 0; i < y.size(); ++i) intercepts.push_back(y[i] - step_ns * x[i]);
  const double factor = summarize(intercepts).median;
  if (step_ns < 0 || step_ns > 20'000 || factor < 0.5 || factor > 2.0) return;
  m.network_factor = factor;
  m.network_step_ns = step_ns;
}

nlohmann::json to_json(const LatencyModel& m) {
  nlohmann::json fits = nlohmann::json::object();
  for (int kind = 0; kind < runtime::kStepKinds; ++kind) {
    const KindFit& k = m.fits[static_cast<std::size_t>(kind)];
    if (k.coef.empty()) continue;
    fits[std::string(runtime::step_kind_name(static_cast<StepKind>(kind)))] = {
        {"coef", k.coef}, {"lo", k.lo}, {"hi", k.hi}, {"samples", k.samples}, {"median_abs_error", k.median_abs_error}};
  }
  return {{"version", m.version},
          {"kernel_revision", m.kernel_revision},
          {"cpu", m.cpu},
          {"isa", m.isa},
          {"threads", m.threads},
          {"measured_at", m.measured_at},
          {"calibration_seconds", m.calibration_seconds},
          {"probes", m.probes},
          {"network_factor", m.network_factor},
          {"network_step_ns", m.network_step_ns},
          {"peak_gflops", m.peak_gflops},
          {"reference_ns", m.reference_ns},
          {"calibration_drift", m.calibration_drift},
          {"core_round_trip_ns", {m.core_round_trip_ns[0], m.core_round_trip_ns[1]}},
          {"fits", fits}};
}

Result<LatencyModel> latency_model_from_json(const nlohmann::json& j) {
  try {
    LatencyModel m;
    m.version = j.at("version").get<int>();
    m.kernel_revision = j.at("kernel_revision").get<int>();
    m.cpu = j.at("cpu").get<std::string>();
    m.isa = j.at("isa").get<std::string>();
    m.threads = j.at("threads").get<int>();
    m.measured_at = j.at("measured_at").get<std::string>();
    m.calibration_seconds = j.at("calibration_seconds").get<double>();
    m.probes = j.at("probes").get<int>();
    m.network_factor = j.at("network_factor").get<double>();
    if (!std::isfinite(m.network_factor) || m.network_factor < 0.5 || m.network_factor > 2.0)
      return fail("network_factor", "is outside 0.5..2");
    if (m.version != kLatencyModelVersion) return m;  // the caller reports the mismatch
    m.network_step_ns = j.at("network_step_ns").get<double>();
    if (!std::isfinite(m.network_step_ns) || m.network_step_ns < 0 || m.network_step_ns > 20'000)
      return fail("network_step_ns", "is outside 0..20000");
    m.peak_gflops = j.at("peak_gflops").get<double>();
    if (!std::isfinite(m.peak_gflops) || m.peak_gflops < 0) return fail("peak_gflops", "is negative or not finite");
    m.reference_ns = j.at("reference_ns").get<double>();
    m.calibration_drift = j.at("calibration_drift").get<double>();
    if (!std::isfinite(m.reference_ns) || m.reference_ns < 0) return fail("reference_ns", "is negative or not finite");
    if (j.contains("core_round_trip_ns")) {  // absent in models saved before it was measured
      const auto rt = j.at("core_round_trip_ns").get<std::vector<double>>();
      if (rt.size() != 2 || !std::isfinite(rt[0]) || !std::isfinite(rt[1]) || rt[0] < 0 || rt[1] < 0)
        return fail("core_round_trip_ns", "is not two non-negative times (before and after the calibration)");
      m.core_round_trip_ns[0] = rt[0];
      m.core_round_trip_ns[1] = rt[1];
    }
    for (int kind = 0; kind < runtime::kStepKinds; ++kind) {
      const std::string name(runtime::step_kind_name(static_cast<StepKind>(kind)));
      if (!j.at("fits").contains(name)) continue;
      const auto& f = j["fits"][name];
      KindFit& k = m.fits[static_cast<std::size_t>(kind)];
      k.coef = f.at("coef").get<std::vector<double>>();
      k.lo = f.at("lo").get<std::vector<double>>();
      k.hi = f.at("hi").get<std::vector<double>>();
      k.samples = f.at("samples").get<int>();
      k.median_abs_error = f.at("median_abs_error").get<double>();
      // Exactly the kind's features (a kind with weights has the two weight features too).
      const auto sk = static_cast<StepKind>(kind);
      const std::size_t want = feature_names(sk, has_weights(sk)).size();
      if (k.coef.size() != want || k.lo.size() != k.coef.size() || k.hi.size() != k.coef.size())
        return fail("fits." + name, "has " + std::to_string(k.coef.size()) + " coefficients, the model has " +
                                        std::to_string(want) + " features");
      for (double c : k.coef)
        if (!std::isfinite(c) || c < 0) return fail("fits." + name, "a coefficient is negative or not finite");
    }
    return m;
  } catch (const nlohmann::json::exception& e) {
    return fail("", std::string("not a latency model: ") + e.what());
  }
}

}  // namespace convscope::profile
