// The AVX-512 kernel table: simd_impl.h over 16-lane zmm registers with mask
// registers for channel and column tails. Compiled with -mavx512f -mavx512vl
// -mavx512bw -mavx512dq -mfma; used only when the CPU reports all of them.
// GCC 12's _mm512_min_ps / _mm512_max_ps pass an "undefined" register made by
// self-initialisation, which -Wmaybe-uninitialized reports after inlining
// (GCC bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/kernels.h"

namespace convscope::kernels {
namespace avx512 {
namespace {

struct V {
  using R = __m512;
  using M = __mmask16;
  static constexpr int kLanes = 16;
  /// GEMM tile 14 x 32: 28 accumulators, 2 B vectors and a broadcast in the 32 zmm registers.
  /// Measured against 12 x 32, 6 x 64 and a depth block of 128 (Zen 5, bench_kernels
  /// BM_Gemm on MobileNetV2's 1x1 shapes): 14 x 32 was 3-12 % faster than each.
  static constexpr int kGemmMr = 14, kGemmNv = 2;
  static constexpr std::int64_t kGemmKc = 256;
  /// 16 chains: two 512-bit FMA ports (Zen 5, Intel server cores) at 4 cycles' latency need 8; more hide jitter.
  static constexpr int kFmaChains = 16;
  /// Depthwise tiles (each vector is a whole cache line here): 8 pixels x 2
  /// vectors for 3x3 and 5x5 (16 accumulators, 6 or 10 weights and the input in
  /// 32 registers), 8 x 1 for 7x7; narrow tiles take more vectors so that at
  /// least four accumulator chains are in flight.
  static constexpr int dw_vectors(int k, int t) { return t >= 4 ? (k == 7 ? 1 : 2) : 4 / t; }
  static constexpr int dw_max_tile(int) { return 8; }

  /// A panel's last vector with at most 8 valid columns runs on the lower
  /// 256 bits (VEX ymm operations zero the upper half): on cores whose FMA units
  /// are 256 bits wide (Zen 4) that is half the cost of a zmm FMA, elsewhere the
  /// same. Measured in docs/performance.md.
  /// Depthwise 3x3, 5x5 and 7x7 in column order (dw_columns in simd_impl.h): the
  /// 32 registers hold a tile of eight accumulators, the weights and the input.
  static constexpr bool kDwColumns = true;
  static constexpr int kHalfLanes = 8;
  static R loadu_half(const float* p) { return _mm512_castps256_ps512(_mm256_loadu_ps(p)); }
  static R fmadd_half(R a, R b, R c) {
    return _mm512_castps256_ps512(
        _mm256_fmadd_ps(_mm512_castps512_ps256(a), _mm512_castps512_ps256(b), _mm512_castps512_ps256(c)));
  }

  /// Lane permutes (narrow_groups): lanes of x, or of lo:hi (32 lanes), by index.
  using I = __m512i;
  static I index(const float* p) { return _mm512_loadu_si512(p); }
  static R permute(R x, I idx) { return _mm512_permutexvar_ps(idx, x); }
  static R permute2(R lo, I idx, R hi) { return _mm512_permutex2var_ps(lo, idx, hi); }
  static M full_mask() { return static_cast<M>(0xffff); }

  static R zero() { return _mm512_setzero_ps(); }
  static R set1(float v) { return _mm512_set1_ps(v); }
  static R loadu(const float* p) { return _mm512_loadu_ps(p); }
  static void storeu(float* p, R v) { _mm512_storeu_ps(p, v); }
  static R load_mask(const float* p, M m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store_mask(float* p, M m, R v) { _mm512_mask_storeu_ps(p, m, v); }
  static R fmadd(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  static R add(R a, R b) { return _mm512_add_ps(a, b); }
  static R mul(R a, R b) { return _mm512_mul_ps(a, b); }
  static R min(R a, R b) { return _mm512_min_ps(a, b); }
  static R max(R a, R b) { return _mm512_max_ps(a, b); }
  static R div(R a, R b) { return _mm512_div_ps(a, b); }
  /// Rounds to the nearest integer (ties to even).
  static R round(R a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  /// a * 2^n for integral n in [-126, 127].
  static R scale2(R a, R n) { return _mm512_scalef_ps(a, n); }
  /// The first n (0 <= n < 16) lanes.
  static M tail_mask(std::int64_t n) { return static_cast<M>((1u << n) - 1u); }
};

#include "kernels/simd_impl.h"

}  // namespace

const KernelTable& table() {
  static const KernelTable t = make_table(Isa::Avx512);
  return t;
}

}  // namespace avx512
}  // namespace convscope::kernels
