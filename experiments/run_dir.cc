// RunDirLock and PrepareFreshRunDir over POSIX calls: see run_dir.h.
#include "experiments/run_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace elm {
namespace {

constexpr char kLockFile[] = ".lock";

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// Removes `path` (a file, or a directory that must then be empty).
absl::Status Remove(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::ErrnoToStatus(
        errno, absl::StrCat("cannot remove '", path, "' of the earlier run"));
  }
  const int r =
      S_ISDIR(st.st_mode) ? ::rmdir(path.c_str()) : ::unlink(path.c_str());
  if (r != 0 && errno != ENOENT) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("cannot remove '", path, "' of the earlier run"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RunDirLock> RunDirLock::Acquire(const std::string& dir) {
  const std::string path = absl::StrCat(dir, "/", kLockFile);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("output_dir '", dir,
                                                   "': cannot create the lock "
                                                   "file '",
                                                   path, "'"));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    if (error != EWOULDBLOCK) {
      ::close(fd);
      return absl::ErrnoToStatus(
          error,
          absl::StrCat("output_dir '", dir, "': cannot lock '", path, "'"));
    }
    char buffer[32] = {};
    const ssize_t got = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
    ::close(fd);
    const std::string pid(
        absl::StripTrailingAsciiWhitespace(got > 0 ? buffer : ""));
    return absl::FailedPreconditionError(
        absl::StrCat("output_dir '", dir, "' is in use by another run",
                     pid.empty() ? "" : absl::StrCat(" (process ", pid, ")"),
                     "; wait for it to end, or choose another --output_dir"));
  }
  // The holder's pid, for the message above (the lock itself is the flock).
  const std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) !=
                                     static_cast<ssize_t>(pid.size())) {
    // Only the message would lack the pid; the lock holds.
  }
  return RunDirLock(fd);
}

RunDirLock::RunDirLock(RunDirLock&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

RunDirLock& RunDirLock::operator=(RunDirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

RunDirLock::~RunDirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

const std::vector<std::string>& RunDirEntries() {
  static const std::vector<std::string>* const kEntries =
      new std::vector<std::string>{"spec.textproto", "metrics.csv",
                                   "checkpoints",    "best.ckpt",
                                   "summary.json",   "report.html"};
  return *kEntries;
}

absl::Status PrepareFreshRunDir(const std::string& dir, bool overwrite) {
  std::vector<std::string> found;
  for (const std::string& entry : RunDirEntries()) {
    const std::string path = absl::StrCat(dir, "/", entry);
    if (entry == "checkpoints") {
      // An empty checkpoints/ (made before the run wrote anything) is no run.
      if (Exists(path + "/latest.ckpt"))
        found.push_back(entry + "/latest.ckpt");
    } else if (Exists(path)) {
      found.push_back(entry);
    }
  }
  if (found.empty()) return absl::OkStatus();
  if (!overwrite) {
    return absl::FailedPreconditionError(absl::StrCat(
        "output_dir '", dir, "' holds an earlier run (",
        absl::StrJoin(found, ", "),
        "); pass --resume to continue it, --overwrite to delete it and start "
        "afresh, or choose another --output_dir"));
  }
  // The summary and report first: from here on, no file may claim to
  // describe a run that is gone.
  for (const char* entry :
       {"summary.json", "report.html", "best.ckpt", "checkpoints/latest.ckpt",
        "metrics.csv", "spec.textproto"}) {
    if (absl::Status s = Remove(absl::StrCat(dir, "/", entry)); !s.ok()) {
      return s;
    }
  }
  // Leftover temporaries of atomic writes (*.tmp.<pid>.<n>) in checkpoints/.
  const std::string checkpoints = absl::StrCat(dir, "/checkpoints");
  if (DIR* d = ::opendir(checkpoints.c_str())) {
    std::vector<std::string> temps;
    while (const dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name.find(".ckpt.tmp.") != std::string::npos) temps.push_back(name);
    }
    ::closedir(d);
    for (const std::string& name : temps) {
      if (absl::Status s = Remove(absl::StrCat(checkpoints, "/", name));
          !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace elm
