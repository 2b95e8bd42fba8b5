// End-to-end tests of the `//elm:forward` tool: it runs the released reference
// models from their `.pt` files and from ELMTENSOR weights and reproduces the
// golden outputs, resolves relative paths against BUILD_WORKING_DIRECTORY, and
// fails with a message naming the file on bad input.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/shared_data.h"
#include "base/test_binary.h"
#include "base/test_files.h"
#include "gtest/gtest.h"
#include "io/elmtensor.h"

namespace elm {
namespace {

CommandResult RunForward(const std::string& args, const std::string& env = "") {
  return RunTestBinary("elm/forward", args, env);
}

double MaxRelativeError(const NamedTensor& got, const NamedTensor& want) {
  EXPECT_EQ(got.shape, want.shape) << got.name;
  if (got.values.size() != want.values.size()) return INFINITY;
  double max_ref = 1, max_err = 0;
  for (size_t i = 0; i < want.values.size(); ++i) {
    max_ref = std::max(max_ref, std::abs(want.values[i]));
    max_err = std::max(max_err, std::abs(got.values[i] - want.values[i]));
  }
  return max_err / max_ref;
}

class ForwardToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing;
    golden_ = FindSharedPath("golden", &missing);
    if (golden_.empty()) GTEST_SKIP() << "missing " << missing;
  }

  // Runs the tool and compares its outputs with the golden file's entries of
  // `dtype`.
  void ExpectMatchesGolden(const std::string& model_args,
                           const std::string& model, const std::string& dtype,
                           double tol) {
    const std::string out = TestTempPath(model + "_" + dtype + ".txt");
    CommandResult r = RunForward(
        absl::StrCat(model_args, " --input=", golden_,
                     "/trained/neuronio_input_B2_T50.txt --output=", out,
                     " --dtype=", dtype));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    absl::StatusOr<ElmTensorFile> got = ReadElmTensorFile(out);
    ASSERT_TRUE(got.ok()) << got.status();
    absl::StatusOr<ElmTensorFile> want = ReadElmTensorFile(
        absl::StrCat(golden_, "/trained/", model, ".golden_T50.txt"));
    ASSERT_TRUE(want.ok()) << want.status();
    for (const char* name : {".forward", ".eval_forward"}) {
      const NamedTensor* g = got->FindOrNull(dtype + name);
      const NamedTensor* w = want->FindOrNull(dtype + name);
      ASSERT_NE(g, nullptr) << dtype << name << " not written";
      ASSERT_NE(w, nullptr);
      // eval_forward's soma column is 10× the raw output: 10× the tolerance.
      EXPECT_LE(MaxRelativeError(*g, *w),
                std::string(name) == ".forward" ? tol : 10 * tol)
          << model << " " << dtype << name;
    }
  }

  std::string golden_;
};

TEST_F(ForwardToolTest, RunsReleasedPtModels) {
  for (const std::string model : {"num_memory_15", "best_elm_neuron"}) {
    ExpectMatchesGolden(absl::StrCat("--model=", golden_, "/pretrained/", model,
                                     "/neuronio_best_model_state.pt"),
                        model, "f32", 1e-5);
  }
  ExpectMatchesGolden(
      absl::StrCat("--model=", golden_,
                   "/pretrained/num_memory_15/neuronio_best_model_state.pt"),
      "num_memory_15", "f64", 1e-10);
}

TEST_F(ForwardToolTest, RunsElmTensorWeightsWithConfig) {
  ExpectMatchesGolden(
      absl::StrCat("--model=", golden_, "/trained/best_elm_neuron.weights.txt",
                   " --config=", golden_,
                   "/pretrained/best_elm_neuron/model_config.json"),
      "best_elm_neuron", "f32", 1e-5);
}

TEST_F(ForwardToolTest, RelativePathsFollowBuildWorkingDirectory) {
  CommandResult r = RunForward(
      absl::StrCat(
          "--model=pretrained/num_memory_15/neuronio_best_model_state.pt",
          " --input=trained/neuronio_input_B2_T50.txt --output=",
          TestTempPath("rel.txt")),
      absl::StrCat("BUILD_WORKING_DIRECTORY=", golden_));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(ForwardToolTest, ErrorsNameTheFile) {
  CommandResult r = RunForward(absl::StrCat(
      "--model=/nonexistent/model.pt --input=", golden_,
      "/trained/neuronio_input_B2_T50.txt --output=", TestTempPath("x.txt")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("/nonexistent/model.pt"), std::string::npos)
      << r.output;

  // Weights without a config beside them.
  r = RunForward(absl::StrCat(
      "--model=", golden_,
      "/trained/num_memory_15.weights.txt --input=", golden_,
      "/trained/neuronio_input_B2_T50.txt --output=", TestTempPath("x.txt")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("--config"), std::string::npos) << r.output;

  // An input whose channel count does not fit the model.
  const std::string bad_input = TestTempPath("bad_input.txt");
  std::ofstream(bad_input)
      << "#ELMTENSOR v1\ntensor X f32 3 1 2 3\n0 1 0 1 0 1\nend\n";
  r = RunForward(absl::StrCat(
      "--model=", golden_,
      "/pretrained/num_memory_15/neuronio_best_model_state.pt --input=",
      bad_input, " --output=", TestTempPath("x.txt")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find(bad_input), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1278"), std::string::npos) << r.output;

  // A NaN or an infinity in the input is refused with its position (it would
  // otherwise give finite outputs that look valid).
  for (const char* value : {"nan", "inf", "-inf"}) {
    const std::string nan_input = TestTempPath("nan_input.txt");
    std::string text = "#ELMTENSOR v1\ntensor X f32 2 2 1278\n";
    for (int i = 0; i < 2 * 1278; ++i) {
      absl::StrAppend(&text, i == 1278 + 5 ? value : "0", " ");
    }
    text += "\nend\n";
    std::ofstream(nan_input) << text;
    r = RunForward(absl::StrCat(
        "--model=", golden_,
        "/pretrained/num_memory_15/neuronio_best_model_state.pt --input=",
        nan_input, " --output=", TestTempPath("x.txt")));
    EXPECT_EQ(r.exit_code, 1) << value << ": " << r.output;
    EXPECT_NE(r.output.find(nan_input), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("at [0, 1, 5]"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("must be finite"), std::string::npos) << r.output;
  }

  // Missing flags.
  r = RunForward("--model=x.pt");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("required"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace elm
