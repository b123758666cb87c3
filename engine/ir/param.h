#pragma once
/// Block parameters: a typed value, and the schema entry that documents and
/// bounds it. The palette, inspector, loader and CLI all read these schemas.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace convscope::ir {

/// What a parameter holds.
enum class ParamType {
  Int,       ///< integer in [min, max]
  Channels,  ///< channel count in [min, max]; scaled by the width multiplier
  Float,     ///< real number in [min, max]
  Bool,      ///< true / false
  Choice,    ///< one string of `choices`
  Padding,   ///< integer >= 0 pixels per side, or "same" (dilation*(k-1)/2)
  IntList,   ///< 1 to kMaxListLength integers in [min, max], stored as the text "4,4,2"
};

inline constexpr std::size_t kMaxListLength = 16;

/// A parameter value as stored in a graph file.
using ParamValue = std::variant<std::int64_t, double, bool, std::string>;

/// Parameters of one block, by name. Missing entries take the schema default.
using ParamMap = std::map<std::string, ParamValue, std::less<>>;

/// One entry of a block kind's parameter schema.
struct ParamSpec {
  std::string name;  ///< key in files and the inspector, snake_case
  ParamType type = ParamType::Int;
  ParamValue def;                    ///< default value
  double min = 0;                    ///< inclusive lower bound (Int, Channels, Float)
  double max = 0;                    ///< inclusive upper bound (Int, Channels, Float)
  std::vector<std::string> choices;  ///< allowed values (Choice)
  std::string doc;                   ///< one line shown in tooltips and `convscope-cli blocks`
  /// May be left out; then the block derives it (e.g. expanded channels = t x C_in)
  /// and `def` is only the editor's starting value.
  bool optional = false;
};

/// "int", "channels", ... as shown in `convscope-cli blocks`.
std::string param_type_name(ParamType type);

/// Human-readable value: 3, 0.75, true, "relu6".
std::string param_value_str(const ParamValue& value);

/// Checks `value` against `spec`; returns the complaint ("must be >= 1, got 0")
/// or nullopt when the value is acceptable.
std::optional<std::string> check_param(const ParamSpec& spec, const ParamValue& value);

/// Parses "4,4,2" (spaces, 'x' or '*' also separate) into integers; nullopt with `why`
/// set when the text is not a list of integers.
std::optional<std::vector<std::int64_t>> parse_int_list(const std::string& text, std::string& why);
/// "4,4,2".
std::string int_list_str(const std::vector<std::int64_t>& v);

/// The spec's range and choices as text, e.g. "1..7" or "none|relu|relu6".
std::string param_range_str(const ParamSpec& spec);

}  // namespace convscope::ir
