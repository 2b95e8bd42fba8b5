// Checkpoints of ELM models and their training state (elm/checkpoint.proto):
// atomic, checksummed save and validated load of a `Checkpoint` message;
// converters between NamedTensor (io/elmtensor.h) and CheckpointTensor;
// and building a checkpoint from an ElmModel plus optimizer and restoring both
// from one, so that training resumes bit for bit where it stopped. Every
// problem a user can cause (missing, truncated or corrupted file, unknown
// format version, a tensor or optimizer state that does not fit the model)
// comes back as an absl::Status naming the file and the tensor or field.
//
// Example:
//   // Save every k steps:
//   RETURN_IF_ERROR(SaveCheckpoint(
//       path, MakeModelCheckpoint(model, optimizer.get(), step)));
//   // Resume:
//   ASSIGN_OR_RETURN(Checkpoint ckpt, LoadCheckpoint(path));
//   ASSIGN_OR_RETURN(ElmModel<float> model,
//                    ElmModel<float>::Create(ckpt.model_config()));
//   RETURN_IF_ERROR(
//       RestoreModelCheckpoint(ckpt, &model, optimizer.get(), path));
//   int64_t step = ckpt.step();
#ifndef ELM_ELM_CHECKPOINT_H_
#define ELM_ELM_CHECKPOINT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "autodiff/optimizer.h"
#include "elm/checkpoint.pb.h"
#include "elm/model.h"
#include "io/elmtensor.h"

namespace elm {

// The format version this code writes and reads.
inline constexpr int32_t kCheckpointFormatVersion = 1;

// Writes `checkpoint` to `path` as binary protobuf followed by a trailer (byte
// count and checksum), atomically: it writes `path + ".tmp.<pid>"`, flushes
// and fsyncs it, renames it over `path` and fsyncs the directory (best
// effort), so `path` holds either the old or the new checkpoint, never a part.
// Fails (naming the path) when the directory does not exist or is not writable,
// when the disk is full, or when `checkpoint` has a format_version other than
// kCheckpointFormatVersion or a trailer set; the temporary file is removed on
// failure.
absl::Status SaveCheckpoint(const std::string& path,
                            const Checkpoint& checkpoint);

// Reads a checkpoint written by SaveCheckpoint. Errors, each naming the path:
// NotFound for a missing file; DataLoss for data that does not parse, a
// missing trailer (truncated file, or not a checkpoint), a byte count or
// checksum mismatch; InvalidArgument for an unknown format version or an
// invalid tensor (named). The trailer is cleared in the returned message.
absl::StatusOr<Checkpoint> LoadCheckpoint(const std::string& path);

// NamedTensor → CheckpointTensor. f32 values are stored as float (rounded,
// like the ELMTENSOR writer; NamedTensor's f32 values are floats already), f64
// as double, i64 and bool as int64/bool. The `sparse` flag is not kept (the
// tensor is dense either way). InvalidArgument naming the tensor when its
// dtype is unknown, a dim is negative, the value count is not the product of
// the shape (or the values are in the field of another dtype), or a bool is
// not 0 or 1.
absl::StatusOr<CheckpointTensor> TensorToProto(const NamedTensor& tensor);

// CheckpointTensor → NamedTensor (f32 values widened to double exactly). The
// same checks as TensorToProto; `source` (usually the path) starts every
// message, e.g. "ckpt.pb: tensor 'w_y.weight' has 5 values; its shape (2, 3)
// needs 6".
absl::StatusOr<NamedTensor> TensorFromProto(const CheckpointTensor& proto,
                                            absl::string_view source);

// The state of `optimizer` (kind, lr, step count, state vectors as F64
// tensors). CHECKs that an optimizer that has stepped was stepped over
// `num_params` values.
template <typename T>
CheckpointOptimizerState OptimizerStateToProto(const Optimizer<T>& optimizer,
                                               int64_t num_params);
// Restores `optimizer` from `state` saved for a parameter block of
// `num_params` trainable values: the kind must match, the state vectors must
// have the optimizer's names and num_params values each (none before the
// first step); the optimizer's lr is set to the saved one. Errors start with
// `source` and name the state vector; on error the optimizer is unchanged.
template <typename T>
absl::Status RestoreOptimizerState(const CheckpointOptimizerState& state,
                                   int64_t num_params, Optimizer<T>* optimizer,
                                   absl::string_view source);

// A checkpoint of `model` (config and StateDict(); floating tensors are f64
// for ElmModel<double>, so nothing is rounded), of `optimizer`'s state when
// it is not null (its kind, lr, step count and state vectors), and of the
// training `step`. CHECKs that an optimizer that has stepped was stepped over
// the model's whole parameter block.
template <typename T>
Checkpoint MakeModelCheckpoint(const ElmModel<T>& model,
                               const Optimizer<T>* optimizer, int64_t step);

// Restores `model` and, when not null, `optimizer` from `checkpoint`, so that
// the next training step continues exactly as the saved run would have. The
// checkpoint's model config must equal model->config() (the first difference
// is named); its tensors must match the model (ElmModel::LoadStateDict: a
// missing, misshapen or unexpected tensor is named with its expected shape).
// With an optimizer, the checkpoint must hold optimizer state of the same kind
// whose state vectors have the optimizer's names and one value per model
// parameter; the optimizer's lr is set to the saved one. `source` (usually the
// path) starts every message. On error neither `model` nor `optimizer` is
// changed. The training step is checkpoint.step().
template <typename T>
absl::Status RestoreModelCheckpoint(const Checkpoint& checkpoint,
                                    ElmModel<T>* model, Optimizer<T>* optimizer,
                                    absl::string_view source);

// Loads the checkpoint at `path` and builds the model it holds from its stored
// config and tensors (the optimizer state, if any, is ignored). A config that
// needs more trainable parameters than the stored tensors hold is refused
// before the model is allocated (a corrupt size cannot make a small file
// allocate up to the 400 MB of the largest model).
template <typename T>
absl::StatusOr<ElmModel<T>> LoadModelFromCheckpoint(const std::string& path);

extern template CheckpointOptimizerState OptimizerStateToProto<float>(
    const Optimizer<float>& optimizer, int64_t num_params);
extern template CheckpointOptimizerState OptimizerStateToProto<double>(
    const Optimizer<double>& optimizer, int64_t num_params);
extern template absl::Status RestoreOptimizerState<float>(
    const CheckpointOptimizerState& state, int64_t num_params,
    Optimizer<float>* optimizer, absl::string_view source);
extern template absl::Status RestoreOptimizerState<double>(
    const CheckpointOptimizerState& state, int64_t num_params,
    Optimizer<double>* optimizer, absl::string_view source);
extern template Checkpoint MakeModelCheckpoint<float>(
    const ElmModel<float>& model, const Optimizer<float>* optimizer,
    int64_t step);
extern template Checkpoint MakeModelCheckpoint<double>(
    const ElmModel<double>& model, const Optimizer<double>* optimizer,
    int64_t step);
extern template absl::Status RestoreModelCheckpoint<float>(
    const Checkpoint& checkpoint, ElmModel<float>* model,
    Optimizer<float>* optimizer, absl::string_view source);
extern template absl::Status RestoreModelCheckpoint<double>(
    const Checkpoint& checkpoint, ElmModel<double>* model,
    Optimizer<double>* optimizer, absl::string_view source);
extern template absl::StatusOr<ElmModel<float>> LoadModelFromCheckpoint<float>(
    const std::string& path);
extern template absl::StatusOr<ElmModel<double>>
LoadModelFromCheckpoint<double>(const std::string& path);

}  // namespace elm

#endif  // ELM_ELM_CHECKPOINT_H_
