// Built-in model adapters (ELM, LSTM, LIF/ALIF) and the custom-model registry.
#include "experiments/model_registry.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "autodiff/state_dict.h"
#include "base/status_macros.h"
#include "elm/lif.h"
#include "elm/lstm.h"
#include "elm/model.h"
#include "elm/model_config.h"
#include "experiments/task.h"
#include "experiments/tasks/neuronio_task.h"
#include "experiments/tasks/task_factory.h"
#include "glog/logging.h"

namespace elm {
namespace {

class ElmSequenceModel : public SequenceModel {
 public:
  // Long sequences whose stored activations would exceed the budget train
  // with checkpointing (every ⌈√T⌉ steps; fused_unroll.h).
  explicit ElmSequenceModel(ElmModel<float> model) : model_(std::move(model)) {
    FusedElmOptions options;
    options.memory_budget_bytes = int64_t{1} << 30;
    model_.set_fused_options(options);
  }
  ParamSet<float>& params() override { return model_.params(); }
  const ParamSet<float>& params() const override { return model_.params(); }
  Var<float> Forward(Tape<float>& tape, const CsrView& x, int64_t steps,
                     GradBlock<float>* grads) override {
    if (model_.CanFuse()) return model_.FusedUnroll(tape, x, steps, grads);
    return model_.Unroll(tape, DenseInput(tape, x), steps, grads).y;
  }
  std::vector<NamedTensor> StateDict() const override {
    return model_.StateDict();
  }
  absl::Status LoadStateDict(absl::Span<const NamedTensor> tensors,
                             absl::string_view source) override {
    return model_.LoadStateDict(tensors, "", source);
  }
  const ElmConfig* elm_config() const override { return &model_.config(); }

 private:
  ElmModel<float> model_;
};

class LstmSequenceModel : public SequenceModel {
 public:
  explicit LstmSequenceModel(LstmModel<float> model)
      : model_(std::move(model)) {}
  ParamSet<float>& params() override { return model_.params(); }
  const ParamSet<float>& params() const override { return model_.params(); }
  Var<float> Forward(Tape<float>& tape, const CsrView& x, int64_t steps,
                     GradBlock<float>* grads) override {
    return model_.FusedUnroll(tape, DenseInput(tape, x), steps, grads).y;
  }
  std::vector<NamedTensor> StateDict() const override {
    return model_.StateDict();
  }
  absl::Status LoadStateDict(absl::Span<const NamedTensor> tensors,
                             absl::string_view source) override {
    return model_.LoadStateDict(tensors, "", source);
  }

 private:
  LstmModel<float> model_;
};

class LifSequenceModel : public SequenceModel {
 public:
  explicit LifSequenceModel(LifModel<float> model) : model_(std::move(model)) {}
  ParamSet<float>& params() override { return model_.params(); }
  const ParamSet<float>& params() const override { return model_.params(); }
  Var<float> Forward(Tape<float>& tape, const CsrView& x, int64_t steps,
                     GradBlock<float>* grads) override {
    return model_.Unroll(tape, DenseInput(tape, x), steps, grads).y;
  }
  std::vector<NamedTensor> StateDict() const override {
    return ParamStateDict(model_.params());
  }
  absl::Status LoadStateDict(absl::Span<const NamedTensor> tensors,
                             absl::string_view source) override {
    return LoadParamStateDict(tensors, source, &model_.params());
  }

 private:
  LifModel<float> model_;
};

struct Registry {
  std::mutex mu;
  std::map<std::string, ModelFactory> factories;
};

Registry& GetRegistry() {
  static Registry* registry = new Registry;
  return *registry;
}

bool IsBuiltinName(absl::string_view name) {
  return name == "elm" || name == "lstm" || name == "lif" || name == "alif";
}

bool IsValidName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool RegisterModel(const std::string& name, ModelFactory factory) {
  CHECK(IsValidName(name)) << "RegisterModel: bad model name '" << name
                           << "' (letters, digits and '_')";
  CHECK(!IsBuiltinName(name))
      << "RegisterModel: '" << name << "' is a built-in model kind";
  CHECK(factory != nullptr);
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  CHECK(r.factories.emplace(name, std::move(factory)).second)
      << "RegisterModel: '" << name << "' is registered twice";
  return true;
}

std::vector<std::string> RegisteredModelNames() {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<std::string> names;
  for (const auto& [name, factory] : r.factories) names.push_back(name);
  return names;
}

std::string ModelKindName(const ModelSpec& spec) {
  switch (spec.kind_case()) {
    case ModelSpec::kElm:
      return "elm";
    case ModelSpec::kLstm:
      return "lstm";
    case ModelSpec::kLif:
      return spec.lif().adaptive() ? "alif" : "lif";
    case ModelSpec::kCustom:
      return spec.custom().name();
    case ModelSpec::KIND_NOT_SET:
      break;
  }
  return "";
}

int64_t ModelOutputsFor(const DatasetInfo& info) {
  return MakeTask(info, ExperimentSpec())->num_outputs();
}

std::unique_ptr<SequenceModel> WrapElmModel(ElmModel<float> model) {
  return std::make_unique<ElmSequenceModel>(std::move(model));
}

absl::StatusOr<ElmConfig> ResolveElmConfig(const ModelSpec& spec,
                                           const DatasetInfo& info) {
  ElmConfig config = spec.elm();
  const std::unique_ptr<Task> task = MakeTask(info, ExperimentSpec());
  const int64_t outputs = task->num_outputs();
  if (!config.has_num_input()) {
    config.set_num_input(static_cast<int32_t>(info.input_dim));
  } else if (config.num_input() != info.input_dim) {
    return absl::InvalidArgumentError(
        absl::StrCat("model.elm.num_input = ", config.num_input(), "; the ",
                     info.name, " data has ", info.input_dim, " inputs"));
  }
  if (!config.has_num_output()) {
    config.set_num_output(static_cast<int32_t>(outputs));
  } else if (config.num_output() != outputs) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model.elm.num_output = ", config.num_output(), "; the ", info.name,
        " data needs ", outputs, " (", task->outputs_description(), ")"));
  }
  return config;
}

absl::StatusOr<std::unique_ptr<SequenceModel>> MakeModel(
    const ModelSpec& spec, const DatasetInfo& info, uint64_t seed) {
  switch (spec.kind_case()) {
    case ModelSpec::kElm: {
      ASSIGN_OR_RETURN(ElmConfig config, ResolveElmConfig(spec, info));
      absl::StatusOr<ElmModel<float>> model =
          ElmModel<float>::Create(config, seed);
      if (!model.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("model.elm: ", model.status().message()));
      }
      return std::unique_ptr<SequenceModel>(
          new ElmSequenceModel(*std::move(model)));
    }
    case ModelSpec::kLstm: {
      LstmConfig config;
      config.num_input = static_cast<int>(info.input_dim);
      config.hidden = spec.lstm().hidden();
      config.chrono_t_max = spec.lstm().chrono_t_max();
      config.num_output = static_cast<int>(ModelOutputsFor(info));
      absl::StatusOr<LstmModel<float>> model =
          LstmModel<float>::Create(config, seed);
      if (!model.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("model.lstm: ", model.status().message()));
      }
      return std::unique_ptr<SequenceModel>(
          new LstmSequenceModel(*std::move(model)));
    }
    case ModelSpec::kLif: {
      const std::string task = MakeTask(info, ExperimentSpec())->name();
      if (task != kNeuronioTaskName) {
        return absl::InvalidArgumentError(absl::StrCat(
            "model.lif: the LIF/ALIF baselines have the NeuronIO head (spike "
            "and soma); the ",
            info.name, " data is a ", task, " task"));
      }
      const LifSpec& s = spec.lif();
      LifConfig config;
      config.num_input = static_cast<int>(info.input_dim);
      config.adaptive = s.adaptive();
      config.delta_t = info.delta_t_ms;
      config.tau_mem_init = s.tau_mem_init();
      config.tau_mem_min = s.tau_mem_min();
      config.tau_mem_max = s.tau_mem_max();
      config.tau_adapt_init = s.tau_adapt_init();
      config.tau_adapt_min = s.tau_adapt_min();
      config.tau_adapt_max = s.tau_adapt_max();
      config.adapt_strength_init = s.adapt_strength_init();
      config.threshold_init = s.threshold_init();
      config.surrogate_beta = s.surrogate_beta();
      absl::StatusOr<LifModel<float>> model =
          LifModel<float>::Create(config, seed);
      if (!model.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("model.lif: ", model.status().message()));
      }
      return std::unique_ptr<SequenceModel>(
          new LifSequenceModel(*std::move(model)));
    }
    case ModelSpec::kCustom: {
      ModelFactory factory;
      {
        Registry& r = GetRegistry();
        std::lock_guard<std::mutex> lock(r.mu);
        auto it = r.factories.find(spec.custom().name());
        if (it != r.factories.end()) factory = it->second;
      }
      if (factory == nullptr) {
        const std::vector<std::string> names = RegisteredModelNames();
        return absl::NotFoundError(absl::StrCat(
            "model.custom.name = '", spec.custom().name(),
            "' is not a registered model (registered: ",
            names.empty() ? "none" : absl::StrJoin(names, ", "),
            "); link the library that registers it into the binary, with "
            "alwayslink = 1"));
      }
      ASSIGN_OR_RETURN(std::unique_ptr<SequenceModel> model,
                       factory(spec, info, seed));
      if (model == nullptr) {
        return absl::InternalError(absl::StrCat(
            "the factory of model '", spec.custom().name(), "' returned null"));
      }
      return model;
    }
    case ModelSpec::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      "model: no kind set; set one of model.elm, model.lstm, model.lif, "
      "model.custom");
}

std::vector<NamedTensor> ParamStateDict(const ParamSet<float>& params) {
  std::vector<NamedTensor> out;
  for (const ParamInfo& info : params.infos()) {
    NamedTensor t;
    t.name = info.name;
    t.dtype = "f32";
    t.shape = {info.rows, info.cols};
    const float* v = params.data() + info.offset;
    t.values.assign(v, v + info.size());
    out.push_back(std::move(t));
  }
  return out;
}

absl::Status LoadParamStateDict(absl::Span<const NamedTensor> tensors,
                                absl::string_view source,
                                ParamSet<float>* params) {
  StateDictReader reader(tensors, /*prefix=*/"", source);
  RETURN_IF_ERROR(LoadParams(reader, params, [](const ParamInfo& p) {
    return std::vector<int64_t>{p.rows, p.cols};
  }));
  return reader.CheckAllUsed();
}

Var<float> DenseInput(Tape<float>& tape, const CsrView& x) {
  Var<float> v = tape.NewVar(x.rows, x.cols, /*needs_grad=*/false);
  std::fill(v.value, v.value + x.rows * x.cols, 0.0f);
  for (int64_t r = 0; r < x.rows; ++r) {
    float* row = v.value + r * x.cols;
    for (int64_t k = x.row_begin[r]; k < x.row_begin[r + 1]; ++k) {
      row[x.col[k]] += x.value[k];
    }
  }
  return v;
}

}  // namespace elm
