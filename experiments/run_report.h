// The report of a finished run: reads the run's metrics.csv back and writes
// <output_dir>/report.html (experiments/report/report.h) with the loss and
// learning-rate curves, the validation metrics per epoch, the test results,
// the task's own sections (experiments/task.h: for NeuronIO the ROC curve and
// a trace plot of a test simulation; for classification the accuracy curves,
// the confusion matrix and the per-class accuracy) and the resolved spec.
#ifndef ELM_EXPERIMENTS_RUN_REPORT_H_
#define ELM_EXPERIMENTS_RUN_REPORT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "experiments/proto/experiment.pb.h"
#include "experiments/task.h"

namespace elm {

struct RunReportInput {
  const ExperimentSpec* spec = nullptr;
  const Task* task = nullptr;  // the run's task; gives its sections
  std::string output_dir;      // holds metrics.csv; report.html goes there
  int64_t num_parameters = 0;
  double train_seconds = 0;
  int64_t steps = 0;
  const EvalOutcome* test = nullptr;  // of `task`
};

// Writes <output_dir>/report.html. Errors name the file.
absl::Status WriteRunReport(const RunReportInput& input);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_RUN_REPORT_H_
