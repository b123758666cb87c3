// Deep Compression: each stage on small layers with hand-computed sizes, and the
// SqueezeNet paper's row reproduced on SqueezeNet 1.0.
#include <gtest/gtest.h>

#include "compress/deep_compression.h"
#include "test_util.h"

namespace convscope {
namespace {

using compress::compress_layer;

TEST(Compress, KMeansFindsKnownClusters) {
  // Two clusters around 1 and 5; linear initialisation puts the centroids at 0.9 and 5.1.
  const std::vector<float> v{1.0f, 5.1f, 1.1f, 4.9f, 0.9f, 5.0f};
  const auto c = compress::kmeans_linear(v, 2, 20);
  ASSERT_EQ(c.centroids.size(), 2u);
  EXPECT_NEAR(c.centroids[0], 1.0f, 1e-6);
  EXPECT_NEAR(c.centroids[1], 5.0f, 1e-6);
  EXPECT_EQ(c.code, (std::vector<int>{0, 1, 0, 1, 0, 1}));
  // Three clusters, one of them empty at the linear start (the middle of [0, 10]), which keeps its place.
  const auto e = compress::kmeans_linear({0.f, 0.2f, 9.8f, 10.f}, 3, 20);
  EXPECT_NEAR(e.centroids[0], 0.1f, 1e-6);
  EXPECT_NEAR(e.centroids[1], 5.0f, 1e-6);
  EXPECT_NEAR(e.centroids[2], 9.9f, 1e-6);
}

TEST(Compress, HuffmanCodeLengths) {
  // a:5 b:2 c:1 d:1 -> a 1 bit, b 2, c and d 3: 5 + 4 + 3 + 3 = 15 bits.
  EXPECT_EQ(compress::huffman_lengths({5, 2, 1, 1}), (std::vector<int>{1, 2, 3, 3}));
  // Unused symbols get no code; a single used symbol still costs one bit.
  EXPECT_EQ(compress::huffman_lengths({0, 7, 0}), (std::vector<int>{0, 1, 0}));
  // Equal frequencies of 8 symbols: 3 bits each.
  EXPECT_EQ(compress::huffman_lengths(std::vector<std::int64_t>(8, 4)), std::vector<int>(8, 3));
}

TEST(Compress, PruningRemovesTheSmallestMagnitudes) {
  std::vector<float> w{0.5f, -3.f, 0.1f, 2.f, -0.2f, 4.f, -1.f, 0.3f, 5.f, -0.4f};
  const auto r = compress_layer(w, 0.5, 16, 8, 10);  // 16-bit codes: every kept value its own centroid
  EXPECT_EQ(r.kept, 5);
  EXPECT_EQ(r.weights, 10);
  for (std::size_t i : {0u, 2u, 4u, 7u, 9u}) EXPECT_EQ(w[i], 0.f) << i;
  for (std::size_t i : {1u, 3u, 5u, 6u, 8u}) EXPECT_NE(w[i], 0.f) << i;
  EXPECT_EQ(r.dense_bytes, 40);
  // 5 entries of 32-bit values and 8-bit indices: 5 * 40 bits = 25 bytes.
  EXPECT_EQ(r.pruned_bytes, 25);
}

TEST(Compress, FillerZerosAndEveryStageOnAHandCountedLayer) {
  // Nonzeros at 0 and 19 of 20 weights; 3-bit indices hold runs of up to 7 zeros, so the
  // 18 zeros between them take two fillers (7 zeros + filler, 7 zeros + filler, then 2).
  std::vector<float> w(20, 0.f);
  w[0] = 1.f;
  w[19] = 3.f;
  const auto r = compress_layer(w, 0.0, 1, 3, 10);
  EXPECT_EQ(r.kept, 2);
  EXPECT_EQ(r.fillers, 2);
  EXPECT_EQ(r.pruned_bytes, 18);  // 4 entries * (32 + 3) bits = 140 bits
  // 1-bit codes with fillers: one code for the fillers' zero, one centroid (the mean, 2).
  EXPECT_EQ(w[0], 2.f);
  EXPECT_EQ(w[19], 2.f);
  EXPECT_EQ(r.quantised_bytes, 2 + 4);  // 4 entries * (1 + 3) bits, + one fp32 centroid
  // Huffman: codes {centroid: 2, zero: 2} -> 1 bit each (4 bits); indices {0: 1, 7: 2, 2: 1} ->
  // 2 + 2 + 2 bits (6 bits); 10 bits = 2 bytes, + the centroid, + the code tables
  // (one byte per used symbol and 32 length counts each: 34 + 35).
  EXPECT_EQ(r.huffman_bytes, 2 + 4 + 34 + 35);
  EXPECT_DOUBLE_EQ(r.value_bits, 1.0);
  EXPECT_DOUBLE_EQ(r.index_bits_coded, 1.5);
}

TEST(Compress, OptionsOutOfRangeAreRefusedByName) {
  const ir::Graph g = testing::load_preset("squeezenet1_1");
  const auto a = cost::analyze(g);
  auto why = [&](const compress::Options& o) {
    auto r = compress::check_options(o, g, a);
    return r ? std::string() : format_diagnostics(r.error());
  };
  compress::Options o;
  o.prune = 1.0;
  EXPECT_EQ(why(o), "prune: must be in [0, 1), got 1.000000\n");
  o.prune = 0.5;
  o.conv_bits = 17;
  EXPECT_EQ(why(o), "conv bits: must be in 1..16, got 17\n");
  o.conv_bits = 8;
  o.fc_index_bits = 0;
  EXPECT_EQ(why(o), "fc index bits: must be in 1..16, got 0\n");
  o.fc_index_bits = 5;
  o.prune_layer["fire99"] = 0.5;
  EXPECT_NE(why(o).find("prune-layer fire99: no convolution or fully connected layer is called that"),
            std::string::npos);
  o.prune_layer = {{"fire2", -0.1}};
  EXPECT_EQ(why(o), "prune-layer fire2: must be in [0, 1), got -0.100000\n");
  o.prune_layer = {{"fire2", 0.9}, {"fire3/squeeze", 0.2}};
  EXPECT_EQ(why(o), "");
}

// The SqueezeNet paper (Table 2): SqueezeNet 1.0 with Deep Compression, 33 % of the
// weights kept, 8-bit shared weights: 0.66 MB; 6-bit: 0.47 MB (4.8 MB dense, so the
// paper's MB are MiB). With 4-bit relative indices (pruning alone then gives the
// footnote's "somewhat less than 3x": 2.7x) the quantised stage is within 10 % of both;
// Huffman coding of these random weights saves a further 20-25 % (docs/compression.md).
TEST(Compress, SqueezeNetPaperRow) {
  const ir::Graph g = testing::load_preset("squeezenet1_0");
  const auto a = cost::analyze(g);
  const auto w = runtime::Weights::generate(g, a);
  compress::Options o;
  o.prune = 0.67;
  o.conv_index_bits = 4;
  const auto r8 = compress::deep_compress(g, a, w, o, 0);
  ASSERT_TRUE(r8.has_value()) << format_diagnostics(r8.error());
  const double mib = 1 << 20;
  EXPECT_NEAR(static_cast<double>(r8->dense_bytes + r8->other_bytes) / mib, 4.76, 0.01);
  EXPECT_NEAR(static_cast<double>(r8->kept) / static_cast<double>(r8->weights), 0.33, 0.001);
  const double pruned_ratio =
      static_cast<double>(r8->dense_bytes + r8->other_bytes) / static_cast<double>(r8->pruned_bytes + r8->other_bytes);
  EXPECT_GT(pruned_ratio, 2.5);
  EXPECT_LT(pruned_ratio, 3.0);
  EXPECT_NEAR(static_cast<double>(r8->quantised_bytes + r8->other_bytes) / mib, 0.66, 0.066);
  o.conv_bits = 6;
  const auto r6 = compress::deep_compress(g, a, w, o, 0);
  ASSERT_TRUE(r6.has_value());
  EXPECT_NEAR(static_cast<double>(r6->quantised_bytes + r6->other_bytes) / mib, 0.47, 0.047);
  // Huffman on random weights: i.i.d. gaps (entropy 2.77 bits at 33 % density) and
  // about a third of the 256 codes used (linear initialisation over the pruned gap).
  const auto& last = r8->layers.back();
  EXPECT_NEAR(last.index_entropy, 2.77, 0.05);
  EXPECT_LT(last.clusters, 100);
  EXPECT_LT(r8->huffman_bytes, r8->quantised_bytes);
}

TEST(Compress, OutputDriftIsSmallForQuantisationAndLargeForPruningRandomWeights) {
  ir::Graph g = testing::load_preset("squeezenet1_1");
  g.settings.resolution = 96;
  const auto a = cost::analyze(g);
  const auto w = runtime::Weights::generate(g, a);
  compress::Options o;  // 8-bit sharing only
  const auto q = compress::deep_compress(g, a, w, o, 3);
  ASSERT_TRUE(q.has_value()) << format_diagnostics(q.error());
  EXPECT_EQ(q->inputs, 3);
  EXPECT_GT(q->relative_l2, 0.0);
  EXPECT_LT(q->relative_l2, 0.05);
  EXPECT_EQ(q->top1_agreement, 1.0);
  // Pruning two thirds of untrained weights (no retraining) changes what the network computes.
  o.prune = 0.67;
  const auto p = compress::deep_compress(g, a, w, o, 3);
  ASSERT_TRUE(p.has_value());
  EXPECT_GT(p->relative_l2, 0.3);
}

TEST(Compress, AModelWithoutWeightsSaysSo) {
  const ir::Graph g = testing::single_block("pool", {}, {8, 8, 4});
  const auto a = cost::analyze(g);
  const auto w = runtime::Weights::generate(g, a);
  const auto r = compress::deep_compress(g, a, w, {}, 1);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(format_diagnostics(r.error()), "the model has no convolution or fully connected weights to compress\n");
}

}  // namespace
}  // namespace convscope
