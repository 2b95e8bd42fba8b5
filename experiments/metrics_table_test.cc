// Tests of metrics.csv's columns and reading it back.
#include "experiments/metrics_table.h"

#include <cmath>
#include <fstream>
#include <string>

#include "base/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::ElementsAre;

TEST(MetricsCsvColumnsTest, StepEpochPhaseThenValues) {
  const std::vector<std::string>& c = MetricsCsvColumns();
  ASSERT_GE(c.size(), 4u);
  EXPECT_EQ(c[0], "step");
  EXPECT_EQ(c[1], "epoch");
  EXPECT_EQ(c[2], "phase");
  for (const char* name :
       {"loss", "loss_spike", "loss_soma", "accuracy", "lr", "steps_per_s",
        "data_wait_s", "valid_loss", "valid_accuracy", "valid_auc",
        "valid_soma_rmse_mv", "valid_soma_explained_variance_percent"}) {
    EXPECT_THAT(c, ::testing::Contains(name));
  }
}

TEST(MetricsTableTest, ReadsBackByPhaseAndColumn) {
  const std::string path = TestTempPath("metrics.csv");
  std::ofstream(path) << "step,epoch,phase,loss,valid_auc\n"
                      << "2,1,train,0.5,\n"
                      << "4,1,train,,\n"
                      << "4,1,valid,,0.75\n"
                      << "6,2,train,0.25\n"  // short: skipped
                      << "8,2,valid,,0.8\n";
  absl::StatusOr<MetricsTable> t = ReadMetricsTable(path);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->Column("loss"), 3);
  EXPECT_EQ(t->Column("absent"), -1);
  ASSERT_EQ(t->train_rows.size(), 2u);
  ASSERT_EQ(t->valid_rows.size(), 2u);
  EXPECT_TRUE(std::isnan(t->train_rows[1][3]));

  const PlotSeries loss = t->Series(/*valid=*/false, "loss", "train");
  EXPECT_EQ(loss.name, "train");
  EXPECT_THAT(loss.x, ElementsAre(2));  // the blank is skipped
  EXPECT_THAT(loss.y, ElementsAre(0.5));
  const PlotSeries auc =
      t->Series(/*valid=*/true, "valid_auc", "valid", /*by_epoch=*/true);
  EXPECT_THAT(auc.x, ElementsAre(1, 2));
  EXPECT_THAT(auc.y, ElementsAre(0.75, 0.8));
  EXPECT_TRUE(t->Series(false, "absent", "x").x.empty());
}

TEST(MetricsTableTest, MissingFileIsNotFound) {
  absl::StatusOr<MetricsTable> t = ReadMetricsTable(TestTempPath("nope.csv"));
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(t.status().message()),
              ::testing::HasSubstr("nope.csv"));
}

}  // namespace
}  // namespace elm
