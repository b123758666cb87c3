#pragma once
/// A block kind: everything ConvScope knows about one kind of block, in one
/// place. Its parameters (ranges, defaults, docs), its validation, its lowering
/// to primitive ops and its closed-form cost formula. The palette, inspector,
/// loader, cost model and exporters all read these through the Registry.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/lowering.h"
#include "ir/param.h"
#include "ir/shape.h"

namespace convscope::blocks {

/// Where a kind appears in the palette.
enum class Category {
  Input,  ///< graph inputs
  Block,  ///< the efficient building blocks the tool is about
  Layer,  ///< primitive layers used to assemble whole networks
};

std::string_view category_name(Category c);

/// The closed-form cost of a block from its paper, with the numbers filled in.
/// `madds` and `weights` are computed from the formula, independently of the
/// lowering; tests hold them equal to the sum over the lowered ops.
struct Formula {
  std::string symbolic;  ///< e.g. "k^2*M*D^2 + M*N*D^2"
  std::string filled;    ///< e.g. "3^2*32*112^2 + 32*64*112^2"
  std::string legend;    ///< what each symbol stands for, with its value
  std::int64_t madds = 0;
  std::int64_t weights = 0;  ///< weights only: no bias, no batch norm
  /// Further analyses from the paper with the numbers filled in, one line each
  /// (IGCV2's balance condition and its optimal depth, ...).
  std::vector<std::string> notes;
};

/// Static description of a kind.
struct BlockInfo {
  std::string name;   ///< file and registry key: "inverted_residual"
  std::string title;  ///< palette label: "Inverted residual"
  Category category = Category::Layer;
  std::string summary;    ///< one line for tooltips
  std::string reference;  ///< paper or source of the design
  std::vector<ir::ParamSpec> params;
  std::size_t min_inputs = 1;
  std::size_t max_inputs = 1;  ///< kVariadic for any number
  /// The baseline of `compare`: ratios are taken to this kind (standard convolution).
  bool compare_reference = false;
};

inline constexpr std::size_t kVariadic = std::numeric_limits<std::size_t>::max();

/// The values one block is evaluated with: every parameter present (defaults
/// filled in, width multiplier applied) and the shapes of its inputs.
class BlockContext {
 public:
  BlockContext(const ir::ParamMap& params, const std::vector<ir::Shape>& inputs) : params_(params), inputs_(inputs) {}

  /// Integer or channel parameter.
  [[nodiscard]] std::int64_t i(std::string_view name) const;
  [[nodiscard]] double f(std::string_view name) const;
  [[nodiscard]] bool b(std::string_view name) const;
  [[nodiscard]] const std::string& s(std::string_view name) const;
  [[nodiscard]] ir::Activation act(std::string_view name) const;
  /// Padding per side: the integer given, or dilation*(k-1)/2 for "same".
  [[nodiscard]] std::int64_t padding(std::string_view name, std::int64_t k, std::int64_t dilation = 1) const;

  /// Whether an optional parameter was given.
  [[nodiscard]] bool has(std::string_view name) const { return params_.find(name) != params_.end(); }

  [[nodiscard]] const ir::Shape& in(std::size_t index = 0) const { return inputs_.at(index); }
  [[nodiscard]] std::size_t n_inputs() const { return inputs_.size(); }
  [[nodiscard]] const ir::ParamMap& params() const { return params_; }

 private:
  const ir::ParamMap& params_;
  const std::vector<ir::Shape>& inputs_;
};

/// Collects a block's validation complaints, each about one parameter.
class Checks {
 public:
  /// `field` is a parameter name, or "inputs" for the block's inputs.
  void error(std::string field, std::string message) { items_.push_back({std::move(field), std::move(message)}); }
  struct Item {
    std::string field;
    std::string message;
  };
  [[nodiscard]] const std::vector<Item>& items() const { return items_; }

 private:
  std::vector<Item> items_;
};

class BlockKind {
 public:
  explicit BlockKind(BlockInfo info) : info_(std::move(info)) {}
  virtual ~BlockKind() = default;
  BlockKind(const BlockKind&) = delete;
  BlockKind& operator=(const BlockKind&) = delete;

  [[nodiscard]] const BlockInfo& info() const { return info_; }
  [[nodiscard]] const std::string& name() const { return info_.name; }
  /// The schema entry of a parameter, or nullptr.
  [[nodiscard]] const ir::ParamSpec* param(std::string_view name) const;

  /// Checks that need the input shapes (every value is already within its
  /// schema range): channel divisibility, shortcut shapes, kernel fits, ...
  virtual void check(const BlockContext& ctx, Checks& checks) const;
  /// Lowers the block to primitive ops; called only after check() passed.
  [[nodiscard]] virtual ir::BlockLowering lower(const BlockContext& ctx) const = 0;
  /// The paper's closed-form cost with this block's numbers filled in.
  [[nodiscard]] virtual Formula formula(const BlockContext& ctx) const = 0;
  /// Parameters that make this block map an input to `out_c` channels with
  /// `stride`, for `convscope-cli compare`; nullopt if the kind cannot.
  [[nodiscard]] virtual std::optional<ir::ParamMap> compare_config(std::int64_t out_c, std::int64_t stride) const;
  /// The paper's cost ratio of this block to a standard k x k convolution with N
  /// output channels, as (formula, value), e.g. ("1/N + 1/k^2", 0.127); nullopt if
  /// the paper gives none.
  struct TheoryRatio {
    std::string formula;
    double value = 0;
  };
  [[nodiscard]] virtual std::optional<TheoryRatio> theory_ratio(std::int64_t out_c, std::int64_t kernel) const;
  /// The value the block derives for an optional parameter left unset ("auto"),
  /// e.g. an inverted residual's expanded channels t * C_in; nullopt if none.
  [[nodiscard]] virtual std::optional<ir::ParamValue> derived(const BlockContext& ctx, std::string_view name) const;

 private:
  BlockInfo info_;
};

}  // namespace convscope::blocks
