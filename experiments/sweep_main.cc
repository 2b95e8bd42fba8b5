// `bazel run //experiments:sweep -- --sweep=<file> [--output_dir=<dir>]
// [--list] [--quiet]`: runs every variant of a sweep
// (experiments/proto/sweep.proto) into <output_dir>/<variant>/, one after
// another, skipping finished variants and resuming interrupted ones, and
// writes sweep.csv and sweep.html there (experiments/sweep.h). Started by
// mpirun (`mpirun -np N bazel-bin/experiments/sweep --sweep=...`), the
// variants are handed to the ranks as they free up (experiments/sweep_mpi.h).
// Every sweep in experiments/specs/sweeps/ is also a target of its own.
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/mpi_group.h"
#include "base/user_path.h"
#include "experiments/sweep.h"
#include "experiments/sweep_mpi.h"
#include "experiments/sweep_plan.h"
#include "gflags/gflags.h"
#include "glog/logging.h"

DEFINE_string(sweep, "", "the sweep (text-format elm.SweepSpec)");
DEFINE_string(output_dir, "",
              "the sweep's folder (default: the sweep's output_dir, else "
              "runs/<name>)");
DEFINE_bool(list, false,
            "print the variants and their state (finished, to resume, new) "
            "and run nothing");
DEFINE_bool(quiet, false,
            "no progress output from the runs, only a line per variant "
            "(always so under mpirun)");
DEFINE_int64(stop_after_steps, -1,
             "stop every run after this many steps, after a checkpoint (to "
             "test resuming)");

namespace {

absl::Status Main() {
  if (FLAGS_sweep.empty()) {
    return absl::InvalidArgumentError(
        "--sweep is required: the path of a sweep, e.g. "
        "experiments/specs/sweeps/neuronio_dm_sweep_embedded.textproto");
  }
  const std::string path = elm::ResolveUserPath(FLAGS_sweep);
  absl::StatusOr<elm::SweepSpec> sweep = elm::ReadSweepSpecFile(path);
  if (!sweep.ok()) return sweep.status();
  absl::StatusOr<elm::SweepPlan> plan = elm::PlanSweep(
      *sweep,
      FLAGS_output_dir.empty() ? "" : elm::ResolveUserPath(FLAGS_output_dir));
  if (!plan.ok()) {
    return absl::Status(plan.status().code(),
                        absl::StrCat(path, ": ", plan.status().message()));
  }
  if (FLAGS_list) {
    if (!elm::MpiGroup::World().is_root()) return absl::OkStatus();
    std::printf("%s\n", elm::PlanLine(*plan).c_str());
    for (size_t i = 0; i < plan->variants.size(); ++i) {
      const elm::VariantState s = elm::GetVariantState(
          elm::VariantDir(*plan, i), plan->variants[i].spec);
      std::printf("[%zu/%zu] %s: %s\n", i + 1, plan->variants.size(),
                  plan->variants[i].name.c_str(),
                  s == elm::VariantState::kFinished  ? "finished"
                  : s == elm::VariantState::kPartial ? "to resume"
                                                     : "to run");
    }
    return absl::OkStatus();
  }
  elm::SweepRunOptions options;
  options.quiet_runs = FLAGS_quiet;
  options.stop_after_steps = FLAGS_stop_after_steps;
  elm::MpiGroup& world = elm::MpiGroup::World();
  if (world.uses_mpi()) {
    // Progress of concurrent runs would interleave.
    options.quiet_runs = true;
    return elm::RunSweepOnRanks(*plan, options, world);
  }
  return elm::RunSweep(*plan, options);
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "--sweep=<sweep file> [--output_dir=<dir>] [--list] [--quiet]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  // Under mpirun: MPI initialised here, on main's thread, before any other.
  const elm::MpiGroup& world = elm::MpiGroup::World();
  const absl::Status status = Main();
  if (!status.ok()) {
    // Under mpirun every rank fails alike on a bad sweep: rank 0 says so.
    if (world.is_root()) {
      std::fprintf(stderr, "elm sweep: error: %s\n",
                   std::string(status.message()).c_str());
    }
    return 1;
  }
  return 0;
}
