// Arena: a bump allocator over kept, 64-byte-aligned blocks, used by the tape
// for every value, adjoint and op context of a training step. Allocation is a
// pointer bump; `Reset()` rewinds to the start without freeing, so a
// steady-state step allocates nothing from the system. `GetMark()`/`RewindTo()`
// give nested scopes (checkpointed backprop re-forwards a segment inside one
// and drops it afterwards). Nothing placed in an arena has its destructor run:
// only trivially destructible objects go in it.
//
// Example:
//   Arena arena;
//   float* x = arena.AllocateArray<float>(256);  // 64-byte aligned, not zeroed
//   Arena::Mark m = arena.GetMark();
//   double* tmp = arena.AllocateArray<double>(1024);
//   arena.RewindTo(m);  // tmp is gone, x is kept
//   arena.Reset();      // everything is gone; the blocks are kept
#ifndef ELM_AUTODIFF_ARENA_H_
#define ELM_AUTODIFF_ARENA_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

namespace elm {

class Arena {
 public:
  static constexpr size_t kAlignment = 64;

  // `first_block_bytes` is the size of the first block; each new block is at
  // least twice the size of the previous one.
  explicit Arena(size_t first_block_bytes = size_t{1} << 20);
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  Arena(Arena&&) = default;
  Arena& operator=(Arena&&) = default;

  // Returns `bytes` of uninitialised memory aligned to `alignment` (a power of
  // two). Never returns null; grows by a new block when the kept ones are full.
  void* Allocate(size_t bytes, size_t alignment = kAlignment);

  // Uninitialised array of `n` T, 64-byte aligned.
  template <typename T>
  T* AllocateArray(size_t n) {
    static_assert(std::is_trivially_destructible_v<T>,
                  "arena objects never have their destructors run");
    return static_cast<T*>(Allocate(n * sizeof(T), kAlignment));
  }

  // Zero-filled array of `n` T.
  template <typename T>
  T* AllocateZeroed(size_t n) {
    T* p = AllocateArray<T>(n);
    ZeroFill(p, n * sizeof(T));
    return p;
  }

  // A position in the arena; rewinding to it frees everything allocated after
  // it.
  struct Mark {
    size_t block = 0;
    size_t offset = 0;
    size_t used = 0;
  };
  Mark GetMark() const { return {current_, offset_, used_}; }
  // Frees everything allocated since `mark` was taken (blocks are kept).
  void RewindTo(const Mark& mark);
  // Frees everything; keeps the blocks for reuse.
  void Reset() { RewindTo(Mark{}); }

  // Bytes handed out (including alignment padding) since the last Reset.
  size_t bytes_in_use() const { return used_; }
  // The largest bytes_in_use() ever reached.
  size_t high_water_mark() const { return high_water_; }
  // Bytes of all blocks held.
  size_t bytes_reserved() const;
  size_t num_blocks() const { return blocks_.size(); }

 private:
  struct FreeDeleter {
    void operator()(char* p) const;
  };
  struct Block {
    std::unique_ptr<char, FreeDeleter> data;
    size_t size = 0;
  };

  static void ZeroFill(void* p, size_t bytes);
  void AddBlock(size_t min_bytes);

  std::vector<Block> blocks_;
  size_t first_block_bytes_;
  size_t current_ = 0;  // index of the block being bumped
  size_t offset_ = 0;   // bytes used in blocks_[current_]
  size_t used_ = 0;
  size_t high_water_ = 0;
};

}  // namespace elm

#endif  // ELM_AUTODIFF_ARENA_H_
