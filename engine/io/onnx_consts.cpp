#include "io/onnx_consts.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace convscope::io::onnx_consts {

Const read_tensor(const onnx::TensorProto& t) {
  Const c;
  std::int64_t n = 1;
  for (auto d : t.dims()) {
    if (d < 0) {
      c.problem = "has a negative dimension (" + std::to_string(d) + ")";
      return c;
    }
    if (d > 0 && n > kMaxTensorElements / d) {
      c.problem = "declares more than " + std::to_string(kMaxTensorElements) + " elements (the import limit)";
      return c;
    }
    n *= d;
    c.dims.push_back(d);
  }
  if (t.data_location() == onnx::TensorProto::EXTERNAL || t.external_data_size() > 0) {
    c.problem =
        "keeps its data in an external file, which is not read: save the model with its weights inside "
        "(onnx.save(model, path, save_as_external_data=False))";
    return c;
  }
  auto from = [&](auto& out, std::size_t width, const auto& field) {
    const std::size_t want = static_cast<std::size_t>(n);
    if (!t.raw_data().empty()) {
      if (t.raw_data().size() != want * width) {
        c.problem = "has " + std::to_string(t.raw_data().size()) + " bytes of data, its " + std::to_string(n) +
                    " elements need " + std::to_string(want * width);
        return;
      }
      out.resize(want);
      std::memcpy(out.data(), t.raw_data().data(), want * width);
    } else {
      if (static_cast<std::size_t>(field.size()) != want) {
        c.problem = "has " + std::to_string(field.size()) + " values, its dims declare " + std::to_string(n);
        return;
      }
      out.assign(field.begin(), field.end());
    }
  };
  if (t.data_type() == onnx::TensorProto::FLOAT)
    from(c.f, 4, t.float_data());
  else if (t.data_type() == onnx::TensorProto::INT64)
    from(c.i, 8, t.int64_data());
  else {
    const std::string type =
        onnx::TensorProto::DataType_IsValid(t.data_type())
            ? onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(t.data_type()))
            : std::to_string(t.data_type()) + " (not an ONNX type)";
    c.problem = "is of data type " + type + "; float32 weights and int64 shapes are supported";
  }
  return c;
}

Result<std::optional<Const>> fold(const std::string& op, const std::vector<const Const*>& ins) {
  if (ins.empty()) return std::nullopt;
  auto ints = [](const Const& c) {
    if (!c.i.empty() || c.f.empty()) return c.i;
    std::vector<std::int64_t> v;
    for (float f : c.f) {
      if (!(std::fabs(f) < 9.2e18f)) return std::vector<std::int64_t>{};  // NaN, inf or beyond int64
      v.push_back(static_cast<std::int64_t>(f));
    }
    return v;
  };
  Const out;
  if (op == "Cast" || op == "Unsqueeze" || op == "Squeeze") {
    out.i = ints(*ins[0]);
    out.dims = {static_cast<std::int64_t>(out.i.size())};
    return out;
  }
  if (op != "Concat" && ins.size() < 2) return std::nullopt;
  if (op == "Gather") {
    const auto data = ints(*ins[0]), idx = ints(*ins[1]);
    for (auto j : idx) {
      const auto k = j < 0 ? j + static_cast<std::int64_t>(data.size()) : j;
      if (k < 0 || k >= static_cast<std::int64_t>(data.size())) return std::nullopt;
      out.i.push_back(data[static_cast<std::size_t>(k)]);
    }
    out.dims = ins[1]->dims;
    return out;
  }
  if (op == "Concat") {
    for (const auto* c : ins)
      for (auto v : ints(*c)) out.i.push_back(v);
    out.dims = {static_cast<std::int64_t>(out.i.size())};
    return out;
  }
  const auto a = ints(*ins[0]), b = ints(*ins[1]);
  if (a.empty() || b.empty()) return std::nullopt;
  const std::size_t len = std::max(a.size(), b.size());
  if ((a.size() != 1 && a.size() != len) || (b.size() != 1 && b.size() != len))
    return fail(
        "", "shapes of " + std::to_string(a.size()) + " and " + std::to_string(b.size()) + " values do not broadcast");
  for (std::size_t j = 0; j < len; ++j) {
    const auto x = a[a.size() == 1 ? 0 : j], y = b[b.size() == 1 ? 0 : j];
    std::int64_t r = 0;
    bool overflow = false;
    if (op == "Add")
      overflow = __builtin_add_overflow(x, y, &r);
    else if (op == "Sub")
      overflow = __builtin_sub_overflow(x, y, &r);
    else if (op == "Mul")
      overflow = __builtin_mul_overflow(x, y, &r);
    else if (op == "Div") {
      if (y == 0) return fail("", "divides " + std::to_string(x) + " by zero");
      overflow = x == INT64_MIN && y == -1;
      if (!overflow) r = x / y;
    } else
      return std::nullopt;
    if (overflow) return fail("", std::to_string(x) + " " + op + " " + std::to_string(y) + " overflows int64");
    out.i.push_back(r);
  }
  out.dims = a.size() >= b.size() ? ins[0]->dims : ins[1]->dims;
  return out;
}

}  // namespace convscope::io::onnx_consts
