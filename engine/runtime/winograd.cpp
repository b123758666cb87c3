// The Winograd step's executor (winograd.h): per band, the input transform,
// one GEMM per position, the output transform.
#include "runtime/winograd.h"

#include "runtime/plan_impl.h"

namespace convscope::runtime {

void Plan::Impl::run_winograd(const Step& s) {
  const ir::Shape in = shape(s.in[0]), out = shape(s.out);
  const WinogradShape w = winograd_shape(out, in.c, kt->gemm_lanes);
  const std::int64_t per = kernels::packed_b_size(*kt, out.c, in.c);
  const std::int64_t xs = stride(s.in[0]), ys = stride(s.out);
  // One part per thread when the step runs on all of them, else one (the
  // latency model and the schedule's row parts count the same bands).
  const std::int64_t parts = winograd_parts(w, batch, s.info.parallel ? static_cast<std::int64_t>(scratch.size()) : 1);
  split(s, parts, [&](std::int64_t part_begin, std::int64_t part_end) {
    for (std::int64_t part = part_begin; part < part_end; ++part) {
      float* buf = scratch[static_cast<std::size_t>(part)].get();
      kernels::WinogradArgs a;
      a.pad = s.op.pad;
      a.v = buf;
      a.m = buf + kernels::kWinogradPositions * w.v_pos();
      a.v_pos = w.v_pos();
      a.v_tile = w.v_tile;
      a.m_pos = w.m_pos();
      a.m_tile = w.m_tile;
      a.bias = s.bias.empty() ? nullptr : s.bias.data();
      a.act = s.act;
      for_each_winograd_band(w, batch, part, parts, [&](std::int64_t b, std::int64_t ty0, std::int64_t ty1) {
        a.in = {ptr(s.in[0]) + b * in.h * in.w * xs, in.h, in.w, in.c, xs};
        a.out = {ptr(s.out) + b * out.h * out.w * ys, out.h, out.w, out.c, ys};
        kt->winograd_input(a, ty0, ty1);
        const std::int64_t tiles = (ty1 - ty0) * w.tiles_w;
        for (std::int64_t p = 0; p < kernels::kWinogradPositions; ++p) {
          const kernels::GemmArgs g{
              tiles, out.c, in.c, a.v + p * a.v_pos, a.v_tile, s.w.data() + p * per, a.m + p * a.m_pos, a.m_tile};
          kt->gemm(g, 0, tiles);
        }
        kt->winograd_output(a, ty0, ty1);
      });
    }
  });
}

}  // namespace convscope::runtime
