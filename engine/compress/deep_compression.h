#pragma once
/// Deep Compression (Han, Mao and Dally, ICLR 2016) as a size estimator on real
/// weights: magnitude pruning per layer, weight sharing by k-means with linear
/// initialisation, sparse storage with relative indices and filler zeros, and
/// Huffman coding of the shared-weight codes and of the indices. Reports the
/// bytes after each stage per layer and in total, and how far the network's
/// output moves when it runs with the compressed weights.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cost/analysis.h"
#include "ir/graph.h"
#include "runtime/weights.h"
#include "util/result.h"

namespace convscope::compress {

struct Options {
  double prune = 0;  ///< share of each layer's weights removed (smallest magnitudes first), in [0, 1)
  /// Per-layer prune ratios by block id or "<block id>/<op name>", over `prune`.
  std::map<std::string, double> prune_layer;
  int conv_bits = 8;        ///< shared-weight code bits for convolutions (the paper's 8)
  int fc_bits = 5;          ///< ... and for fully connected layers (the paper's 5)
  int conv_index_bits = 8;  ///< relative-index bits for convolutions (the paper's 8)
  int fc_index_bits = 5;    ///< ... and for fully connected layers (the paper's 5)
  int kmeans_iterations = 100;  ///< Lloyd iterations at most (stops earlier when no code changes)
};

/// Checks the ranges (prune in [0, 1), bits and index bits in 1..16) and that
/// every per-layer key names a compressible layer of `a`; the message names the
/// option and the value.
Result<bool> check_options(const Options& o, const ir::Graph& g, const cost::Analysis& a);

/// One compressed layer (a convolution or fully connected op with weights).
struct LayerResult {
  std::string name;  ///< "<block id>/<op name>"
  std::string kind;  ///< "conv" or "fc"
  std::int64_t weights = 0;  ///< weight count (biases are kept in fp32, see biases_bytes)
  std::int64_t kept = 0;     ///< nonzero weights after pruning
  std::int64_t fillers = 0;  ///< filler zeros inserted where a gap exceeds the index range
  double prune = 0;
  int bits = 0, index_bits = 0;
  std::int64_t clusters = 0;  ///< shared weights (codebook entries) actually used
  // Bytes after each stage (weights only, bits rounded up to bytes per layer).
  std::int64_t dense_bytes = 0;      ///< fp32
  std::int64_t pruned_bytes = 0;     ///< fp32 values + relative indices
  std::int64_t quantised_bytes = 0;  ///< codes + relative indices + fp32 codebook
  std::int64_t huffman_bytes = 0;    ///< Huffman-coded codes and indices + codebook + code-length tables
  double value_bits = 0;  ///< Huffman bits per stored code (entropy bound: value_entropy)
  double index_bits_coded = 0;  ///< Huffman bits per stored index
  double value_entropy = 0, index_entropy = 0;  ///< bits per symbol
};

struct Report {
  std::vector<LayerResult> layers;
  std::int64_t weights = 0, kept = 0;
  std::int64_t dense_bytes = 0, pruned_bytes = 0, quantised_bytes = 0, huffman_bytes = 0;
  std::int64_t other_bytes = 0;  ///< biases and batch norm in fp32 (in every stage's total)
  /// Output with compressed weights against the uncompressed network, over `inputs`
  /// random images: largest absolute difference, relative L2, and the share of
  /// images whose arg max (top-1 class) is unchanged.
  int inputs = 0;
  double max_abs_diff = 0, relative_l2 = 0, top1_agreement = 0;
  double output_scale = 0;  ///< largest |output| of the uncompressed network
};

/// The per-layer work, usable on its own (tests): prunes `w` in place (the
/// smallest |w| first, exactly floor(ratio * size) of them), then shares the
/// rest by k-means, replacing each weight by its centroid; fills the sizes.
LayerResult compress_layer(std::vector<float>& w, double ratio, int bits, int index_bits, int iterations);

/// Huffman code lengths for symbol frequencies (0 for unused symbols).
std::vector<int> huffman_lengths(const std::vector<std::int64_t>& freq);

/// 1-D k-means with linear initialisation (k centroids evenly spaced over
/// [min, max]); returns the centroids and each value's code.
struct Clusters {
  std::vector<float> centroids;
  std::vector<int> code;
};
Clusters kmeans_linear(const std::vector<float>& values, int k, int iterations);

/// Compresses every convolution and fully connected layer of `graph` with
/// `weights` (an imported model's, or generated ones) and runs the network
/// both ways on `inputs` random images (seeded) to measure the drift.
Result<Report> deep_compress(const ir::Graph& graph, const cost::Analysis& a, const runtime::Weights& weights,
                             const Options& o, int inputs = 4, std::uint64_t seed = 1);

}  // namespace convscope::compress
