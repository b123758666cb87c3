#pragma once
/// ONNX export (opset 14) with the engine's weights, written with the ONNX
/// library's protobuf classes and checked by its checker. Tensors are NCHW in
/// the model (ConvScope's NHWC weights are transposed on the way out).

#include <filesystem>
#include <string>

#include "cost/analysis.h"
#include "ir/graph.h"
#include "runtime/weights.h"
#include "util/result.h"

namespace convscope::io {

inline constexpr int kOnnxOpset = 14;

/// The serialized ModelProto of a complete analysis with these weights; fails
/// with the checker's message if ONNX's checker rejects it.
Result<std::string> to_onnx(const ir::Graph& graph, const cost::Analysis& a, const runtime::Weights& weights);

}  // namespace convscope::io
