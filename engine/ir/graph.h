#pragma once
/// The graph a user designs: blocks (nodes) addressed by id, edges given by each
/// block's ordered input list, and per-network settings (width multiplier,
/// resolution, classes). A Graph is a plain value with no Qt in sight; views and
/// editors observe it and change it through commands.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/param.h"

namespace convscope::ir {

/// How the width multiplier alpha acts on a block's channel parameters.
enum class WidthRule {
  Scale,    ///< make_divisible(c * alpha, divisor)  (default)
  Fixed,    ///< never scaled
  AtLeast,  ///< max(c, make_divisible(c * alpha, divisor)): MobileNetV2's last 1x1 conv
};

std::string_view width_rule_name(WidthRule rule);

/// One block on the canvas.
struct Node {
  std::string id;                   ///< unique in the graph; edges refer to it
  std::string kind;                 ///< registered block kind, e.g. "inverted_residual"
  std::vector<std::string> inputs;  ///< ids of the blocks feeding this one, in order
  ParamMap params;                  ///< as written by the user; missing = schema default
  WidthRule width = WidthRule::Scale;
  bool classifier = false;                   ///< final classifier: its `out` is the class count
  std::optional<std::array<double, 2>> pos;  ///< canvas position, if placed

  friend bool operator==(const Node&, const Node&) = default;
};

/// Per-network settings (graph file "settings").
struct Settings {
  double alpha = 1.0;                      ///< width multiplier
  std::optional<std::int64_t> resolution;  ///< overrides every input's height and width
  std::optional<std::int64_t> classes;     ///< overrides the classifier's output count
  std::int64_t channel_divisor = 8;        ///< make_divisible's divisor
  std::int64_t batch = 1;                  ///< images per run (cost is reported per batch)

  friend bool operator==(const Settings&, const Settings&) = default;
};

struct Graph {
  std::string name;
  std::string description;
  Settings settings;
  std::vector<Node> nodes;

  /// Index of the node with this id, or -1.
  [[nodiscard]] int find(std::string_view id) const;
  /// An id not used yet, built from `stem` ("conv", "conv_2", "conv_3", ...).
  [[nodiscard]] std::string unique_id(std::string_view stem) const;

  friend bool operator==(const Graph&, const Graph&) = default;
};

/// Rounds `value` to a multiple of `divisor`: nearest multiple, at least
/// `divisor`, and never more than 10 % below `value` (MobileNet's rule).
std::int64_t make_divisible(double value, std::int64_t divisor);

/// A channel count after the width multiplier under `rule`.
std::int64_t scale_channels(std::int64_t base, double alpha, std::int64_t divisor, WidthRule rule);

}  // namespace convscope::ir
