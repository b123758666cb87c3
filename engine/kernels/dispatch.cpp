#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <unistd.h>

#include "kernels/kernels.h"

namespace convscope::kernels {

namespace portable {
const KernelTable& table();
}
#if defined(CONVSCOPE_HAVE_AVX2)
namespace avx2 {
const KernelTable& table();
}
#endif
#if defined(CONVSCOPE_HAVE_AVX512)
namespace avx512 {
const KernelTable& table();
}
#endif

std::int64_t packed_b_size(const KernelTable& kt, std::int64_t n, std::int64_t k) {
  return (n + kt.gemm_nr - 1) / kt.gemm_nr * kt.gemm_nr * k;
}

void pack_gemm_b(const KernelTable& kt, const float* w, std::int64_t n, std::int64_t k, float* out) {
  const std::int64_t nr = kt.gemm_nr, panels = (n + nr - 1) / nr;
  for (std::int64_t k0 = 0; k0 < k; k0 += kt.gemm_kc) {
    const std::int64_t kc = std::min(kt.gemm_kc, k - k0);
    for (std::int64_t p = 0; p < panels; ++p)
      for (std::int64_t kk = 0; kk < kc; ++kk)
        for (std::int64_t j = 0; j < nr; ++j) {
          const std::int64_t col = p * nr + j;
          *out++ = col < n ? w[col * k + k0 + kk] : 0.f;
        }
  }
}

bool runs_narrow_groups(const KernelTable& kt, std::int64_t groups, std::int64_t cin_g, std::int64_t cout_g) {
  return kt.narrow_groups && groups > 1 && cin_g >= 1 && cin_g <= 8 && cout_g >= 1 && cout_g <= kt.gemm_lanes &&
         narrow_group_span(kt.gemm_lanes, cin_g, cout_g, groups * cout_g) <= 2 * kt.gemm_lanes;
}

std::int64_t narrow_groups_size(const KernelTable& kt, std::int64_t cin_g, std::int64_t cout) {
  return (cout + kt.gemm_lanes - 1) / kt.gemm_lanes * 2 * cin_g * kt.gemm_lanes;
}

void pack_narrow_groups(const KernelTable& kt, const float* w, std::int64_t cin_g, std::int64_t cout_g,
                        std::int64_t cout, float* out) {
  const std::int64_t lanes = kt.gemm_lanes;
  for (std::int64_t c0 = 0; c0 < cout; c0 += lanes) {
    const std::int64_t in0 = c0 / cout_g * cin_g;  // the first input channel this vector reads
    float* wv = out + c0 / lanes * 2 * cin_g * lanes;
    float* iv = wv + cin_g * lanes;
    for (std::int64_t j = 0; j < cin_g; ++j)
      for (std::int64_t l = 0; l < lanes; ++l) {
        const std::int64_t c = std::min(c0 + l, cout - 1);  // lanes past cout repeat the last channel's input
        wv[j * lanes + l] = c0 + l < cout ? w[c * cin_g + j] : 0.f;
        const auto idx = static_cast<std::int32_t>(c / cout_g * cin_g + j - in0);
        std::memcpy(iv + j * lanes + l, &idx, sizeof idx);
      }
  }
}

int l1d_ways() {
  static const int ways = [] {
#if defined(_SC_LEVEL1_DCACHE_ASSOC)
    const long w = sysconf(_SC_LEVEL1_DCACHE_ASSOC);
    return w >= 8 && w <= 32 ? static_cast<int>(w) : 8;
#else
    return 8;
#endif
  }();
  return ways;
}

DwRowWalk dw_walk(const KernelTable& kt, int k, int s, std::int64_t in_w, std::int64_t px_stride, std::int64_t out_w) {
  const int t_max = k == 3 ? kt.dw_max_tile3 : kt.dw_max_tile57;
  if ((k != 3 && k != 5 && k != 7) || s > 2 || t_max <= 1) return {};  // pixel by pixel
  return dw_row_walk(kt.dw_columns, k, s, in_w, px_stride, out_w, t_max);
}

std::int64_t dw_weight_stride(std::int64_t c) { return c % 256 == 0 ? c + 16 : c; }

void pack_depthwise(const float* w, std::int64_t c, std::int64_t kk, float* out) {
  const std::int64_t ws = dw_weight_stride(c);
  for (std::int64_t t = 0; t < kk; ++t)
    for (std::int64_t ch = 0; ch < ws; ++ch) out[t * ws + ch] = ch < c ? w[ch * kk + t] : 0.f;
}

const KernelTable& kernels_for(Isa isa) {
  switch (isa) {
#if defined(CONVSCOPE_HAVE_AVX512)
    case Isa::Avx512:
      return avx512::table();
#endif
#if defined(CONVSCOPE_HAVE_AVX2)
    case Isa::Avx2:
      return avx2::table();
#endif
    default:
      return portable::table();
  }
}

std::vector<Isa> available_isas() {
  std::vector<Isa> isas;
#if defined(CONVSCOPE_HAVE_AVX512)
  if (cpu_info().avx512) isas.push_back(Isa::Avx512);
#endif
#if defined(CONVSCOPE_HAVE_AVX2)
  if (cpu_info().avx2) isas.push_back(Isa::Avx2);
#endif
  isas.push_back(Isa::Portable);
  return isas;
}

namespace {
/// The table of an available ISA called `name`, or an error naming the available ones.
Result<const KernelTable*> available_by_name(std::string_view name) {
  std::string known;
  for (Isa isa : available_isas()) {
    if (name == isa_short_name(isa)) return &kernels_for(isa);
    known += ", " + std::string(isa_short_name(isa));
  }
  return fail("", "kernels '" + std::string(name) + "' are not available on this CPU and build (available: auto" +
                      known + ")");
}
}  // namespace

Result<const KernelTable*> kernels_by_name(std::string_view name) {
  if (name == "auto") return &best_kernels();
  return available_by_name(name);
}

const KernelTable& best_kernels() {
  static const KernelTable& best = []() -> const KernelTable& {
    if (const char* force = std::getenv("CONVSCOPE_ISA"); force && *force) {
      if (auto kt = available_by_name(force)) return **kt;
      std::fprintf(stderr, "convscope: CONVSCOPE_ISA=%s ignored: %s\n", force,
                   available_by_name(force).error().front().message.c_str());
    }
    return kernels_for(available_isas().front());
  }();
  return best;
}

}  // namespace convscope::kernels
