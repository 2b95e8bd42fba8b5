// Evaluation of a SequenceModel on a split (see evaluation.h).
#include "experiments/evaluation.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "data/neuronio.h"
#include "data/neuronio_generator.h"
#include "experiments/eval/classification_metrics.h"
#include "glog/logging.h"

namespace elm {

Evaluator::Evaluator(const ExperimentSpec& spec, const Dataset& dataset,
                     SequenceModel* model, ThreadPool* pool)
    : spec_(spec),
      dataset_(dataset),
      model_(model),
      pool_(pool),
      tapes_(pool->num_threads()) {}

std::vector<float> Evaluator::Predict(const Batch& batch) {
  const int64_t B = batch.batch, T = batch.steps;
  const int shards = static_cast<int>(
      std::min<int64_t>(static_cast<int64_t>(tapes_.size()), B));
  std::vector<float> y;
  std::vector<int64_t> out_cols(shards, 0);
  std::vector<std::vector<float>> parts(shards);
  pool_->Run(shards, [&](int s) {
    const int64_t b0 = B * s / shards, b1 = B * (s + 1) / shards;
    Tape<float>& tape = tapes_[s];
    tape.Reset();
    const CsrView x = batch.inputs.view().Rows(b0 * T, (b1 - b0) * T);
    Var<float> out = model_->Forward(tape, x, T, /*grads=*/nullptr);
    parts[s].assign(out.value, out.value + out.size());
    tape.Reset();
  });
  for (const std::vector<float>& p : parts)
    y.insert(y.end(), p.begin(), p.end());
  return y;
}

absl::StatusOr<EvalOutcome> Evaluator::Evaluate(Split split) {
  if (dataset_.info().num_classes > 0) return EvaluateClassification(split);
  return EvaluateNeuronio(split);
}

absl::StatusOr<EvalOutcome> Evaluator::EvaluateNeuronio(Split split) {
  const EvalSpec& e = spec_.eval();
  NeuronioEvalOptions options;
  options.window_ms = e.window_ms();
  options.burn_in_ms = e.burn_in_ms();
  options.windows_per_batch = e.batch_size();
  options.max_output_spikes = e.max_spike_count();
  options.ignore_time_at_start_ms = e.ignore_start_ms();
  // The split's files: in memory (generated) or on disk, loaded one at a time.
  int num_files = 0;
  NeuronioFileLoader loader;
  if (const auto* generated =
          dynamic_cast<const GeneratedNeuronioDataset*>(&dataset_)) {
    const std::vector<NeuronioFile>& files = generated->files(split);
    num_files = static_cast<int>(files.size());
    loader =
        [&files](int i) -> absl::StatusOr<std::shared_ptr<const NeuronioFile>> {
      // Not owned: the dataset keeps the files.
      return std::shared_ptr<const NeuronioFile>(std::shared_ptr<void>(),
                                                 &files[i]);
    };
  } else if (const auto* disk =
                 dynamic_cast<const NeuronioDataset*>(&dataset_)) {
    const std::vector<std::string>& files = disk->files(split);
    num_files = static_cast<int>(files.size());
    loader =
        [&files](int i) -> absl::StatusOr<std::shared_ptr<const NeuronioFile>> {
      ASSIGN_OR_RETURN(NeuronioFile file, ReadNeuronioFile(files[i]));
      return std::make_shared<const NeuronioFile>(std::move(file));
    };
  } else {
    return absl::InternalError("NeuronIO evaluation needs a NeuronIO dataset");
  }
  if (split == Split::kValid) num_files = std::min(num_files, e.valid_files());
  if (num_files == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the ", SplitName(split), " split of the NeuronIO data has no files"));
  }
  const WindowPredictor predictor = [this](const Batch& windows,
                                           std::vector<float>* y) {
    *y = Predict(windows);
    return absl::OkStatus();
  };
  absl::StatusOr<NeuronioEvalResult> result =
      elm::EvaluateNeuronio(num_files, loader, predictor, options, progress_);
  if (!result.ok()) {
    return absl::Status(result.status().code(),
                        absl::StrCat("evaluating the ", SplitName(split),
                                     " split: ", result.status().message()));
  }
  const NeuronioMetrics& m = result->metrics;
  EvalOutcome out;
  out.metrics["auc"] = m.auc;
  out.metrics["tp_at_0p25pct_fp"] = m.tp_at_0p25_fp;
  out.metrics["tp_at_1pct_fp"] = m.tp_at_1_fp;
  out.metrics["auc_at_0p25pct_fp"] = m.auc_at_0p25_fp;
  out.metrics["auc_at_1pct_fp"] = m.auc_at_1_fp;
  out.metrics["soma_rmse_mv"] = m.soma_rmse_mv;
  out.metrics["soma_mae_mv"] = m.soma_mae_mv;
  out.metrics["soma_explained_variance_percent"] =
      m.soma_explained_variance_percent;
  out.metrics["simulations"] = static_cast<double>(m.num_simulations);
  out.selection = m.soma_rmse_mv;
  out.summary = absl::StrFormat(
      "AUC %.4f  TP@1%%FP %.3f  soma RMSE %.3f mV  expl. var. %.1f%%  (%d of "
      "%d simulations)",
      m.auc, m.tp_at_1_fp, m.soma_rmse_mv, m.soma_explained_variance_percent,
      m.num_simulations, result->simulations_total);
  out.neuronio = std::make_unique<NeuronioEvalResult>(*std::move(result));
  return out;
}

absl::StatusOr<EvalOutcome> Evaluator::EvaluateClassification(Split split) {
  const EvalSpec& e = spec_.eval();
  const int batch_size = e.batch_size();
  const int64_t limit =
      split == Split::kTest ? e.test_batches() : e.valid_batches();
  int64_t batches = limit;
  if (batches == 0) {
    const int64_t n = dataset_.num_sequences(split);
    if (n == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the ", SplitName(split), " split of the ", dataset_.info().name,
          " data is sampled, not a fixed set: set eval.",
          split == Split::kTest ? "test_batches" : "valid_batches"));
    }
    batches = n / batch_size;
    if (batches == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("eval.batch_size = ", batch_size, " is above the ", n,
                       " sequences of the ", SplitName(split), " split"));
    }
  }
  const int C = dataset_.info().num_classes;
  ASSIGN_OR_RETURN(
      std::unique_ptr<BatchSampler> sampler,
      dataset_.MakeSampler(split, batch_size, spec_.data().seed()));
  std::vector<int64_t> labels, predicted;
  double loss_sum = 0;
  const bool mean = spec_.model().readout() == ModelSpec::MEAN_OVER_STEPS;
  for (int64_t i = 0; i < batches; ++i) {
    ASSIGN_OR_RETURN(Batch batch, sampler->Next());
    const std::vector<float> y = Predict(batch);
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
  out.metrics["accuracy"] = m.accuracy;
  out.metrics["loss"] = loss_sum / n;
  out.metrics["balanced_accuracy"] = m.balanced_accuracy;
  out.metrics["sequences"] = n;
  out.num_classes = C;
  out.confusion = m.confusion;
  out.per_class_accuracy = m.per_class_accuracy;
  out.selection = spec_.eval().selection() == EvalSpec::VALID_LOSS
                      ? loss_sum / n
                      : 1.0 - m.accuracy;
  out.summary =
      absl::StrFormat("accuracy %.4f  loss %.4f  (%d sequences)", m.accuracy,
                      loss_sum / n, static_cast<int64_t>(n));
  return out;
}

}  // namespace elm
