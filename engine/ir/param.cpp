#include "ir/param.h"

#include <cmath>
#include <sstream>

namespace convscope::ir {
namespace {

std::string number_str(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<std::int64_t>(v));
  std::ostringstream os;
  os << v;
  return os.str();
}

std::string type_of(const ParamValue& v) {
  switch (v.index()) {
    case 0:
      return "integer";
    case 1:
      return "number";
    case 2:
      return "boolean";
    default:
      return "string";
  }
}

std::optional<std::string> check_range(const ParamSpec& spec, double v, const std::string& shown) {
  if (v < spec.min) return "must be >= " + number_str(spec.min) + ", got " + shown;
  if (v > spec.max) return "must be <= " + number_str(spec.max) + ", got " + shown;
  return std::nullopt;
}

}  // namespace

std::string param_type_name(ParamType type) {
  switch (type) {
    case ParamType::Int:
      return "int";
    case ParamType::Channels:
      return "channels";
    case ParamType::Float:
      return "float";
    case ParamType::Bool:
      return "bool";
    case ParamType::Choice:
      return "choice";
    case ParamType::Padding:
      return "padding";
    case ParamType::IntList:
      return "list";
  }
  return "?";
}

std::string param_value_str(const ParamValue& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return number_str(*d);
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  return std::get<std::string>(value);
}

std::string param_range_str(const ParamSpec& spec) {
  switch (spec.type) {
    case ParamType::Int:
    case ParamType::Channels:
    case ParamType::Float:
      return number_str(spec.min) + ".." + number_str(spec.max);
    case ParamType::Bool:
      return "true|false";
    case ParamType::Choice: {
      std::string s;
      for (const auto& c : spec.choices) s += (s.empty() ? "" : "|") + c;
      return s;
    }
    case ParamType::Padding:
      return "same|0.." + number_str(spec.max);
    case ParamType::IntList:
      return number_str(spec.min) + ".." + number_str(spec.max) + " each";
  }
  return {};
}

std::optional<std::string> check_param(const ParamSpec& spec, const ParamValue& value) {
  switch (spec.type) {
    case ParamType::Int:
    case ParamType::Channels: {
      const auto* i = std::get_if<std::int64_t>(&value);
      if (!i)
        return "expected integer " + param_range_str(spec) + ", got " + type_of(value) + " " + param_value_str(value);
      return check_range(spec, static_cast<double>(*i), std::to_string(*i));
    }
    case ParamType::Float: {
      double v = 0;
      if (const auto* d = std::get_if<double>(&value))
        v = *d;
      else if (const auto* i = std::get_if<std::int64_t>(&value))
        v = static_cast<double>(*i);
      else
        return "expected number " + param_range_str(spec) + ", got " + type_of(value) + " " + param_value_str(value);
      if (!std::isfinite(v)) return "expected a finite number";
      return check_range(spec, v, number_str(v));
    }
    case ParamType::Bool:
      if (!std::holds_alternative<bool>(value))
        return "expected true or false, got " + type_of(value) + " " + param_value_str(value);
      return std::nullopt;
    case ParamType::Choice: {
      const auto* s = std::get_if<std::string>(&value);
      if (!s)
        return "expected one of " + param_range_str(spec) + ", got " + type_of(value) + " " + param_value_str(value);
      for (const auto& c : spec.choices)
        if (c == *s) return std::nullopt;
      return "expected one of " + param_range_str(spec) + ", got \"" + *s + "\"";
    }
    case ParamType::Padding: {
      if (const auto* s = std::get_if<std::string>(&value)) {
        if (*s == "same") return std::nullopt;
        return "expected \"same\" or an integer >= 0, got \"" + *s + "\"";
      }
      const auto* i = std::get_if<std::int64_t>(&value);
      if (!i) return "expected \"same\" or an integer >= 0, got " + type_of(value) + " " + param_value_str(value);
      return check_range(spec, static_cast<double>(*i), std::to_string(*i));
    }
    case ParamType::IntList: {
      const auto* s = std::get_if<std::string>(&value);
      if (!s) return "expected a list of integers such as \"4,4\", got " + type_of(value) + " " + param_value_str(value);
      std::string why;
      const auto list = parse_int_list(*s, why);
      if (!list) return why;
      for (std::size_t k = 0; k < list->size(); ++k)
        if (auto bad = check_range(spec, static_cast<double>((*list)[k]), std::to_string((*list)[k])))
          return "entry " + std::to_string(k + 1) + " " + *bad;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<std::vector<std::int64_t>> parse_int_list(const std::string& text, std::string& why) {
  std::vector<std::int64_t> out;
  std::size_t i = 0;
  auto separator = [](char c) { return c == ',' || c == ' ' || c == 'x' || c == '*' || c == '\t'; };
  while (i < text.size()) {
    while (i < text.size() && separator(text[i])) ++i;
    if (i == text.size()) break;
    std::size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j == i || (j < text.size() && !separator(text[j]))) {
      why = "expected a list of integers such as \"4,4\", got \"" + text + "\"";
      return std::nullopt;
    }
    if (j - i > 12) {
      why = "entry " + std::to_string(out.size() + 1) + " is too large: \"" + text.substr(i, j - i) + "\"";
      return std::nullopt;
    }
    out.push_back(std::stoll(text.substr(i, j - i)));
    if (out.size() > kMaxListLength) {
      why = "at most " + std::to_string(kMaxListLength) + " entries, got more in \"" + text + "\"";
      return std::nullopt;
    }
    i = j;
  }
  if (out.empty()) {
    why = "expected at least one integer, got \"" + text + "\"";
    return std::nullopt;
  }
  return out;
}

std::string int_list_str(const std::vector<std::int64_t>& v) {
  std::string s;
  for (std::size_t k = 0; k < v.size(); ++k) s += (k ? "," : "") + std::to_string(v[k]);
  return s;
}

}  // namespace convscope::ir
