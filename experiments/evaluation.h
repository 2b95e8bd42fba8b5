// Evaluation of a SequenceModel on a split of an experiment's data, as the
// trainer (validation after each epoch, the final test) and
// //experiments:evaluate use it:
//  * NeuronIO: the reference protocol (experiments/eval/neuronio_eval.h:
//    windows from zero state, stitching, soma recalibration, the spike-count
//    filter, AUC, TP/AUC @ FP, soma RMSE/MAE, explained variance). Validation
//    scores the first eval.valid_files files of the split.
//  * Classification: accuracy, per-class accuracy, confusion matrix and the
//    cross-entropy over the split (or eval.valid_batches / test_batches
//    batches of it), with the spec's readout.
// Forward passes run on the thread pool, the batch split by sequences.
#ifndef ELM_EXPERIMENTS_EVALUATION_H_
#define ELM_EXPERIMENTS_EVALUATION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "autodiff/tape.h"
#include "base/thread_pool.h"
#include "data/dataset.h"
#include "experiments/eval/neuronio_eval.h"
#include "experiments/model_registry.h"
#include "experiments/proto/experiment.pb.h"

namespace elm {

struct EvalOutcome {
  // By name. NeuronIO: auc, tp_at_0.25%_fp, tp_at_1%_fp, auc_at_0.25%_fp,
  // auc_at_1%_fp, soma_rmse_mv, soma_mae_mv, soma_explained_variance_percent,
  // simulations. Classification: accuracy, loss, sequences.
  std::map<std::string, double> metrics;
  // The model-selection value (lower is better): NeuronIO soma RMSE,
  // classification 1 − accuracy, or the loss with eval.selection VALID_LOSS.
  double selection = 0;
  // One line for the log, e.g. "AUC 0.9712  soma RMSE 1.23 mV".
  std::string summary;
  // NeuronIO: the full result, for the report's ROC and trace plots.
  std::unique_ptr<NeuronioEvalResult> neuronio;
  // Classification: confusion matrix [C, C] (row: true class) and
  // per-class accuracy [C] (NaN for a class without sequences).
  int num_classes = 0;
  std::vector<int64_t> confusion;
  std::vector<double> per_class_accuracy;
};

class Evaluator {
 public:
  // `dataset`, `model` and `pool` must outlive the evaluator.
  Evaluator(const ExperimentSpec& spec, const Dataset& dataset,
            SequenceModel* model, ThreadPool* pool);

  // The model's outputs y [B·T, n_out] for `batch` (forward only).
  std::vector<float> Predict(const Batch& batch);

  absl::StatusOr<EvalOutcome> Evaluate(Split split);

  // NeuronIO: called after each file an evaluation scores, with (files done,
  // files in total); none by default.
  void set_progress(NeuronioEvalProgress progress) {
    progress_ = std::move(progress);
  }

 private:
  absl::StatusOr<EvalOutcome> EvaluateNeuronio(Split split);
  absl::StatusOr<EvalOutcome> EvaluateClassification(Split split);

  const ExperimentSpec& spec_;
  const Dataset& dataset_;
  SequenceModel* model_;
  ThreadPool* pool_;
  std::vector<Tape<float>> tapes_;
  NeuronioEvalProgress progress_;
};

}  // namespace elm

#endif  // ELM_EXPERIMENTS_EVALUATION_H_
