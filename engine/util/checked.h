#pragma once
/// Checked 64-bit counting. Every count ConvScope reports (elements, MAdds,
/// parameters, bytes) is an int64_t; anything that would pass kCountLimit is
/// refused with a message instead of wrapping around.

#include <cstdint>
#include <initializer_list>
#include <optional>

namespace convscope {

/// Largest count ConvScope accepts (2^62). Far beyond any real network.
inline constexpr std::int64_t kCountLimit = std::int64_t{1} << 62;
/// Largest height, width or channel count accepted anywhere (2^20).
inline constexpr std::int64_t kDimLimit = std::int64_t{1} << 20;
/// Largest number of elements in one tensor (2^40, 4 TiB at fp32).
inline constexpr std::int64_t kTensorElementLimit = std::int64_t{1} << 40;

/// Product of non-negative factors, or nullopt if it would exceed kCountLimit.
inline std::optional<std::int64_t> checked_product(std::initializer_list<std::int64_t> factors) {
  std::int64_t acc = 1;
  for (std::int64_t f : factors) {
    if (f < 0 || __builtin_mul_overflow(acc, f, &acc) || acc > kCountLimit) return std::nullopt;
  }
  return acc;
}

/// Saturating sum used for totals: clamps at kCountLimit (a total that large has
/// already been refused op by op, so this only guards against wrap-around).
inline std::int64_t sat_add(std::int64_t a, std::int64_t b) {
  std::int64_t s = 0;
  if (__builtin_add_overflow(a, b, &s) || s > kCountLimit) return kCountLimit;
  return s;
}

}  // namespace convscope
