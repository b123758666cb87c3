#include <algorithm>
#include <cstdlib>
#include <cstring>

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

std::int64_t packed_b_size(std::int64_t n, std::int64_t k) { return (n + kGemmNr - 1) / kGemmNr * kGemmNr * k; }

void pack_gemm_b(const float* w, std::int64_t n, std::int64_t k, float* out) {
  const std::int64_t panels = (n + kGemmNr - 1) / kGemmNr;
  for (std::int64_t k0 = 0; k0 < k; k0 += kGemmKc) {
    const std::int64_t kc = std::min(kGemmKc, k - k0);
    for (std::int64_t p = 0; p < panels; ++p)
      for (std::int64_t kk = 0; kk < kc; ++kk)
        for (std::int64_t j = 0; j < kGemmNr; ++j) {
          const std::int64_t col = p * kGemmNr + j;
          *out++ = col < n ? w[col * k + k0 + kk] : 0.f;
        }
  }
}

std::int64_t dw_weight_stride(std::int64_t c) { return c % 256 == 0 ? c + 16 : c; }

void pack_depthwise(const float* w, std::int64_t c, std::int64_t kk, float* out) {
  const std::int64_t ws = dw_weight_stride(c);
  for (std::int64_t t = 0; t < kk; ++t)
    for (std::int64_t ch = 0; ch < ws; ++ch) out[t * ws + ch] = ch < c ? w[ch * kk + t] : 0.f;
}

const KernelTable& kernels_for(Isa isa) {
#if defined(CONVSCOPE_HAVE_AVX2)
  if (isa == Isa::Avx2) return avx2::table();
#else
  (void)isa;
#endif
  return portable::table();
}

std::vector<Isa> available_isas() {
  std::vector<Isa> isas;
#if defined(CONVSCOPE_HAVE_AVX2)
  if (cpu_info().avx2) isas.push_back(Isa::Avx2);
#endif
  isas.push_back(Isa::Portable);
  return isas;
}

namespace {
std::string_view short_name(Isa isa) {
  switch (isa) {
    case Isa::Portable:
      return "portable";
    case Isa::Avx2:
      return "avx2";
  }
  return "?";
}
}  // namespace

Result<const KernelTable*> kernels_by_name(std::string_view name) {
  if (name == "auto") return &best_kernels();
  std::string known = "auto";
  for (Isa isa : available_isas()) {
    if (name == short_name(isa)) return &kernels_for(isa);
    known += ", " + std::string(short_name(isa));
  }
  return fail("", "kernels '" + std::string(name) + "' are not available on this CPU and build (available: " + known +
                      ")");
}

const KernelTable& best_kernels() {
  static const KernelTable& best = [&]() -> const KernelTable& {
    const char* force = std::getenv("CONVSCOPE_ISA");
    if (force && std::strcmp(force, "portable") == 0) return portable::table();
#if defined(CONVSCOPE_HAVE_AVX2)
    if (cpu_info().avx2) return avx2::table();
#endif
    return portable::table();
  }();
  return best;
}

}  // namespace convscope::kernels
