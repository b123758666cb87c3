#include "ir/graph.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace convscope::ir {

std::string_view width_rule_name(WidthRule rule) {
  switch (rule) {
    case WidthRule::Scale:
      return "scale";
    case WidthRule::Fixed:
      return "fixed";
    case WidthRule::AtLeast:
      return "at_least";
  }
  return "?";
}

int Graph::find(std::string_view id) const {
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].id == id) return static_cast<int>(i);
  return -1;
}

std::string Graph::unique_id(std::string_view stem) const {
  // One pass over the ids, then each candidate is a hash lookup (not a scan
  // per candidate, which made importing thousands of unnamed nodes cubic).
  std::unordered_set<std::string_view> ids;
  ids.reserve(nodes.size());
  for (const auto& n : nodes) ids.insert(n.id);
  std::string base(stem.empty() ? "block" : stem);
  if (!ids.count(base)) return base;
  for (int n = 2;; ++n) {
    std::string candidate = base + "_" + std::to_string(n);
    if (!ids.count(candidate)) return candidate;
  }
}

std::int64_t make_divisible(double value, std::int64_t divisor) {
  const auto d = static_cast<double>(divisor);
  auto rounded = static_cast<std::int64_t>(std::floor((value + d / 2) / d)) * divisor;
  rounded = std::max(rounded, divisor);
  if (static_cast<double>(rounded) < 0.9 * value) rounded += divisor;
  return rounded;
}

std::int64_t scale_channels(std::int64_t base, double alpha, std::int64_t divisor, WidthRule rule) {
  switch (rule) {
    case WidthRule::Fixed:
      return base;
    case WidthRule::Scale:
      if (alpha == 1.0) return base;  // alpha 1 is the published network as written
      return make_divisible(static_cast<double>(base) * alpha, divisor);
    case WidthRule::AtLeast:
      return std::max(base, make_divisible(static_cast<double>(base) * alpha, divisor));
  }
  return base;
}

}  // namespace convscope::ir
