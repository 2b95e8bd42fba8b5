// Evaluation of a SequenceModel on a split (see evaluation.h).
#include "experiments/evaluation.h"

#include <algorithm>
#include <cstdint>

#include "glog/logging.h"

namespace elm {

Evaluator::Evaluator(const Task& task, const Dataset& dataset,
                     SequenceModel* model, ThreadPool* pool, MpiGroup* group)
    : task_(task),
      dataset_(dataset),
      model_(model),
      pool_(pool),
      group_(group != nullptr ? group : &MpiGroup::Single()),
      tapes_(pool->num_threads()) {}

std::vector<float> Evaluator::Predict(const Batch& batch) {
  const int64_t T = batch.steps;
  // This rank's sequences [p0, p1) of the batch, split over its threads.
  const auto [p0, p1] =
      MpiGroup::Part(batch.batch, group_->size(), group_->rank());
  CHECK(batch.held_begin <= p0 && p1 <= batch.HeldEnd())
      << "the batch does not hold this rank's sequences";
  const int64_t B = p1 - p0;
  const int shards = static_cast<int>(
      std::min<int64_t>(static_cast<int64_t>(tapes_.size()), B));
  std::vector<float> y;
  std::vector<std::vector<float>> parts(shards);
  if (shards > 0)
    pool_->Run(shards, [&](int s) {
      const int64_t b0 = p0 + B * s / shards, b1 = p0 + B * (s + 1) / shards;
      Tape<float>& tape = tapes_[s];
      tape.Reset();
      const CsrView x = batch.inputs.view().Rows(b0 * T, (b1 - b0) * T);
      Var<float> out = model_->Forward(tape, x, T, /*grads=*/nullptr);
      parts[s].assign(out.value, out.value + out.size());
      tape.Reset();
    });
  for (const std::vector<float>& p : parts) {
    y.insert(y.end(), p.begin(), p.end());
  }
  if (group_->size() > 1) return group_->AllGather<float>(y);
  return y;
}

absl::StatusOr<EvalOutcome> Evaluator::Evaluate(Split split) {
  const BatchPredictor predict(
      [this](const Batch& batch) { return Predict(batch); }, group_->rank(),
      group_->size());
  return task_.Evaluate(dataset_, split, predict, progress_);
}

}  // namespace elm
