// Tests of the classification task: the cross-entropy of a shard and its
// correct count, the metrics.csv values, the evaluation of a fixed split
// through a predictor (last-step and mean readouts, the selection value, the
// errors), and the report sections.
#include "experiments/tasks/classification_task.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr int kClasses = 3;
constexpr int64_t kSteps = 2;

// A test split of 6 sequences of kSteps steps labelled 0, 1, 2, 0, 1, 2; the
// valid split is sampled (no fixed size).
class FixedDataset : public Dataset {
 public:
  FixedDataset() {
    info_.name = "fixed";
    info_.input_dim = 1;
    info_.steps = kSteps;
    info_.num_classes = kClasses;
  }
  const DatasetInfo& info() const override { return info_; }
  int64_t num_sequences(Split split) const override {
    return split == Split::kTest ? 6 : 0;
  }
  absl::StatusOr<std::unique_ptr<BatchSampler>> MakeSampler(
      Split split, int batch_size, uint64_t seed) const override {
    class Sampler : public BatchSampler {
     public:
      explicit Sampler(int batch_size) : batch_size_(batch_size) {}
      absl::StatusOr<Batch> Next() override {
        Batch b;
        b.batch = batch_size_;
        b.steps = kSteps;
        b.inputs.rows = batch_size_ * kSteps;
        b.inputs.cols = 1;
        b.inputs.row_begin.assign(batch_size_ * kSteps + 1, 0);
        for (int i = 0; i < batch_size_; ++i) {
          b.labels.push_back(next_++ % kClasses);
        }
        return b;
      }

     private:
      int batch_size_;
      int next_ = 0;
    };
    return std::unique_ptr<BatchSampler>(new Sampler(batch_size));
  }

 private:
  DatasetInfo info_;
};

ExperimentSpec Spec(ModelSpec::Readout readout) {
  ExperimentSpec spec;
  spec.mutable_model()->set_readout(readout);
  spec.mutable_eval()->set_batch_size(3);
  return spec;
}

// Outputs [B·T, C] whose last step puts 2 on the label (on class 0 for the
// 6th sequence seen: wrong) and whose first step puts 4 on class 2.
std::vector<float> Predict(const Batch& b, int* seen) {
  std::vector<float> y(b.batch * kSteps * kClasses, 0.0f);
  for (int64_t s = 0; s < b.batch; ++s) {
    const int64_t predicted = ++*seen == 6 ? 0 : b.labels[s];
    y[(s * kSteps + 0) * kClasses + 2] = 4;
    y[(s * kSteps + kSteps - 1) * kClasses + predicted] = 2;
  }
  return y;
}

TEST(ClassificationTaskTest, LossOfAShardAndItsCorrectCount) {
  const ClassificationTask task(kClasses, Spec(ModelSpec::LAST_STEP));
  EXPECT_EQ(task.num_outputs(), kClasses);
  Batch batch;
  batch.batch = 3;
  batch.steps = kSteps;
  batch.labels = {0, 1, 2};
  int seen = 0;
  const std::vector<float> all = Predict(batch, &seen);
  // The shard [1, 3): sequences labelled 1 and 2, both predicted right.
  Tape<float> tape;
  Var<float> y =
      tape.Constant(all.data() + kSteps * kClasses, 2 * kSteps, kClasses);
  TrainMetrics m;
  const Var<float> loss = task.Loss(tape, y, batch, 1, 3, &m);
  const double ce = std::log(std::exp(2.0) + 2.0) - 2.0;  // each sequence
  EXPECT_NEAR(loss.value[0], ce, 1e-6);
  EXPECT_EQ(m.loss, loss.value[0]);
  EXPECT_EQ(m.correct, 2);
  EXPECT_EQ(m.sequences, 2);
  EXPECT_EQ(m.spike_bce, 0);
}

TEST(ClassificationTaskTest, IntervalColumns) {
  const ClassificationTask task(kClasses, Spec(ModelSpec::LAST_STEP));
  TrainMetrics sums;
  sums.loss = 3;
  sums.correct = 6;
  sums.sequences = 8;
  EXPECT_THAT(task.IntervalColumns(sums, 2),
              ElementsAre(Pair("accuracy", 0.75), Pair("loss", 1.5)));
}

TEST(ClassificationTaskTest, EvaluatesTheFixedSplit) {
  const FixedDataset data;
  const ClassificationTask task(kClasses, Spec(ModelSpec::LAST_STEP));
  int seen = 0;
  const BatchPredictor predict = [&seen](const Batch& b) {
    return Predict(b, &seen);
  };
  absl::StatusOr<EvalOutcome> out =
      task.Evaluate(data, Split::kTest, predict, nullptr);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(seen, 6);  // two batches of 3
  EXPECT_DOUBLE_EQ(out->metrics.at("accuracy"), 5.0 / 6.0);
  EXPECT_EQ(out->metrics.at("sequences"), 6);
  EXPECT_DOUBLE_EQ(out->selection, 1.0 - 5.0 / 6.0);
  const double ce_right = std::log(std::exp(2.0) + 2.0) - 2.0;
  const double ce_wrong = std::log(std::exp(2.0) + 2.0);
  EXPECT_NEAR(out->metrics.at("loss"), (5 * ce_right + ce_wrong) / 6, 1e-12);
  EXPECT_THAT(out->summary, HasSubstr("accuracy 0.8333"));
  std::vector<std::string> names;
  for (const auto& [name, value] : out->reported) names.push_back(name);
  EXPECT_THAT(names, ElementsAre("accuracy", "balanced_accuracy", "loss"));
  EXPECT_THAT(out->scored, ElementsAre(Pair("num_sequences", 6)));

  // The report: the confusion matrix and the per-class table (class 2's
  // second sequence went to class 0).
  const TaskReport report = task.ReportSections(MetricsTable(), *out);
  ASSERT_EQ(report.loss_series.size(), 1u);
  EXPECT_EQ(report.curves.size(), 1u);
  ASSERT_EQ(report.test_figures.size(), 1u);
  EXPECT_THAT(report.test_figures[0].caption, HasSubstr("confusion"));
  ASSERT_EQ(report.test_tables.size(), 1u);
  const NumberTable& per_class = report.test_tables[0];
  EXPECT_THAT(per_class.digits, ElementsAre(0, 4, 0));
  ASSERT_EQ(per_class.rows.size(), 3u);
  EXPECT_THAT(per_class.rows[2], ElementsAre(2, 0.5, 2));
  EXPECT_THAT(per_class.rows[0], ElementsAre(0, 1.0, 2));
}

TEST(ClassificationTaskTest, MeanReadoutAndLossSelection) {
  const FixedDataset data;
  ExperimentSpec spec = Spec(ModelSpec::MEAN_OVER_STEPS);
  spec.mutable_eval()->set_selection(EvalSpec::VALID_LOSS);
  const ClassificationTask task(kClasses, spec);
  int seen = 0;
  absl::StatusOr<EvalOutcome> out = task.Evaluate(
      data, Split::kTest, [&seen](const Batch& b) { return Predict(b, &seen); },
      nullptr);
  ASSERT_TRUE(out.ok()) << out.status();
  // The mean over the two steps puts 2 on class 2 and 1 on the label: class
  // 2 wins everywhere.
  EXPECT_DOUBLE_EQ(out->metrics.at("accuracy"), 2.0 / 6.0);
  EXPECT_EQ(out->selection, out->metrics.at("loss"));
}

TEST(ClassificationTaskTest, SampledSplitNeedsABatchCount) {
  const FixedDataset data;
  const ClassificationTask task(kClasses, Spec(ModelSpec::LAST_STEP));
  int seen = 0;
  const BatchPredictor predict = [&seen](const Batch& b) {
    return Predict(b, &seen);
  };
  absl::StatusOr<EvalOutcome> out =
      task.Evaluate(data, Split::kValid, predict, nullptr);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(out.status().message()),
              HasSubstr("eval.valid_batches"));
  ExperimentSpec big = Spec(ModelSpec::LAST_STEP);
  big.mutable_eval()->set_batch_size(7);
  out = ClassificationTask(kClasses, big)
            .Evaluate(data, Split::kTest, predict, nullptr);
  EXPECT_THAT(std::string(out.status().message()),
              HasSubstr("eval.batch_size = 7"));
}

TEST(ClassificationTaskTest,
     CheckEvaluationFindsBeforeTrainingWhatEvaluateWould) {
  const FixedDataset data;
  // The valid split is sampled: without eval.valid_batches, refused now.
  absl::Status s = ClassificationTask(kClasses, Spec(ModelSpec::LAST_STEP))
                       .CheckEvaluation(data);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("eval.valid_batches"));
  ExperimentSpec spec = Spec(ModelSpec::LAST_STEP);
  spec.mutable_eval()->set_valid_batches(2);
  EXPECT_TRUE(ClassificationTask(kClasses, spec).CheckEvaluation(data).ok());
  // An eval.batch_size above the 6 test sequences (issue 18: SHD's
  // validation split), refused now rather than after an epoch.
  spec.mutable_eval()->set_batch_size(7);
  s = ClassificationTask(kClasses, spec).CheckEvaluation(data);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("eval.batch_size = 7 is above the 6 sequences of the "
                        "test split"));
}

}  // namespace
}  // namespace elm
