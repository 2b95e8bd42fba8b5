// Tests FindSharedPath: present files are found, absent ones report the path
// looked for.
#include "base/shared_data.h"

#include <filesystem>

#include "gtest/gtest.h"

namespace elm {
namespace {

TEST(SharedDataTest, MissingPathIsReported) {
  std::string missing;
  EXPECT_EQ(FindSharedPath("no/such/file.txt", &missing), "");
  EXPECT_NE(missing.find("external/shared/no/such/file.txt"), std::string::npos)
      << missing;
}

TEST(SharedDataTest, FindsTheGoldenReadme) {
  std::string missing;
  const std::string path = FindSharedPath("golden/README.md", &missing);
  if (path.empty()) GTEST_SKIP() << "missing " << missing;
  EXPECT_TRUE(std::filesystem::is_regular_file(path));
}

}  // namespace
}  // namespace elm
