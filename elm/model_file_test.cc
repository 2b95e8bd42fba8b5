// Tests of LoadElmModelFile: ELMTENSOR weights with a config beside them or
// given, checkpoints, the released `.pt` models (when ../shared is present),
// the version override, and the errors naming the file.
#include "elm/model_file.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/shared_data.h"
#include "base/test_files.h"
#include "elm/checkpoint.h"
#include "elm/model_config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/elmtensor.h"
#include "io/pt_reader.h"

namespace elm {
namespace {

using ::testing::HasSubstr;

// A small routed model's config, as JSON and as the ElmConfig it parses to.
constexpr char kConfigJson[] = R"({
  "num_input": 6, "num_output": 2, "num_memory": 3, "num_branch": 2,
  "num_synapse_per_branch": 4, "input_to_synapse_routing": "random_routing"
})";

ElmModel<float> SmallModel(uint64_t seed) {
  absl::StatusOr<ElmConfig> config = ParseElmConfigJson(kConfigJson, "test");
  EXPECT_TRUE(config.ok()) << config.status();
  absl::StatusOr<ElmModel<float>> model =
      ElmModel<float>::Create(*config, seed);
  EXPECT_TRUE(model.ok()) << model.status();
  return *std::move(model);
}

std::vector<float> Params(const ElmModel<float>& model) {
  const ParamSet<float>& p = model.params();
  return std::vector<float>(p.data(), p.data() + p.num_elements());
}

// Writes `model`'s state_dict as ELMTENSOR (names prefixed by `prefix`).
void WriteWeights(const ElmModel<float>& model, const std::string& path,
                  const std::string& prefix) {
  ElmTensorFile file;
  for (NamedTensor t : model.StateDict()) {
    t.name = prefix + t.name;
    file.tensors.push_back(std::move(t));
  }
  ASSERT_TRUE(WriteElmTensorFile(path, file).ok());
}

TEST(LoadElmModelFileTest, WeightsWithConfigBesideOrGiven) {
  const ElmModel<float> want = SmallModel(7);
  const std::string dir = MakeTestDir("beside");
  WriteWeights(want, dir + "/w.txt", "");
  WriteTestFile(dir + "/model_config.json", kConfigJson);
  absl::StatusOr<ElmModel<float>> got = LoadElmModelFile<float>(dir + "/w.txt");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(Params(*got), Params(want));
  EXPECT_EQ(got->routing().index, want.routing().index);

  // The `param.` prefix of the golden files, and the config from elsewhere.
  const std::string other = MakeTestDir("given");
  WriteWeights(want, other + "/w.txt", "param.");
  ElmModelFileOptions options;
  options.config_path = dir + "/model_config.json";
  got = LoadElmModelFile<float>(other + "/w.txt", options);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(Params(*got), Params(want));

  // No config beside it.
  got = LoadElmModelFile<float>(other + "/w.txt");
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.status().message(), HasSubstr("--config"));
  EXPECT_THAT(got.status().message(), HasSubstr(other + "/w.txt"));
}

TEST(LoadElmModelFileTest, VersionOverride) {
  const std::string dir = MakeTestDir("version");
  WriteTestFile(dir + "/model_config.json", kConfigJson);
  ElmModelFileOptions options;
  options.version = ElmConfig::V2;
  absl::StatusOr<ElmConfig> config =
      ReadElmModelFileConfig(dir + "/m.pt", options);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->version(), ElmConfig::V2);
  EXPECT_EQ(config->num_memory(), 3);
}

TEST(LoadElmModelFileTest, Checkpoint) {
  const ElmModel<float> want = SmallModel(9);
  const std::string path = MakeTestDir("ckpt") + "/m.ckpt";
  ASSERT_TRUE(
      SaveCheckpoint(path, MakeModelCheckpoint<float>(want, nullptr, 3)).ok());
  absl::StatusOr<ElmModel<double>> got = LoadElmModelFile<double>(path);
  ASSERT_TRUE(got.ok()) << got.status();
  const std::vector<float> w = Params(want);
  ASSERT_EQ(got->params().num_elements(), static_cast<int64_t>(w.size()));
  for (size_t i = 0; i < w.size(); ++i) {
    EXPECT_EQ(got->params().data()[i], static_cast<double>(w[i]));
  }
}

TEST(LoadElmModelFileTest, Errors) {
  absl::StatusOr<ElmModel<float>> got =
      LoadElmModelFile<float>("/nonexistent/m.pt");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(got.status().message(), HasSubstr("/nonexistent/m.pt"));

  // Weights that do not fit the config name the file.
  const std::string dir = MakeTestDir("mismatch");
  WriteTestFile(dir + "/model_config.json", kConfigJson);
  ElmTensorFile file;
  file.tensors.push_back(NamedTensor{"w_y.weight", "f32", {1, 1}, {0.0}});
  ASSERT_TRUE(WriteElmTensorFile(dir + "/w.txt", file).ok());
  got = LoadElmModelFile<float>(dir + "/w.txt");
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.status().message(), HasSubstr(dir + "/w.txt"));

  // Not a checkpoint.
  WriteTestFile(dir + "/m.ckpt", "not a checkpoint");
  got = LoadElmModelFile<float>(dir + "/m.ckpt");
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.status().message(), HasSubstr(dir + "/m.ckpt"));
}

TEST(LoadElmModelFileTest, ReleasedPtModels) {
  std::string missing;
  const std::string dir = FindSharedPath("golden/pretrained", &missing);
  if (dir.empty()) GTEST_SKIP() << "missing " << missing;
  for (const char* name : {"num_memory_15", "best_elm_neuron"}) {
    const std::string pt =
        absl::StrCat(dir, "/", name, "/neuronio_best_model_state.pt");
    absl::StatusOr<ElmModel<float>> got = LoadElmModelFile<float>(pt);
    ASSERT_TRUE(got.ok()) << got.status();
    absl::StatusOr<std::vector<NamedTensor>> want = ReadPtStateDict(pt);
    ASSERT_TRUE(want.ok()) << want.status();
    const std::vector<NamedTensor> state = got->StateDict();
    ASSERT_EQ(state.size(), want->size()) << name;
    for (size_t i = 0; i < state.size(); ++i) {
      EXPECT_EQ(state[i].name, (*want)[i].name) << name;
      EXPECT_EQ(state[i].values, (*want)[i].values)
          << name << " " << state[i].name;
      EXPECT_EQ(state[i].int_values, (*want)[i].int_values)
          << name << " " << state[i].name;
    }
  }
}

}  // namespace
}  // namespace elm
