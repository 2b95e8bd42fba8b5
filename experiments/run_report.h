// The report of a finished run: reads the run's metrics.csv back and writes
// <output_dir>/report.html (experiments/report/report.h) with the loss and
// learning-rate curves, the validation metrics per epoch, and the test
// results — for NeuronIO the ROC curve (linear and log FPR) and a trace plot
// of a test simulation (input raster, true vs predicted soma voltage, spike
// probability with the true spikes); for classification the accuracy curves,
// the confusion matrix and the per-class accuracy — plus the resolved spec.
#ifndef ELM_EXPERIMENTS_RUN_REPORT_H_
#define ELM_EXPERIMENTS_RUN_REPORT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "experiments/evaluation.h"
#include "experiments/proto/experiment.pb.h"

namespace elm {

struct RunReportInput {
  const ExperimentSpec* spec = nullptr;
  std::string output_dir;  // holds metrics.csv; report.html goes there
  int64_t num_parameters = 0;
  double train_seconds = 0;
  int64_t steps = 0;
  const EvalOutcome* test = nullptr;
};

// Writes <output_dir>/report.html. Errors name the file.
absl::Status WriteRunReport(const RunReportInput& input);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_RUN_REPORT_H_
