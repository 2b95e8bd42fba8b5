// Validation and JSON loading of the ELM model configuration
// (model_config.proto), and the sizes derived from it (elm_reference.md §1.1).
// `ValidateElmConfig` rejects a bad config with a message naming the field and
// the reason; `ParseElmConfigJson` reads the reference's model_config.json
// (keys starting with "_", such as "_derived", are notes and are skipped; any
// other unknown key is an error).
#ifndef ELM_ELM_MODEL_CONFIG_H_
#define ELM_ELM_MODEL_CONFIG_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "elm/model_config.pb.h"

namespace elm {

enum class Routing { kNone, kRandom, kNeuronio };
enum class Activation { kRelu, kSilu };

// Sizes and choices derived from a valid ElmConfig.
struct ElmShape {
  int num_input = 0;               // N
  int num_output = 0;              // n_out
  int num_memory = 0;              // d_m
  int num_branch = 0;              // B_r (num_branch or num_input)
  int num_synapse_per_branch = 0;  // d_brch
  int num_synapse = 0;             // S = B_r · d_brch
  int mlp_num_layers = 0;          // hidden layers
  int mlp_hidden_size = 0;         // H (mlp_hidden_size or 2·d_m)
  int mlp_input_size = 0;          // B_r + d_m
  double memory_tau_min = 0;
  double memory_tau_max = 0;  // v2: max(min + 3e-6, max)
  Routing routing = Routing::kNone;
  Activation activation = Activation::kRelu;
  bool v2 = false;
  // Trainable parameters as the reference counts them (elm_reference.md §1.2).
  int64_t num_trainable_params = 0;
};

// Size bounds of an ELM model (so that a mistyped size is an error, not an
// out-of-memory abort): every size (num_input, num_output, num_memory,
// num_branch, num_synapse_per_branch, mlp_hidden_size) at most kMaxElmDim,
// at most kMaxElmLayers MLP layers, and at most kMaxElmParams trainable
// parameters (400 MB as f32; training holds the weights, Adam's two moments
// and a gradient per thread, about 2.4 GB on 2 threads, before activations).
inline constexpr int64_t kMaxElmDim = 1 << 20;
inline constexpr int kMaxElmLayers = 1000;
inline constexpr int64_t kMaxElmParams = 100000000;

// OK with the derived sizes, or InvalidArgument naming the offending field.
absl::StatusOr<ElmShape> ValidateElmConfig(const ElmConfig& config);

// Parses a reference model_config.json (or our JSON form of ElmConfig) and
// validates it. `source` names the file in error messages.
absl::StatusOr<ElmConfig> ParseElmConfigJson(absl::string_view json,
                                             absl::string_view source);
absl::StatusOr<ElmConfig> ReadElmConfigJson(const std::string& path);

}  // namespace elm

#endif  // ELM_ELM_MODEL_CONFIG_H_
