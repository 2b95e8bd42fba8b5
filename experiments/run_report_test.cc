// Tests of the run report: the common sections (summary, loss and
// learning-rate curves, the table per epoch) around the task's own, in order.
#include "experiments/run_report.h"

#include <cmath>
#include <fstream>
#include <string>

#include "base/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::HasSubstr;

// A task with one section of each kind.
class SectionsTask : public Task {
 public:
  std::string name() const override { return "sections"; }
  int64_t num_outputs() const override { return 1; }
  std::string outputs_description() const override { return "one"; }
  Var<float> Loss(Tape<float>&, Var<float> y, const Batch&, int64_t, int64_t,
                  TrainMetrics*) const override {
    return y;
  }
  std::map<std::string, double> IntervalColumns(const TrainMetrics&,
                                                int64_t) const override {
    return {};
  }
  absl::StatusOr<EvalOutcome> Evaluate(const Dataset&, Split,
                                       const BatchPredictor&,
                                       const EvalProgress&) const override {
    return EvalOutcome();
  }
  TaskReport ReportSections(const MetricsTable& table,
                            const EvalOutcome&) const override {
    TaskReport r;
    r.loss_series.push_back(table.Series(false, "loss_spike", "the-part"));
    LinePlot curve;
    curve.series.push_back(table.Series(true, "valid_auc", "valid", true));
    r.curves.push_back({"curve-caption", RenderLinePlot(curve)});
    r.test_figures.push_back({"test-figure-caption", RenderLinePlot(curve)});
    NumberTable t;
    t.caption = "numbers-caption";
    t.header = {"a", "b"};
    t.digits = {0, 3};
    t.rows = {{7, 0.12345}, {8, std::nan("")}};
    r.test_tables.push_back(t);
    r.epoch_columns = {{"AUC-title", "valid_auc", 2},
                       {"absent-title", "no_such_column", 2}};
    return r;
  }
};

TEST(RunReportTest, CommonSectionsAroundTheTasks) {
  const std::string dir = TestTempPath("");
  std::ofstream(dir + "/metrics.csv")
      << "step,epoch,phase,loss,loss_spike,lr,valid_auc\n"
      << "2,1,train,0.5,0.25,0.01,\n"
      << "4,1,valid,,,0.01,0.875\n";
  ExperimentSpec spec;
  spec.set_name("report-name");
  spec.set_description("what-it-reproduces");
  spec.mutable_model()->mutable_elm();
  EvalOutcome test;
  test.metrics["auc"] = 0.9;
  SectionsTask task;
  RunReportInput input;
  input.spec = &spec;
  input.task = &task;
  input.output_dir = dir;
  input.num_parameters = 123;
  input.train_seconds = 4.25;
  input.steps = 4;
  input.test = &test;
  ASSERT_TRUE(WriteRunReport(input).ok());
  const std::string html = ReadTestFile(dir + "/report.html");
  EXPECT_THAT(html, HasSubstr("report-name"));
  EXPECT_THAT(html, HasSubstr("what-it-reproduces"));
  EXPECT_THAT(html, HasSubstr("123 trainable parameters"));
  EXPECT_THAT(html, HasSubstr("test auc"));
  EXPECT_THAT(html, HasSubstr("the-part"));
  // The figures in the report's order.
  const size_t loss = html.find("Loss over training steps");
  const size_t curve = html.find("curve-caption");
  const size_t lr = html.find("Learning-rate schedule");
  const size_t test_figure = html.find("test-figure-caption");
  const size_t numbers = html.find("numbers-caption");
  const size_t epochs = html.find("Validation after each epoch");
  ASSERT_NE(epochs, std::string::npos);
  EXPECT_LT(loss, curve);
  EXPECT_LT(curve, lr);
  EXPECT_LT(lr, test_figure);
  EXPECT_LT(test_figure, numbers);
  EXPECT_LT(numbers, epochs);
  // Numbers formatted with their digits, n/a where missing.
  EXPECT_THAT(html, HasSubstr("0.123"));
  EXPECT_THAT(html, HasSubstr("n/a"));
  EXPECT_THAT(html, HasSubstr("AUC-title"));
  EXPECT_THAT(html, HasSubstr("0.88"));  // valid_auc with 2 digits
}

TEST(RunReportTest, MissingMetricsIsAnError) {
  ExperimentSpec spec;
  EvalOutcome test;
  SectionsTask task;
  RunReportInput input;
  input.spec = &spec;
  input.task = &task;
  input.output_dir = TestTempPath("nowhere");
  input.test = &test;
  const absl::Status status = WriteRunReport(input);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(status.message()), HasSubstr("metrics.csv"));
}

}  // namespace
}  // namespace elm
