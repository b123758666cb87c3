#pragma once
/// Placement of a graph's blocks on the canvas: Graphviz's dot algorithm (through
/// libgvc) ranks them top to bottom, a long network is then wrapped into columns
/// so that it fills a landscape canvas, and an inserted block pushes the blocks
/// downstream of it along instead of landing on them. No Qt here.

#include <map>
#include <string>

#include "edit/edit.h"
#include "ir/graph.h"

namespace convscope::gui {

/// Size of a block on the canvas, in scene units.
inline constexpr double kNodeWidth = 190;
inline constexpr double kNodeHeight = 62;
/// Vertical distance between ranks and horizontal distance between wrapped columns.
inline constexpr double kRankGap = 32;
inline constexpr double kColumnGap = 70;

using Positions = std::map<std::string, edit::Pos, std::less<>>;

/// Top-left positions of every block. `aspect` (width / height of the canvas, 0:
/// never wrap) chooses how many columns a tall layered layout is cut into; the
/// cuts fall where the fewest connections cross.
Positions layered_layout(const ir::Graph& g, double aspect = 0);

/// After block `id` was inserted into a placed graph: puts it one rank below its
/// (first) input, pushes every block downstream of it that sits at or below that
/// input down by the room it needs, and slides it sideways off any other block.
/// Returns the new positions of the blocks that moved (the inserted one included).
Positions make_room(const ir::Graph& g, const std::string& id);

}  // namespace convscope::gui
