// Data-parallel training steps: a batch of B sequences is split into S
// contiguous shards (shard s: sequences [B·s/S, B·(s+1)/S)), each with its own
// gradient block, and the shards are spread over the run's MPI ranks (rank r
// computes shards [S·r/R, S·(r+1)/R)) and, within a rank, its threads. After
// the local shards are done, every rank receives every shard's gradient and
// training metrics (MPI_Allgatherv of the trainable gradient elements and of
// the metric sums) and combines them exactly as one process does: g_0 + g_1 +
// … + g_{S−1}, added left to right, and the metrics' AddShard in shard order.
// The sum is therefore bit-identical for every layout of the same S (1 rank ×
// 2 threads, 2 ranks × 1 thread, 4 ranks × 1 thread, …), and every rank steps
// the same optimizer state with it.
#ifndef ELM_EXPERIMENTS_DATA_PARALLEL_H_
#define ELM_EXPERIMENTS_DATA_PARALLEL_H_

#include <cstdint>
#include <vector>

#include "autodiff/params.h"
#include "base/mpi_group.h"
#include "experiments/proto/experiment.pb.h"
#include "experiments/task.h"

namespace elm {

// The shard count of a run's spec: train.shards, or train.threads when it is
// 0 (so that runs from before shards existed keep their results).
int SpecShards(const TrainSpec& train);

// How a step's shards are spread: `shards` in all (min(SpecShards, B)), this
// rank's [first, end).
struct ShardLayout {
  int shards = 1;
  int first = 0;
  int end = 1;

  static ShardLayout Make(int shards, const MpiGroup& group);
  int local() const { return end - first; }
  // Shard s's sequences of a batch of `batch` sequences: [b0, b1).
  int64_t Begin(int64_t batch, int s) const { return batch * s / shards; }
  int64_t End(int64_t batch, int s) const { return batch * (s + 1) / shards; }
};

// Combines a step's shards on every rank. `grads` has layout.shards blocks
// of which this rank filled [first, end); `parts` the shards' metrics, the
// same. On return grads[0] holds the sum of all shards' gradients (in shard
// order; the other blocks hold their shard's gradient) and the result is the
// batch's metrics (the shards' AddShard in order, each weighted by its share
// of the batch's `batch` sequences). `trainable` is the count of leading
// elements of each block that carry gradients (the rest stay 0 and are not
// sent). `comm_seconds`, when not null, receives the time spent in MPI.
TrainMetrics ReduceShards(MpiGroup& group, const ShardLayout& layout,
                          int64_t batch, int64_t trainable,
                          std::vector<GradBlock<float>>* grads,
                          std::vector<TrainMetrics>* parts,
                          double* comm_seconds = nullptr);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_DATA_PARALLEL_H_
