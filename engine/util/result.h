#pragma once
/// Result types for expected bad input (files, parameters, graphs).
/// Programmer errors are asserts; user errors travel as values.

#include <string>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

namespace convscope {

/// One problem found in user input: `where` is a path such as
/// `blocks[3].expansion` (empty when the whole input is concerned),
/// `message` says what is wrong and what was found.
struct Diagnostic {
  std::string where;
  std::string message;

  /// "blocks[3].expansion: must be >= 1, got 0" (or just the message).
  [[nodiscard]] std::string str() const { return where.empty() ? message : where + ": " + message; }
  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

/// Several problems at once: loaders and validators report all they find.
using Diagnostics = std::vector<Diagnostic>;

/// Joins diagnostics one per line, each optionally prefixed (e.g. a file name).
std::string format_diagnostics(const Diagnostics& diags, const std::string& prefix = {});

template <typename T>
using Result = tl::expected<T, Diagnostics>;

/// Shorthand for returning a single failure.
inline tl::unexpected<Diagnostics> fail(std::string where, std::string message) {
  return tl::unexpected<Diagnostics>(Diagnostics{{std::move(where), std::move(message)}});
}

}  // namespace convscope
