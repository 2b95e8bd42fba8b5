// Runs a binary built by this workspace from a test, for end-to-end tests of command-line
// tools. The test lists the binary in its `data`; it is found in the runfiles as
// $TEST_SRCDIR/elm/<package>/<name>.
//
//   CommandResult r = RunTestBinary("data/inspect", "--help");
//   EXPECT_EQ(r.exit_code, 2) << r.output;
#ifndef ELM_BASE_TEST_BINARY_H_
#define ELM_BASE_TEST_BINARY_H_

#include <string>

#include "absl/strings/string_view.h"

namespace elm {

struct CommandResult {
  int exit_code = -1;  // -1 when the command could not run or did not exit normally
  std::string output;  // stdout and stderr together
};

// Runs `<env> $TEST_SRCDIR/elm/<target> <args>` through the shell; `env` may set variables
// ("NAME=value ...").
CommandResult RunTestBinary(absl::string_view target, absl::string_view args,
                            absl::string_view env = "");

}  // namespace elm

#endif  // ELM_BASE_TEST_BINARY_H_
