#pragma once
/// ONNX import: a model of the supported op set becomes a ConvScope graph (one
/// primitive block per ONNX node; Conv + BatchNormalization + activation chains
/// stay separate blocks) and its weights are kept, keyed by "<block id>/<op
/// name>", so the engine runs the imported network with them.
///
/// Supported: Conv (square kernels, symmetric padding), ConvTranspose,
/// BatchNormalization, Relu, Clip(0, 6), HardSwish, HardSigmoid (1/6, 1/2),
/// Sigmoid, Add, Mul (x * HardSigmoid(x) as h-swish; x * s with s 1x1xC as a
/// channel scale), Concat (channels), MaxPool, AveragePool, GlobalAveragePool,
/// GlobalMaxPool, Flatten + Gemm / MatMul, Reshape-Transpose-Reshape channel
/// shuffles, Split (channels, equal parts), Resize (integer scales), and
/// Identity / Constant / Unsqueeze / Squeeze / Reshape after a fully connected layer.

#include <filesystem>
#include <map>
#include <string>

#include "ir/graph.h"
#include "runtime/weights.h"
#include "util/result.h"

namespace convscope::io {

struct ImportedModel {
  ir::Graph graph;
  /// Weights of the graph's ops, by "<block id>/<op name>" (the lowering's op names).
  std::map<std::string, runtime::OpWeights> weights;
};

/// Reads and converts an ONNX file. Errors name what and where: unsupported op
/// types with the nodes using them, dynamic input dimensions, shapes the blocks
/// cannot express, a corrupt or truncated file.
Result<ImportedModel> import_onnx(const std::filesystem::path& path);

/// The same from the bytes of a ModelProto (`name` is used for the graph name).
Result<ImportedModel> import_onnx_bytes(const std::string& bytes, const std::string& name);

}  // namespace convscope::io
