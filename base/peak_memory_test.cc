// Tests PeakRss: it grows when a large buffer is touched.
#include "base/peak_memory.h"

#include <cstring>
#include <memory>

#include "gtest/gtest.h"

namespace elm {
namespace {

TEST(PeakMemoryTest, GrowsWithTouchedMemory) {
  const int64_t before = PeakRss();
  ASSERT_GT(before, 0);
  const size_t bytes = size_t{64} << 20;
  std::unique_ptr<char[]> buffer(new char[bytes]);
  std::memset(buffer.get(), 1, bytes);
  EXPECT_GE(PeakRss(), before + static_cast<int64_t>(bytes) / 2);
  EXPECT_EQ(buffer[bytes - 1], 1);
}

}  // namespace
}  // namespace elm
