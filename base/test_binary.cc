// RunTestBinary: see test_binary.h.
#include "base/test_binary.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace elm {

CommandResult RunTestBinary(absl::string_view target, absl::string_view args,
                            absl::string_view env) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const std::string cmd = absl::StrCat(env, " ", srcdir != nullptr ? srcdir : ".", "/elm/",
                                       target, " ", args, " 2>&1");
  CommandResult r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) r.output.append(buffer, n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace elm
