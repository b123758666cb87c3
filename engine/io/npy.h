#pragma once
/// NumPy .npy arrays (format versions 1.0, 2.0 and 3.0) and raw float32 files:
/// the input and output files of `convscope-cli run`. Values are read as
/// float32 (float64 files are converted); C order only.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "util/result.h"

namespace convscope::io {

/// A dense array in C (row-major) order.
struct Array {
  std::vector<std::int64_t> shape;
  std::vector<float> data;

  [[nodiscard]] std::int64_t size() const;
  /// "1x3x224x224"
  [[nodiscard]] std::string shape_str() const;
};

/// Reads a .npy file of dtype float32 or float64 (little-endian), C order.
/// Errors name the file and what is wrong (dtype, Fortran order, a header
/// that does not parse, data shorter or longer than the shape says).
Result<Array> read_npy(const std::filesystem::path& path);

/// Reads a file of raw little-endian float32 values whose size must be
/// exactly the product of `shape`.
Result<Array> read_raw_f32(const std::filesystem::path& path, const std::vector<std::int64_t>& shape);

/// The .npy bytes of `a` (format 1.0, dtype <f4, C order).
std::string npy_bytes(const Array& a);

/// Writes `a` atomically: a .npy file, or raw float32 when the name does not end in ".npy".
Result<bool> write_array(const std::filesystem::path& path, const Array& a);

/// Parses "1x3x224x224" (or "1,3,224,224"); every dimension >= 1.
Result<std::vector<std::int64_t>> parse_shape(const std::string& text);

}  // namespace convscope::io
