#include "profile/core_traffic.h"

#include "profile/calibration.h"

#include <algorithm>
#include <cstdint>

#include "runtime/core_walk.h"

namespace convscope::profile {

std::vector<CoreTraffic> core_traffic(const runtime::Schedule& s) {
  std::vector<CoreTraffic> out(s.steps.size());
  const std::vector<runtime::StepTouches> touches = runtime::schedule_touches(s);
  const std::vector<std::int64_t> offset = runtime::value_offsets(s);
  runtime::CoreWalk walk(s.threads, {kL2FitBytes, kL3FitBytes});
  for (int pass = 0; pass < 2; ++pass)  // the first run leaves the state the second starts from
    for (std::size_t i = 0; i < s.steps.size(); ++i) {
      const runtime::StepTraffic& t = walk.step(touches[i], offset, static_cast<double>(s.steps[i].info.bytes));
      if (pass == 1 && !touches[i].no_work)
        out[i] = {*std::max_element(t.read.begin(), t.read.end()),
                  *std::max_element(t.halo_read.begin(), t.halo_read.end()),
                  *std::max_element(t.write.begin(), t.write.end()), t.out_lost[0], t.out_lost[1]};
    }
  return out;
}

}  // namespace convscope::profile
