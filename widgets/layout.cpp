#include "layout.h"

#include <graphviz/gvc.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

namespace convscope::gui {
namespace {

constexpr double kPointsPerInch = 72.0;
constexpr double kRankPitch = kNodeHeight + kRankGap;

/// Fallback: rank = longest path from a source; blocks of a rank side by side.
Positions longest_path_layout(const ir::Graph& g) {
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
  Positions out;
  for (const auto& n : g.nodes) {
    const int r = rank[n.id];
    const int col = used[r]++;
    out[n.id] = {col * (kNodeWidth + 40), r * kRankPitch};
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

Positions graphviz_layout(const ir::Graph& g) {
  // Graphviz keeps global state: one layout at a time.
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::string dot = "digraph G { rankdir=TB; nodesep=0.35; ranksep=" + std::to_string(kRankGap / kPointsPerInch) +
                    "; node [shape=box, fixedsize=true, label=\"\", width=" +
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
  if (!gvc) return {};
  Agraph_t* graph = agmemread(dot.c_str());
  if (!graph) {
    gvFreeContext(gvc);
    return {};
  }
  Positions out;
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
  return out;
}

/// Cuts a top-to-bottom layout into columns placed left to right, so that its
/// bounding box comes closest to `aspect` (width / height).
void wrap_columns(const ir::Graph& g, Positions& pos, double aspect) {
  // Ranks: the distinct rows of the layout, top to bottom.
  std::vector<double> rows;
  double left = 1e300, right = -1e300;
  for (const auto& [id, p] : pos) {
    rows.push_back(p[1]);
    left = std::min(left, p[0]);
    right = std::max(right, p[0] + kNodeWidth);
  }
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end(), [](double a, double b) { return std::abs(a - b) < 1; }),
             rows.end());
  const int ranks = static_cast<int>(rows.size());
  constexpr int kMinRanksPerColumn = 4;
  if (ranks < 2 * kMinRanksPerColumn) return;
  auto rank_of = [&](double y) {
    return static_cast<int>(std::lower_bound(rows.begin(), rows.end(), y - 0.5) - rows.begin());
  };
  const double width = right - left;
  const double height = rows.back() - rows.front() + kNodeHeight;

  // Columns: the count whose box is closest to the aspect (in log scale).
  int columns = 1;
  double best = std::abs(std::log(width / height / aspect));
  for (int k = 2; k <= ranks / kMinRanksPerColumn; ++k) {
    const double w = k * width + (k - 1) * kColumnGap;
    const double h = std::ceil(static_cast<double>(ranks) / k) * kRankPitch;
    const double score = std::abs(std::log(w / h / aspect));
    if (score < best) {
      best = score;
      columns = k;
    }
  }
  if (columns == 1) return;

  // How many connections a cut above rank r would break; cuts go where that is least.
  // (A difference array: +1 where a connection starts spanning, -1 after it ends.)
  std::vector<int> crossing(static_cast<std::size_t>(ranks) + 2, 0);
  for (const auto& n : g.nodes) {
    auto to = pos.find(n.id);
    if (to == pos.end()) continue;
    for (const auto& in : n.inputs) {
      auto from = pos.find(in);
      if (from == pos.end()) continue;
      const int a = rank_of(from->second[1]), b = rank_of(to->second[1]);
      ++crossing[static_cast<std::size_t>(std::min(a, b) + 1)];
      --crossing[static_cast<std::size_t>(std::max(a, b) + 1)];
    }
  }
  for (std::size_t r = 1; r < crossing.size(); ++r) crossing[r] += crossing[r - 1];
  std::vector<int> cuts{0};
  for (int k = 1; k < columns; ++k) {
    const int ideal = static_cast<int>(std::lround(static_cast<double>(k) * ranks / columns));
    int cut = ideal;
    for (int r = std::max(cuts.back() + kMinRanksPerColumn, ideal - 2);
         r <= std::min(ranks - kMinRanksPerColumn, ideal + 2); ++r)
      if (crossing[static_cast<std::size_t>(r)] < crossing[static_cast<std::size_t>(cut)]) cut = r;
    cuts.push_back(cut);
  }
  cuts.push_back(ranks);
  for (auto& [id, p] : pos) {
    const int r = rank_of(p[1]);
    const int column = static_cast<int>(std::upper_bound(cuts.begin(), cuts.end(), r) - cuts.begin()) - 1;
    const int first = cuts[static_cast<std::size_t>(column)];
    p[0] = p[0] - left + column * (width + kColumnGap);
    p[1] = p[1] - rows[static_cast<std::size_t>(first)];
  }
}

bool overlaps(const edit::Pos& a, const edit::Pos& b) {
  return std::abs(a[0] - b[0]) < kNodeWidth + 10 && std::abs(a[1] - b[1]) < kNodeHeight + 10;
}

}  // namespace

Positions layered_layout(const ir::Graph& g, double aspect) {
  if (g.nodes.empty()) return {};
  Positions out = graphviz_layout(g);
  if (out.size() != g.nodes.size()) out = longest_path_layout(g);
  if (aspect > 0) wrap_columns(g, out, aspect);
  return out;
}

Positions make_room(const ir::Graph& g, const std::string& id) {
  const int self = g.find(id);
  if (self < 0) return {};
  const ir::Node& added = g.nodes[static_cast<std::size_t>(self)];
  std::optional<edit::Pos> above;
  if (!added.inputs.empty())
    if (const int p = g.find(added.inputs.front()); p >= 0) above = g.nodes[static_cast<std::size_t>(p)].pos;
  if (!above && !added.pos) return {};
  edit::Pos at = above ? edit::Pos{(*above)[0], (*above)[1] + kRankPitch} : *added.pos;

  // Everything downstream of the new block that sits at or below its input moves
  // down by the room the new block needs above the nearest of them.
  std::unordered_map<std::string, std::vector<int>> consumers;
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    for (const auto& in : g.nodes[i].inputs) consumers[in].push_back(static_cast<int>(i));
  std::set<int> downstream;
  std::vector<int> stack{self};
  while (!stack.empty()) {
    const int v = stack.back();
    stack.pop_back();
    for (int c : consumers[g.nodes[static_cast<std::size_t>(v)].id])
      if (c != self && downstream.insert(c).second) stack.push_back(c);
  }
  Positions moved;
  double shift = 0;
  for (int d : downstream) {
    const auto& p = g.nodes[static_cast<std::size_t>(d)].pos;
    if (p && (*p)[1] >= at[1] - kRankPitch + 1 && std::abs((*p)[0] - at[0]) < kNodeWidth + kColumnGap)
      shift = std::max(shift, at[1] + kRankPitch - (*p)[1]);
  }
  if (shift > 0)
    for (int d : downstream) {
      const auto& p = g.nodes[static_cast<std::size_t>(d)].pos;
      if (p && (*p)[1] >= at[1] - kRankPitch + 1) moved[g.nodes[static_cast<std::size_t>(d)].id] = {(*p)[0], (*p)[1] + shift};
    }

  // Slide the new block right until it is off every block that stays.
  auto position = [&](std::size_t i) -> std::optional<edit::Pos> {
    if (auto it = moved.find(g.nodes[i].id); it != moved.end()) return it->second;
    return g.nodes[i].pos;
  };
  for (bool clash = true; clash;) {
    clash = false;
    for (std::size_t i = 0; i < g.nodes.size(); ++i) {
      if (static_cast<int>(i) == self) continue;
      if (auto p = position(i); p && overlaps(*p, at)) {
        at[0] = (*p)[0] + kNodeWidth + 30;
        clash = true;
      }
    }
  }
  moved[id] = at;
  return moved;
}

}  // namespace convscope::gui
