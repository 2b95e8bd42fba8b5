// The task of an experiment: what a model's outputs mean and how they are
// trained and scored. The trainer, the evaluator, the run report and
// //experiments:evaluate know a task only through `Task`, chosen once from the
// dataset by MakeTask (experiments/tasks/task_factory.h). A task provides the
// model's output size, the training loss of a batch on the tape with its named
// parts (TrainMetrics), its metrics.csv values, the evaluation of a split
// (EvalOutcome), and its sections of the run report. NeuronIO
// (experiments/tasks/neuronio_task.h) and classification
// (experiments/tasks/classification_task.h) implement it; a new task is one
// more implementation and its line in the factory.
#ifndef ELM_EXPERIMENTS_TASK_H_
#define ELM_EXPERIMENTS_TASK_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "autodiff/tape.h"
#include "base/mpi_group.h"
#include "data/dataset.h"
#include "experiments/metrics_table.h"
#include "experiments/report/report.h"
#include "experiments/report/svg_plot.h"

namespace elm {

// The training metrics of a batch, and their sums over the steps of a logging
// interval. A task fills the parts it has and leaves the others 0.
struct TrainMetrics {
  // Means over the batch's sequences (summed over an interval's steps).
  double loss = 0;
  double spike_bce = 0;  // NeuronIO: the spike part, BCE with logits
  double soma_mse = 0;   // NeuronIO: the soma part, MSE of the scaled soma
  // Counts.
  double correct = 0;    // classification: sequences predicted right
  double sequences = 0;  // sequences trained on

  // Adds the metrics of a shard of a batch (means over the shard's
  // sequences): the means weighted by `share`, the shard's fraction of the
  // batch, the counts as they are.
  void AddShard(const TrainMetrics& shard, double share);
  // Adds another batch's metrics (interval sums).
  TrainMetrics& operator+=(const TrainMetrics& other);
  // The sums as TrainerState.interval_sums stores them (loss, spike, soma,
  // correct, sequences), and back (missing values are 0, extra ones ignored).
  std::vector<double> ToSums() const;
  static TrainMetrics FromSums(absl::Span<const double> sums);
};

// What a task keeps of an evaluation for its report beyond the metrics: each
// task its own subclass (NeuronIO: the ROC curve and a trace; classification:
// the confusion matrix).
class EvalDetails {
 public:
  virtual ~EvalDetails() = default;
};

struct EvalOutcome {
  // By name. NeuronIO: auc, tp_at_0p25pct_fp, tp_at_1pct_fp,
  // auc_at_0p25pct_fp, auc_at_1pct_fp, soma_rmse_mv, soma_mae_mv,
  // soma_explained_variance_percent, simulations. Classification: accuracy,
  // balanced_accuracy, loss, sequences.
  std::map<std::string, double> metrics;
  // The model-selection value (lower is better): NeuronIO soma RMSE,
  // classification 1 − accuracy, or the loss with eval.selection VALID_LOSS.
  double selection = 0;
  // One line for the log, e.g. "AUC 0.9712  soma RMSE 1.23 mV".
  std::string summary;
  // The metrics //experiments:evaluate prints, in the task's names and order
  // (NeuronIO: the reference's), and what its --json adds (how much was
  // scored: num_simulations, num_simulations_total / num_sequences).
  std::vector<std::pair<std::string, double>> reported;
  std::vector<std::pair<std::string, double>> scored;
  // For the task's report sections; may be null.
  std::unique_ptr<const EvalDetails> details;
};

// A column of the report's table of validation metrics per epoch: its title,
// the metrics.csv column it shows and the digits after the point.
struct ReportColumn {
  std::string title;
  std::string csv_column;
  int digits = 4;
};

// A table of numbers in the report, formatted there: `digits[c]` digits after
// the point in column c, "n/a" for a value that is not finite.
struct NumberTable {
  std::string caption;
  std::vector<std::string> header;
  std::vector<int> digits;  // [columns]
  std::vector<std::vector<double>> rows;
};

// A task's parts of the run report (experiments/run_report.h), in the
// report's order: the loss figure (the training loss and `loss_series`),
// `curves`, the learning-rate figure, `test_figures`, `test_tables`, and the
// table of validation metrics per epoch (epoch, step, `epoch_columns`).
struct TaskReport {
  std::vector<PlotSeries> loss_series;
  std::vector<ReportFigure> curves;
  std::vector<ReportFigure> test_figures;
  std::vector<NumberTable> test_tables;
  std::vector<ReportColumn> epoch_columns;
};

// The model's outputs y [B·T, num_outputs] for a batch (forward only). A
// predictor of one rank of a distributed evaluation runs only part `part` of
// `parts` of each batch's sequences (Held: MpiGroup::Part) and gathers the
// others' outputs; a task's Evaluate lets its batches hold only those
// sequences' inputs (BatchSampler::HoldOnly). Made from any callable; by
// default one part (every sequence held).
class BatchPredictor {
 public:
  template <typename F, typename = std::enable_if_t<std::is_invocable_r_v<
                            std::vector<float>, const F&, const Batch&>>>
  BatchPredictor(F predict, int part = 0, int parts = 1)  // NOLINT: implicit
      : predict_(std::move(predict)), part_(part), parts_(parts) {}

  std::vector<float> operator()(const Batch& batch) const {
    return predict_(batch);
  }
  // The sequences [first, end) of a batch of `batch` the predictor needs.
  std::pair<int64_t, int64_t> Held(int64_t batch) const {
    return MpiGroup::Part(batch, parts_, part_);
  }

 private:
  std::function<std::vector<float>(const Batch& batch)> predict_;
  int part_ = 0;
  int parts_ = 1;
};
// Called during an evaluation that goes by files, after each file: (files
// done, files in total).
using EvalProgress = std::function<void(int done, int total)>;

class Task {
 public:
  virtual ~Task() = default;

  // "neuronio", "classification": names the task in messages.
  virtual std::string name() const = 0;

  // The outputs per step a model of this task has, and what they are for
  // messages ("spike logit and soma voltage", "one per class").
  virtual int64_t num_outputs() const = 0;
  virtual std::string outputs_description() const = 0;

  // The training loss of sequences [b0, b1) of `batch` (the mean over them)
  // from the model's outputs y [(b1 − b0)·T, num_outputs] on `tape`.
  // `*metrics` receives the loss and its parts as means over those sequences,
  // and their counts.
  virtual Var<float> Loss(Tape<float>& tape, Var<float> y, const Batch& batch,
                          int64_t b0, int64_t b1,
                          TrainMetrics* metrics) const = 0;

  // The metrics.csv values of a logging interval (by column,
  // experiments/metrics_table.h) from its sums over `steps` steps.
  virtual std::map<std::string, double> IntervalColumns(
      const TrainMetrics& sums, int64_t steps) const = 0;

  // Evaluates the model behind `predict` on `split` of `dataset` (the data
  // the task was made for). Errors name the split.
  virtual absl::StatusOr<EvalOutcome> Evaluate(
      const Dataset& dataset, Split split, const BatchPredictor& predict,
      const EvalProgress& progress) const = 0;

  // Checks what can be known before training that Evaluate would only find
  // after it (e.g. an eval.batch_size above a split's size), and what the
  // first training batch would refuse, so that a run fails before it writes
  // anything to its directory rather than after an epoch. Errors as
  // Evaluate's and the samplers'.
  virtual absl::Status CheckEvaluation(const Dataset& dataset) const {
    return absl::OkStatus();
  }

  // The files an evaluation of `split` goes through, in order (for progress
  // lines); empty when it does not go by files.
  virtual std::vector<std::string> EvaluationFiles(const Dataset& dataset,
                                                   Split split) const {
    return {};
  }

  // The task's report sections from the run's metrics.csv and its test
  // evaluation (an outcome of this task's Evaluate).
  virtual TaskReport ReportSections(const MetricsTable& table,
                                    const EvalOutcome& test) const = 0;
};

}  // namespace elm

#endif  // ELM_EXPERIMENTS_TASK_H_
