#include "layout.h"

#include <graphviz/gvc.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <vector>

namespace convscope::gui {
namespace {

constexpr double kPointsPerInch = 72.0;

/// Fallback: rank = longest path from a source; blocks of a rank side by side.
std::map<std::string, edit::Pos, std::less<>> longest_path_layout(const ir::Graph& g) {
  std::map<std::string, int, std::less<>> rank;
  for (int pass = 0; pass < static_cast<int>(g.nodes.size()) + 1; ++pass) {
    bool moved = false;
    for (const auto& n : g.nodes) {
      int r = 0;
      for (const auto& in : n.inputs)
        if (auto it = rank.find(in); it != rank.end()) r = std::max(r, it->second + 1);
      auto [it, inserted] = rank.try_emplace(n.id, r);
      if (!inserted && it->second != r) {
        it->second = r;
        moved = true;
      } else if (inserted) {
        moved = true;
      }
    }
    if (!moved) break;
  }
  std::map<int, int> used;
  std::map<std::string, edit::Pos, std::less<>> out;
  for (const auto& n : g.nodes) {
    const int r = rank[n.id];
    const int col = used[r]++;
    out[n.id] = {col * (kNodeWidth + 40), r * (kNodeHeight + 50)};
  }
  return out;
}

std::string quote(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

}  // namespace

std::map<std::string, edit::Pos, std::less<>> layered_layout(const ir::Graph& g) {
  if (g.nodes.empty()) return {};
  // Graphviz keeps global state: one layout at a time.
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::string dot = "digraph G { rankdir=TB; nodesep=0.35; ranksep=0.45; node [shape=box, fixedsize=true, label=\"\", width=" +
                    std::to_string(kNodeWidth / kPointsPerInch) +
                    ", height=" + std::to_string(kNodeHeight / kPointsPerInch) + "];\n";
  for (const auto& n : g.nodes) dot += quote(n.id) + ";\n";
  for (const auto& n : g.nodes)
    for (const auto& in : n.inputs)
      if (g.find(in) >= 0) dot += quote(in) + " -> " + quote(n.id) + ";\n";
  dot += "}\n";

  // Only positions are read: nodes carry no label (long ids in fixed-size boxes made
  // Graphviz print "size too small for label" for every imported node).
  GVC_t* gvc = gvContext();
  if (!gvc) return longest_path_layout(g);
  Agraph_t* graph = agmemread(dot.c_str());
  if (!graph) {
    gvFreeContext(gvc);
    return longest_path_layout(g);
  }
  std::map<std::string, edit::Pos, std::less<>> out;
  if (gvLayout(gvc, graph, "dot") == 0) {
    double max_y = 0;
    for (Agnode_t* n = agfstnode(graph); n; n = agnxtnode(graph, n)) max_y = std::max(max_y, ND_coord(n).y);
    for (Agnode_t* n = agfstnode(graph); n; n = agnxtnode(graph, n)) {
      // Graphviz puts the origin bottom-left and gives centres; the canvas wants top-left corners, y down.
      const double cx = ND_coord(n).x, cy = max_y - ND_coord(n).y;
      out[agnameof(n)] = {std::round(cx - kNodeWidth / 2), std::round(cy - kNodeHeight / 2)};
    }
    gvFreeLayout(gvc, graph);
  }
  agclose(graph);
  gvFreeContext(gvc);
  if (out.size() != g.nodes.size()) return longest_path_layout(g);
  return out;
}

}  // namespace convscope::gui
