// Arena implementation: see arena.h.
#include "autodiff/arena.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "glog/logging.h"

namespace elm {

Arena::Arena(size_t first_block_bytes)
    : first_block_bytes_(std::max<size_t>(first_block_bytes, kAlignment)) {}

void Arena::FreeDeleter::operator()(char* p) const { std::free(p); }

void Arena::ZeroFill(void* p, size_t bytes) { std::memset(p, 0, bytes); }

size_t Arena::bytes_reserved() const {
  size_t total = 0;
  for (const Block& b : blocks_) total += b.size;
  return total;
}

void Arena::AddBlock(size_t min_bytes) {
  size_t size = blocks_.empty() ? first_block_bytes_ : 2 * blocks_.back().size;
  size = std::max(size, min_bytes);
  size = (size + kAlignment - 1) / kAlignment * kAlignment;
  char* data = static_cast<char*>(std::aligned_alloc(kAlignment, size));
  CHECK(data != nullptr) << "Arena: out of memory allocating " << size
                         << " bytes";
  blocks_.push_back(Block{std::unique_ptr<char, FreeDeleter>(data), size});
}

void* Arena::Allocate(size_t bytes, size_t alignment) {
  CHECK(alignment > 0 && (alignment & (alignment - 1)) == 0)
      << "alignment must be a power of two, got " << alignment;
  if (bytes == 0) bytes = 1;  // distinct, valid pointers for empty tensors
  while (true) {
    if (current_ < blocks_.size()) {
      const Block& block = blocks_[current_];
      const uintptr_t base = reinterpret_cast<uintptr_t>(block.data.get());
      const uintptr_t start =
          (base + offset_ + alignment - 1) & ~(alignment - 1);
      const size_t end = start - base + bytes;
      if (end <= block.size) {
        used_ += end - offset_;
        offset_ = end;
        high_water_ = std::max(high_water_, used_);
        return reinterpret_cast<void*>(start);
      }
      if (current_ + 1 < blocks_.size()) {
        // The rest of this block is skipped; count it as used so that marks
        // stay exact.
        used_ += block.size - offset_;
        ++current_;
        offset_ = 0;
        continue;
      }
      used_ += block.size - offset_;
    }
    AddBlock(bytes + alignment);
    current_ = blocks_.size() - 1;
    offset_ = 0;
  }
}

void Arena::RewindTo(const Mark& mark) {
  CHECK_LE(mark.used, used_) << "Arena::RewindTo: mark is ahead of the arena";
  current_ = mark.block;
  offset_ = mark.offset;
  used_ = mark.used;
}

}  // namespace elm
