// convscope-cli blocks: every block kind with its parameters, ranges, docs and formula.
#include <iostream>

#include <nlohmann/json.hpp>

#include "blocks/registry.h"
#include "command.h"
#include "common.h"

namespace convscope::cli {

namespace {
int print_json() {
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (const auto& k : blocks::Registry::builtin().kinds()) {
    const auto& info = k->info();
    nlohmann::ordered_json b;
    b["name"] = info.name;
    b["title"] = info.title;
    b["category"] = std::string(blocks::category_name(info.category));
    b["summary"] = info.summary;
    b["reference"] = info.reference;
    b["inputs"] = {{"min", info.min_inputs},
                   {"max", info.max_inputs == blocks::kVariadic ? nlohmann::ordered_json(nullptr)
                                                                : nlohmann::ordered_json(info.max_inputs)}};
    b["params"] = nlohmann::ordered_json::array();
    for (const auto& p : info.params)
      b["params"].push_back({{"name", p.name},
                             {"type", ir::param_type_name(p.type)},
                             {"default", ir::param_value_str(p.def)},
                             {"range", ir::param_range_str(p)},
                             {"optional", p.optional},
                             {"doc", p.doc}});
    j.push_back(b);
  }
  std::cout << j.dump(2) << "\n";
  return 0;
}

int print_table() {
  for (const auto& k : blocks::Registry::builtin().kinds()) {
    const auto& info = k->info();
    std::cout << info.name << "  [" << blocks::category_name(info.category) << "]  " << info.title << "\n";
    std::cout << "  " << info.summary << "\n";
    if (!info.reference.empty()) std::cout << "  ref: " << info.reference << "\n";
    // The closed form with the defaults on a 56x56x32 input, as an example.
    ir::ParamMap eff;
    for (const auto& p : info.params)
      if (!p.optional) eff.emplace(p.name, p.def);
    std::vector<ir::Shape> ins(std::max<std::size_t>(info.min_inputs, info.max_inputs == 0 ? 0 : 1),
                               ir::Shape{56, 56, 32});
    if (info.category != blocks::Category::Input) {
      const blocks::BlockContext ctx(eff, ins);
      blocks::Checks checks;
      k->check(ctx, checks);
      if (checks.items().empty()) {
        const auto f = k->formula(ctx);
        std::cout << "  MAdds = " << f.symbolic << "\n";
        for (const auto& note : f.notes) std::cout << "  on 56x56x32: " << note << "\n";
      }
    }
    for (const auto& p : info.params)
      std::cout << "    " << p.name << " (" << ir::param_type_name(p.type) << " " << ir::param_range_str(p)
                << (p.optional ? ", optional" : ", default " + ir::param_value_str(p.def)) << "): " << p.doc << "\n";
    std::cout << "\n";
  }
  return 0;
}
}  // namespace

Command add_blocks(CLI::App& app) {
  auto format = std::make_shared<std::string>("table");
  auto* cmd = app.add_subcommand("blocks", "every block kind with its parameters, ranges and formula");
  cmd->add_option("--format", *format, "table or json")->check(CLI::IsMember({"table", "json"}));
  return {cmd, [format] { return *format == "json" ? print_json() : print_table(); }};
}

}  // namespace convscope::cli
