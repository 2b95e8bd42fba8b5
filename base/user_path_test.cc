// Tests ResolveUserPath with and without BUILD_WORKING_DIRECTORY.
#include "base/user_path.h"

#include <cstdlib>

#include "gtest/gtest.h"

namespace elm {
namespace {

TEST(UserPathTest, RelativeToBazelRunDirectory) {
  setenv("BUILD_WORKING_DIRECTORY", "/home/me/project", 1);
  EXPECT_EQ(ResolveUserPath("data/x.txt"), "/home/me/project/data/x.txt");
  EXPECT_EQ(ResolveUserPath("/abs/x.txt"), "/abs/x.txt");
  // Issue 18: run from "/", paths printed as "//dir/...".
  setenv("BUILD_WORKING_DIRECTORY", "/", 1);
  EXPECT_EQ(ResolveUserPath("dir/x.txt"), "/dir/x.txt");
  setenv("BUILD_WORKING_DIRECTORY", "/home/me/", 1);
  EXPECT_EQ(ResolveUserPath("x.txt"), "/home/me/x.txt");
  unsetenv("BUILD_WORKING_DIRECTORY");
  EXPECT_EQ(ResolveUserPath("data/x.txt"), "data/x.txt");
}

}  // namespace
}  // namespace elm
