// FuzzCheckpoint and CheckpointFuzzSeed: see checkpoint_fuzz.h.
#include "elm/checkpoint_fuzz.h"

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "autodiff/optimizer.h"
#include "base/checksum.h"
#include "base/status_macros.h"
#include "elm/checkpoint.h"
#include "elm/model.h"
#include "glog/logging.h"
#include "io/reader_fuzz.h"

namespace elm {
namespace {

std::unique_ptr<Optimizer<float>> MakeAdam() {
  absl::StatusOr<std::unique_ptr<Optimizer<float>>> adam =
      MakeOptimizer<float>(OptimizerConfig{});
  CHECK(adam.ok()) << adam.status();
  return *std::move(adam);
}

}  // namespace

absl::Status FuzzCheckpoint(absl::string_view body,
                            const std::string& scratch_path) {
  // The trailer as SaveCheckpoint writes it: a Checkpoint holding only the
  // trailer field, which appended to the body sets that field.
  Checkpoint only_trailer;
  only_trailer.mutable_trailer()->set_body_size(body.size());
  only_trailer.mutable_trailer()->set_body_fnv1a64(Fnv1a64(body));
  std::string bytes(body);
  CHECK(only_trailer.AppendToString(&bytes));
  if (!WriteFuzzScratch(scratch_path, bytes)) {
    return absl::InternalError(absl::StrCat("cannot write ", scratch_path));
  }
  // As evaluate and forward load a model, then the resume's restore.
  ASSIGN_OR_RETURN(ElmModel<float> model,
                   LoadModelFromCheckpoint<float>(scratch_path));
  ASSIGN_OR_RETURN(const Checkpoint checkpoint, LoadCheckpoint(scratch_path));
  if (!checkpoint.has_optimizer()) return absl::OkStatus();
  std::unique_ptr<Optimizer<float>> adam = MakeAdam();
  return RestoreModelCheckpoint<float>(checkpoint, &model, adam.get(),
                                       scratch_path);
}

std::string CheckpointFuzzSeed() {
  ElmConfig config;
  config.set_num_input(4);
  config.set_num_output(2);
  config.set_num_memory(2);
  config.set_mlp_hidden_size(4);
  absl::StatusOr<ElmModel<float>> model = ElmModel<float>::Create(config, 1);
  CHECK(model.ok()) << model.status();
  std::unique_ptr<Optimizer<float>> adam = MakeAdam();
  ParamSet<float>& params = model->params();
  const std::vector<float> grads(params.num_elements(), 0.25f);
  adam->Step(params.data(), grads.data(), params.num_trainable_elements());
  std::string body;
  CHECK(MakeModelCheckpoint<float>(*model, adam.get(), /*step=*/1)
            .SerializeToString(&body));
  return body;
}

}  // namespace elm
