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

std::string_view step_kind_name(StepKind k) {
  switch (k) {
    case StepKind::Gemm:
      return "gemm";
    case StepKind::ConvIm2col:
      return "conv_im2col";
    case StepKind::Depthwise:
      return "depthwise";
    case StepKind::ConvTranspose:
      return "conv_transpose";
    case StepKind::ScaleShift:
      return "scale_shift";
    case StepKind::Activation:
      return "activation";
    case StepKind::Add:
      return "add";
    case StepKind::Mul:
      return "mul";
    case StepKind::Concat:
      return "concat";
    case StepKind::Slice:
      return "slice";
    case StepKind::Shuffle:
      return "shuffle";
    case StepKind::Pool:
      return "pool";
    case StepKind::GlobalPool:
      return "global_pool";
    case StepKind::Upsample:
      return "upsample";
    case StepKind::CReLU:
      return "crelu";
    case StepKind::FusedBottleneck:
      return "fused_bottleneck";
  }
  return "?";
}

namespace {

constexpr std::int64_t kTile = 96;         // pixels per im2col / col2im tile
constexpr std::int64_t kAlignFloats = 16;  // 64-byte alignment inside the arena

struct Value {
  ir::Shape shape;
  std::int64_t offset = 0;  // floats into the arena
  int first = 0, last = 0;  // live steps (inclusive)
  std::string name;
  /// Written in place into a concat's output: that value, and the first channel.
  int parent = -1;
  std::int64_t channel_offset = 0;
  /// Extra floats per pixel: a padded pixel stride (see "Pixel strides" in build).
  std::int64_t pad_c = 0;
};

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

/// The fused expand -> depthwise -> project chain, run over channel slices of
/// the expanded tensor (weights packed per slice, BN folded).
struct Bottleneck {
  std::vector<std::int64_t> lo;  // slice boundaries over the expanded channels (slices + 1 entries)
  std::vector<std::vector<float>> expand_w, dw_w, project_w;  // per slice
  std::vector<float> expand_bias, dw_bias, project_bias;
  ir::Activation act_expand = ir::Activation::None, act_dw = ir::Activation::None, act_out = ir::Activation::None;
  ir::Op dw;  // kernel, stride, padding, dilation of the depthwise
  std::int64_t cin = 0, e = 0, cout = 0;
  ir::Shape mid_in, mid_out;  // expanded tensor before and after the depthwise
  bool shortcut = false;
  std::int64_t ebuf_floats = 0, dbuf_floats = 0;  // one slice, before and after the depthwise
};

struct Step {
  StepInfo info;
  std::unique_ptr<Bottleneck> bottleneck;
  ir::Op op;
  ir::Activation act = ir::Activation::None;
  std::vector<int> in;  // value ids
  int out = -1;
  std::vector<float> w;             // packed GEMM panels (per group, concatenated) or depthwise (pack_depthwise)
  std::vector<float> bias;          // folded bias [out_c]
  std::vector<float> scale, shift;  // ScaleShift
  std::int64_t k_gemm = 0;          // GEMM depth per group
};

}  // namespace

struct Plan::Impl {
  const kernels::KernelTable* kt = nullptr;
  std::unique_ptr<ThreadPool> pool;
  std::int64_t batch = 1;
  std::vector<Value> values;
  std::vector<Step> steps;
  std::vector<int> inputs, outputs;  // value ids
  Buffer arena;
  std::int64_t arena_floats = 0;
  std::vector<Buffer> scratch;  // one per thread
  std::int64_t scratch_floats = 0;
  std::int64_t weight_floats = 0;

  float* ptr(int v) const {
    const Value& val = values[static_cast<std::size_t>(v)];
    if (val.parent >= 0) return arena.get() + values[static_cast<std::size_t>(val.parent)].offset + val.channel_offset;
    return arena.get() + val.offset;
  }
  /// Floats between neighbouring pixels of a value (its parent's channels when in place).
  std::int64_t stride(int v) const {
    const Value& val = values[static_cast<std::size_t>(v)];
    if (val.parent >= 0) {
      const Value& parent = values[static_cast<std::size_t>(val.parent)];
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
  Plan plan;
  plan.impl_ = std::make_unique<Impl>();
  Impl& p = *plan.impl_;
  p.kt = options.kernels ? options.kernels : &kernels::best_kernels();
  p.pool = std::make_unique<ThreadPool>(std::max(1, options.threads));
  p.batch = a.settings.batch;
  Weights generated;
  if (!options.weights) generated = Weights::generate(graph, a, options.seed);
  const Weights& w = options.weights ? *options.weights : generated;
  if (w.size() != a.ops.size())
    return fail("", "weights are given for " + std::to_string(w.size()) + " ops, the graph has " +
                        std::to_string(a.ops.size()));

  // Readers per tensor, to know when an op's output can be fused away.
  std::vector<int> readers(a.tensors.size(), 0);
  for (const auto& o : a.ops)
    for (int t : o.inputs) ++readers[static_cast<std::size_t>(t)];
  std::vector<int> value_of(a.tensors.size(), -1);
  auto value_for = [&](int t) {
    auto& v = value_of[static_cast<std::size_t>(t)];
    if (v < 0) {
      v = static_cast<int>(p.values.size());
      const auto& rec = a.tensors[static_cast<std::size_t>(t)];
      std::string name = graph.nodes[static_cast<std::size_t>(rec.node)].id;
      if (rec.producer >= 0) name += "/" + a.ops[static_cast<std::size_t>(rec.producer)].op.name;
      p.values.push_back({rec.shape, 0, 0, 0, name});
    }
    return v;
  };
  for (int t : input_tensors(a)) p.inputs.push_back(value_for(t));

  const std::int64_t n = p.batch;

  // expand 1x1 [+bn][+act] -> depthwise [+bn][+act] -> project 1x1 [+bn] [-> add(block input)][+act],
  // every intermediate read only by the next op: one FusedBottleneck step.
  auto try_bottleneck = [&](std::size_t i) -> std::optional<Step> {
    const int node = a.ops[i].node;
    std::size_t j = i;
    auto op_at = [&](std::size_t q) -> const cost::OpRecord* {
      return q < a.ops.size() && a.ops[q].node == node ? &a.ops[q] : nullptr;
    };
    int cur = -1;
    auto next_reads_cur = [&](ir::OpKind kind) -> const cost::OpRecord* {
      const auto* q = op_at(j);
      if (!q || q->op.kind != kind || q->inputs.front() != cur || readers[static_cast<std::size_t>(cur)] != 1)
        return nullptr;
      return q;
    };
    auto is_pointwise = [](const ir::Op& op) {
      return op.kind == ir::OpKind::Conv && op.k_h == 1 && op.k_w == 1 && op.stride == 1 && op.pad == 0 &&
             op.groups == 1 && op.dilation == 1;
    };
    const auto* ex = op_at(j);
    if (!ex || !is_pointwise(ex->op)) return std::nullopt;
    const int block_in = ex->inputs.front();
    cur = ex->output;
    std::vector<int> covered{static_cast<int>(j++)};
    auto take = [&](ir::OpKind kind) -> const cost::OpRecord* {
      const auto* q = next_reads_cur(kind);
      if (q) {
        covered.push_back(static_cast<int>(j++));
        cur = q->output;
      }
      return q;
    };
    const auto* bn1 = take(ir::OpKind::BatchNorm);
    const auto* act1 = take(ir::OpKind::Activation);
    const auto* dw = take(ir::OpKind::Conv);
    const std::int64_t e = ex->op.out_c;
    if (!dw || dw->op.groups != e || dw->op.out_c != e) return std::nullopt;
    const auto* bn2 = take(ir::OpKind::BatchNorm);
    const auto* act2 = take(ir::OpKind::Activation);
    const auto* pr = take(ir::OpKind::Conv);
    if (!pr || !is_pointwise(pr->op)) return std::nullopt;
    const auto* bn3 = take(ir::OpKind::BatchNorm);
    const cost::OpRecord* add = nullptr;
    if (const auto* q = op_at(j);
        q && q->op.kind == ir::OpKind::Add && readers[static_cast<std::size_t>(cur)] == 1 &&
        ((q->inputs[0] == cur && q->inputs[1] == block_in) || (q->inputs[1] == cur && q->inputs[0] == block_in))) {
      add = q;
      covered.push_back(static_cast<int>(j++));
      cur = q->output;
    }
    const auto* act3 = add ? take(ir::OpKind::Activation) : nullptr;

    Step st;
    st.op = ex->op;
    st.info.kind = StepKind::FusedBottleneck;
    st.info.node = node;
    st.info.ops = covered;
    auto b = std::make_unique<Bottleneck>();
    b->cin = a.tensors[static_cast<std::size_t>(block_in)].shape.c;
    b->e = e;
    b->cout = pr->op.out_c;
    b->dw = dw->op;
    b->mid_in = a.tensors[static_cast<std::size_t>(ex->output)].shape;
    b->mid_out = a.tensors[static_cast<std::size_t>(dw->output)].shape;
    b->shortcut = add != nullptr;
    b->act_expand = act1 ? act1->op.act : ir::Activation::None;
    b->act_dw = act2 ? act2->op.act : ir::Activation::None;
    b->act_out = act3 ? act3->op.act : ir::Activation::None;
    auto wts = [&](const cost::OpRecord* r) { return &w.op(static_cast<std::size_t>(r - a.ops.data())); };
    std::vector<float> ew, dww, pw;
    fold_into(ex->op, b->cin, *wts(ex), bn1 ? wts(bn1) : nullptr, ew, b->expand_bias);
    fold_into(dw->op, e, *wts(dw), bn2 ? wts(bn2) : nullptr, dww, b->dw_bias);
    fold_into(pr->op, e, *wts(pr), bn3 ? wts(bn3) : nullptr, pw, b->project_bias);
    const std::int64_t slices = std::min<std::int64_t>(options.split, e);
    const std::int64_t kk = dw->op.k_h * dw->op.k_w;
    std::int64_t widest = 0;
    for (std::int64_t q = 0; q <= slices; ++q) b->lo.push_back(e * q / slices);
    for (std::int64_t q = 0; q < slices; ++q) {
      const std::int64_t lo = b->lo[static_cast<std::size_t>(q)], es = b->lo[static_cast<std::size_t>(q) + 1] - lo;
      widest = std::max(widest, es);
      // Expand: rows lo..lo+es of W[e][cin].
      std::vector<float> packed(static_cast<std::size_t>(kernels::packed_b_size(*p.kt, es, b->cin)));
      kernels::pack_gemm_b(*p.kt, ew.data() + lo * b->cin, es, b->cin, packed.data());
      b->expand_w.push_back(std::move(packed));
      // Depthwise: these channels, packed for the kernel.
      std::vector<float> dws(static_cast<std::size_t>(kk * kernels::dw_weight_stride(es)));
      kernels::pack_depthwise(dww.data() + lo * kk, es, kk, dws.data());
      b->dw_w.push_back(std::move(dws));
      // Project: columns lo..lo+es of W[cout][e], as rows of K = es.
      std::vector<float> cols(static_cast<std::size_t>(b->cout * es));
      for (std::int64_t o2 = 0; o2 < b->cout; ++o2)
        for (std::int64_t c = 0; c < es; ++c)
          cols[static_cast<std::size_t>(o2 * es + c)] = pw[static_cast<std::size_t>(o2 * e + lo + c)];
      std::vector<float> packed_p(static_cast<std::size_t>(kernels::packed_b_size(*p.kt, b->cout, es)));
      kernels::pack_gemm_b(*p.kt, cols.data(), b->cout, es, packed_p.data());
      b->project_w.push_back(std::move(packed_p));
    }
    b->ebuf_floats = n * b->mid_in.h * b->mid_in.w * widest;
    b->dbuf_floats = n * b->mid_out.h * b->mid_out.w * widest;
    st.info.name = "fused(" + std::to_string(covered.size()) + " ops, " + std::to_string(slices) + " slices)";
    st.in.push_back(value_for(block_in));
    st.out = value_for(cur);
    st.info.out = a.tensors[static_cast<std::size_t>(cur)].shape;
    for (int k : covered) {
      const auto& c = a.ops[static_cast<std::size_t>(k)].cost;
      st.info.madds += c.madds * n;
      st.info.flops += (2 * c.madds + c.other_ops) * n;
    }
    std::int64_t wfloats = 0;
    for (const auto& v : b->expand_w) wfloats += static_cast<std::int64_t>(v.size());
    for (const auto& v : b->dw_w) wfloats += static_cast<std::int64_t>(v.size());
    for (const auto& v : b->project_w) wfloats += static_cast<std::int64_t>(v.size());
    wfloats += b->e * 2 + b->cout;
    p.weight_floats += wfloats;
    // Traffic: block input and output, weights; the slices stay in cache.
    st.info.bytes =
        (b->mid_in.h * b->mid_in.w * b->cin + st.info.out.elements() * (b->shortcut ? 2 : 1)) * n * 4 + wfloats * 4;
    p.bottleneck_floats = std::max(p.bottleneck_floats, b->ebuf_floats + b->dbuf_floats);
    st.bottleneck = std::move(b);
    return st;
  };

  for (std::size_t i = 0; i < a.ops.size();) {
    const auto& o = a.ops[i];
    if (options.split > 0 && options.fuse) {
      if (auto fused = try_bottleneck(i)) {
        i += fused->info.ops.size();
        p.steps.push_back(std::move(*fused));
        continue;
      }
    }
    Step s;
    s.op = o.op;
    s.info.node = o.node;
    s.info.ops = {static_cast<int>(i)};
    s.info.name = o.op.name;
    int out_tensor = o.output;
    const ir::Shape in = a.tensors[static_cast<std::size_t>(o.inputs.front())].shape;
    // Fusion: the next op of the same block that is the only reader of our output.
    auto next_fusable = [&](ir::OpKind kind) -> int {
      const std::size_t j = i + s.info.ops.size();
      if (!options.fuse || j >= a.ops.size()) return -1;
      const auto& nx = a.ops[j];
      if (nx.node != o.node || nx.op.kind != kind || nx.inputs.front() != out_tensor ||
          readers[static_cast<std::size_t>(out_tensor)] != 1)
        return -1;
      return static_cast<int>(j);
    };
    const bool conv_like = o.op.kind == ir::OpKind::Conv || o.op.kind == ir::OpKind::ConvTranspose ||
                           o.op.kind == ir::OpKind::FullyConnected;
    const OpWeights* bn_w = nullptr;
    if (conv_like) {
      if (int j = next_fusable(ir::OpKind::BatchNorm); j >= 0) {
        bn_w = &w.op(static_cast<std::size_t>(j));
        s.info.ops.push_back(j);
        s.info.name += "+" + a.ops[static_cast<std::size_t>(j)].op.name;
        out_tensor = a.ops[static_cast<std::size_t>(j)].output;
      }
    }
    if (conv_like || o.op.kind == ir::OpKind::Add || o.op.kind == ir::OpKind::BatchNorm) {
      if (int j = next_fusable(ir::OpKind::Activation); j >= 0) {
        s.act = a.ops[static_cast<std::size_t>(j)].op.act;
        s.info.ops.push_back(j);
        s.info.name += "+" + a.ops[static_cast<std::size_t>(j)].op.name;
        out_tensor = a.ops[static_cast<std::size_t>(j)].output;
      }
    }
    if (o.op.kind == ir::OpKind::Activation) s.act = o.op.act;

    const OpWeights& ow = w.op(i);
    const std::int64_t out_c = o.op.out_c;
    std::vector<float> folded;  // weights with the batch norm folded in, original layout
    if (conv_like) fold_into(o.op, in.c, ow, bn_w, folded, s.bias);
    switch (o.op.kind) {
      case ir::OpKind::Conv: {
        const std::int64_t g = o.op.groups, cin_g = in.c / g, cout_g = out_c / g, kk = o.op.k_h * o.op.k_w;
        const bool depthwise = g == in.c && out_c == in.c;
        // 1x1, stride 1, no padding: a GEMM per group straight on the input (no im2col copy).
        const bool pointwise = kk == 1 && o.op.stride == 1 && o.op.pad == 0 && o.op.dilation == 1;
        if (depthwise) {
          s.info.kind = StepKind::Depthwise;
          s.w.resize(static_cast<std::size_t>(kk * kernels::dw_weight_stride(out_c)));
          kernels::pack_depthwise(folded.data(), out_c, kk, s.w.data());
        } else {
          s.info.kind = pointwise ? StepKind::Gemm : StepKind::ConvIm2col;
          s.k_gemm = kk * cin_g;
          const std::int64_t per = kernels::packed_b_size(*p.kt, cout_g, s.k_gemm);
          s.w.resize(static_cast<std::size_t>(per * g));
          for (std::int64_t grp = 0; grp < g; ++grp)
            kernels::pack_gemm_b(*p.kt, folded.data() + grp * cout_g * s.k_gemm, cout_g, s.k_gemm, s.w.data() + grp * per);
        }
        break;
      }
      case ir::OpKind::FullyConnected: {
        s.info.kind = StepKind::Gemm;
        s.k_gemm = in.elements();
        s.w.resize(static_cast<std::size_t>(kernels::packed_b_size(*p.kt, out_c, s.k_gemm)));
        kernels::pack_gemm_b(*p.kt, folded.data(), out_c, s.k_gemm, s.w.data());
        break;
      }
      case ir::OpKind::ConvTranspose: {
        // B[k = input channel][n = (ky, kx, o_local)]: transpose to rows of n, then pack per group.
        s.info.kind = StepKind::ConvTranspose;
        const std::int64_t g = o.op.groups, cin_g = in.c / g, cout_g = out_c / g, kk = o.op.k_h * o.op.k_w;
        const std::int64_t ncols = kk * cout_g;
        s.k_gemm = cin_g;
        const std::int64_t per = kernels::packed_b_size(*p.kt, ncols, cin_g);
        s.w.resize(static_cast<std::size_t>(per * g));
        std::vector<float> bt(static_cast<std::size_t>(ncols * cin_g));
        for (std::int64_t grp = 0; grp < g; ++grp) {
          for (std::int64_t ci = 0; ci < cin_g; ++ci)
            for (std::int64_t col = 0; col < ncols; ++col)
              bt[static_cast<std::size_t>(col * cin_g + ci)] =
                  folded[static_cast<std::size_t>((grp * cin_g + ci) * ncols + col)];
          kernels::pack_gemm_b(*p.kt, bt.data(), ncols, cin_g, s.w.data() + grp * per);
        }
        break;
      }
      case ir::OpKind::BatchNorm:
        s.info.kind = StepKind::ScaleShift;
        bn_scale_shift(ow, s.scale, s.shift);
        break;
      case ir::OpKind::Activation:
        s.info.kind = StepKind::Activation;
        break;
      case ir::OpKind::Add:
        s.info.kind = StepKind::Add;
        break;
      case ir::OpKind::Mul:
        s.info.kind = StepKind::Mul;
        break;
      case ir::OpKind::Concat:
        s.info.kind = StepKind::Concat;
        break;
      case ir::OpKind::Slice:
        s.info.kind = StepKind::Slice;
        break;
      case ir::OpKind::ChannelShuffle:
        s.info.kind = StepKind::Shuffle;
        break;
      case ir::OpKind::Pool:
        s.info.kind = StepKind::Pool;
        break;
      case ir::OpKind::GlobalPool:
        s.info.kind = StepKind::GlobalPool;
        break;
      case ir::OpKind::Upsample:
        s.info.kind = StepKind::Upsample;
        break;
      case ir::OpKind::CReLU:
        s.info.kind = StepKind::CReLU;
        break;
    }
    for (int t : o.inputs) s.in.push_back(value_for(t));
    s.out = value_for(out_tensor);
    s.info.out = a.tensors[static_cast<std::size_t>(out_tensor)].shape;
    std::int64_t in_el = 0;
    for (int t : o.inputs) in_el += a.tensors[static_cast<std::size_t>(t)].shape.elements();
    for (int k : s.info.ops) {
      const auto& c = a.ops[static_cast<std::size_t>(k)].cost;
      s.info.madds += c.madds * n;
      s.info.flops += (2 * c.madds + c.other_ops) * n;
    }
    s.info.bytes = (in_el + s.info.out.elements()) * n * 4 +
                   static_cast<std::int64_t>(s.w.size() + s.bias.size() + s.scale.size() + s.shift.size()) * 4;
    p.weight_floats += static_cast<std::int64_t>(s.w.size() + s.bias.size() + s.scale.size() + s.shift.size());
    i += s.info.ops.size();
    p.steps.push_back(std::move(s));
  }
  for (int t : output_tensors(a)) p.outputs.push_back(value_of[static_cast<std::size_t>(t)]);

  // Who writes and who reads each value, for the two layout choices below.
  std::vector<int> producer(p.values.size(), -1), readers_of(p.values.size(), 0);
  for (std::size_t si = 0; si < p.steps.size(); ++si) {
    producer[static_cast<std::size_t>(p.steps[si].out)] = static_cast<int>(si);
    for (int v : p.steps[si].in) ++readers_of[static_cast<std::size_t>(v)];
  }
  for (int v : p.outputs) ++readers_of[static_cast<std::size_t>(v)];  // read by the caller too
  // Whether v's producer writes its output with a pixel stride (GEMM, im2col, depthwise).
  auto strided_writer = [&](int v) {
    const int pr = producer[static_cast<std::size_t>(v)];
    if (pr < 0) return false;
    const Step& ps = p.steps[static_cast<std::size_t>(pr)];
    return ps.info.kind == StepKind::ConvIm2col || ps.info.kind == StepKind::Depthwise ||
           (ps.info.kind == StepKind::Gemm && ps.op.kind == ir::OpKind::Conv);
  };

  // Concat written in place: a convolution whose only reader is a concat writes
  // straight into its channel range of the concat's output (the kernels take a
  // pixel stride), and the concat copies only what remains.
  if (options.concat_in_place) {
    for (auto& st : p.steps) {
      if (st.info.kind != StepKind::Concat || p.values[static_cast<std::size_t>(st.out)].parent >= 0) continue;
      std::int64_t c0 = 0;
      for (int v : st.in) {
        Value& val = p.values[static_cast<std::size_t>(v)];
        if (strided_writer(v) && readers_of[static_cast<std::size_t>(v)] == 1 && val.parent < 0 &&
            std::count(st.in.begin(), st.in.end(), v) == 1) {
          val.parent = st.out;
          val.channel_offset = c0;
        }
        c0 += val.shape.c;
      }
    }
  }

  // Pixel strides: a depthwise input whose pixels are a multiple of 1 KiB apart
  // (256, 512, 1024 channels) puts every line a kernel tile reads into a few L1
  // sets, which then evict each other. Its producer writes it one cache line
  // wider per pixel instead, when the depthwise step is its only reader.
  for (const Step& st : p.steps) {
    if (st.info.kind != StepKind::Depthwise) continue;
    const int v = st.in[0];
    Value& val = p.values[static_cast<std::size_t>(v)];
    if (strided_writer(v) && readers_of[static_cast<std::size_t>(v)] == 1 && val.parent < 0 && val.shape.c % 256 == 0)
      val.pad_c = kAlignFloats;
  }

  // Liveness and arena placement (largest first, lowest offset that fits in time).
  const int n_steps = static_cast<int>(p.steps.size());
  for (auto& v : p.values) {
    v.first = n_steps;
    v.last = -1;
  }
  for (int v : p.inputs) p.values[static_cast<std::size_t>(v)].first = 0;
  for (int s = 0; s < n_steps; ++s) {
    const Step& st = p.steps[static_cast<std::size_t>(s)];
    auto& out = p.values[static_cast<std::size_t>(st.out)];
    out.first = std::min(out.first, s);
    for (int v : st.in)
      p.values[static_cast<std::size_t>(v)].last = std::max(p.values[static_cast<std::size_t>(v)].last, s);
  }
  for (int v : p.outputs) p.values[static_cast<std::size_t>(v)].last = n_steps;
  for (auto& v : p.values) v.last = std::max(v.last, v.first);
  // A concat's output lives from the first step that writes into it in place.
  for (auto& v : p.values)
    if (v.parent >= 0) {
      Value& parent = p.values[static_cast<std::size_t>(v.parent)];
      parent.first = std::min(parent.first, v.first);
    }
  std::vector<int> order(p.values.size());
  for (std::size_t v = 0; v < order.size(); ++v) order[v] = static_cast<int>(v);
  auto size_of = [&](const Value& v) {
    return (v.shape.h * v.shape.w * (v.shape.c + v.pad_c) * n + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
  };
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
    return size_of(p.values[static_cast<std::size_t>(x)]) > size_of(p.values[static_cast<std::size_t>(y)]);
  });
  std::vector<int> placed;
  for (int v : order) {
    Value& val = p.values[static_cast<std::size_t>(v)];
    if (val.parent >= 0) continue;  // lives inside its concat's buffer
    std::vector<std::pair<std::int64_t, std::int64_t>> busy;
    for (int q : placed) {
      const Value& o2 = p.values[static_cast<std::size_t>(q)];
      if (o2.first <= val.last && val.first <= o2.last) busy.emplace_back(o2.offset, o2.offset + size_of(o2));
    }
    std::sort(busy.begin(), busy.end());
    std::int64_t offset = 0;
    for (const auto& [b, e] : busy) {
      if (offset + size_of(val) <= b) break;
      offset = std::max(offset, e);
    }
    val.offset = offset;
    p.arena_floats = std::max(p.arena_floats, offset + size_of(val));
    placed.push_back(v);
  }

  // Scratch: one im2col / col2im tile per thread.
  for (const Step& s : p.steps) {
    if (s.info.kind == StepKind::ConvIm2col)  // windows and results of an im2col tile
      p.scratch_floats = std::max(p.scratch_floats, kTile * (s.k_gemm + s.op.out_c / s.op.groups));
    if (s.info.kind == StepKind::ConvTranspose)
      p.scratch_floats = std::max(p.scratch_floats, kTile * s.op.k_h * s.op.k_w * (s.op.out_c / s.op.groups));
  }
  const std::int64_t total =
      (p.arena_floats + p.weight_floats + p.scratch_floats * options.threads + p.bottleneck_floats) * 4;
  if (total > options.memory_limit_bytes) {
    const Value* largest = &p.values.front();
    for (const auto& v : p.values)
      if (v.shape.elements() > largest->shape.elements()) largest = &v;
    return fail("", "the plan needs " + std::to_string(total) + " bytes (activations " +
                        std::to_string(p.arena_floats * 4) + ", weights " + std::to_string(p.weight_floats * 4) +
                        "), over the limit of " + std::to_string(options.memory_limit_bytes) + "; largest tensor '" +
                        largest->name + "' " + std::to_string(n) + "x" + largest->shape.str() + " = " +
                        std::to_string(largest->shape.elements() * n * 4) + " bytes");
  }
  p.arena = allocate(p.arena_floats);
  if (!p.arena) return fail("", "cannot allocate " + std::to_string(p.arena_floats * 4) + " bytes for activations");
  for (int t = 0; t < std::max(1, options.threads); ++t) p.scratch.push_back(allocate(p.scratch_floats));
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
  std::int64_t x_lo = 0, x_hi = out.w;  // output columns whose windows are inside the input horizontally
  while (x_lo < out.w && x_lo * st - pad < 0) ++x_lo;
  while (x_hi > x_lo && (x_hi - 1) * st - pad + (kw - 1) * dil >= in.w) --x_hi;

  // Implicit rows pay one pass over B per output row: worth it for rows of at
  // least this many pixels; narrower images go through im2col tiles alone.
  constexpr std::int64_t kMinImplicitWidth = 16;
  const bool implicit = x_hi - x_lo >= kMinImplicitWidth;

  const std::int64_t rows = batch * out.h;
  // One part per thread, each with its own scratch: an im2col tile of up to
  // kTile pixels (the windows of the pixels the implicit GEMM does not cover,
  // gathered across rows so each GEMM on it reuses B kTile times) and its results.
  const std::int64_t parts = std::min<std::int64_t>(static_cast<std::int64_t>(scratch.size()), rows);
  split(s, parts, [&](std::int64_t part_begin, std::int64_t part_end) {
    for (std::int64_t part = part_begin; part < part_end; ++part) {
      float* col = scratch[static_cast<std::size_t>(part)].get();
      float* res = col + kTile * k;
      std::int64_t pending[kTile], n = 0;  // output pixels whose windows are in col
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
          if (n == kTile) flush();
        };
        for (std::int64_t r = rows * part / parts; r < rows * (part + 1) / parts; ++r) {
          const std::int64_t b = r / out.h, oy = r % out.h, iy0 = oy * st - pad;
          if (!implicit || iy0 < 0 || iy0 + (kh - 1) * dil >= in.h) {
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
  for (std::int64_t p0 = 0; p0 < pixels; p0 += kTile) {
    const std::int64_t p1 = std::min(pixels, p0 + kTile);
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
  const Bottleneck& b = *s.bottleneck;
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
                               x,           b.cin, b.expand_w[static_cast<std::size_t>(q)].data(),
                               ebuf,        es,    b.expand_bias.data() + lo,
                               b.act_expand};
    split(
        s, p_in, [&](std::int64_t r0, std::int64_t r1) { kt->gemm(ge, r0, r1); }, kt->gemm_mr);
    // Depthwise on the slice.
    for (std::int64_t img = 0; img < batch; ++img) {
      kernels::DwArgs d;
      d.in = {ebuf + img * b.mid_in.h * b.mid_in.w * es, b.mid_in.h, b.mid_in.w, es, es};
      d.out = {dbuf + img * b.mid_out.h * b.mid_out.w * es, b.mid_out.h, b.mid_out.w, es, es};
      d.k = b.dw.k_h;
      d.stride = b.dw.stride;
      d.pad = b.dw.pad;
      d.dilation = b.dw.dilation;
      d.weights = b.dw_w[static_cast<std::size_t>(q)].data();
      d.w_stride = kernels::dw_weight_stride(es);
      d.bias = b.dw_bias.data() + lo;
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
                         b.project_w[static_cast<std::size_t>(q)].data(),
                         y,
                         b.cout,
                         q == 0 ? b.project_bias.data() : nullptr,
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
