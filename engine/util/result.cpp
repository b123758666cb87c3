#include "util/result.h"

namespace convscope {

std::string format_diagnostics(const Diagnostics& diags, const std::string& prefix) {
  std::string out;
  for (const auto& d : diags) {
    if (!prefix.empty()) out += prefix + ": ";
    out += d.str();
    out += '\n';
  }
  return out;
}

}  // namespace convscope
