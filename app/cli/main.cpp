// convscope-cli: the headless face of ConvScope. Every command reads graph files
// (or ONNX models, or preset names) and prints what the engine computes; one file
// per command (see command.h), this file only wires them.
#include <iostream>

#include "command.h"
#include "common.h"

using namespace convscope::cli;

int main(int argc, char** argv) {
  CLI::App app{"convscope-cli: parameters, multiply-adds and memory of efficient CNN blocks and networks"};
  app.set_version_flag("--version", std::string("convscope-cli ") + CONVSCOPE_VERSION);
  app.require_subcommand(1);
  app.fallthrough();

  const Command commands[] = {add_stats(app),   add_validate(app), add_blocks(app),  add_compare(app),
                              add_format(app),  add_presets(app),  add_conventions(app), add_profile(app),
                              add_run(app),     add_sweep(app),    add_export(app),  add_calibrate(app), add_compress(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "convscope-cli: " << e.what() << "\nRun 'convscope-cli --help' for usage.\n";
    return kExitUsage;
  }

  try {
    for (const auto& c : commands)
      if (*c.sub) return c.run();
  } catch (const std::exception& e) {
    // Nothing should reach here; if it does, say so instead of aborting.
    std::cerr << "convscope-cli: internal error: " << e.what() << "\n";
    return 70;
  }
  return kExitUsage;
}
