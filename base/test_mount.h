// Small file systems for tests of full disks and read-only directories:
// RunOnTmpfs runs a function in a child process that has a private mount
// namespace in which a directory is a fresh tmpfs of a given size, so that
// writes there fail with ENOSPC ("No space left on device") when it is full
// and with EROFS once RemountReadOnly has made it read-only; the mount
// disappears with the child. It needs the right to create a mount namespace
// (root or CAP_SYS_ADMIN, as in the project's containers); elsewhere it returns
// Unavailable and the test skips.
//
//   absl::StatusOr<std::string> out = RunOnTmpfs(dir, 64 << 10, [&] {
//     return WriteFileAtomically(dir + "/x", big).ToString();
//   });
//   if (absl::IsUnavailable(out.status())) GTEST_SKIP() << out.status();
#ifndef ELM_BASE_TEST_MOUNT_H_
#define ELM_BASE_TEST_MOUNT_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace elm {

// Forks; the child makes its mounts private, mounts a tmpfs of `bytes` bytes
// on `dir` (created if missing), runs `body` and sends back its string, which
// is returned here. Unavailable when the child cannot unshare or mount;
// Internal when it dies (signal or exit status named).
absl::StatusOr<std::string> RunOnTmpfs(
    const std::string& dir, int64_t bytes,
    const std::function<std::string()>& body);

// Inside `body`: makes the tmpfs at `dir` read-only. The error names `dir`.
absl::Status RemountReadOnly(const std::string& dir);

// Inside `body`: fills the file system of `dir` by writing a file `name` there
// until a write fails (ENOSPC); OK when it did fill up.
absl::Status FillFileSystem(const std::string& dir,
                            const std::string& name = "filler");

}  // namespace elm

#endif  // ELM_BASE_TEST_MOUNT_H_
