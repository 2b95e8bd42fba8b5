// Evaluation of a SequenceModel on a split of an experiment's data, as the
// trainer (validation after each epoch, the final test) and
// //experiments:evaluate use it: the model's forward passes run on the thread
// pool, the batch split by sequences, and the experiment's task
// (experiments/task.h) scores them — NeuronIO by the reference protocol,
// classification by accuracy, per-class accuracy, confusion matrix and
// cross-entropy.
#ifndef ELM_EXPERIMENTS_EVALUATION_H_
#define ELM_EXPERIMENTS_EVALUATION_H_

#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "autodiff/tape.h"
#include "base/mpi_group.h"
#include "base/thread_pool.h"
#include "data/dataset.h"
#include "experiments/model_registry.h"
#include "experiments/task.h"

namespace elm {

class Evaluator {
 public:
  // `task`, `dataset`, `model`, `pool` and `group` must outlive the
  // evaluator. With a `group` of several ranks, every rank calls Evaluate
  // (and Predict) in the same order: each predicts its part of every batch
  // (MpiGroup::Part of the sequences, split again over its threads) and the
  // outputs are gathered in sequence order on every rank, which then scores
  // them as one process would, so the metrics are identical on every rank and
  // to those of a single process. Null: one process.
  Evaluator(const Task& task, const Dataset& dataset, SequenceModel* model,
            ThreadPool* pool, MpiGroup* group = nullptr);

  // The model's outputs y [B·T, n_out] for `batch` (forward only).
  std::vector<float> Predict(const Batch& batch);

  absl::StatusOr<EvalOutcome> Evaluate(Split split);

  // Called after each file an evaluation by files scores, with (files done,
  // files in total); none by default.
  void set_progress(EvalProgress progress) { progress_ = std::move(progress); }

 private:
  const Task& task_;
  const Dataset& dataset_;
  SequenceModel* model_;
  ThreadPool* pool_;
  MpiGroup* group_;
  std::vector<Tape<float>> tapes_;
  EvalProgress progress_;
};

}  // namespace elm

#endif  // ELM_EXPERIMENTS_EVALUATION_H_
