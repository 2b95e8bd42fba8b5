// Loading an ELM model from a .pt, .txt or checkpoint file (model_file.h).
#include "elm/model_file.h"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "elm/checkpoint.h"
#include "elm/model_config.h"
#include "io/elmtensor.h"
#include "io/pt_reader.h"

namespace elm {

bool ElmModelFileNeedsConfig(const std::string& path) {
  return absl::EndsWith(path, ".pt") || absl::EndsWith(path, ".txt");
}

absl::StatusOr<ElmConfig> ReadElmModelFileConfig(
    const std::string& model_path, const ElmModelFileOptions& options) {
  std::string path = options.config_path;
  if (path.empty()) {
    path =
        (std::filesystem::path(model_path).parent_path() / "model_config.json")
            .string();
    if (!std::filesystem::exists(path)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--config is needed for ", model_path,
                       " (no model_config.json beside it)"));
    }
  }
  ASSIGN_OR_RETURN(ElmConfig config, ReadElmConfigJson(path));
  if (options.version.has_value()) config.set_version(*options.version);
  return config;
}

template <typename T>
absl::StatusOr<ElmModel<T>> LoadElmModelFile(
    const std::string& path, const ElmModelFileOptions& options) {
  if (!std::filesystem::exists(path)) {
    return absl::NotFoundError(
        absl::StrCat("model file '", path, "' does not exist"));
  }
  if (!ElmModelFileNeedsConfig(path)) return LoadModelFromCheckpoint<T>(path);
  ASSIGN_OR_RETURN(ElmConfig config, ReadElmModelFileConfig(path, options));
  ASSIGN_OR_RETURN(ElmModel<T> model, ElmModel<T>::Create(config));
  std::vector<NamedTensor> tensors;
  std::string prefix;
  if (absl::EndsWith(path, ".pt")) {
    ASSIGN_OR_RETURN(tensors, ReadPtStateDict(path));
  } else {
    ASSIGN_OR_RETURN(ElmTensorFile file, ReadElmTensorFile(path));
    tensors = std::move(file.tensors);
    for (const NamedTensor& t : tensors) {
      if (absl::StartsWith(t.name, "param.")) prefix = "param.";
    }
  }
  RETURN_IF_ERROR(model.LoadStateDict(tensors, prefix, path));
  return model;
}

template absl::StatusOr<ElmModel<float>> LoadElmModelFile<float>(
    const std::string& path, const ElmModelFileOptions& options);
template absl::StatusOr<ElmModel<double>> LoadElmModelFile<double>(
    const std::string& path, const ElmModelFileOptions& options);

}  // namespace elm
