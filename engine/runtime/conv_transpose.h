#pragma once
/// Transposed convolution as s x s ordinary convolutions, one per output
/// phase. An output pixel oy = s * j + q (phase q) is reached only by the taps
/// ky = t, t + s, t + 2s, ... with t = (q + pad) mod s, each from input row
/// iy = j + base - m (base = (q + pad) div s, m the tap's index): a
/// stride-1 convolution over the input with ceil((k - t) / s) taps. Each
/// phase then runs as an implicit-im2col GEMM over the input in place, writing
/// every s-th output pixel with the bias and the activation fused: no
/// scatter, no accumulation pass over the output, every output row
/// independent (so threads split them), and the output written through its
/// pixel stride. Square stride, dilation 1 (the only kind the graph allows).

#include <cstdint>
#include <vector>

#include "ir/op.h"
#include "kernels/kernels.h"

namespace convscope::runtime {

/// One phase along one axis.
struct TransposePhase {
  std::int64_t q = 0;     ///< output positions q, q + s, q + 2s, ...
  std::int64_t t = 0;     ///< first kernel tap reaching them
  std::int64_t base = 0;  ///< input index of tap t for output index j: j + base (tap m: j + base - m)
  std::int64_t taps = 0;  ///< taps t, t + s, ... below k (0 when k <= t)
  std::int64_t n = 0;     ///< output positions in this phase
};

/// The s phases of one axis: kernel k, stride s, padding pad, output size out.
std::vector<TransposePhase> transpose_phases(std::int64_t k, std::int64_t s, std::int64_t pad, std::int64_t out);

/// GEMM depth of the deepest phase: taps_h x taps_w x input channels per group.
std::int64_t transpose_max_depth(const ir::Op& op, std::int64_t cin_g);

/// Floats between two gathered windows of `depth` floats in the step's scratch.
std::int64_t col_stride(std::int64_t depth);

/// Packed weights of every phase (y phase, x phase) and group, in that order,
/// for table `kt`: phase (py, px) of group g is a GEMM B of depth
/// taps_y x taps_x x cin_g (tap (my, mx), then input channel) and cout_g
/// columns. `folded` is [cin][k_h][k_w][cout_g] per group (BN folded).
std::vector<float> pack_conv_transpose(const kernels::KernelTable& kt, const ir::Op& op, std::int64_t cin,
                                       const std::vector<float>& folded);
/// Floats of pack_conv_transpose's result.
std::int64_t conv_transpose_packed_size(const kernels::KernelTable& kt, const ir::Op& op, std::int64_t cin);

}  // namespace convscope::runtime
