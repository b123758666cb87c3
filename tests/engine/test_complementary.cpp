// The complementary condition of interleaved group convolutions, computed from
// the real channel connectivity of the lowered ops.
#include <gtest/gtest.h>

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
