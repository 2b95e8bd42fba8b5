// `bazel run //experiments:run -- --spec=<file> [--set a.b=value ...]
// [--output_dir=<dir>] [--resume]`: trains and evaluates the experiment of a
// text-format spec (experiments/proto/experiment.proto) and writes its run
// directory (experiments/trainer.h). --set overrides one field of the spec
// and may be repeated; relative paths are taken from the directory `bazel
// run` was started in. Every spec in experiments/specs/ is also a target of
// its own (`bazel run //experiments:<spec name>`), which calls this binary.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "base/status_macros.h"
#include "base/user_path.h"
#include "experiments/spec.h"
#include "experiments/trainer.h"
#include "gflags/gflags.h"
#include "glog/logging.h"

DEFINE_string(spec, "", "the experiment spec (text-format elm.ExperimentSpec)");
DEFINE_string(output_dir, "",
              "the run directory (default: the spec's output_dir, else "
              "runs/<name>)");
DEFINE_bool(resume, false,
            "continue the run in the output directory from its latest "
            "checkpoint");
DEFINE_bool(quiet, false, "no progress output");
DEFINE_int64(stop_after_steps, -1,
             "stop after this many steps in total, after a checkpoint (to "
             "test --resume)");

namespace elm {
namespace {

absl::Status Main(const std::vector<std::string>& overrides) {
  if (FLAGS_spec.empty()) {
    return absl::InvalidArgumentError(
        "--spec is required: the path of an experiment spec, e.g. "
        "experiments/specs/neuronio_branch_elm_embedded.textproto");
  }
  const std::string path = ResolveUserPath(FLAGS_spec);
  ASSIGN_OR_RETURN(ExperimentSpec spec, ReadExperimentSpecFile(path));
  for (const std::string& o : overrides) {
    RETURN_IF_ERROR(ApplySpecOverride(o, &spec));
  }
  RunOptions options;
  options.resume = FLAGS_resume;
  options.quiet = FLAGS_quiet;
  options.stop_after_steps = FLAGS_stop_after_steps;
  if (!FLAGS_output_dir.empty()) {
    options.output_dir = ResolveUserPath(FLAGS_output_dir);
  }
  absl::StatusOr<RunResult> result = RunExperiment(spec, options);
  if (!result.ok()) {
    // Name the spec in errors about its fields.
    if (result.status().code() == absl::StatusCode::kInvalidArgument) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", result.status().message()));
    }
    return result.status();
  }
  if (result->finished) {
    std::printf("%s: done in %.1f s; results in %s\n", spec.name().c_str(),
                result->train_seconds, result->output_dir.c_str());
    for (const auto& [name, value] : result->test_metrics) {
      std::printf("  test %s = %.6g\n", name.c_str(), value);
    }
    std::printf("  report: %s/report.html\n", result->output_dir.c_str());
  } else {
    std::printf("%s: stopped after %lld steps; rerun with --resume to go on\n",
                spec.name().c_str(), static_cast<long long>(result->steps));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace elm

int main(int argc, char** argv) {
  // --set may repeat, which gflags does not allow: take them out first.
  std::vector<char*> rest;
  const std::vector<std::string> overrides =
      elm::TakeSetOverrides(argc, argv, &rest);
  int rest_argc = static_cast<int>(rest.size());
  char** rest_argv = rest.data();
  gflags::SetUsageMessage(
      "--spec=<spec file> [--set a.b=value ...] [--output_dir=<dir>] "
      "[--resume]");
  gflags::ParseCommandLineFlags(&rest_argc, &rest_argv, true);
  google::InitGoogleLogging(argv[0]);
  const absl::Status status = elm::Main(overrides);
  if (!status.ok()) {
    std::fprintf(stderr, "elm: error: %s\n",
                 std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
