#include "experiments/model_registry.h"

#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::HasSubstr;

DatasetInfo NeuronioInfo() {
  DatasetInfo info;
  info.name = "neuronio";
  info.input_dim = 1278;
  info.steps = 20;
  return info;
}

DatasetInfo ClassInfo() {
  DatasetInfo info;
  info.name = "shd";
  info.input_dim = 12;
  info.steps = 5;
  info.num_classes = 3;
  return info;
}

// A sparse input of B sequences of T steps: channel (b + t) % D at +1.
struct Input {
  std::vector<int64_t> row_begin{0};
  std::vector<int32_t> col;
  std::vector<float> val;
  CsrView csr;
  Input(int64_t B, int64_t T, int64_t D) {
    for (int64_t r = 0; r < B * T; ++r) {
      col.push_back(static_cast<int32_t>(r % D));
      val.push_back(r % 3 == 0 ? -1.0f : 1.0f);
      row_begin.push_back(static_cast<int64_t>(col.size()));
    }
    csr = CsrView{row_begin.data(), col.data(), val.data(), B * T, D};
  }
};

TEST(ModelRegistryTest, BuiltinKindsBuildAndRun) {
  struct Case {
    std::string text;
    DatasetInfo info;
    std::string kind;
  };
  std::vector<ModelSpec> specs(5);
  specs[0].mutable_elm()->set_num_memory(3);
  specs[1].mutable_elm()->set_num_memory(3);
  specs[1].mutable_elm()->set_num_branch(45);
  specs[1].mutable_elm()->set_num_synapse_per_branch(30);
  specs[1].mutable_elm()->set_input_to_synapse_routing("neuronio_routing");
  specs[2].mutable_lstm()->set_hidden(4);
  specs[3].mutable_lif();
  specs[4].mutable_lif()->set_adaptive(true);
  const std::vector<std::string> kinds = {"elm", "elm", "lstm", "lif", "alif"};
  for (size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(ModelKindName(specs[i]), kinds[i]);
    absl::StatusOr<std::unique_ptr<SequenceModel>> model =
        MakeModel(specs[i], NeuronioInfo(), 1);
    ASSERT_TRUE(model.ok()) << kinds[i] << ": " << model.status();
    Input x(2, 20, 1278);
    Tape<float> tape;
    GradBlock<float> grads((*model)->params());
    Var<float> y = (*model)->Forward(tape, x.csr, 20, &grads);
    EXPECT_EQ(y.rows, 40);
    EXPECT_EQ(y.cols, 2);
    // The state dict loads back into a freshly built (other seed) model and
    // gives the same outputs.
    absl::StatusOr<std::unique_ptr<SequenceModel>> other =
        MakeModel(specs[i], NeuronioInfo(), 2);
    ASSERT_TRUE(other.ok());
    const absl::Status loaded =
        (*other)->LoadStateDict((*model)->StateDict(), "test");
    ASSERT_TRUE(loaded.ok()) << kinds[i] << ": " << loaded;
    Tape<float> tape2;
    Var<float> y2 = (*other)->Forward(tape2, x.csr, 20, nullptr);
    for (int64_t k = 0; k < y.size(); ++k) {
      ASSERT_EQ(y.value[k], y2.value[k]) << kinds[i] << " at " << k;
    }
  }
}

TEST(ModelRegistryTest, ElmSizesComeFromTheData) {
  ModelSpec spec;
  spec.mutable_elm()->set_num_memory(3);
  absl::StatusOr<ElmConfig> c = ResolveElmConfig(spec, ClassInfo());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->num_input(), 12);
  EXPECT_EQ(c->num_output(), 3);
  spec.mutable_elm()->set_num_output(2);
  c = ResolveElmConfig(spec, ClassInfo());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("model.elm.num_output = 2; the shd data needs 3"));
  spec.mutable_elm()->clear_num_output();
  spec.mutable_elm()->set_num_input(7);
  c = ResolveElmConfig(spec, ClassInfo());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("model.elm.num_input = 7; the shd data has 12"));
}

TEST(ModelRegistryTest, LifNeedsNeuronio) {
  ModelSpec spec;
  spec.mutable_lif();
  absl::StatusOr<std::unique_ptr<SequenceModel>> model =
      MakeModel(spec, ClassInfo(), 1);
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("classification task"));
}

TEST(ModelRegistryTest, CustomModelsByName) {
  ModelSpec spec;
  spec.mutable_custom()->set_name("registry_test_model");
  absl::StatusOr<std::unique_ptr<SequenceModel>> model =
      MakeModel(spec, ClassInfo(), 1);
  EXPECT_EQ(model.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("'registry_test_model' is not a registered model"));
  // Register one that builds an LSTM with the hidden size in the Any config
  // (here: an ElmConfig's num_memory, as any message will do).
  RegisterModel(
      "registry_test_model",
      [](const ModelSpec& s, const DatasetInfo& info,
         uint64_t seed) -> absl::StatusOr<std::unique_ptr<SequenceModel>> {
        ElmConfig config;
        if (!s.custom().config().UnpackTo(&config)) {
          return absl::InvalidArgumentError("bad config");
        }
        ModelSpec lstm;
        lstm.mutable_lstm()->set_hidden(config.num_memory());
        return MakeModel(lstm, info, seed);
      });
  EXPECT_THAT(RegisteredModelNames(),
              testing::Contains(std::string("registry_test_model")));
  ElmConfig config;
  config.set_num_memory(5);
  spec.mutable_custom()->mutable_config()->PackFrom(config);
  model = MakeModel(spec, ClassInfo(), 1);
  ASSERT_TRUE(model.ok()) << model.status();
  // LSTM with H = 5 on 12 inputs and 3 outputs.
  EXPECT_EQ((*model)->params().num_trainable_elements(),
            4 * 5 * (12 + 5 + 2) + 3 * (5 + 1));
  EXPECT_EQ(ModelKindName(spec), "registry_test_model");
}

TEST(ModelRegistryTest, NoKindIsAnError) {
  absl::StatusOr<std::unique_ptr<SequenceModel>> model =
      MakeModel(ModelSpec(), ClassInfo(), 1);
  EXPECT_THAT(std::string(model.status().message()), HasSubstr("no kind set"));
}

TEST(ModelRegistryTest, ParamStateDictErrorsNameTheTensor) {
  ParamSet<float> params;
  params.Add("a", 2, 3);
  params.Add("b", 1, 2);
  params.data()[0] = 1.5f;
  std::vector<NamedTensor> dict = ParamStateDict(params);
  ASSERT_EQ(dict.size(), 2u);
  EXPECT_EQ(dict[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(dict[0].values[0], 1.5);
  ParamSet<float> other;
  other.Add("a", 2, 3);
  other.Add("b", 1, 2);
  ASSERT_TRUE(LoadParamStateDict(dict, "f", &other).ok());
  EXPECT_EQ(other.data()[0], 1.5f);
  dict[1].values.pop_back();
  EXPECT_THAT(std::string(LoadParamStateDict(dict, "f", &other).message()),
              HasSubstr("f: tensor 'b' holds 1 values for shape (1, 2)"));
  dict[1].values.push_back(0.0);
  dict.push_back(dict[1]);
  dict[2].name = "c";
  EXPECT_THAT(std::string(LoadParamStateDict(dict, "f", &other).message()),
              HasSubstr("f: unexpected tensor 'c'"));
  dict.erase(dict.begin() + 1);
  EXPECT_THAT(std::string(LoadParamStateDict(dict, "f", &other).message()),
              HasSubstr("f: missing tensor 'b'"));
  EXPECT_EQ(other.data()[0], 1.5f);  // a failed load leaves the values
}

TEST(ModelRegistryTest, DenseInputSumsTheNonzeros) {
  const std::vector<int64_t> row_begin = {0, 2, 2, 3};
  const std::vector<int32_t> col = {1, 3, 0};
  const std::vector<float> val = {2, -1, 5};
  CsrView x{row_begin.data(), col.data(), val.data(), 3, 4};
  Tape<float> tape;
  Var<float> d = DenseInput(tape, x);
  const std::vector<float> want = {0, 2, 0, -1, 0, 0, 0, 0, 5, 0, 0, 0};
  EXPECT_EQ(std::vector<float>(d.value, d.value + d.size()), want);
}

// LstmSpec.chrono_t_max reaches the model: the effective forget-gate bias
// b_ih + b_hh is log(u), u in [1, T_max − 1), and the input gate's is −b_f.
TEST(ModelRegistryTest, LstmChronoInitialisationFromTheSpec) {
  ModelSpec spec;
  spec.mutable_lstm()->set_hidden(6);
  spec.mutable_lstm()->set_chrono_t_max(100);
  absl::StatusOr<std::unique_ptr<SequenceModel>> model =
      MakeModel(spec, NeuronioInfo(), 1);
  ASSERT_TRUE(model.ok()) << model.status();
  std::vector<double> b(24, 0.0);
  for (const NamedTensor& t : (*model)->StateDict()) {
    if (t.name != "bias_ih_l0" && t.name != "bias_hh_l0") continue;
    ASSERT_EQ(t.values.size(), 24u);
    for (int j = 0; j < 24; ++j) b[j] += t.values[j];
  }
  for (int j = 0; j < 6; ++j) {
    EXPECT_GE(b[6 + j], 0.0) << j;
    EXPECT_LT(b[6 + j], std::log(99.0) + 1e-6) << j;
    EXPECT_NEAR(b[j], -b[6 + j], 1e-6) << j;
  }
  spec.mutable_lstm()->set_chrono_t_max(1.5);
  model = MakeModel(spec, NeuronioInfo(), 1);
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(std::string(model.status().message()),
              ::testing::HasSubstr("chrono_t_max"));
}

}  // namespace
}  // namespace elm
