// Registers the GRU with elm's trainer under the name "gru"; a spec selects it
// with
//   model {
//     custom {
//       name: "gru"
//       config { [type.googleapis.com/mylab.GruConfig] { hidden: 32 } }
//     }
//   }
// The library is linked with alwayslink = 1, so that the registration below
// runs in every binary that depends on it, although nothing calls into it.
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "experiments/model_registry.h"
#include "gru.h"
#include "gru_config.pb.h"

namespace mylab {
namespace {

// The trainer's view of a model (experiments/model_registry.h).
class GruSequenceModel : public elm::SequenceModel {
 public:
  explicit GruSequenceModel(GruModel<float> model) : model_(std::move(model)) {}
  elm::ParamSet<float>& params() override { return model_.params(); }
  const elm::ParamSet<float>& params() const override {
    return model_.params();
  }
  elm::Var<float> Forward(elm::Tape<float>& tape, const elm::CsrView& x,
                          int64_t steps,
                          elm::GradBlock<float>* grads) override {
    return model_.Forward(tape, elm::DenseInput(tape, x), steps, grads);
  }
  std::vector<elm::NamedTensor> StateDict() const override {
    return elm::ParamStateDict(model_.params());
  }
  absl::Status LoadStateDict(absl::Span<const elm::NamedTensor> tensors,
                             absl::string_view source) override {
    return elm::LoadParamStateDict(tensors, source, &model_.params());
  }

 private:
  GruModel<float> model_;
};

absl::StatusOr<std::unique_ptr<elm::SequenceModel>> MakeGru(
    const elm::ModelSpec& spec, const elm::DatasetInfo& info, uint64_t seed) {
  GruConfig config;  // the defaults when the spec gives no config
  if (spec.custom().has_config() && !spec.custom().config().UnpackTo(&config)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model.custom.config is a ", spec.custom().config().type_url(),
        "; the gru model expects a mylab.GruConfig"));
  }
  ASSIGN_OR_RETURN(GruModel<float> model,
                   GruModel<float>::Create(config, info.input_dim,
                                           elm::ModelOutputsFor(info), seed));
  return std::unique_ptr<elm::SequenceModel>(
      new GruSequenceModel(std::move(model)));
}

const bool kRegistered = elm::RegisterModel("gru", MakeGru);

}  // namespace
}  // namespace mylab
