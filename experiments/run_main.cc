// `bazel run //experiments:run -- --spec=<file> [--set a.b=value ...]
// [--output_dir=<dir>] [--resume | --overwrite]`: trains and evaluates the
// experiment of a text-format spec (experiments/proto/experiment.proto) and
// writes its run directory (experiments/trainer.h); the flags go to RunCommand
// (experiments/run_command.h). --set overrides one field of the spec and may
// be repeated; relative paths are taken from the directory `bazel run` was
// started in. Every spec in experiments/specs/ is also a target of its own
// (`bazel run //experiments:<spec name>`), which calls this binary.
//
// Under mpirun (`mpirun <MpirunOptions> -np N bazel-bin/experiments/run
// --spec=...`) the N ranks train one model data-parallel
// (experiments/data_parallel.h); rank 0 writes the run directory and prints.
// An error on any rank ends the whole job (MPI_Abort) after printing it, so
// that no rank waits forever for one that has stopped.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/mpi_group.h"
#include "experiments/run_command.h"
#include "experiments/spec.h"
#include "gflags/gflags.h"
#include "glog/logging.h"

DEFINE_string(spec, "", "the experiment spec (text-format elm.ExperimentSpec)");
DEFINE_string(output_dir, "",
              "the run directory (default: the spec's output_dir, else "
              "runs/<name>)");
DEFINE_bool(resume, false,
            "continue the run in the output directory from its latest "
            "checkpoint");
DEFINE_bool(overwrite, false,
            "start afresh over an earlier run in the output directory, "
            "deleting it (without this, such a directory is refused)");
DEFINE_string(init_from, "",
              "start afresh from the model weights of this checkpoint (a "
              "run's best.ckpt or checkpoints/latest.ckpt; same model "
              "shape): a warm start, with a fresh optimizer and schedule");
DEFINE_bool(quiet, false, "no progress output");
DEFINE_int64(stop_after_steps, -1,
             "stop after this many steps in total, after a checkpoint (to "
             "test --resume)");

int main(int argc, char** argv) {
  // Under mpirun: MPI_Init before anything else (a no-op otherwise).
  elm::MpiGroup& world = elm::MpiGroup::World();
  // --set may repeat, which gflags does not allow: take them out first.
  std::vector<char*> rest;
  elm::RunCommandOptions options;
  options.overrides = elm::TakeSetOverrides(argc, argv, &rest);
  int rest_argc = static_cast<int>(rest.size());
  char** rest_argv = rest.data();
  gflags::SetUsageMessage(
      "--spec=<spec file> [--set a.b=value ...] [--output_dir=<dir>] "
      "[--resume | --overwrite] [--init_from=<checkpoint>]");
  gflags::ParseCommandLineFlags(&rest_argc, &rest_argv, true);
  google::InitGoogleLogging(argv[0]);
  options.spec = FLAGS_spec;
  options.output_dir = FLAGS_output_dir;
  options.resume = FLAGS_resume;
  options.overwrite = FLAGS_overwrite;
  options.init_from = FLAGS_init_from;
  options.quiet = FLAGS_quiet;
  options.stop_after_steps = FLAGS_stop_after_steps;
  const absl::Status status = elm::RunCommand(options);
  if (!status.ok()) {
    if (world.size() > 1) {
      world.Abort(absl::StrCat("elm: error (rank ", world.rank(), " of ",
                               world.size(),
                               ", ending the job): ", status.message()));
    }
    std::fprintf(stderr, "elm: error: %s\n",
                 std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
