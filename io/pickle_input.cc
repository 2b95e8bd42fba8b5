// The pickle reader's input over POSIX mmap/madvise, or read/pread/lseek where
// a file cannot be mapped: see pickle_input.h.
#include "io/pickle_input.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace elm {
namespace pickle_internal {

Input::~Input() {
  if (fd_ >= 0) close(fd_);
  if (map_ != nullptr) munmap(map_, static_cast<size_t>(size_));
}

absl::StatusOr<std::unique_ptr<Input>> Input::Open(const std::string& path,
                                                   bool map) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    const std::string message =
        absl::StrCat("cannot open ", path, ": ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(message)
                         : absl::PermissionDeniedError(message);
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a regular file"));
  }
  auto input = std::unique_ptr<Input>(new Input(absl::string_view()));
  if (map && st.st_size > 0) {
    void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ,
                   MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
      close(fd);
      input->map_ = static_cast<char*>(p);
      input->released_ = input->map_;
      input->memory_ = absl::string_view(input->map_, st.st_size);
      input->begin_ = input->cur_ = input->end_ = input->map_;
      input->size_ = st.st_size;
      return input;
    }
  }
  input->fd_ = fd;
  input->buffer_.reset(new char[kFileBufferBytes]);
  input->begin_ = input->cur_ = input->end_ = input->buffer_.get();
  input->size_ = st.st_size;
  return input;
}

bool Input::Skip(uint64_t n) {
  const uint64_t take = std::min<uint64_t>(n, end_ - cur_);
  cur_ += take;
  n -= take;
  if (n == 0) return true;
  if (map_ != nullptr) {
    if (n > static_cast<uint64_t>(remaining())) return false;
    cur_ += n;
    end_ = cur_;  // the next Ensure slides the window
    return true;
  }
  if (fd_ < 0) return false;
  base_ += cur_ - begin_;
  begin_ = cur_ = end_ = buffer_.get();
  if (lseek(fd_, static_cast<off_t>(n), SEEK_CUR) < 0) return Fail(-1);
  base_ += n;
  return true;
}

bool Input::ReadAt(int64_t offset, uint64_t n, char* dst) {
  if (fd_ < 0) {
    std::memcpy(dst, memory_.data() + offset, n);
    return true;
  }
  while (n > 0) {
    const ssize_t r = pread(fd_, dst, std::min<uint64_t>(n, 1 << 30),
                            static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return Fail(r);
    dst += r;
    n -= r;
    offset += r;
  }
  return true;
}

Input::Line Input::ReadLine(absl::string_view* line) {
  size_t scanned = 0;
  while (true) {
    const size_t have = end_ - cur_;
    const void* nl = std::memchr(cur_ + scanned, '\n', have - scanned);
    if (nl != nullptr) {
      const size_t len = static_cast<const char*>(nl) - cur_;
      if (len > kMaxLineBytes) return Line::kTooLong;
      *line = absl::string_view(cur_, len);
      cur_ += len + 1;
      return Line::kOk;
    }
    if (have > kMaxLineBytes) return Line::kTooLong;
    scanned = have;
    if (!Refill(have + 1)) return Line::kTruncated;
  }
}

bool Input::Slide(size_t n) {
  const char* const map_end = map_ + size_;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const char* behind = reinterpret_cast<const char*>(
      reinterpret_cast<uintptr_t>(cur_) & ~(page - 1));
  if (behind > released_ &&
      static_cast<size_t>(behind - released_) >= kMapReleaseBytes) {
    // The pages before the reading position: dropped from this process (the
    // file's pages stay in the page cache; ReadAt faults them in again).
    madvise(const_cast<char*>(released_), behind - released_, MADV_DONTNEED);
    released_ = behind;
  }
  const size_t left = map_end - cur_;
  end_ = cur_ + std::min(left, std::max(n, kFileBufferBytes));
  return left >= n;
}

bool Input::Refill(size_t n) {
  if (map_ != nullptr) return Slide(n);
  if (fd_ < 0) return false;
  size_t have = end_ - cur_;
  std::memmove(buffer_.get(), cur_, have);
  base_ += cur_ - begin_;
  begin_ = cur_ = buffer_.get();
  end_ = begin_ + have;
  while (have < n) {
    const ssize_t r = read(fd_, buffer_.get() + have, kFileBufferBytes - have);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Fail(r);
    if (r == 0) return false;
    have += r;
    end_ += r;
  }
  return true;
}

bool Input::Fail(ssize_t r) {
  io_error_ = r < 0 ? std::strerror(errno) : "file ended early";
  return false;
}

}  // namespace pickle_internal
}  // namespace elm
