// //experiments:evaluate as a library: evaluates a trained model on a split of
// NeuronIO-format data (or of any dataset of an experiment spec) and prints
// the metrics. evaluate_main.cc parses the flags into EvaluateOptions and
// calls RunEvaluate.
//
// The model (EvaluateOptions.model) is a reference PyTorch state_dict (`.pt`)
// or ELMTENSOR weights (`.txt`) of an ELM model, with its config from
// `config` or the model_config.json beside it (elm/model_file.h), or a
// checkpoint of ours: an ELM model checkpoint (elm/checkpoint.h) or a run's
// best.ckpt / checkpoints/latest.ckpt, whose experiment spec rebuilds any
// model kind (ELM, LSTM, LIF/ALIF, a registered custom model). The data and
// the protocol come from the `data` and `eval` sections of `spec` (its model
// section is not used), or of the run's own spec for a run checkpoint without
// one; `data` (files or a glob) evaluates NeuronIO files as the test split
// without a spec (it replaces the spec's data); `overrides` (--set) apply after
// it. Every file of the split is scored by the data's task
// (experiments/task.h; NeuronIO: the reference protocol) on `threads` threads
// (0: the spec's train.threads). Progress goes to stderr, one line per file;
// the metrics go to stdout, one "name: value" line each in the task's names
// and order (NeuronIO: the reference's "AUC", "TP @ 0.0025 FP", ...,
// "soma_MAE"), values in the shortest form that reads back exactly; `json`
// also writes them as one JSON object, with what was scored
// (num_simulations and num_simulations_total, or num_sequences). Relative
// paths are taken from the directory `bazel run` was started in
// (base/user_path.h). Errors name the file or the flag.
#ifndef ELM_EXPERIMENTS_EVALUATE_H_
#define ELM_EXPERIMENTS_EVALUATE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "experiments/task.h"

namespace elm {

// The tool's flags, as given on the command line.
struct EvaluateOptions {
  std::string model;   // --model (required)
  std::string config;  // --config: model_config.json of a .pt / .txt model
  std::string spec;    // --spec
  std::string data;    // --data: NeuronIO files or a glob (the test split)
  std::string split = "test";          // --split: test, valid or train
  std::vector<std::string> overrides;  // --set a.b=value, in order
  int threads = 0;                     // --threads; 0: the spec's
  std::string json;                    // --json: also write the metrics here
};

// Loads the model and the data and evaluates; progress to stderr.
absl::StatusOr<EvalOutcome> EvaluateModel(const EvaluateOptions& options);

// The metric lines the tool prints: "name: value\n" for each of
// outcome.reported, values in the shortest form that reads back exactly
// ("nan", "inf", "-inf" otherwise).
std::string MetricLines(const EvalOutcome& outcome);

// outcome.reported and outcome.scored as one JSON object (null for values
// that are not finite).
absl::StatusOr<std::string> MetricsJson(const EvalOutcome& outcome);

// The whole tool: EvaluateModel, the metric lines to stdout, and the JSON
// file when options.json is set.
absl::Status RunEvaluate(const EvaluateOptions& options);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_EVALUATE_H_
