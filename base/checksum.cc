// Crc32 over zlib's crc32, and Fnv1a64: see checksum.h.
#include "base/checksum.h"

#include <zlib.h>

#include <algorithm>
#include <cstddef>

namespace elm {

uint32_t Crc32(absl::string_view bytes, uint32_t crc) {
  uLong c = crc;
  size_t pos = 0;
  while (pos < bytes.size()) {  // crc32 takes a uInt length
    const size_t n = std::min<size_t>(bytes.size() - pos, size_t{1} << 30);
    c = crc32(c, reinterpret_cast<const Bytef*>(bytes.data() + pos),
              static_cast<uInt>(n));
    pos += n;
  }
  return static_cast<uint32_t>(c);
}

uint64_t Fnv1a64(absl::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace elm
