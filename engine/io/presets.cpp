#include "io/presets.h"

#include <algorithm>
#include <cstdlib>

namespace convscope::io {

namespace fs = std::filesystem;

namespace {

/// The running program's folder (Linux: /proc/self/exe); empty when unknown.
fs::path program_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path{} : exe.parent_path();
}

bool has_presets(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".json") return true;
  return false;
}

}  // namespace

std::vector<fs::path> preset_dirs() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("CONVSCOPE_PRESETS"); env && *env) dirs.emplace_back(env);
  if (const fs::path bin = program_dir(); !bin.empty())
    dirs.push_back((bin / ".." / "share" / "convscope" / "presets").lexically_normal());
  dirs.emplace_back(CONVSCOPE_SOURCE_PRESET_DIR);
  dirs.emplace_back(CONVSCOPE_INSTALL_PRESET_DIR);
  dirs.emplace_back("/usr/local/share/convscope/presets");
  dirs.emplace_back("/usr/share/convscope/presets");
  return dirs;
}

std::vector<fs::path> preset_files() {
  for (const auto& dir : preset_dirs()) {
    if (!has_presets(dir)) continue;
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
  }
  return {};
}

std::optional<fs::path> find_preset(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name.find('\\') != std::string::npos) return {};
  for (const auto& f : preset_files())
    if (f.stem() == name) return f;
  return {};
}

}  // namespace convscope::io
