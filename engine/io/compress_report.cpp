#include "io/compress_report.h"

#include <cstdarg>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "io/report.h"

namespace convscope::io {
namespace {

std::string line(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string line(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

double ratio(std::int64_t a, std::int64_t b) { return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : 0; }
double mib(std::int64_t b) { return static_cast<double>(b) / (1 << 20); }

}  // namespace

std::string compress_report_text(const compress::Report& r, const std::string& title) {
  std::string out = title + ": Deep Compression (prune, share by k-means, relative indices, Huffman)\n\n";
  out += line("%-28s %4s %11s %6s %7s %9s %12s %12s %12s %12s %6s\n", "layer", "kind", "weights", "kept", "fillers",
              "bits/idx", "dense B", "pruned B", "quantised B", "Huffman B", "ratio");
  for (const auto& l : r.layers)
    out += line("%-28s %4s %11s %5.1f%% %7s %6d/%-2d %12s %12s %12s %12s %5.1fx\n", l.name.substr(0, 28).c_str(),
                l.kind.c_str(), with_commas(l.weights).c_str(), 100.0 * ratio(l.kept, l.weights),
                with_commas(l.fillers).c_str(), l.bits, l.index_bits, with_commas(l.dense_bytes).c_str(),
                with_commas(l.pruned_bytes).c_str(), with_commas(l.quantised_bytes).c_str(),
                with_commas(l.huffman_bytes).c_str(), ratio(l.dense_bytes, l.huffman_bytes));
  const std::int64_t o = r.other_bytes;
  out += "\n";
  out += line("weights kept      %s of %s (%.1f %%)\n", with_commas(r.kept).c_str(), with_commas(r.weights).c_str(),
              100.0 * ratio(r.kept, r.weights));
  out += line("dense fp32        %12s B  %7.3f MiB\n", with_commas(r.dense_bytes + o).c_str(), mib(r.dense_bytes + o));
  out += line("pruned            %12s B  %7.3f MiB  %6.1fx\n", with_commas(r.pruned_bytes + o).c_str(),
              mib(r.pruned_bytes + o), ratio(r.dense_bytes + o, r.pruned_bytes + o));
  out += line("quantised         %12s B  %7.3f MiB  %6.1fx\n", with_commas(r.quantised_bytes + o).c_str(),
              mib(r.quantised_bytes + o), ratio(r.dense_bytes + o, r.quantised_bytes + o));
  out += line("Huffman-coded     %12s B  %7.3f MiB  %6.1fx\n", with_commas(r.huffman_bytes + o).c_str(),
              mib(r.huffman_bytes + o), ratio(r.dense_bytes + o, r.huffman_bytes + o));
  out += line("(every stage includes %s B of biases and batch norm kept in fp32)\n", with_commas(o).c_str());
  if (r.inputs > 0)
    out += line("\noutput with compressed weights vs uncompressed, %d random inputs: max |diff| %.4g (largest |output| "
                "%.4g), relative L2 %.4g, top-1 unchanged on %d of %d\n",
                r.inputs, r.max_abs_diff, r.output_scale, r.relative_l2,
                static_cast<int>(r.top1_agreement * r.inputs + 0.5), r.inputs);
  return out;
}

std::string compress_report_json(const compress::Report& r, const std::string& title) {
  nlohmann::ordered_json j;
  j["model"] = title;
  auto& layers = j["layers"] = nlohmann::ordered_json::array();
  for (const auto& l : r.layers)
    layers.push_back({{"name", l.name},
                      {"kind", l.kind},
                      {"weights", l.weights},
                      {"kept", l.kept},
                      {"fillers", l.fillers},
                      {"prune", l.prune},
                      {"bits", l.bits},
                      {"index_bits", l.index_bits},
                      {"clusters_used", l.clusters},
                      {"dense_bytes", l.dense_bytes},
                      {"pruned_bytes", l.pruned_bytes},
                      {"quantised_bytes", l.quantised_bytes},
                      {"huffman_bytes", l.huffman_bytes},
                      {"huffman_value_bits", l.value_bits},
                      {"huffman_index_bits", l.index_bits_coded},
                      {"value_entropy_bits", l.value_entropy},
                      {"index_entropy_bits", l.index_entropy}});
  const std::int64_t o = r.other_bytes;
  j["totals"] = {{"weights", r.weights},
                 {"kept", r.kept},
                 {"other_bytes", o},
                 {"dense_bytes", r.dense_bytes + o},
                 {"pruned_bytes", r.pruned_bytes + o},
                 {"quantised_bytes", r.quantised_bytes + o},
                 {"huffman_bytes", r.huffman_bytes + o}};
  if (r.inputs > 0)
    j["drift"] = {{"inputs", r.inputs},
                  {"max_abs_diff", r.max_abs_diff},
                  {"output_scale", r.output_scale},
                  {"relative_l2", r.relative_l2},
                  {"top1_agreement", r.top1_agreement}};
  return j.dump(2) + "\n";
}

}  // namespace convscope::io
