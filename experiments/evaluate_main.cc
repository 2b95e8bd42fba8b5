// `bazel run //experiments:evaluate`: evaluates a trained model on a split of
// NeuronIO-format data (or of any dataset of an experiment spec) and prints
// the metrics (experiments/evaluate.h says how).
//
//   bazel run //experiments:evaluate -- --model=<.pt|.txt|.ckpt>
//       [--config=<model_config.json>] (--spec=<spec> | --data=<glob>)
//       [--split=test|valid|train] [--set a.b=value ...] [--threads=N]
//       [--json=<file>]
//
// Errors name the file or flag; the exit code is then 1.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "experiments/evaluate.h"
#include "experiments/spec.h"
#include "gflags/gflags.h"
#include "glog/logging.h"

DEFINE_string(model, "",
              "the model: .pt (reference state_dict) or .txt (ELMTENSOR) of an "
              "ELM model, or a .ckpt (ELM checkpoint, or a run's "
              "best.ckpt / latest.ckpt)");
DEFINE_string(config, "",
              "model_config.json of a .pt/.txt model (default: the one beside "
              "it)");
DEFINE_string(spec, "",
              "experiment spec whose data and eval sections say what to "
              "evaluate on and how (its model section is not used)");
DEFINE_string(data, "",
              "NeuronIO files or a glob, evaluated as the test split (sets "
              "data.neuronio.test_files; no spec needed)");
DEFINE_string(split, "test", "the split to evaluate: test, valid or train");
DEFINE_int32(threads, 0,
             "threads of the forward passes (0: the spec's train.threads)");
DEFINE_string(json, "", "also write the metrics to this JSON file");

int main(int argc, char** argv) {
  // --set may repeat, which gflags does not allow: take them out first.
  std::vector<char*> rest;
  elm::EvaluateOptions options;
  options.overrides = elm::TakeSetOverrides(argc, argv, &rest);
  int rest_argc = static_cast<int>(rest.size());
  char** rest_argv = rest.data();
  gflags::SetUsageMessage(
      "--model=<.pt|.txt|.ckpt> [--config=<model_config.json>] "
      "(--spec=<spec> | --data=<NeuronIO files or glob>) [--split=test] "
      "[--set a.b=value ...] [--threads=N] [--json=<file>]");
  gflags::ParseCommandLineFlags(&rest_argc, &rest_argv, true);
  google::InitGoogleLogging(argv[0]);
  options.model = FLAGS_model;
  options.config = FLAGS_config;
  options.spec = FLAGS_spec;
  options.data = FLAGS_data;
  options.split = FLAGS_split;
  options.threads = FLAGS_threads;
  options.json = FLAGS_json;
  const absl::Status status = elm::RunEvaluate(options);
  if (!status.ok()) {
    std::fprintf(stderr, "evaluate: error: %s\n",
                 std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
