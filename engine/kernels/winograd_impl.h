#pragma once
/// Winograd F(4x4, 3x3) input and output transforms over channel vectors,
/// included by each table's translation unit (inside its namespace) after it
/// defines kWinoLanes, so the compiler builds them for that unit's instruction
/// set. GCC / Clang vector extensions: the transforms are adds and scalar
/// multiplies only, the same code for 4, 8 and 16 lanes.
///
/// The transforms (Lavin & Gray 2016, interpolation points 0, +-1, +-2, inf),
/// written factored so each 6-point pass costs about a dozen vector operations:
///   input  r = B^T d:  r0 = 4 d0 - 5 d2 + d4          r5 = 4 d1 - 5 d3 + d5
///                      r1,2 = (d4 - 4 d2) +- (d3 - 4 d1)
///                      r3,4 = (d4 - d2) +- 2 (d3 - d1)
///   output o = A^T m:  o0 = m0 + (m1 + m2) + (m3 + m4)
///                      o1 = (m1 - m2) + 2 (m3 - m4)
///                      o2 = (m1 + m2) + 4 (m3 + m4)
///                      o3 = (m1 - m2) + 8 (m3 - m4) + m5

// Needs <cstring> and kernels/kernels.h included before (at file scope).

typedef float WinoVec __attribute__((vector_size(kWinoLanes * sizeof(float))));

/// A vector's first n floats (the rest zero), and the reverse. Callers pass
/// the constant kWinoLanes where the vector is whole: a memcpy of constant
/// size compiles to one vector load or store, one of n floats to a call.
inline WinoVec wino_load(const float* p, std::int64_t n) {
  WinoVec v{};
  std::memcpy(&v, p, static_cast<std::size_t>(n) * sizeof(float));
  return v;
}
inline void wino_store(float* p, WinoVec v, std::int64_t n) {
  std::memcpy(p, &v, static_cast<std::size_t>(n) * sizeof(float));
}

inline void wino_in6(const WinoVec* d, WinoVec* r) {
  const WinoVec a = d[4] - 4.f * d[2], b = d[3] - 4.f * d[1], c = d[4] - d[2], e = 2.f * (d[3] - d[1]);
  r[0] = 4.f * d[0] - 5.f * d[2] + d[4];
  r[1] = a + b;
  r[2] = a - b;
  r[3] = c + e;
  r[4] = c - e;
  r[5] = 4.f * d[1] - 5.f * d[3] + d[5];
}

inline void wino_out6(const WinoVec* m, WinoVec* o) {
  const WinoVec p = m[1] + m[2], q = m[1] - m[2], s = m[3] + m[4], t = m[3] - m[4];
  o[0] = m[0] + p + s;
  o[1] = q + 2.f * t;
  o[2] = p + 4.f * s;
  o[3] = q + 8.f * t + m[5];
}

/// Tile rows [ty0, ty1) of one image into the band's input transforms.
inline void winograd_input(const convscope::kernels::WinogradArgs& a, std::int64_t ty0, std::int64_t ty1) {
  const std::int64_t tiles_w = convscope::kernels::winograd_tiles(a.out.w), cin = a.in.c;
  for (std::int64_t ty = ty0; ty < ty1; ++ty)
    for (std::int64_t tx = 0; tx < tiles_w; ++tx) {
      const std::int64_t tile = (ty - ty0) * tiles_w + tx, iy0 = ty * 4 - a.pad, ix0 = tx * 4 - a.pad;
      const bool inner = iy0 >= 0 && ix0 >= 0 && iy0 + 6 <= a.in.h && ix0 + 6 <= a.in.w;
      float* v = a.v + tile * a.v_tile;
      for (std::int64_t c0 = 0; c0 < cin; c0 += kWinoLanes) {
        const std::int64_t cn = cin - c0 < kWinoLanes ? cin - c0 : kWinoLanes;
        WinoVec t[6][6];
        for (int i = 0; i < 6; ++i) {
          WinoVec d[6];
          const std::int64_t iy = iy0 + i;
          for (int j = 0; j < 6; ++j) {
            const std::int64_t ix = ix0 + j;
            const bool in = inner || (iy >= 0 && iy < a.in.h && ix >= 0 && ix < a.in.w);
            d[j] = !in                ? WinoVec{}
                   : cn == kWinoLanes ? wino_load(a.in.px(iy, ix) + c0, kWinoLanes)
                                      : wino_load(a.in.px(iy, ix) + c0, cn);
          }
          wino_in6(d, t[i]);  // along the row
        }
        for (int j = 0; j < 6; ++j) {  // down each column
          WinoVec col[6], r[6];
          for (int i = 0; i < 6; ++i) col[i] = t[i][j];
          wino_in6(col, r);
          for (int i = 0; i < 6; ++i) {
            float* dst = v + (i * 6 + j) * a.v_pos + c0;
            if (cn == kWinoLanes)
              wino_store(dst, r[i], kWinoLanes);
            else
              wino_store(dst, r[i], cn);
          }
        }
      }
    }
}

/// Tile rows [ty0, ty1) of one image from the band's GEMM results into the
/// output, plus bias; ReLU and ReLU6 applied here, other activations by `act_fn`
/// on each output pixel after.
template <void (*act_fn)(float*, std::int64_t, convscope::ir::Activation)>
void winograd_output(const convscope::kernels::WinogradArgs& a, std::int64_t ty0, std::int64_t ty1) {
  using convscope::ir::Activation;
  const std::int64_t tiles_w = convscope::kernels::winograd_tiles(a.out.w), cout = a.out.c;
  const bool relu = a.act == Activation::ReLU || a.act == Activation::ReLU6, relu6 = a.act == Activation::ReLU6;
  const bool other = !relu && a.act != Activation::None;
  const WinoVec zero{}, six = zero + 6.f;
  for (std::int64_t ty = ty0; ty < ty1; ++ty)
    for (std::int64_t tx = 0; tx < tiles_w; ++tx) {
      const std::int64_t tile = (ty - ty0) * tiles_w + tx;
      const std::int64_t rows = a.out.h - ty * 4 < 4 ? a.out.h - ty * 4 : 4;
      const std::int64_t cols = a.out.w - tx * 4 < 4 ? a.out.w - tx * 4 : 4;
      const float* m = a.m + tile * a.m_tile;
      for (std::int64_t c0 = 0; c0 < cout; c0 += kWinoLanes) {
        const std::int64_t cn = cout - c0 < kWinoLanes ? cout - c0 : kWinoLanes;
        WinoVec t[6][4];
        for (int i = 0; i < 6; ++i) {
          WinoVec row[6];
          for (int j = 0; j < 6; ++j) row[j] = wino_load(m + (i * 6 + j) * a.m_pos + c0, kWinoLanes);
          wino_out6(row, t[i]);
        }
        const WinoVec b = a.bias ? wino_load(a.bias + c0, cn) : zero;
        for (int j = 0; j < cols; ++j) {
          WinoVec col[6], o[4];
          for (int i = 0; i < 6; ++i) col[i] = t[i][j];
          wino_out6(col, o);
          for (int i = 0; i < rows; ++i) {
            WinoVec r = o[i] + b;
            if (relu) r = r > zero ? r : zero;
            if (relu6) r = r < six ? r : six;
            float* dst = a.out.px(ty * 4 + i, tx * 4 + j) + c0;
            if (cn == kWinoLanes)
              wino_store(dst, r, kWinoLanes);
            else
              wino_store(dst, r, cn);
          }
        }
      }
      if (other)
        for (std::int64_t i = 0; i < rows; ++i)
          for (std::int64_t j = 0; j < cols; ++j) act_fn(a.out.px(ty * 4 + i, tx * 4 + j), cout, a.act);
    }
}
