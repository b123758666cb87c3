// convscope-cli conventions: the named counting conventions.
#include <iostream>

#include "command.h"
#include "common.h"
#include "cost/convention.h"

namespace convscope::cli {

Command add_conventions(CLI::App& app) {
  auto* cmd = app.add_subcommand("conventions", "list the named counting conventions");
  return {cmd, [] {
            for (const auto& c : cost::named_conventions()) {
              std::cout << c.name << ": " << c.description << "\n";
              std::cout << "    bias " << (c.count_bias ? "counted" : "not counted") << ", batch norm "
                        << cost::bn_counting_name(c.bn) << ", classifier "
                        << (c.include_classifier ? "included" : "excluded")
                        << (c.background_class ? ", +1 background class" : "") << "\n";
            }
            return 0;
          }};
}

}  // namespace convscope::cli
