#pragma once
/// Deterministic weights for every op of an analyzed graph: He-initialised
/// convolution and fully connected weights, small biases, and batch norm
/// statistics, all from a seed and the op's name, so a block's weights do not
/// change when another block is edited. Latency does not depend on the values;
/// correctness tests compare executors on the same weights.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cost/analysis.h"
#include "util/result.h"

namespace convscope::runtime {

/// Batch norm's epsilon (as in PyTorch).
inline constexpr float kBnEpsilon = 1e-5f;

struct OpWeights {
  /// Conv: [out][ky][kx][in/g] (OHWI per group). ConvTranspose: [in][ky][kx][out/g].
  /// FullyConnected: [out][in] over the flattened NHWC input.
  std::vector<float> w;
  std::vector<float> bias;                    ///< [out] when the op has a bias
  std::vector<float> gamma, beta, mean, var;  ///< BatchNorm
};

/// Whether the graph's float32 weights (weights, biases, batch norm of every op)
/// fit in `limit_bytes`; else an error naming the total and the largest op.
/// Checked before any weights are made, so a declared 2^20 x 2^20 layer is
/// refused instead of failing an allocation.
Result<bool> check_weight_memory(const cost::Analysis& a, std::int64_t limit_bytes);

class Weights {
 public:
  Weights() = default;
  /// Generates weights for every op of `a` (which must belong to `graph`).
  static Weights generate(const ir::Graph& graph, const cost::Analysis& a, std::uint64_t seed = 1);
  /// Weights given by name ("<block id>/<op name>", as an imported model has
  /// them) where present and of the right size, generated ones elsewhere.
  /// `used` (optional) receives how many ops took a given weight.
  static Weights with_named(const ir::Graph& graph, const cost::Analysis& a,
                            const std::map<std::string, OpWeights>& named, std::uint64_t seed = 1,
                            std::size_t* used = nullptr);
  [[nodiscard]] const OpWeights& op(std::size_t index) const { return ops_.at(index); }
  [[nodiscard]] std::size_t size() const { return ops_.size(); }
  /// Replaces one op's weights (weights given by the caller).
  void set(std::size_t index, OpWeights w) { ops_.at(index) = std::move(w); }

 private:
  std::vector<OpWeights> ops_;
};

}  // namespace convscope::runtime
