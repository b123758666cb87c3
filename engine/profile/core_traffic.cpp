#include "profile/core_traffic.h"

#include <cstdint>

#include "runtime/core_walk.h"

namespace convscope::profile {

std::vector<CoreTraffic> core_traffic(const runtime::Schedule& s) {
  std::vector<runtime::SteadyTraffic> walked;
  const bool placed = s.traffic && s.traffic->size() == s.steps.size();  // the memory plan walked it
  if (!placed)
    walked = runtime::steady_traffic(s, runtime::schedule_touches(s), runtime::value_offsets(s), s.arena_floats);
  const std::vector<runtime::SteadyTraffic>& steady = placed ? *s.traffic : walked;
  std::vector<CoreTraffic> out(s.steps.size());
  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    const runtime::SteadyTraffic& t = steady[i];
    out[i] = {t.read, t.halo_read, t.write, t.out_l2_lost, t.out_l3_lost};
  }
  return out;
}

}  // namespace convscope::profile
