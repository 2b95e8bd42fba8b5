// Checksums: Crc32, the CRC-32 of zip, gzip and PNG (IEEE 802.3, reflected),
// computed by zlib, for any length (zlib takes at most 4 GiB a call); and
// Fnv1a64, the 64-bit FNV-1a hash (checkpoint trailers, content-derived ids).
//
// Example:
//   const uint32_t crc = Crc32(bytes);            // whole buffer
//   uint32_t c = Crc32(part1); c = Crc32(part2, c);  // the same, in pieces
//   const uint64_t h = Fnv1a64(bytes);
#ifndef ELM_BASE_CHECKSUM_H_
#define ELM_BASE_CHECKSUM_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace elm {

// The CRC-32 of `bytes`; with `crc` the CRC-32 of the bytes before them, the
// CRC-32 of the whole.
uint32_t Crc32(absl::string_view bytes, uint32_t crc = 0);

// The 64-bit FNV-1a hash of `bytes` (offset basis 14695981039346656037, prime
// 1099511628211). Stored in checkpoint files: its values must never change.
uint64_t Fnv1a64(absl::string_view bytes);

}  // namespace elm

#endif  // ELM_BASE_CHECKSUM_H_
