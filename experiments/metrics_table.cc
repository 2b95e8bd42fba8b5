// metrics.csv's columns and reading it back (see metrics_table.h).
#include "experiments/metrics_table.h"

#include <cmath>
#include <fstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "base/status_macros.h"

namespace elm {

const std::vector<std::string>& MetricsCsvColumns() {
  static const auto* columns = new std::vector<std::string>{
      // Every row.
      "step", "epoch", "phase",
      // Train rows (a logging interval's means; lr also in valid rows).
      "loss", "loss_spike", "loss_soma", "accuracy", "lr", "steps_per_s",
      "data_wait_s",
      // Valid rows (the validation metrics after an epoch).
      "valid_loss", "valid_accuracy", "valid_auc", "valid_soma_rmse_mv",
      "valid_soma_explained_variance_percent"};
  return *columns;
}

int MetricsTable::Column(absl::string_view name) const {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

PlotSeries MetricsTable::Series(bool valid, absl::string_view column,
                                std::string name, bool by_epoch) const {
  PlotSeries s;
  s.name = std::move(name);
  const int c = Column(column);
  const int x = Column(by_epoch ? "epoch" : "step");
  if (c < 0 || x < 0) return s;
  for (const std::vector<double>& row : valid ? valid_rows : train_rows) {
    if (std::isnan(row[c])) continue;
    s.x.push_back(row[x]);
    s.y.push_back(row[c]);
  }
  return s;
}

absl::StatusOr<MetricsTable> ReadMetricsTable(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text,
                   ReadFileToString(path, "metrics file", kMaxTextFileBytes));
  MetricsTable t;
  bool header = true;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
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

}  // namespace elm
