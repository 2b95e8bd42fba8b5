// The pickle reader's input (pickle_internal): bytes in memory, or a file
// mapped into memory (read through a 1 MiB buffer where it cannot be mapped),
// with the few operations the Unpickler needs: make n bytes readable, step
// over bytes without reading them, copy bytes back from an earlier offset (the
// deferred strings), and read a text line. A mapped file is read through a
// window that moves with the reading position: the pages behind it are
// released (madvise MADV_DONTNEED), so the resident memory of reading a file
// of gigabytes stays at a few MiB, and pages that are stepped over (Skip) are
// never touched. A mapped file that another process truncates while it is
// read ends the reading process with SIGBUS (the files read here are written
// atomically, by rename).
#ifndef ELM_IO_PICKLE_INPUT_H_
#define ELM_IO_PICKLE_INPUT_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace elm {
namespace pickle_internal {

// The file input buffer, and the least a mapped file's window holds past the
// reading position; must exceed kDeferMinBytes (pickle_internal.h).
constexpr size_t kFileBufferBytes = 1 << 20;
// A mapped file's pages are released once this many bytes lie behind the
// reading position.
constexpr size_t kMapReleaseBytes = 4 << 20;
// Longest text line (GLOBAL module/name, INT, FLOAT, GET, PUT, PERSID).
constexpr size_t kMaxLineBytes = 4096;

// The unpickler's input: a string in memory, or a file (mapped, or read
// through a buffer).
class Input {
 public:
  explicit Input(absl::string_view memory)
      : memory_(memory),
        begin_(memory.data()),
        cur_(memory.data()),
        end_(memory.data() + memory.size()),
        size_(static_cast<int64_t>(memory.size())) {}
  ~Input();
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;

  // A regular file, mapped unless `map` is false or mapping fails (then read
  // through the buffer); NotFound or PermissionDenied naming `path` when it
  // cannot be opened, InvalidArgument when it is not a regular file.
  static absl::StatusOr<std::unique_ptr<Input>> Open(const std::string& path,
                                                     bool map = true);
  bool mapped() const { return map_ != nullptr; }

  int64_t offset() const { return base_ + (cur_ - begin_); }
  int64_t size() const { return size_; }
  int64_t remaining() const { return size_ - offset(); }
  // Why the last read failed ("" when none did).
  const std::string& io_error() const { return io_error_; }

  // Makes n bytes (n <= kFileBufferBytes) readable at cur(); false when the
  // input ends first.
  bool Ensure(size_t n) {
    return static_cast<size_t>(end_ - cur_) >= n || Refill(n);
  }
  const char* cur() const { return cur_; }
  // Bytes readable at cur() without an Ensure.
  size_t available() const { return end_ - cur_; }
  void Advance(size_t n) { cur_ += n; }

  // Steps over the next n bytes (n <= remaining()).
  bool Skip(uint64_t n);

  // Copies n bytes from `offset` (already passed) to `dst`.
  bool ReadAt(int64_t offset, uint64_t n, char* dst);

  enum class Line { kOk, kTruncated, kTooLong };
  // Reads up to and past the next '\n'; *line gets the text before it.
  Line ReadLine(absl::string_view* line);

 private:
  bool Refill(size_t n);
  // Mapped: moves the window's end past cur_ + n, releasing the pages behind.
  bool Slide(size_t n);
  bool Fail(ssize_t r);

  absl::string_view memory_;
  // Mapped: the mapping, and the start of its pages not yet released.
  char* map_ = nullptr;
  const char* released_ = nullptr;
  int fd_ = -1;
  std::unique_ptr<char[]> buffer_;
  const char* begin_;  // buffer start; input offset base_
  const char* cur_;
  const char* end_;
  int64_t base_ = 0;
  int64_t size_;
  std::string io_error_;
};

}  // namespace pickle_internal
}  // namespace elm

#endif  // ELM_IO_PICKLE_INPUT_H_
