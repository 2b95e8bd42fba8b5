// The models an experiment can train, behind one interface. `SequenceModel` is
// what the trainer and the evaluators use: a parameter block, a forward over a
// batch of sparse input sequences that records on a tape, and a state_dict.
// MakeModel() builds the model a spec's `ModelSpec` selects: the built-in ELM /
// Branch-ELM (fused path), LSTM and LIF/ALIF, or a model registered by name
// from another library (RegisterModel, e.g. from another Bazel workspace: see
// examples/custom_neuron), whose own config message travels in
// `ModelSpec.custom.config` (a google.protobuf.Any).
//
// A custom model (examples/custom_neuron/gru_model.cc is a complete one):
// subclass SequenceModel over your own ParamSet<float> (Forward may densify
// the input with DenseInput; ParamStateDict / LoadParamStateDict implement the
// state_dict), then register a factory in a library linked with
// alwayslink = 1, so that the registration runs in every binary linking it:
//   absl::StatusOr<std::unique_ptr<elm::SequenceModel>> MakeGru(
//       const elm::ModelSpec& spec, const elm::DatasetInfo& info,
//       uint64_t seed) {
//     mylab::GruConfig config;  // defaults when the spec gives no config
//     if (spec.custom().has_config() &&
//         !spec.custom().config().UnpackTo(&config)) {
//       return absl::InvalidArgumentError("model.custom.config: not a ...");
//     }
//     return std::make_unique<GruSequenceModel>(
//         config, info.input_dim, elm::ModelOutputsFor(info), seed);
//   }
//   const bool kRegistered = elm::RegisterModel("gru", MakeGru);
// A spec then selects it with
//   model {
//     custom {
//       name: "gru"
//       config { [type.googleapis.com/mylab.GruConfig] { hidden: 32 } }
//     }
//   }
// The trainer trains, validates, tests and checkpoints it (StateDict) like a
// built-in model.
#ifndef ELM_EXPERIMENTS_MODEL_REGISTRY_H_
#define ELM_EXPERIMENTS_MODEL_REGISTRY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "autodiff/params.h"
#include "autodiff/tape.h"
#include "data/dataset.h"
#include "elm/fused_unroll.h"
#include "elm/model.h"
#include "elm/model_config.pb.h"
#include "experiments/proto/experiment.pb.h"
#include "io/elmtensor.h"

namespace elm {

// A trainable sequence model over float parameters.
class SequenceModel {
 public:
  virtual ~SequenceModel() = default;

  // The parameters; optimizers step the trainable prefix
  // (params().num_trainable_elements()).
  virtual ParamSet<float>& params() = 0;
  virtual const ParamSet<float>& params() const = 0;

  // The forward over B sequences of `steps` steps: x is CSR over the rows
  // b·T + t of [B·T, num_input] (elm/fused_unroll.h). Returns the per-step
  // outputs y [B·T, num_output]; parameter gradients accumulate into `grads`
  // when the tape runs backward (null: no gradients). Called concurrently
  // from several threads, each with its own tape and GradBlock, so it must
  // only read shared state.
  virtual Var<float> Forward(Tape<float>& tape, const CsrView& x, int64_t steps,
                             GradBlock<float>* grads) = 0;

  // The weights as named tensors (torch-compatible names where the model has
  // a reference), and loading them back. LoadStateDict errors name `source`
  // and the tensor.
  virtual std::vector<NamedTensor> StateDict() const = 0;
  virtual absl::Status LoadStateDict(absl::Span<const NamedTensor> tensors,
                                     absl::string_view source) = 0;

  // The ELM config of an ELM model (stored in checkpoints, so that
  // //elm:forward can load them), else null.
  virtual const ElmConfig* elm_config() const { return nullptr; }
};

// Builds a model for `spec` on data described by `info` (input_dim; outputs:
// 2 for NeuronIO, num_classes for classification), initialised from `seed`.
// Errors (InvalidArgument) name the spec field, e.g. "model.elm.num_input =
// 10; the data has 1278 inputs".
using ModelFactory =
    std::function<absl::StatusOr<std::unique_ptr<SequenceModel>>(
        const ModelSpec& spec, const DatasetInfo& info, uint64_t seed)>;

// Registers `factory` under `name` (letters, digits, '_'; not a built-in
// kind: elm, lstm, lif, alif). Returns true so that it can initialise a
// namespace-scope constant; CHECK-fails on a duplicate or bad name.
bool RegisterModel(const std::string& name, ModelFactory factory);

// The registered custom model names, sorted.
std::vector<std::string> RegisteredModelNames();

// "elm", "lstm", "lif", "alif", the custom model's name, or "" when no kind
// is set.
std::string ModelKindName(const ModelSpec& spec);

// The number of outputs a model must have for the data, its task's
// (experiments/tasks/task_factory.h): 2 (spike logit, scaled soma) for
// NeuronIO, num_classes for classification.
int64_t ModelOutputsFor(const DatasetInfo& info);

// The model of `spec`: built-in kinds directly, a custom kind through its
// registered factory (NotFound naming the known names when it is not
// registered). The ELM's num_input / num_output default to the data's.
absl::StatusOr<std::unique_ptr<SequenceModel>> MakeModel(
    const ModelSpec& spec, const DatasetInfo& info, uint64_t seed);

// A SequenceModel over an ELM model built elsewhere (e.g. loaded from a
// reference `.pt` file with elm/model_file.h): the adapter MakeModel uses for
// model.elm (fused path when the model allows it).
std::unique_ptr<SequenceModel> WrapElmModel(ElmModel<float> model);

// The ElmConfig MakeModel uses for `spec.elm()` on this data (num_input and
// num_output filled from the data when unset; a mismatch is an error naming
// the field).
absl::StatusOr<ElmConfig> ResolveElmConfig(const ModelSpec& spec,
                                           const DatasetInfo& info);

// The state_dict of a model whose weights are exactly its parameter block:
// one f32 tensor per parameter, named and shaped as in `params`.
std::vector<NamedTensor> ParamStateDict(const ParamSet<float>& params);
// Loads such a state_dict: every parameter present once with its element
// count, nothing else (errors name `source` and the tensor); all or nothing.
absl::Status LoadParamStateDict(absl::Span<const NamedTensor> tensors,
                                absl::string_view source,
                                ParamSet<float>* params);

// A dense constant [rows, cols] on `tape` holding the CSR input x, for models
// that take dense inputs.
Var<float> DenseInput(Tape<float>& tape, const CsrView& x);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_MODEL_REGISTRY_H_
