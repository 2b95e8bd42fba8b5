// The experiment runner: trains and evaluates the model of an ExperimentSpec
// and writes the run directory. `RunExperiment` validates the spec, builds the
// data (data/dataset_factory.h) and the model (model_registry.h), trains with
// the model's fused path, the batch split into `train.shards` shards (one tape
// and gradient block each, summed in shard order, so a run is deterministic
// for a seed and a shard count) spread over the threads and, under mpirun,
// the ranks of the run (experiments/data_parallel.h; rank 0 alone writes the
// run directory), validates after every epoch,
// keeps the best model, checkpoints atomically, resumes exactly, and ends with
// a test evaluation and a report.
//
// The run directory (ExperimentSpec.output_dir, or RunOptions.output_dir):
//   spec.textproto         the resolved spec
//   metrics.csv            one row per logging interval (train) and per
//                          epoch (valid): step, epoch, phase, losses, lr,
//                          throughput, data wait, validation metrics
//   checkpoints/latest.ckpt  model, optimizer and trainer state (resume)
//   best.ckpt              the weights of the best validation epoch (a copy,
//                          loadable by //elm:forward for ELM models and by
//                          //experiments:evaluate for any model)
//   summary.json           final test metrics, parameter count, wall time,
//                          steps/s, data wait
//   report.html            loss curves, ROC or accuracy curves, a test trace
//                          plot, the spec (self-contained; SVG figures)
//   .lock                  locked (flock) while a run uses the directory: a
//                          second run on it refuses to start
// A loss or gradient that is NaN or infinite stops the run with an error
// naming the step and the tensor; checkpoints written before it are kept.
#ifndef ELM_EXPERIMENTS_TRAINER_H_
#define ELM_EXPERIMENTS_TRAINER_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "base/mpi_group.h"
#include "experiments/proto/experiment.pb.h"

namespace elm {

struct RunOptions {
  // Continue from <output_dir>/checkpoints/latest.ckpt (whose spec must equal
  // this one). Without it, a run starts afresh, and an output_dir that holds
  // an earlier run is refused unless `overwrite` (experiments/run_dir.h).
  bool resume = false;
  // Starting afresh, first delete an earlier run in output_dir.
  bool overwrite = false;
  // Starting afresh (not with `resume`): load the model's weights (every
  // tensor of its state dict, by name and shape) from this checkpoint, e.g.
  // an easier run's best.ckpt; the optimizer state, step and schedule start
  // fresh. Empty: the spec's initialisation.
  std::string init_from;
  // Overrides spec.output_dir when not empty; used as given (callers resolve
  // relative paths with ResolveUserPath).
  std::string output_dir;
  // For tests: stop after this many steps in total (as if interrupted), right
  // after writing a checkpoint; -1: run to the end.
  int64_t stop_after_steps = -1;
  // No progress output (errors are still returned).
  bool quiet = false;
  // The processes training this one model together (data-parallel, see
  // experiments/data_parallel.h); every rank calls RunExperiment with the
  // same spec and options, rank 0 writes the run directory. Null: this
  // process alone (also under mpirun, e.g. a sweep's worker). The runner
  // passes &MpiGroup::World().
  MpiGroup* group = nullptr;
};

struct RunResult {
  std::string output_dir;
  int64_t steps = 0;      // optimizer steps done
  bool finished = false;  // trained to the end and tested
  int64_t num_parameters = 0;
  double train_seconds = 0;
  // Of train_seconds, the seconds spent waiting for the next batch (in the
  // sampler: loading files not prefetched in time, cutting batches).
  double data_wait_seconds = 0;
  // The test metrics by name (NeuronIO: auc, soma_rmse_mv, ...;
  // classification: accuracy, loss), empty when not finished.
  std::map<std::string, double> test_metrics;
  // The best validation epoch, numbered from 1 as in the log, metrics.csv and
  // summary.json (0: none), and the selection metric there.
  int best_epoch = 0;
  double best_metric = 0;
};

// Runs `spec` (validated first: a bad spec is an InvalidArgument naming the
// field). Progress goes to stderr: one live line on a terminal, plain lines
// otherwise.
absl::StatusOr<RunResult> RunExperiment(const ExperimentSpec& spec,
                                        const RunOptions& options);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_TRAINER_H_
