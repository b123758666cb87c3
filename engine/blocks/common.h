#pragma once
/// Helpers shared by the block kinds: parameter specs that recur, common
/// checks and formula text. Nothing here names a concrete block.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "blocks/block_kind.h"
#include "util/checked.h"

namespace convscope::blocks {

ir::ParamSpec channels_param(std::string name, std::int64_t def, std::string doc);
ir::ParamSpec int_param(std::string name, std::int64_t def, std::int64_t min, std::int64_t max, std::string doc);
ir::ParamSpec float_param(std::string name, double def, double min, double max, std::string doc);
ir::ParamSpec bool_param(std::string name, bool def, std::string doc);
ir::ParamSpec choice_param(std::string name, std::string def, std::vector<std::string> choices, std::string doc);
ir::ParamSpec kernel_param(std::int64_t def, std::string doc = "kernel size k (k x k)");
ir::ParamSpec stride_param(std::string doc = "stride s");
ir::ParamSpec padding_param(std::string doc = "padding per side: \"same\" = dilation*(k-1)/2, or pixels");
ir::ParamSpec dilation_param();
ir::ParamSpec activation_param(std::string name, std::string def, std::string doc);

/// Checks that a (dilated) kernel fits the padded input; reports on `field`.
void check_kernel_fits(const ir::Shape& in, std::int64_t k, std::int64_t pad, std::int64_t dilation, Checks& checks,
                       const std::string& field = "kernel");
/// Checks that `groups` divides `channels`; `what` names the channels.
void check_divides(std::int64_t groups, std::int64_t channels, const std::string& field, const std::string& what,
                   Checks& checks);

/// 1234567 -> "1,234,567"
std::string thousands(std::int64_t v);
/// Integer to text.
inline std::string num(std::int64_t v) { return std::to_string(v); }

/// Output extent of a same-padded convolution of size `in` with stride `s`.
std::int64_t conv_out(std::int64_t in, std::int64_t k, std::int64_t stride, std::int64_t pad,
                      std::int64_t dilation = 1);

}  // namespace convscope::blocks
