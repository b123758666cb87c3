#pragma once
/// Deep Compression results as text (a table per layer, like the paper's) and JSON.

#include <string>

#include "compress/deep_compression.h"

namespace convscope::io {

/// Per-layer table (weights, kept, fillers, bits, bytes after each stage, ratio),
/// the totals with the compression ratio of each stage, and the output drift.
std::string compress_report_text(const compress::Report& r, const std::string& title);
/// The same as one JSON object.
std::string compress_report_json(const compress::Report& r, const std::string& title);

}  // namespace convscope::io
