#include "profile/stats.h"

#include <algorithm>
#include <cmath>

namespace convscope::profile {

Stats summarize(std::vector<double> s) {
  Stats r;
  r.n = static_cast<int>(s.size());
  if (s.empty()) return r;
  std::sort(s.begin(), s.end());
  const std::size_t n = s.size();
  r.min = s.front();
  r.median = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
  // Nearest rank: the smallest value with at least 90 % of samples at or below it.
  const auto rank = static_cast<std::size_t>(std::ceil(0.9 * static_cast<double>(n)));
  r.p90 = s[std::max<std::size_t>(rank, 1) - 1];
  double sum = 0;
  for (double v : s) sum += v;
  r.mean = sum / static_cast<double>(n);
  if (n > 1 && r.mean != 0) {
    double ss = 0;
    for (double v : s) ss += (v - r.mean) * (v - r.mean);
    r.cv = std::sqrt(ss / static_cast<double>(n - 1)) / r.mean;
  }
  return r;
}

}  // namespace convscope::profile
