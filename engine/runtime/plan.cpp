#include "runtime/plan.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>

#include "runtime/reference_executor.h"

namespace convscope::runtime {

namespace {

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<float[], FreeDeleter>;

Buffer allocate(std::int64_t floats) {
  const auto bytes = static_cast<std::size_t>((std::max<std::int64_t>(floats, 1) * 4 + 63) / 64 * 64);
  auto* p = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (p) std::memset(p, 0, bytes);  // touch every page now, not during timing
  return Buffer(p);
}

/// A fused bottleneck's weights: BN folded, packed per channel slice.
struct BottleneckWeights {
  std::vector<std::vector<float>> expand_w, dw_w, project_w;  // per slice
  std::vector<float> expand_bias, dw_bias, project_bias;
};

/// A scheduled step with its weights.
struct Step : ScheduledStep {
  std::vector<float> w;             // packed GEMM panels (per group, concatenated) or depthwise (pack_depthwise)
  std::vector<float> bias;          // folded bias [out_c]
  std::vector<float> scale, shift;  // ScaleShift
  BottleneckWeights bw;
};

}  // namespace

struct Plan::Impl {
  Schedule schedule;
  const kernels::KernelTable* kt = nullptr;
  std::unique_ptr<ThreadPool> pool;
  std::int64_t batch = 1;
  std::vector<ScheduledValue> values;
  std::vector<Step> steps;
  std::vector<int> inputs, outputs;  // value ids
  Buffer arena;
  std::int64_t arena_floats = 0;
  std::vector<Buffer> scratch;  // one per thread
  std::int64_t scratch_floats = 0;
  std::int64_t weight_floats = 0;

  float* ptr(int v) const {
    const ScheduledValue& val = values[static_cast<std::size_t>(v)];
    if (val.parent >= 0) return arena.get() + values[static_cast<std::size_t>(val.parent)].offset + val.channel_offset;
    return arena.get() + val.offset;
  }
  /// Floats between neighbouring pixels of a value (its parent's channels when in place).
  std::int64_t stride(int v) const {
    const ScheduledValue& val = values[static_cast<std::size_t>(v)];
    if (val.parent >= 0) {
      const ScheduledValue& parent = values[static_cast<std::size_t>(val.parent)];
      return parent.shape.c + parent.pad_c;
    }
    return val.shape.c + val.pad_c;
  }
  /// Splits [0, n) across the pool, unless the step is too small for the
  /// hand-off to pay (waking a thread costs microseconds).
  void split(const Step& s, std::int64_t n, const std::function<void(std::int64_t, std::int64_t)>& fn,
             std::int64_t grain = 1) const {
    constexpr std::int64_t kMinParallelFlops = 500000;
    if (s.info.flops < kMinParallelFlops)
      fn(0, n);
    else
      pool->parallel_for(n, fn, grain);
  }
  const ir::Shape& shape(int v) const { return values[static_cast<std::size_t>(v)].shape; }

  void run_step(const Step& s);
  void run_conv_im2col(const Step& s);
  void run_conv_transpose(const Step& s);
  void run_bottleneck(const Step& s);
  std::int64_t bottleneck_floats = 0;
  Buffer bottleneck_scratch;  // shared by every fused bottleneck: steps run one at a time
};

Plan::Plan() = default;
Plan::~Plan() = default;
Plan::Plan(Plan&&) noexcept = default;
Plan& Plan::operator=(Plan&&) noexcept = default;

namespace {

/// BN folded into per-channel scale and shift.
void bn_scale_shift(const OpWeights& bn, std::vector<float>& scale, std::vector<float>& shift) {
  scale.resize(bn.gamma.size());
  shift.resize(bn.gamma.size());
  for (std::size_t c = 0; c < bn.gamma.size(); ++c) {
    scale[c] = bn.gamma[c] / std::sqrt(bn.var[c] + kBnEpsilon);
    shift[c] = bn.beta[c] - bn.mean[c] * scale[c];
  }
}

/// A convolution's (or fully connected layer's) weights, in their original
/// layout, and bias with a following batch norm folded in:
/// w'[o] = w[o] * scale[o], b'[o] = b[o] * scale[o] + shift[o].
void fold_into(const ir::Op& op, std::int64_t in_c, const OpWeights& w, const OpWeights* bn,
               std::vector<float>& weights, std::vector<float>& bias) {
  const std::int64_t out_c = op.out_c;
  weights = w.w;
  bias.assign(static_cast<std::size_t>(out_c), 0.f);
  if (op.bias) bias = w.bias;
  if (!bn) return;
  std::vector<float> scale, shift;
  bn_scale_shift(*bn, scale, shift);
  // Output channel of weight element `e`: OHWI (conv, fc) or [in][ky][kx][out/g] (transposed).
  const auto total = static_cast<std::int64_t>(weights.size());
  const std::int64_t per_out = total / out_c;
  const std::int64_t cout_g = out_c / std::max<std::int64_t>(op.groups, 1);
  const std::int64_t cin_g = in_c / std::max<std::int64_t>(op.groups, 1);
  const std::int64_t per_in = op.k_h * op.k_w * cout_g;
  for (std::int64_t e = 0; e < total; ++e) {
    const std::int64_t o =
        op.kind == ir::OpKind::ConvTranspose ? (e / per_in) / cin_g * cout_g + e % cout_g : e / per_out;
    weights[static_cast<std::size_t>(e)] *= scale[static_cast<std::size_t>(o)];
  }
  for (std::int64_t o = 0; o < out_c; ++o)
    bias[static_cast<std::size_t>(o)] =
        bias[static_cast<std::size_t>(o)] * scale[static_cast<std::size_t>(o)] + shift[static_cast<std::size_t>(o)];
}

}  // namespace

Result<Plan> Plan::build(const ir::Graph& graph, const cost::Analysis& a, const PlanOptions& options) {
  if (!a.complete()) return fail("", "the graph has problems; fix them before running it");
  if (auto fits = check_weight_memory(a, options.memory_limit_bytes); !fits) return tl::unexpected(fits.error());
  auto sched = Schedule::build(graph, a, options);
  if (!sched) return tl::unexpected(sched.error());
  Schedule& sc = *sched;
  if (const std::int64_t total = sc.total_bytes(); total > options.memory_limit_bytes) {
    const ScheduledValue* largest = &sc.values.front();
    for (const auto& v : sc.values)
      if (v.shape.elements() > largest->shape.elements()) largest = &v;
    return fail("", "the plan needs " + std::to_string(total) + " bytes (activations " +
                        std::to_string(sc.arena_floats * 4) + ", weights " + std::to_string(sc.weight_floats * 4) +
                        "), over the limit of " + std::to_string(options.memory_limit_bytes) + "; largest tensor '" +
                        largest->name + "' " + std::to_string(sc.batch) + "x" + largest->shape.str() + " = " +
                        std::to_string(largest->shape.elements() * sc.batch * 4) + " bytes");
  }
  Weights generated;
  if (!options.weights) generated = Weights::generate(graph, a, options.seed);
  const Weights& w = options.weights ? *options.weights : generated;
  if (w.size() != a.ops.size())
    return fail("", "weights are given for " + std::to_string(w.size()) + " ops, the graph has " +
                        std::to_string(a.ops.size()));

  Plan plan;
  plan.impl_ = std::make_unique<Impl>();
  Impl& p = *plan.impl_;
  p.kt = sc.kt;
  p.pool = std::make_unique<ThreadPool>(sc.threads);
  p.batch = sc.batch;
  p.schedule = sc;  // kept whole for latency models and reports
  p.values = std::move(sc.values);
  p.inputs = std::move(sc.inputs);
  p.outputs = std::move(sc.outputs);
  p.arena_floats = sc.arena_floats;
  p.scratch_floats = sc.scratch_floats;
  p.bottleneck_floats = sc.bottleneck_floats;
  p.weight_floats = sc.weight_floats;
  const kernels::KernelTable& kt = *p.kt;
  auto op_w = [&](int i) { return i >= 0 ? &w.op(static_cast<std::size_t>(i)) : nullptr; };
  auto in_c = [&](int op) {
    return a.tensors[static_cast<std::size_t>(a.ops[static_cast<std::size_t>(op)].inputs.front())].shape.c;
  };
  for (ScheduledStep& ss : sc.steps) {
    Step s;
    static_cast<ScheduledStep&>(s) = std::move(ss);
    const int i = s.info.ops.front();
    if (s.bottleneck) {  // BN folded, weights packed per slice
      const BottleneckShape& b = *s.bottleneck;
      BottleneckWeights& bw = s.bw;
      std::vector<float> ew, dww, pw;
      fold_into(a.ops[static_cast<std::size_t>(b.expand)].op, b.cin, *op_w(b.expand), op_w(b.bn1), ew,
                bw.expand_bias);
      fold_into(b.dw_op, b.e, *op_w(b.dw), op_w(b.bn2), dww, bw.dw_bias);
      fold_into(a.ops[static_cast<std::size_t>(b.project)].op, b.e, *op_w(b.project), op_w(b.bn3), pw,
                bw.project_bias);
      const std::int64_t kk = b.dw_op.k_h * b.dw_op.k_w;
      for (std::int64_t q = 0; q < b.slices(); ++q) {
        const std::int64_t lo = b.lo[static_cast<std::size_t>(q)], es = b.lo[static_cast<std::size_t>(q) + 1] - lo;
        // Expand: rows lo..lo+es of W[e][cin].
        std::vector<float> packed(static_cast<std::size_t>(kernels::packed_b_size(kt, es, b.cin)));
        kernels::pack_gemm_b(kt, ew.data() + lo * b.cin, es, b.cin, packed.data());
        bw.expand_w.push_back(std::move(packed));
        // Depthwise: these channels, packed for the kernel.
        std::vector<float> dws(static_cast<std::size_t>(kk * kernels::dw_weight_stride(es)));
        kernels::pack_depthwise(dww.data() + lo * kk, es, kk, dws.data());
        bw.dw_w.push_back(std::move(dws));
        // Project: columns lo..lo+es of W[cout][e], as rows of K = es.
        std::vector<float> cols(static_cast<std::size_t>(b.cout * es));
        for (std::int64_t o2 = 0; o2 < b.cout; ++o2)
          for (std::int64_t c = 0; c < es; ++c)
            cols[static_cast<std::size_t>(o2 * es + c)] = pw[static_cast<std::size_t>(o2 * b.e + lo + c)];
        std::vector<float> packed_p(static_cast<std::size_t>(kernels::packed_b_size(kt, b.cout, es)));
        kernels::pack_gemm_b(kt, cols.data(), b.cout, es, packed_p.data());
        bw.project_w.push_back(std::move(packed_p));
      }
      p.steps.push_back(std::move(s));
      continue;
    }
    const OpWeights& ow = w.op(static_cast<std::size_t>(i));
    const std::int64_t out_c = s.op.out_c, cin = in_c(i);
    std::vector<float> folded;  // weights with the batch norm folded in, original layout
    switch (s.info.kind) {
      case StepKind::Depthwise: {
        fold_into(s.op, cin, ow, op_w(s.bn), folded, s.bias);
        const std::int64_t kk = s.op.k_h * s.op.k_w;
        s.w.resize(static_cast<std::size_t>(kk * kernels::dw_weight_stride(out_c)));
        kernels::pack_depthwise(folded.data(), out_c, kk, s.w.data());
        break;
      }
      case StepKind::Gemm:
      case StepKind::ConvIm2col: {
        fold_into(s.op, cin, ow, op_w(s.bn), folded, s.bias);
        const std::int64_t g = s.op.kind == ir::OpKind::FullyConnected ? 1 : s.op.groups, cout_g = out_c / g;
        const std::int64_t per = kernels::packed_b_size(kt, cout_g, s.k_gemm);
        s.w.resize(static_cast<std::size_t>(per * g));
        for (std::int64_t grp = 0; grp < g; ++grp)
          kernels::pack_gemm_b(kt, folded.data() + grp * cout_g * s.k_gemm, cout_g, s.k_gemm, s.w.data() + grp * per);
        break;
      }
      case StepKind::ConvTranspose: {
        // B[k = input channel][n = (ky, kx, o_local)]: transpose to rows of n, then pack per group.
        fold_into(s.op, cin, ow, op_w(s.bn), folded, s.bias);
        const std::int64_t g = s.op.groups, cin_g = cin / g, cout_g = out_c / g, kk = s.op.k_h * s.op.k_w;
        const std::int64_t ncols = kk * cout_g;
        const std::int64_t per = kernels::packed_b_size(kt, ncols, cin_g);
        s.w.resize(static_cast<std::size_t>(per * g));
        std::vector<float> bt(static_cast<std::size_t>(ncols * cin_g));
        for (std::int64_t grp = 0; grp < g; ++grp) {
          for (std::int64_t ci = 0; ci < cin_g; ++ci)
            for (std::int64_t col = 0; col < ncols; ++col)
              bt[static_cast<std::size_t>(col * cin_g + ci)] =
                  folded[static_cast<std::size_t>((grp * cin_g + ci) * ncols + col)];
          kernels::pack_gemm_b(kt, bt.data(), ncols, cin_g, s.w.data() + grp * per);
        }
        break;
      }
      case StepKind::ScaleShift:
        bn_scale_shift(ow, s.scale, s.shift);
        break;
      default:
        break;
    }
    p.steps.push_back(std::move(s));
  }

  p.arena = allocate(p.arena_floats);
  if (!p.arena) return fail("", "cannot allocate " + std::to_string(p.arena_floats * 4) + " bytes for activations");
  for (int t = 0; t < sc.threads; ++t) p.scratch.push_back(allocate(p.scratch_floats));
  if (p.bottleneck_floats > 0) p.bottleneck_scratch = allocate(p.bottleneck_floats);
  return plan;
}

float* Plan::input(std::size_t i) { return impl_->ptr(impl_->inputs.at(i)); }
ir::Shape Plan::input_shape(std::size_t i) const { return impl_->shape(impl_->inputs.at(i)); }
std::size_t Plan::n_inputs() const { return impl_->inputs.size(); }
const float* Plan::output(std::size_t i) const { return impl_->ptr(impl_->outputs.at(i)); }
ir::Shape Plan::output_shape(std::size_t i) const { return impl_->shape(impl_->outputs.at(i)); }
std::size_t Plan::n_outputs() const { return impl_->outputs.size(); }
std::int64_t Plan::batch() const { return impl_->batch; }
std::size_t Plan::n_steps() const { return impl_->steps.size(); }
const Schedule& Plan::schedule() const { return impl_->schedule; }
const StepInfo& Plan::step(std::size_t i) const { return impl_->steps.at(i).info; }
std::int64_t Plan::arena_bytes() const { return impl_->arena_floats * 4; }
std::int64_t Plan::scratch_bytes() const {
  return (impl_->scratch_floats * static_cast<std::int64_t>(impl_->scratch.size()) + impl_->bottleneck_floats) * 4;
}
std::int64_t Plan::weight_bytes() const { return impl_->weight_floats * 4; }
int Plan::threads() const { return impl_->pool->threads(); }
kernels::Isa Plan::isa() const { return impl_->kt->isa; }

void Plan::run() {
  for (const Step& s : impl_->steps) impl_->run_step(s);
}

void Plan::run_step(std::size_t i) { impl_->run_step(impl_->steps.at(i)); }

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
  seg_off.push_back(0);                 // read past the last segment, never used
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

void Plan::Impl::run_conv_transpose(const Step& s) {
  const ir::Shape in = shape(s.in[0]), out = shape(s.out);
  const float* x = ptr(s.in[0]);
  float* y = ptr(s.out);
  const std::int64_t g = s.op.groups, cin_g = in.c / g, cout_g = s.op.out_c / g;
  const std::int64_t kk = s.op.k_h * s.op.k_w, ncols = kk * cout_g;
  const std::int64_t per = kernels::packed_b_size(*kt, ncols, cin_g);
  // Output starts as the bias; every input pixel scatters a k x k patch into it.
  for (std::int64_t px = 0; px < batch * out.h * out.w; ++px)
    std::memcpy(y + px * out.c, s.bias.data(), static_cast<std::size_t>(out.c) * sizeof(float));
  float* col = scratch.front().get();
  const std::int64_t pixels = batch * in.h * in.w;
  for (std::int64_t p0 = 0; p0 < pixels; p0 += kIm2colTile) {
    const std::int64_t p1 = std::min(pixels, p0 + kIm2colTile);
    for (std::int64_t grp = 0; grp < g; ++grp) {
      kernels::GemmArgs ga{p1 - p0, ncols, cin_g,   x + p0 * in.c + grp * cin_g, in.c, s.w.data() + grp * per,
                           col,     ncols, nullptr, ir::Activation::None};
      split(
          s, p1 - p0, [&](std::int64_t r0, std::int64_t r1) { kt->gemm(ga, r0, r1); }, kt->gemm_mr);
      for (std::int64_t pix = p0; pix < p1; ++pix) {
        const std::int64_t b = pix / (in.h * in.w), rem = pix % (in.h * in.w), iy = rem / in.w, ix = rem % in.w;
        const float* src = col + (pix - p0) * ncols;
        for (std::int64_t ky = 0; ky < s.op.k_h; ++ky) {
          const std::int64_t oy = iy * s.op.stride - s.op.pad + ky * s.op.dilation;
          if (oy < 0 || oy >= out.h) continue;
          for (std::int64_t kx = 0; kx < s.op.k_w; ++kx) {
            const std::int64_t ox = ix * s.op.stride - s.op.pad + kx * s.op.dilation;
            if (ox < 0 || ox >= out.w) continue;
            float* dst = y + ((b * out.h + oy) * out.w + ox) * out.c + grp * cout_g;
            const float* patch = src + (ky * s.op.k_w + kx) * cout_g;
            for (std::int64_t o = 0; o < cout_g; ++o) dst[o] += patch[o];
          }
        }
      }
    }
  }
  if (s.act != ir::Activation::None) kt->activation(y, batch * out.elements(), s.act);
}

void Plan::Impl::run_bottleneck(const Step& s) {
  const BottleneckShape& b = *s.bottleneck;
  const BottleneckWeights& bw = s.bw;
  float* const ebuf = bottleneck_scratch.get();
  float* const dbuf = ebuf + b.ebuf_floats;
  const float* x = ptr(s.in[0]);
  float* y = ptr(s.out);
  const std::int64_t p_in = batch * b.mid_in.h * b.mid_in.w, p_out = batch * b.mid_out.h * b.mid_out.w;
  const std::int64_t slices = static_cast<std::int64_t>(b.lo.size()) - 1;
  for (std::int64_t q = 0; q < slices; ++q) {
    const std::int64_t lo = b.lo[static_cast<std::size_t>(q)], es = b.lo[static_cast<std::size_t>(q) + 1] - lo;
    // Expand: this slice's channels for every pixel.
    const kernels::GemmArgs ge{p_in,        es,    b.cin,
                               x,           b.cin, bw.expand_w[static_cast<std::size_t>(q)].data(),
                               ebuf,        es,    bw.expand_bias.data() + lo,
                               b.act_expand};
    split(
        s, p_in, [&](std::int64_t r0, std::int64_t r1) { kt->gemm(ge, r0, r1); }, kt->gemm_mr);
    // Depthwise on the slice.
    for (std::int64_t img = 0; img < batch; ++img) {
      kernels::DwArgs d;
      d.in = {ebuf + img * b.mid_in.h * b.mid_in.w * es, b.mid_in.h, b.mid_in.w, es, es};
      d.out = {dbuf + img * b.mid_out.h * b.mid_out.w * es, b.mid_out.h, b.mid_out.w, es, es};
      d.k = b.dw_op.k_h;
      d.stride = b.dw_op.stride;
      d.pad = b.dw_op.pad;
      d.dilation = b.dw_op.dilation;
      d.weights = bw.dw_w[static_cast<std::size_t>(q)].data();
      d.w_stride = kernels::dw_weight_stride(es);
      d.bias = bw.dw_bias.data() + lo;
      d.act = b.act_dw;
      split(s, b.mid_out.h, [&](std::int64_t r0, std::int64_t r1) {
        kernels::DwArgs part = d;
        part.y_begin = r0;
        part.y_end = r1;
        kt->depthwise(part);
      });
    }
    // Project: the slice's share of the output, accumulated (linear bottleneck).
    kernels::GemmArgs gp{p_out,
                         b.cout,
                         es,
                         dbuf,
                         es,
                         bw.project_w[static_cast<std::size_t>(q)].data(),
                         y,
                         b.cout,
                         q == 0 ? bw.project_bias.data() : nullptr,
                         ir::Activation::None};
    gp.accumulate = q > 0;
    split(
        s, p_out, [&](std::int64_t r0, std::int64_t r1) { kt->gemm(gp, r0, r1); }, kt->gemm_mr);
  }
  if (b.shortcut)
    kt->add(y, x, y, p_out * b.cout, b.act_out);
  else if (b.act_out != ir::Activation::None)
    kt->activation(y, p_out * b.cout, b.act_out);
}

void Plan::Impl::run_step(const Step& s) {
  const ir::Shape out = shape(s.out);
  float* y = ptr(s.out);
  const std::int64_t total = batch * out.elements();
  switch (s.info.kind) {
    case StepKind::Gemm: {
      const ir::Shape in = shape(s.in[0]);
      const bool fc = s.op.kind == ir::OpKind::FullyConnected;
      const std::int64_t m = fc ? batch : batch * in.h * in.w;
      const std::int64_t g = fc ? 1 : s.op.groups, cout_g = s.op.out_c / g;
      const std::int64_t per = kernels::packed_b_size(*kt, cout_g, s.k_gemm);
      for (std::int64_t grp = 0; grp < g; ++grp) {
        // Group grp reads its input channels in place (row stride = all channels).
        kernels::GemmArgs ga{m,
                             cout_g,
                             s.k_gemm,
                             ptr(s.in[0]) + grp * s.k_gemm,
                             fc ? s.k_gemm : in.c,
                             s.w.data() + grp * per,
                             y + grp * cout_g,
                             stride(s.out),
                             s.bias.data() + grp * cout_g,
                             s.act};
        split(
            s, m, [&](std::int64_t r0, std::int64_t r1) { kt->gemm(ga, r0, r1); }, kt->gemm_mr);
      }
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
    case StepKind::FusedBottleneck:
      run_bottleneck(s);
      return;
    case StepKind::ScaleShift: {
      const float* x = ptr(s.in[0]);
      for (std::int64_t px = 0; px < total / out.c; ++px)
        kt->scale_shift(x + px * out.c, s.scale.data(), s.shift.data(), y + px * out.c, out.c);
      kt->activation(y, total, s.act);
      return;
    }
    case StepKind::Activation:
      if (ptr(s.in[0]) != y) std::memcpy(y, ptr(s.in[0]), static_cast<std::size_t>(total) * sizeof(float));
      kt->activation(y, total, s.act);
      return;
    case StepKind::Add:
      kt->add(ptr(s.in[0]), ptr(s.in[1]), y, total, s.act);
      return;
    case StepKind::Mul: {
      const float* x = ptr(s.in[0]);
      const float* sc = ptr(s.in[1]);
      const std::int64_t hw = out.h * out.w;
      for (std::int64_t b = 0; b < batch; ++b)
        for (std::int64_t px = 0; px < hw; ++px) {
          const float* xi = x + (b * hw + px) * out.c;
          float* yo = y + (b * hw + px) * out.c;
          const float* si = sc + b * out.c;
          for (std::int64_t c = 0; c < out.c; ++c) yo[c] = xi[c] * si[c];
        }
      return;
    }
    case StepKind::Concat: {
      const std::int64_t pixels = batch * out.h * out.w;
      std::int64_t c0 = 0;
      for (int v : s.in) {
        const std::int64_t c = shape(v).c;
        if (values[static_cast<std::size_t>(v)].parent == s.out) {  // already written in place
          c0 += c;
          continue;
        }
        const float* x = ptr(v);
        for (std::int64_t px = 0; px < pixels; ++px)
          std::memcpy(y + px * out.c + c0, x + px * c, static_cast<std::size_t>(c) * sizeof(float));
        c0 += c;
      }
      return;
    }
    case StepKind::Slice: {
      const std::int64_t cin = shape(s.in[0]).c;
      const float* x = ptr(s.in[0]);
      for (std::int64_t px = 0; px < batch * out.h * out.w; ++px)
        std::memcpy(y + px * out.c, x + px * cin + s.op.slice_start, static_cast<std::size_t>(out.c) * sizeof(float));
      return;
    }
    case StepKind::Shuffle:
      kt->shuffle(ptr(s.in[0]), y, batch * out.h * out.w, out.c, s.op.groups);
      return;
    case StepKind::Pool: {
      const ir::Shape in = shape(s.in[0]);
      for (std::int64_t b = 0; b < batch; ++b) {
        kernels::PoolArgs pa;
        pa.in = {ptr(s.in[0]) + b * in.elements(), in.h, in.w, in.c, in.c};
        pa.out = {y + b * out.elements(), out.h, out.w, out.c, out.c};
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
      const float* x = ptr(s.in[0]);
      const bool mx = s.op.pool == ir::PoolMode::Max;
      const std::int64_t hw = in.h * in.w;
      for (std::int64_t b = 0; b < batch; ++b) {
        float* yo = y + b * out.c;
        for (std::int64_t c = 0; c < out.c; ++c) yo[c] = mx ? -std::numeric_limits<float>::infinity() : 0.f;
        for (std::int64_t px = 0; px < hw; ++px) {
          const float* xi = x + (b * hw + px) * in.c;
          if (mx)
            for (std::int64_t c = 0; c < out.c; ++c) yo[c] = yo[c] > xi[c] ? yo[c] : xi[c];
          else
            for (std::int64_t c = 0; c < out.c; ++c) yo[c] += xi[c];
        }
        if (!mx)
          for (std::int64_t c = 0; c < out.c; ++c) yo[c] /= static_cast<float>(hw);
      }
      return;
    }
    case StepKind::Upsample: {
      const ir::Shape in = shape(s.in[0]);
      const float* x = ptr(s.in[0]);
      const std::int64_t sc = s.op.scale;
      for (std::int64_t b = 0; b < batch; ++b)
        for (std::int64_t oy = 0; oy < out.h; ++oy)
          for (std::int64_t ox = 0; ox < out.w; ++ox) {
            float* yo = y + ((b * out.h + oy) * out.w + ox) * out.c;
            if (s.op.upsample == ir::UpsampleMode::Nearest) {
              std::memcpy(yo, x + ((b * in.h + oy / sc) * in.w + ox / sc) * in.c,
                          static_cast<std::size_t>(out.c) * sizeof(float));
              continue;
            }
            const float sy = std::max(0.f, (static_cast<float>(oy) + 0.5f) / static_cast<float>(sc) - 0.5f);
            const float sx = std::max(0.f, (static_cast<float>(ox) + 0.5f) / static_cast<float>(sc) - 0.5f);
            const std::int64_t y0 = std::min(static_cast<std::int64_t>(sy), in.h - 1),
                               x0 = std::min(static_cast<std::int64_t>(sx), in.w - 1);
            const std::int64_t y1 = std::min(y0 + 1, in.h - 1), x1 = std::min(x0 + 1, in.w - 1);
            const float fy = sy - static_cast<float>(y0), fx = sx - static_cast<float>(x0);
            const float* a00 = x + ((b * in.h + y0) * in.w + x0) * in.c;
            const float* a01 = x + ((b * in.h + y0) * in.w + x1) * in.c;
            const float* a10 = x + ((b * in.h + y1) * in.w + x0) * in.c;
            const float* a11 = x + ((b * in.h + y1) * in.w + x1) * in.c;
            for (std::int64_t c = 0; c < out.c; ++c)
              yo[c] = (1 - fy) * ((1 - fx) * a00[c] + fx * a01[c]) + fy * ((1 - fx) * a10[c] + fx * a11[c]);
          }
      return;
    }
    case StepKind::CReLU: {
      const std::int64_t cin = shape(s.in[0]).c;
      const float* x = ptr(s.in[0]);
      for (std::int64_t px = 0; px < batch * out.h * out.w; ++px) {
        const float* xi = x + px * cin;
        float* yo = y + px * out.c;
        for (std::int64_t c = 0; c < cin; ++c) {
          yo[c] = xi[c] > 0.f ? xi[c] : 0.f;
          yo[cin + c] = xi[c] < 0.f ? -xi[c] : 0.f;
        }
      }
      return;
    }
  }
}

}  // namespace convscope::runtime
