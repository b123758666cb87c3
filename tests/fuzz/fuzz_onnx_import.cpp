// libFuzzer harness: ONNX models (io::import_onnx_bytes), then the analysis,
// the imported weights, the save/load round trip and the exporters.
// Build: scripts/fuzz.sh (clang); corpus: tests/fuzz/corpus/onnx_import.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.h"
#include "io/onnx_import.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace convscope;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto model = io::import_onnx_bytes(bytes, "fuzz");
  if (!model) {
    fuzz::check_refusal(model.error());
    return 0;
  }
  const cost::Analysis a = cost::analyze(model->graph);
  if (a.complete() && runtime::check_weight_memory(a, fuzz::kExportWeightLimit))
    (void)runtime::Weights::with_named(model->graph, a, model->weights);
  fuzz::exercise(model->graph);
  return 0;
}
