// Tests Crc32 against the standard check values and across pieces.
#include "base/checksum.h"

#include <sys/mman.h>
#include <zlib.h>

#include <string>

#include "gtest/gtest.h"

namespace elm {
namespace {

TEST(Crc32Test, CheckValues) {
  EXPECT_EQ(Crc32(""), 0u);
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);  // the CRC-32 check value
  EXPECT_EQ(Crc32("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
  EXPECT_EQ(Crc32(std::string("\0\0\0\0", 4)), 0x2144DF1Cu);
}

TEST(Crc32Test, PiecesMakeTheWhole) {
  const std::string text = "The quick brown fox jumps over the lazy dog";
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    const absl::string_view s(text);
    EXPECT_EQ(Crc32(s.substr(cut), Crc32(s.substr(0, cut))), 0x414FA339u)
        << cut;
  }
}

// The published FNV-1a test vectors.
TEST(Fnv1a64Test, CheckValues) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ull);
}

// Longer than one zlib call takes (Crc32 passes at most 1 GiB a call, as
// zlib's length is a 32-bit uInt): zero pages mapped, not allocated, against
// the CRC of as many zeros that zlib's crc32_combine builds by doubling.
TEST(Crc32Test, LongerThanOneCall) {
  const size_t n = (size_t{1} << 30) + 5;
  void* p = mmap(nullptr, n, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  uLong zeros = crc32(0, reinterpret_cast<const Bytef*>("\0"), 1);  // 2^0
  for (int k = 0; k < 30; ++k) zeros = crc32_combine(zeros, zeros, 1L << k);
  const uLong five = crc32(0, reinterpret_cast<const Bytef*>("\0\0\0\0\0"), 5);
  const uint32_t want = static_cast<uint32_t>(crc32_combine(zeros, five, 5));
  EXPECT_EQ(Crc32(absl::string_view(static_cast<const char*>(p), n)), want);
  munmap(p, n);
}

}  // namespace
}  // namespace elm
