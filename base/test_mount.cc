// RunOnTmpfs, RemountReadOnly and FillFileSystem: see test_mount.h.
#include "base/test_mount.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace elm {
namespace {

// The child's exit status when it cannot set up the mount.
constexpr int kCannotMount = 42;

void WriteAllOrDie(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(1);
    done += static_cast<size_t>(n);
  }
}

}  // namespace

absl::StatusOr<std::string> RunOnTmpfs(
    const std::string& dir, int64_t bytes,
    const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe(fds) != 0) return absl::InternalError("pipe");
  const pid_t child = ::fork();
  if (child < 0) return absl::InternalError("fork");
  if (child == 0) {
    ::close(fds[0]);
    ::mkdir(dir.c_str(), 0755);
    std::string why;
    if (::unshare(CLONE_NEWNS) != 0) {
      why = absl::StrCat("unshare(CLONE_NEWNS): ", std::strerror(errno));
    } else if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) !=
               0) {
      why = absl::StrCat("making the mounts private: ", std::strerror(errno));
    } else if (::mount("tmpfs", dir.c_str(), "tmpfs", 0,
                       absl::StrCat("size=", bytes).c_str()) != 0) {
      why =
          absl::StrCat("mounting a tmpfs on ", dir, ": ", std::strerror(errno));
    }
    if (!why.empty()) {
      WriteAllOrDie(fds[1], why);
      ::_exit(kCannotMount);
    }
    WriteAllOrDie(fds[1], body());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fds[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == kCannotMount) {
    return absl::UnavailableError(
        absl::StrCat("cannot mount a test tmpfs (", out, ")"));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat(
        "the tmpfs child died (",
        WIFSIGNALED(status) ? absl::StrCat("signal ", WTERMSIG(status))
                            : absl::StrCat("exit status ", WEXITSTATUS(status)),
        "); its output: ", out));
  }
  return out;
}

absl::Status RemountReadOnly(const std::string& dir) {
  if (::mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) !=
      0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("remounting ", dir, " read-only"));
  }
  return absl::OkStatus();
}

absl::Status FillFileSystem(const std::string& dir, const std::string& name) {
  const std::string path = absl::StrCat(dir, "/", name);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("creating ", path));
  }
  const std::vector<char> block(4096, 'x');
  while (true) {
    const ssize_t n = ::write(fd, block.data(), block.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      if (error == ENOSPC) return absl::OkStatus();
      return absl::ErrnoToStatus(error, absl::StrCat("filling ", path));
    }
  }
}

}  // namespace elm
