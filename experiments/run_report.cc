// The report of a finished run (see run_report.h).
#include "experiments/run_report.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "data/dataset_factory.h"
#include "experiments/model_registry.h"
#include "experiments/report/report.h"
#include "experiments/report/svg_plot.h"
#include "experiments/spec.h"

namespace elm {
namespace {

// metrics.csv as columns by name, split by phase.
struct MetricsTable {
  std::vector<std::string> header;
  std::vector<std::vector<double>> train_rows, valid_rows;
  int Column(absl::string_view name) const {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<int>(i);
    }
    return -1;
  }
  // (step, value) pairs of a column over the rows of a phase, skipping
  // blanks.
  PlotSeries Series(bool valid, absl::string_view column, std::string name,
                    bool by_epoch = false) const {
    PlotSeries s;
    s.name = std::move(name);
    const int c = Column(column);
    const int x = Column(by_epoch ? "epoch" : "step");
    if (c < 0 || x < 0) return s;
    for (const std::vector<double>& row : valid ? valid_rows : train_rows) {
      if (std::isnan(row[c])) continue;
      s.x.push_back(by_epoch ? row[x] + 1 : row[x]);
      s.y.push_back(row[c]);
    }
    return s;
  }
};

absl::StatusOr<MetricsTable> ReadMetrics(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read '", path, "'"));
  }
  MetricsTable t;
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    std::vector<std::string> cols = absl::StrSplit(line, ',');
    if (header) {
      t.header = cols;
      header = false;
      continue;
    }
    if (cols.size() != t.header.size()) continue;
    std::vector<double> row(cols.size(), std::nan(""));
    for (size_t i = 0; i < cols.size(); ++i) {
      double v;
      if (absl::SimpleAtod(cols[i], &v)) row[i] = v;
    }
    (cols[2] == "valid" ? t.valid_rows : t.train_rows).push_back(row);
  }
  return t;
}

std::string Fixed(double v, int digits) {
  if (!std::isfinite(v)) return "n/a";
  return absl::StrFormat("%.*f", digits, v);
}

// The test ROC curves and a trace plot of the first scored test simulation.
void AddNeuronioFigures(const NeuronioEvalResult& r, const ExperimentSpec& spec,
                        ReportContent* report) {
  report->figures.push_back(
      {absl::StrFormat("Test ROC curve (AUC %.4f)", r.metrics.auc),
       RenderLinePlot(RocPlot(r.roc.fpr, r.roc.tpr, "Test ROC"))});
  report->figures.push_back(
      {"Test ROC curve at low false-positive rates (log scale)",
       RenderLinePlot(RocPlot(r.roc.fpr, r.roc.tpr, "Test ROC (log FPR)",
                              /*log_fpr=*/true))});
  const NeuronioEvalExample& ex = r.example;
  if (ex.duration_ms <= 0) return;
  const int64_t length =
      std::min<int64_t>(spec.eval().plot_ms(), ex.duration_ms);
  // Show the excerpt after the ignored start, where the metrics look.
  const int64_t start =
      std::min<int64_t>(spec.eval().ignore_start_ms(), ex.duration_ms - length);
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
  report->figures.push_back(
      {"A test simulation: input spikes (excitatory and inhibitory "
       "synapses), true vs predicted soma voltage (clipped at −55 mV, "
       "recalibrated as the reference evaluates it), predicted spike "
       "probability with the true output spikes",
       RenderTracePlot(trace), /*wide=*/true});
}

}  // namespace

absl::Status WriteRunReport(const RunReportInput& input) {
  const ExperimentSpec& spec = *input.spec;
  const EvalOutcome& test = *input.test;
  ASSIGN_OR_RETURN(const MetricsTable table,
                   ReadMetrics(input.output_dir + "/metrics.csv"));
  const bool classify = test.num_classes > 0;
  ReportContent report;
  report.title = spec.name();
  report.subtitle = absl::StrFormat(
      "%s model, %d trainable parameters, on %s data; %d steps in %s s",
      ModelKindName(spec.model()), input.num_parameters,
      DatasetKindName(spec.data()), input.steps, Fixed(input.train_seconds, 1));
  if (!spec.description().empty()) {
    report.summary.push_back({"reproduces", spec.description()});
  }
  for (const auto& [name, value] : test.metrics) {
    report.summary.push_back(
        {absl::StrCat("test ", name), absl::StrFormat("%.6g", value)});
  }

  // Training curves.
  LinePlot loss;
  loss.title = "Training loss";
  loss.x_label = "step";
  loss.y_label = "loss";
  loss.log_y = true;
  loss.series.push_back(table.Series(false, "loss", "train (interval mean)"));
  if (classify) {
    PlotSeries v = table.Series(true, "valid_loss", "valid");
    v.markers = true;
    loss.series.push_back(v);
  } else {
    loss.series.push_back(table.Series(false, "loss_spike", "spike (BCE)"));
    loss.series.push_back(table.Series(false, "loss_soma", "soma (MSE)"));
  }
  report.figures.push_back({"Loss over training steps", RenderLinePlot(loss)});
  if (classify) {
    LinePlot acc;
    acc.title = "Accuracy";
    acc.x_label = "step";
    acc.y_label = "accuracy";
    acc.series.push_back(table.Series(false, "accuracy", "train"));
    PlotSeries v = table.Series(true, "valid_accuracy", "valid");
    v.markers = true;
    acc.series.push_back(v);
    report.figures.push_back(
        {"Training and validation accuracy", RenderLinePlot(acc)});
  } else {
    LinePlot rmse;
    rmse.title = "Validation soma RMSE";
    rmse.x_label = "epoch";
    rmse.y_label = "soma RMSE (mV)";
    PlotSeries s = table.Series(true, "valid_soma_rmse_mv", "valid", true);
    s.markers = true;
    rmse.series.push_back(s);
    report.figures.push_back(
        {"Validation soma RMSE per epoch (selects the kept model)",
         RenderLinePlot(rmse)});
    LinePlot auc;
    auc.title = "Validation spike AUC";
    auc.x_label = "epoch";
    auc.y_label = "AUC";
    PlotSeries a = table.Series(true, "valid_auc", "valid", true);
    a.markers = true;
    auc.series.push_back(a);
    report.figures.push_back({"Validation AUC per epoch", RenderLinePlot(auc)});
  }
  LinePlot lr;
  lr.title = "Learning rate";
  lr.x_label = "step";
  lr.y_label = "lr";
  lr.series.push_back(table.Series(false, "lr", "lr"));
  report.figures.push_back({"Learning-rate schedule", RenderLinePlot(lr)});

  if (test.neuronio != nullptr) {
    AddNeuronioFigures(*test.neuronio, spec, &report);
  }
  if (classify) {
    ConfusionMatrixPlot cm;
    cm.title = "Test confusion matrix";
    cm.num_classes = test.num_classes;
    cm.counts = test.confusion;
    report.figures.push_back(
        {"Test confusion matrix (rows: true class, columns: predicted)",
         RenderConfusionMatrixPlot(cm)});
    ReportTable per_class;
    per_class.caption = "Test accuracy per class";
    per_class.header = {"class", "accuracy", "sequences"};
    for (int c = 0; c < test.num_classes; ++c) {
      int64_t n = 0;
      for (int p = 0; p < test.num_classes; ++p) {
        n += test.confusion[c * test.num_classes + p];
      }
      per_class.rows.push_back({absl::StrCat(c),
                                Fixed(test.per_class_accuracy[c], 4),
                                absl::StrCat(n)});
    }
    report.tables.push_back(per_class);
  }
  ReportTable epochs;
  epochs.caption = "Validation after each epoch";
  epochs.header =
      classify
          ? std::vector<std::string>{"epoch", "step", "loss", "accuracy"}
          : std::vector<std::string>{"epoch", "step", "AUC", "soma RMSE (mV)",
                                     "explained var. (%)"};
  for (const std::vector<double>& row : table.valid_rows) {
    auto col = [&](absl::string_view name, int digits) {
      const int c = table.Column(name);
      return c < 0 ? std::string("n/a") : Fixed(row[c], digits);
    };
    if (classify) {
      epochs.rows.push_back({Fixed(row[1] + 1, 0), Fixed(row[0], 0),
                             col("valid_loss", 4), col("valid_accuracy", 4)});
    } else {
      epochs.rows.push_back({Fixed(row[1] + 1, 0), Fixed(row[0], 0),
                             col("valid_auc", 4), col("valid_soma_rmse_mv", 3),
                             col("valid_soma_explained_variance_percent", 2)});
    }
  }
  report.tables.push_back(epochs);
  report.spec_text = SpecToText(spec);
  report.footer = "elm experiments runner";
  return WriteReportHtml(input.output_dir + "/report.html", report);
}

}  // namespace elm
