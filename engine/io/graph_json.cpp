#include "io/graph_json.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "blocks/registry.h"

namespace convscope::io {
namespace {

using nlohmann::json;

std::string type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    case json::value_t::string:
      return "string " + j.dump();
    case json::value_t::boolean:
      return std::string("boolean ") + (j.get<bool>() ? "true" : "false");
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "number " + j.dump();
    default:
      return "invalid value";
  }
}

bool get_int(const json& j, std::int64_t& out) {
  if (j.is_number_integer() && !j.is_number_unsigned()) {
    out = j.get<std::int64_t>();
    return true;
  }
  if (j.is_number_unsigned() &&
      j.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    out = static_cast<std::int64_t>(j.get<std::uint64_t>());
    return true;
  }
  return false;
}

constexpr const char* kBlockKeys[] = {"id", "kind", "inputs", "width_rule", "classifier", "pos"};

bool is_reserved(std::string_view key) {
  for (const char* k : kBlockKeys)
    if (key == k) return true;
  return false;
}

/// Converts a JSON value to a parameter value of the spec's type, or explains why not.
std::optional<ir::ParamValue> to_param(const ir::ParamSpec& spec, const json& j, std::string& why) {
  std::int64_t i = 0;
  switch (spec.type) {
    case ir::ParamType::Int:
    case ir::ParamType::Channels:
      if (get_int(j, i)) return ir::ParamValue{i};
      why = "expected integer, got " + type_name(j);
      return std::nullopt;
    case ir::ParamType::Float:
      if (j.is_number()) return ir::ParamValue{j.get<double>()};
      why = "expected number, got " + type_name(j);
      return std::nullopt;
    case ir::ParamType::Bool:
      if (j.is_boolean()) return ir::ParamValue{j.get<bool>()};
      why = "expected true or false, got " + type_name(j);
      return std::nullopt;
    case ir::ParamType::Choice:
      if (j.is_string()) return ir::ParamValue{j.get<std::string>()};
      why = "expected one of " + ir::param_range_str(spec) + ", got " + type_name(j);
      return std::nullopt;
    case ir::ParamType::Padding:
      if (j.is_string()) return ir::ParamValue{j.get<std::string>()};
      if (get_int(j, i)) return ir::ParamValue{i};
      why = "expected \"same\" or an integer, got " + type_name(j);
      return std::nullopt;
    case ir::ParamType::IntList: {
      // Written as an array of integers; the text "4,4" is read too. Kept as canonical text.
      if (j.is_string()) {
        auto list = ir::parse_int_list(j.get<std::string>(), why);
        return list ? std::optional<ir::ParamValue>{ir::int_list_str(*list)} : std::nullopt;
      }
      if (!j.is_array() || j.empty() || j.size() > ir::kMaxListLength) {
        why = "expected an array of 1 to " + std::to_string(ir::kMaxListLength) + " integers, got " + type_name(j);
        return std::nullopt;
      }
      std::vector<std::int64_t> list;
      for (const auto& e : j) {
        if (!get_int(e, i)) {
          why = "expected an array of integers, got an entry of type " + type_name(e);
          return std::nullopt;
        }
        list.push_back(i);
      }
      return ir::ParamValue{ir::int_list_str(list)};
    }
  }
  return std::nullopt;
}

json param_to_json(const ir::ParamValue& v, ir::ParamType type = ir::ParamType::Int) {
  if (type == ir::ParamType::IntList)
    if (const auto* s = std::get_if<std::string>(&v)) {
      std::string why;
      if (auto list = ir::parse_int_list(*s, why)) return *list;
    }
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  return std::get<std::string>(v);
}

void parse_settings(const json& s, ir::Settings& out, Diagnostics& d) {
  if (!s.is_object()) {
    d.push_back({"settings", "expected object, got " + type_name(s)});
    return;
  }
  for (const auto& [key, value] : s.items()) {
    const std::string path = "settings." + key;
    std::int64_t i = 0;
    if (key == "alpha") {
      if (value.is_number())
        out.alpha = value.get<double>();
      else
        d.push_back({path, "expected number, got " + type_name(value)});
    } else if (key == "resolution" || key == "classes" || key == "channel_divisor" || key == "batch") {
      if (!get_int(value, i)) {
        d.push_back({path, "expected integer, got " + type_name(value)});
        continue;
      }
      if (key == "resolution")
        out.resolution = i;
      else if (key == "classes")
        out.classes = i;
      else if (key == "channel_divisor")
        out.channel_divisor = i;
      else
        out.batch = i;
    } else {
      d.push_back({path, "unknown setting (known: alpha, resolution, classes, channel_divisor, batch)"});
    }
  }
}

void parse_block(const json& b, std::size_t index, ir::Graph& g, Diagnostics& d) {
  const std::string path = "blocks[" + std::to_string(index) + "]";
  if (!b.is_object()) {
    d.push_back({path, "expected object, got " + type_name(b)});
    return;
  }
  ir::Node node;
  const auto& registry = blocks::Registry::builtin();
  const blocks::BlockKind* kind = nullptr;
  if (!b.contains("id"))
    d.push_back({path + ".id", "missing"});
  else if (!b["id"].is_string())
    d.push_back({path + ".id", "expected string, got " + type_name(b["id"])});
  else
    node.id = b["id"].get<std::string>();
  if (!b.contains("kind")) {
    d.push_back({path + ".kind", "missing"});
  } else if (!b["kind"].is_string()) {
    d.push_back({path + ".kind", "expected string, got " + type_name(b["kind"])});
  } else {
    node.kind = b["kind"].get<std::string>();
    kind = registry.find(node.kind);
    if (!kind) {
      std::string known;
      for (const auto& k : registry.kinds()) known += (known.empty() ? "" : ", ") + k->name();
      d.push_back({path + ".kind", "unknown block kind '" + node.kind + "' (known: " + known + ")"});
    }
  }
  for (const auto& [key, value] : b.items()) {
    const std::string kpath = path + "." + key;
    if (key == "id" || key == "kind") continue;
    if (key == "inputs") {
      if (!value.is_array()) {
        d.push_back({kpath, "expected array of block ids, got " + type_name(value)});
        continue;
      }
      for (std::size_t k = 0; k < value.size(); ++k) {
        if (value[k].is_string())
          node.inputs.push_back(value[k].get<std::string>());
        else
          d.push_back({kpath + "[" + std::to_string(k) + "]", "expected block id string, got " + type_name(value[k])});
      }
    } else if (key == "width_rule") {
      const std::string w = value.is_string() ? value.get<std::string>() : "";
      if (w == "scale")
        node.width = ir::WidthRule::Scale;
      else if (w == "fixed")
        node.width = ir::WidthRule::Fixed;
      else if (w == "at_least")
        node.width = ir::WidthRule::AtLeast;
      else
        d.push_back({kpath, "expected \"scale\", \"fixed\" or \"at_least\", got " + type_name(value)});
    } else if (key == "classifier") {
      if (value.is_boolean())
        node.classifier = value.get<bool>();
      else
        d.push_back({kpath, "expected true or false, got " + type_name(value)});
    } else if (key == "pos") {
      if (value.is_array() && value.size() == 2 && value[0].is_number() && value[1].is_number())
        node.pos = std::array<double, 2>{value[0].get<double>(), value[1].get<double>()};
      else
        d.push_back({kpath, "expected [x, y], got " + type_name(value)});
    } else if (kind) {
      const ir::ParamSpec* spec = kind->param(key);
      if (!spec) {
        std::string known;
        for (const auto& p : kind->info().params) known += (known.empty() ? "" : ", ") + p.name;
        d.push_back({kpath, "unknown parameter for '" + node.kind + "'" +
                                (known.empty() ? " (it takes none)" : " (known: " + known + ")")});
        continue;
      }
      std::string why;
      if (auto v = to_param(*spec, value, why))
        node.params.emplace(key, std::move(*v));
      else
        d.push_back({kpath, why});
    }
  }
  g.nodes.push_back(std::move(node));
}

std::string json_line(const json& j) { return j.dump(); }

/// `{"a": 1, "b": [2, 3]}`: compact, with a space after ':' and ','.
std::string spaced(const json& j) {
  if (j.is_object()) {
    std::string s = "{";
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!first) s += ", ";
      first = false;
      s += json(it.key()).dump() + ": " + spaced(it.value());
    }
    return s + "}";
  }
  if (j.is_array()) {
    std::string s = "[";
    for (std::size_t i = 0; i < j.size(); ++i) s += (i ? ", " : "") + spaced(j[i]);
    return s + "]";
  }
  return json_line(j);
}

}  // namespace

namespace {
/// A SAX pass that only looks for a key repeated within one object. (nlohmann's
/// callback parser could do it while building the document, but its
/// object-end handling scans the parent container, which is quadratic in the
/// number of blocks.)
struct DuplicateKeys : nlohmann::json_sax<json> {
  std::vector<std::set<std::string>> open;
  std::string duplicate;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    open.emplace_back();
    return true;
  }
  bool key(string_t& k) override {
    if (!open.empty() && !open.back().insert(k).second && duplicate.empty()) duplicate = k;
    return true;
  }
  bool end_object() override {
    if (!open.empty()) open.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
};
}  // namespace

Result<ir::Graph> graph_from_json(std::string_view text) {
  json root;
  // JSON allows repeated keys and the parser keeps the last one silently; a graph
  // file with `"stride": 1, ..., "stride": 2` is more likely a mistake, so say so.
  DuplicateKeys keys;
  std::string duplicate;
  try {
    root = json::parse(text);
    json::sax_parse(text, &keys);
    duplicate = keys.duplicate;
  } catch (const json::parse_error& e) {
    // nlohmann's message is "[json.exception.parse_error.101] parse error at line 3, column 5: ..."
    std::string what = e.what();
    const auto pos = what.find("parse error");
    return fail("", "malformed JSON: " + (pos == std::string::npos ? what : what.substr(pos)));
  } catch (const json::exception& e) {
    // A number beyond double ("1e400", out_of_range.406) and the like: nlohmann's text after its tag.
    std::string what = e.what();
    const auto tag = what.find("] ");
    return fail("", "malformed JSON: " + (tag == std::string::npos ? what : what.substr(tag + 2)));
  }
  if (!duplicate.empty()) return fail("", "key \"" + duplicate + "\" appears twice in one object");
  if (!root.is_object()) return fail("", "expected a JSON object at the top level, got " + type_name(root));
  Diagnostics d;
  if (!root.contains("format") || root["format"] != kGraphFormat)
    return fail("format", "expected \"" + std::string(kGraphFormat) + "\", got " +
                              (root.contains("format") ? type_name(root["format"]) : std::string("nothing")) +
                              " (is this a ConvScope graph file?)");
  std::int64_t version = 0;
  if (!root.contains("version") || !get_int(root["version"], version))
    return fail("version", "expected integer, got " +
                               (root.contains("version") ? type_name(root["version"]) : std::string("nothing")));
  if (version > kGraphVersion)
    return fail("version", "file is version " + std::to_string(version) +
                               ", written by a newer ConvScope; this one reads version " +
                               std::to_string(kGraphVersion));
  if (version < 1) return fail("version", "must be >= 1, got " + std::to_string(version));

  ir::Graph g;
  for (const auto& [key, value] : root.items()) {
    if (key == "format" || key == "version") continue;
    if (key == "name" || key == "description") {
      if (!value.is_string())
        d.push_back({key, "expected string, got " + type_name(value)});
      else
        (key == "name" ? g.name : g.description) = value.get<std::string>();
    } else if (key == "settings") {
      parse_settings(value, g.settings, d);
    } else if (key == "blocks") {
      if (!value.is_array()) {
        d.push_back({"blocks", "expected array, got " + type_name(value)});
        continue;
      }
      for (std::size_t i = 0; i < value.size(); ++i) parse_block(value[i], i, g, d);
    } else {
      d.push_back({key, "unknown field (known: format, version, name, description, settings, blocks)"});
    }
  }
  if (!root.contains("blocks")) d.push_back({"blocks", "missing"});
  if (!d.empty()) return tl::unexpected(std::move(d));
  return g;
}

std::string graph_to_json(const ir::Graph& g) {
  const auto& registry = blocks::Registry::builtin();
  std::string out = "{\n";
  out += "  \"format\": " + json(kGraphFormat).dump() + ",\n";
  out += "  \"version\": " + std::to_string(kGraphVersion) + ",\n";
  out += "  \"name\": " + json(g.name).dump() + ",\n";
  if (!g.description.empty()) out += "  \"description\": " + json(g.description).dump() + ",\n";
  json s = json::object();
  nlohmann::ordered_json settings;
  settings["alpha"] = g.settings.alpha;
  if (g.settings.resolution) settings["resolution"] = *g.settings.resolution;
  if (g.settings.classes) settings["classes"] = *g.settings.classes;
  if (g.settings.channel_divisor != 8) settings["channel_divisor"] = g.settings.channel_divisor;
  if (g.settings.batch != 1) settings["batch"] = g.settings.batch;
  {
    std::string line = "{";
    bool first = true;
    for (auto it = settings.begin(); it != settings.end(); ++it) {
      line += (first ? "" : ", ") + json(it.key()).dump() + ": " + it.value().dump();
      first = false;
    }
    out += "  \"settings\": " + line + "},\n";
  }
  out += "  \"blocks\": [";
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& n = g.nodes[i];
    std::string line = "{\"id\": " + json(n.id).dump() + ", \"kind\": " + json(n.kind).dump();
    if (!n.inputs.empty()) line += ", \"inputs\": " + spaced(json(n.inputs));
    // Parameters in schema order, then any the schema does not know (kept, not dropped).
    const blocks::BlockKind* kind = registry.find(n.kind);
    std::vector<std::string> written;
    if (kind)
      for (const auto& spec : kind->info().params) {
        auto it = n.params.find(spec.name);
        if (it == n.params.end()) continue;
        const json v = param_to_json(it->second, spec.type);
        line += ", " + json(spec.name).dump() + ": " + (v.is_array() ? spaced(v) : v.dump());
        written.push_back(spec.name);
      }
    for (const auto& [name, value] : n.params)
      if (std::find(written.begin(), written.end(), name) == written.end() && !is_reserved(name))
        line += ", " + json(name).dump() + ": " + param_to_json(value).dump();
    if (n.width != ir::WidthRule::Scale)
      line += ", \"width_rule\": " + json(std::string(ir::width_rule_name(n.width))).dump();
    if (n.classifier) line += ", \"classifier\": true";
    if (n.pos) line += ", \"pos\": [" + json((*n.pos)[0]).dump() + ", " + json((*n.pos)[1]).dump() + "]";
    line += "}";
    out += (i == 0 ? "\n    " : ",\n    ") + line;
  }
  out += g.nodes.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

Result<ir::Graph> load_graph(const std::filesystem::path& path) {
  std::error_code ec;
  if (const auto size = std::filesystem::file_size(path, ec); !ec && size > static_cast<std::uintmax_t>(kMaxGraphFileBytes))
    return fail("", "file of " + std::to_string(size) + " bytes is larger than a graph file may be (" +
                        std::to_string(kMaxGraphFileBytes >> 20) + " MiB)");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("", std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return fail("", "read error");
  return graph_from_json(ss.str());
}

namespace {
/// Removes what earlier saves of `path` left behind when they were killed
/// between creating their temporary file and renaming it (older than a minute,
/// so a save running now in another process is left alone).
void remove_stale_temporaries(const std::filesystem::path& dir, const std::string& prefix) {
  std::error_code ec;
  const auto now = std::filesystem::file_time_type::clock::now();
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() != prefix.size() + 6 || name.compare(0, prefix.size(), prefix) != 0) continue;
    const auto t = std::filesystem::last_write_time(e.path(), ec);
    if (!ec && now - t > std::chrono::minutes(1)) std::filesystem::remove(e.path(), ec);
  }
}
}  // namespace

Result<bool> write_file_atomic(const std::filesystem::path& target, std::string_view text) {
  // A symbolic link is kept: the file it points to is replaced.
  std::error_code ec;
  const std::filesystem::path path =
      std::filesystem::is_symlink(target, ec) ? std::filesystem::weakly_canonical(target, ec) : target;
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const std::string prefix = "." + path.filename().string() + ".tmp-";
  remove_stale_temporaries(dir, prefix);
  // The file keeps its permissions; a new one gets 0666 less the umask, as any program's would.
  struct stat st {};
  mode_t mode = 0;
  if (::stat(path.c_str(), &st) == 0) {
    mode = st.st_mode & 07777;
  } else {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    mode = 0666 & ~mask;
  }
  std::string tmpl = (dir / (prefix + "XXXXXX")).string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return fail("", "cannot create a temporary file in " + dir.string() + ": " + std::strerror(errno));
  auto cleanup = [&](const std::string& what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmpl.c_str());
    return fail("", what + ": " + std::strerror(err));
  };
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t w = ::write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      return cleanup("write failed");
    }
    p += w;
    left -= static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0) return cleanup("fsync failed");
  ::fchmod(fd, mode);
  if (::close(fd) != 0) {
    ::unlink(tmpl.c_str());
    return fail("", std::string("close failed: ") + std::strerror(errno));
  }
  if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmpl.c_str());
    return fail("", std::string("cannot replace ") + path.string() + ": " + std::strerror(err));
  }
  return true;
}

Result<bool> save_graph(const std::filesystem::path& path, const ir::Graph& graph) {
  return write_file_atomic(path, graph_to_json(graph));
}

}  // namespace convscope::io
