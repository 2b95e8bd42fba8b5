// Tests the test-file helpers: paths under $TEST_TMPDIR, a directory made
// afresh, a write read back byte for byte (NUL bytes included, an existing
// file replaced), and reads and writes that fail as gtest failures naming the
// path.
#include "base/test_files.h"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

TEST(TestTempPathTest, UnderTestTmpdir) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(tmp, nullptr);
  EXPECT_EQ(TestTempPath("a/b.txt"), std::string(tmp) + "/a/b.txt");
  EXPECT_EQ(TestTempPath(""), tmp);
  EXPECT_FALSE(std::filesystem::exists(TestTempPath("a")));
}

TEST(MakeTestDirTest, EmptyAndCreatedWithParents) {
  const std::string dir = MakeTestDir("made/deeper");
  EXPECT_EQ(dir, TestTempPath("made/deeper"));
  EXPECT_TRUE(std::filesystem::is_directory(dir));
  WriteTestFile(dir + "/old", "x");
  EXPECT_EQ(MakeTestDir("made/deeper"), dir);
  EXPECT_TRUE(std::filesystem::is_empty(dir));
}

TEST(ReadWriteTestFileTest, RoundTripAndReplace) {
  const std::string path = TestTempPath("bytes.bin");
  const std::string bytes("a\0b\nc", 5);
  WriteTestFile(path, bytes);
  EXPECT_EQ(ReadTestFile(path), bytes);
  WriteTestFile(path, "z");
  EXPECT_EQ(ReadTestFile(path), "z");
  WriteTestFile(path, "");
  EXPECT_EQ(ReadTestFile(path), "");
}

TEST(ReadWriteTestFileTest, FailuresNameThePath) {
  const std::string missing = TestTempPath("no_such_dir/file");
  EXPECT_NONFATAL_FAILURE(EXPECT_EQ(ReadTestFile(missing), ""), missing);
  EXPECT_NONFATAL_FAILURE(WriteTestFile(missing, "x"), missing);
}

TEST(ListTestFilesTest, SortedBySuffixWithoutIt) {
  const std::string dir = MakeTestDir("listed");
  for (const char* name :
       {"b.textproto", "a.textproto", "c.txt", "a.textproto.tmp"}) {
    WriteTestFile(dir + "/" + name, "x");
  }
  EXPECT_EQ(ListTestFiles(dir, ".textproto"),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ListTestFiles(dir, ".txt"), std::vector<std::string>{"c"});
  EXPECT_NONFATAL_FAILURE(ListTestFiles(dir + "/missing", ".txt"),
                          "missing: cannot list");
}

TEST(RunfilesPathTest, FindsThisTestsBinary) {
  ASSERT_NE(std::getenv("TEST_SRCDIR"), nullptr);
  EXPECT_TRUE(std::filesystem::exists(RunfilesPath("base/test_files_test")))
      << RunfilesPath("base/test_files_test");
  EXPECT_FALSE(std::filesystem::exists(RunfilesPath("base/no_such_file")));
}

}  // namespace
}  // namespace elm
