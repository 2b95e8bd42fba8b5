// The report of a finished run (see run_report.h).
#include "experiments/run_report.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "data/dataset_factory.h"
#include "experiments/metrics_table.h"
#include "experiments/model_registry.h"
#include "experiments/report/report.h"
#include "experiments/report/svg_plot.h"
#include "experiments/spec.h"
#include "glog/logging.h"

namespace elm {
namespace {

std::string Fixed(double v, int digits) {
  if (!std::isfinite(v)) return "n/a";
  return absl::StrFormat("%.*f", digits, v);
}

ReportTable FormatTable(const NumberTable& numbers) {
  ReportTable table;
  table.caption = numbers.caption;
  table.header = numbers.header;
  for (const std::vector<double>& row : numbers.rows) {
    CHECK_EQ(row.size(), numbers.digits.size()) << numbers.caption;
    std::vector<std::string> cells;
    for (size_t c = 0; c < row.size(); ++c) {
      cells.push_back(Fixed(row[c], numbers.digits[c]));
    }
    table.rows.push_back(std::move(cells));
  }
  return table;
}

// The validation metrics after each epoch: epoch, step and the task's
// columns.
ReportTable EpochTable(const MetricsTable& table,
                       const std::vector<ReportColumn>& columns) {
  ReportTable epochs;
  epochs.caption = "Validation after each epoch";
  epochs.header = {"epoch", "step"};
  for (const ReportColumn& c : columns) epochs.header.push_back(c.title);
  const int epoch = table.Column("epoch"), step = table.Column("step");
  for (const std::vector<double>& row : table.valid_rows) {
    std::vector<std::string> cells = {Fixed(row[epoch], 0),
                                      Fixed(row[step], 0)};
    for (const ReportColumn& c : columns) {
      const int i = table.Column(c.csv_column);
      cells.push_back(i < 0 ? std::string("n/a") : Fixed(row[i], c.digits));
    }
    epochs.rows.push_back(std::move(cells));
  }
  return epochs;
}

}  // namespace

absl::Status WriteRunReport(const RunReportInput& input) {
  const ExperimentSpec& spec = *input.spec;
  const EvalOutcome& test = *input.test;
  ASSIGN_OR_RETURN(const MetricsTable table,
                   ReadMetricsTable(input.output_dir + "/metrics.csv"));
  const TaskReport sections = input.task->ReportSections(table, test);
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

  LinePlot loss;
  loss.title = "Training loss";
  loss.x_label = "step";
  loss.y_label = "loss";
  loss.log_y = true;
  loss.series.push_back(table.Series(false, "loss", "train (interval mean)"));
  for (const PlotSeries& s : sections.loss_series) loss.series.push_back(s);
  report.figures.push_back({"Loss over training steps", RenderLinePlot(loss)});
  for (const ReportFigure& f : sections.curves) report.figures.push_back(f);
  LinePlot lr;
  lr.title = "Learning rate";
  lr.x_label = "step";
  lr.y_label = "lr";
  lr.series.push_back(table.Series(false, "lr", "lr"));
  report.figures.push_back({"Learning-rate schedule", RenderLinePlot(lr)});
  for (const ReportFigure& f : sections.test_figures) {
    report.figures.push_back(f);
  }
  for (const NumberTable& t : sections.test_tables) {
    report.tables.push_back(FormatTable(t));
  }
  report.tables.push_back(EpochTable(table, sections.epoch_columns));
  report.spec_text = SpecToText(spec);
  report.footer = "elm experiments runner";
  return WriteReportHtml(input.output_dir + "/report.html", report);
}

}  // namespace elm
