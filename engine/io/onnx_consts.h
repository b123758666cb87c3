#pragma once
/// The constant side of ONNX import: tensors read from a model (initializers and
/// Constant nodes) with every size checked, and the folding of the integer shape
/// arithmetic exporters spell out (PyTorch computes view and chunk sizes with
/// Shape, Gather, Div, Concat, ...), so that the importer sees plain constants.
/// Nothing here knows about blocks or graphs.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace onnx {
class TensorProto;
}

namespace convscope::io::onnx_consts {

/// The most elements one tensor of an imported model may have (1 GiB of float32);
/// a model declaring more is refused before anything is allocated.
constexpr std::int64_t kMaxTensorElements = std::int64_t{1} << 28;

/// An initializer or Constant: float or int64 values with dims. A tensor that
/// cannot be used (another data type, external data) keeps the reason in
/// `problem` and no values; it is an error only where a node uses it.
struct Const {
  std::vector<std::int64_t> dims;
  std::vector<float> f;
  std::vector<std::int64_t> i;
  std::string problem;
  [[nodiscard]] std::int64_t count() const {
    std::int64_t n = 1;
    for (auto d : dims) n *= d;  // bounded by read_tensor
    return n;
  }
};

/// Reads a tensor's values; every size is checked against the declared dims
/// and the element limit, so nothing downstream indexes past its data.
Const read_tensor(const onnx::TensorProto& t);

/// Folds op `op` (Cast, Unsqueeze, Squeeze, Gather, Concat, Add, Sub, Mul, Div) over
/// constant inputs: the result; nullopt when it is not integer shape arithmetic
/// (float data, an index out of range, an op it does not fold); an error (with
/// an empty `where`) for arithmetic that overflows int64, divides by zero or
/// does not broadcast.
Result<std::optional<Const>> fold(const std::string& op, const std::vector<const Const*>& inputs);

}  // namespace convscope::io::onnx_consts
