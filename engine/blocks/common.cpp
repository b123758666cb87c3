#include "blocks/common.h"

#include "util/checked.h"

namespace convscope::blocks {

using ir::ParamSpec;
using ir::ParamType;

ParamSpec channels_param(std::string name, std::int64_t def, std::string doc) {
  return ParamSpec{std::move(name), ParamType::Channels, def, 1, static_cast<double>(kDimLimit), {}, std::move(doc)};
}

ParamSpec int_param(std::string name, std::int64_t def, std::int64_t min, std::int64_t max, std::string doc) {
  return ParamSpec{std::move(name), ParamType::Int, def, static_cast<double>(min), static_cast<double>(max), {},
                   std::move(doc)};
}

ParamSpec float_param(std::string name, double def, double min, double max, std::string doc) {
  return ParamSpec{std::move(name), ParamType::Float, def, min, max, {}, std::move(doc)};
}

ParamSpec bool_param(std::string name, bool def, std::string doc) {
  return ParamSpec{std::move(name), ParamType::Bool, def, 0, 1, {}, std::move(doc)};
}

ParamSpec choice_param(std::string name, std::string def, std::vector<std::string> choices, std::string doc) {
  return ParamSpec{std::move(name), ParamType::Choice, std::move(def), 0, 0, std::move(choices), std::move(doc)};
}

ParamSpec kernel_param(std::int64_t def, std::string doc) { return int_param("kernel", def, 1, 31, std::move(doc)); }

ParamSpec stride_param(std::string doc) { return int_param("stride", 1, 1, 16, std::move(doc)); }

ParamSpec padding_param(std::string doc) {
  return ParamSpec{"padding", ParamType::Padding, std::string("same"), 0, 64, {}, std::move(doc)};
}

ParamSpec dilation_param() { return int_param("dilation", 1, 1, 64, "dilation of the kernel taps"); }

ParamSpec activation_param(std::string name, std::string def, std::string doc) {
  return choice_param(std::move(name), std::move(def), {"none", "relu", "relu6", "hswish", "hsigmoid", "sigmoid", "swish"},
                      std::move(doc));
}

void check_kernel_fits(const ir::Shape& in, std::int64_t k, std::int64_t pad, std::int64_t dilation, Checks& checks,
                       const std::string& field) {
  const std::int64_t span = dilation * (k - 1) + 1;
  if (span > in.h + 2 * pad || span > in.w + 2 * pad)
    checks.error(field, "kernel " + num(k) + "x" + num(k) + (dilation > 1 ? " (dilation " + num(dilation) + ")" : "") +
                            " is larger than the padded input " + num(in.h + 2 * pad) + "x" + num(in.w + 2 * pad));
}

void check_divides(std::int64_t groups, std::int64_t channels, const std::string& field, const std::string& what,
                   Checks& checks) {
  if (channels % groups != 0)
    checks.error(field, what + " must be divisible by " + field + ", got " + num(channels) + " and " + num(groups));
}

std::string thousands(std::int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  const auto n = static_cast<int>(digits.size());
  for (int i = 0; i < n; ++i) {
    out += digits[static_cast<std::size_t>(i)];
    if ((n - i - 1) % 3 == 0 && i != n - 1) out += ',';
  }
  return v < 0 ? "-" + out : out;
}

std::int64_t conv_out(std::int64_t in, std::int64_t k, std::int64_t stride, std::int64_t pad, std::int64_t dilation) {
  return ir::window_out(in, k, stride, 2 * pad, dilation);
}

}  // namespace convscope::blocks
