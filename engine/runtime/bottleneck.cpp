// The fused bottleneck (bottleneck.h): matching the chain, and running the
// step over row bands or channel slices.
#include "runtime/bottleneck.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "runtime/plan_impl.h"

namespace convscope::runtime {

std::optional<BottleneckMatch> match_bottleneck(const cost::Analysis& a, const std::vector<int>& readers, std::size_t i,
                                                const PlanOptions& options, const kernels::KernelTable& kt,
                                                std::int64_t n) {
  const int node = a.ops[i].node;
  std::size_t j = i;
  auto op_at = [&](std::size_t q) -> const cost::OpRecord* {
    return q < a.ops.size() && a.ops[q].node == node ? &a.ops[q] : nullptr;
  };
  int cur = -1;
  std::vector<int> covered;
  // The op at j, of this block or (`any_block`: the chain's last activation, as
  // Schedule::build fuses a convolution's across blocks) the next.
  auto next_reads_cur = [&](ir::OpKind kind, bool any_block = false) -> const cost::OpRecord* {
    const auto* q = any_block && j < a.ops.size() ? &a.ops[j] : op_at(j);
    if (!q || q->op.kind != kind || q->inputs.front() != cur || readers[static_cast<std::size_t>(cur)] != 1)
      return nullptr;
    return q;
  };
  auto take = [&](ir::OpKind kind, bool any_block = false) -> const cost::OpRecord* {
    const auto* q = next_reads_cur(kind, any_block);
    if (q) {
      covered.push_back(static_cast<int>(j++));
      cur = q->output;
    }
    return q;
  };
  // A 1x1 convolution; grouped only in row bands, and not one the narrow_groups kernel runs.
  auto is_pointwise = [&](const cost::OpRecord& r) {
    const ir::Op& op = r.op;
    const std::int64_t g = op.groups, cin = a.tensors[static_cast<std::size_t>(r.inputs.front())].shape.c;
    return op.kind == ir::OpKind::Conv && op.k_h == 1 && op.k_w == 1 && op.stride == 1 && op.pad == 0 &&
           op.dilation == 1 &&
           (g == 1 || (options.fuse_rows && !kernels::runs_narrow_groups(kt, g, cin / g, op.out_c / g)));
  };
  // A channel shuffle between the steps (IGCV3's permutations): row bands only.
  auto take_shuffle = [&]() -> const cost::OpRecord* {
    return options.fuse_rows ? take(ir::OpKind::ChannelShuffle) : nullptr;
  };
  const auto* first = op_at(j);
  if (!first || first->op.kind != ir::OpKind::Conv) return std::nullopt;
  const int block_in = first->inputs.front();
  // With an expand 1x1 (the inverted residual), or, in row bands, from the
  // depthwise on (the separable block: depthwise -> pointwise).
  const cost::OpRecord *ex = nullptr, *bn1 = nullptr, *act1 = nullptr, *sh1 = nullptr, *dw = nullptr;
  if (is_pointwise(*first)) {
    ex = first;
    cur = ex->output;
    covered.push_back(static_cast<int>(j++));
    bn1 = take(ir::OpKind::BatchNorm);
    act1 = take(ir::OpKind::Activation);
    sh1 = take_shuffle();
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
  const auto* next = next_reads_cur(ir::OpKind::Conv);
  const auto* pr = next && is_pointwise(*next) ? take(ir::OpKind::Conv) : nullptr;
  // Without a project to fuse (squeeze-excite reads the depthwise output
  // first: EfficientNet's and MobileNetV3's blocks), row bands still keep the
  // expanded rows in cache and write the depthwise output; the first shuffle
  // would leave it unshuffled, so not with one.
  if (!pr && !(ex && options.fuse_rows && !sh1)) return std::nullopt;
  // The first shuffle folds into the project's reads: each group's depth in
  // one segment per shuffle group (unshuffle_gemm).
  if (sh1 && (e / pr->op.groups) % sh1->op.groups != 0) return std::nullopt;
  const auto* bn3 = pr ? take(ir::OpKind::BatchNorm) : nullptr;
  const auto* sh2 = pr ? take_shuffle() : nullptr;
  const cost::OpRecord* add = nullptr;
  if (const auto* q = op_at(j);
      pr && q && q->op.kind == ir::OpKind::Add && readers[static_cast<std::size_t>(cur)] == 1 &&
      ((q->inputs[0] == cur && q->inputs[1] == block_in) || (q->inputs[1] == cur && q->inputs[0] == block_in))) {
    add = q;
    covered.push_back(static_cast<int>(j++));
    cur = q->output;
  }
  // Xception's separable blocks end without one and a ReLU block follows.
  const auto* act3 = pr ? take(ir::OpKind::Activation, /*any_block=*/true) : nullptr;

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
  b.expand_groups = ex ? ex->op.groups : 1;
  b.project_groups = pr ? pr->op.groups : 1;
  b.shuffle1 = sh1 ? sh1->op.groups : 0;
  b.shuffle2 = sh2 ? sh2->op.groups : 0;
  b.cin = a.tensors[static_cast<std::size_t>(block_in)].shape.c;
  b.e = e;
  b.cout = pr ? pr->op.out_c : e;
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
    // Grouped convolutions come only in row bands (one slice: es == e).
    const std::int64_t g1 = b.expand_groups, g2 = b.project_groups;
    wfloats += (ex ? g1 * kernels::packed_b_size(kt, es / g1, b.cin / g1) : 0) + kk * kernels::dw_weight_stride(es) +
               (pr ? g2 * kernels::packed_b_size(kt, b.cout / g2, es / g2) : 0);
  }
  wfloats += b.e * (ex ? 2 : 1) + (pr ? b.cout : 0);  // biases
  st.info.name = "fused(" + std::to_string(covered.size()) + " ops, ";
  if (options.fuse_rows) {
    // The most output rows whose expanded rows, depthwise output (to the
    // buffer or, without a project, to the output: in cache either way) and
    // project output before its shuffle fit kBandBytes, but at least four GEMM
    // row tiles of pixels (narrower bands run the project GEMM on part-empty
    // tiles and stream its weights once per band: on 7 x 7 blocks they were
    // 5-10 % slower than op by op, Zen 5); then as many bands, evened out.
    b.e_stride = band_pixel_stride(e);
    const auto band_bytes = [&](std::int64_t r) {
      return ((b.input_rows(r) * b.mid_in.w + r * b.mid_out.w) * b.e_stride + (sh2 ? r * b.mid_out.w * b.cout : 0)) *
             std::int64_t{4};
    };
    const std::int64_t min_pixels = 4 * kt.gemm_mr;
    std::int64_t r = 1;
    while (r < b.mid_out.h && (band_bytes(r + 1) <= kBandBytes || r * b.mid_out.w < min_pixels)) ++r;
    const std::int64_t bands = (b.mid_out.h + r - 1) / r;
    b.band_rows = (b.mid_out.h + bands - 1) / bands;
    // Each buffer starts on a cache line (threads' buffers never share one).
    b.ebuf_floats = ex ? arena_block_floats(b.input_rows(b.band_rows) * b.mid_in.w * b.e_stride) : 0;  // else in place
    b.dbuf_floats = pr ? arena_block_floats(b.band_rows * b.mid_out.w * b.e_stride) : 0;  // else to the output
    b.pbuf_floats = sh2 ? arena_block_floats(b.band_rows * b.mid_out.w * b.cout) : 0;
    st.info.name += "rows of " + std::to_string(b.band_rows) + ")";
  } else {
    b.ebuf_floats = arena_block_floats(n * b.mid_in.h * b.mid_in.w * widest);
    b.dbuf_floats = arena_block_floats(n * b.mid_out.h * b.mid_out.w * widest);
    st.info.name += std::to_string(slices) + " slices)";
  }
  st.info.out = a.tensors[static_cast<std::size_t>(cur)].shape;
  st.weight_floats = wfloats;
  // Traffic: block input and output, weights; the slices stay in cache.
  st.info.bytes =
      (b.mid_in.h * b.mid_in.w * b.cin + st.info.out.elements() * (b.shortcut ? 2 : 1)) * n * 4 + wfloats * 4;
  st.bottleneck = std::make_shared<const BottleneckShape>(std::move(b));
  return BottleneckMatch{std::move(st), block_in, cur};
}

void Plan::Impl::run_bottleneck_rows(const Step& s) {
  const BottleneckShape& b = *s.bottleneck;
  const BottleneckWeights& bw = s.bw;
  float* const x = ptr(s.in[0]);  // only read (a view's pointer is not const)
  float* y = ptr(s.out);
  const std::int64_t e = b.e, es = b.e_stride, hin = b.mid_in.h, win = b.mid_in.w, hout = b.mid_out.h, wout = b.mid_out.w;
  const std::int64_t g1 = b.expand_groups, g2 = b.project_groups;
  // Each thread runs its share of the output rows band by band, in its own
  // buffer; a step too small to split runs them as one part (as the latency
  // model and the schedule's row parts count its bands).
  const std::int64_t parts = band_parts(b, batch, s.info.parallel ? pool->threads() : 1);
  split(s, parts, [&](std::int64_t part_begin, std::int64_t part_end) {
    for (std::int64_t part = part_begin; part < part_end; ++part) {
      float* const ebuf = bottleneck_scratch.get() + part * b.buffer_floats();
      float* const dbuf = ebuf + b.ebuf_floats;
      float* const pbuf = dbuf + b.dbuf_floats;
      std::int64_t have_lo = 0;  // ebuf's first expanded row
      for_each_band(b, batch, part, parts, [&](const RowBand& band) {
        const std::int64_t img = band.img, oy0 = band.oy0, oy1 = band.oy1, lo = band.lo, hi = band.hi;
        // The rows this band shares with the previous one are expanded already: to the front.
        if (b.expand >= 0 && band.from > lo)
          std::memmove(ebuf, ebuf + (lo - have_lo) * win * es, static_cast<std::size_t>((band.from - lo) * win * es) * 4);
        for (std::int64_t grp = 0; band.from < hi && grp < g1; ++grp) {
          const kernels::GemmArgs ge =
              group_gemm(grp, (hi - band.from) * win, e / g1, b.cin / g1, x + (img * hin + band.from) * win * b.cin,
                         b.cin, bw.expand_w[static_cast<std::size_t>(grp)].data(), ebuf + (band.from - lo) * win * es,
                         es, bw.expand_bias.data(), b.act_expand);
          kt->gemm(ge, 0, ge.m);
        }
        have_lo = lo;
        // The depthwise sees the image through views shifted so that their row
        // indices are the image's; it reads only rows [lo, hi) and writes rows [oy0, oy1).
        kernels::DwArgs d;
        if (b.expand >= 0)
          d.in = {ebuf - lo * win * es, hin, win, e, es};
        else
          d.in = {x + img * hin * win * e, hin, win, e, e};
        if (b.project >= 0)
          d.out = {dbuf - oy0 * wout * es, hout, wout, e, es};
        else  // expand -> depthwise only: straight into the output rows
          d.out = {y + img * hout * wout * e, hout, wout, e, e};
        d.k = b.dw_op.k_h;
        d.stride = b.dw_op.stride;
        d.pad = b.dw_op.pad;
        d.dilation = b.dw_op.dilation;
        d.weights = bw.dw_w.front().data();
        d.w_stride = kernels::dw_weight_stride(e);
        d.bias = bw.dw_bias.data();
        d.act = b.act_dw;
        d.y_begin = oy0;
        d.y_end = oy1;
        kt->depthwise(d);
        if (b.project < 0) return;
        const std::int64_t m = (oy1 - oy0) * wout;
        float* yb = y + (img * hout + oy0) * wout * b.cout;
        float* const pout = b.shuffle2 > 0 ? pbuf : yb;  // shuffled into yb below
        // Without a shortcut the block's activation is the project's epilogue
        // (an element-wise function: the shuffle after it does not change it);
        // as a pass of its own over the band it took 11 % of MobileNetV1's
        // first separable block.
        const ir::Activation project_act = b.shortcut ? ir::Activation::None : b.act_out;
        for (std::int64_t grp = 0; grp < g2; ++grp) {
          // After a folded first shuffle the depthwise output is unshuffled: each group's depth in segments.
          kt->gemm(group_gemm(grp, m, b.cout / g2, e / g2, dbuf, es, bw.project_w[static_cast<std::size_t>(grp)].data(),
                              pout, b.cout, bw.project_bias.data(), project_act, b.shuffle1, bw.seg_offsets.data()),
                   0, m);
        }
        if (b.shuffle2 > 0) kt->shuffle(pbuf, yb, m, b.cout, b.shuffle2);
        if (b.shortcut)  // stride 1 and cin == cout: the input's rows match the output's
          kt->add(yb, x + (img * hin + oy0) * win * b.cin, yb, m * b.cout, b.act_out);
      });
    }
  });
}

void Plan::Impl::run_bottleneck(const Step& s) {
  const BottleneckShape& b = *s.bottleneck;
  if (b.band_rows > 0) {
    run_bottleneck_rows(s);
    return;
  }
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

}  // namespace convscope::runtime
