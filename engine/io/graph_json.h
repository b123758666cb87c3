#pragma once
/// Graph files: versioned, human-readable, diff-friendly JSON (one block per
/// line). Loading checks the document's structure and types and reports every
/// problem with its path in the file; parameter ranges and shapes are checked by
/// the analysis, so a design saved half-finished can always be opened again.

#include <filesystem>
#include <string>
#include <string_view>

#include "ir/graph.h"
#include "util/result.h"

namespace convscope::io {

inline constexpr std::string_view kGraphFormat = "convscope-graph";
inline constexpr int kGraphVersion = 1;

/// Parses a graph document. Errors carry paths such as `blocks[3].stride`.
Result<ir::Graph> graph_from_json(std::string_view text);

/// The canonical text of a graph. Loading it gives back an equal graph, and
/// saving a loaded canonical file reproduces it byte for byte.
std::string graph_to_json(const ir::Graph& graph);

/// Graph files larger than this are refused before they are read (a 10^5-block
/// graph is about 10 MiB).
inline constexpr std::int64_t kMaxGraphFileBytes = std::int64_t{64} << 20;
/// Reads and parses a file; errors name the problem (the caller adds the file name).
Result<ir::Graph> load_graph(const std::filesystem::path& path);

/// Writes `text` to `path` atomically: a temporary file in the same folder,
/// flushed to disk, then renamed over the target. The old file survives any failure;
/// it keeps its permissions, a symbolic link stays a link (its target is replaced),
/// and temporaries that killed saves of the same file left behind are removed.
Result<bool> write_file_atomic(const std::filesystem::path& path, std::string_view text);

/// Saves a graph atomically (graph_to_json + write_file_atomic).
Result<bool> save_graph(const std::filesystem::path& path, const ir::Graph& graph);

}  // namespace convscope::io
