#pragma once
/// The block catalogue: every block kind ConvScope knows, in palette order.
/// Built explicitly (no static self-registration, which a static library's
/// linker may drop).

#include <memory>
#include <string_view>
#include <vector>

#include "blocks/block_kind.h"

namespace convscope::blocks {

class Registry {
 public:
  /// The built-in catalogue (constructed once, thread-safe).
  static const Registry& builtin();

  /// The kind with this name, or nullptr.
  [[nodiscard]] const BlockKind* find(std::string_view name) const;
  [[nodiscard]] const std::vector<std::unique_ptr<BlockKind>>& kinds() const { return kinds_; }

 private:
  Registry();
  std::vector<std::unique_ptr<BlockKind>> kinds_;
};

}  // namespace convscope::blocks
