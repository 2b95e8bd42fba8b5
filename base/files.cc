// AtomicFileWriter, WriteFileAtomically and ReadFileToString over POSIX
// calls: see files.h.
#include "base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace elm {
namespace {

// Appends are gathered up to this many bytes before a write.
constexpr size_t kBufferBytes = 1 << 20;

bool WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(written));
  }
  return true;
}

// " (directory 'd' does not exist)" or " ('d' is not a directory)" where the
// directory of `path` is the problem; "" otherwise.
std::string DirectoryHint(const std::string& path) {
  const std::string dir = DirectoryOf(path);
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    return absl::StrCat(" (directory '", dir, "' does not exist)");
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::StrCat(" ('", dir, "' is not a directory)");
  }
  return "";
}

// Creates a temporary file beside `path` that no other writer (thread or
// process) uses; sets *tmp to its name. Returns the fd, or -1 with errno set.
int CreateTemporary(const std::string& path, std::string* tmp) {
  static std::atomic<uint64_t> counter{0};
  while (true) {
    *tmp = absl::StrCat(path, ".tmp.", ::getpid(), ".", counter++);
    const int fd =
        ::open(tmp->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
}

}  // namespace

absl::Status AppendToFile(const std::string& path, absl::string_view bytes,
                          absl::string_view what) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot append to ",
                                                   what, DirectoryHint(path)));
  }
  if (!WriteAll(fd, bytes)) {
    const int error = errno;
    ::close(fd);
    return absl::ErrnoToStatus(error,
                               absl::StrCat(path, ": cannot append to ", what));
  }
  if (::close(fd) != 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat(path, ": cannot append to ", what));
  }
  return absl::OkStatus();
}

absl::Status MakeDirectories(const std::string& path) {
  std::string partial = !path.empty() && path[0] == '/' ? "/" : "";
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (!partial.empty() && partial.back() != '/') partial += '/';
    absl::StrAppend(&partial, part);
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::ErrnoToStatus(
          errno, absl::StrCat("cannot create directory '", partial, "'"));
    }
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", partial, "' is not a directory"));
  }
  return absl::OkStatus();
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::StatusOr<std::unique_ptr<AtomicFileWriter>> AtomicFileWriter::Create(
    const std::string& path, absl::string_view what) {
  std::string tmp;
  const int fd = CreateTemporary(path, &tmp);
  if (fd < 0) {
    const int error = errno;
    return absl::ErrnoToStatus(
        error, absl::StrCat(path, ": cannot write ", what, DirectoryHint(path),
                            ": cannot create '", tmp, "'"));
  }
  return std::unique_ptr<AtomicFileWriter>(
      new AtomicFileWriter(path, std::move(tmp), std::string(what), fd));
}

AtomicFileWriter::AtomicFileWriter(std::string path, std::string tmp,
                                   std::string what, int fd)
    : path_(std::move(path)),
      tmp_(std::move(tmp)),
      what_(std::move(what)),
      fd_(fd) {}

AtomicFileWriter::~AtomicFileWriter() { Abandon(); }

void AtomicFileWriter::Abandon() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  ::unlink(tmp_.c_str());
  buffer_.clear();
}

absl::Status AtomicFileWriter::Fail(absl::string_view step) {
  const int error = errno;
  Abandon();
  return absl::ErrnoToStatus(
      error, absl::StrCat(path_, ": cannot write ", what_, ": ", step, " '",
                          tmp_, "'"));
}

absl::Status AtomicFileWriter::NotOpen() const {
  return absl::FailedPreconditionError(
      absl::StrCat(path_, ": cannot write ", what_,
                   ": the file was already committed or abandoned"));
}

absl::Status AtomicFileWriter::Flush() {
  if (!WriteAll(fd_, buffer_)) return Fail("cannot write");
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status AtomicFileWriter::Append(absl::string_view bytes) {
  if (fd_ < 0) return NotOpen();
  if (buffer_.size() + bytes.size() <= kBufferBytes) {
    buffer_.append(bytes.data(), bytes.size());
    return absl::OkStatus();
  }
  if (absl::Status st = Flush(); !st.ok()) return st;
  if (bytes.size() >= kBufferBytes) {
    if (!WriteAll(fd_, bytes)) return Fail("cannot write");
  } else {
    buffer_.assign(bytes.data(), bytes.size());
  }
  return absl::OkStatus();
}

absl::Status AtomicFileWriter::Commit() {
  if (fd_ < 0) return NotOpen();
  if (absl::Status st = Flush(); !st.ok()) return st;
  if (::fsync(fd_) != 0) return Fail("cannot fsync");
  const int fd = fd_;
  fd_ = -1;  // closed below, whatever happens
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(tmp_.c_str());
    return absl::ErrnoToStatus(
        error, absl::StrCat(path_, ": cannot write ", what_, ": cannot close '",
                            tmp_, "'"));
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp_.c_str());
    return absl::ErrnoToStatus(
        error, absl::StrCat(path_, ": cannot write ", what_,
                            ": cannot rename into place '", tmp_, "'"));
  }
  // Make the rename durable (best effort: some file systems refuse).
  const int dir_fd =
      ::open(DirectoryOf(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view contents,
                                 absl::string_view what) {
  absl::StatusOr<std::unique_ptr<AtomicFileWriter>> writer =
      AtomicFileWriter::Create(path, what);
  if (!writer.ok()) return writer.status();
  if (absl::Status st = (*writer)->Append(contents); !st.ok()) return st;
  return (*writer)->Commit();
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path,
                                             absl::string_view what,
                                             uint64_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat(path, ": cannot open ", what));
  }
  auto fail = [&](absl::Status status) {
    ::close(fd);
    return status;
  };
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return fail(
        absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot read ", what)));
  }
  // A directory, or a device, pipe or socket that may never end (/dev/zero).
  if (S_ISDIR(st.st_mode)) {
    return fail(absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot read ", what, ": it is a directory")));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot read ", what,
                     ": not a regular file (a device, pipe or socket)")));
  }
  auto too_big = [&](uint64_t bytes) {
    return fail(absl::ResourceExhaustedError(absl::StrCat(
        path, ": cannot read ", what, ": ", bytes, " bytes, more than the ",
        max_bytes, " a ", what, " may have")));
  };
  if (static_cast<uint64_t>(st.st_size) > max_bytes) return too_big(st.st_size);
  std::string data;
  data.reserve(st.st_size);
  char buffer[1 << 16];
  while (true) {
    const ssize_t got = ::read(fd, buffer, sizeof(buffer));
    if (got < 0) {
      if (errno == EINTR) continue;
      return fail(absl::ErrnoToStatus(
          errno, absl::StrCat(path, ": cannot read ", what)));
    }
    if (got == 0) break;
    // The file may grow while it is read.
    if (data.size() + got > max_bytes) return too_big(data.size() + got);
    data.append(buffer, static_cast<size_t>(got));
  }
  ::close(fd);
  return data;
}

}  // namespace elm
