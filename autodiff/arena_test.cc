// Tests the arena: alignment, reuse of kept blocks, marks, and the high-water
// mark.
#include "autodiff/arena.h"

#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace elm {
namespace {

TEST(ArenaTest, AllocationsAreAlignedAndDisjoint) {
  Arena arena(1024);
  std::vector<std::pair<char*, size_t>> spans;
  for (int i = 1; i < 50; ++i) {
    char* p = arena.AllocateArray<char>(i * 7);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % Arena::kAlignment, 0u);
    std::memset(p, i, i * 7);
    spans.emplace_back(p, i * 7);
  }
  for (size_t i = 0; i < spans.size(); ++i) {
    for (size_t j = i + 1; j < spans.size(); ++j) {
      const bool disjoint =
          spans[i].first + spans[i].second <= spans[j].first ||
          spans[j].first + spans[j].second <= spans[i].first;
      EXPECT_TRUE(disjoint) << i << " and " << j << " overlap";
    }
  }
  for (size_t i = 0; i < spans.size(); ++i) {
    EXPECT_EQ(spans[i].first[spans[i].second - 1], static_cast<char>(i + 1));
  }
  EXPECT_GT(arena.num_blocks(), 1u);  // 1 KiB could not hold it all
}

TEST(ArenaTest, ResetKeepsBlocksAndReusesMemory) {
  Arena arena(4096);
  auto step = [&] {
    for (int i = 0; i < 100; ++i) arena.AllocateArray<double>(300);
  };
  step();
  const size_t reserved = arena.bytes_reserved();
  const size_t blocks = arena.num_blocks();
  const size_t high = arena.high_water_mark();
  EXPECT_GE(high, 100u * 300 * sizeof(double));
  arena.Reset();
  EXPECT_EQ(arena.bytes_in_use(), 0u);
  step();
  EXPECT_EQ(arena.bytes_reserved(), reserved);
  EXPECT_EQ(arena.num_blocks(), blocks);
  EXPECT_EQ(arena.high_water_mark(), high);
}

TEST(ArenaTest, RewindToMarkFreesOnlyLaterAllocations) {
  Arena arena(256);
  double* a = arena.AllocateZeroed<double>(10);
  const Arena::Mark mark = arena.GetMark();
  const size_t used = arena.bytes_in_use();
  double* b = arena.AllocateArray<double>(1000);  // spills into a new block
  (void)b;
  EXPECT_GT(arena.bytes_in_use(), used);
  arena.RewindTo(mark);
  EXPECT_EQ(arena.bytes_in_use(), used);
  double* c = arena.AllocateArray<double>(1000);
  EXPECT_EQ(c, b);  // the same memory is handed out again
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a[i], 0.0);
}

TEST(ArenaTest, LargeRequestGetsItsOwnBlock) {
  Arena arena(128);
  float* p = arena.AllocateArray<float>(1 << 20);
  p[(1 << 20) - 1] = 1.0f;
  EXPECT_GE(arena.bytes_reserved(), (size_t{1} << 20) * sizeof(float));
}

}  // namespace
}  // namespace elm
