#include "runtime/schedule.h"

#include "runtime/core_walk.h"

#include <algorithm>
#include <optional>

#include "runtime/bottleneck.h"
#include "runtime/conv_transpose.h"
#include "runtime/memory_plan.h"
#include "runtime/reference_executor.h"
#include "runtime/thread_pool.h"
#include "runtime/winograd.h"

namespace convscope::runtime {

const StepKindTraits& step_kind_traits(StepKind k) {
  // In StepKind's order. strided_output: the executor in plan_run.cpp writes
  // pixel p at y + p * stride(out) (every per-pixel writer does; element-wise
  // steps over flat arrays, shuffles and the fused bottleneck do not).
  // splits_pixels: it splits its output pixels or rows across the threads in
  // contiguous ranges, as GEMMs split theirs (small GEMMs split columns;
  // global pooling splits each image's input rows, and the calling thread
  // combines the parts' results). balances: see StepKindTraits; measured on
  // the 2-vCPU Zen 4 VM with its vCPUs on two core complexes (a cache-line
  // round trip of 360-400 ns; on one complex 90-110 ns): whole networks at two
  // threads 5-9 % faster with every kind balancing but the channel copies
  // (MobileNetV2 0.91, V3-Small 0.95, V3-Large 0.93-0.95, V1 0.95, EfficientNet
  // 0.96, ShuffleNet V2 0.98 of the static split; ShuffleNet 1.03 when the
  // copies balance too), and within -1.5 to +1 % on one complex.
  static constexpr StepKindTraits kTraits[kStepKinds] = {
      {"gemm", true, false},
      {"conv_im2col", true, false},
      {"depthwise", true, true},
      {"conv_transpose", true, false},
      {"scale_shift", false, true},
      {"activation", false, true},
      {"add", false, true},
      {"mul", false, true},
      {"concat", false, true, false},
      {"slice", true, true, false},
      {"shuffle", false, true, false},
      {"pool", true, true},
      {"global_pool", false, true},
      {"upsample", true, true},
      {"crelu", true, true},
      {"fused_bottleneck", false, false},
      {"winograd", true, false},
  };
  static_assert(static_cast<int>(StepKind::CReLU) == 14 && static_cast<int>(StepKind::Slice) == 9,
                "kTraits follows StepKind's order");
  return kTraits[static_cast<int>(k)];
}

namespace {

/// PlanOptions::fold_shuffles: each channel shuffle whose readers are all
/// grouped 1x1 convolutions (each group's depth a whole number of segments,
/// one per shuffle group), or whose only reader is a depthwise step (a
/// per-channel op: it commutes with any permutation of the channels) whose
/// readers all are, is removed. The depthwise reads the shuffle's input; the
/// convolutions read the unshuffled tensor through GemmArgs::a_seg. The
/// shuffle's output value goes. Segments narrower than a cache line are not
/// read in place: each group would then fetch every line of every pixel (IGCV3-D's
/// first projection, 112 x 112 x 32 in 2 groups, segments of 8: 92 -> 169 us,
/// more than the 32 us shuffle it saves; Zen 5, one thread).
void fold_shuffles(Schedule& p) {
  // Readers per value, kept as steps are re-pointed; folded steps and values
  // are marked and compacted away at the end (one pass, not an erase each).
  std::vector<std::vector<std::size_t>> readers(p.values.size());
  for (std::size_t i = 0; i < p.steps.size(); ++i)
    for (int v : p.steps[i].in) readers[static_cast<std::size_t>(v)].push_back(i);
  auto is_output = [&](int v) { return std::count(p.outputs.begin(), p.outputs.end(), v) > 0; };
  std::vector<char> step_gone(p.steps.size(), 0), value_gone(p.values.size(), 0);
  auto repoint = [&](std::size_t i, int from, int to) {  // step i reads `to` instead of `from`
    for (int& v : p.steps[i].in) v = v == from ? to : v;
    readers[static_cast<std::size_t>(to)].push_back(i);
  };
  for (std::size_t si = 0; si < p.steps.size(); ++si) {
    const ScheduledStep& sh = p.steps[si];
    if (sh.info.kind != StepKind::Shuffle || sh.op.groups < 2 || is_output(sh.out)) continue;
    const std::int64_t groups = sh.op.groups;
    // Whether every step of `convs` is a 1x1 convolution that can read the
    // unshuffled tensor in segments of a cache line or more.
    auto foldable = [&](const std::vector<std::size_t>& convs) {
      return !convs.empty() && std::all_of(convs.begin(), convs.end(), [&](std::size_t i) {
        const ScheduledStep& g = p.steps[i];
        return g.info.kind == StepKind::Gemm && g.op.kind == ir::OpKind::Conv && !g.narrow_groups && g.in.size() == 1 &&
               g.unshuffled == 0 && g.k_gemm % groups == 0 && g.k_gemm / groups >= kArenaAlignFloats;
      });
    };
    std::vector<std::size_t> convs = readers[static_cast<std::size_t>(sh.out)];
    ScheduledStep* dw = nullptr;
    if (!foldable(convs)) {
      if (convs.size() != 1) continue;
      dw = &p.steps[convs[0]];
      if (dw->info.kind != StepKind::Depthwise || dw->in.size() != 1 || dw->unshuffled > 0 || is_output(dw->out))
        continue;
      convs = readers[static_cast<std::size_t>(dw->out)];
      if (!foldable(convs)) continue;
      repoint(static_cast<std::size_t>(dw - p.steps.data()), sh.out, sh.in[0]);
      dw->unshuffled = groups;
      dw->info.ops.insert(dw->info.ops.end(), sh.info.ops.begin(), sh.info.ops.end());  // front(): the convolution
      dw->info.name = sh.info.name + "+" + dw->info.name;
    }
    for (std::size_t i : convs) {
      ScheduledStep& g = p.steps[i];
      g.unshuffled = groups;
      if (dw) continue;
      repoint(i, sh.out, sh.in[0]);
      if (i != convs.front()) continue;  // the shuffle's op is covered by one step
      g.info.ops.insert(g.info.ops.end(), sh.info.ops.begin(), sh.info.ops.end());
      g.info.name = sh.info.name + "+" + g.info.name;
    }
    step_gone[si] = 1;
    value_gone[static_cast<std::size_t>(sh.out)] = 1;
  }
  // Compact: the folded shuffles' steps and output values go, values renumbered.
  std::vector<int> new_id(p.values.size(), -1);
  std::size_t kept = 0;
  for (std::size_t v = 0; v < p.values.size(); ++v)
    if (!value_gone[v]) {
      new_id[v] = static_cast<int>(kept);
      if (kept != v) p.values[kept] = std::move(p.values[v]);
      ++kept;
    }
  p.values.resize(kept);
  auto renumber = [&](int& v) { v = new_id[static_cast<std::size_t>(v)]; };
  kept = 0;
  for (std::size_t i = 0; i < p.steps.size(); ++i) {
    if (step_gone[i]) continue;
    if (kept != i) p.steps[kept] = std::move(p.steps[i]);
    ScheduledStep& st = p.steps[kept++];
    for (int& v : st.in) renumber(v);
    renumber(st.out);
  }
  p.steps.resize(kept);
  for (int& v : p.inputs) renumber(v);
  for (int& v : p.outputs) renumber(v);
}

}  // namespace

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

  for (std::size_t i = 0; i < a.ops.size();) {
    const auto& o = a.ops[i];
    const bool fuse_here =
        options.fuse && (options.split > 0 || options.fuse_rows) &&
        (!options.fused_nodes || std::count(options.fused_nodes->begin(), options.fused_nodes->end(), o.node) > 0);
    if (fuse_here) {
      if (auto fused = match_bottleneck(a, readers, i, options, kt, n)) {
        ScheduledStep& st = fused->step;
        st.in.push_back(value_for(fused->in_tensor));
        st.out = value_for(fused->out_tensor);
        add_costs(st);
        // Row bands: a buffer per thread (each runs its own bands).
        const BottleneckShape& b = *st.bottleneck;
        const std::int64_t buffers = b.band_rows > 0 ? p.threads : 1;
        p.bottleneck_floats = std::max(p.bottleneck_floats, buffers * b.buffer_floats());
        i += st.info.ops.size();
        p.weight_floats += st.weight_floats;
        p.steps.push_back(std::move(st));
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
    // Fusion: the next op, of this block or the next, that is the only reader
    // of our output. A graph written op by op (an imported ONNX model: Conv,
    // BatchNormalization and Relu as blocks of their own) runs as one step
    // as its blocks would; the step counts under the first op's block.
    auto next_fusable = [&](ir::OpKind kind) -> int {
      const std::size_t j = i + s.info.ops.size();
      if (!options.fuse || j >= a.ops.size()) return -1;
      const auto& nx = a.ops[j];
      if (nx.op.kind != kind || nx.inputs.front() != out_tensor || readers[static_cast<std::size_t>(out_tensor)] != 1)
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
        } else if (options.winograd &&
                   runs_winograd(o.op, a.tensors[static_cast<std::size_t>(o.output)].shape, in.c, p.batch)) {
          s.info.kind = StepKind::Winograd;
          s.k_gemm = in.c;
          s.weight_floats = kernels::winograd_weights_size(kt, out_c, in.c);
        } else {
          s.info.kind = pointwise ? StepKind::Gemm : StepKind::ConvIm2col;
          s.k_gemm = kk * cin_g;
          s.narrow_groups = pointwise && kernels::runs_narrow_groups(kt, g, cin_g, cout_g);
          s.weight_floats = s.narrow_groups ? kernels::narrow_groups_size(kt, cin_g, out_c)
                                            : kernels::packed_b_size(kt, cout_g, s.k_gemm) * g;
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
    if (s.info.kind == StepKind::Winograd) s.info.kernel_flops = winograd_flops(s.info.out, in.c) * n;
    s.info.bytes = (in_el + s.info.out.elements()) * n * 4 + s.weight_floats * 4;
    p.weight_floats += s.weight_floats;
    i += s.info.ops.size();
    p.steps.push_back(std::move(s));
  }
  for (int t : output_tensors(a)) p.outputs.push_back(value_of[static_cast<std::size_t>(t)]);
  if (options.fold_shuffles) fold_shuffles(p);

  // Who writes and who reads each value, for the two layout choices below.
  std::vector<int> producer(p.values.size(), -1), readers_of(p.values.size(), 0);
  for (std::size_t si = 0; si < p.steps.size(); ++si) {
    producer[static_cast<std::size_t>(p.steps[si].out)] = static_cast<int>(si);
    for (int v : p.steps[si].in) ++readers_of[static_cast<std::size_t>(v)];
  }
  for (int v : p.outputs) ++readers_of[static_cast<std::size_t>(v)];  // read by the caller too

  // Which steps run across the threads. A small step (under kMinParallelFlops
  // and kMinParallelBytes) stays on the calling thread, where waking a worker
  // (about a microsecond) would cost more than it saves, unless it splits its
  // pixels or rows and reads what a step across the threads wrote: then it
  // splits as that step did, each thread reading the part it wrote. Left on one
  // thread it reads the other thread's half from the other core's cache: on a
  // Zen 4 VM (2 vCPUs) ShuffleNet V2's 7x7x464 shuffles took 9-13 us there
  // against 2.7 us at one thread.
  if (p.threads > 1)
    for (auto& st : p.steps) {
      const bool large = st.info.flops >= kMinParallelFlops || st.info.bytes >= kMinParallelBytes;
      bool follows = false;
      if (step_kind_traits(st.info.kind).splits_pixels)
        for (int v : st.in) {
          const int pr = producer[static_cast<std::size_t>(v)];
          follows = follows || (pr >= 0 && p.steps[static_cast<std::size_t>(pr)].info.parallel);
        }
      st.info.parallel = large || follows;
    }
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

  // Slices read in place: a channel slice whose every reader reads its input
  // through the input's pixel stride (1x1 convolutions, depthwise, concat
  // copies) becomes a view of its source's channel range, and its step copies
  // nothing (ShuffleNet's split: the half that goes on to the convolutions).
  auto reads_strided = [&](const ScheduledStep& st) {
    return st.info.kind == StepKind::Depthwise || st.info.kind == StepKind::Concat ||
           (st.info.kind == StepKind::Gemm && st.op.kind == ir::OpKind::Conv);
  };
  if (options.concat_in_place) {
    for (const ScheduledStep& st : p.steps) {
      if (st.info.kind != StepKind::Slice) continue;
      ScheduledValue& view = p.values[static_cast<std::size_t>(st.out)];
      const ScheduledValue& src = p.values[static_cast<std::size_t>(st.in[0])];
      if (view.parent >= 0 || src.parent >= 0 || src.pad_c > 0 ||
          std::count(p.outputs.begin(), p.outputs.end(), st.out) > 0)
        continue;
      bool all = true;
      for (const ScheduledStep& q : p.steps)
        if (std::count(q.in.begin(), q.in.end(), st.out) > 0) all = all && reads_strided(q);
      if (!all) continue;
      view.parent = st.in[0];
      view.channel_offset = st.op.slice_start;
    }
  }

  // Steps left with nothing to do: a concat whose every input was written in
  // place, a slice read in place. They stay in the schedule (the values and
  // their lifetimes are theirs) but runs skip them.
  for (auto& st : p.steps) {
    const auto parent = [&](int v) { return p.values[static_cast<std::size_t>(v)].parent; };
    if (st.info.kind == StepKind::Concat)
      st.info.no_work = std::all_of(st.in.begin(), st.in.end(), [&](int v) { return parent(v) == st.out; });
    if (st.info.kind == StepKind::Slice) st.info.no_work = parent(st.out) == st.in[0];
  }

  // Pixel strides: a depthwise input whose pixels are a multiple of 1 KiB apart
  // (256, 512, 1024 channels) puts every line a kernel tile reads into a few L1
  // sets, which then evict each other. Its producer writes it one cache line
  // wider per pixel instead, when the depthwise step is its only reader.
  // A 1x1 convolution's input 4 KiB per pixel apart (1024, 2048 channels)
  // puts all the rows of a GEMM tile into one L1 set, more rows than ways:
  // same remedy (7 x 7 x 1024 -> 1024 at one thread, Zen 5: 598 -> 553 us).
  // A depthwise's own output 1 KiB per pixel apart sends each channel
  // vector's stores into one or two L1 sets: when its reader reads through a
  // pixel stride, the depthwise writes it one line wider too (bench_kernels
  // BM_DepthwisePadded, Zen 5: 7 x 7 x 1024 31-33 us into a 4 KiB stride, 9 us
  // into a 4160-byte one). And a stride-1 depthwise whose K input rows crowd
  // L1 (kernels::dw_column_rows_crowd_l1) reads them padded: 56 x 56 x 128 112 -> 80 us
  // (no gain at stride 2 or for 112 x 112 x 32).
  // A concat copies its inputs pixel by pixel, so it writes a padded output
  // too (MobileNet-seg's decoders: a 14 x 14 x 1024 concat into a depthwise).
  auto pads_output = [&](int v) {
    const int pr = producer[static_cast<std::size_t>(v)];
    return strided_writer(v) || (pr >= 0 && p.steps[static_cast<std::size_t>(pr)].info.kind == StepKind::Concat);
  };
  auto pad = [&](int v, bool crowded) {
    ScheduledValue& val = p.values[static_cast<std::size_t>(v)];
    if (crowded && pads_output(v) && readers_of[static_cast<std::size_t>(v)] == 1 && val.parent < 0)
      val.pad_c = kArenaAlignFloats;  // one cache line
  };
  for (const ScheduledStep& st : p.steps) {
    const std::int64_t c = p.values[static_cast<std::size_t>(st.in[0])].shape.c;
    if (st.info.kind == StepKind::Gemm && st.op.kind == ir::OpKind::Conv) pad(st.in[0], c % 1024 == 0);
    if (st.info.kind != StepKind::Depthwise) continue;
    const std::int64_t w = p.values[static_cast<std::size_t>(st.in[0])].shape.w;
    const int k = static_cast<int>(st.op.k_h);
    pad(st.in[0], c % 256 == 0 || (st.op.stride == 1 && c % 16 == 0 &&
                                   kernels::dw_column_rows_crowd_l1(k, 1, w, c, kernels::l1d_ways())));
    for (const ScheduledStep& q : p.steps)
      if (std::count(q.in.begin(), q.in.end(), st.out) > 0 && reads_strided(q)) pad(st.out, c % 256 == 0);
  }

  // Element-wise steps in place: a channel scale or an add whose output has
  // the shape of an input that no later step reads writes over that input
  // (the output becomes a view of its buffer, as a slice read in place is).
  // The lines it writes are those its threads just read, so none is fetched
  // for the write: squeeze-excite's 14 x 14 x 672 scale, Zen 4, one thread,
  // 11.7 -> 6.3 us. After the pixel strides: both values keep their own
  // (unpadded) strides, which the element-wise executors assume.
  if (options.elementwise_in_place) {
    std::vector<int> last_reader(p.values.size(), -1);
    std::vector<char> held(p.values.size(), 0);  // a graph input or output, or another value's home
    for (std::size_t si = 0; si < p.steps.size(); ++si)
      for (int v : p.steps[si].in) last_reader[static_cast<std::size_t>(v)] = static_cast<int>(si);
    for (const ScheduledValue& val : p.values)
      if (val.parent >= 0) held[static_cast<std::size_t>(val.parent)] = 1;
    for (int v : p.inputs) held[static_cast<std::size_t>(v)] = 1;
    for (int v : p.outputs) held[static_cast<std::size_t>(v)] = 1;
    auto free_root = [&](int v) {
      const ScheduledValue& val = p.values[static_cast<std::size_t>(v)];
      return val.parent < 0 && val.pad_c == 0 && !held[static_cast<std::size_t>(v)];
    };
    for (std::size_t si = 0; si < p.steps.size(); ++si) {
      const ScheduledStep& st = p.steps[si];
      if ((st.info.kind != StepKind::Mul && st.info.kind != StepKind::Add) || !free_root(st.out)) continue;
      ScheduledValue& out = p.values[static_cast<std::size_t>(st.out)];
      // A channel scale's second input is the scales (one pixel): only the first can host.
      const std::size_t hosts = st.info.kind == StepKind::Mul ? 1 : st.in.size();
      for (std::size_t k = 0; k < hosts; ++k) {
        const int v = st.in[k];
        const ir::Shape& in = p.values[static_cast<std::size_t>(v)].shape;
        if (!free_root(v) || last_reader[static_cast<std::size_t>(v)] != static_cast<int>(si) ||
            std::count(st.in.begin(), st.in.end(), v) != 1 || in.h != out.shape.h || in.w != out.shape.w ||
            in.c != out.shape.c)
          continue;
        out.parent = v;
        out.channel_offset = 0;
        held[static_cast<std::size_t>(v)] = 1;
        break;
      }
    }
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
  // A value inside another's buffer keeps it alive: a concat's output from the
  // first step that writes into it in place, a slice's source until the last
  // step that reads the view.
  for (auto& v : p.values)
    if (v.parent >= 0) {
      ScheduledValue& parent = p.values[static_cast<std::size_t>(v.parent)];
      parent.first = std::min(parent.first, v.first);
      parent.last = std::max(parent.last, v.last);
    }
  std::vector<ArenaRequest> requests;
  std::vector<int> roots;  // values with memory of their own (not inside a concat)
  for (std::size_t v = 0; v < p.values.size(); ++v) {
    const ScheduledValue& val = p.values[v];
    if (val.parent >= 0) continue;
    requests.push_back({val.shape.h * val.shape.w * (val.shape.c + val.pad_c) * n, val.first, val.last});
    roots.push_back(static_cast<int>(v));
  }
  ArenaPlan arena = plan_arena(requests);
  if (p.threads > 1 && options.place_by_thread) {
    auto traffic = std::make_shared<std::vector<SteadyTraffic>>();
    arena = plan_arena_by_thread(p, roots, requests, arena, traffic.get());
    p.traffic = std::move(traffic);
  }
  for (std::size_t i = 0; i < roots.size(); ++i) p.values[static_cast<std::size_t>(roots[i])].offset = arena.offsets[i];
  p.arena_floats = arena.floats;

  // Scratch: one im2col / col2im tile per thread.
  for (const ScheduledStep& s : p.steps) {
    if (s.info.kind == StepKind::ConvIm2col)  // windows and results of an im2col tile
      p.scratch_floats = std::max(p.scratch_floats, kIm2colTile * (s.k_gemm + s.op.out_c / s.op.groups));
    if (s.info.kind == StepKind::Winograd)  // a band's transforms and GEMM results
      p.scratch_floats = std::max(
          p.scratch_floats,
          winograd_shape(p.values[static_cast<std::size_t>(s.out)].shape, s.k_gemm, kt.gemm_lanes).scratch_floats());
    if (s.info.kind == StepKind::ConvTranspose)
      p.scratch_floats = std::max(p.scratch_floats, kIm2colTile * (col_stride(s.k_gemm) + s.op.out_c / s.op.groups));
    if (s.info.kind == StepKind::GlobalPool && s.info.parallel)  // a part's pooled channels
      p.scratch_floats = std::max(p.scratch_floats, p.values[static_cast<std::size_t>(s.out)].shape.c);
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

GemmDims Schedule::gemm_dims(const ScheduledStep& st) const {
  const bool fc = st.op.kind == ir::OpKind::FullyConnected;
  const ir::Shape& in = values[static_cast<std::size_t>(st.in[0])].shape;
  const std::int64_t groups = fc ? 1 : st.op.groups;
  return {fc ? batch : batch * in.h * in.w, groups, st.op.out_c / groups};
}

ThreadSplit Schedule::thread_split(std::size_t i) const {
  const ScheduledStep& st = steps.at(i);
  if (threads <= 1 || !st.info.parallel) return ThreadSplit::One;
  if (st.info.kind == StepKind::Gemm && !st.narrow_groups) {
    const GemmDims d = gemm_dims(st);
    return gemm_splits_columns(*kt, d.m, d.n, threads) ? ThreadSplit::Columns : ThreadSplit::Rows;
  }
  // A transposed convolution splits the rows of its output phases and groups
  // (conv_transpose.cpp): with more than one, each thread writes rows spread
  // over the output and reads all of the input, as a column split does.
  if (st.info.kind == StepKind::ConvTranspose && (st.op.stride > 1 || st.op.groups > 1)) return ThreadSplit::Columns;
  // Channel slices end with the shortcut or the activation over the whole
  // output on the calling thread (run_bottleneck; the model ignores that the
  // projection before it split rows).
  if (st.bottleneck && st.bottleneck->band_rows == 0 &&
      (st.bottleneck->shortcut || st.bottleneck->act_out != ir::Activation::None))
    return ThreadSplit::One;
  return ThreadSplit::Rows;
}

std::vector<PixelPart> Schedule::row_parts(std::size_t i, int t) const {
  const ScheduledStep& st = steps.at(i);
  const ir::Shape& out = values[static_cast<std::size_t>(st.out)].shape;
  const ir::Shape& in = values[static_cast<std::size_t>(st.in.at(0))].shape;
  const std::int64_t ohw = out.h * out.w, ihw = in.h * in.w;
  std::vector<PixelPart> parts;
  // Output rows [y0, y1) of image b, reading input rows [iy0, iy1).
  auto rows = [&](std::int64_t b, std::int64_t y0, std::int64_t y1, std::int64_t iy0, std::int64_t iy1) {
    if (y0 >= y1) return;
    iy0 = std::clamp<std::int64_t>(iy0, 0, in.h);
    iy1 = std::clamp<std::int64_t>(iy1, iy0, in.h);
    parts.push_back({b * ohw + y0 * out.w, b * ohw + y1 * out.w, b * ihw + iy0 * in.w, b * ihw + iy1 * in.w});
  };
  // The input rows k x k windows at this stride, padding and dilation read for output rows [y0, y1).
  auto windows = [&](std::int64_t b, std::int64_t y0, std::int64_t y1) {
    const std::int64_t s = st.op.stride, reach = (st.op.k_h - 1) * std::max<std::int64_t>(st.op.dilation, 1);
    rows(b, y0, y1, y0 * s - st.op.pad, (y1 - 1) * s - st.op.pad + reach + 1);
  };
  // The output rows [r0, r1) of the whole batch, image by image.
  auto batch_rows = [&](std::int64_t r0, std::int64_t r1, const auto& each) {
    for (std::int64_t r = r0; r < r1;) {
      const std::int64_t b = r / out.h, y0 = r % out.h, y1 = std::min(out.h, y0 + r1 - r);
      each(b, y0, y1);
      r += y1 - y0;
    }
  };
  auto pixels = [&](std::int64_t grain) {
    const std::int64_t n = batch * ohw;
    const auto [p0, p1] = ThreadPool::chunk(n, grain, threads, t);
    if (p0 < p1) parts.push_back({p0, p1, p0 * batch * ihw / n, p1 * batch * ihw / n});
  };
  switch (st.info.kind) {
    case StepKind::Depthwise:
    case StepKind::Pool:  // each image's rows split (plan_run.cpp)
      for (std::int64_t b = 0; b < batch; ++b) {
        const auto [y0, y1] = ThreadPool::chunk(out.h, 1, threads, t);
        windows(b, y0, y1);
      }
      break;
    case StepKind::GlobalPool:  // each image's input rows split; the calling thread writes the result
      for (std::int64_t b = 0; b < batch; ++b) {
        const auto [y0, y1] = ThreadPool::chunk(in.h, 1, threads, t);
        if (y0 < y1 || t == 0) parts.push_back({b, t == 0 ? b + 1 : b, b * ihw + y0 * in.w, b * ihw + y1 * in.w});
      }
      break;
    case StepKind::ConvIm2col: {  // one part of the batch's rows per thread
      const std::int64_t n = batch * out.h, np = std::min<std::int64_t>(threads, n);
      if (t < np) batch_rows(n * t / np, n * (t + 1) / np, windows);
      break;
    }
    case StepKind::Winograd: {  // one part of the batch's bands per thread
      const WinogradShape w = winograd_shape(out, in.c, kt->gemm_lanes);
      const std::int64_t np = winograd_parts(w, batch, threads);
      if (t < np)
        for_each_winograd_band(w, batch, t, np, [&](std::int64_t b, std::int64_t ty0, std::int64_t ty1) {
          windows(b, ty0 * 4, std::min(out.h, ty1 * 4));
        });
      break;
    }
    case StepKind::Upsample: {
      const auto [r0, r1] = ThreadPool::chunk(batch * out.h, 1, threads, t);
      const std::int64_t sc = std::max<std::int64_t>(st.op.scale, 1);
      const bool bilinear = st.op.upsample == ir::UpsampleMode::Bilinear;
      batch_rows(r0, r1, [&](std::int64_t b, std::int64_t y0, std::int64_t y1) {
        // Nearest: row y / sc; bilinear: the two rows around (y + 0.5) / sc - 0.5.
        rows(b, y0, y1, bilinear ? (2 * y0 + 1 - sc) / (2 * sc) : y0 / sc,
             bilinear ? (2 * (y1 - 1) + 1 - sc) / (2 * sc) + 2 : (y1 - 1) / sc + 1);
      });
      break;
    }
    case StepKind::FusedBottleneck:
      if (st.bottleneck->band_rows > 0) {
        const std::int64_t np = band_parts(*st.bottleneck, batch, threads);
        if (t < np)
          for_each_band(*st.bottleneck, batch, t, np,
                        [&](const RowBand& band) { rows(band.img, band.oy0, band.oy1, band.lo, band.hi); });
      } else {  // channel slices: each GEMM splits its rows, the expand's over the input's pixels
        const auto [o0, o1] = ThreadPool::chunk(batch * ohw, kt->gemm_mr, threads, t);
        const auto [i0, i1] = ThreadPool::chunk(batch * ihw, kt->gemm_mr, threads, t);
        if (o0 < o1 || i0 < i1) parts.push_back({o0, o1, i0, i1});
      }
      break;
    case StepKind::Gemm:
      pixels(st.narrow_groups ? 8 : kt->gemm_mr);
      break;
    default:  // split_pixels
      pixels(step_kind_traits(st.info.kind).splits_pixels ? 8 : 1);
      break;
  }
  return parts;
}

}  // namespace convscope::runtime
