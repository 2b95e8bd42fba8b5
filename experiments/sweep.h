// Running a sweep (sweep_plan.h) in one process: `RunSweepVariant` runs one
// variant into its folder with RunExperiment (experiments/trainer.h),
// skipping it when it finished before and resuming it from its checkpoint
// when it was interrupted; `RunSweep` runs every variant one after another,
// prints a progress line per variant and writes sweep.csv and sweep.html
// (sweep_report.h). //experiments:sweep (sweep_main.cc) calls RunSweep, or,
// under mpirun, RunSweepOnRanks (sweep_mpi.h), which hands the variants to
// the ranks.
#ifndef ELM_EXPERIMENTS_SWEEP_H_
#define ELM_EXPERIMENTS_SWEEP_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "experiments/sweep_plan.h"

namespace elm {

struct SweepRunOptions {
  // No progress output from the runs themselves (the sweep's own lines are
  // still printed).
  bool quiet_runs = false;
  // For tests: every run stops after this many steps (as if interrupted);
  // -1: to the end.
  int64_t stop_after_steps = -1;
};

struct VariantOutcome {
  VariantState before = VariantState::kNew;
  bool finished = false;  // finished now (or before)
  int64_t steps = 0;      // steps done, when run now
  double wall_seconds = 0;
};

// Runs variant `index` into VariantDir(plan, index): nothing when it is
// kFinished, a resume when kPartial, a fresh run otherwise (removing a
// summary.json of another spec first). A finished run also gets its
// sweep_variant.json.
absl::StatusOr<VariantOutcome> RunSweepVariant(const SweepPlan& plan, int index,
                                               const SweepRunOptions& options);

// The progress line of variant `index` ("[3/18] branch_elm-num_memory_5-seed_0:
// done in 41.2 s; 5077 parameters; test auc 0.9542, soma_rmse_mv 1.23"), from
// its outcome (or error) and its summary.json; `suffix` is added after the
// name (e.g. " on rank 1").
std::string VariantLine(const SweepPlan& plan, int index,
                        const absl::StatusOr<VariantOutcome>& outcome,
                        const std::string& suffix = "");

// One line about the plan: the variants, how many finished and resumable,
// the output folder.
std::string PlanLine(const SweepPlan& plan);

// Runs every variant in order (progress on stdout), then writes the sweep's
// report. A failed variant does not stop the others; the error lists the
// failed ones.
absl::Status RunSweep(const SweepPlan& plan, const SweepRunOptions& options);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_SWEEP_H_
