// A sweep over the ranks of an MPI job: under
// `mpirun -np N bazel-bin/experiments/sweep --sweep=...` rank 0 hands variant
// indices to the ranks as they free up (a manager/worker queue over plain
// MPI point-to-point messages) and runs variants itself on a second thread;
// every rank runs its variant in its own process with the spec's threads
// (RunSweepVariant, sweep.h), and rank 0 prints the progress lines and writes
// sweep.csv and sweep.html at the end. The run folders must be on a file
// system every rank sees (one machine, or a shared file system). Waiting
// ranks poll with short sleeps instead of MPI's busy-waiting, so an idle rank
// does not take a core from a working one.
//
// MPI is initialised only here, only when the process was started by
// Open MPI's mpirun (StartedByMpirun); a plain start never touches MPI.
#ifndef ELM_EXPERIMENTS_SWEEP_MPI_H_
#define ELM_EXPERIMENTS_SWEEP_MPI_H_

#include "absl/status/status.h"
#include "experiments/sweep.h"
#include "experiments/sweep_plan.h"

namespace elm {

// True when Open MPI's mpirun started this process (OMPI_COMM_WORLD_SIZE is
// set).
bool StartedByMpirun();

// This process's rank as mpirun set it (OMPI_COMM_WORLD_RANK), without
// initialising MPI; 0 when not under mpirun.
int MpirunRank();

// Initialises MPI (MPI_THREAD_FUNNELED: only the main thread calls MPI),
// runs the plan's variants over the ranks of MPI_COMM_WORLD, writes the
// report on rank 0 and finalises MPI. Every rank returns; rank 0's status
// says whether a variant failed (other ranks return OK after printing their
// own errors).
absl::Status RunSweepOnRanks(const SweepPlan& plan,
                             const SweepRunOptions& options);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_SWEEP_MPI_H_
