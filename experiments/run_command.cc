// `bazel run //experiments:run` as a library (see run_command.h).
#include "experiments/run_command.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/mpi_group.h"
#include "base/status_macros.h"
#include "base/user_path.h"
#include "experiments/spec.h"

namespace elm {

std::string ResultLines(const std::string& name, const RunResult& result) {
  if (!result.finished) {
    return absl::StrFormat(
        "%s: stopped after %lld steps; rerun with --resume to go on\n", name,
        static_cast<long long>(result.steps));
  }
  std::string lines =
      absl::StrFormat("%s: done in %.1f s; results in %s\n", name,
                      result.train_seconds, result.output_dir);
  for (const auto& [metric, value] : result.test_metrics) {
    absl::StrAppendFormat(&lines, "  test %s = %.6g\n", metric, value);
  }
  absl::StrAppendFormat(&lines, "  report: %s/report.html\n",
                        result.output_dir);
  return lines;
}

absl::Status RunCommand(const RunCommandOptions& options) {
  if (options.spec.empty()) {
    return absl::InvalidArgumentError(
        "--spec is required: the path of an experiment spec, e.g. "
        "experiments/specs/neuronio_branch_elm_embedded.textproto");
  }
  if (options.resume && options.overwrite) {
    return absl::InvalidArgumentError(
        "--resume continues the run in the output directory and --overwrite "
        "deletes it: give one of them");
  }
  const std::string path = ResolveUserPath(options.spec);
  ASSIGN_OR_RETURN(ExperimentSpec spec, ReadExperimentSpecFile(path));
  for (const std::string& o : options.overrides) {
    RETURN_IF_ERROR(ApplySpecOverride(o, &spec));
  }
  RunOptions run;
  run.resume = options.resume;
  run.overwrite = options.overwrite;
  if (!options.init_from.empty()) {
    run.init_from = ResolveUserPath(options.init_from);
  }
  run.quiet = options.quiet;
  run.stop_after_steps = options.stop_after_steps;
  // Under mpirun the ranks train this run together.
  run.group = &MpiGroup::World();
  if (!options.output_dir.empty()) {
    run.output_dir = ResolveUserPath(options.output_dir);
  }
  absl::StatusOr<RunResult> result = RunExperiment(spec, run);
  if (!result.ok()) {
    // Name the spec in errors about its fields.
    if (result.status().code() == absl::StatusCode::kInvalidArgument) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", result.status().message()));
    }
    return result.status();
  }
  // Under mpirun, rank 0 speaks for the run.
  if (MpiGroup::World().is_root()) {
    std::fputs(ResultLines(spec.name(), *result).c_str(), stdout);
  }
  return absl::OkStatus();
}

}  // namespace elm
