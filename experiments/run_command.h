// `bazel run //experiments:run` as a library: reads a text-format experiment
// spec, applies the --set overrides, runs it (experiments/trainer.h) and
// prints the outcome. run_main.cc parses the flags into RunCommandOptions and
// calls RunCommand; a workspace with models of its own links
// //experiments:run_main with their registrations into a runner of its own.
#ifndef ELM_EXPERIMENTS_RUN_COMMAND_H_
#define ELM_EXPERIMENTS_RUN_COMMAND_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "experiments/trainer.h"

namespace elm {

// The runner's flags, as given on the command line (relative paths are taken
// from the directory `bazel run` was started in, base/user_path.h).
struct RunCommandOptions {
  std::string spec;                    // --spec (required)
  std::vector<std::string> overrides;  // --set a.b=value, in order
  std::string output_dir;  // --output_dir; empty: the spec's, else runs/<name>
  bool resume = false;     // --resume
  bool overwrite = false;  // --overwrite
  std::string init_from;   // --init_from: a checkpoint's model weights
  bool quiet = false;      // --quiet
  int64_t stop_after_steps = -1;  // --stop_after_steps (for tests)
};

// Runs the experiment and prints ResultLines to stdout. Errors about the
// spec's fields (InvalidArgument) start with the spec's path.
absl::Status RunCommand(const RunCommandOptions& options);

// What the runner prints about a run of the spec named `name`: the test
// metrics and the report's path when it finished, else where it stopped.
std::string ResultLines(const std::string& name, const RunResult& result);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_RUN_COMMAND_H_
