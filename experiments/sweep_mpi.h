// A sweep over the ranks of an MPI job: under
// `mpirun -np N bazel-bin/experiments/sweep --sweep=...` rank 0 hands variant
// indices to the ranks as they free up (a manager/worker queue over
// base/mpi_group's point-to-point messages) and runs variants itself on a
// second thread; every rank runs its variant in its own process with the
// spec's threads (RunSweepVariant, sweep.h), and rank 0 prints the progress
// lines and writes sweep.csv and sweep.html at the end. The run folders must
// be on a file system every rank sees (one machine, or a shared file system).
// Waiting ranks poll with short sleeps (MpiGroup's *Sleeping calls) instead of
// MPI's busy-waiting, so an idle rank does not take a core from a working one.
#ifndef ELM_EXPERIMENTS_SWEEP_MPI_H_
#define ELM_EXPERIMENTS_SWEEP_MPI_H_

#include "absl/status/status.h"
#include "base/mpi_group.h"
#include "experiments/sweep.h"
#include "experiments/sweep_plan.h"

namespace elm {

// Runs the plan's variants over the ranks of `group` (MpiGroup::World()
// under mpirun: its main thread is the only one that talks MPI), writes the
// report on rank 0 and waits for every rank. Every rank returns; rank 0's
// status says whether a variant failed (other ranks return OK after printing
// their own errors).
absl::Status RunSweepOnRanks(const SweepPlan& plan,
                             const SweepRunOptions& options, MpiGroup& group);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_SWEEP_MPI_H_
