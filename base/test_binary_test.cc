// Tests RunTestBinary and RunTestBinaryOnRanks on a small shell script shipped
// as test data.
#include "base/test_binary.h"

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace elm {
namespace {

TEST(TestBinaryTest, CapturesOutputAndExitCode) {
  CommandResult r =
      RunTestBinary("base/testdata/echo_args.sh", "a b", "GREETING=hi");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.output, "hi a b\nto stderr\n");
}

TEST(TestBinaryTest, MissingBinaryIsANonZeroExit) {
  CommandResult r = RunTestBinary("base/no_such_binary", "");
  EXPECT_NE(r.exit_code, 0);
}

TEST(TestBinaryTest, RunsOnTwoRanksWithTheEnvironment) {
  CommandResult r = RunTestBinaryOnRanks("base/testdata/echo_args.sh", 2, "a b",
                                         "GREETING=hi");
  // Each rank prints both lines; mpirun ends with the first non-zero exit
  // status.
  EXPECT_EQ(r.exit_code, 3) << r.output;
  size_t count = 0;
  for (size_t at = r.output.find("hi a b\n"); at != std::string::npos;
       at = r.output.find("hi a b\n", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 2u) << r.output;
}

TEST(TestBinaryTest, RunsAnAbsolutePathOnRanksInADirectory) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  ASSERT_NE(srcdir, nullptr);
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(tmp, nullptr);
  // The script prints its arguments; `$(pwd)` is expanded by the shell that
  // starts mpirun, so it shows the directory mpirun started in.
  CommandResult r = RunTestBinaryOnRanks(
      std::string(srcdir) + "/elm/base/testdata/echo_args.sh", 1,
      "in \"$(pwd)\"", "GREETING=hi", tmp);
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find(std::string("hi in ") + tmp + "\n"),
            std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace elm
