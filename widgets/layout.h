#pragma once
/// Layered (top-to-bottom) placement of a graph's blocks, by Graphviz's dot
/// algorithm through libgvc; a simple longest-path layering if Graphviz fails.

#include <map>
#include <string>

#include "edit/edit.h"
#include "ir/graph.h"

namespace convscope::gui {

/// Size of a block on the canvas, in scene units.
inline constexpr double kNodeWidth = 190;
inline constexpr double kNodeHeight = 62;

/// Top-left positions of every block.
std::map<std::string, edit::Pos, std::less<>> layered_layout(const ir::Graph& g);

}  // namespace convscope::gui
