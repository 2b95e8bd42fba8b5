// Tests RunTestBinary on a small shell script shipped as test data.
#include "base/test_binary.h"

#include "gtest/gtest.h"

namespace elm {
namespace {

TEST(TestBinaryTest, CapturesOutputAndExitCode) {
  CommandResult r = RunTestBinary("base/testdata/echo_args.sh", "a b", "GREETING=hi");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.output, "hi a b\nto stderr\n");
}

TEST(TestBinaryTest, MissingBinaryIsANonZeroExit) {
  CommandResult r = RunTestBinary("base/no_such_binary", "");
  EXPECT_NE(r.exit_code, 0);
}

}  // namespace
}  // namespace elm
