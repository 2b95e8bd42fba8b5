// TinyNeuronioData: see test_specs.h.
#include "experiments/test_specs.h"

#include "absl/strings/str_cat.h"
#include "base/test_files.h"
#include "elm/checkpoint.h"
#include "elm/model.h"
#include "elm/model_config.pb.h"
#include "glog/logging.h"
#include "gtest/gtest.h"

namespace elm {

std::string TinyNeuronioData(int simulations_per_file, int duration_ms) {
  CHECK_GT(simulations_per_file, 0);
  CHECK_GT(duration_ms, 0);
  return absl::StrCat(
      "neuronio {\n"
      "  window_ms: 100\n"
      "  ignore_start_ms: 100\n"
      "  generate {\n"
      "    num_train_files: 1\n"
      "    num_valid_files: 1\n"
      "    num_test_files: 1\n"
      "    simulations_per_file: ",
      simulations_per_file,
      "\n"
      "    duration_ms: ",
      duration_ms,
      "\n"
      "  }\n"
      "}\n");
}

std::string TinyNeuronioCheckpoint(const std::string& name) {
  ElmConfig config;
  config.set_num_input(1278);
  config.set_num_output(2);
  config.set_num_memory(2);
  config.set_mlp_hidden_size(4);
  absl::StatusOr<ElmModel<float>> model = ElmModel<float>::Create(config, 1);
  EXPECT_TRUE(model.ok()) << model.status();
  const std::string path = TestTempPath(name);
  if (!model.ok()) return path;
  const absl::Status saved = SaveCheckpoint(
      path, MakeModelCheckpoint<float>(*model, /*optimizer=*/nullptr, 0));
  EXPECT_TRUE(saved.ok()) << saved;
  return path;
}

}  // namespace elm
