// metrics.csv, the table of a run's metrics over training: its columns (the
// same for every task; a task leaves the ones it does not have blank), and
// reading it back by column name, split by phase ("train" rows per logging
// interval, "valid" rows per epoch), for the run report.
#ifndef ELM_EXPERIMENTS_METRICS_TABLE_H_
#define ELM_EXPERIMENTS_METRICS_TABLE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "experiments/report/svg_plot.h"

namespace elm {

// The columns of metrics.csv, in order: step, epoch, phase, then the values
// (train: loss, loss_spike, loss_soma, accuracy, lr, steps_per_s,
// data_wait_s: the seconds of the interval spent waiting for batches; valid:
// lr and valid_<metric> for the validation metrics).
const std::vector<std::string>& MetricsCsvColumns();

// metrics.csv as numbers (NaN for blank cells), by phase.
struct MetricsTable {
  std::vector<std::string> header;
  std::vector<std::vector<double>> train_rows, valid_rows;

  // The index of a column, or -1.
  int Column(absl::string_view name) const;
  // (step, value) pairs of a column over the rows of a phase (by_epoch:
  // (epoch, value), the epoch numbered from 1 as in metrics.csv), skipping
  // blanks; empty when the column is missing.
  PlotSeries Series(bool valid, absl::string_view column, std::string name,
                    bool by_epoch = false) const;
};

// Reads a metrics.csv (rows with another number of cells than the header are
// skipped). NotFound naming the path when it cannot be read.
absl::StatusOr<MetricsTable> ReadMetricsTable(const std::string& path);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_METRICS_TABLE_H_
