// `bazel run //elm:forward`: runs an ELM model forward on an input tensor and
// writes the outputs in the golden files' ELMTENSOR format.
//
//   bazel run //elm:forward -- --model=<model> [--config=<model_config.json>]
//       --input=<ELMTENSOR file> --output=<ELMTENSOR file> [--dtype=f32|f64]
//       [--model_version=v1|v2]
//
// --model is a reference PyTorch state_dict (`.pt`), a checkpoint of ours
// (`.ckpt`; it holds its config), or an ELMTENSOR weights file (`.txt`, names
// with or without a `param.` prefix). For `.pt` and `.txt` the config comes
// from --config, else from a model_config.json beside the model file. The input
// tensor is `X` or `input.X`, shape (B, T, num_input) or (T, num_input). The
// output holds `<dtype>.forward` (B, T, num_output) and, for 2-output NeuronIO
// models, `<dtype>.eval_forward` ([σ(logit), soma/0.1]). An input holding a
// NaN or an infinity is refused, naming its position. Relative paths are taken
// from the directory `bazel run` was started in.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "base/user_path.h"
#include "elm/heads.h"
#include "elm/model.h"
#include "elm/model_file.h"
#include "gflags/gflags.h"
#include "io/elmtensor.h"

DEFINE_string(
    model, "",
    "model file: .pt (PyTorch state_dict), .ckpt (ours) or .txt (ELMTENSOR)");
DEFINE_string(config, "",
              "model_config.json (default: the one beside a .pt/.txt model)");
DEFINE_string(input, "", "ELMTENSOR file with the input tensor X or input.X");
DEFINE_string(output, "", "ELMTENSOR file to write");
DEFINE_string(dtype, "f32",
              "precision of the computation and output: f32 or f64");
DEFINE_string(model_version, "", "override the config's version: v1 or v2");

namespace elm {
namespace {

template <typename T>
absl::Status Run() {
  const std::string model_path = ResolveUserPath(FLAGS_model);
  const std::string input_path = ResolveUserPath(FLAGS_input);
  const std::string output_path = ResolveUserPath(FLAGS_output);
  ElmModelFileOptions options;
  if (!FLAGS_config.empty())
    options.config_path = ResolveUserPath(FLAGS_config);
  if (FLAGS_model_version == "v1") options.version = ElmConfig::V1;
  if (FLAGS_model_version == "v2") options.version = ElmConfig::V2;
  ASSIGN_OR_RETURN(ElmModel<T> model, LoadElmModelFile<T>(model_path, options));
  ASSIGN_OR_RETURN(ElmTensorFile input, ReadElmTensorFile(input_path));
  const NamedTensor* x = input.FindOrNull("X");
  if (x == nullptr) x = input.FindOrNull("input.X");
  if (x == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(input_path, ": no input tensor named 'X' or 'input.X'"));
  }
  const int num_input = model.shape().num_input;
  if (!x->is_floating() || x->shape.size() < 2 || x->shape.size() > 3 ||
      x->shape.back() != num_input) {
    return absl::InvalidArgumentError(
        absl::StrCat(input_path, ": tensor '", x->name, "' has shape ",
                     ShapeString(x->shape), " and dtype ", x->dtype,
                     "; expected a float tensor (B, T, ", num_input,
                     ") or (T, ", num_input, ")"));
  }
  const int64_t batch = x->shape.size() == 3 ? x->shape[0] : 1;
  const int64_t steps = x->shape[x->shape.size() - 2];
  if (steps == 0 || batch == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(input_path, ": '", x->name, "' is empty"));
  }
  // A NaN or infinite input would come out as finite numbers that look valid
  // (the unroll treats a channel as active or not), so it is refused.
  for (size_t i = 0; i < x->values.size(); ++i) {
    if (!std::isfinite(x->values[i])) {
      const int64_t per_sequence = steps * num_input;
      return absl::InvalidArgumentError(absl::StrCat(
          input_path, ": '", x->name, "' holds ", Num(x->values[i]), " at [",
          static_cast<int64_t>(i) / per_sequence, ", ",
          static_cast<int64_t>(i) % per_sequence / num_input, ", ",
          static_cast<int64_t>(i) % num_input,
          "] (sequence, step, channel); inputs must be finite"));
    }
  }
  std::vector<T> values(x->values.begin(), x->values.end());
  Tape<T> tape;
  auto out = model.Unroll(
      tape, tape.Constant(values.data(), batch * steps, num_input), steps,
      /*grads=*/nullptr);
  const int n_out = model.shape().num_output;

  ElmTensorFile result;
  result.comments.push_back(
      absl::StrCat(" elm forward of ", model_path, " on ", input_path));
  NamedTensor forward;
  forward.name = absl::StrCat(FLAGS_dtype, ".forward");
  forward.dtype = FLAGS_dtype;
  forward.shape = {batch, steps, n_out};
  forward.values.assign(out.y.value, out.y.value + out.y.size());
  result.tensors.push_back(forward);
  if (n_out == 2) {
    std::vector<T> eval(out.y.size());
    NeuronioEvalTransform<T>({out.y.value, out.y.rows, 2},
                             {eval.data(), out.y.rows, 2});
    NamedTensor e = forward;
    e.name = absl::StrCat(FLAGS_dtype, ".eval_forward");
    e.values.assign(eval.begin(), eval.end());
    result.tensors.push_back(std::move(e));
  }
  RETURN_IF_ERROR(WriteElmTensorFile(output_path, result));
  std::printf("wrote %s: %s (%lld, %lld, %d)\n", output_path.c_str(),
              forward.name.c_str(), static_cast<long long>(batch),
              static_cast<long long>(steps), n_out);
  return absl::OkStatus();
}

}  // namespace
}  // namespace elm

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "--model=<.pt|.ckpt|.txt> [--config=<model_config.json>] "
      "--input=<ELMTENSOR> "
      "--output=<ELMTENSOR> [--dtype=f32|f64]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (FLAGS_model.empty() || FLAGS_input.empty() || FLAGS_output.empty()) {
    std::fprintf(stderr,
                 "forward: --model, --input and --output are required\n%s\n",
                 gflags::ProgramUsage());
    return 2;
  }
  if (FLAGS_dtype != "f32" && FLAGS_dtype != "f64") {
    std::fprintf(stderr, "forward: --dtype must be f32 or f64, got '%s'\n",
                 FLAGS_dtype.c_str());
    return 2;
  }
  if (!FLAGS_model_version.empty() && FLAGS_model_version != "v1" &&
      FLAGS_model_version != "v2") {
    std::fprintf(stderr,
                 "forward: --model_version must be v1 or v2, got '%s'\n",
                 FLAGS_model_version.c_str());
    return 2;
  }
  const absl::Status st =
      FLAGS_dtype == "f64" ? elm::Run<double>() : elm::Run<float>();
  if (!st.ok()) {
    std::fprintf(stderr, "forward: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  return 0;
}
