// `bazel run //experiments:evaluate`: evaluates a trained model on a split of
// NeuronIO-format data (or of any dataset of an experiment spec) and prints
// the metrics.
//
//   bazel run //experiments:evaluate -- --model=<.pt|.txt|.ckpt>
//       [--config=<model_config.json>] (--spec=<spec> | --data=<glob>)
//       [--split=test|valid|train] [--set a.b=value ...] [--threads=N]
//       [--json=<file>]
//
// --model is a reference PyTorch state_dict (`.pt`) or ELMTENSOR weights
// (`.txt`) of an ELM model, with its config from --config or the
// model_config.json beside it (elm/model_file.h), or a checkpoint of ours: an
// ELM model checkpoint (elm/checkpoint.h) or a run's best.ckpt /
// checkpoints/latest.ckpt, whose experiment spec rebuilds any model kind
// (ELM, LSTM, LIF/ALIF, a registered custom model).
// The data and the protocol come from the `data` and `eval` sections of
// --spec (its model section is not used), or of the run's own spec for a
// run checkpoint without --spec; --data=<files or glob> evaluates NeuronIO
// files as the test split without a spec (it replaces the spec's data);
// --set overrides one spec field (after --data) and may repeat. Every file of
// the split is scored (NeuronIO: the reference protocol of
// experiments/eval/neuronio_eval.h) on --threads threads (default: the
// spec's train.threads). Progress goes to stderr, one line per file; the
// metrics go to stdout, one "name: value" line each, NeuronIO in the
// reference's names and order ("AUC", "TP @ 0.0025 FP", "TP @ 0.0100 FP",
// "AUC @ 0.0025 FP", "AUC @ 0.0100 FP", "soma_explained_variance_percent",
// "soma_RMSE", "soma_MAE"), values in the shortest form that reads back
// exactly; --json writes them as one JSON object (plus num_simulations and
// num_simulations_total). Relative paths are taken from the directory
// `bazel run` was started in. Errors name the file or flag; the exit code is
// then 1.
#include <charconv>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "io/elmtensor.h"
#include "base/status_macros.h"
#include "base/thread_pool.h"
#include "base/user_path.h"
#include "data/dataset.h"
#include "data/dataset_factory.h"
#include "data/neuronio.h"
#include "elm/checkpoint.h"
#include "elm/model.h"
#include "elm/model_file.h"
#include "experiments/evaluation.h"
#include "experiments/model_registry.h"
#include "experiments/proto/experiment.pb.h"
#include "experiments/spec.h"
#include "experiments/task.h"
#include "experiments/tasks/task_factory.h"
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

namespace elm {
namespace {

// A number in the shortest form that reads back as the same double (Python's
// repr), "nan" / "inf" / "-inf" otherwise.
std::string Num(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

// The model file: an ELM model (from a .pt / .txt, or a checkpoint holding a
// model config), or a run checkpoint of another model kind whose tensors are
// loaded once the data is known.
struct ModelSource {
  std::string path;
  std::optional<ElmModel<float>> elm;
  std::optional<Checkpoint> checkpoint;
  // The trainer's state in a run checkpoint (its spec), if any.
  std::optional<TrainerState> run;
};

absl::StatusOr<ModelSource> LoadModelSource(const std::string& path) {
  ModelSource source;
  source.path = path;
  if (!std::filesystem::exists(path)) {
    return absl::NotFoundError(
        absl::StrCat("--model: model file '", path, "' does not exist"));
  }
  if (ElmModelFileNeedsConfig(path)) {
    ElmModelFileOptions options;
    if (!FLAGS_config.empty()) {
      options.config_path = ResolveUserPath(FLAGS_config);
    }
    ASSIGN_OR_RETURN(ElmModel<float> model,
                     LoadElmModelFile<float>(path, options));
    source.elm = std::move(model);
    return source;
  }
  if (!FLAGS_config.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--config is for .pt / .txt models; ", path,
                     " is a checkpoint, which holds its own config"));
  }
  ASSIGN_OR_RETURN(Checkpoint c, LoadCheckpoint(path));
  TrainerState state;
  if (c.has_extra() && c.extra().UnpackTo(&state) && state.has_spec()) {
    source.run = std::move(state);
  }
  if (c.has_model_config()) {
    absl::StatusOr<ElmModel<float>> model =
        ElmModel<float>::Create(c.model_config());
    if (!model.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", model.status().message()));
    }
    RETURN_IF_ERROR(RestoreModelCheckpoint<float>(c, &*model,
                                                  /*optimizer=*/nullptr, path));
    source.elm = *std::move(model);
    return source;
  }
  if (!source.run.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ": the checkpoint has neither a model config (an ELM model) nor an "
        "experiment spec (a run's checkpoint), so its model cannot be "
        "rebuilt"));
  }
  source.checkpoint = std::move(c);
  return source;
}

// Whether the model predicts NeuronIO's spike and soma (rather than classes).
bool IsNeuronioModel(const ModelSource& source) {
  if (source.run.has_value()) return source.run->spec().data().has_neuronio();
  const ElmConfig& c = source.elm->config();
  return c.num_input() == kNeuronioInputDim && c.num_output() == 2;
}

// The spec's fields besides data and eval are not used here, and the
// NeuronIO data need not list files for the splits that are not evaluated:
// ValidateSpec checks a copy that has them (the data's numbers, eval.*,
// train.threads).
absl::Status ValidateForEvaluation(const ExperimentSpec& spec) {
  ExperimentSpec probe = spec;
  probe.set_name("evaluate");
  probe.mutable_model()->Clear();
  probe.mutable_model()->mutable_elm();
  if (probe.data().has_neuronio() && !probe.data().neuronio().has_generate()) {
    NeuronioSpec* n = probe.mutable_data()->mutable_neuronio();
    if (n->train_files().empty()) n->add_train_files("unused");
    if (n->valid_files().empty()) n->add_valid_files("unused");
    if (n->test_files().empty()) n->add_test_files("unused");
  }
  return ValidateSpec(probe);
}

// Keeps only `split`'s data (the other splits' files are neither expanded
// nor generated); errors when the split has no NeuronIO files.
absl::Status KeepSplitOnly(Split split, DatasetSpec* data) {
  if (!data->has_neuronio()) return absl::OkStatus();
  NeuronioSpec* n = data->mutable_neuronio();
  if (n->has_generate()) {
    NeuronioGeneratorSpec* g = n->mutable_generate();
    if (split != Split::kTrain) g->set_num_train_files(0);
    if (split != Split::kValid) g->set_num_valid_files(0);
    if (split != Split::kTest) g->set_num_test_files(0);
    return absl::OkStatus();
  }
  if (split != Split::kTrain) n->clear_train_files();
  if (split != Split::kValid) n->clear_valid_files();
  if (split != Split::kTest) n->clear_test_files();
  const int listed = split == Split::kTrain   ? n->train_files_size()
                     : split == Split::kValid ? n->valid_files_size()
                                              : n->test_files_size();
  if (listed == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("data.neuronio.", SplitName(split),
                     "_files is empty: no files to evaluate"));
  }
  return absl::OkStatus();
}

absl::Status WriteJson(const std::string& path,
                       const std::vector<std::pair<std::string, double>>& m) {
  std::string json = "{\n";
  for (size_t i = 0; i < m.size(); ++i) {
    const double v = m[i].second;
    absl::StrAppend(&json, "  \"", m[i].first,
                    "\": ", std::isfinite(v) ? Num(v) : "null",
                    i + 1 < m.size() ? ",\n" : "\n");
  }
  json += "}\n";
  std::ofstream out(path);
  out << json;
  out.close();
  if (!out) {
    return absl::PermissionDeniedError(
        absl::StrCat("--json: cannot write '", path, "'"));
  }
  return absl::OkStatus();
}

absl::Status Prefixed(const absl::Status& status, absl::string_view prefix) {
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

absl::Status Main(const std::vector<std::string>& overrides) {
  if (FLAGS_model.empty()) {
    return absl::InvalidArgumentError(
        "--model is required: a reference .pt (with its model_config.json), "
        "ELMTENSOR .txt weights, or a .ckpt");
  }
  absl::StatusOr<Split> parsed_split = ParseSplit(FLAGS_split);
  if (!parsed_split.ok()) return Prefixed(parsed_split.status(), "--split: ");
  const Split split = *parsed_split;
  if (FLAGS_threads < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--threads = ", FLAGS_threads, "; expected >= 1 (0: the spec's)"));
  }
  if (!FLAGS_data.empty() && split != Split::kTest) {
    return absl::InvalidArgumentError(
        absl::StrCat("--data sets the test split; --split=", FLAGS_split,
                     " cannot be used with it (use a spec)"));
  }
  ASSIGN_OR_RETURN(ModelSource source,
                   LoadModelSource(ResolveUserPath(FLAGS_model)));

  // The spec: --spec, else a run checkpoint's own, else the defaults (with
  // --data).
  ExperimentSpec spec;
  std::string spec_name;  // where the data section came from, for messages
  if (!FLAGS_spec.empty()) {
    spec_name = ResolveUserPath(FLAGS_spec);
    ASSIGN_OR_RETURN(spec, ReadExperimentSpecFile(spec_name));
  } else if (source.run.has_value()) {
    spec = source.run->spec();
    spec_name = absl::StrCat("the spec of the run in ", source.path);
  } else if (FLAGS_data.empty() && overrides.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "nothing to evaluate ", source.path,
        " on: pass --data=<NeuronIO files or glob> or --spec=<experiment "
        "spec with a data section>"));
  }
  // A run's classification readout belongs to its model.
  if (source.run.has_value()) {
    *spec.mutable_model() = source.run->spec().model();
  }
  if (!FLAGS_data.empty()) {
    NeuronioSpec neuronio;
    if (spec.data().has_neuronio()) neuronio = spec.data().neuronio();
    neuronio.clear_generate();
    neuronio.clear_train_files();
    neuronio.clear_valid_files();
    neuronio.clear_test_files();
    neuronio.add_test_files(FLAGS_data);
    *spec.mutable_data()->mutable_neuronio() = std::move(neuronio);
    spec_name = "--data";
  }
  for (const std::string& o : overrides) {
    RETURN_IF_ERROR(ApplySpecOverride(o, &spec));
  }
  if (!overrides.empty() && spec_name.empty()) spec_name = "--set";

  const std::string kind = DatasetKindName(spec.data());
  if (kind.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        spec_name,
        " has no data section: set data.neuronio.test_files (or "
        "another dataset), or pass --data=<NeuronIO files or glob>"));
  }
  if (IsNeuronioModel(source) && !spec.data().has_neuronio()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source.path,
        " is a NeuronIO model (spike and soma outputs), but the data of ",
        spec_name, " is ", kind,
        "; evaluate it on NeuronIO data: data.neuronio in the spec, or "
        "--data=<files or glob>"));
  }
  {
    const absl::Status valid = ValidateForEvaluation(spec);
    if (!valid.ok()) return Prefixed(valid, absl::StrCat(spec_name, ": "));
  }
  const int threads =
      FLAGS_threads > 0 ? FLAGS_threads : spec.train().threads();
  // Every file of the split, also for valid (the trainer scores the first
  // eval.valid_files).
  spec.mutable_eval()->set_valid_files(INT_MAX);

  DatasetSpec data = spec.data();
  {
    const absl::Status kept = KeepSplitOnly(split, &data);
    if (!kept.ok()) return Prefixed(kept, absl::StrCat(spec_name, ": "));
  }
  const auto data_start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<Dataset>> dataset = MakeDataset(data);
  if (!dataset.ok()) {
    return Prefixed(dataset.status(), absl::StrCat(spec_name, ": "));
  }
  const DatasetInfo& info = (*dataset)->info();
  const std::unique_ptr<Task> task = MakeTask(info, spec);

  // The model, checked against the data.
  std::unique_ptr<SequenceModel> model;
  if (source.elm.has_value()) {
    const ElmConfig& c = source.elm->config();
    const int64_t outputs = task->num_outputs();
    if (c.num_input() != info.input_dim) {
      return absl::InvalidArgumentError(absl::StrCat(
          source.path, " has ", c.num_input(), " inputs; the ", info.name,
          " data of ", spec_name, " has ", info.input_dim));
    }
    if (c.num_output() != outputs) {
      return absl::InvalidArgumentError(
          absl::StrCat(source.path, " has ", c.num_output(), " outputs; the ",
                       info.name, " data of ", spec_name, " needs ", outputs));
    }
    model = WrapElmModel(*std::move(source.elm));
  } else {
    absl::StatusOr<std::unique_ptr<SequenceModel>> made =
        MakeModel(source.run->spec().model(), info, /*seed=*/0);
    if (!made.ok()) {
      return Prefixed(
          made.status(),
          absl::StrCat(source.path, ": rebuilding its model on the ", info.name,
                       " data: "));
    }
    model = *std::move(made);
    std::vector<NamedTensor> tensors;
    for (const CheckpointTensor& t : source.checkpoint->tensors()) {
      ASSIGN_OR_RETURN(NamedTensor named, TensorFromProto(t, source.path));
      tensors.push_back(std::move(named));
    }
    RETURN_IF_ERROR(model->LoadStateDict(tensors, source.path));
  }

  const std::vector<std::string> files =
      task->EvaluationFiles(**dataset, split);
  std::fprintf(
      stderr,
      "evaluate: %s (%lld parameters) on the %s split of the %s data (%s%s), "
      "%d thread%s; data ready in %.1f s\n",
      source.path.c_str(),
      static_cast<long long>(model->params().num_trainable_elements()),
      SplitName(split), kind.c_str(),
      files.empty() ? ""
                    : absl::StrCat(files.size(),
                                   files.size() == 1 ? " file, " : " files, ")
                          .c_str(),
      spec_name.c_str(), threads, threads == 1 ? "" : "s",
      std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                    data_start)
          .count());
  ThreadPool pool(threads);
  Evaluator evaluator(*task, **dataset, model.get(), &pool);
  auto last = std::chrono::steady_clock::now();
  evaluator.set_progress([&](int done, int total) {
    const auto now = std::chrono::steady_clock::now();
    std::fprintf(stderr, "evaluate: [%d/%d] %s (%.1f s)\n", done, total,
                 done - 1 < static_cast<int>(files.size())
                     ? files[done - 1].c_str()
                     : "",
                 std::chrono::duration<double>(now - last).count());
    last = now;
  });
  ASSIGN_OR_RETURN(const EvalOutcome outcome, evaluator.Evaluate(split));
  std::fprintf(stderr, "evaluate: %s\n", outcome.summary.c_str());

  std::vector<std::pair<std::string, double>> metrics = outcome.reported;
  for (const auto& [name, value] : metrics) {
    std::printf("%s: %s\n", name.c_str(), Num(value).c_str());
  }
  std::fflush(stdout);
  if (!FLAGS_json.empty()) {
    metrics.insert(metrics.end(), outcome.scored.begin(), outcome.scored.end());
    RETURN_IF_ERROR(WriteJson(ResolveUserPath(FLAGS_json), metrics));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace elm

int main(int argc, char** argv) {
  // --set may repeat, which gflags does not allow: take them out first.
  std::vector<char*> rest;
  const std::vector<std::string> overrides =
      elm::TakeSetOverrides(argc, argv, &rest);
  int rest_argc = static_cast<int>(rest.size());
  char** rest_argv = rest.data();
  gflags::SetUsageMessage(
      "--model=<.pt|.txt|.ckpt> [--config=<model_config.json>] "
      "(--spec=<spec> | --data=<NeuronIO files or glob>) [--split=test] "
      "[--set a.b=value ...] [--threads=N] [--json=<file>]");
  gflags::ParseCommandLineFlags(&rest_argc, &rest_argv, true);
  google::InitGoogleLogging(argv[0]);
  const absl::Status status = elm::Main(overrides);
  if (!status.ok()) {
    std::fprintf(stderr, "evaluate: error: %s\n",
                 std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
