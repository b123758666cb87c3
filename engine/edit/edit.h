#pragma once
/// Edits of a graph as plain functions: add, splice into an edge, connect,
/// disconnect, delete, rename, set a parameter, move, copy and paste. The app's
/// undo commands call these on a copy of the document's graph; refused edits
/// return the reason (e.g. "'input' takes no inputs") and leave the graph as it was.

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"
#include "util/result.h"

namespace convscope::edit {

using Pos = std::array<double, 2>;

/// Adds a block of `kind` with its schema defaults at `pos`; returns its new id.
Result<std::string> add_block(ir::Graph& g, std::string_view kind, std::optional<Pos> pos = std::nullopt);

/// Inserts a new block of `kind` into the edge that feeds input `slot` of `to`
/// (its source is `to`'s current input there): source -> new -> to. Returns the new id.
Result<std::string> splice_block(ir::Graph& g, std::string_view kind, std::string_view to, std::size_t slot,
                                 std::optional<Pos> pos = std::nullopt);

/// Feeds `from`'s output into input `slot` of `to`: slot < inputs.size()
/// replaces that input, slot == inputs.size() appends one. Refuses self-loops,
/// cycles, unknown blocks and more inputs than the kind takes.
Result<bool> connect(ir::Graph& g, std::string_view from, std::string_view to, std::size_t slot);

/// The slot a drop of `from` onto block `to` connects to: the first missing
/// input, else a new one if the kind takes more, else input 0 (replaced).
std::size_t default_slot(const ir::Graph& g, std::string_view to);

/// Removes input `slot` of `to`.
Result<bool> disconnect(ir::Graph& g, std::string_view to, std::size_t slot);

/// Deletes blocks. A deleted block with exactly one input hands that input to
/// its consumers (deleting the middle of a chain keeps the chain); consumers of
/// other deleted blocks lose that input.
void remove_blocks(ir::Graph& g, const std::vector<std::string>& ids);

/// Sets a parameter (nullopt removes it: the default applies, or the block
/// derives it). Refuses unknown blocks and parameters and values of the wrong
/// type; values out of range are kept and reported by the analysis.
Result<bool> set_param(ir::Graph& g, std::string_view id, std::string_view name,
                       const std::optional<ir::ParamValue>& value);

/// Renames a block and every reference to it. Ids are [A-Za-z0-9_.-]+ and unique.
Result<bool> rename_block(ir::Graph& g, std::string_view id, std::string_view new_id);

/// Places blocks (ids not in the graph are ignored).
void move_blocks(ir::Graph& g, const std::map<std::string, Pos, std::less<>>& positions);

/// The blocks `ids` as a graph of their own (inputs from outside dropped), for the clipboard.
ir::Graph extract(const ir::Graph& g, const std::vector<std::string>& ids);

/// Adds the blocks of `part` under fresh ids (internal edges kept), shifted by
/// `offset`; returns the new ids.
std::vector<std::string> paste(ir::Graph& g, const ir::Graph& part, Pos offset);

/// True when `to` can be reached from `from` along edges (from == to counts).
bool reaches(const ir::Graph& g, std::string_view from, std::string_view to);

}  // namespace convscope::edit
