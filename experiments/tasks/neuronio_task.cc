// The NeuronIO task (see neuronio_task.h).
#include "experiments/tasks/neuronio_task.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "data/neuronio.h"
#include "data/neuronio_generator.h"
#include "elm/heads.h"
#include "glog/logging.h"

namespace elm {
namespace {

// The files of `split` of a NeuronIO dataset as a loader (in memory or read
// from disk one at a time) and their names; false when `dataset` is not a
// NeuronIO dataset.
bool SplitFiles(const Dataset& dataset, Split split, NeuronioFileLoader* loader,
                std::vector<std::string>* names) {
  if (const auto* generated =
          dynamic_cast<const GeneratedNeuronioDataset*>(&dataset)) {
    const std::vector<NeuronioFile>& files = generated->files(split);
    for (const NeuronioFile& f : files) names->push_back(f.path);
    *loader =
        [&files](int i) -> absl::StatusOr<std::shared_ptr<const NeuronioFile>> {
      // Not owned: the dataset keeps the files.
      return std::shared_ptr<const NeuronioFile>(std::shared_ptr<void>(),
                                                 &files[i]);
    };
    return true;
  }
  if (const auto* disk = dynamic_cast<const NeuronioDataset*>(&dataset)) {
    const std::vector<std::string>& files = disk->files(split);
    *names = files;
    *loader =
        [&files](int i) -> absl::StatusOr<std::shared_ptr<const NeuronioFile>> {
      ASSIGN_OR_RETURN(NeuronioFile file, ReadNeuronioFile(files[i]));
      return std::make_shared<const NeuronioFile>(std::move(file));
    };
    return true;
  }
  return false;
}

// The trace plot of the first scored test simulation, over eval.plot_ms
// after the ignored start (where the metrics look).
ReportFigure TraceFigure(const NeuronioEvalExample& ex, const EvalSpec& eval) {
  const int64_t length = std::min<int64_t>(eval.plot_ms(), ex.duration_ms);
  const int64_t start =
      std::min<int64_t>(eval.ignore_start_ms(), ex.duration_ms - length);
  TracePlot trace;
  trace.title = absl::StrFormat("Test simulation %d of %s, %d–%d ms",
                                ex.simulation, ex.path, start, start + length);
  for (size_t k = 0; k < ex.input_steps.size(); ++k) {
    if (ex.input_steps[k] >= start && ex.input_steps[k] < start + length) {
      trace.raster.emplace_back(ex.input_steps[k], ex.input_channels[k]);
    }
  }
  for (int64_t t = start; t < start + length; ++t) {
    // mV above −67.7 mV back to absolute mV.
    trace.soma_true_mv.push_back(static_cast<float>(ex.soma_true_mv[t] - 67.7));
    trace.soma_pred_mv.push_back(static_cast<float>(ex.soma_pred_mv[t] - 67.7));
    trace.spike_prob.push_back(ex.spike_prob[t]);
  }
  for (int64_t s : ex.spike_steps) {
    if (s >= start && s < start + length) trace.spike_steps.push_back(s);
  }
  trace.start_step = start;
  return {
      "A test simulation: input spikes (excitatory and inhibitory "
      "synapses), true vs predicted soma voltage (clipped at −55 mV, "
      "recalibrated as the reference evaluates it), predicted spike "
      "probability with the true output spikes",
      RenderTracePlot(trace), /*wide=*/true};
}

// A line plot of one validation metric per epoch.
ReportFigure EpochFigure(const MetricsTable& table, const char* column,
                         const char* title, const char* y_label,
                         const char* caption) {
  LinePlot plot;
  plot.title = title;
  plot.x_label = "epoch";
  plot.y_label = y_label;
  PlotSeries s = table.Series(/*valid=*/true, column, "valid",
                              /*by_epoch=*/true);
  s.markers = true;
  plot.series.push_back(s);
  return {caption, RenderLinePlot(plot)};
}

}  // namespace

Var<float> NeuronioTask::Loss(Tape<float>& tape, Var<float> y,
                              const Batch& batch, int64_t b0, int64_t b1,
                              TrainMetrics* metrics) const {
  const int64_t T = batch.steps, rows = (b1 - b0) * T;
  CHECK_EQ(y.rows, rows);
  CHECK_EQ(y.cols, 2);
  Var<float> spike = tape.Constant(batch.spike.data() + b0 * T, rows, 1);
  Var<float> soma = tape.Constant(batch.soma.data() + b0 * T, rows, 1);
  Var<float> loss = NeuronioLoss(tape, y, spike, soma);
  // The parts, for the log, in double: BCE with logits and MSE.
  double bce = 0, mse = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const double z = y.value[r * 2], s01 = spike.value[r];
    bce += std::max(z, 0.0) - z * s01 + std::log1p(std::exp(-std::abs(z)));
    const double d = y.value[r * 2 + 1] - soma.value[r];
    mse += d * d;
  }
  *metrics = TrainMetrics();
  metrics->loss = loss.value[0];
  metrics->spike_bce = bce / rows;
  metrics->soma_mse = mse / rows;
  metrics->sequences = static_cast<double>(b1 - b0);
  return loss;
}

std::map<std::string, double> NeuronioTask::IntervalColumns(
    const TrainMetrics& sums, int64_t steps) const {
  const double n = static_cast<double>(steps);
  return {{"loss", sums.loss / n},
          {"loss_spike", sums.spike_bce / n},
          {"loss_soma", sums.soma_mse / n}};
}

std::vector<std::string> NeuronioTask::EvaluationFiles(const Dataset& dataset,
                                                       Split split) const {
  NeuronioFileLoader loader;
  std::vector<std::string> names;
  SplitFiles(dataset, split, &loader, &names);
  return names;
}

absl::Status NeuronioTask::CheckEvaluation(const Dataset& dataset) const {
  const EvalSpec& e = spec_.eval();
  const NeuronioSpec& n = spec_.data().neuronio();
  for (const Split split : {Split::kTrain, Split::kValid, Split::kTest}) {
    NeuronioFileLoader loader;
    std::vector<std::string> names;
    if (!SplitFiles(dataset, split, &loader, &names)) return absl::OkStatus();
    if (names.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the ", SplitName(split),
                       " split of the NeuronIO data has no files"));
    }
    ASSIGN_OR_RETURN(std::shared_ptr<const NeuronioFile> file, loader(0));
    const int64_t duration = file->params.duration_ms;
    const std::string where =
        absl::StrCat("the ", SplitName(split), " split's first file, ",
                     file->path, ", holds simulations of ", duration, " ms");
    if (split == Split::kTrain) {
      // What the training sampler would refuse at its first batch.
      if (n.window_ms() + n.ignore_start_ms() >= duration) {
        return absl::InvalidArgumentError(
            absl::StrCat("data.neuronio: window_ms + ignore_start_ms = ",
                         n.window_ms() + n.ignore_start_ms(),
                         "; expected below the simulation length: ", where));
      }
      const int64_t sims = static_cast<int64_t>(file->simulations.size());
      if (spec_.train().batch_size() > sims) {
        return absl::InvalidArgumentError(absl::StrCat(
            "train.batch_size = ", spec_.train().batch_size(),
            "; a batch draws distinct simulations of one file, and the train "
            "split's first file, ",
            file->path, ", holds ", sims));
      }
      continue;
    }
    if (e.ignore_start_ms() >= duration) {
      return absl::InvalidArgumentError(
          absl::StrCat("eval.ignore_start_ms = ", e.ignore_start_ms(),
                       "; expected below the simulation length: ", where,
                       " (the scored steps come after the ignored start)"));
    }
    if (e.window_ms() > duration) {
      return absl::InvalidArgumentError(
          absl::StrCat("eval.window_ms = ", e.window_ms(),
                       "; expected at most the simulation length: ", where));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<EvalOutcome> NeuronioTask::Evaluate(
    const Dataset& dataset, Split split, const BatchPredictor& predict,
    const EvalProgress& progress) const {
  const EvalSpec& e = spec_.eval();
  NeuronioEvalOptions options;
  options.window_ms = e.window_ms();
  options.burn_in_ms = e.burn_in_ms();
  options.windows_per_batch = e.batch_size();
  options.max_output_spikes = e.max_spike_count();
  options.ignore_time_at_start_ms = e.ignore_start_ms();
  options.held = [&predict](int64_t batch) { return predict.Held(batch); };
  NeuronioFileLoader loader;
  std::vector<std::string> names;
  if (!SplitFiles(dataset, split, &loader, &names)) {
    return absl::InternalError("NeuronIO evaluation needs a NeuronIO dataset");
  }
  int num_files = static_cast<int>(names.size());
  if (split == Split::kValid) num_files = std::min(num_files, e.valid_files());
  if (num_files == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the ", SplitName(split), " split of the NeuronIO data has no files"));
  }
  const WindowPredictor predictor = [&predict](const Batch& windows,
                                               std::vector<float>* y) {
    *y = predict(windows);
    return absl::OkStatus();
  };
  absl::StatusOr<NeuronioEvalResult> result =
      EvaluateNeuronio(num_files, loader, predictor, options, progress);
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
  // The reference's names and order (elm_reference.md §4.4).
  out.reported = {
      {"AUC", m.auc},
      {"TP @ 0.0025 FP", m.tp_at_0p25_fp},
      {"TP @ 0.0100 FP", m.tp_at_1_fp},
      {"AUC @ 0.0025 FP", m.auc_at_0p25_fp},
      {"AUC @ 0.0100 FP", m.auc_at_1_fp},
      {"soma_explained_variance_percent", m.soma_explained_variance_percent},
      {"soma_RMSE", m.soma_rmse_mv},
      {"soma_MAE", m.soma_mae_mv}};
  out.scored = {{"num_simulations", static_cast<double>(m.num_simulations)},
                {"num_simulations_total",
                 static_cast<double>(result->simulations_total)}};
  auto details = std::make_unique<NeuronioEvalDetails>();
  details->result = *std::move(result);
  out.details = std::move(details);
  return out;
}

TaskReport NeuronioTask::ReportSections(const MetricsTable& table,
                                        const EvalOutcome& test) const {
  TaskReport report;
  report.loss_series.push_back(
      table.Series(/*valid=*/false, "loss_spike", "spike (BCE)"));
  report.loss_series.push_back(
      table.Series(/*valid=*/false, "loss_soma", "soma (MSE)"));
  report.curves.push_back(EpochFigure(
      table, "valid_soma_rmse_mv", "Validation soma RMSE", "soma RMSE (mV)",
      "Validation soma RMSE per epoch (selects the kept model)"));
  report.curves.push_back(EpochFigure(table, "valid_auc",
                                      "Validation spike AUC", "AUC",
                                      "Validation AUC per epoch"));
  report.epoch_columns = {
      {"AUC", "valid_auc", 4},
      {"soma RMSE (mV)", "valid_soma_rmse_mv", 3},
      {"explained var. (%)", "valid_soma_explained_variance_percent", 2}};
  const auto* details =
      dynamic_cast<const NeuronioEvalDetails*>(test.details.get());
  if (details == nullptr) return report;
  const NeuronioEvalResult& r = details->result;
  report.test_figures.push_back(
      {absl::StrFormat("Test ROC curve (AUC %.4f)", r.metrics.auc),
       RenderLinePlot(RocPlot(r.roc.fpr, r.roc.tpr, "Test ROC"))});
  report.test_figures.push_back(
      {"Test ROC curve at low false-positive rates (log scale)",
       RenderLinePlot(RocPlot(r.roc.fpr, r.roc.tpr, "Test ROC (log FPR)",
                              /*log_fpr=*/true))});
  if (r.example.duration_ms > 0) {
    report.test_figures.push_back(TraceFigure(r.example, spec_.eval()));
  }
  return report;
}

}  // namespace elm
