// The classification task: one class label per sequence (SHD, SHD-Adding,
// ListOps, sequential Fashion-MNIST). The model's C outputs per step are read
// out per sequence from the last step or as the mean over steps
// (model.readout) into logits; training minimises their softmax
// cross-entropy, logged with the training accuracy; evaluation scores the
// split (or eval.valid_batches / test_batches batches of it): accuracy,
// balanced and per-class accuracy, confusion matrix, cross-entropy. The model
// kept has the highest validation accuracy (the lowest loss with
// eval.selection VALID_LOSS). Its report sections: the validation loss, the
// accuracy curves, the test confusion matrix and the per-class accuracy.
#ifndef ELM_EXPERIMENTS_TASKS_CLASSIFICATION_TASK_H_
#define ELM_EXPERIMENTS_TASKS_CLASSIFICATION_TASK_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "experiments/eval/classification_metrics.h"
#include "experiments/proto/experiment.pb.h"
#include "experiments/task.h"

namespace elm {

// The classification metrics of an evaluation, the EvalDetails of the task's
// outcomes.
struct ClassificationEvalDetails : EvalDetails {
  ClassificationMetrics metrics;
};

class ClassificationTask : public Task {
 public:
  // `num_classes` > 0 (CHECKed); `spec` gives the readout and the eval
  // section.
  ClassificationTask(int num_classes, const ExperimentSpec& spec);

  std::string name() const override { return "classification"; }
  int64_t num_outputs() const override { return num_classes_; }
  std::string outputs_description() const override { return "one per class"; }
  Var<float> Loss(Tape<float>& tape, Var<float> y, const Batch& batch,
                  int64_t b0, int64_t b1, TrainMetrics* metrics) const override;
  std::map<std::string, double> IntervalColumns(const TrainMetrics& sums,
                                                int64_t steps) const override;
  absl::Status CheckEvaluation(const Dataset& dataset) const override;
  absl::StatusOr<EvalOutcome> Evaluate(
      const Dataset& dataset, Split split, const BatchPredictor& predict,
      const EvalProgress& progress) const override;
  TaskReport ReportSections(const MetricsTable& table,
                            const EvalOutcome& test) const override;

 private:
  absl::StatusOr<int64_t> EvalBatches(const Dataset& dataset,
                                      Split split) const;

  int num_classes_;
  ExperimentSpec spec_;
};

}  // namespace elm

#endif  // ELM_EXPERIMENTS_TASKS_CLASSIFICATION_TASK_H_
