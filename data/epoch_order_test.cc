#include "data/epoch_order.h"

#include <algorithm>
#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace elm {
namespace {

std::vector<int64_t> Take(EpochOrder& order, int batch) {
  const absl::Span<const int64_t> s = order.Next(batch);
  return std::vector<int64_t>(s.begin(), s.end());
}

TEST(EpochOrderTest, UnshuffledVisitsInOrderAndDropsThePartialBatch) {
  EpochOrder order(10, 5, /*shuffle=*/false, /*seed=*/1);
  EXPECT_EQ(Take(order, 2), (std::vector<int64_t>{10, 11}));
  EXPECT_EQ(Take(order, 2), (std::vector<int64_t>{12, 13}));
  // Only example 14 is left: a new epoch starts.
  EXPECT_EQ(Take(order, 2), (std::vector<int64_t>{10, 11}));
}

TEST(EpochOrderTest, ShuffledEpochsArePermutationsThatDiffer) {
  EpochOrder order(0, 12, /*shuffle=*/true, /*seed=*/7);
  std::vector<int64_t> first, second;
  for (int b = 0; b < 3; ++b) {
    for (int64_t i : Take(order, 4)) first.push_back(i);
  }
  for (int b = 0; b < 3; ++b) {
    for (int64_t i : Take(order, 4)) second.push_back(i);
  }
  std::vector<int64_t> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 12; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_NE(first, second);  // reshuffled for the second epoch
  std::vector<int64_t> identity(12);
  for (int64_t i = 0; i < 12; ++i) identity[i] = i;
  EXPECT_NE(first, identity);
}

TEST(EpochOrderTest, TheSeedFixesTheOrder) {
  EpochOrder a(0, 50, true, 3), b(0, 50, true, 3), c(0, 50, true, 4);
  bool differs = false;
  for (int k = 0; k < 20; ++k) {
    const std::vector<int64_t> x = Take(a, 7);
    EXPECT_EQ(x, Take(b, 7));
    differs |= x != Take(c, 7);
  }
  EXPECT_TRUE(differs);
}

// The Fisher–Yates of the samplers this replaced: for i = n down to 2, swap
// order[i − 1] with order[UniformInt(i)], from Rng(seed).
TEST(EpochOrderTest, ShuffleIsFisherYatesFromTheSeed) {
  Rng rng(11);
  std::vector<int64_t> want(9);
  for (int64_t i = 0; i < 9; ++i) want[i] = i;
  for (size_t i = want.size(); i > 1; --i) {
    std::swap(want[i - 1], want[rng.UniformInt(i)]);
  }
  EpochOrder order(0, 9, true, 11);
  EXPECT_EQ(Take(order, 9), want);
}

TEST(EpochOrderDeathTest, ABatchLargerThanTheSplitIsAProgrammerError) {
  EpochOrder order(0, 3, false, 1);
  EXPECT_DEATH(order.Next(4), "");
}

}  // namespace
}  // namespace elm
