#pragma once
/// convscope-cli's commands: one file per command, each registering its options
/// on the app with add_<command>() and returning what main() runs when the
/// command was chosen. Nothing is computed here that the engine does not own.

#include <functional>

#include <CLI/CLI.hpp>

namespace convscope::cli {

struct Command {
  CLI::App* sub = nullptr;   ///< the subcommand, tested after parsing
  std::function<int()> run;  ///< its exit code (see common.h)
};

Command add_stats(CLI::App& app);
Command add_validate(CLI::App& app);
Command add_blocks(CLI::App& app);
Command add_compare(CLI::App& app);
Command add_format(CLI::App& app);
Command add_presets(CLI::App& app);
Command add_conventions(CLI::App& app);
Command add_profile(CLI::App& app);
Command add_run(CLI::App& app);
Command add_sweep(CLI::App& app);
Command add_export(CLI::App& app);
Command add_calibrate(CLI::App& app);
Command add_compress(CLI::App& app);

}  // namespace convscope::cli
