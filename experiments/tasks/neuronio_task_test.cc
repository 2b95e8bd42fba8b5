// Tests of the NeuronIO task: the loss and its logged parts on a shard, the
// metrics.csv values, the evaluation of generated data through a predictor
// (the reference protocol's outcome, in the reference's names and order), and
// the report sections.
#include "experiments/tasks/neuronio_task.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/test_files.h"
#include "data/dataset_factory.h"
#include "data/neuronio_generator.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "io/neuronio_compact.h"

namespace elm {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

ExperimentSpec TinySpec() {
  ExperimentSpec spec;
  CHECK(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        data {
          neuronio {
            window_ms: 100
            ignore_start_ms: 100
            generate {
              num_train_files: 0
              num_valid_files: 0
              num_test_files: 1
              simulations_per_file: 8
              duration_ms: 1200
            }
          }
          seed: 3
        }
        eval { window_ms: 200 burn_in_ms: 50 ignore_start_ms: 100 }
      )pb",
      &spec));
  return spec;
}

double Bce(double z, double target) {
  return std::max(z, 0.0) - z * target + std::log1p(std::exp(-std::abs(z)));
}

TEST(NeuronioTaskTest, LossOfAShardAndItsParts) {
  const NeuronioTask task{ExperimentSpec()};
  EXPECT_EQ(task.name(), kNeuronioTaskName);
  EXPECT_EQ(task.num_outputs(), 2);
  // B = 2 sequences of T = 2 steps; the shard is sequence 1.
  Batch batch;
  batch.batch = 2;
  batch.steps = 2;
  batch.spike = {0, 0, 1, 0};
  batch.soma = {0, 0, 0.5, 0.25};
  const std::vector<float> y = {1.5f, 0.25f, -0.5f, 1.0f};  // [2 rows, 2]
  Tape<float> tape;
  Var<float> out = tape.Constant(y.data(), 2, 2);
  TrainMetrics m;
  const Var<float> loss = task.Loss(tape, out, batch, 1, 2, &m);
  const double bce = (Bce(1.5, 1) + Bce(-0.5, 0)) / 2;
  const double mse = ((0.25 - 0.5) * (0.25 - 0.5) + 0.75 * 0.75) / 2;
  EXPECT_NEAR(m.spike_bce, bce, 1e-12);
  EXPECT_NEAR(m.soma_mse, mse, 1e-12);
  EXPECT_NEAR(loss.value[0], 0.5 * bce + 0.5 * mse, 1e-6);
  EXPECT_EQ(m.loss, loss.value[0]);
  EXPECT_EQ(m.correct, 0);
  EXPECT_EQ(m.sequences, 1);
}

TEST(NeuronioTaskTest, IntervalColumnsAreMeansOverSteps) {
  const NeuronioTask task{ExperimentSpec()};
  TrainMetrics sums;
  sums.loss = 3;
  sums.spike_bce = 1;
  sums.soma_mse = 2;
  sums.sequences = 8;
  EXPECT_THAT(task.IntervalColumns(sums, 4),
              ElementsAre(Pair("loss", 0.75), Pair("loss_soma", 0.5),
                          Pair("loss_spike", 0.25)));
}

TEST(NeuronioTaskTest, EvaluatesGeneratedDataByTheReferenceProtocol) {
  const ExperimentSpec spec = TinySpec();
  absl::StatusOr<std::unique_ptr<Dataset>> data = MakeDataset(spec.data());
  ASSERT_TRUE(data.ok()) << data.status();
  const NeuronioTask task(spec);
  EXPECT_EQ(task.EvaluationFiles(**data, Split::kTest).size(), 1u);
  EXPECT_TRUE(task.EvaluationFiles(**data, Split::kValid).empty());
  // A constant prediction: chance AUC, the soma recalibrated to the mean.
  int calls = 0;
  const BatchPredictor constant = [&calls](const Batch& b) {
    ++calls;
    return std::vector<float>(b.batch * b.steps * 2, 0.0f);
  };
  std::vector<int> progress;
  absl::StatusOr<EvalOutcome> out =
      task.Evaluate(**data, Split::kTest, constant,
                    [&](int done, int total) { progress.push_back(total); });
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_GT(calls, 0);
  EXPECT_THAT(progress, ElementsAre(1));
  EXPECT_DOUBLE_EQ(out->metrics.at("auc"), 0.5);
  EXPECT_EQ(out->selection, out->metrics.at("soma_rmse_mv"));
  EXPECT_THAT(out->summary, HasSubstr("AUC 0.5000"));
  std::vector<std::string> names;
  for (const auto& [name, value] : out->reported) names.push_back(name);
  EXPECT_THAT(names, ElementsAre("AUC", "TP @ 0.0025 FP", "TP @ 0.0100 FP",
                                 "AUC @ 0.0025 FP", "AUC @ 0.0100 FP",
                                 "soma_explained_variance_percent", "soma_RMSE",
                                 "soma_MAE"));
  EXPECT_EQ(out->reported[6].second, out->metrics.at("soma_rmse_mv"));
  ASSERT_EQ(out->scored.size(), 2u);
  EXPECT_EQ(out->scored[0].first, "num_simulations");
  EXPECT_THAT(out->scored[1], Pair("num_simulations_total", 8));
  ASSERT_NE(out->details, nullptr);

  // No file in the split: an error naming it.
  absl::StatusOr<EvalOutcome> none =
      task.Evaluate(**data, Split::kValid, constant, nullptr);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("valid"));

  // The report: the loss parts, two validation curves, and the test ROC
  // curves and trace.
  const TaskReport report = task.ReportSections(MetricsTable(), *out);
  ASSERT_EQ(report.loss_series.size(), 2u);
  EXPECT_EQ(report.loss_series[0].name, "spike (BCE)");
  EXPECT_EQ(report.curves.size(), 2u);
  ASSERT_EQ(report.test_figures.size(), 3u);
  EXPECT_THAT(report.test_figures[0].caption, HasSubstr("ROC"));
  EXPECT_TRUE(report.test_figures[2].wide);
  EXPECT_TRUE(report.test_tables.empty());
  ASSERT_EQ(report.epoch_columns.size(), 3u);
  EXPECT_EQ(report.epoch_columns[1].csv_column, "valid_soma_rmse_mv");
}

// Issue 18 item 3: eval.ignore_start_ms at or above the on-disk files'
// length was found only by the first validation, after an epoch of training.
TEST(NeuronioTaskTest, CheckEvaluationReadsTheFilesLengthBeforeTraining) {
  ExperimentSpec generated = TinySpec();
  generated.mutable_data()
      ->mutable_neuronio()
      ->mutable_generate()
      ->set_num_valid_files(1);
  generated.mutable_data()
      ->mutable_neuronio()
      ->mutable_generate()
      ->set_num_train_files(1);
  absl::StatusOr<std::unique_ptr<Dataset>> made = MakeDataset(generated.data());
  ASSERT_TRUE(made.ok()) << made.status();
  const auto& files =
      dynamic_cast<const GeneratedNeuronioDataset&>(**made).files(Split::kTest);
  ASSERT_EQ(files.size(), 1u);
  const std::string path = TestTempPath("check_eval.elmnio");
  ASSERT_TRUE(WriteNeuronioCompact(files[0], path).ok());

  ExperimentSpec spec = TinySpec();
  NeuronioSpec* n = spec.mutable_data()->mutable_neuronio();
  n->clear_generate();
  n->add_train_files(path);
  n->add_valid_files(path);
  n->add_test_files(path);
  absl::StatusOr<std::unique_ptr<Dataset>> disk = MakeDataset(spec.data());
  ASSERT_TRUE(disk.ok()) << disk.status();
  EXPECT_TRUE(NeuronioTask(spec).CheckEvaluation(**disk).ok());
  // The simulations last 1200 ms.
  spec.mutable_eval()->set_ignore_start_ms(1200);
  absl::Status s = NeuronioTask(spec).CheckEvaluation(**disk);
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr("eval.ignore_start_ms = 1200"), HasSubstr(path),
                    HasSubstr("1200 ms"), HasSubstr("the valid split")))
      << s;
  spec.mutable_eval()->set_ignore_start_ms(1199);
  EXPECT_TRUE(NeuronioTask(spec).CheckEvaluation(**disk).ok());
  spec.mutable_eval()->set_window_ms(1201);
  s = NeuronioTask(spec).CheckEvaluation(**disk);
  EXPECT_THAT(s.message(), HasSubstr("eval.window_ms = 1201")) << s;
  spec.mutable_eval()->set_window_ms(200);
  EXPECT_TRUE(NeuronioTask(spec).CheckEvaluation(**disk).ok());
  // What the training sampler would refuse at its first batch: more
  // simulations than a file holds (8), windows that do not fit.
  spec.mutable_train()->set_batch_size(9);
  s = NeuronioTask(spec).CheckEvaluation(**disk);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("train.batch_size = 9"),
                                 HasSubstr(path), HasSubstr("holds 8")))
      << s;
  spec.mutable_train()->set_batch_size(8);
  spec.mutable_data()->mutable_neuronio()->set_ignore_start_ms(1100);
  s = NeuronioTask(spec).CheckEvaluation(**disk);
  EXPECT_THAT(s.message(),
              HasSubstr("window_ms + ignore_start_ms = 1200; expected below"))
      << s;
  // Generated data: the same check on the files in memory.
  generated.mutable_eval()->set_ignore_start_ms(1200);
  s = NeuronioTask(generated).CheckEvaluation(**made);
  EXPECT_THAT(s.message(), HasSubstr("eval.ignore_start_ms = 1200")) << s;
}

}  // namespace
}  // namespace elm
