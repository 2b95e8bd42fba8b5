// The NeuronIO task: per step, the model predicts the somatic spike (a logit)
// and the scaled soma voltage of a detailed neuron. Training minimises the
// reference loss 0.5·BCEWithLogits(spike) + 0.5·MSE(soma) (elm/heads.h),
// logged with its two parts; evaluation is the reference protocol
// (experiments/eval/neuronio_eval.h: windows from zero state, stitching, soma
// recalibration per file, the spike-count filter; AUC, TP and AUC @ FP, soma
// RMSE / MAE, explained variance), on the first eval.valid_files files for
// validation; the model kept is the one with the lowest validation soma RMSE.
// Its report sections: the spike and soma losses, the validation soma RMSE and
// AUC per epoch, the test ROC curves and a trace plot of a test simulation.
#ifndef ELM_EXPERIMENTS_TASKS_NEURONIO_TASK_H_
#define ELM_EXPERIMENTS_TASKS_NEURONIO_TASK_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "experiments/eval/neuronio_eval.h"
#include "experiments/proto/experiment.pb.h"
#include "experiments/task.h"

namespace elm {

// NeuronioTask::name().
inline constexpr char kNeuronioTaskName[] = "neuronio";

// The NeuronIO evaluation's full result, the EvalDetails of the task's
// outcomes.
struct NeuronioEvalDetails : EvalDetails {
  NeuronioEvalResult result;
};

class NeuronioTask : public Task {
 public:
  // Evaluates with `spec`'s eval section (and plots its eval.plot_ms).
  explicit NeuronioTask(const ExperimentSpec& spec) : spec_(spec) {}

  std::string name() const override { return kNeuronioTaskName; }
  int64_t num_outputs() const override { return 2; }
  std::string outputs_description() const override {
    return "spike logit and soma voltage";
  }
  Var<float> Loss(Tape<float>& tape, Var<float> y, const Batch& batch,
                  int64_t b0, int64_t b1, TrainMetrics* metrics) const override;
  std::map<std::string, double> IntervalColumns(const TrainMetrics& sums,
                                                int64_t steps) const override;
  // `dataset` is a NeuronIO dataset (in memory or on disk), else Internal.
  absl::StatusOr<EvalOutcome> Evaluate(
      const Dataset& dataset, Split split, const BatchPredictor& predict,
      const EvalProgress& progress) const override;
  std::vector<std::string> EvaluationFiles(const Dataset& dataset,
                                           Split split) const override;
  // Before training, from the first file of each split (read now: one file
  // per split, a few seconds for a released pickle, ~0.1 s for a compact
  // .elmnio file): the training file is longer than data.neuronio.window_ms +
  // ignore_start_ms and holds at least train.batch_size simulations; the
  // validation and test files (the splits must have some) last longer than
  // eval.ignore_start_ms and at least eval.window_ms. (The released files
  // all last 6 s and hold 128 simulations; a later file that differs is still
  // found only when it is reached.) Errors name the field, the file and its
  // length.
  absl::Status CheckEvaluation(const Dataset& dataset) const override;
  TaskReport ReportSections(const MetricsTable& table,
                            const EvalOutcome& test) const override;

 private:
  ExperimentSpec spec_;
};

}  // namespace elm

#endif  // ELM_EXPERIMENTS_TASKS_NEURONIO_TASK_H_
