// RunOnTmpfs: a full tmpfs refuses writes with ENOSPC, a read-only one with
// EROFS, and the mount is gone after the child ends.
#include "base/test_mount.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/test_files.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

std::string TryCreate(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0644);
  if (fd < 0) return std::strerror(errno);
  const ssize_t n = ::write(fd, "x", 1);
  const int error = errno;
  ::close(fd);
  return n == 1 ? "ok" : std::strerror(error);
}

TEST(TestMountTest, FullAndReadOnly) {
  const std::string dir = MakeTestDir("mnt");
  absl::StatusOr<std::string> full = RunOnTmpfs(dir, 64 << 10, [&] {
    const absl::Status filled = FillFileSystem(dir);
    if (!filled.ok()) return filled.ToString();
    return TryCreate(dir + "/after");
  });
  if (absl::IsUnavailable(full.status())) GTEST_SKIP() << full.status();
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(*full, std::strerror(ENOSPC));

  absl::StatusOr<std::string> ro = RunOnTmpfs(dir, 64 << 10, [&] {
    const absl::Status s = RemountReadOnly(dir);
    if (!s.ok()) return s.ToString();
    return TryCreate(dir + "/x");
  });
  ASSERT_TRUE(ro.ok()) << ro.status();
  EXPECT_EQ(*ro, std::strerror(EROFS));
  // The tmpfs was the child's: here the directory is the test's, writable
  // and without the filler.
  struct stat st;
  EXPECT_NE(::stat((dir + "/filler").c_str(), &st), 0);
  EXPECT_EQ(TryCreate(dir + "/here"), "ok");
}

}  // namespace
}  // namespace elm
