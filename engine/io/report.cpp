#include "io/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace convscope::io {
namespace {

using cost::Analysis;
using cost::NodeRecord;
using cost::NodeStatus;
using cost::OpRecord;
using nlohmann::ordered_json;

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string pct(std::int64_t part, std::int64_t whole) {
  if (whole <= 0) return "-";
  return fixed(100.0 * static_cast<double>(part) / static_cast<double>(whole), 2) + "%";
}

/// Minimal column-aligned table: first column left-aligned, the rest right-aligned.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void rule() { rows_.emplace_back(); }
  [[nodiscard]] std::string str() const {
    std::vector<std::size_t> width;
    for (const auto& r : rows_)
      for (std::size_t i = 0; i < r.size(); ++i) {
        if (width.size() <= i) width.push_back(0);
        width[i] = std::max(width[i], r[i].size());
      }
    std::size_t total = 0;
    for (auto w : width) total += w + 2;
    std::string out;
    for (std::size_t k = 0; k < rows_.size(); ++k) {
      const auto& r = rows_[k];
      if (r.empty()) {
        out += std::string(total > 2 ? total - 2 : 0, '-') + "\n";
        continue;
      }
      std::string line;
      for (std::size_t i = 0; i < r.size(); ++i) {
        const std::size_t pad = width[i] - r[i].size();
        if (i <= 1)
          line += r[i] + std::string(pad, ' ');
        else
          line += std::string(pad, ' ') + r[i];
        if (i + 1 < r.size()) line += "  ";
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
      if (k == 0) out += std::string(total > 2 ? total - 2 : 0, '-') + "\n";
    }
    return out;
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string status_name(NodeStatus s) {
  switch (s) {
    case NodeStatus::Ok:
      return "ok";
    case NodeStatus::Invalid:
      return "invalid";
    case NodeStatus::Unresolved:
      return "unresolved";
  }
  return "?";
}

ordered_json totals_json(const cost::Totals& t) {
  ordered_json j;
  j["params"] = t.params;
  j["weights"] = t.weights;
  j["biases"] = t.biases;
  j["bn_params"] = t.bn_params;
  j["madds"] = t.madds;
  j["flops"] = t.flops;
  j["other_ops"] = t.other_ops;
  j["weight_bytes"] = t.weight_bytes;
  j["activation_bytes"] = t.activation_bytes;
  j["bytes_moved"] = t.bytes_moved;
  j["intensity_flops_per_byte"] = t.intensity();
  return j;
}

ordered_json convention_json(const cost::Convention& c) {
  ordered_json j;
  j["name"] = c.name;
  j["description"] = c.description;
  j["count_bias"] = c.count_bias;
  j["bn"] = std::string(cost::bn_counting_name(c.bn));
  j["include_classifier"] = c.include_classifier;
  j["background_class"] = c.background_class;
  return j;
}

std::string params_str(const ir::ParamMap& p) {
  std::string s;
  for (const auto& [k, v] : p) s += (s.empty() ? "" : " ") + k + "=" + ir::param_value_str(v);
  return s;
}

}  // namespace

std::string with_commas(std::int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  const auto n = digits.size();
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[i];
    if ((n - i - 1) % 3 == 0 && i + 1 != n) out += ',';
  }
  return v < 0 ? "-" + out : out;
}

std::string human(std::int64_t v, bool bytes) {
  const double x = static_cast<double>(v);
  if (bytes) {
    if (v < 1024) return std::to_string(v) + " B";
    if (v < 1024 * 1024) return fixed(x / 1024.0, 1) + " KiB";
    if (v < std::int64_t{1024} * 1024 * 1024) return fixed(x / (1024.0 * 1024.0), 2) + " MiB";
    return fixed(x / (1024.0 * 1024.0 * 1024.0), 2) + " GiB";
  }
  if (std::llabs(v) < 1000) return std::to_string(v);
  if (std::llabs(v) < 1000000) return fixed(x / 1e3, 2) + " K";
  if (std::llabs(v) < 1000000000) return fixed(x / 1e6, 2) + " M";
  return fixed(x / 1e9, 2) + " G";
}

std::string report_table(const ir::Graph& g, const Analysis& a, const ReportOptions& options) {
  std::string out;
  out += (g.name.empty() ? std::string("(unnamed graph)") : g.name) + "  alpha " + fixed(a.settings.alpha, 2);
  if (a.settings.resolution) out += "  resolution " + std::to_string(*a.settings.resolution);
  if (a.classes > 0) out += "  classes " + std::to_string(a.classes);
  if (a.settings.batch != 1) out += "  batch " + std::to_string(a.settings.batch);
  out += "  " + std::string(cost::precision_name(a.options.precision)) + "\n";
  out += "convention: " + a.options.convention.name + " (" + a.options.convention.description + ")\n\n";

  const auto& t = a.totals;
  Table table({"block", options.ops ? "op" : "kind", "output", "params", "MAdds", "MAdds %", "other ops", "act. mem",
               "FLOP/B"});
  for (int idx : a.order) {
    const NodeRecord& rec = a.nodes[static_cast<std::size_t>(idx)];
    const ir::Node& node = g.nodes[static_cast<std::size_t>(idx)];
    if (rec.status != NodeStatus::Ok) {
      table.add({node.id, node.kind, status_name(rec.status), "-", "-", "-", "-", "-", "-"});
      continue;
    }
    if (!options.ops) {
      const auto& nt = rec.totals;
      table.add({node.id,
                 node.kind + (node.classifier && !a.options.convention.include_classifier ? " (excluded)" : ""),
                 rec.out.str(), with_commas(nt.params), with_commas(nt.madds), pct(nt.madds, t.madds),
                 with_commas(nt.other_ops),
                 human(rec.out.elements() * cost::bytes_per_element(a.options.precision) * a.settings.batch, true),
                 rec.n_ops ? fixed(nt.intensity(), 1) : "-"});
      continue;
    }
    for (int k = rec.first_op; k < rec.first_op + rec.n_ops; ++k) {
      const OpRecord& o = a.ops[static_cast<std::size_t>(k)];
      const auto& ot = o.totals;
      table.add({k == rec.first_op ? node.id : "", o.op.name + ": " + ir::op_summary(o.op),
                 a.tensors[static_cast<std::size_t>(o.output)].shape.str(), with_commas(o.counted ? ot.params : 0),
                 with_commas(o.counted ? ot.madds : 0), pct(o.counted ? ot.madds : 0, t.madds),
                 with_commas(ot.other_ops), human(ot.activation_bytes, true), fixed(ot.intensity(), 1)});
    }
  }
  out += table.str();
  out += "\n";
  if (options.formulas) {
    for (int idx : a.order) {
      const NodeRecord& rec = a.nodes[static_cast<std::size_t>(idx)];
      if (rec.status != NodeStatus::Ok || !rec.formula || rec.formula->madds == 0) continue;
      const auto& f = *rec.formula;
      out += g.nodes[static_cast<std::size_t>(idx)].id + ": MAdds = " + f.symbolic + " = " + f.filled + " = " +
             with_commas(f.madds) + "\n    " + f.legend + "\n";
      for (const auto& note : f.notes) out += "    " + note + "\n";
      if (rec.connectivity) {
        const auto& c = *rec.connectivity;
        out += "    complementary condition: " + std::string(cost::complementary_name(c.condition)) +
               " (paths per channel pair " + std::to_string(c.min_paths) + ".." + std::to_string(c.max_paths) + ")";
        if (c.missing)
          out += "; no path from input channel " + std::to_string(c.missing->first) + " to output channel " +
                 std::to_string(c.missing->second);
        out += "\n";
      }
    }
    out += "\n";
  }
  out += "params      " + with_commas(t.params) + "  (" + human(t.params) + ")  weights " + with_commas(t.weights) +
         ", biases " + with_commas(t.biases) + (a.options.convention.count_bias ? "" : " (not counted)") + "\n";
  out += "BN params   " + with_commas(t.bn_params) + "  (" +
         (a.options.convention.bn == cost::BnCounting::Counted  ? "counted in params"
          : a.options.convention.bn == cost::BnCounting::Folded ? "folded into conv biases"
                                                                : "reported separately, not in params") +
         ")\n";
  out += "MAdds       " + with_commas(t.madds) + "  (" + human(t.madds) + ")   FLOPs " + with_commas(t.flops) + " (" +
         human(t.flops) + ")\n";
  out += "other ops   " + with_commas(t.other_ops) + "  (bias, BN, activations, adds, pooling; not in MAdds)\n";
  out += "weights     " + human(t.weight_bytes, true) + "   activations " + human(t.activation_bytes, true) +
         "   bytes moved " + human(t.bytes_moved, true) + "   intensity " + fixed(t.intensity(), 2) + " FLOP/B\n";
  out += "peak memory " + human(a.memory.peak_bytes, true) + " (" + with_commas(a.memory.peak_bytes) + " B, " +
         std::string(cost::memory_view_name(a.options.memory_view)) + " view";
  if (a.options.memory_view == cost::MemoryView::Blocks && a.options.split > 0)
    out += ", inner tensors in " + std::to_string(a.options.split) + " slices";
  out += ")   every op: " + human(a.memory.ops_peak_bytes, true) +
         ", blocks as ops: " + human(a.memory.blocks_peak_bytes, true) + "\n";
  if (!a.complete()) {
    int bad = 0;
    for (const auto& n : a.nodes) bad += n.status != NodeStatus::Ok;
    out += "\nINCOMPLETE: " + std::to_string(bad) + " of " + std::to_string(a.nodes.size()) +
           " blocks have no numbers; totals cover the valid blocks only.\n";
  }
  return out;
}

std::string report_json(const ir::Graph& g, const Analysis& a) {
  ordered_json j;
  j["graph"] = g.name;
  j["convention"] = convention_json(a.options.convention);
  j["precision"] = std::string(cost::precision_name(a.options.precision));
  ordered_json s;
  s["alpha"] = a.settings.alpha;
  s["resolution"] = a.settings.resolution ? ordered_json(*a.settings.resolution) : ordered_json(nullptr);
  s["classes"] = a.classes;
  s["batch"] = a.settings.batch;
  s["channel_divisor"] = a.settings.channel_divisor;
  j["settings"] = s;
  j["complete"] = a.complete();
  j["diagnostics"] = ordered_json::array();
  for (const auto& d : a.diagnostics) j["diagnostics"].push_back({{"where", d.where}, {"message", d.message}});
  ordered_json totals = totals_json(a.totals);
  totals["peak_memory_bytes"] = a.memory.peak_bytes;
  totals["peak_memory_view"] = std::string(cost::memory_view_name(a.options.memory_view));
  totals["peak_memory_ops_bytes"] = a.memory.ops_peak_bytes;
  totals["peak_memory_blocks_bytes"] = a.memory.blocks_peak_bytes;
  totals["peak_memory_split"] = a.memory.split;
  totals["peak_memory_blocks_split_bytes"] = a.memory.blocks_split_peak_bytes;
  j["totals"] = totals;
  j["blocks"] = ordered_json::array();
  j["layers"] = ordered_json::array();
  for (int idx : a.order) {
    const NodeRecord& rec = a.nodes[static_cast<std::size_t>(idx)];
    const ir::Node& node = g.nodes[static_cast<std::size_t>(idx)];
    ordered_json b;
    b["id"] = node.id;
    b["kind"] = node.kind;
    b["status"] = status_name(rec.status);
    if (rec.status == NodeStatus::Ok) {
      b["output_shape"] = {rec.out.h, rec.out.w, rec.out.c};
      b["costs"] = totals_json(rec.totals);
      b["inner_peak_bytes"] = rec.inner_peak_bytes;
      ordered_json p;
      for (const auto& [k, v] : rec.effective) {
        if (const auto* i = std::get_if<std::int64_t>(&v))
          p[k] = *i;
        else if (const auto* d = std::get_if<double>(&v))
          p[k] = *d;
        else if (const auto* bb = std::get_if<bool>(&v))
          p[k] = *bb;
        else
          p[k] = std::get<std::string>(v);
      }
      b["params"] = p;
      if (rec.formula)
        b["formula"] = {{"symbolic", rec.formula->symbolic},
                        {"filled", rec.formula->filled},
                        {"legend", rec.formula->legend},
                        {"madds", rec.formula->madds},
                        {"weights", rec.formula->weights},
                        {"notes", rec.formula->notes}};
      if (rec.connectivity) {
        const auto& c = *rec.connectivity;
        ordered_json cj{{"condition", std::string(cost::complementary_name(c.condition))},
                        {"min_paths", c.min_paths},
                        {"max_paths", c.max_paths}};
        if (c.missing) cj["missing"] = {{"input_channel", c.missing->first}, {"output_channel", c.missing->second}};
        b["complementary"] = cj;
      }
    } else if (rec.status == NodeStatus::Unresolved) {
      b["reason"] = rec.unresolved_because;
    } else {
      b["problems"] = ordered_json::array();
      for (const auto& d : rec.problems) b["problems"].push_back(d.str());
    }
    j["blocks"].push_back(b);
    for (int k = rec.first_op; k < rec.first_op + rec.n_ops; ++k) {
      const OpRecord& o = a.ops[static_cast<std::size_t>(k)];
      ordered_json l;
      l["block"] = node.id;
      l["op"] = o.op.name;
      l["type"] = std::string(ir::op_kind_name(o.op.kind));
      l["summary"] = ir::op_summary(o.op);
      const auto& sh = a.tensors[static_cast<std::size_t>(o.output)].shape;
      l["output_shape"] = {sh.h, sh.w, sh.c};
      l["counted"] = o.counted;
      const ordered_json costs = totals_json(o.totals);
      for (auto it = costs.begin(); it != costs.end(); ++it) l[it.key()] = it.value();
      j["layers"].push_back(l);
    }
  }
  return j.dump(2) + "\n";
}

std::string report_csv(const ir::Graph& g, const Analysis& a) {
  std::string out =
      "block,kind,op,type,output_h,output_w,output_c,params,weights,biases,bn_params,madds,flops,other_ops,"
      "weight_bytes,activation_bytes,bytes_moved,intensity,counted\n";
  auto quote = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return q + "\"";
  };
  for (int idx : a.order) {
    const NodeRecord& rec = a.nodes[static_cast<std::size_t>(idx)];
    const ir::Node& node = g.nodes[static_cast<std::size_t>(idx)];
    for (int k = rec.first_op; k < rec.first_op + rec.n_ops; ++k) {
      const OpRecord& o = a.ops[static_cast<std::size_t>(k)];
      const auto& t = o.totals;
      const auto& sh = a.tensors[static_cast<std::size_t>(o.output)].shape;
      out += quote(node.id) + "," + node.kind + "," + quote(o.op.name) + "," +
             std::string(ir::op_kind_name(o.op.kind)) + "," + std::to_string(sh.h) + "," + std::to_string(sh.w) + "," +
             std::to_string(sh.c) + "," + std::to_string(t.params) + "," + std::to_string(t.weights) + "," +
             std::to_string(t.biases) + "," + std::to_string(t.bn_params) + "," + std::to_string(t.madds) + "," +
             std::to_string(t.flops) + "," + std::to_string(t.other_ops) + "," + std::to_string(t.weight_bytes) + "," +
             std::to_string(t.activation_bytes) + "," + std::to_string(t.bytes_moved) + "," + fixed(t.intensity(), 4) +
             "," + (o.counted ? "true" : "false") + "\n";
    }
  }
  return out;
}

std::string compare_table(const std::vector<cost::CompareRow>& rows, const ir::Shape& in, std::int64_t out_c,
                          std::int64_t stride, std::int64_t kernel) {
  std::string out = "input " + in.str() + " -> " + std::to_string(out_c) + " channels, stride " +
                    std::to_string(stride) + ", kernel " + std::to_string(kernel) + "\n\n";
  Table t({"block", "output", "weights", "MAdds", "peak mem", "MAdds / conv", "weights / conv", "paper ratio"});
  for (const auto& r : rows) {
    if (!r.ok) {
      t.add({r.kind, "n/a: " + r.problem});
      continue;
    }
    t.add({r.kind, r.out.str(), with_commas(r.totals.weights), with_commas(r.totals.madds),
           human(r.peak_memory_bytes, true), fixed(r.madds_ratio, 4), fixed(r.params_ratio, 4),
           r.theory.empty() ? "-" : r.theory + " = " + fixed(r.theory_ratio, 4)});
  }
  out += t.str();
  out += "\nweights exclude biases and batch norm; MAdds count multiply-accumulates (conv and fc only).\n";
  return out;
}

std::string compare_json(const std::vector<cost::CompareRow>& rows, const ir::Shape& in, std::int64_t out_c,
                         std::int64_t stride, std::int64_t kernel) {
  ordered_json j;
  j["input_shape"] = {in.h, in.w, in.c};
  j["out_channels"] = out_c;
  j["stride"] = stride;
  j["kernel"] = kernel;
  j["blocks"] = ordered_json::array();
  for (const auto& r : rows) {
    ordered_json b;
    b["kind"] = r.kind;
    b["ok"] = r.ok;
    if (!r.ok) {
      b["problem"] = r.problem;
    } else {
      b["params"] = params_str(r.params);
      b["output_shape"] = {r.out.h, r.out.w, r.out.c};
      b["costs"] = totals_json(r.totals);
      b["peak_memory_bytes"] = r.peak_memory_bytes;
      b["madds_ratio"] = r.madds_ratio;
      b["weights_ratio"] = r.params_ratio;
      b["formula"] = r.formula;
      if (!r.theory.empty()) b["paper_ratio"] = {{"formula", r.theory}, {"value", r.theory_ratio}};
    }
    j["blocks"].push_back(b);
  }
  return j.dump(2) + "\n";
}

std::string compare_csv(const std::vector<cost::CompareRow>& rows) {
  std::string out = "kind,ok,weights,params,madds,peak_memory_bytes,madds_ratio,weights_ratio,paper_ratio\n";
  for (const auto& r : rows) {
    out += r.kind + "," + (r.ok ? "true" : "false") + "," + std::to_string(r.totals.weights) + "," +
           std::to_string(r.totals.params) + "," + std::to_string(r.totals.madds) + "," +
           std::to_string(r.peak_memory_bytes) + "," + fixed(r.madds_ratio, 6) + "," + fixed(r.params_ratio, 6) + "," +
           (r.theory.empty() ? "" : fixed(r.theory_ratio, 6)) + "\n";
  }
  return out;
}

}  // namespace convscope::io
