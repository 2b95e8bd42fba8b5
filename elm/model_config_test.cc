// Tests model-config validation (errors name the field), derived sizes and
// parameter counts, and JSON loading of the reference's model_config.json
// files.
#include "elm/model_config.h"

#include <string>

#include "base/shared_data.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

ElmConfig Base() {
  ElmConfig c;
  c.set_num_input(1278);
  c.set_num_output(2);
  c.set_num_memory(15);
  c.set_num_branch(45);
  c.set_num_synapse_per_branch(100);
  c.set_input_to_synapse_routing("neuronio_routing");
  c.set_memory_tau_max(150);
  return c;
}

void ExpectFieldError(const ElmConfig& c, const std::string& field) {
  absl::StatusOr<ElmShape> s = ValidateElmConfig(c);
  ASSERT_FALSE(s.ok()) << "expected an error about " << field;
  EXPECT_NE(s.status().message().find("'" + field + "'"), std::string::npos)
      << s.status().message();
}

TEST(ModelConfigTest, BranchElmDerivedSizesAndParamCount) {
  absl::StatusOr<ElmShape> s = ValidateElmConfig(Base());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->num_synapse, 4500);
  EXPECT_EQ(s->mlp_hidden_size, 30);
  EXPECT_EQ(s->mlp_input_size, 60);
  EXPECT_EQ(s->routing, Routing::kNeuronio);
  EXPECT_EQ(s->num_trainable_params, 6827);  // the released num_memory_15
  ElmConfig c = Base();
  c.set_num_memory(20);
  EXPECT_EQ(ValidateElmConfig(c)->num_trainable_params, 8002);
  c.set_num_memory(100);
  EXPECT_EQ(ValidateElmConfig(c)->num_trainable_params, 54002);
  c.set_num_memory(1);
  EXPECT_EQ(ValidateElmConfig(c)->num_trainable_params, 4601);
}

TEST(ModelConfigTest, PlainElmDefaults) {
  ElmConfig c;
  c.set_num_input(700);
  c.set_num_output(20);
  c.set_memory_tau_max(500);
  c.set_delta_t(10);
  absl::StatusOr<ElmShape> s = ValidateElmConfig(c);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->num_branch, 700);
  EXPECT_EQ(s->num_synapse, 700);
  EXPECT_EQ(s->num_memory, 100);
  EXPECT_EQ(s->num_trainable_params, 183020);  // the SHD notebook's model
}

TEST(ModelConfigTest, ErrorsNameTheField) {
  ElmConfig c = Base();
  c.clear_num_input();
  ExpectFieldError(c, "num_input");
  c = Base();
  c.set_num_output(0);
  ExpectFieldError(c, "num_output");
  c = Base();
  c.set_mlp_activation("gelu");
  ExpectFieldError(c, "mlp_activation");
  c = Base();
  c.set_input_to_synapse_routing("magic");
  ExpectFieldError(c, "input_to_synapse_routing");
  c = Base();
  c.set_input_to_synapse_routing("");
  ExpectFieldError(c,
                   "input_to_synapse_routing");  // 4500 synapses ≠ 1278 inputs
  c = Base();
  c.set_num_synapse_per_branch(20);  // stride 29 > 20
  ExpectFieldError(c, "num_synapse_per_branch");
  c = Base();
  c.set_memory_tau_max(0.5);
  ExpectFieldError(c, "memory_tau_max");
  c = Base();
  c.set_delta_t(-1);
  ExpectFieldError(c, "delta_t");
  c = Base();
  c.set_tau_s_value(0);
  ExpectFieldError(c, "tau_s_value");
  c = Base();
  c.set_version(ElmConfig::V2);
  c.set_tau_b_value(-2);
  ExpectFieldError(c, "tau_b_value");
  c = Base();
  c.set_mlp_num_layers(-1);
  ExpectFieldError(c, "mlp_num_layers");
}

TEST(ModelConfigTest, SizesAreBounded) {
  // Issue 18: num_memory 1e8 in a model config aborted forward/evaluate.
  ElmConfig c = Base();
  c.set_num_memory(100000000);
  ExpectFieldError(c, "num_memory");
  c = Base();
  c.set_num_memory(20000);  // within kMaxElmDim, but 8e8+ parameters
  ExpectFieldError(c, "num_memory");
  c = Base();
  c.set_mlp_num_layers(kMaxElmLayers + 1);
  ExpectFieldError(c, "mlp_num_layers");
  c = Base();
  c.set_mlp_hidden_size(kMaxElmDim + 1);
  ExpectFieldError(c, "mlp_hidden_size");
  c = Base();
  c.set_num_memory(1000);  // large but fine
  EXPECT_TRUE(ValidateElmConfig(c).ok());
}

TEST(ModelConfigTest, V2GuardsTheTauRange) {
  ElmConfig c = Base();
  c.set_version(ElmConfig::V2);
  c.set_memory_tau_max(1.0);  // == min: v2 widens it by 3e-6
  absl::StatusOr<ElmShape> s = ValidateElmConfig(c);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_DOUBLE_EQ(s->memory_tau_max, 1.0 + 3e-6);
}

TEST(ModelConfigTest, ParsesReferenceJsonAndSkipsNotes) {
  absl::StatusOr<ElmConfig> c = ParseElmConfigJson(
      R"({"_class": "ELM v1", "_derived": {"num_synapse": 9}, "num_input": 6,
          "num_output": 2, "num_memory": 4, "mlp_activation": "silu",
          "input_to_synapse_routing": null, "delta_t": 10.0})",
      "inline.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->num_input(), 6);
  EXPECT_EQ(c->mlp_activation(), "silu");
  EXPECT_EQ(c->delta_t(), 10.0);
  EXPECT_EQ(c->lambda_value(), 5.0);
  EXPECT_EQ(c->input_to_synapse_routing(), "");
}

TEST(ModelConfigTest, JsonErrorsNameTheFileAndProblem) {
  absl::StatusOr<ElmConfig> c =
      ParseElmConfigJson(R"({"num_input": 6, "num_outptu": 2})", "typo.json");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("typo.json"), std::string::npos)
      << c.status();
  EXPECT_NE(c.status().message().find("num_outptu"), std::string::npos)
      << c.status();
  c = ParseElmConfigJson(R"({"num_input": 6})", "short.json");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("num_output"), std::string::npos)
      << c.status();
  c = ParseElmConfigJson("[1, 2", "broken.json");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("broken.json"), std::string::npos)
      << c.status();
  c = ReadElmConfigJson("/nonexistent/model_config.json");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/nonexistent/model_config.json"),
            std::string::npos);
}

TEST(ModelConfigTest, ReadsEveryReleasedModelConfig) {
  std::string missing;
  const std::string dir = FindSharedPath("golden/pretrained", &missing);
  if (dir.empty()) GTEST_SKIP() << "missing " << missing;
  const std::pair<const char*, int64_t> models[] = {
      {"num_memory_1", 4601},    {"num_memory_2", 4708},
      {"num_memory_15", 6827},   {"num_memory_20", 8002},
      {"num_memory_100", 54002}, {"best_elm_neuron", 54002}};
  for (const auto& [name, params] : models) {
    absl::StatusOr<ElmConfig> c =
        ReadElmConfigJson(std::string(dir) + "/" + name + "/model_config.json");
    ASSERT_TRUE(c.ok()) << c.status();
    absl::StatusOr<ElmShape> s = ValidateElmConfig(*c);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->num_trainable_params, params) << name;
  }
}

}  // namespace
}  // namespace elm
