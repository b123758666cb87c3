#include "cost/compare.h"

#include "blocks/registry.h"

namespace convscope::cost {

ir::Graph compare_graph(const ir::Shape& in, const std::string& kind, const ir::ParamMap& params) {
  std::string input_kind;
  for (const auto& k : blocks::Registry::builtin().kinds())
    if (k->info().category == blocks::Category::Input) input_kind = k->name();
  ir::Graph g;
  g.name = kind;
  g.nodes.push_back(
      ir::Node{.id = "input", .kind = input_kind, .params = {{"height", in.h}, {"width", in.w}, {"channels", in.c}}});
  g.nodes.push_back(ir::Node{.id = "block", .kind = kind, .inputs = {"input"}, .params = params});
  return g;
}

std::vector<CompareRow> compare_blocks(const ir::Shape& in, std::int64_t out_c, std::int64_t stride,
                                       std::int64_t kernel, const AnalysisOptions& options) {
  std::vector<CompareRow> rows;
  for (const auto& kind : blocks::Registry::builtin().kinds()) {
    if (kind->info().category != blocks::Category::Block) continue;
    CompareRow row;
    row.kind = kind->name();
    row.title = kind->info().title;
    auto cfg = kind->compare_config(out_c, stride);
    if (!cfg) {
      row.problem =
          "cannot map " + in.str() + " to " + std::to_string(out_c) + " channels with stride " + std::to_string(stride);
      rows.push_back(std::move(row));
      continue;
    }
    if (kind->param("kernel")) (*cfg)["kernel"] = kernel;
    row.params = *cfg;
    const Analysis a = analyze(compare_graph(in, kind->name(), *cfg), options);
    if (!a.complete()) {
      row.problem = a.diagnostics.front().message;
      rows.push_back(std::move(row));
      continue;
    }
    const NodeRecord& rec = a.nodes[1];
    row.ok = true;
    row.totals = a.totals;
    row.peak_memory_bytes = a.memory.peak_bytes;
    row.out = rec.out;
    row.formula = rec.formula ? rec.formula->filled : "";
    rows.push_back(std::move(row));
  }
  const auto& registry = blocks::Registry::builtin();
  const CompareRow* ref = nullptr;
  for (const auto& r : rows)
    if (r.ok && registry.find(r.kind)->info().compare_reference) ref = &r;
  for (auto& r : rows) {
    if (!r.ok || !ref) continue;
    r.madds_ratio = static_cast<double>(r.totals.madds) / static_cast<double>(ref->totals.madds);
    r.params_ratio = static_cast<double>(r.totals.weights) / static_cast<double>(ref->totals.weights);
    if (auto t = registry.find(r.kind)->theory_ratio(out_c, kernel)) {
      r.theory = t->formula;
      r.theory_ratio = t->value;
    }
  }
  return rows;
}

}  // namespace convscope::cost
