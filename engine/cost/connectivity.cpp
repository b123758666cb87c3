#include "cost/connectivity.h"

#include <algorithm>
#include <limits>
#include <memory>

namespace convscope::cost {
namespace {

/// Rows = channels of a tensor, columns = input channels; entries = path counts.
struct Matrix {
  std::int64_t rows = 0, cols = 0;
  std::vector<std::uint8_t> v;
  std::uint8_t* row(std::int64_t r) { return v.data() + r * cols; }
  [[nodiscard]] const std::uint8_t* row(std::int64_t r) const { return v.data() + r * cols; }
};

std::uint8_t sat(std::uint64_t x) { return static_cast<std::uint8_t>(std::min<std::uint64_t>(x, kPathCountCap)); }

Matrix make(std::int64_t rows, std::int64_t cols) {
  return Matrix{rows, cols, std::vector<std::uint8_t>(static_cast<std::size_t>(rows * cols), 0)};
}

/// Every output channel of group g sums the rows of the input channels of group g.
Matrix grouped(const Matrix& in, std::int64_t out_c, std::int64_t groups) {
  Matrix out = make(out_c, in.cols);
  const std::int64_t in_per = in.rows / groups, out_per = out_c / groups;
  std::vector<std::uint64_t> acc(static_cast<std::size_t>(in.cols));
  for (std::int64_t g = 0; g < groups; ++g) {
    std::fill(acc.begin(), acc.end(), 0);
    for (std::int64_t r = g * in_per; r < (g + 1) * in_per; ++r)
      for (std::int64_t c = 0; c < in.cols; ++c) acc[static_cast<std::size_t>(c)] += in.row(r)[c];
    for (std::int64_t o = g * out_per; o < (g + 1) * out_per; ++o)
      for (std::int64_t c = 0; c < in.cols; ++c) out.row(o)[c] = sat(acc[static_cast<std::size_t>(c)]);
  }
  return out;
}

}  // namespace

std::string_view complementary_name(Complementary c) {
  switch (c) {
    case Complementary::Strict:
      return "strict";
    case Complementary::Loose:
      return "loose";
    case Complementary::Broken:
      return "broken";
  }
  return "?";
}

std::optional<Connectivity> channel_connectivity(const ir::BlockLowering& l, ir::TensorRef to) {
  if (to == ir::kNoTensor || l.tensors.empty()) return std::nullopt;
  const std::int64_t cin = l.tensors[0].c;
  for (const auto& s : l.tensors)
    if (s.c > kConnectivityChannelLimit) return std::nullopt;

  // Channel-wise ops share their input's matrix instead of copying it.
  std::vector<std::shared_ptr<const Matrix>> m(l.tensors.size());
  {
    Matrix id = make(cin, cin);
    for (std::int64_t i = 0; i < cin; ++i) id.row(i)[i] = 1;
    m[0] = std::make_shared<const Matrix>(std::move(id));
  }
  // Other block inputs carry no path from input 0.
  for (std::size_t t = 1; t < l.n_inputs; ++t) m[t] = std::make_shared<const Matrix>(make(l.tensors[t].c, cin));

  for (const auto& op : l.ops) {
    const auto& in_ptr = m[static_cast<std::size_t>(op.inputs.front())];
    const Matrix& a = *in_ptr;
    const std::int64_t oc = l.tensors[static_cast<std::size_t>(op.output)].c;
    Matrix out;
    switch (op.op.kind) {
      case ir::OpKind::Conv:
      case ir::OpKind::ConvTranspose:
        if (op.op.groups == a.rows && oc == a.rows) {  // depthwise: channel-wise
          m[static_cast<std::size_t>(op.output)] = in_ptr;
          continue;
        }
        out = grouped(a, oc, op.op.groups);
        break;
      case ir::OpKind::FullyConnected:
        out = grouped(a, oc, 1);
        break;
      case ir::OpKind::BatchNorm:
      case ir::OpKind::Activation:
      case ir::OpKind::Pool:
      case ir::OpKind::GlobalPool:
      case ir::OpKind::Upsample:
      case ir::OpKind::Mul:  // channel-wise (the SE gate only rescales)
        m[static_cast<std::size_t>(op.output)] = in_ptr;
        continue;
      case ir::OpKind::Add: {
        out = a;
        const Matrix& b = *m[static_cast<std::size_t>(op.inputs[1])];
        for (std::size_t i = 0; i < out.v.size(); ++i) out.v[i] = sat(std::uint64_t{out.v[i]} + std::uint64_t{b.v[i]});
        break;
      }
      case ir::OpKind::Concat:
      case ir::OpKind::CReLU: {
        out = make(oc, cin);
        std::int64_t r = 0;
        const int copies = op.op.kind == ir::OpKind::CReLU ? 2 : 1;
        for (int rep = 0; rep < copies; ++rep)
          for (ir::TensorRef t : op.inputs) {
            const Matrix& src = *m[static_cast<std::size_t>(t)];
            std::copy(src.v.begin(), src.v.end(), out.row(r));
            r += src.rows;
          }
        break;
      }
      case ir::OpKind::Slice:
        out = make(oc, cin);
        std::copy(a.row(op.op.slice_start), a.row(op.op.slice_start + op.op.slice_count), out.row(0));
        break;
      case ir::OpKind::ChannelShuffle: {
        // View as groups x n, transpose to n x groups: output a*groups + b reads input b*n + a.
        out = make(oc, cin);
        const std::int64_t g = op.op.groups, n = oc / g;
        for (std::int64_t x = 0; x < n; ++x)
          for (std::int64_t b = 0; b < g; ++b) std::copy(a.row(b * n + x), a.row(b * n + x + 1), out.row(x * g + b));
        break;
      }
    }
    m[static_cast<std::size_t>(op.output)] = std::make_shared<const Matrix>(std::move(out));
  }

  const Matrix& r = *m[static_cast<std::size_t>(to)];
  Connectivity c;
  c.in_channels = cin;
  c.out_channels = r.rows;
  c.paths = r.v;
  c.min_paths = kPathCountCap;
  for (std::int64_t o = 0; o < r.rows; ++o)
    for (std::int64_t i = 0; i < cin; ++i) {
      const std::uint8_t p = r.row(o)[i];
      c.min_paths = std::min(c.min_paths, p);
      c.max_paths = std::max(c.max_paths, p);
      if (p == 0 && !c.missing) c.missing = std::make_pair(i, o);
    }
  c.condition =
      c.min_paths == 0 ? Complementary::Broken : (c.max_paths == 1 ? Complementary::Strict : Complementary::Loose);
  return c;
}

}  // namespace convscope::cost
