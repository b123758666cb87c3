#pragma once
/// Summary statistics of timing samples.

#include <vector>

namespace convscope::profile {

struct Stats {
  int n = 0;
  double median = 0, min = 0, p90 = 0, mean = 0;
  double cv = 0;  ///< coefficient of variation: stddev / mean
};

/// Median (mean of the two middle values for even n), min, 90th percentile
/// (nearest rank), mean and coefficient of variation (sample stddev / mean).
Stats summarize(std::vector<double> samples);

}  // namespace convscope::profile
