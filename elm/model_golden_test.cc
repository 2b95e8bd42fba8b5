// Conformance of the composed ELM model with the PyTorch reference: every tiny
// model in testdata/tiny (a copy of ../shared/golden/tiny: v1, v2, routed,
// misc, random routing + linear MLP) in float64 and float32 — outputs, state
// and memory traces, the loss L = Σ y² and every gradient (parameters and
// input); and the released NeuronIO models num_memory_15 and best_elm_neuron
// from ../shared/golden (weights from trained/*.weights.txt and from the
// released .pt files) on the T=50 and T=500 inputs, with num_memory_15's
// gradients. Tolerances per tensor: float64 max|a−b| ≤ 1e-10·max(1, max|ref|),
// float32 ≤ 1e-5·max(1, max|ref|).
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "autodiff/ops.h"
#include "base/shared_data.h"
#include "elm/heads.h"
#include "elm/model.h"
#include "elm/model_config.h"
#include "gtest/gtest.h"
#include "io/elmtensor.h"
#include "io/pt_reader.h"

namespace elm {
namespace {

template <typename T>
constexpr double Tolerance() {
  return std::is_same_v<T, double> ? 1e-10 : 1e-5;
}

template <typename T>
const char* Prefix() {
  return std::is_same_v<T, double> ? "f64." : "f32.";
}

// Compares `n` values at `data` (row stride `stride`, `cols` per row taken from
// column `col0`) against the whole of `ref`.
template <typename T>
::testing::AssertionResult Matches(const NamedTensor& ref, const T* data,
                                   int64_t rows, int64_t cols,
                                   int64_t stride = -1,
                                   double tol = Tolerance<T>()) {
  if (stride < 0) stride = cols;
  if (ref.num_elements() != rows * cols) {
    return ::testing::AssertionFailure()
           << ref.name << ": " << ref.num_elements() << " reference values, "
           << rows * cols << " computed";
  }
  double max_ref = 1, max_err = 0;
  int64_t worst = 0;
  for (double v : ref.values) max_ref = std::max(max_ref, std::abs(v));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const double err = std::abs(static_cast<double>(data[r * stride + c]) -
                                  ref.values[r * cols + c]);
      if (!(err <= max_err)) {
        max_err = err;
        worst = r * cols + c;
      }
    }
  }
  if (max_err <= tol * max_ref) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << ref.name << ": max|a−b| = " << max_err << " > " << tol << "·"
         << max_ref << " (worst at flat index " << worst << ": ref "
         << ref.values[worst] << ")";
}

const NamedTensor& Get(const ElmTensorFile& f, const std::string& name) {
  const NamedTensor* t = f.FindOrNull(name);
  CHECK(t != nullptr) << "golden file lacks " << name;
  return *t;
}

// ----- tiny/ -----

class TinyGoldenTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(std::getenv("TEST_SRCDIR"), "/elm/elm/testdata/tiny");
    const std::string base = absl::StrCat(dir_, "/", GetParam());
    absl::StatusOr<ElmConfig> config = ReadElmConfigJson(base + ".config.json");
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *config;
    if (GetParam().find("v2") != std::string::npos)
      config_.set_version(ElmConfig::V2);
    absl::StatusOr<ElmTensorFile> file = ReadElmTensorFile(base + ".txt");
    ASSERT_TRUE(file.ok()) << file.status();
    file_ = std::move(*file);
  }

  // With `fused`, the fused unroll (no synaptic state record) instead of the
  // composed one.
  template <typename T>
  void Check(bool fused) {
    absl::StatusOr<ElmModel<T>> model = ElmModel<T>::Create(config_);
    ASSERT_TRUE(model.ok()) << model.status();
    ASSERT_TRUE(model->LoadStateDict(file_.tensors, "param.", GetParam()).ok());
    const NamedTensor& x_ref = Get(file_, "input.X");
    const int64_t B = x_ref.shape[0], T_ = x_ref.shape[1], N = x_ref.shape[2];
    std::vector<T> x(x_ref.values.begin(), x_ref.values.end());
    GradBlock<T> grads(model->params());
    Tape<T> tape;
    Var<T> xv = tape.Leaf(x.data(), B * T_, N);
    typename ElmModel<T>::Outputs out;
    if (fused) {
      out.y = model->FusedUnroll(tape, xv, T_, &grads, &out.memory);
    } else {
      out = model->Unroll(tape, xv, T_, &grads, /*record=*/true);
    }
    Var<T> loss = SumAll(tape, Mul(tape, out.y, out.y));
    tape.Backward(loss);

    const std::string p = Prefix<T>();
    EXPECT_TRUE(Matches<T>(Get(file_, p + "forward"), out.y.value, out.y.rows,
                           out.y.cols));
    if (!fused) {
      EXPECT_TRUE(Matches<T>(Get(file_, p + "state_record"), out.states.value,
                             out.states.rows, out.states.cols));
    }
    EXPECT_TRUE(Matches<T>(Get(file_, p + "m_record"), out.memory.value,
                           out.memory.rows, out.memory.cols));
    EXPECT_TRUE(Matches<T>(Get(file_, p + "loss"), loss.value, 1, 1));
    EXPECT_TRUE(Matches<T>(Get(file_, p + "grad.X"), xv.grad, B * T_, N));
    int checked = 0;
    for (int id = 0; id < model->params().num_params(); ++id) {
      const ParamInfo& info = model->params().info(id);
      const NamedTensor* ref = file_.FindOrNull(p + "grad." + info.name);
      if (!model->trainable(id)) {
        EXPECT_EQ(ref, nullptr)
            << info.name << " is frozen here but has a reference gradient";
        continue;
      }
      ASSERT_NE(ref, nullptr) << "no reference gradient for " << info.name;
      EXPECT_TRUE(Matches<T>(*ref, grads.view(id).data, info.rows, info.cols));
      ++checked;
    }
    EXPECT_GE(checked, 5);
  }

  std::string dir_;
  ElmConfig config_;
  ElmTensorFile file_;
};

TEST_P(TinyGoldenTest, Float64MatchesReference) { Check<double>(false); }
TEST_P(TinyGoldenTest, Float32MatchesReference) { Check<float>(false); }
TEST_P(TinyGoldenTest, Float64FusedMatchesReference) { Check<double>(true); }
TEST_P(TinyGoldenTest, Float32FusedMatchesReference) { Check<float>(true); }

INSTANTIATE_TEST_SUITE_P(Models, TinyGoldenTest,
                         ::testing::Values("tiny_v1", "tiny_v2",
                                           "tiny_v1_routed", "tiny_v2_routed",
                                           "tiny_v1_misc", "tiny_v2_misc",
                                           "tiny_v1_randroute_linear"));

// ----- trained/ -----

struct TrainedCase {
  std::string model;
  int steps;
  bool gradients;
  bool from_pt;  // weights from the released .pt file instead of weights.txt
};

class TrainedGoldenTest : public ::testing::TestWithParam<TrainedCase> {
 protected:
  void SetUp() override {
    std::string missing;
    dir_ = FindSharedPath("golden", &missing);
    if (dir_.empty()) GTEST_SKIP() << "missing " << missing;
  }

  // With `fused`, the fused unroll (no synaptic state record) instead of the
  // composed one.
  template <typename T>
  void Check(bool fused) {
    const TrainedCase& c = GetParam();
    absl::StatusOr<ElmConfig> config = ReadElmConfigJson(
        absl::StrCat(dir_, "/pretrained/", c.model, "/model_config.json"));
    ASSERT_TRUE(config.ok()) << config.status();
    std::vector<NamedTensor> weights;
    if (c.from_pt) {
      absl::StatusOr<std::vector<NamedTensor>> pt =
          ReadPtStateDict(absl::StrCat(dir_, "/pretrained/", c.model,
                                       "/neuronio_best_model_state.pt"));
      ASSERT_TRUE(pt.ok()) << pt.status();
      weights = std::move(*pt);
    } else {
      absl::StatusOr<ElmTensorFile> txt = ReadElmTensorFile(
          absl::StrCat(dir_, "/trained/", c.model, ".weights.txt"));
      ASSERT_TRUE(txt.ok()) << txt.status();
      weights = std::move(txt->tensors);
    }
    absl::StatusOr<ElmTensorFile> input = ReadElmTensorFile(
        absl::StrCat(dir_, "/trained/neuronio_input_B2_T", c.steps, ".txt"));
    ASSERT_TRUE(input.ok()) << input.status();
    absl::StatusOr<ElmTensorFile> golden = ReadElmTensorFile(
        absl::StrCat(dir_, "/trained/", c.model, ".golden_T", c.steps, ".txt"));
    ASSERT_TRUE(golden.ok()) << golden.status();

    absl::StatusOr<ElmModel<T>> model = ElmModel<T>::Create(*config);
    ASSERT_TRUE(model.ok()) << model.status();
    absl::Status loaded = model->LoadStateDict(weights, "", c.model);
    ASSERT_TRUE(loaded.ok()) << loaded;

    const NamedTensor& x_ref = Get(*input, "X");
    const int64_t B = x_ref.shape[0], steps = x_ref.shape[1],
                  N = x_ref.shape[2];
    std::vector<T> x(x_ref.values.begin(), x_ref.values.end());
    GradBlock<T> grads(model->params());
    Tape<T> tape;
    Var<T> xv = c.gradients ? tape.Leaf(x.data(), B * steps, N)
                            : tape.Constant(x.data(), B * steps, N);
    typename ElmModel<T>::Outputs out;
    if (fused) {
      out.y = model->FusedUnroll(tape, xv, steps,
                                 c.gradients ? &grads : nullptr, &out.memory);
    } else {
      out = model->Unroll(tape, xv, steps, c.gradients ? &grads : nullptr,
                          /*record=*/true);
    }
    const std::string p = Prefix<T>();
    const int64_t S = out.states.cols, dm = out.memory.cols;
    EXPECT_TRUE(
        Matches<T>(Get(*golden, p + "forward"), out.y.value, B * steps, 2));
    // eval_forward: [σ(logit), 10·soma]; its soma column is 10× the raw one.
    std::vector<T> eval(B * steps * 2);
    NeuronioEvalTransform<T>({out.y.value, B * steps, 2},
                             {eval.data(), B * steps, 2});
    EXPECT_TRUE(Matches<T>(Get(*golden, p + "eval_forward"), eval.data(),
                           B * steps, 2, -1, 10 * Tolerance<T>()));
    // States after the last step, per batch row (rows b·T + T − 1).
    if (!fused) {
      EXPECT_TRUE(Matches<T>(Get(*golden, p + "s_last"),
                             out.states.value + (steps - 1) * S, B, S,
                             steps * S));
    }
    EXPECT_TRUE(Matches<T>(Get(*golden, p + "m_last"),
                           out.memory.value + (steps - 1) * dm, B, dm,
                           steps * dm));
    if (const NamedTensor* s0 = golden->FindOrNull(p + "s_record_t0");
        s0 != nullptr && !fused) {
      EXPECT_TRUE(Matches<T>(*s0, out.states.value, B, S, steps * S));
    }
    if (const NamedTensor* m = golden->FindOrNull(p + "m_record")) {
      EXPECT_TRUE(Matches<T>(*m, out.memory.value, B * steps, dm));
    }
    if (!c.gradients) return;
    Var<T> loss = SumAll(tape, Mul(tape, out.y, out.y));
    tape.Backward(loss);
    EXPECT_TRUE(Matches<T>(Get(*golden, p + "loss"), loss.value, 1, 1));
    EXPECT_TRUE(Matches<T>(Get(*golden, p + "grad.X"), xv.grad, B * steps, N));
    for (int id = 0; id < model->params().num_params(); ++id) {
      if (!model->trainable(id)) continue;
      const ParamInfo& info = model->params().info(id);
      EXPECT_TRUE(Matches<T>(Get(*golden, p + "grad." + info.name),
                             grads.view(id).data, info.rows, info.cols));
    }
  }

  std::string dir_;
};

TEST_P(TrainedGoldenTest, Float64MatchesReference) { Check<double>(false); }
TEST_P(TrainedGoldenTest, Float32MatchesReference) { Check<float>(false); }
TEST_P(TrainedGoldenTest, Float64FusedMatchesReference) { Check<double>(true); }
TEST_P(TrainedGoldenTest, Float32FusedMatchesReference) { Check<float>(true); }

INSTANTIATE_TEST_SUITE_P(
    Models, TrainedGoldenTest,
    ::testing::Values(TrainedCase{"num_memory_15", 50, true, false},
                      TrainedCase{"num_memory_15", 500, false, false},
                      TrainedCase{"best_elm_neuron", 50, false, false},
                      TrainedCase{"num_memory_15", 50, true, true},
                      TrainedCase{"num_memory_15", 500, false, true},
                      TrainedCase{"best_elm_neuron", 50, false, true}),
    [](const auto& info) {
      return absl::StrCat(info.param.model, "_T", info.param.steps,
                          info.param.from_pt ? "_pt" : "_txt");
    });

}  // namespace
}  // namespace elm
