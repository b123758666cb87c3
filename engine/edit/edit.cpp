#include "edit/edit.h"

#include <algorithm>
#include <set>

#include "blocks/registry.h"

namespace convscope::edit {
namespace {

const blocks::BlockKind* kind_of(const ir::Graph& g, std::string_view id) {
  const int i = g.find(id);
  return i < 0 ? nullptr : blocks::Registry::builtin().find(g.nodes[static_cast<std::size_t>(i)].kind);
}

ir::Node& node(ir::Graph& g, std::string_view id) { return g.nodes[static_cast<std::size_t>(g.find(id))]; }

std::string quoted(std::string_view id) { return "'" + std::string(id) + "'"; }

bool valid_id(std::string_view id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

}  // namespace

Result<std::string> add_block(ir::Graph& g, std::string_view kind, std::optional<Pos> pos) {
  const auto* k = blocks::Registry::builtin().find(kind);
  if (!k) return fail("kind", "unknown block kind '" + std::string(kind) + "'");
  ir::Node n;
  n.id = g.unique_id(k->name());
  n.kind = k->name();
  n.pos = pos;
  g.nodes.push_back(n);
  return n.id;
}

Result<std::string> splice_block(ir::Graph& g, std::string_view kind, std::string_view to, std::size_t slot,
                                 std::optional<Pos> pos) {
  const auto* k = blocks::Registry::builtin().find(kind);
  if (!k) return fail("kind", "unknown block kind '" + std::string(kind) + "'");
  if (k->info().max_inputs == 0) return fail("kind", k->info().title + " takes no inputs: it cannot go into an edge");
  const int t = g.find(to);
  if (t < 0) return fail("to", "no block " + quoted(to));
  if (slot >= g.nodes[static_cast<std::size_t>(t)].inputs.size())
    return fail("to", quoted(to) + " has no input " + std::to_string(slot));
  auto id = add_block(g, kind, pos);
  if (!id) return id;
  ir::Node& target = node(g, to);
  node(g, *id).inputs = {target.inputs[slot]};
  target.inputs[slot] = *id;
  return id;
}

Result<bool> connect(ir::Graph& g, std::string_view from, std::string_view to, std::size_t slot) {
  if (g.find(from) < 0) return fail("from", "no block " + quoted(from));
  const auto* k = kind_of(g, to);
  if (g.find(to) < 0) return fail("to", "no block " + quoted(to));
  if (from == to) return fail("to", "a block cannot feed itself");
  if (!k) return fail("to", quoted(to) + " has an unknown kind");
  const auto& info = k->info();
  if (info.max_inputs == 0) return fail("to", quoted(to) + " is a " + info.title + ": it takes no inputs");
  ir::Node& target = node(g, to);
  if (slot > target.inputs.size()) slot = target.inputs.size();
  if (slot == target.inputs.size() && target.inputs.size() >= info.max_inputs)
    return fail("to", quoted(to) + " (" + info.title + ") takes at most " + std::to_string(info.max_inputs) +
                          (info.max_inputs == 1 ? " input" : " inputs"));
  if (reaches(g, to, from))
    return fail("to", "would make a cycle: " + quoted(from) + " already depends on " + quoted(to));
  if (slot < target.inputs.size())
    target.inputs[slot] = std::string(from);
  else
    target.inputs.emplace_back(from);
  return true;
}

std::size_t default_slot(const ir::Graph& g, std::string_view to) {
  const int t = g.find(to);
  if (t < 0) return 0;
  const auto& n = g.nodes[static_cast<std::size_t>(t)];
  const auto* k = blocks::Registry::builtin().find(n.kind);
  if (!k) return 0;
  if (n.inputs.size() < k->info().max_inputs) return n.inputs.size();
  return 0;
}

Result<bool> disconnect(ir::Graph& g, std::string_view to, std::size_t slot) {
  const int t = g.find(to);
  if (t < 0) return fail("to", "no block " + quoted(to));
  auto& inputs = g.nodes[static_cast<std::size_t>(t)].inputs;
  if (slot >= inputs.size()) return fail("to", quoted(to) + " has no input " + std::to_string(slot));
  inputs.erase(inputs.begin() + static_cast<std::ptrdiff_t>(slot));
  return true;
}

void remove_blocks(ir::Graph& g, const std::vector<std::string>& ids) {
  const std::set<std::string, std::less<>> gone(ids.begin(), ids.end());
  // Where each deleted block's consumers are re-wired to (following chains of deleted blocks).
  auto replacement = [&](std::string id) -> std::optional<std::string> {
    for (std::size_t guard = 0; gone.count(id) && guard <= g.nodes.size(); ++guard) {
      const int i = g.find(id);
      if (i < 0 || g.nodes[static_cast<std::size_t>(i)].inputs.size() != 1) return std::nullopt;
      id = g.nodes[static_cast<std::size_t>(i)].inputs[0];
    }
    if (gone.count(id)) return std::nullopt;
    return id;
  };
  for (auto& n : g.nodes) {
    if (gone.count(n.id)) continue;
    std::vector<std::string> kept;
    for (const auto& in : n.inputs) {
      if (!gone.count(in)) {
        kept.push_back(in);
      } else if (auto r = replacement(in)) {
        kept.push_back(*r);
      }
    }
    n.inputs = std::move(kept);
  }
  std::erase_if(g.nodes, [&](const ir::Node& n) { return gone.count(n.id) > 0; });
}

Result<bool> set_param(ir::Graph& g, std::string_view id, std::string_view name,
                       const std::optional<ir::ParamValue>& value) {
  const auto* k = kind_of(g, id);
  if (g.find(id) < 0) return fail("block", "no block " + quoted(id));
  if (!k) return fail(std::string(id), "unknown kind");
  const ir::ParamSpec* spec = k->param(name);
  if (!spec) return fail(std::string(id), k->info().title + " has no parameter '" + std::string(name) + "'");
  auto& params = node(g, id).params;
  if (!value) {
    if (auto it = params.find(name); it != params.end()) params.erase(it);
    return true;
  }
  ir::ParamValue v = *value;
  const auto wrong = [&](const std::string& expected) {
    return fail(std::string(id) + "." + std::string(name), "expected " + expected + ", got " + ir::param_value_str(v));
  };
  switch (spec->type) {
    case ir::ParamType::Int:
    case ir::ParamType::Channels:
      if (!std::holds_alternative<std::int64_t>(v)) return wrong("an integer");
      break;
    case ir::ParamType::Float:
      if (const auto* i = std::get_if<std::int64_t>(&v)) v = static_cast<double>(*i);
      if (!std::holds_alternative<double>(v)) return wrong("a number");
      break;
    case ir::ParamType::Bool:
      if (!std::holds_alternative<bool>(v)) return wrong("true or false");
      break;
    case ir::ParamType::Choice:
      if (!std::holds_alternative<std::string>(v)) return wrong("one of " + ir::param_range_str(*spec));
      break;
    case ir::ParamType::Padding:
      if (const auto* s = std::get_if<std::string>(&v); s && *s != "same") return wrong("an integer or \"same\"");
      if (std::holds_alternative<bool>(v) || std::holds_alternative<double>(v)) return wrong("an integer or \"same\"");
      break;
    case ir::ParamType::IntList: {
      if (const auto* i = std::get_if<std::int64_t>(&v)) v = std::to_string(*i);  // a list of one
      const auto* s = std::get_if<std::string>(&v);
      if (!s) return wrong("a list of integers such as \"4,4\"");
      std::string why;
      const auto list = ir::parse_int_list(*s, why);
      if (!list) return fail(std::string(id) + "." + std::string(name), why);
      v = ir::int_list_str(*list);
      break;
    }
  }
  params.insert_or_assign(std::string(name), v);
  return true;
}

Result<bool> rename_block(ir::Graph& g, std::string_view id, std::string_view new_id) {
  if (g.find(id) < 0) return fail("block", "no block " + quoted(id));
  if (id == new_id) return true;
  if (!valid_id(new_id)) return fail("id", "ids use letters, digits, '_', '-' and '.', got " + quoted(new_id));
  if (g.find(new_id) >= 0) return fail("id", quoted(new_id) + " is taken");
  for (auto& n : g.nodes) {
    if (n.id == id) n.id = std::string(new_id);
    for (auto& in : n.inputs)
      if (in == id) in = std::string(new_id);
  }
  return true;
}

void move_blocks(ir::Graph& g, const std::map<std::string, Pos, std::less<>>& positions) {
  for (auto& n : g.nodes)
    if (auto it = positions.find(n.id); it != positions.end()) n.pos = it->second;
}

ir::Graph extract(const ir::Graph& g, const std::vector<std::string>& ids) {
  const std::set<std::string, std::less<>> keep(ids.begin(), ids.end());
  ir::Graph part;
  part.name = g.name;
  part.settings = g.settings;
  for (const auto& n : g.nodes) {
    if (!keep.count(n.id)) continue;
    ir::Node copy = n;
    std::erase_if(copy.inputs, [&](const std::string& in) { return !keep.count(in); });
    part.nodes.push_back(std::move(copy));
  }
  return part;
}

std::vector<std::string> paste(ir::Graph& g, const ir::Graph& part, Pos offset) {
  std::map<std::string, std::string> renamed;
  std::vector<std::string> ids;
  const std::size_t first = g.nodes.size();
  for (const auto& n : part.nodes) {
    ir::Node copy = n;
    copy.id = g.unique_id(n.id);
    renamed[n.id] = copy.id;
    if (copy.pos) copy.pos = Pos{(*copy.pos)[0] + offset[0], (*copy.pos)[1] + offset[1]};
    ids.push_back(copy.id);
    g.nodes.push_back(std::move(copy));
  }
  for (std::size_t i = first; i < g.nodes.size(); ++i) {
    auto& inputs = g.nodes[i].inputs;
    std::erase_if(inputs, [&](const std::string& in) { return !renamed.count(in); });
    for (auto& in : inputs) in = renamed[in];
  }
  return ids;
}

bool reaches(const ir::Graph& g, std::string_view from, std::string_view to) {
  // Walk backwards from `to` along inputs looking for `from`.
  std::vector<std::string_view> stack{to};
  std::set<std::string_view> seen;
  while (!stack.empty()) {
    const std::string_view id = stack.back();
    stack.pop_back();
    if (id == from) return true;
    if (!seen.insert(id).second) continue;
    const int i = g.find(id);
    if (i < 0) continue;
    for (const auto& in : g.nodes[static_cast<std::size_t>(i)].inputs) stack.push_back(in);
  }
  return false;
}

}  // namespace convscope::edit
