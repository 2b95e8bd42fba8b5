// Tests the NeuronIO head (evaluation transform, target scaling, loss value and
// gradient) and the classification readouts (values and gradients).
#include "elm/heads.h"

#include <cmath>
#include <vector>

#include "autodiff/grad_check.h"
#include "autodiff/ops.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using Leaves = absl::Span<const Var<double>>;

TEST(NeuronioHeadTest, EvalTransformAndTargetScaling) {
  std::vector<double> y = {0.0, 1.5, -2.0, -0.25};
  std::vector<double> out(4);
  NeuronioEvalTransform<double>({y.data(), 2, 2}, {out.data(), 2, 2});
  EXPECT_DOUBLE_EQ(out[0], 0.5);
  EXPECT_DOUBLE_EQ(out[1], 15.0);
  EXPECT_DOUBLE_EQ(out[2], 1 / (1 + std::exp(2.0)));
  EXPECT_DOUBLE_EQ(out[3], -2.5);
  EXPECT_NEAR(ScaleSomaTarget(-67.7), 0.0, 1e-12);
  EXPECT_NEAR(ScaleSomaTarget(-60.0), 0.77, 1e-12);
  EXPECT_NEAR(ScaleSomaTarget(+20.0), ScaleSomaTarget(-55.0),
              1e-12);  // clipped
  EXPECT_NEAR(ScaleSomaTarget(-55.0), 1.27, 1e-12);
}

TEST(NeuronioHeadTest, LossValueAndGradient) {
  Rng rng(1);
  std::vector<Tensor<double>> in = {RandomTensor(6, 2, rng, -2, 2)};
  Tensor<double> spike(6, 1, {0, 1, 0, 0, 1, 0});
  Tensor<double> soma = RandomTensor(6, 1, rng, 0, 1.3);
  Tape<double> tape;
  Var<double> loss =
      NeuronioLoss(tape, tape.Constant(in[0].view()),
                   tape.Constant(spike.view()), tape.Constant(soma.view()));
  double bce = 0, mse = 0;
  for (int r = 0; r < 6; ++r) {
    const double p = 1 / (1 + std::exp(-in[0](r, 0)));
    bce -= spike[r] * std::log(p) + (1 - spike[r]) * std::log(1 - p);
    mse += (in[0](r, 1) - soma[r]) * (in[0](r, 1) - soma[r]);
  }
  EXPECT_NEAR(loss.scalar(), 0.5 * bce / 6 + 0.5 * mse / 6, 1e-14);
  GradCheckResult r = CheckTapeGradients(
      [&](Tape<double>& t, Leaves x) {
        return NeuronioLoss(t, x[0], t.Constant(spike.view()),
                            t.Constant(soma.view()));
      },
      in);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(ClassReadoutTest, LastStepAndMeanValues) {
  // B = 2, T = 3, C = 2; y[b, t, c] = 100b + 10t + c.
  Tensor<double> y(6, 2);
  for (int b = 0; b < 2; ++b)
    for (int t = 0; t < 3; ++t)
      for (int c = 0; c < 2; ++c) y(b * 3 + t, c) = 100 * b + 10 * t + c;
  Tape<double> tape;
  Var<double> last =
      ClassReadout(tape, tape.Constant(y.view()), 3, Readout::kLastStep);
  Var<double> mean =
      ClassReadout(tape, tape.Constant(y.view()), 3, Readout::kMeanOverSteps);
  ASSERT_EQ(last.rows, 2);
  ASSERT_EQ(last.cols, 2);
  EXPECT_EQ(last.value[0], 20);
  EXPECT_EQ(last.value[3], 121);
  EXPECT_DOUBLE_EQ(mean.value[0], 10);
  EXPECT_DOUBLE_EQ(mean.value[3], 111);
}

TEST(ClassReadoutTest, GradientsThroughCrossEntropy) {
  Rng rng(2);
  std::vector<Tensor<double>> in = {RandomTensor(4 * 5, 3, rng)};
  const std::vector<int64_t> labels = {2, 0, 1, 1};
  for (Readout readout : {Readout::kLastStep, Readout::kMeanOverSteps}) {
    GradCheckResult r = CheckTapeGradients(
        [&](Tape<double>& t, Leaves x) {
          return SoftmaxCrossEntropy<double>(
              t, ClassReadout(t, x[0], 5, readout), labels);
        },
        in);
    EXPECT_TRUE(r.ok) << r.message;
  }
}

}  // namespace
}  // namespace elm
