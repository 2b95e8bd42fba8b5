// The classification task (see classification_task.h).
#include "experiments/tasks/classification_task.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "autodiff/ops.h"
#include "base/status_macros.h"
#include "elm/heads.h"
#include "glog/logging.h"

namespace elm {

ClassificationTask::ClassificationTask(int num_classes,
                                       const ExperimentSpec& spec)
    : num_classes_(num_classes), spec_(spec) {
  CHECK_GT(num_classes, 0);
}

Var<float> ClassificationTask::Loss(Tape<float>& tape, Var<float> y,
                                    const Batch& batch, int64_t b0, int64_t b1,
                                    TrainMetrics* metrics) const {
  CHECK_EQ(y.rows, (b1 - b0) * batch.steps);
  CHECK_EQ(y.cols, num_classes_);
  Var<float> logits =
      ClassReadout(tape, y, batch.steps,
                   spec_.model().readout() == ModelSpec::MEAN_OVER_STEPS
                       ? Readout::kMeanOverSteps
                       : Readout::kLastStep);
  std::vector<int64_t> labels(batch.labels.begin() + b0,
                              batch.labels.begin() + b1);
  Var<float> loss = SoftmaxCrossEntropy<float>(tape, logits, labels);
  *metrics = TrainMetrics();
  for (int64_t i = 0; i < b1 - b0; ++i) {
    const float* row = logits.value + i * logits.cols;
    const int64_t arg = std::max_element(row, row + logits.cols) - row;
    metrics->correct += arg == labels[i] ? 1 : 0;
  }
  metrics->loss = loss.value[0];
  metrics->sequences = static_cast<double>(b1 - b0);
  return loss;
}

std::map<std::string, double> ClassificationTask::IntervalColumns(
    const TrainMetrics& sums, int64_t steps) const {
  return {{"loss", sums.loss / static_cast<double>(steps)},
          {"accuracy", sums.correct / sums.sequences}};
}

// The number of batches an evaluation of `split` takes.
absl::StatusOr<int64_t> ClassificationTask::EvalBatches(const Dataset& dataset,
                                                        Split split) const {
  const EvalSpec& e = spec_.eval();
  const int batch_size = e.batch_size();
  const int64_t limit =
      split == Split::kTest ? e.test_batches() : e.valid_batches();
  if (limit != 0) return limit;
  const int64_t n = dataset.num_sequences(split);
  if (n == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the ", SplitName(split), " split of the ", dataset.info().name,
        " data is sampled, not a fixed set: set eval.",
        split == Split::kTest ? "test_batches" : "valid_batches"));
  }
  if (n / batch_size == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("eval.batch_size = ", batch_size, " is above the ", n,
                     " sequences of the ", SplitName(split), " split"));
  }
  return n / batch_size;
}

absl::Status ClassificationTask::CheckEvaluation(const Dataset& dataset) const {
  // What the first training batch would refuse (e.g. a train.batch_size
  // above the training split).
  if (absl::Status train =
          dataset
              .MakeSampler(Split::kTrain, spec_.train().batch_size(),
                           spec_.data().seed())
              .status();
      !train.ok()) {
    return absl::Status(train.code(), absl::StrCat("train.batch_size = ",
                                                   spec_.train().batch_size(),
                                                   ": ", train.message()));
  }
  for (const Split split : {Split::kValid, Split::kTest}) {
    RETURN_IF_ERROR(EvalBatches(dataset, split).status());
    // The sampler's own checks (e.g. too few samples for one batch).
    RETURN_IF_ERROR(
        dataset
            .MakeSampler(split, spec_.eval().batch_size(), spec_.data().seed())
            .status());
  }
  return absl::OkStatus();
}

absl::StatusOr<EvalOutcome> ClassificationTask::Evaluate(
    const Dataset& dataset, Split split, const BatchPredictor& predict,
    const EvalProgress& /*progress*/) const {
  const EvalSpec& e = spec_.eval();
  const int batch_size = e.batch_size();
  ASSIGN_OR_RETURN(const int64_t batches, EvalBatches(dataset, split));
  const int C = num_classes_;
  ASSIGN_OR_RETURN(std::unique_ptr<BatchSampler> sampler,
                   dataset.MakeSampler(split, batch_size, spec_.data().seed()));
  const auto [held_begin, held_end] = predict.Held(batch_size);
  sampler->HoldOnly(held_begin, held_end);
  std::vector<int64_t> labels, predicted;
  double loss_sum = 0;
  const bool mean = spec_.model().readout() == ModelSpec::MEAN_OVER_STEPS;
  for (int64_t i = 0; i < batches; ++i) {
    ASSIGN_OR_RETURN(Batch batch, sampler->Next());
    const std::vector<float> y = predict(batch);
    const int64_t T = batch.steps;
    for (int64_t b = 0; b < batch.batch; ++b) {
      std::vector<double> logits(C, 0.0);
      if (mean) {
        for (int64_t t = 0; t < T; ++t) {
          for (int c = 0; c < C; ++c) logits[c] += y[(b * T + t) * C + c];
        }
        for (double& v : logits) v /= static_cast<double>(T);
      } else {
        for (int c = 0; c < C; ++c) logits[c] = y[(b * T + T - 1) * C + c];
      }
      const double mx = *std::max_element(logits.begin(), logits.end());
      double z = 0;
      for (double v : logits) z += std::exp(v - mx);
      const int64_t label = batch.labels[b];
      loss_sum += std::log(z) + mx - logits[label];
      labels.push_back(label);
      predicted.push_back(std::max_element(logits.begin(), logits.end()) -
                          logits.begin());
    }
  }
  ASSIGN_OR_RETURN(ClassificationMetrics m,
                   ClassificationMetricsOf(labels, predicted, C));
  EvalOutcome out;
  const double n = static_cast<double>(labels.size());
  const double loss = loss_sum / n;
  out.metrics["accuracy"] = m.accuracy;
  out.metrics["loss"] = loss;
  out.metrics["balanced_accuracy"] = m.balanced_accuracy;
  out.metrics["sequences"] = n;
  out.selection =
      e.selection() == EvalSpec::VALID_LOSS ? loss : 1.0 - m.accuracy;
  out.summary = absl::StrFormat("accuracy %.4f  loss %.4f  (%d sequences)",
                                m.accuracy, loss, static_cast<int64_t>(n));
  out.reported = {{"accuracy", m.accuracy},
                  {"balanced_accuracy", m.balanced_accuracy},
                  {"loss", loss}};
  out.scored = {{"num_sequences", n}};
  auto details = std::make_unique<ClassificationEvalDetails>();
  details->metrics = std::move(m);
  out.details = std::move(details);
  return out;
}

TaskReport ClassificationTask::ReportSections(const MetricsTable& table,
                                              const EvalOutcome& test) const {
  TaskReport report;
  PlotSeries valid_loss = table.Series(/*valid=*/true, "valid_loss", "valid");
  valid_loss.markers = true;
  report.loss_series.push_back(valid_loss);
  LinePlot acc;
  acc.title = "Accuracy";
  acc.x_label = "step";
  acc.y_label = "accuracy";
  acc.series.push_back(table.Series(/*valid=*/false, "accuracy", "train"));
  PlotSeries valid_acc =
      table.Series(/*valid=*/true, "valid_accuracy", "valid");
  valid_acc.markers = true;
  acc.series.push_back(valid_acc);
  report.curves.push_back(
      {"Training and validation accuracy", RenderLinePlot(acc)});
  report.epoch_columns = {{"loss", "valid_loss", 4},
                          {"accuracy", "valid_accuracy", 4}};
  const auto* details =
      dynamic_cast<const ClassificationEvalDetails*>(test.details.get());
  if (details == nullptr) return report;
  const ClassificationMetrics& m = details->metrics;
  ConfusionMatrixPlot cm;
  cm.title = "Test confusion matrix";
  cm.num_classes = m.num_classes;
  cm.counts = m.confusion;
  report.test_figures.push_back(
      {"Test confusion matrix (rows: true class, columns: predicted)",
       RenderConfusionMatrixPlot(cm)});
  NumberTable per_class;
  per_class.caption = "Test accuracy per class";
  per_class.header = {"class", "accuracy", "sequences"};
  per_class.digits = {0, 4, 0};
  for (int c = 0; c < m.num_classes; ++c) {
    per_class.rows.push_back({static_cast<double>(c), m.per_class_accuracy[c],
                              static_cast<double>(m.class_count[c])});
  }
  report.test_tables.push_back(per_class);
  return report;
}

}  // namespace elm
