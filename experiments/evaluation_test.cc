// Tests of the Evaluator: forward passes split by sequences over the thread
// pool and put back in order, and the evaluation handed to the task with the
// predictor and the progress callback.
#include "experiments/evaluation.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::ElementsAre;

// Outputs per row r: [row's first input value, r within the call].
class EchoModel : public SequenceModel {
 public:
  EchoModel() { params_.Add("w", 1, 1); }
  ParamSet<float>& params() override { return params_; }
  const ParamSet<float>& params() const override { return params_; }
  Var<float> Forward(Tape<float>& tape, const CsrView& x, int64_t steps,
                     GradBlock<float>* grads) override {
    std::vector<float> y(x.rows * 2);
    for (int64_t r = 0; r < x.rows; ++r) {
      y[r * 2] =
          x.row_begin[r + 1] > x.row_begin[r] ? x.value[x.row_begin[r]] : 0.0f;
      y[r * 2 + 1] = static_cast<float>(r);
    }
    return tape.Leaf(y.data(), x.rows, 2);  // a copy
  }
  std::vector<NamedTensor> StateDict() const override { return {}; }
  absl::Status LoadStateDict(absl::Span<const NamedTensor>,
                             absl::string_view) override {
    return absl::OkStatus();
  }

 private:
  ParamSet<float> params_;
};

// B sequences of T steps, one input per row valued b·T + t.
Batch RowNumbered(int64_t B, int64_t T) {
  Batch b;
  b.batch = B;
  b.steps = T;
  b.inputs.rows = B * T;
  b.inputs.cols = 1;
  b.inputs.row_begin.push_back(0);
  for (int64_t r = 0; r < B * T; ++r) {
    b.inputs.col.push_back(0);
    b.inputs.value.push_back(static_cast<float>(r));
    b.inputs.row_begin.push_back(r + 1);
  }
  return b;
}

// A task whose evaluation predicts one batch and reports its outputs' sum.
class SumTask : public Task {
 public:
  std::string name() const override { return "sum"; }
  int64_t num_outputs() const override { return 2; }
  std::string outputs_description() const override { return "two"; }
  Var<float> Loss(Tape<float>&, Var<float> y, const Batch&, int64_t, int64_t,
                  TrainMetrics*) const override {
    return y;
  }
  std::map<std::string, double> IntervalColumns(const TrainMetrics&,
                                                int64_t) const override {
    return {};
  }
  absl::StatusOr<EvalOutcome> Evaluate(
      const Dataset&, Split split, const BatchPredictor& predict,
      const EvalProgress& progress) const override {
    EvalOutcome out;
    double sum = 0;
    for (float v : predict(RowNumbered(3, 2))) sum += v;
    out.metrics["sum"] = sum;
    out.summary = SplitName(split);
    if (progress) progress(1, 1);
    return out;
  }
  TaskReport ReportSections(const MetricsTable&,
                            const EvalOutcome&) const override {
    return {};
  }
};

class NoData : public Dataset {
 public:
  const DatasetInfo& info() const override { return info_; }
  absl::StatusOr<std::unique_ptr<BatchSampler>> MakeSampler(
      Split, int, uint64_t) const override {
    return absl::UnimplementedError("no data");
  }

 private:
  DatasetInfo info_;
};

TEST(EvaluatorTest, PredictKeepsTheSequencesInOrderOnAnyThreadCount) {
  EchoModel model;
  SumTask task;
  NoData data;
  const Batch batch = RowNumbered(3, 2);
  for (int threads : {1, 2, 4}) {
    SCOPED_TRACE(threads);
    ThreadPool pool(threads);
    Evaluator evaluator(task, data, &model, &pool);
    const std::vector<float> y = evaluator.Predict(batch);
    ASSERT_EQ(y.size(), 12u);
    for (int r = 0; r < 6; ++r) EXPECT_EQ(y[r * 2], r);
  }
  // With 2 threads: shards of 1 and 2 sequences, rows counted per shard.
  ThreadPool pool(2);
  Evaluator evaluator(task, data, &model, &pool);
  const std::vector<float> y = evaluator.Predict(batch);
  EXPECT_THAT(std::vector<float>({y[1], y[3], y[5], y[7], y[9], y[11]}),
              ElementsAre(0, 1, 0, 1, 2, 3));
}

TEST(EvaluatorTest, EvaluateGoesThroughTheTask) {
  EchoModel model;
  SumTask task;
  NoData data;
  ThreadPool pool(1);
  Evaluator evaluator(task, data, &model, &pool);
  int progress = 0;
  evaluator.set_progress([&progress](int, int) { ++progress; });
  absl::StatusOr<EvalOutcome> out = evaluator.Evaluate(Split::kValid);
  ASSERT_TRUE(out.ok()) << out.status();
  // Inputs 0..5 and row indices 0..5 in one shard.
  EXPECT_EQ(out->metrics.at("sum"), 15 + 15);
  EXPECT_EQ(out->summary, "valid");
  EXPECT_EQ(progress, 1);
}

}  // namespace
}  // namespace elm
