// libFuzzer harness: graph files (io::graph_from_json), then the analysis,
// the save/load round trip and the exporters on whatever loads.
// Build: scripts/fuzz.sh (clang); corpus: tests/fuzz/corpus/graph_json.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace convscope;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto graph = io::graph_from_json(text);
  if (!graph) {
    fuzz::check_refusal(graph.error());
    return 0;
  }
  fuzz::exercise(*graph);
  return 0;
}
