// Runs a binary built by this workspace from a test, for end-to-end tests of
// command-line tools. The test lists the binary in its `data`; it is found in
// the runfiles as $TEST_SRCDIR/elm/<package>/<name>.
//
//   CommandResult r = RunTestBinary("data/inspect", "--help");
//   EXPECT_EQ(r.exit_code, 2) << r.output;
//
// RunTestBinaryOnRanks starts it under Debian's Open MPI `mpirun` with the
// settings that work as root, inside a container and without a network
// (MpirunOptions()).
#ifndef ELM_BASE_TEST_BINARY_H_
#define ELM_BASE_TEST_BINARY_H_

#include <string>

#include "absl/strings/string_view.h"

namespace elm {

struct CommandResult {
  int exit_code =
      -1;  // -1 when the command could not run or did not exit normally
  std::string output;  // stdout and stderr together
};

// Runs `<env> $TEST_SRCDIR/elm/<target> <args>` through the shell; `env` may
// set variables
// ("NAME=value ...").
CommandResult RunTestBinary(absl::string_view target, absl::string_view args,
                            absl::string_view env = "");

// The mpirun options for one machine without a network, as root, in a
// container:
//   --allow-run-as-root         mpirun refuses root otherwise (CI runs as root)
//   --oversubscribe             more ranks than cores (4 ranks on 2 cores)
//   --bind-to none              no pinning: ranks and their threads share the
//   cores
//   --mca btl self,vader        in-process and shared-memory transports only
//   (no TCP/IB)
//   --mca btl_vader_single_copy_mechanism none   no CMA (ptrace is blocked in
//   containers)
//   --mca oob_tcp_if_include lo the launcher's out-of-band channel on loopback
//   --mca mpi_yield_when_idle 1 a rank waiting for others yields its core
//   instead of spinning (on shared or oversubscribed cores ~3x faster steps,
//   measured: docs/experiments.md "Training on several processes")
// The same string is documented in the README for users.
std::string MpirunOptions();

// Runs `mpirun MpirunOptions() -np <ranks> <env-exports>
// $TEST_SRCDIR/elm/<target> <args>`
// (`env` as for RunTestBinary, passed to every rank with `-x`). A `target`
// starting with '/' is taken as it is (e.g. a copy laid out as bazel-bin
// lays out a binary); with `dir`, mpirun starts in that directory.
CommandResult RunTestBinaryOnRanks(absl::string_view target, int ranks,
                                   absl::string_view args,
                                   absl::string_view env = "",
                                   absl::string_view dir = "");

}  // namespace elm

#endif  // ELM_BASE_TEST_BINARY_H_
