// Loading an ELM model from a file a user names on a command line, as
// //elm:forward and //experiments:evaluate do:
//  * `.pt`: a reference PyTorch state_dict (io/pt_reader.h);
//  * `.txt`: an ELMTENSOR weights file (io/elmtensor.h), tensor names
//    with or without a `param.` prefix;
//  * anything else: a checkpoint of ours (elm/checkpoint.h), which holds its
//    config.
// For `.pt` and `.txt` the config is `config_path` when given, else the
// `model_config.json` beside the model file (ReadElmConfigJson). Paths are
// used as given (callers resolve them with ResolveUserPath).
//
// Example:
//   ASSIGN_OR_RETURN(ElmModel<float> model,
//                    LoadElmModelFile<float>("models/m/best_state.pt"));
#ifndef ELM_ELM_MODEL_FILE_H_
#define ELM_ELM_MODEL_FILE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "elm/model.h"
#include "elm/model_config.pb.h"

namespace elm {

struct ElmModelFileOptions {
  // The model_config.json of a `.pt` / `.txt` model; empty: the one beside
  // the model file.
  std::string config_path;
  // Overrides the config's version for `.pt` / `.txt` models (//elm:forward's
  // --model_version); a checkpoint keeps its own.
  std::optional<ElmConfig::Version> version;
};

// Whether `path` names a state_dict that needs a config beside it or from
// ElmModelFileOptions::config_path (`.pt` or `.txt`), rather than a
// checkpoint.
bool ElmModelFileNeedsConfig(const std::string& path);

// The config of the `.pt` / `.txt` model at `model_path`: options.config_path,
// else model_config.json beside the model, with options.version applied.
// Errors: InvalidArgument naming the model file and --config when there is no
// config beside it; ReadElmConfigJson's errors (naming the config file).
absl::StatusOr<ElmConfig> ReadElmModelFileConfig(
    const std::string& model_path, const ElmModelFileOptions& options = {});

// The model in the file at `path` (see the top of the file). Errors (each
// naming the file): NotFound when it does not exist; no config for a
// `.pt` / `.txt`; the readers' errors; a tensor that does not fit the config
// (ElmModel::LoadStateDict); a checkpoint without a model config (for
// example a run of a non-ELM model).
template <typename T>
absl::StatusOr<ElmModel<T>> LoadElmModelFile(
    const std::string& path, const ElmModelFileOptions& options = {});

extern template absl::StatusOr<ElmModel<float>> LoadElmModelFile<float>(
    const std::string& path, const ElmModelFileOptions& options);
extern template absl::StatusOr<ElmModel<double>> LoadElmModelFile<double>(
    const std::string& path, const ElmModelFileOptions& options);

}  // namespace elm

#endif  // ELM_ELM_MODEL_FILE_H_
