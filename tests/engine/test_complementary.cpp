// The complementary condition of interleaved group convolutions, computed from
// the real channel connectivity of the lowered ops.
#include <gtest/gtest.h>

#include "blocks/igcv2.h"
#include "test_util.h"

namespace convscope {
namespace {

const cost::Connectivity& connectivity(const cost::Analysis& a) {
  EXPECT_TRUE(a.complete()) << format_diagnostics(a.diagnostics);
  const auto& c = a.nodes.at(1).connectivity;
  EXPECT_TRUE(c.has_value());
  return *c;
}

cost::Analysis igcv1(std::int64_t out, std::int64_t l, std::int64_t m, std::int64_t in_c = 64) {
  return cost::analyze(
      testing::single_block("igcv1", {{"out", out}, {"primary_groups", l}, {"secondary_groups", m}}, {8, 8, in_c}));
}

TEST(Igcv1, StrictWhenChannelsAreLTimesM) {
  // L = 4 primary partitions of M = 16 channels; the secondary conv has M = 16
  // partitions of L = 4 channels, one from each primary partition.
  auto a = igcv1(64, 4, 16);
  const auto& c = connectivity(a);
  EXPECT_EQ(c.condition, cost::Complementary::Strict);
  EXPECT_EQ(c.min_paths, std::uint8_t{1});
  EXPECT_EQ(c.max_paths, std::uint8_t{1});
  EXPECT_FALSE(c.missing.has_value());
  EXPECT_EQ(c.in_channels, 64);
  EXPECT_EQ(c.out_channels, 64);
}

TEST(Igcv1, BrokenWhenSecondaryPartitionsAreTooSmall) {
  // 32 secondary partitions of 2 channels: each output sees only 2 of the 4
  // primary partitions, so half the input channels are unreachable from it.
  auto a = igcv1(64, 4, 32);
  const auto& c = connectivity(a);
  EXPECT_EQ(c.condition, cost::Complementary::Broken);
  ASSERT_TRUE(c.missing.has_value());
  const auto [in, out] = *c.missing;
  EXPECT_EQ(c.at(out, in), std::uint8_t{0});
  // Input channel 0 (primary partition 0) and output channel 0: output 0 reads
  // shuffled channels 0 and 1, which come from primary partitions 0 and 1, so
  // the first unreachable pair is input 32 (partition 2) for output 0.
  EXPECT_EQ(in, 32);
  EXPECT_EQ(out, 0);
}

TEST(Igcv1, LooseWhenSecondaryPartitionsAreLarger) {
  // 8 secondary partitions of 8 channels: two from each primary partition, so
  // every pair is connected twice.
  auto a = igcv1(64, 4, 8);
  const auto& c = connectivity(a);
  EXPECT_EQ(c.condition, cost::Complementary::Loose);
  EXPECT_EQ(c.min_paths, std::uint8_t{2});
  EXPECT_EQ(c.max_paths, std::uint8_t{2});
}

TEST(Igcv3, DefaultBlockIsLoose) {
  auto a = cost::analyze(testing::single_block("igcv3", {{"out", std::int64_t{32}}}, {14, 14, 32}));
  const auto& c = connectivity(a);
  EXPECT_EQ(c.condition, cost::Complementary::Loose);
  EXPECT_GE(c.min_paths, std::uint8_t{1});
}

TEST(Igcv3, BrokenWithoutMixing) {
  // As many groups as channels in both 1x1 convs: no channel ever mixes.
  auto a = cost::analyze(testing::single_block("igcv3",
                                               {{"out", std::int64_t{16}},
                                                {"groups1", std::int64_t{16}},
                                                {"groups2", std::int64_t{16}},
                                                {"expansion", std::int64_t{1}}},
                                               {8, 8, 16}));
  EXPECT_EQ(connectivity(a).condition, cost::Complementary::Broken);
}

}  // namespace
}  // namespace convscope

namespace convscope {
namespace {

cost::Analysis igcv2(std::int64_t c, const std::string& branches, bool interleave = true, std::int64_t out = 0) {
  ir::ParamMap p{{"interleave", interleave}};
  if (!branches.empty()) {
    std::string why;
    p["branches"] = branches;
    p["layers"] = static_cast<std::int64_t>(ir::parse_int_list(branches, why)->size()) + 1;
  }
  if (out > 0) p["out"] = out;
  return cost::analyze(testing::single_block("igcv2", p, {6, 6, c}));
}

/// Every ordered tuple of integers >= 2 whose product is c.
void ordered_factorisations(std::int64_t c, std::vector<std::int64_t>& cur, std::vector<std::vector<std::int64_t>>& out) {
  if (c == 1) {
    if (!cur.empty()) out.push_back(cur);
    return;
  }
  for (std::int64_t f = 2; f <= c; ++f)
    if (c % f == 0) {
      cur.push_back(f);
      ordered_factorisations(c / f, cur, out);
      cur.pop_back();
    }
}

std::string list(const std::vector<std::int64_t>& v) { return ir::int_list_str(v); }

// Any branch sizes multiplying to C, in any order, give exactly one path between
// every input and output channel through the interleaved group convolutions; and
// the block's closed form equals the sum over its lowered ops.
TEST(Igcv2, StrictForEveryFactorisationAndFormulaMatchesOps) {
  for (std::int64_t c : {8, 12, 18, 24, 30, 64}) {
    std::vector<std::int64_t> cur;
    std::vector<std::vector<std::int64_t>> all;
    ordered_factorisations(c, cur, all);
    for (const auto& k : all) {
      for (std::int64_t out : {c, 2 * c}) {
        if (out % (c / k.back()) != 0) continue;
        const auto a = igcv2(c, list(k), true, out);
        const std::string what = "C=" + std::to_string(c) + " K=" + list(k) + " N=" + std::to_string(out);
        ASSERT_TRUE(a.complete()) << what << ": " << format_diagnostics(a.diagnostics);
        const auto& rec = a.nodes.at(1);
        ASSERT_TRUE(rec.connectivity.has_value()) << what;
        EXPECT_EQ(rec.connectivity->condition, cost::Complementary::Strict) << what;
        EXPECT_EQ(rec.formula->weights, rec.totals.params) << what;
        EXPECT_EQ(rec.formula->madds, rec.totals.madds) << what;
        EXPECT_EQ(rec.formula->weights, blocks::igcv2::weights(c, out, 3, k)) << what;
      }
    }
  }
}

TEST(Igcv2, BrokenWithoutTheInterleaveNamesAPairWithoutAPath) {
  // Without permutations, output 0 reads channels 0..3 of the second conv, which
  // read channels 0..3 of the channel-wise conv: input 4 never reaches output 0.
  const auto a = igcv2(16, "4,4", false);
  const auto& c = connectivity(a);
  EXPECT_EQ(c.condition, cost::Complementary::Broken);
  ASSERT_TRUE(c.missing.has_value());
  EXPECT_EQ(c.missing->first, 4);
  EXPECT_EQ(c.missing->second, 0);
  EXPECT_EQ(c.at(0, 4), std::uint8_t{0});
  EXPECT_EQ(c.at(0, 3), std::uint8_t{4});  // and inputs 0..3 four times each
}

// The depth with the fewest weights, against a brute-force search over every
// factorisation of C (any number of branch sizes >= 2): the same weights, and the
// shallowest depth that reaches them.
TEST(Igcv2, OptimalDepthMatchesBruteForce) {
  for (std::int64_t c = 2; c <= 260; ++c)
    for (std::int64_t k : {3, 5}) {
      std::vector<std::int64_t> cur;
      std::vector<std::vector<std::int64_t>> all;
      ordered_factorisations(c, cur, all);
      std::int64_t best_w = -1, best_l = 0;
      for (const auto& b : all) {
        const std::int64_t w = blocks::igcv2::weights(c, c, k, b), l = static_cast<std::int64_t>(b.size()) + 1;
        if (best_w < 0 || w < best_w || (w == best_w && l < best_l)) best_w = w, best_l = l;
      }
      const auto o = blocks::igcv2::optimum(c, k);
      EXPECT_EQ(o.weights, best_w) << "C=" << c;
      EXPECT_EQ(o.layers, best_l) << "C=" << c;
      std::int64_t product = 1;
      for (auto f : o.branches) product *= f;
      EXPECT_EQ(product, c) << "C=" << c;
      EXPECT_EQ(blocks::igcv2::weights(c, c, k, o.branches), o.weights) << "C=" << c;
    }
  // 64 = 4*4*4 = 2^6: the sum of branch sizes is 12 either way; the shallower wins.
  EXPECT_EQ(blocks::igcv2::optimum(64, 3).layers, 4);
  EXPECT_EQ(blocks::igcv2::optimum(64, 3).weights, 9 * 64 + 64 * 12);
}

TEST(Igcv2, BalancedBranches) {
  using V = std::vector<std::int64_t>;
  EXPECT_EQ(blocks::igcv2::balanced_branches(64, 3), V({4, 4, 4}));
  EXPECT_EQ(blocks::igcv2::balanced_branches(64, 2), V({8, 8}));
  EXPECT_EQ(blocks::igcv2::balanced_branches(32, 2), V({8, 4}));
  EXPECT_EQ(blocks::igcv2::balanced_branches(12, 3), V({3, 2, 2}));
  EXPECT_EQ(blocks::igcv2::balanced_branches(7, 1), V({7}));
  EXPECT_FALSE(blocks::igcv2::balanced_branches(7, 2).has_value());
  EXPECT_FALSE(blocks::igcv2::balanced_branches(1, 1).has_value());
}

TEST(Igcv2, FormulaReportsBalanceAndOptimum) {
  const auto a = igcv2(64, "8,8");
  ASSERT_TRUE(a.complete());
  const auto& f = *a.nodes.at(1).formula;
  EXPECT_EQ(f.filled, "6*6*(3^2*64 + 64*8 + 8*64)");
  ASSERT_EQ(f.notes.size(), 2u);
  EXPECT_NE(f.notes[0].find("holds (K = 8 = C^(1/(L-1)))"), std::string::npos) << f.notes[0];
  EXPECT_NE(f.notes[1].find("L = 4, K = 4,4,4: 3^2*64 + 64*12 = 1,344 weights, 48,384 MAdds at 6x6"),
            std::string::npos)
      << f.notes[1];
  const auto u = igcv2(64, "16,4");
  EXPECT_NE(u.nodes.at(1).formula->notes[0].find("does not hold (K = 16, 4)"), std::string::npos);
}

TEST(Igcv2, BadBranchSizesNameTheField) {
  auto first = [](const cost::Analysis& a) { return a.diagnostics.empty() ? std::string() : a.diagnostics[0].str(); };
  EXPECT_EQ(first(igcv2(64, "4,4")),
            "blocks[1].branches: 4*4 = 16 is not the 64 input channels (the strict complementary condition needs "
            "K_2*...*K_L = C)");
  EXPECT_EQ(first(igcv2(64, "3,4")), "blocks[1].branches: K_2 = 3 does not divide the 64 input channels");
  EXPECT_EQ(first(igcv2(64, "8,8", true, 36)),
            "blocks[1].out: the last group conv has C / K_L = 8 groups, which must divide the 36 output channels");
  auto count = cost::analyze(testing::single_block("igcv2", {{"branches", std::string("8,8")}, {"layers", std::int64_t{4}}}, {6, 6, 64}));
  EXPECT_EQ(first(count), "blocks[1].branches: has 2 sizes; L = 4 needs L - 1 = 3");
  auto text = cost::analyze(testing::single_block("igcv2", {{"branches", std::string("8,a")}}, {6, 6, 64}));
  EXPECT_EQ(first(text), "blocks[1].branches: expected a list of integers such as \"4,4\", got \"8,a\"");
  auto prime = cost::analyze(testing::single_block("igcv2", {{"layers", std::int64_t{3}}}, {6, 6, 7}));
  EXPECT_EQ(first(prime), "blocks[1].layers: C = 7 has too few prime factors to split into L - 1 = 2 branch sizes >= 2");
}

}  // namespace
}  // namespace convscope
