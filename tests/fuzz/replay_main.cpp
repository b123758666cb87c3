// Without libFuzzer (a GCC build), the harnesses link this main instead: it runs
// every file of the folders (or files) given once through LLVMFuzzerTestOneInput,
// as `fuzz_x -runs=0 DIR...` does, so the seeds and the hostile files in
// tests/data are regression tests in every build. libFuzzer's flags (-x=y) are skipped.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

int replay(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", file.c_str());
    return 1;
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int files = 0, failed = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.size() > 1 && arg[0] == '-') continue;
    std::vector<std::filesystem::path> paths;
    if (std::filesystem::is_directory(arg)) {
      for (const auto& e : std::filesystem::directory_iterator(arg))
        if (e.is_regular_file()) paths.push_back(e.path());
    } else {
      paths.emplace_back(arg);
    }
    for (const auto& p : paths) {
      failed += replay(p);
      ++files;
    }
  }
  std::printf("replayed %d inputs\n", files);
  return failed == 0 && files > 0 ? 0 : 1;
}
