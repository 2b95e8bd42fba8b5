// Tests of the training metrics' arithmetic: shards weighted by their share,
// interval sums, and the checkpoint's interval_sums order.
#include "experiments/task.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::ElementsAre;

TrainMetrics Metrics(double loss, double spike, double soma, double correct,
                     double sequences) {
  TrainMetrics m;
  m.loss = loss;
  m.spike_bce = spike;
  m.soma_mse = soma;
  m.correct = correct;
  m.sequences = sequences;
  return m;
}

TEST(TrainMetricsTest, ShardMeansAreWeightedCountsAdded) {
  TrainMetrics batch;
  batch.AddShard(Metrics(2, 4, 6, 1, 1), 0.25);
  batch.AddShard(Metrics(1, 2, 3, 2, 3), 0.75);
  EXPECT_DOUBLE_EQ(batch.loss, 0.5 + 0.75);
  EXPECT_DOUBLE_EQ(batch.spike_bce, 1 + 1.5);
  EXPECT_DOUBLE_EQ(batch.soma_mse, 1.5 + 2.25);
  EXPECT_EQ(batch.correct, 3);
  EXPECT_EQ(batch.sequences, 4);
}

TEST(TrainMetricsTest, IntervalSums) {
  TrainMetrics sums = Metrics(1, 2, 3, 4, 5);
  sums += Metrics(10, 20, 30, 40, 50);
  EXPECT_THAT(sums.ToSums(), ElementsAre(11, 22, 33, 44, 55));
}

TEST(TrainMetricsTest, SumsRoundTripInTheCheckpointsOrder) {
  const TrainMetrics m = Metrics(1.5, 0.25, 0.125, 7, 8);
  // loss, spike, soma, correct, sequences: TrainerState.interval_sums.
  EXPECT_THAT(m.ToSums(), ElementsAre(1.5, 0.25, 0.125, 7, 8));
  const TrainMetrics back = TrainMetrics::FromSums(m.ToSums());
  EXPECT_THAT(back.ToSums(), ElementsAre(1.5, 0.25, 0.125, 7, 8));
  // Fewer values (an older checkpoint): the rest are 0; extra ones ignored.
  const std::vector<double> short_sums = {3, 2};
  EXPECT_THAT(TrainMetrics::FromSums(short_sums).ToSums(),
              ElementsAre(3, 2, 0, 0, 0));
  const std::vector<double> long_sums = {1, 2, 3, 4, 5, 6};
  EXPECT_THAT(TrainMetrics::FromSums(long_sums).ToSums(),
              ElementsAre(1, 2, 3, 4, 5));
}

}  // namespace
}  // namespace elm
