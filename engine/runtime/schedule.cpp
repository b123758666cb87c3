#include "runtime/schedule.h"

#include <algorithm>
#include <optional>

#include "runtime/conv_transpose.h"
#include "runtime/memory_plan.h"
#include "runtime/reference_executor.h"

namespace convscope::runtime {

const StepKindTraits& step_kind_traits(StepKind k) {
  // In StepKind's order. strided_output: the executor in plan_run.cpp writes
  // pixel p at y + p * stride(out) (every per-pixel writer does; element-wise
  // steps over flat arrays, shuffles and the fused bottleneck do not).
  static constexpr StepKindTraits kTraits[kStepKinds] = {
      {"gemm", true},         {"conv_im2col", true}, {"depthwise", true}, {"conv_transpose", true},
      {"scale_shift", false}, {"activation", false}, {"add", false},      {"mul", false},
      {"concat", false},      {"slice", true},       {"shuffle", false},  {"pool", true},
      {"global_pool", false}, {"upsample", true},    {"crelu", true},     {"fused_bottleneck", false},
  };
  static_assert(static_cast<int>(StepKind::CReLU) == 14 && static_cast<int>(StepKind::Slice) == 9,
                "kTraits follows StepKind's order");
  return kTraits[static_cast<int>(k)];
}

Result<Schedule> Schedule::build(const ir::Graph& graph, const cost::Analysis& a, const PlanOptions& options) {
  if (!a.complete()) return fail("", "the graph has problems; fix them before running it");
  Schedule p;
  p.kt = options.kernels ? options.kernels : &kernels::best_kernels();
  p.threads = std::max(1, options.threads);
  p.batch = a.settings.batch;
  const kernels::KernelTable& kt = *p.kt;

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
  auto add_costs = [&](ScheduledStep& st) {
    for (int k : st.info.ops) {
      const auto& c = a.ops[static_cast<std::size_t>(k)].cost;
      st.info.madds += c.madds * n;
      st.info.flops += (2 * c.madds + c.other_ops) * n;
    }
  };

  // expand 1x1 [+bn][+act] -> depthwise [+bn][+act] -> project 1x1 [+bn] [-> add(block input)][+act],
  // every intermediate read only by the next op: one FusedBottleneck step.
  auto try_bottleneck = [&](std::size_t i) -> std::optional<ScheduledStep> {
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
    const auto* first = op_at(j);
    if (!first || first->op.kind != ir::OpKind::Conv) return std::nullopt;
    const int block_in = first->inputs.front();
    std::vector<int> covered;
    auto take = [&](ir::OpKind kind) -> const cost::OpRecord* {
      const auto* q = next_reads_cur(kind);
      if (q) {
        covered.push_back(static_cast<int>(j++));
        cur = q->output;
      }
      return q;
    };
    // With an expand 1x1 (the inverted residual), or, in row bands, from the
    // depthwise on (the separable block: depthwise -> pointwise).
    const cost::OpRecord *ex = nullptr, *bn1 = nullptr, *act1 = nullptr, *dw = nullptr;
    if (is_pointwise(first->op)) {
      ex = first;
      cur = ex->output;
      covered.push_back(static_cast<int>(j++));
      bn1 = take(ir::OpKind::BatchNorm);
      act1 = take(ir::OpKind::Activation);
      dw = take(ir::OpKind::Conv);
    } else if (options.fuse_rows) {
      dw = first;
      cur = dw->output;
      covered.push_back(static_cast<int>(j++));
    }
    const std::int64_t e = ex ? ex->op.out_c : a.tensors[static_cast<std::size_t>(block_in)].shape.c;
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
    const auto* act3 = take(ir::OpKind::Activation);

    auto index = [&](const cost::OpRecord* r) { return r ? static_cast<int>(r - a.ops.data()) : -1; };
    ScheduledStep st;
    st.op = first->op;
    st.info.kind = StepKind::FusedBottleneck;
    st.info.node = node;
    st.info.ops = covered;
    BottleneckShape b;
    b.expand = index(ex);
    b.bn1 = index(bn1);
    b.dw = index(dw);
    b.bn2 = index(bn2);
    b.project = index(pr);
    b.bn3 = index(bn3);
    b.cin = a.tensors[static_cast<std::size_t>(block_in)].shape.c;
    b.e = e;
    b.cout = pr->op.out_c;
    b.dw_op = dw->op;
    b.mid_in = a.tensors[static_cast<std::size_t>(ex ? ex->output : block_in)].shape;
    b.mid_out = a.tensors[static_cast<std::size_t>(dw->output)].shape;
    b.shortcut = add != nullptr;
    b.act_expand = act1 ? act1->op.act : ir::Activation::None;
    b.act_dw = act2 ? act2->op.act : ir::Activation::None;
    b.act_out = act3 ? act3->op.act : ir::Activation::None;
    const std::int64_t slices = options.fuse_rows ? 1 : std::min<std::int64_t>(options.split, e);
    const std::int64_t kk = dw->op.k_h * dw->op.k_w;
    std::int64_t widest = 0, wfloats = 0;
    for (std::int64_t q = 0; q <= slices; ++q) b.lo.push_back(e * q / slices);
    for (std::int64_t q = 0; q < slices; ++q) {
      const std::int64_t es = b.lo[static_cast<std::size_t>(q) + 1] - b.lo[static_cast<std::size_t>(q)];
      widest = std::max(widest, es);
      wfloats += (ex ? kernels::packed_b_size(kt, es, b.cin) : 0) + kk * kernels::dw_weight_stride(es) +
                 kernels::packed_b_size(kt, b.cout, es);
    }
    wfloats += b.e * (ex ? 2 : 1) + b.cout;  // biases
    st.info.name = "fused(" + std::to_string(covered.size()) + " ops, ";
    if (options.fuse_rows) {
      // The most output rows whose expanded rows and depthwise output fit
      // kBandBytes, but at least four GEMM row tiles of pixels (narrower bands
      // run the project GEMM on part-empty tiles and stream its weights once per
      // band: on 7 x 7 blocks they were 5-10 % slower than op by op, Zen 5);
      // then as many bands, evened out.
      const auto band_bytes = [&](std::int64_t r) {
        return (b.input_rows(r) * b.mid_in.w + r * b.mid_out.w) * e * std::int64_t{4};
      };
      const std::int64_t min_pixels = 4 * kt.gemm_mr;
      std::int64_t r = 1;
      while (r < b.mid_out.h && (band_bytes(r + 1) <= kBandBytes || r * b.mid_out.w < min_pixels)) ++r;
      const std::int64_t bands = (b.mid_out.h + r - 1) / r;
      b.band_rows = (b.mid_out.h + bands - 1) / bands;
      b.ebuf_floats = ex ? b.input_rows(b.band_rows) * b.mid_in.w * e : 0;  // else read in place
      b.dbuf_floats = b.band_rows * b.mid_out.w * e;
      st.info.name += "rows of " + std::to_string(b.band_rows) + ")";
    } else {
      b.ebuf_floats = n * b.mid_in.h * b.mid_in.w * widest;
      b.dbuf_floats = n * b.mid_out.h * b.mid_out.w * widest;
      st.info.name += std::to_string(slices) + " slices)";
    }
    st.in.push_back(value_for(block_in));
    st.out = value_for(cur);
    st.info.out = a.tensors[static_cast<std::size_t>(cur)].shape;
    add_costs(st);
    st.weight_floats = wfloats;
    // Traffic: block input and output, weights; the slices stay in cache.
    st.info.bytes =
        (b.mid_in.h * b.mid_in.w * b.cin + st.info.out.elements() * (b.shortcut ? 2 : 1)) * n * 4 + wfloats * 4;
    // Row bands: a buffer per thread (each runs its own bands).
    const std::int64_t buffers = b.band_rows > 0 ? p.threads : 1;
    p.bottleneck_floats = std::max(p.bottleneck_floats, buffers * (b.ebuf_floats + b.dbuf_floats));
    st.bottleneck = std::move(b);
    return st;
  };

  for (std::size_t i = 0; i < a.ops.size();) {
    const auto& o = a.ops[i];
    const bool fuse_here =
        options.fuse && (options.split > 0 || options.fuse_rows) &&
        (!options.fused_nodes || std::count(options.fused_nodes->begin(), options.fused_nodes->end(), o.node) > 0);
    if (fuse_here) {
      if (auto fused = try_bottleneck(i)) {
        i += fused->info.ops.size();
        p.weight_floats += fused->weight_floats;
        p.steps.push_back(std::move(*fused));
        continue;
      }
    }
    ScheduledStep s;
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
    if (conv_like) {
      if (int j = next_fusable(ir::OpKind::BatchNorm); j >= 0) {
        s.bn = j;
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

    const std::int64_t out_c = o.op.out_c;
    const std::int64_t bias_floats = conv_like ? out_c : 0;
    switch (o.op.kind) {
      case ir::OpKind::Conv: {
        const std::int64_t g = o.op.groups, cin_g = in.c / g, cout_g = out_c / g, kk = o.op.k_h * o.op.k_w;
        const bool depthwise = g == in.c && out_c == in.c;
        // 1x1, stride 1, no padding: a GEMM per group straight on the input (no im2col copy).
        const bool pointwise = kk == 1 && o.op.stride == 1 && o.op.pad == 0 && o.op.dilation == 1;
        if (depthwise) {
          s.info.kind = StepKind::Depthwise;
          s.weight_floats = kk * kernels::dw_weight_stride(out_c);
        } else {
          s.info.kind = pointwise ? StepKind::Gemm : StepKind::ConvIm2col;
          s.k_gemm = kk * cin_g;
          s.weight_floats = kernels::packed_b_size(kt, cout_g, s.k_gemm) * g;
        }
        break;
      }
      case ir::OpKind::FullyConnected:
        s.info.kind = StepKind::Gemm;
        s.k_gemm = in.elements();
        s.weight_floats = kernels::packed_b_size(kt, out_c, s.k_gemm);
        break;
      case ir::OpKind::ConvTranspose: {
        // One GEMM per output phase and group (conv_transpose.h).
        if (o.op.dilation != 1)
          return fail(o.op.name, "a transposed convolution with dilation " + std::to_string(o.op.dilation) +
                                     " cannot run (only 1)");
        s.info.kind = StepKind::ConvTranspose;
        s.k_gemm = transpose_max_depth(o.op, in.c / o.op.groups);
        s.weight_floats = conv_transpose_packed_size(kt, o.op, in.c);
        break;
      }
      case ir::OpKind::BatchNorm:
        s.info.kind = StepKind::ScaleShift;
        s.weight_floats = 2 * in.c;  // scale and shift
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
    s.weight_floats += bias_floats;
    for (int t : o.inputs) s.in.push_back(value_for(t));
    s.out = value_for(out_tensor);
    s.info.out = a.tensors[static_cast<std::size_t>(out_tensor)].shape;
    std::int64_t in_el = 0;
    for (int t : o.inputs) in_el += a.tensors[static_cast<std::size_t>(t)].shape.elements();
    add_costs(s);
    s.info.bytes = (in_el + s.info.out.elements()) * n * 4 + s.weight_floats * 4;
    p.weight_floats += s.weight_floats;
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
  // Whether v's producer can write its output with a pixel stride.
  auto strided_writer = [&](int v) {
    const int pr = producer[static_cast<std::size_t>(v)];
    return pr >= 0 && step_kind_traits(p.steps[static_cast<std::size_t>(pr)].info.kind).strided_output;
  };

  // Concat written in place: a step whose only reader is a concat writes
  // straight into its channel range of the concat's output (through a pixel
  // stride), and the concat copies only what remains.
  if (options.concat_in_place) {
    for (auto& st : p.steps) {
      if (st.info.kind != StepKind::Concat || p.values[static_cast<std::size_t>(st.out)].parent >= 0) continue;
      std::int64_t c0 = 0;
      for (int v : st.in) {
        ScheduledValue& val = p.values[static_cast<std::size_t>(v)];
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
  // A 1x1 convolution's input 4 KiB per pixel apart (1024, 2048 channels)
  // puts all the rows of a GEMM tile into one L1 set, more rows than ways:
  // same remedy (7 x 7 x 1024 -> 1024 at one thread, Zen 5: 598 -> 553 us).
  for (const ScheduledStep& st : p.steps) {
    const bool dw = st.info.kind == StepKind::Depthwise;
    const bool pointwise = st.info.kind == StepKind::Gemm && st.op.kind == ir::OpKind::Conv;
    if (!dw && !pointwise) continue;
    const int v = st.in[0];
    ScheduledValue& val = p.values[static_cast<std::size_t>(v)];
    if (strided_writer(v) && readers_of[static_cast<std::size_t>(v)] == 1 && val.parent < 0 &&
        val.shape.c % (dw ? 256 : 1024) == 0)
      val.pad_c = kArenaAlignFloats;  // one cache line
  }

  // Liveness, then each value's place in the arena (memory_plan.h).
  const int n_steps = static_cast<int>(p.steps.size());
  for (auto& v : p.values) {
    v.first = n_steps;
    v.last = -1;
  }
  for (int v : p.inputs) p.values[static_cast<std::size_t>(v)].first = 0;
  for (int s = 0; s < n_steps; ++s) {
    const ScheduledStep& st = p.steps[static_cast<std::size_t>(s)];
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
      ScheduledValue& parent = p.values[static_cast<std::size_t>(v.parent)];
      parent.first = std::min(parent.first, v.first);
    }
  std::vector<ArenaRequest> requests;
  std::vector<int> roots;  // values with memory of their own (not inside a concat)
  for (std::size_t v = 0; v < p.values.size(); ++v) {
    const ScheduledValue& val = p.values[v];
    if (val.parent >= 0) continue;
    requests.push_back({val.shape.h * val.shape.w * (val.shape.c + val.pad_c) * n, val.first, val.last});
    roots.push_back(static_cast<int>(v));
  }
  const ArenaPlan arena = plan_arena(requests);
  for (std::size_t i = 0; i < roots.size(); ++i) p.values[static_cast<std::size_t>(roots[i])].offset = arena.offsets[i];
  p.arena_floats = arena.floats;

  // Scratch: one im2col / col2im tile per thread.
  for (const ScheduledStep& s : p.steps) {
    if (s.info.kind == StepKind::ConvIm2col)  // windows and results of an im2col tile
      p.scratch_floats = std::max(p.scratch_floats, kIm2colTile * (s.k_gemm + s.op.out_c / s.op.groups));
    if (s.info.kind == StepKind::ConvTranspose)
      p.scratch_floats = std::max(p.scratch_floats, kIm2colTile * (col_stride(s.k_gemm) + s.op.out_c / s.op.groups));
  }
  return p;
}

Im2colCover im2col_cover(const ir::Op& op, const ir::Shape& in, const ir::Shape& out) {
  const std::int64_t st = op.stride, pad = op.pad, dil = op.dilation;
  Im2colCover c;
  c.x_hi = out.w;
  while (c.x_lo < out.w && c.x_lo * st - pad < 0) ++c.x_lo;
  while (c.x_hi > c.x_lo && (c.x_hi - 1) * st - pad + (op.k_w - 1) * dil >= in.w) --c.x_hi;
  c.y_hi = out.h;
  while (c.y_lo < out.h && c.y_lo * st - pad < 0) ++c.y_lo;
  while (c.y_hi > c.y_lo && (c.y_hi - 1) * st - pad + (op.k_h - 1) * dil >= in.h) --c.y_hi;
  c.implicit = c.x_hi - c.x_lo >= kMinImplicitWidth;
  return c;
}

std::int64_t Schedule::total_bytes() const {
  return (arena_floats + weight_floats + scratch_floats * threads + bottleneck_floats) * 4;
}

}  // namespace convscope::runtime
