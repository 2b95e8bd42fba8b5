// Tests the routings against the worked examples of elm_reference.md §3.
#include "elm/routing.h"

#include <set>

#include "gtest/gtest.h"

namespace elm {
namespace {

TEST(NeuronioRoutingTest, SixInputsThreeBranchesOfThree) {
  SynapseRouting r = NeuronioRouting(6, 3, 3);
  EXPECT_EQ(r.index, (std::vector<int64_t>{0, 3, 1, 1, 4, 2, 2, 5, 5}));
  EXPECT_EQ(r.mask, (std::vector<float>{1, 1, 1, 1, 1, 1, 1, 1, 0}));
}

TEST(NeuronioRoutingTest, TenInputsThreeBranchesOfFive) {
  SynapseRouting r = NeuronioRouting(10, 3, 5);
  EXPECT_EQ(r.index, (std::vector<int64_t>{0, 5, 1, 6, 2, 2, 7, 3, 8, 4, 4, 9,
                                           9, 9, 9}));
  for (int k = 0; k < 15; ++k) EXPECT_EQ(r.mask[k], k < 12 ? 1.0f : 0.0f) << k;
}

TEST(NeuronioRoutingTest, OddInputCountQuirk) {
  // interlock for N=5 is [0,2,1,3,2]: index 2 twice, index 4 never.
  SynapseRouting r = NeuronioRouting(5, 1, 5);
  EXPECT_EQ(r.index, (std::vector<int64_t>{0, 2, 1, 3, 2}));
}

TEST(NeuronioRoutingTest, NeuronioSizes) {
  SynapseRouting r = NeuronioRouting(1278, 45, 100);
  ASSERT_EQ(r.index.size(), 4500u);
  int valid = 0;
  for (float m : r.mask) valid += m != 0;
  EXPECT_EQ(valid, 4282);
  EXPECT_EQ(r.index[0], 0);
  EXPECT_EQ(r.index[1], 639);
  EXPECT_EQ(r.index[2], 1);
  EXPECT_EQ(r.index[100], 653);  // window 1 starts at position 29
  EXPECT_EQ(r.index[101], 15);
  EXPECT_EQ(r.index[4499], 1277);
  EXPECT_EQ(r.mask[4499], 0.0f);
  // Valid counts per window: 100 for j ≤ 40, then 89, 60, 31, 2.
  const int want[] = {89, 60, 31, 2};
  for (int j = 41; j < 45; ++j) {
    int count = 0;
    for (int k = 0; k < 100; ++k) count += r.mask[j * 100 + k] != 0;
    EXPECT_EQ(count, want[j - 41]) << j;
  }
}

TEST(RandomRoutingTest, SeededUniformIndices) {
  Rng a(3), b(3);
  SynapseRouting r1 = RandomRouting(7, 5000, a);
  SynapseRouting r2 = RandomRouting(7, 5000, b);
  EXPECT_EQ(r1.index, r2.index);
  std::set<int64_t> seen(r1.index.begin(), r1.index.end());
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EQ(*seen.begin(), 0);
  EXPECT_EQ(*seen.rbegin(), 6);
  for (float m : r1.mask) EXPECT_EQ(m, 1.0f);
}

}  // namespace
}  // namespace elm
