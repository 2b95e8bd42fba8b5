// Data-parallel training steps (see data_parallel.h).
#include "experiments/data_parallel.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "glog/logging.h"

namespace elm {

int SpecShards(const TrainSpec& train) {
  return train.shards() > 0 ? train.shards() : train.threads();
}

ShardLayout ShardLayout::Make(int shards, const MpiGroup& group) {
  CHECK_GE(shards, 1);
  ShardLayout layout;
  layout.shards = shards;
  const auto [first, end] = MpiGroup::Part(shards, group.size(), group.rank());
  layout.first = static_cast<int>(first);
  layout.end = static_cast<int>(end);
  return layout;
}

TrainMetrics ReduceShards(MpiGroup& group, const ShardLayout& layout,
                          int64_t batch, int64_t trainable,
                          std::vector<GradBlock<float>>* grads,
                          std::vector<TrainMetrics>* parts,
                          double* comm_seconds) {
  const int S = layout.shards;
  CHECK_EQ(static_cast<int>(grads->size()), S);
  CHECK_EQ(static_cast<int>(parts->size()), S);
  if (comm_seconds != nullptr) *comm_seconds = 0;
  if (group.size() > 1) {
    const auto start = std::chrono::steady_clock::now();
    // This rank's shards, each block's trainable elements then the metrics'
    // sums, to every rank.
    const size_t kSums = TrainMetrics().ToSums().size();
    std::vector<float> mine;
    mine.reserve(static_cast<size_t>(layout.local() * trainable));
    std::vector<double> sums;
    for (int s = layout.first; s < layout.end; ++s) {
      const float* g = (*grads)[s].data();
      mine.insert(mine.end(), g, g + trainable);
      const std::vector<double> v = (*parts)[s].ToSums();
      sums.insert(sums.end(), v.begin(), v.end());
    }
    std::vector<int64_t> grad_counts(group.size()), sum_counts(group.size());
    for (int r = 0; r < group.size(); ++r) {
      const auto [f, e] = MpiGroup::Part(S, group.size(), r);
      grad_counts[r] = (e - f) * trainable;
      sum_counts[r] = (e - f) * static_cast<int64_t>(kSums);
    }
    const std::vector<float> all =
        group.AllGatherKnown<float>(mine, grad_counts);
    const std::vector<double> all_sums =
        group.AllGatherKnown<double>(sums, sum_counts);
    for (int s = 0; s < S; ++s) {
      if (s >= layout.first && s < layout.end) continue;
      std::memcpy((*grads)[s].data(), all.data() + s * trainable,
                  sizeof(float) * static_cast<size_t>(trainable));
      (*parts)[s] = TrainMetrics::FromSums(
          absl::Span<const double>(all_sums.data() + s * kSums, kSums));
    }
    if (comm_seconds != nullptr) {
      *comm_seconds = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start)
                          .count();
    }
  }
  TrainMetrics metrics;
  for (int s = 0; s < S; ++s) {
    metrics.AddShard((*parts)[s], static_cast<double>(layout.End(batch, s) -
                                                      layout.Begin(batch, s)) /
                                      batch);
  }
  for (int s = 1; s < S; ++s) (*grads)[0].Add((*grads)[s]);
  return metrics;
}

}  // namespace elm
