// RunTestBinary: see test_binary.h.
#include "base/test_binary.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace elm {

namespace {

std::string BinaryPath(absl::string_view target) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  if (absl::StartsWith(target, "/")) return std::string(target);
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/elm/", target);
}

CommandResult RunCommand(const std::string& cmd) {
  CommandResult r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0)
    r.output.append(buffer, n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace

CommandResult RunTestBinary(absl::string_view target, absl::string_view args,
                            absl::string_view env) {
  return RunCommand(
      absl::StrCat(env, " ", BinaryPath(target), " ", args, " 2>&1"));
}

std::string MpirunOptions() {
  return "--allow-run-as-root --oversubscribe --bind-to none --mca btl "
         "self,vader "
         "--mca btl_vader_single_copy_mechanism none --mca oob_tcp_if_include "
         "lo --mca mpi_yield_when_idle 1";
}

CommandResult RunTestBinaryOnRanks(absl::string_view target, int ranks,
                                   absl::string_view args,
                                   absl::string_view env,
                                   absl::string_view dir) {
  // Each NAME=value of `env` is set here and exported to the ranks with -x
  // NAME.
  std::string exports;
  for (absl::string_view assignment :
       absl::StrSplit(env, ' ', absl::SkipEmpty())) {
    const size_t eq = assignment.find('=');
    if (eq == absl::string_view::npos) continue;
    absl::StrAppend(&exports, " -x ", assignment.substr(0, eq));
  }
  const std::string cd =
      dir.empty() ? std::string() : absl::StrCat("cd '", dir, "' && ");
  return RunCommand(absl::StrCat(cd, env, " mpirun ", MpirunOptions(), " -np ",
                                 ranks, exports, " ", BinaryPath(target), " ",
                                 args, " 2>&1"));
}

}  // namespace elm
