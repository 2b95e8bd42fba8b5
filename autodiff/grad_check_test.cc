// Tests the gradient checker itself: it passes correct gradients, and it
// catches wrong ones both element by element and along random directions.
#include "autodiff/grad_check.h"

#include <cmath>

#include "autodiff/ops.h"
#include "autodiff/params.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

// y = x³ with a backward that is wrong by `error` · x (scaled) when error != 0.
Var<double> Cube(Tape<double>& tape, Var<double> x, double error) {
  Var<double> y = tape.NewVar(x.rows, x.cols, x.needs_grad());
  for (int64_t i = 0; i < x.size(); ++i)
    y.value[i] = x.value[i] * x.value[i] * x.value[i];
  if (y.needs_grad()) {
    tape.Record([x, y, error] {
      for (int64_t i = 0; i < x.size(); ++i) {
        x.grad[i] +=
            (3 * x.value[i] * x.value[i] + error * x.value[i]) * y.grad[i];
      }
    });
  }
  return y;
}

TEST(GradCheckTest, PassesCorrectAndCatchesWrongGradients) {
  Rng rng(1);
  std::vector<Tensor<double>> in = {RandomTensor(4, 5, rng)};
  GradCheckResult good = CheckOpGradients(
      [](Tape<double>& t, absl::Span<const Var<double>> x) {
        return Cube(t, x[0], 0.0);
      },
      in);
  EXPECT_TRUE(good.ok) << good.message;
  EXPECT_EQ(good.num_checked, 20);
  EXPECT_LT(good.max_rel_error, 1e-6);

  GradCheckResult bad = CheckOpGradients(
      [](Tape<double>& t, absl::Span<const Var<double>> x) {
        return Cube(t, x[0], 1e-3);
      },
      in);
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.message.find("input 0["), std::string::npos) << bad.message;
}

TEST(GradCheckTest, DirectionalModeCatchesWrongGradients) {
  Rng rng(2);
  std::vector<Tensor<double>> in = {RandomTensor(50, 50, rng)};
  GradCheckOptions options;
  options.max_full_elements = 10;
  GradCheckResult good = CheckOpGradients(
      [](Tape<double>& t, absl::Span<const Var<double>> x) {
        return Cube(t, x[0], 0.0);
      },
      in, options);
  EXPECT_TRUE(good.ok) << good.message;
  EXPECT_EQ(good.num_checked, options.num_directions);
  GradCheckResult bad = CheckOpGradients(
      [](Tape<double>& t, absl::Span<const Var<double>> x) {
        return Cube(t, x[0], 1e-2);
      },
      in, options);
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.message.find("direction"), std::string::npos);
}

TEST(GradCheckTest, ChecksParameterViewsInPlace) {
  // A model over a ParamSet: L = Σ tanh(x · Wᵀ + b)².
  ParamSet<double> params;
  const int w = params.Add("w", 3, 4);
  const int b = params.Add("b", 1, 3);
  Rng rng(3);
  params.ForEach(
      [&](const ParamInfo&, View<double> v) { FillUniform(v, -1, 1, rng); });
  const std::vector<double> before(params.data(),
                                   params.data() + params.num_elements());
  GradBlock<double> grads(params);
  Tensor<double> x = RandomTensor(5, 4, rng);
  auto eval = [&](bool with_grad) {
    Tape<double> tape;
    GradBlock<double>* g = with_grad ? &grads : nullptr;
    Var<double> y = Tanh(
        tape, Linear(tape, tape.Constant(x.view()), params.OnTape(tape, w, g),
                     params.OnTape(tape, b, g)));
    Var<double> loss = SumAll(tape, Mul(tape, y, y));
    if (with_grad) tape.Backward(loss);
    return loss.scalar();
  };
  std::vector<GradCheckInput> inputs = {{"w", params.value(w), grads.view(w)},
                                        {"b", params.value(b), grads.view(b)}};
  GradCheckResult r = CheckGradients(eval, inputs);
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.num_checked, 15);
  // Values are restored exactly.
  for (int64_t i = 0; i < params.num_elements(); ++i)
    EXPECT_EQ(params.data()[i], before[i]);
}

}  // namespace
}  // namespace elm
