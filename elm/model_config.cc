// ELM config validation and JSON loading: see model_config.h.
#include "elm/model_config.h"

#include <cmath>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace elm {
namespace {

absl::Status FieldError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("model config field '", field, "': ", problem));
}

bool Finite(double x) { return std::isfinite(x); }

}  // namespace

absl::StatusOr<ElmShape> ValidateElmConfig(const ElmConfig& c) {
  ElmShape s;
  if (!c.has_num_input() || c.num_input() <= 0) {
    return FieldError("num_input",
                      absl::StrCat("must be set and > 0, got ", c.num_input()));
  }
  if (!c.has_num_output() || c.num_output() <= 0) {
    return FieldError("num_output", absl::StrCat("must be set and > 0, got ",
                                                 c.num_output()));
  }
  if (c.num_memory() <= 0) {
    return FieldError("num_memory",
                      absl::StrCat("must be > 0, got ", c.num_memory()));
  }
  if (!Finite(c.lambda_value()) || c.lambda_value() <= 0) {
    return FieldError(
        "lambda_value",
        absl::StrCat("must be finite and > 0, got ", c.lambda_value()));
  }
  if (c.mlp_num_layers() < 0) {
    return FieldError("mlp_num_layers",
                      absl::StrCat("must be >= 0, got ", c.mlp_num_layers()));
  }
  if (c.mlp_hidden_size() < 0) {
    return FieldError("mlp_hidden_size",
                      absl::StrCat("must be >= 0 (0 means 2·num_memory), got ",
                                   c.mlp_hidden_size()));
  }
  if (c.mlp_activation() == "relu") {
    s.activation = Activation::kRelu;
  } else if (c.mlp_activation() == "silu") {
    s.activation = Activation::kSilu;
  } else {
    return FieldError("mlp_activation",
                      absl::StrCat("must be \"relu\" or \"silu\", got \"",
                                   c.mlp_activation(), "\""));
  }
  s.v2 = c.version() == ElmConfig::V2;
  const char* tau_field = s.v2 ? "tau_b_value" : "tau_s_value";
  const double tau = s.v2 ? c.tau_b_value() : c.tau_s_value();
  if (!Finite(tau) || tau <= 0) {
    return FieldError(tau_field,
                      absl::StrCat("must be finite and > 0, got ", tau));
  }
  if (!Finite(c.memory_tau_min()) || c.memory_tau_min() <= 0) {
    return FieldError(
        "memory_tau_min",
        absl::StrCat("must be finite and > 0, got ", c.memory_tau_min()));
  }
  s.memory_tau_min = c.memory_tau_min();
  s.memory_tau_max =
      s.v2 ? std::max(c.memory_tau_min() + 3e-6, c.memory_tau_max())
           : c.memory_tau_max();
  if (!Finite(c.memory_tau_max()) || s.memory_tau_max <= s.memory_tau_min) {
    return FieldError(
        "memory_tau_max",
        absl::StrCat("must be finite and > memory_tau_min = ",
                     c.memory_tau_min(), ", got ", c.memory_tau_max()));
  }
  if (!Finite(c.w_s_value())) return FieldError("w_s_value", "must be finite");
  if (!Finite(c.delta_t()) || c.delta_t() <= 0) {
    return FieldError(
        "delta_t", absl::StrCat("must be finite and > 0, got ", c.delta_t()));
  }
  if (c.num_branch() < 0) {
    return FieldError(
        "num_branch",
        absl::StrCat("must be >= 0 (0 means num_input), got ", c.num_branch()));
  }
  if (c.num_synapse_per_branch() <= 0) {
    return FieldError(
        "num_synapse_per_branch",
        absl::StrCat("must be > 0, got ", c.num_synapse_per_branch()));
  }
  const std::string& routing = c.input_to_synapse_routing();
  if (routing.empty() || routing == "none") {
    s.routing = Routing::kNone;
  } else if (routing == "random_routing") {
    s.routing = Routing::kRandom;
  } else if (routing == "neuronio_routing") {
    s.routing = Routing::kNeuronio;
  } else {
    return FieldError(
        "input_to_synapse_routing",
        absl::StrCat(
            "must be empty, \"random_routing\" or \"neuronio_routing\", "
            "got \"",
            routing, "\""));
  }

  // Sizes first bounded one by one (so that the products below cannot
  // overflow), then the parameter count as a whole.
  for (const auto& [field, value] :
       std::vector<std::pair<const char*, int64_t>>{
           {"num_input", c.num_input()},
           {"num_output", c.num_output()},
           {"num_memory", c.num_memory()},
           {"num_branch", c.num_branch()},
           {"num_synapse_per_branch", c.num_synapse_per_branch()},
           {"mlp_hidden_size", c.mlp_hidden_size()},
           {"mlp_hidden_size (2·num_memory when unset)",
            c.mlp_hidden_size() > 0 ? 0 : 2 * int64_t{c.num_memory()}}}) {
    if (value > kMaxElmDim) {
      return FieldError(field, absl::StrCat(value,
                                            " is too large; expected at "
                                            "most ",
                                            kMaxElmDim));
    }
  }
  if (c.mlp_num_layers() > kMaxElmLayers) {
    return FieldError(
        "mlp_num_layers",
        absl::StrCat(c.mlp_num_layers(), " is too many; expected at most ",
                     kMaxElmLayers));
  }
  s.num_input = c.num_input();
  s.num_output = c.num_output();
  s.num_memory = c.num_memory();
  s.num_branch = c.num_branch() > 0 ? c.num_branch() : c.num_input();
  s.num_synapse_per_branch = c.num_synapse_per_branch();
  const int64_t synapses =
      static_cast<int64_t>(s.num_branch) * s.num_synapse_per_branch;
  if (synapses > (int64_t{1} << 30)) {
    return FieldError("num_synapse_per_branch",
                      absl::StrCat("num_branch · num_synapse_per_branch = ",
                                   synapses, " synapses is too many"));
  }
  s.num_synapse = static_cast<int>(synapses);
  if (s.routing == Routing::kNone && s.num_synapse != s.num_input) {
    return FieldError(
        "input_to_synapse_routing",
        absl::StrCat("without routing, num_branch · num_synapse_per_branch (",
                     s.num_branch, " · ", s.num_synapse_per_branch, " = ",
                     s.num_synapse, ") must equal num_input = ", s.num_input,
                     "; set a routing or change the branch sizes"));
  }
  if (s.routing == Routing::kNeuronio) {
    const int stride = (s.num_input + s.num_branch - 1) / s.num_branch;
    if (stride > s.num_synapse_per_branch) {
      return FieldError(
          "num_synapse_per_branch",
          absl::StrCat(
              "neuronio_routing needs ceil(num_input / num_branch) = ", stride,
              " <= num_synapse_per_branch = ", s.num_synapse_per_branch));
    }
  }
  s.mlp_num_layers = c.mlp_num_layers();
  s.mlp_hidden_size =
      c.mlp_hidden_size() > 0 ? c.mlp_hidden_size() : 2 * c.num_memory();
  s.mlp_input_size = s.num_branch + s.num_memory;

  const int64_t h = s.mlp_hidden_size, in = s.mlp_input_size, dm = s.num_memory;
  int64_t mlp = 0;
  if (s.mlp_num_layers == 0) {
    mlp = in * dm + dm;
  } else {
    mlp = in * h + h + (s.mlp_num_layers - 1) * (h * h + h) + h * dm + dm;
  }
  s.num_trainable_params = mlp + s.num_synapse + dm * s.num_output +
                           s.num_output + (c.learn_memory_tau() ? dm : 0);
  if (s.num_trainable_params > kMaxElmParams) {
    return FieldError(
        "num_memory",
        absl::StrCat("the model would have ", s.num_trainable_params,
                     " trainable parameters; expected at most ", kMaxElmParams,
                     " (lower num_memory, mlp_hidden_size, mlp_num_layers or "
                     "the branch sizes)"));
  }
  return s;
}

absl::StatusOr<ElmConfig> ParseElmConfigJson(absl::string_view json,
                                             absl::string_view source) {
  namespace pb = google::protobuf;
  // Parse into a Struct first to drop the "_"-prefixed note keys, then strictly
  // into ElmConfig.
  pb::Struct object;
  pb::util::Status st =
      pb::util::JsonStringToMessage(std::string(json), &object);
  if (!st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": not a JSON object: ", std::string(st.message())));
  }
  std::vector<std::string> notes;
  for (const auto& [key, value] : object.fields()) {
    if (!key.empty() && key[0] == '_') notes.push_back(key);
  }
  for (const std::string& key : notes) object.mutable_fields()->erase(key);
  std::string clean;
  st = pb::util::MessageToJsonString(object, &clean);
  if (!st.ok()) {
    return absl::InternalError(
        absl::StrCat(source, ": ", std::string(st.message())));
  }
  ElmConfig config;
  st = pb::util::JsonStringToMessage(clean, &config);
  if (!st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": bad model config: ", std::string(st.message())));
  }
  absl::StatusOr<ElmShape> shape = ValidateElmConfig(config);
  if (!shape.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": ", shape.status().message()));
  }
  return config;
}

absl::StatusOr<ElmConfig> ReadElmConfigJson(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text,
                   ReadFileToString(path, "model config", kMaxTextFileBytes));
  return ParseElmConfigJson(text, path);
}

}  // namespace elm
