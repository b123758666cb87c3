#include "runtime/plan.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "runtime/conv_transpose.h"
#include "runtime/plan_impl.h"

namespace convscope::runtime {

kernels::GemmArgs plan_detail::group_gemm(std::int64_t grp, std::int64_t m, std::int64_t n, std::int64_t k,
                                          const float* a, std::int64_t lda, const float* packed_w, float* c,
                                          std::int64_t ldc, const float* bias, ir::Activation act,
                                          std::int64_t segments, const std::int64_t* seg_offsets) {
  kernels::GemmArgs g{m, n, k, a + grp * k, lda, packed_w, c + grp * n, ldc, bias + grp * n, act};
  if (segments > 0) {
    g.a = a;
    g.a_seg = k / segments;
    g.a_seg_offsets = seg_offsets + grp * (segments + 1);
  }
  return g;
}

plan_detail::Buffer plan_detail::allocate(std::int64_t floats) {
  const auto bytes = static_cast<std::size_t>((std::max<std::int64_t>(floats, 1) * 4 + 63) / 64 * 64);
  auto* p = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (p) std::memset(p, 0, bytes);  // touch every page now, not during timing
  return Buffer(p);
}

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

/// A depthwise step that reads a folded shuffle's input (ScheduledStep::unshuffled):
/// channel c = j * per + i takes the filter and bias of shuffled position i * groups + j.
void unshuffle_depthwise(std::int64_t groups, std::int64_t c, std::int64_t kk, std::vector<float>& w,
                         std::vector<float>& bias) {
  const std::vector<float> w0 = w, b0 = bias;
  const std::int64_t per = c / groups;
  for (std::int64_t ch = 0; ch < c; ++ch) {
    const std::int64_t from = ch % per * groups + ch / per;
    std::copy_n(w0.begin() + from * kk, kk, w.begin() + ch * kk);
    bias[static_cast<std::size_t>(ch)] = b0[static_cast<std::size_t>(from)];
  }
}

/// A grouped 1x1 convolution over an unshuffled input: group q's depth k
/// (shuffled positions q * k + l * groups + j) is read as `groups` segments of
/// k / groups channels, segment j at channel j * per + q * k / groups of the
/// unshuffled input (per = all channels / groups). Reorders W[out][k] to that
/// order; returns each group's segment offsets (groups + 1 each, the last unused).
std::vector<std::int64_t> unshuffle_gemm(std::int64_t groups, std::int64_t n_groups, std::int64_t cout_g,
                                         std::int64_t k, std::vector<float>& w) {
  const std::int64_t seg = k / groups, per = n_groups * k / groups;
  const std::vector<float> w0 = w;
  for (std::int64_t o = 0; o < n_groups * cout_g; ++o)
    for (std::int64_t j = 0; j < groups; ++j)
      for (std::int64_t l = 0; l < seg; ++l)
        w[static_cast<std::size_t>(o * k + j * seg + l)] = w0[static_cast<std::size_t>(o * k + l * groups + j)];
  std::vector<std::int64_t> offsets;
  for (std::int64_t q = 0; q < n_groups; ++q)
    for (std::int64_t j = 0; j <= groups; ++j) offsets.push_back(std::min(j, groups - 1) * per + q * seg);
  return offsets;
}

}  // namespace

Result<bool> check_plan_memory(const Schedule& sc, std::int64_t limit_bytes) {
  const std::int64_t total = sc.total_bytes();
  if (total <= limit_bytes) return true;
  const ScheduledValue* largest = &sc.values.front();
  for (const auto& v : sc.values)
    if (v.shape.elements() > largest->shape.elements()) largest = &v;
  return fail("", "the plan needs " + std::to_string(total) + " bytes (activations " +
                      std::to_string(sc.arena_floats * 4) + ", weights " + std::to_string(sc.weight_floats * 4) +
                      "), over the limit of " + std::to_string(limit_bytes) + "; largest tensor '" + largest->name +
                      "' " + std::to_string(sc.batch) + "x" + largest->shape.str() + " = " +
                      std::to_string(largest->shape.elements() * sc.batch * 4) + " bytes");
}

Result<Plan> Plan::build(const ir::Graph& graph, const cost::Analysis& a, const PlanOptions& options) {
  if (!a.complete()) return fail("", "the graph has problems; fix them before running it");
  if (auto fits = check_weight_memory(a, options.memory_limit_bytes); !fits) return tl::unexpected(fits.error());
  auto sched = Schedule::build(graph, a, options);
  if (!sched) return tl::unexpected(sched.error());
  Schedule& sc = *sched;
  if (auto fits = check_plan_memory(sc, options.memory_limit_bytes); !fits) return tl::unexpected(fits.error());
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
      if (b.expand >= 0)
        fold_into(a.ops[static_cast<std::size_t>(b.expand)].op, b.cin, *op_w(b.expand), op_w(b.bn1), ew,
                  bw.expand_bias);
      fold_into(b.dw_op, b.e, *op_w(b.dw), op_w(b.bn2), dww, bw.dw_bias);
      if (b.project >= 0)  // else expand -> depthwise only
        fold_into(a.ops[static_cast<std::size_t>(b.project)].op, b.e, *op_w(b.project), op_w(b.bn3), pw,
                  bw.project_bias);
      const std::int64_t kk = b.dw_op.k_h * b.dw_op.k_w;
      const std::int64_t g1 = b.expand_groups, g2 = b.project_groups;
      if (b.shuffle1 > 0) {  // folded: the depthwise on the unshuffled channels, the project reading them in segments
        unshuffle_depthwise(b.shuffle1, b.e, kk, dww, bw.dw_bias);
        bw.seg_offsets = unshuffle_gemm(b.shuffle1, g2, b.cout / g2, b.e / g2, pw);
      }
      // Per slice (channel slices) or per group (row bands: one slice), in that order.
      for (std::int64_t q = 0; q < b.slices(); ++q) {
        const std::int64_t lo = b.lo[static_cast<std::size_t>(q)], es = b.lo[static_cast<std::size_t>(q) + 1] - lo;
        // Expand: rows lo..lo+es of W[e][cin / g1], group by group.
        for (std::int64_t grp = 0; b.expand >= 0 && grp < g1; ++grp) {
          const std::int64_t ng = es / g1, kg = b.cin / g1;
          std::vector<float> packed(static_cast<std::size_t>(kernels::packed_b_size(kt, ng, kg)));
          kernels::pack_gemm_b(kt, ew.data() + (lo + grp * ng) * kg, ng, kg, packed.data());
          bw.expand_w.push_back(std::move(packed));
        }
        // Depthwise: these channels, packed for the kernel.
        std::vector<float> dws(static_cast<std::size_t>(kk * kernels::dw_weight_stride(es)));
        kernels::pack_depthwise(dww.data() + lo * kk, es, kk, dws.data());
        bw.dw_w.push_back(std::move(dws));
        // Project: columns lo..lo+es of W[cout][e / g2] group by group, as rows of K = es / g2
        // (in row bands, one slice of every column: the group's rows as they are).
        for (std::int64_t grp = 0; b.project >= 0 && grp < g2; ++grp) {
          const std::int64_t kg = es / g2, cg = b.cout / g2, row = b.e / g2;
          const float* rows = pw.data() + grp * cg * row + lo;
          std::vector<float> cols;
          if (kg != row) {
            cols.resize(static_cast<std::size_t>(cg * kg));
            for (std::int64_t o2 = 0; o2 < cg; ++o2) std::copy_n(rows + o2 * row, kg, cols.begin() + o2 * kg);
            rows = cols.data();
          }
          std::vector<float> packed_p(static_cast<std::size_t>(kernels::packed_b_size(kt, cg, kg)));
          kernels::pack_gemm_b(kt, rows, cg, kg, packed_p.data());
          bw.project_w.push_back(std::move(packed_p));
        }
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
        if (s.unshuffled > 0) unshuffle_depthwise(s.unshuffled, out_c, kk, folded, s.bias);
        s.w.resize(static_cast<std::size_t>(kk * kernels::dw_weight_stride(out_c)));
        kernels::pack_depthwise(folded.data(), out_c, kk, s.w.data());
        break;
      }
      case StepKind::Gemm:
      case StepKind::ConvIm2col: {
        fold_into(s.op, cin, ow, op_w(s.bn), folded, s.bias);
        const GemmDims d = p.schedule.gemm_dims(s);
        const std::int64_t g = d.groups, cout_g = d.n;
        if (s.narrow_groups) {
          s.w.resize(static_cast<std::size_t>(kernels::narrow_groups_size(kt, s.k_gemm, out_c)));
          kernels::pack_narrow_groups(kt, folded.data(), s.k_gemm, cout_g, out_c, s.w.data());
          break;
        }
        if (s.unshuffled > 0) s.seg_offsets = unshuffle_gemm(s.unshuffled, g, cout_g, s.k_gemm, folded);
        const std::int64_t per = kernels::packed_b_size(kt, cout_g, s.k_gemm);
        s.w.resize(static_cast<std::size_t>(per * g));
        for (std::int64_t grp = 0; grp < g; ++grp)
          kernels::pack_gemm_b(kt, folded.data() + grp * cout_g * s.k_gemm, cout_g, s.k_gemm, s.w.data() + grp * per);
        break;
      }
      case StepKind::Winograd:
        fold_into(s.op, cin, ow, op_w(s.bn), folded, s.bias);
        s.w.resize(static_cast<std::size_t>(kernels::winograd_weights_size(kt, out_c, cin)));
        kernels::pack_winograd(kt, folded.data(), out_c, cin, s.w.data());
        break;
      case StepKind::ConvTranspose:
        fold_into(s.op, cin, ow, op_w(s.bn), folded, s.bias);
        s.w = pack_conv_transpose(kt, s.op, cin, folded);
        break;
      case StepKind::ScaleShift:
        bn_scale_shift(ow, s.scale, s.shift);
        break;
      default:
        break;
    }
    p.steps.push_back(std::move(s));
  }

  p.arena = plan_detail::allocate(p.arena_floats);
  if (!p.arena) return fail("", "cannot allocate " + std::to_string(p.arena_floats * 4) + " bytes for activations");
  for (int t = 0; t < sc.threads; ++t) p.scratch.push_back(plan_detail::allocate(p.scratch_floats));
  if (p.bottleneck_floats > 0) p.bottleneck_scratch = plan_detail::allocate(p.bottleneck_floats);
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

}  // namespace convscope::runtime
