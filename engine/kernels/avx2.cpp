// The AVX2 + FMA kernel table: simd_impl.h over 8-lane ymm registers. Compiled
// with -mavx2 -mfma; used only when the CPU reports both features.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/kernels.h"

namespace convscope::kernels {
namespace avx2 {
namespace {

struct V {
  using R = __m256;
  using M = __m256i;
  static constexpr int kLanes = 8;
  /// GEMM tile 6 x 16: 12 accumulators, 2 B vectors and a broadcast in the 16 ymm registers.
  static constexpr int kGemmMr = 6, kGemmNv = 2;
  static constexpr std::int64_t kGemmKc = 256;
  /// 12 chains cover the FMA latency (4 cycles) on two FMA ports with room to spare.
  static constexpr int kFmaChains = 12;
  /// Depthwise channel vectors per tile of T pixels: two (a whole cache line)
  /// where 16 registers allow it (3x3, T = 4: 8 accumulators, 6 weights, the
  /// input), one for the wide 5x5 and 7x7 tiles; narrow tiles take more vectors
  /// so that at least four accumulator chains are in flight.
  static constexpr int dw_vectors(int k, int t) { return t >= 4 ? (k == 3 ? 2 : 1) : 4 / t; }
  /// Widest depthwise tile: 4 pixels for 3x3 (8 accumulators), 8 for 5x5 and 7x7 (one vector each).
  static constexpr int dw_max_tile(int k) { return k == 3 ? 4 : 8; }

  /// No half-width path: an xmm FMA costs what a ymm one does on AVX2 cores.
  /// No column-order depthwise: nine weights and a tile do not fit 16 registers.
  static constexpr bool kDwColumns = false;
  static constexpr int kHalfLanes = 0;
  static R loadu_half(const float* p) { return loadu(p); }
  static R fmadd_half(R a, R b, R c) { return fmadd(a, b, c); }

  /// Lane permutes (narrow_groups): lanes of x, or of lo:hi (16 lanes) by index:
  /// both halves permuted, then each lane taken from the half its index's bit 3 names.
  using I = __m256i;
  static I index(const float* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static R permute(R x, I idx) { return _mm256_permutevar8x32_ps(x, idx); }
  static R permute2(R lo, I idx, R hi) {
    const __m256 from_hi = _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28));  // bit 3 into the sign bit
    return _mm256_blendv_ps(_mm256_permutevar8x32_ps(lo, idx), _mm256_permutevar8x32_ps(hi, idx), from_hi);
  }
  static M full_mask() { return _mm256_set1_epi32(-1); }

  static R zero() { return _mm256_setzero_ps(); }
  static R set1(float v) { return _mm256_set1_ps(v); }
  static R loadu(const float* p) { return _mm256_loadu_ps(p); }
  static void storeu(float* p, R v) { _mm256_storeu_ps(p, v); }
  static R load_mask(const float* p, M m) { return _mm256_maskload_ps(p, m); }
  static void store_mask(float* p, M m, R v) { _mm256_maskstore_ps(p, m, v); }
  static R fmadd(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  static R add(R a, R b) { return _mm256_add_ps(a, b); }
  static R mul(R a, R b) { return _mm256_mul_ps(a, b); }
  static R min(R a, R b) { return _mm256_min_ps(a, b); }
  static R max(R a, R b) { return _mm256_max_ps(a, b); }
  static R div(R a, R b) { return _mm256_div_ps(a, b); }
  /// Rounds to the nearest integer (ties to even).
  static R round(R a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  /// a * 2^n for integral n in [-126, 127]: n + 127 is the biased exponent of 2^n.
  static R scale2(R a, R n) {
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(a, _mm256_castsi256_ps(e));
  }
  /// The first n (0 <= n < 8) lanes.
  static M tail_mask(std::int64_t n) {
    alignas(32) static const int kLanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLanes + 8 - n));
  }
};

#include "kernels/simd_impl.h"

}  // namespace

const KernelTable& table() {
  static const KernelTable t = make_table(Isa::Avx2);
  return t;
}

}  // namespace avx2
}  // namespace convscope::kernels
