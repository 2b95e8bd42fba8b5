// Tests of //experiments:evaluate as a library: the metric lines and the JSON
// object, the flag errors, and an evaluation of an ELM checkpoint on
// generated NeuronIO data from a spec with --set. (evaluate_main_test.cc runs
// the binary on the real fixture and the released models.)
#include "experiments/evaluate.h"

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/test_files.h"
#include "elm/checkpoint.h"
#include "elm/model.h"
#include "experiments/test_specs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(MetricLinesTest, ShortestExactNumbersInTheTasksOrder) {
  EvalOutcome outcome;
  outcome.reported = {{"AUC", 8.0 / 19.0},
                      {"soma_RMSE", 0.5},
                      {"x", std::nan("")},
                      {"y", -INFINITY}};
  EXPECT_EQ(MetricLines(outcome),
            "AUC: 0.42105263157894735\nsoma_RMSE: 0.5\nx: nan\ny: -inf\n");
}

TEST(MetricsJsonTest, ReportedAndScored) {
  EvalOutcome outcome;
  outcome.reported = {{"TP @ 0.0100 FP", 8.0 / 19.0}, {"bad", std::nan("")}};
  outcome.scored = {{"num_simulations", 4}};
  absl::StatusOr<std::string> json = MetricsJson(outcome);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr("\"TP @ 0.0100 FP\": 0.42105263157894735"));
  EXPECT_THAT(*json, HasSubstr("\"bad\": null"));
  EXPECT_THAT(*json, HasSubstr("\"num_simulations\": 4"));
}

void ExpectError(const EvaluateOptions& options, const std::string& substring) {
  absl::StatusOr<EvalOutcome> out = EvaluateModel(options);
  EXPECT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()), HasSubstr(substring));
}

TEST(EvaluateModelTest, FlagErrors) {
  EvaluateOptions options;
  ExpectError(options, "--model is required");
  options.model = TestTempPath("absent.ckpt");
  options.data = "/x/*.p.gz";
  ExpectError(options, "absent.ckpt");
  options.split = "dev";
  ExpectError(options, "--split");
  options.split = "valid";
  ExpectError(options, "--split=valid");
  options.split = "test";
  options.threads = -1;
  ExpectError(options, "--threads");
  options.threads = 100000;
  ExpectError(options, "--threads = 100000; expected 1 to 256");
}

TEST(EvaluateModelTest, CheckpointOnGeneratedDataFromASpec) {
  const std::string spec = TestTempPath("generated.textproto");
  std::ofstream(spec) << R"pb(
        eval { window_ms: 200 burn_in_ms: 50 ignore_start_ms: 100 }
        train { threads: 1 batch_size: 4 }
      )pb"
                      << "data { " << TinyNeuronioData(4, 1200)
                      << " seed: 3 }\n";
  EvaluateOptions options;
  options.model = TinyNeuronioCheckpoint("neuronio_model.ckpt");
  options.spec = spec;
  options.overrides = {"eval.batch_size=3"};
  options.threads = 2;
  absl::StatusOr<EvalOutcome> out = EvaluateModel(options);
  ASSERT_TRUE(out.ok()) << out.status();
  std::vector<std::string> names;
  for (const auto& [name, value] : out->reported) names.push_back(name);
  EXPECT_THAT(names, ElementsAre("AUC", "TP @ 0.0025 FP", "TP @ 0.0100 FP",
                                 "AUC @ 0.0025 FP", "AUC @ 0.0100 FP",
                                 "soma_explained_variance_percent", "soma_RMSE",
                                 "soma_MAE"));
  ASSERT_EQ(out->scored.size(), 2u);
  EXPECT_EQ(out->scored[1].second, 4);  // the test file's simulations

  // The same from one thread, and a bad --set names the field.
  options.threads = 1;
  absl::StatusOr<EvalOutcome> one = EvaluateModel(options);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->reported, out->reported);
  options.overrides = {"eval.burn_in_ms=600"};
  ExpectError(options, "eval.burn_in_ms");
}

}  // namespace
}  // namespace elm
