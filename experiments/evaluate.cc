// //experiments:evaluate as a library (see evaluate.h).
#include "experiments/evaluate.h"

#include <charconv>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "base/thread_pool.h"
#include "base/user_path.h"
#include "data/dataset.h"
#include "data/dataset_factory.h"
#include "data/neuronio.h"
#include "elm/checkpoint.h"
#include "elm/model.h"
#include "elm/model_file.h"
#include "experiments/evaluation.h"
#include "experiments/json_output.h"
#include "experiments/model_registry.h"
#include "experiments/proto/experiment.pb.h"
#include "experiments/spec.h"
#include "experiments/tasks/task_factory.h"
#include "google/protobuf/struct.pb.h"

namespace elm {
namespace {

using Clock = std::chrono::steady_clock;

absl::Status Prefixed(const absl::Status& status, absl::string_view prefix) {
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

// The flags that need no file: the split, and their combinations.
absl::StatusOr<Split> CheckFlags(const EvaluateOptions& options) {
  if (options.model.empty()) {
    return absl::InvalidArgumentError(
        "--model is required: a reference .pt (with its model_config.json), "
        "ELMTENSOR .txt weights, or a .ckpt");
  }
  absl::StatusOr<Split> split = ParseSplit(options.split);
  if (!split.ok()) return Prefixed(split.status(), "--split: ");
  // The same range as train.threads (issue 18: 100000 aborted creating
  // threads).
  if (options.threads < 0 || options.threads > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat("--threads = ", options.threads,
                     "; expected 1 to 256 (0: the spec's train.threads)"));
  }
  if (!options.data.empty() && *split != Split::kTest) {
    return absl::InvalidArgumentError(
        absl::StrCat("--data sets the test split; --split=", options.split,
                     " cannot be used with it (use a spec)"));
  }
  return *split;
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

// `config`: --config, resolved, or empty.
absl::StatusOr<ModelSource> LoadModelSource(const std::string& path,
                                            const std::string& config) {
  ModelSource source;
  source.path = path;
  if (!std::filesystem::exists(path)) {
    return absl::NotFoundError(
        absl::StrCat("--model: model file '", path, "' does not exist"));
  }
  if (ElmModelFileNeedsConfig(path)) {
    ElmModelFileOptions options;
    options.config_path = config;
    ASSIGN_OR_RETURN(ElmModel<float> model,
                     LoadElmModelFile<float>(path, options));
    source.elm = std::move(model);
    return source;
  }
  if (!config.empty()) {
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

// The spec whose data and eval sections are evaluated, and where its data
// section came from (for messages).
struct EvaluationSpec {
  ExperimentSpec spec;
  std::string name;
};

// The spec: --spec, else a run checkpoint's own, else the defaults (with
// --data); then --data and --set, checked against the model and validated.
absl::StatusOr<EvaluationSpec> ResolveEvaluationSpec(
    const EvaluateOptions& options, const ModelSource& source) {
  EvaluationSpec out;
  ExperimentSpec& spec = out.spec;
  if (!options.spec.empty()) {
    out.name = ResolveUserPath(options.spec);
    ASSIGN_OR_RETURN(spec, ReadExperimentSpecFile(out.name));
  } else if (source.run.has_value()) {
    spec = source.run->spec();
    out.name = absl::StrCat("the spec of the run in ", source.path);
  } else if (options.data.empty() && options.overrides.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "nothing to evaluate ", source.path,
        " on: pass --data=<NeuronIO files or glob> or --spec=<experiment "
        "spec with a data section>"));
  }
  // A run's classification readout belongs to its model.
  if (source.run.has_value()) {
    *spec.mutable_model() = source.run->spec().model();
  }
  if (!options.data.empty()) {
    NeuronioSpec neuronio;
    if (spec.data().has_neuronio()) neuronio = spec.data().neuronio();
    neuronio.clear_generate();
    neuronio.clear_train_files();
    neuronio.clear_valid_files();
    neuronio.clear_test_files();
    neuronio.add_test_files(options.data);
    *spec.mutable_data()->mutable_neuronio() = std::move(neuronio);
    out.name = "--data";
  }
  for (const std::string& o : options.overrides) {
    RETURN_IF_ERROR(ApplySpecOverride(o, &spec));
  }
  if (!options.overrides.empty() && out.name.empty()) out.name = "--set";

  const std::string kind = DatasetKindName(spec.data());
  if (kind.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        out.name,
        " has no data section: set data.neuronio.test_files (or "
        "another dataset), or pass --data=<NeuronIO files or glob>"));
  }
  if (IsNeuronioModel(source) && !spec.data().has_neuronio()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source.path,
        " is a NeuronIO model (spike and soma outputs), but the data of ",
        out.name, " is ", kind,
        "; evaluate it on NeuronIO data: data.neuronio in the spec, or "
        "--data=<files or glob>"));
  }
  const absl::Status valid = ValidateForEvaluation(spec);
  if (!valid.ok()) return Prefixed(valid, absl::StrCat(out.name, ": "));
  // Every file of the split, also for valid (the trainer scores the first
  // eval.valid_files).
  spec.mutable_eval()->set_valid_files(INT_MAX);
  return out;
}

// The model of `source` for data described by `info` (from `spec_name`),
// checked against the data.
absl::StatusOr<std::unique_ptr<SequenceModel>> BuildModel(
    ModelSource source, const DatasetInfo& info, const Task& task,
    const std::string& spec_name) {
  if (source.elm.has_value()) {
    const ElmConfig& c = source.elm->config();
    const int64_t outputs = task.num_outputs();
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
    return WrapElmModel(*std::move(source.elm));
  }
  absl::StatusOr<std::unique_ptr<SequenceModel>> made =
      MakeModel(source.run->spec().model(), info, /*seed=*/0);
  if (!made.ok()) {
    return Prefixed(made.status(),
                    absl::StrCat(source.path, ": rebuilding its model on the ",
                                 info.name, " data: "));
  }
  std::vector<NamedTensor> tensors;
  for (const CheckpointTensor& t : source.checkpoint->tensors()) {
    ASSIGN_OR_RETURN(NamedTensor named, TensorFromProto(t, source.path));
    tensors.push_back(std::move(named));
  }
  RETURN_IF_ERROR((*made)->LoadStateDict(tensors, source.path));
  return made;
}

}  // namespace

absl::StatusOr<EvalOutcome> EvaluateModel(const EvaluateOptions& options) {
  ASSIGN_OR_RETURN(const Split split, CheckFlags(options));
  ASSIGN_OR_RETURN(
      ModelSource source,
      LoadModelSource(
          ResolveUserPath(options.model),
          options.config.empty() ? "" : ResolveUserPath(options.config)));
  ASSIGN_OR_RETURN(const EvaluationSpec resolved,
                   ResolveEvaluationSpec(options, source));
  const ExperimentSpec& spec = resolved.spec;
  const int threads =
      options.threads > 0 ? options.threads : spec.train().threads();

  DatasetSpec data = spec.data();
  {
    const absl::Status kept = KeepSplitOnly(split, &data);
    if (!kept.ok()) return Prefixed(kept, absl::StrCat(resolved.name, ": "));
  }
  const auto data_start = Clock::now();
  absl::StatusOr<std::unique_ptr<Dataset>> dataset = MakeDataset(data);
  if (!dataset.ok()) {
    return Prefixed(dataset.status(), absl::StrCat(resolved.name, ": "));
  }
  const DatasetInfo& info = (*dataset)->info();
  const std::unique_ptr<Task> task = MakeTask(info, spec);
  const std::string model_path = source.path;
  ASSIGN_OR_RETURN(std::unique_ptr<SequenceModel> model,
                   BuildModel(std::move(source), info, *task, resolved.name));

  const std::vector<std::string> files =
      task->EvaluationFiles(**dataset, split);
  std::fprintf(
      stderr,
      "evaluate: %s (%lld parameters) on the %s split of the %s data (%s%s), "
      "%d thread%s; data ready in %.1f s\n",
      model_path.c_str(),
      static_cast<long long>(model->params().num_trainable_elements()),
      SplitName(split), DatasetKindName(spec.data()).c_str(),
      files.empty() ? ""
                    : absl::StrCat(files.size(),
                                   files.size() == 1 ? " file, " : " files, ")
                          .c_str(),
      resolved.name.c_str(), threads, threads == 1 ? "" : "s",
      std::chrono::duration<double>(Clock::now() - data_start).count());
  ThreadPool pool(threads);
  Evaluator evaluator(*task, **dataset, model.get(), &pool);
  auto last = Clock::now();
  evaluator.set_progress([&](int done, int total) {
    const auto now = Clock::now();
    std::fprintf(stderr, "evaluate: [%d/%d] %s (%.1f s)\n", done, total,
                 done - 1 < static_cast<int>(files.size())
                     ? files[done - 1].c_str()
                     : "",
                 std::chrono::duration<double>(now - last).count());
    last = now;
  });
  ASSIGN_OR_RETURN(EvalOutcome outcome, evaluator.Evaluate(split));
  std::fprintf(stderr, "evaluate: %s\n", outcome.summary.c_str());
  return outcome;
}

std::string MetricLines(const EvalOutcome& outcome) {
  std::string lines;
  for (const auto& [name, value] : outcome.reported) {
    absl::StrAppend(&lines, name, ": ", Num(value), "\n");
  }
  return lines;
}

absl::StatusOr<std::string> MetricsJson(const EvalOutcome& outcome) {
  google::protobuf::Struct json;
  auto& fields = *json.mutable_fields();
  for (const auto& [name, value] : outcome.reported) {
    fields[name] = JsonNumber(value);
  }
  for (const auto& [name, value] : outcome.scored) {
    fields[name] = JsonNumber(value);
  }
  return JsonText(json);
}

absl::Status RunEvaluate(const EvaluateOptions& options) {
  ASSIGN_OR_RETURN(const EvalOutcome outcome, EvaluateModel(options));
  std::fputs(MetricLines(outcome).c_str(), stdout);
  std::fflush(stdout);
  if (options.json.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(const std::string json, MetricsJson(outcome));
  const std::string path = ResolveUserPath(options.json);
  return WriteFileAtomically(path, json, "--json file");
}

}  // namespace elm
