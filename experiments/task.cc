// The training metrics' arithmetic (see task.h).
#include "experiments/task.h"

#include <iterator>

namespace elm {

void TrainMetrics::AddShard(const TrainMetrics& shard, double share) {
  loss += share * shard.loss;
  spike_bce += share * shard.spike_bce;
  soma_mse += share * shard.soma_mse;
  correct += shard.correct;
  sequences += shard.sequences;
}

TrainMetrics& TrainMetrics::operator+=(const TrainMetrics& other) {
  loss += other.loss;
  spike_bce += other.spike_bce;
  soma_mse += other.soma_mse;
  correct += other.correct;
  sequences += other.sequences;
  return *this;
}

std::vector<double> TrainMetrics::ToSums() const {
  return {loss, spike_bce, soma_mse, correct, sequences};
}

TrainMetrics TrainMetrics::FromSums(absl::Span<const double> sums) {
  TrainMetrics m;
  double* fields[] = {&m.loss, &m.spike_bce, &m.soma_mse, &m.correct,
                      &m.sequences};
  for (size_t i = 0; i < sums.size() && i < std::size(fields); ++i) {
    *fields[i] = sums[i];
  }
  return m;
}

}  // namespace elm
