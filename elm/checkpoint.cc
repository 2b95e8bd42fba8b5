// Implementation of elm/checkpoint.h: the file written with
// WriteFileAtomically (base/files.h), the trailer (a CheckpointTrailer appended
// as field 15 of the serialized body, so the file stays one Checkpoint
// message), tensor conversion with validation, and model/optimizer checkpoint
// assembly and restore.
#include "elm/checkpoint.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "base/checksum.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "glog/logging.h"
#include "google/protobuf/util/message_differencer.h"

namespace elm {
namespace {

// "<source>: " or "" when source is empty.
std::string Prefix(absl::string_view source) {
  return source.empty() ? std::string() : absl::StrCat(source, ": ");
}

absl::Status TensorError(absl::string_view source, absl::string_view name,
                         absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat(Prefix(source), "tensor '", name, "' ", problem));
}

// The number of elements of `shape`, or an error for a negative dim or a
// product that does not fit in int64.
template <typename Dims>
absl::StatusOr<int64_t> CheckedNumElements(const Dims& shape,
                                           absl::string_view source,
                                           absl::string_view name) {
  for (int64_t d : shape) {
    if (d < 0) {
      return TensorError(source, name,
                         absl::StrCat("has a negative dim in its shape ",
                                      ShapeString(std::vector<int64_t>(
                                          shape.begin(), shape.end()))));
    }
  }
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d == 0) return 0;
  }
  for (int64_t d : shape) {
    if (n > std::numeric_limits<int64_t>::max() / d) {
      return TensorError(source, name,
                         absl::StrCat("has a shape too large to hold: ",
                                      ShapeString(std::vector<int64_t>(
                                          shape.begin(), shape.end()))));
    }
    n *= d;
  }
  return n;
}

absl::Status CountError(absl::string_view source, absl::string_view name,
                        int64_t have, const std::vector<int64_t>& shape,
                        int64_t want) {
  return TensorError(source, name,
                     absl::StrCat("has ", have, " values; its shape ",
                                  ShapeString(shape), " needs ", want));
}

const char* DTypeName(CheckpointTensor::DType dtype) {
  switch (dtype) {
    case CheckpointTensor::F32:
      return "f32";
    case CheckpointTensor::F64:
      return "f64";
    case CheckpointTensor::I64:
      return "i64";
    case CheckpointTensor::BOOL:
      return "bool";
    default:
      return nullptr;
  }
}

// The bytes of `Checkpoint{trailer: {body_size, hash}}`: appended to a body,
// they set the trailer field of the whole message.
std::string EncodeTrailer(uint64_t body_size, uint64_t hash) {
  Checkpoint only_trailer;
  only_trailer.mutable_trailer()->set_body_size(body_size);
  only_trailer.mutable_trailer()->set_body_fnv1a64(hash);
  std::string out;
  CHECK(only_trailer.SerializeToString(&out));
  return out;
}

// Validates a tensor message; with `out` set, also converts it.
absl::Status CheckTensorProto(const CheckpointTensor& t,
                              absl::string_view source, NamedTensor* out) {
  const std::string& name = t.name();
  const char* dtype = DTypeName(t.dtype());
  if (dtype == nullptr) {  // unset or DTYPE_UNSPECIFIED
    return TensorError(source, name,
                       "has no dtype; expected f32, f64, i64 or bool");
  }
  ASSIGN_OR_RETURN(const int64_t n,
                   CheckedNumElements(t.shape(), source, name));
  const std::vector<int64_t> shape(t.shape().begin(), t.shape().end());
  struct Field {
    CheckpointTensor::DType dtype;
    int64_t size;
  };
  const Field fields[] = {
      {CheckpointTensor::F32, t.f32_values_size()},
      {CheckpointTensor::F64, t.f64_values_size()},
      {CheckpointTensor::I64, t.i64_values_size()},
      {CheckpointTensor::BOOL, t.bool_values_size()},
  };
  for (const Field& f : fields) {
    if (f.dtype == t.dtype()) {
      if (f.size != n) return CountError(source, name, f.size, shape, n);
    } else if (f.size != 0) {
      return TensorError(
          source, name,
          absl::StrCat("has dtype ", dtype, " but holds ", f.size, " ",
                       DTypeName(f.dtype), " values"));
    }
  }
  if (out == nullptr) return absl::OkStatus();
  out->name = name;
  out->dtype = dtype;
  out->shape = shape;
  out->sparse = false;
  out->values.clear();
  out->int_values.clear();
  switch (t.dtype()) {
    case CheckpointTensor::F32:
      out->values.assign(t.f32_values().begin(), t.f32_values().end());
      break;
    case CheckpointTensor::F64:
      out->values.assign(t.f64_values().begin(), t.f64_values().end());
      break;
    case CheckpointTensor::I64:
      out->int_values.assign(t.i64_values().begin(), t.i64_values().end());
      break;
    case CheckpointTensor::BOOL:
      out->int_values.assign(t.bool_values().begin(), t.bool_values().end());
      break;
    default:
      LOG(FATAL) << "unreachable";
  }
  return absl::OkStatus();
}

// Every tensor of a loaded checkpoint is valid, and names are unique.
absl::Status CheckTensors(const Checkpoint& c, absl::string_view source) {
  absl::flat_hash_set<std::string> names;
  for (const CheckpointTensor& t : c.tensors()) {
    RETURN_IF_ERROR(CheckTensorProto(t, source, nullptr));
    if (!names.insert(t.name()).second) {
      return TensorError(source, t.name(), "appears twice");
    }
  }
  names.clear();
  for (const CheckpointTensor& t : c.optimizer().state()) {
    RETURN_IF_ERROR(CheckTensorProto(
        t, absl::StrCat(source, ": optimizer state"), nullptr));
    if (!names.insert(t.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": optimizer state '", t.name(), "' appears twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckVersion(const Checkpoint& c, absl::string_view source) {
  if (c.format_version() != kCheckpointFormatVersion) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": unknown checkpoint format version ", c.format_version(),
        c.has_format_version() ? "" : " (unset)", "; this build reads version ",
        kCheckpointFormatVersion));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SaveCheckpoint(const std::string& path,
                            const Checkpoint& checkpoint) {
  if (checkpoint.format_version() != kCheckpointFormatVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot save a checkpoint with format_version ",
                     checkpoint.format_version(), "; set it to ",
                     kCheckpointFormatVersion, " (MakeModelCheckpoint does)"));
  }
  if (checkpoint.has_trailer()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ": cannot save a checkpoint with its trailer field set; the "
        "trailer is written by SaveCheckpoint"));
  }
  const size_t body_size = checkpoint.ByteSizeLong();
  if (body_size > static_cast<size_t>(INT_MAX) - 64) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": checkpoint is ", body_size,
                     " bytes; a protobuf message must stay under 2 GiB"));
  }
  std::string data;
  data.reserve(body_size + 32);
  if (!checkpoint.SerializeToString(&data)) {
    return absl::InternalError(
        absl::StrCat(path, ": cannot serialize the checkpoint"));
  }
  absl::StrAppend(&data, EncodeTrailer(data.size(), Fnv1a64(data)));

  return WriteFileAtomically(path, data, "checkpoint");
}

absl::StatusOr<Checkpoint> LoadCheckpoint(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string data,
                   ReadFileToString(path, "checkpoint"));

  Checkpoint c;
  if (!c.ParseFromString(data)) {
    return absl::DataLossError(absl::StrCat(
        path, ": not a valid checkpoint: the ", data.size(),
        " bytes do not parse as elm.Checkpoint (truncated, corrupted, or not "
        "a checkpoint)"));
  }
  if (c.has_format_version()) RETURN_IF_ERROR(CheckVersion(c, path));
  if (!c.has_trailer() || !c.trailer().has_body_size() ||
      !c.trailer().has_body_fnv1a64()) {
    return absl::DataLossError(absl::StrCat(
        path, ": not a complete checkpoint: its trailer is missing (the ",
        data.size(),
        "-byte file is empty, truncated, or was not written by "
        "SaveCheckpoint)"));
  }
  const uint64_t body_size = c.trailer().body_size();
  const std::string trailer =
      EncodeTrailer(body_size, c.trailer().body_fnv1a64());
  if (body_size > data.size() || data.size() - body_size != trailer.size() ||
      data.compare(body_size, std::string::npos, trailer) != 0) {
    return absl::DataLossError(
        absl::StrCat(path, ": not a complete checkpoint: its trailer records ",
                     body_size, " bytes before it, but the file is ",
                     data.size(), " bytes (truncated or appended to)"));
  }
  if (Fnv1a64(absl::string_view(data).substr(0, body_size)) !=
      c.trailer().body_fnv1a64()) {
    return absl::DataLossError(
        absl::StrCat(path, ": checkpoint is corrupted: checksum mismatch"));
  }
  RETURN_IF_ERROR(CheckVersion(c, path));
  RETURN_IF_ERROR(CheckTensors(c, path));
  c.clear_trailer();
  return c;
}

absl::StatusOr<CheckpointTensor> TensorToProto(const NamedTensor& tensor) {
  const std::string& name = tensor.name;
  CheckpointTensor out;
  out.set_name(name);
  if (tensor.dtype == "f32") {
    out.set_dtype(CheckpointTensor::F32);
  } else if (tensor.dtype == "f64") {
    out.set_dtype(CheckpointTensor::F64);
  } else if (tensor.dtype == "i64") {
    out.set_dtype(CheckpointTensor::I64);
  } else if (tensor.dtype == "bool") {
    out.set_dtype(CheckpointTensor::BOOL);
  } else {
    return TensorError("", name,
                       absl::StrCat("has unknown dtype '", tensor.dtype,
                                    "'; expected f32, f64, i64 or bool"));
  }
  ASSIGN_OR_RETURN(const int64_t n, CheckedNumElements(tensor.shape, "", name));
  const bool floating = tensor.is_floating();
  const int64_t have = static_cast<int64_t>(
      floating ? tensor.values.size() : tensor.int_values.size());
  const int64_t other = static_cast<int64_t>(floating ? tensor.int_values.size()
                                                      : tensor.values.size());
  if (have != n) return CountError("", name, have, tensor.shape, n);
  if (other != 0) {
    return TensorError(
        "", name,
        absl::StrCat("has dtype ", tensor.dtype, " but also holds ", other,
                     floating ? " integer" : " floating-point", " values"));
  }
  out.mutable_shape()->Add(tensor.shape.begin(), tensor.shape.end());
  switch (out.dtype()) {
    case CheckpointTensor::F32:
      out.mutable_f32_values()->Reserve(static_cast<int>(n));
      for (double v : tensor.values) {
        out.add_f32_values(static_cast<float>(v));
      }
      break;
    case CheckpointTensor::F64:
      out.mutable_f64_values()->Add(tensor.values.begin(), tensor.values.end());
      break;
    case CheckpointTensor::I64:
      out.mutable_i64_values()->Add(tensor.int_values.begin(),
                                    tensor.int_values.end());
      break;
    case CheckpointTensor::BOOL:
      out.mutable_bool_values()->Reserve(static_cast<int>(n));
      for (size_t i = 0; i < tensor.int_values.size(); ++i) {
        const int64_t v = tensor.int_values[i];
        if (v != 0 && v != 1) {
          return TensorError(
              "", name,
              absl::StrCat("holds ", v, " at ", i, "; a bool must be 0 or 1"));
        }
        out.add_bool_values(v == 1);
      }
      break;
    default:
      LOG(FATAL) << "unreachable";
  }
  return out;
}

absl::StatusOr<NamedTensor> TensorFromProto(const CheckpointTensor& proto,
                                            absl::string_view source) {
  NamedTensor out;
  RETURN_IF_ERROR(CheckTensorProto(proto, source, &out));
  return out;
}

template <typename T>
CheckpointOptimizerState OptimizerStateToProto(const Optimizer<T>& optimizer,
                                               int64_t num_params) {
  CHECK(optimizer.step_count() == 0 ||
        static_cast<int64_t>(optimizer.size()) == num_params)
      << "OptimizerStateToProto: the optimizer steps " << optimizer.size()
      << " values, the model has " << num_params << " parameters";
  CheckpointOptimizerState o;
  o.set_kind(std::string(OptimizerKindName(optimizer.kind())));
  o.set_lr(optimizer.lr());
  o.set_step_count(optimizer.step_count());
  for (const auto& s : optimizer.State()) {
    CheckpointTensor* t = o.add_state();
    t->set_name(s.name);
    t->set_dtype(CheckpointTensor::F64);
    t->add_shape(static_cast<int64_t>(s.values->size()));
    t->mutable_f64_values()->Add(s.values->begin(), s.values->end());
  }
  return o;
}

namespace {

template <typename T>
absl::StatusOr<std::vector<std::vector<double>>> CheckOptimizerState(
    const CheckpointOptimizerState& o, int64_t num_params,
    const Optimizer<T>& optimizer, absl::string_view source) {
  std::vector<std::vector<double>> state_values;
  const absl::string_view kind = OptimizerKindName(optimizer.kind());
  if (o.kind() != kind) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": optimizer state is for '", o.kind(),
                     "'; the optimizer is '", kind, "'"));
  }
  if (!(std::isfinite(o.lr()) && o.lr() >= 0.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": optimizer lr = ", o.lr(), "; expected a finite value >= 0"));
  }
  if (o.step_count() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": optimizer step_count = ", o.step_count(),
                     "; expected >= 0"));
  }
  const int64_t want = o.step_count() > 0 ? num_params : 0;
  absl::flat_hash_map<std::string, const CheckpointTensor*> saved;
  for (const CheckpointTensor& t : o.state()) {
    if (!saved.emplace(t.name(), &t).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": optimizer state '", t.name(), "' appears twice"));
    }
  }
  std::vector<std::string> names;
  for (const auto& s : optimizer.State()) names.push_back(s.name);
  for (const CheckpointTensor& t : o.state()) {
    if (std::find(names.begin(), names.end(), t.name()) == names.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": unexpected optimizer state '", t.name(), "' for this ",
          kind, " optimizer (it keeps ",
          names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
    }
  }
  for (const std::string& name : names) {
    auto it = saved.find(name);
    if (it == saved.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": missing optimizer state '", name, "'"));
    }
    ASSIGN_OR_RETURN(
        NamedTensor t,
        TensorFromProto(*it->second,
                        absl::StrCat(source, ": optimizer state")));
    if (t.dtype != "f64") {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": optimizer state '", name, "' has dtype ",
                       t.dtype, "; expected f64"));
    }
    if (t.shape != std::vector<int64_t>{want}) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": optimizer state '", name, "' has shape ",
          ShapeString(t.shape), "; expected ", ShapeString({want}),
          o.step_count() > 0
              ? absl::StrCat(
                    ": one value per trainable model parameter (the model "
                    "has ",
                    num_params, ")")
              : std::string(": empty, as the optimizer had not stepped")));
    }
    state_values.push_back(std::move(t.values));
  }
  return state_values;
}

template <typename T>
void ApplyOptimizerState(const CheckpointOptimizerState& o, int64_t num_params,
                         std::vector<std::vector<double>> state_values,
                         Optimizer<T>* optimizer) {
  optimizer->PrepareRestore(static_cast<size_t>(num_params), o.step_count());
  std::vector<typename Optimizer<T>::StateVector> state =
      optimizer->MutableState();
  CHECK_EQ(state.size(), state_values.size());
  for (size_t i = 0; i < state.size(); ++i) {
    CHECK_EQ(state[i].values->size(), state_values[i].size()) << state[i].name;
    *state[i].values = std::move(state_values[i]);
  }
  optimizer->set_lr(o.lr());
}

}  // namespace

template <typename T>
absl::Status RestoreOptimizerState(const CheckpointOptimizerState& state,
                                   int64_t num_params, Optimizer<T>* optimizer,
                                   absl::string_view source) {
  CHECK(optimizer != nullptr);
  ASSIGN_OR_RETURN(std::vector<std::vector<double>> values,
                   CheckOptimizerState(state, num_params, *optimizer, source));
  ApplyOptimizerState(state, num_params, std::move(values), optimizer);
  return absl::OkStatus();
}

template <typename T>
Checkpoint MakeModelCheckpoint(const ElmModel<T>& model,
                               const Optimizer<T>* optimizer, int64_t step) {
  Checkpoint c;
  c.set_format_version(kCheckpointFormatVersion);
  *c.mutable_model_config() = model.config();
  for (NamedTensor& t : model.StateDict()) {
    absl::StatusOr<CheckpointTensor> proto = TensorToProto(t);
    CHECK(proto.ok()) << proto.status();
    *c.add_tensors() = *std::move(proto);
  }
  if (optimizer != nullptr) {
    *c.mutable_optimizer() = OptimizerStateToProto(
        *optimizer, model.params().num_trainable_elements());
  }
  c.set_step(step);
  return c;
}

template <typename T>
absl::Status RestoreModelCheckpoint(const Checkpoint& checkpoint,
                                    ElmModel<T>* model, Optimizer<T>* optimizer,
                                    absl::string_view source) {
  CHECK(model != nullptr);
  RETURN_IF_ERROR(CheckVersion(checkpoint, source));
  if (!checkpoint.has_model_config()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": checkpoint has no model_config"));
  }
  {
    google::protobuf::util::MessageDifferencer differ;
    differ.set_message_field_comparison(
        google::protobuf::util::MessageDifferencer::EQUIVALENT);
    std::string report;
    differ.ReportDifferencesToString(&report);
    if (!differ.Compare(model->config(), checkpoint.model_config())) {
      return absl::InvalidArgumentError(absl::StrCat(
          source,
          ": the checkpoint's model_config differs from the model's (model "
          "-> checkpoint): ",
          absl::StrReplaceAll(absl::StripSuffix(report, "\n"),
                              {{"\n", "; "}})));
    }
  }
  std::vector<NamedTensor> tensors;
  tensors.reserve(checkpoint.tensors_size());
  for (const CheckpointTensor& t : checkpoint.tensors()) {
    ASSIGN_OR_RETURN(NamedTensor named, TensorFromProto(t, source));
    tensors.push_back(std::move(named));
  }

  // Check the optimizer state before changing anything.
  const int64_t num_params = model->params().num_trainable_elements();
  std::vector<std::vector<double>> state_values;
  if (optimizer != nullptr) {
    if (!checkpoint.has_optimizer()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source,
                       ": checkpoint holds no optimizer state (it was saved "
                       "without an optimizer)"));
    }
    ASSIGN_OR_RETURN(state_values,
                     CheckOptimizerState(checkpoint.optimizer(), num_params,
                                         *optimizer, source));
  }

  // Load into a copy first, so that an error leaves `model` as it was; then
  // into `model` itself (keeping its parameter block where it is).
  {
    ElmModel<T> staged = *model;
    RETURN_IF_ERROR(staged.LoadStateDict(tensors, "", source));
  }
  const absl::Status loaded = model->LoadStateDict(tensors, "", source);
  CHECK(loaded.ok()) << loaded;

  if (optimizer != nullptr) {
    ApplyOptimizerState(checkpoint.optimizer(), num_params,
                        std::move(state_values), optimizer);
  }
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<ElmModel<T>> LoadModelFromCheckpoint(const std::string& path) {
  ASSIGN_OR_RETURN(const Checkpoint checkpoint, LoadCheckpoint(path));
  if (!checkpoint.has_model_config()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": checkpoint has no model_config"));
  }
  // A corrupt config must not make a small file allocate a large model:
  // the stored tensors hold every trainable parameter, so a config that
  // needs more than they hold is refused before the model is built.
  absl::StatusOr<ElmShape> shape = ValidateElmConfig(checkpoint.model_config());
  if (!shape.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", shape.status().message()));
  }
  int64_t stored = 0;
  for (const CheckpointTensor& t : checkpoint.tensors()) {
    stored += t.f32_values_size() + t.f64_values_size() + t.i64_values_size() +
              t.bool_values_size();
  }
  if (stored < shape->num_trainable_params) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": checkpoint holds ", stored, " tensor values, fewer than the ",
        shape->num_trainable_params,
        " trainable parameters its model config needs"));
  }
  absl::StatusOr<ElmModel<T>> model =
      ElmModel<T>::Create(checkpoint.model_config());
  if (!model.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", model.status().message()));
  }
  RETURN_IF_ERROR(RestoreModelCheckpoint<T>(checkpoint, &*model,
                                            /*optimizer=*/nullptr, path));
  return model;
}

template CheckpointOptimizerState OptimizerStateToProto<float>(
    const Optimizer<float>& optimizer, int64_t num_params);
template CheckpointOptimizerState OptimizerStateToProto<double>(
    const Optimizer<double>& optimizer, int64_t num_params);
template absl::Status RestoreOptimizerState<float>(
    const CheckpointOptimizerState& state, int64_t num_params,
    Optimizer<float>* optimizer, absl::string_view source);
template absl::Status RestoreOptimizerState<double>(
    const CheckpointOptimizerState& state, int64_t num_params,
    Optimizer<double>* optimizer, absl::string_view source);
template Checkpoint MakeModelCheckpoint<float>(
    const ElmModel<float>& model, const Optimizer<float>* optimizer,
    int64_t step);
template Checkpoint MakeModelCheckpoint<double>(
    const ElmModel<double>& model, const Optimizer<double>* optimizer,
    int64_t step);
template absl::Status RestoreModelCheckpoint<float>(
    const Checkpoint& checkpoint, ElmModel<float>* model,
    Optimizer<float>* optimizer, absl::string_view source);
template absl::Status RestoreModelCheckpoint<double>(
    const Checkpoint& checkpoint, ElmModel<double>* model,
    Optimizer<double>* optimizer, absl::string_view source);
template absl::StatusOr<ElmModel<float>> LoadModelFromCheckpoint<float>(
    const std::string& path);
template absl::StatusOr<ElmModel<double>> LoadModelFromCheckpoint<double>(
    const std::string& path);

}  // namespace elm
