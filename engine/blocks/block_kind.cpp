#include "blocks/block_kind.h"

#include <cassert>

namespace convscope::blocks {

std::string_view category_name(Category c) {
  switch (c) {
    case Category::Input:
      return "input";
    case Category::Block:
      return "block";
    case Category::Layer:
      return "layer";
  }
  return "?";
}

namespace {
const ir::ParamValue& lookup(const ir::ParamMap& params, std::string_view name) {
  auto it = params.find(name);
  assert(it != params.end() && "parameter missing from an effective parameter map");
  return it->second;
}
}  // namespace

std::int64_t BlockContext::i(std::string_view name) const { return std::get<std::int64_t>(lookup(params_, name)); }

double BlockContext::f(std::string_view name) const {
  const auto& v = lookup(params_, name);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  return static_cast<double>(std::get<std::int64_t>(v));
}

bool BlockContext::b(std::string_view name) const { return std::get<bool>(lookup(params_, name)); }

const std::string& BlockContext::s(std::string_view name) const { return std::get<std::string>(lookup(params_, name)); }

ir::Activation BlockContext::act(std::string_view name) const {
  ir::Activation a = ir::Activation::None;
  [[maybe_unused]] const bool known = ir::parse_activation(s(name), a);
  assert(known);
  return a;
}

std::int64_t BlockContext::padding(std::string_view name, std::int64_t k, std::int64_t dilation) const {
  const auto& v = lookup(params_, name);
  if (std::holds_alternative<std::string>(v)) return dilation * (k - 1) / 2;
  return std::get<std::int64_t>(v);
}

const ir::ParamSpec* BlockKind::param(std::string_view name) const {
  for (const auto& p : info_.params)
    if (p.name == name) return &p;
  return nullptr;
}

void BlockKind::check(const BlockContext&, Checks&) const {}

std::optional<BlockKind::TheoryRatio> BlockKind::theory_ratio(std::int64_t, std::int64_t) const { return std::nullopt; }

std::optional<ir::ParamMap> BlockKind::compare_config(std::int64_t, std::int64_t) const { return std::nullopt; }

std::optional<ir::ParamValue> BlockKind::derived(const BlockContext&, std::string_view) const { return std::nullopt; }

}  // namespace convscope::blocks
