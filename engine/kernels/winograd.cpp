// Winograd F(4x4, 3x3) weights: U = G g G^T per (output, input) channel pair,
// each of the 36 positions packed as its own GEMM B (kernels.h).
#include <vector>

#include "kernels/kernels.h"

namespace convscope::kernels {

namespace {
/// G (6 x 3) for the interpolation points 0, 1, -1, 2, -2 and infinity.
constexpr double kG[6][3] = {{1.0 / 4, 0, 0},
                             {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                             {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                             {1.0 / 24, 1.0 / 12, 1.0 / 6},
                             {1.0 / 24, -1.0 / 12, 1.0 / 6},
                             {0, 0, 1}};
}  // namespace

std::int64_t winograd_weights_size(const KernelTable& kt, std::int64_t cout, std::int64_t cin) {
  return kWinogradPositions * packed_b_size(kt, cout, cin);
}

void pack_winograd(const KernelTable& kt, const float* w, std::int64_t cout, std::int64_t cin, float* out) {
  // u[p][o][c]: W[n][k] rows of cin per output channel, as pack_gemm_b takes them.
  std::vector<float> u(static_cast<std::size_t>(kWinogradPositions * cout * cin));
  for (std::int64_t o = 0; o < cout; ++o)
    for (std::int64_t c = 0; c < cin; ++c) {
      double g[3][3], t[6][3];
      for (int y = 0; y < 3; ++y)
        for (int x = 0; x < 3; ++x) g[y][x] = w[((o * 3 + y) * 3 + x) * cin + c];
      for (int i = 0; i < 6; ++i)
        for (int x = 0; x < 3; ++x) t[i][x] = kG[i][0] * g[0][x] + kG[i][1] * g[1][x] + kG[i][2] * g[2][x];
      for (int i = 0; i < 6; ++i)
        for (int j = 0; j < 6; ++j)
          u[static_cast<std::size_t>(((i * 6 + j) * cout + o) * cin + c)] =
              static_cast<float>(t[i][0] * kG[j][0] + t[i][1] * kG[j][1] + t[i][2] * kG[j][2]);
    }
  const std::int64_t per = packed_b_size(kt, cout, cin);
  for (std::int64_t p = 0; p < kWinogradPositions; ++p)
    pack_gemm_b(kt, u.data() + p * cout * cin, cout, cin, out + p * per);
}

}  // namespace convscope::kernels
