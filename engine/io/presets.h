#pragma once
/// Where the bundled presets are found, for the CLI, the app and the tests alike.
/// Searched in order, the first folder holding any preset wins:
///   1. $CONVSCOPE_PRESETS
///   2. <folder of the running program>/../share/convscope/presets (an installed copy: `cmake --install`,
///      the Debian package, or a relocated prefix)
///   3. the source tree's presets/ (a program run from its build tree)
///   4. the configured install prefix's share/convscope/presets, /usr/local/share/..., /usr/share/...

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace convscope::io {

/// The folders searched, in order (existing or not).
std::vector<std::filesystem::path> preset_dirs();

/// The presets (*.json) of the first folder that has any, sorted by name; empty when none is found.
std::vector<std::filesystem::path> preset_files();

/// The file of the preset called `name` ("mobilenet_v2"), if there is one.
std::optional<std::filesystem::path> find_preset(const std::string& name);

}  // namespace convscope::io
