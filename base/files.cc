// WriteFileAtomically and ReadFileToString over POSIX calls: see files.h.
#include "base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace elm {
namespace {

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

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view contents,
                                 absl::string_view what) {
  std::string tmp;
  const int fd = CreateTemporary(path, &tmp);
  if (fd < 0) {
    const int error = errno;
    return absl::ErrnoToStatus(
        error, absl::StrCat(path, ": cannot write ", what, DirectoryHint(path),
                            ": cannot create '", tmp, "'"));
  }
  // From here on, remove the temporary file on failure.
  auto fail = [&](absl::string_view step, bool close_fd) {
    const int error = errno;
    if (close_fd) ::close(fd);
    ::unlink(tmp.c_str());
    return absl::ErrnoToStatus(
        error, absl::StrCat(path, ": cannot write ", what, ": ", step, " '",
                            tmp, "'"));
  };
  if (!WriteAll(fd, contents)) return fail("cannot write", true);
  if (::fsync(fd) != 0) return fail("cannot fsync", true);
  if (::close(fd) != 0) return fail("cannot close", false);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail("cannot rename into place", false);
  }
  // Make the rename durable (best effort: some file systems refuse).
  const int dir_fd =
      ::open(DirectoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path,
                                             absl::string_view what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat(path, ": cannot open ", what));
  }
  std::string data;
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) data.reserve(st.st_size);
  char buffer[1 << 16];
  while (true) {
    const ssize_t got = ::read(fd, buffer, sizeof(buffer));
    if (got < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      return absl::ErrnoToStatus(error,
                                 absl::StrCat(path, ": cannot read ", what));
    }
    if (got == 0) break;
    data.append(buffer, static_cast<size_t>(got));
  }
  ::close(fd);
  return data;
}

}  // namespace elm
