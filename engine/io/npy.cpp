#include "io/npy.h"

#include <bit>
#include <cstring>
#include <fstream>
#include <limits>
#include <regex>
#include <sstream>

#include "io/graph_json.h"

namespace convscope::io {

namespace {

static_assert(std::endian::native == std::endian::little, "the .npy reader assumes a little-endian host");

constexpr std::int64_t kMaxElements = std::int64_t{1} << 32;  // 16 GiB of float32: far beyond any input

/// Product of dims, or -1 when a dim is negative or the product passes kMaxElements.
std::int64_t checked_size(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (auto d : shape) {
    if (d < 0 || (d > 0 && n > kMaxElements / d)) return -1;
    n *= d;
  }
  return n;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s;
  for (auto d : shape) s += (s.empty() ? "" : "x") + std::to_string(d);
  return s.empty() ? "scalar" : s;
}

Result<std::string> slurp(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return fail(path.string(), "no such file");
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return fail(path.string(), "cannot read: " + ec.message());
  if (size > static_cast<std::uintmax_t>(kMaxElements) * 8 + 4096)
    return fail(path.string(), "file of " + std::to_string(size) + " bytes is larger than any array ConvScope runs");
  std::ifstream f(path, std::ios::binary);
  if (!f) return fail(path.string(), "cannot open");
  std::string bytes(size, '\0');
  f.read(bytes.data(), static_cast<std::streamsize>(size));
  if (!f) return fail(path.string(), "cannot read");
  return bytes;
}

/// The value of key `key` in the header dict ("'descr': '<f4'" -> "'<f4'").
std::string dict_value(const std::string& header, const std::string& key) {
  const std::regex re("['\"]" + key + "['\"]\\s*:\\s*('[^']*'|\"[^\"]*\"|True|False|\\([^)]*\\))");
  std::smatch m;
  return std::regex_search(header, m, re) ? m[1].str() : std::string{};
}

}  // namespace

std::int64_t Array::size() const { return checked_size(shape); }
std::string Array::shape_str() const { return shape_text(shape); }

Result<Array> read_npy(const std::filesystem::path& path) {
  auto bytes = slurp(path);
  if (!bytes) return tl::unexpected(bytes.error());
  const std::string& b = *bytes;
  const std::string where = path.string();
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0)
    return fail(where, "not a .npy file (no \\x93NUMPY magic); raw float32 needs --input-shape");
  const int major = static_cast<unsigned char>(b[6]);
  std::size_t header_len = 0, header_at = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(b[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(b[9])) << 8);
    header_at = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) return fail(where, "truncated .npy header");
    for (int i = 3; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(b[8 + i]);
    header_at = 12;
  } else {
    return fail(where, "unsupported .npy format version " + std::to_string(major));
  }
  if (header_len > b.size() - header_at) return fail(where, "truncated .npy header");
  const std::string header = b.substr(header_at, header_len);

  const std::string descr = dict_value(header, "descr");
  int width = 0;
  if (descr == "'<f4'" || descr == "'|f4'")
    width = 4;
  else if (descr == "'<f8'")
    width = 8;
  else
    return fail(where, "dtype " + (descr.empty() ? std::string("missing") : descr) +
                           " is not supported: save the array as float32 (x.astype(numpy.float32))");
  if (dict_value(header, "fortran_order") != "False")
    return fail(where, "Fortran-order arrays are not supported: save with numpy.ascontiguousarray(x)");
  const std::string shape_tuple = dict_value(header, "shape");
  if (shape_tuple.empty()) return fail(where, "the .npy header has no shape");
  Array a;
  static const std::regex dim_re(R"((\d+))");
  for (std::sregex_iterator it(shape_tuple.begin(), shape_tuple.end(), dim_re), end; it != end; ++it) {
    const std::string d = (*it)[1].str();
    if (d.size() > 12) return fail(where, "dimension " + d + " is out of range");
    a.shape.push_back(std::stoll(d));
  }
  const std::int64_t n = checked_size(a.shape);
  if (n < 0) return fail(where, "shape " + shape_text(a.shape) + " is too large");
  const std::size_t data_at = header_at + header_len;
  const std::size_t have = b.size() - data_at;
  const std::size_t want = static_cast<std::size_t>(n) * static_cast<std::size_t>(width);
  if (have != want)
    return fail(where, std::string(have < want ? "truncated" : "trailing bytes") + ": shape " +
                           shape_text(a.shape) + " of " + (width == 4 ? "float32" : "float64") + " needs " +
                           std::to_string(want) + " bytes of data, the file has " + std::to_string(have));
  a.data.resize(static_cast<std::size_t>(n));
  if (width == 4) {
    std::memcpy(a.data.data(), b.data() + data_at, want);
  } else {
    for (std::size_t i = 0; i < a.data.size(); ++i) {
      double v;
      std::memcpy(&v, b.data() + data_at + i * 8, 8);
      a.data[i] = static_cast<float>(v);
    }
  }
  return a;
}

Result<Array> read_raw_f32(const std::filesystem::path& path, const std::vector<std::int64_t>& shape) {
  const std::int64_t n = checked_size(shape);
  if (n < 0) return fail(path.string(), "shape " + shape_text(shape) + " is too large");
  auto bytes = slurp(path);
  if (!bytes) return tl::unexpected(bytes.error());
  const auto want = static_cast<std::size_t>(n) * 4;
  if (bytes->size() != want)
    return fail(path.string(), "raw float32 of shape " + shape_text(shape) + " needs " + std::to_string(want) +
                                   " bytes, the file has " + std::to_string(bytes->size()));
  Array a{shape, std::vector<float>(static_cast<std::size_t>(n))};
  std::memcpy(a.data.data(), bytes->data(), want);
  return a;
}

std::string npy_bytes(const Array& a) {
  std::string shape;  // "1, 1000"; a 1-D shape keeps Python's trailing comma: "5,"
  for (auto d : a.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
  if (a.shape.size() == 1) shape += ",";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape + "), }";
  // Magic (6) + version (2) + length (2) + header + '\n', padded with spaces to a multiple of 64.
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(reinterpret_cast<const char*>(a.data.data()), a.data.size() * sizeof(float));
  return out;
}

Result<bool> write_array(const std::filesystem::path& path, const Array& a) {
  if (path.extension() == ".npy") return write_file_atomic(path, npy_bytes(a));
  return write_file_atomic(
      path, std::string_view(reinterpret_cast<const char*>(a.data.data()), a.data.size() * sizeof(float)));
}

Result<std::vector<std::int64_t>> parse_shape(const std::string& text) {
  static const std::regex re(R"(\d{1,9}([x,]\d{1,9})*)");
  if (!std::regex_match(text, re)) return fail("", "expected a shape such as 1x3x224x224, got '" + text + "'");
  std::vector<std::int64_t> shape;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, text.find('x') != std::string::npos ? 'x' : ','))
    shape.push_back(std::stoll(part));
  for (auto d : shape)
    if (d < 1) return fail("", "every dimension must be >= 1, got '" + text + "'");
  if (checked_size(shape) < 0) return fail("", "shape " + text + " is too large");
  return shape;
}

}  // namespace convscope::io
