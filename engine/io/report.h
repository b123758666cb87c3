#pragma once
/// Renders an Analysis for people and programs: an aligned text table, a JSON
/// document (the CLI's --format json) and CSV (one row per op).

#include <string>

#include "cost/analysis.h"
#include "cost/compare.h"
#include "ir/graph.h"

namespace convscope::io {

struct ReportOptions {
  bool ops = false;       ///< table: one row per op instead of per block
  bool formulas = false;  ///< table: each block's closed-form formula with its numbers
};

/// Human-readable table with totals, convention and memory.
std::string report_table(const ir::Graph& graph, const cost::Analysis& a, const ReportOptions& options = {});
/// JSON: {graph, convention, settings, complete, diagnostics, totals, blocks, layers}.
std::string report_json(const ir::Graph& graph, const cost::Analysis& a);
/// CSV, one row per op, with a header line.
std::string report_csv(const ir::Graph& graph, const cost::Analysis& a);

/// The comparison of block kinds as a text table / JSON / CSV.
std::string compare_table(const std::vector<cost::CompareRow>& rows, const ir::Shape& in, std::int64_t out_c,
                          std::int64_t stride, std::int64_t kernel);
std::string compare_json(const std::vector<cost::CompareRow>& rows, const ir::Shape& in, std::int64_t out_c,
                         std::int64_t stride, std::int64_t kernel);
std::string compare_csv(const std::vector<cost::CompareRow>& rows);

/// 3504872 -> "3,504,872"
std::string with_commas(std::int64_t v);
/// 300774272 -> "300.77 M"; 1536 -> "1.54 K"; bytes use binary units with `bytes`.
std::string human(std::int64_t v, bool bytes = false);

}  // namespace convscope::io
