// Tests the linear scan: values against the plain recurrence, gradients for the
// decay, the inputs and the initial state against central differences, and
// float against double.
#include "autodiff/scan.h"

#include <cmath>
#include <vector>

#include "autodiff/grad_check.h"
#include "autodiff/ops.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using Leaves = absl::Span<const Var<double>>;

TEST(LinearScanTest, MatchesRecurrence) {
  const int B = 2, T = 7, D = 3;
  Rng rng(3);
  Tensor<double> a = RandomTensor(1, D, rng, 0.2, 0.95);
  Tensor<double> u = RandomTensor(B * T, D, rng);
  Tensor<double> init = RandomTensor(B, D, rng);
  Tape<double> tape;
  Var<double> y =
      LinearScan(tape, tape.Constant(a.view()), tape.Constant(u.view()), T,
                 tape.Constant(init.view()));
  Var<double> y0 =
      LinearScan(tape, tape.Constant(a.view()), tape.Constant(u.view()), T);
  for (int b = 0; b < B; ++b) {
    for (int i = 0; i < D; ++i) {
      double s = init(b, i), s0 = 0;
      for (int t = 0; t < T; ++t) {
        s = a[i] * s + u(b * T + t, i);
        s0 = a[i] * s0 + u(b * T + t, i);
        EXPECT_NEAR(y.value[(b * T + t) * D + i], s, 1e-15);
        EXPECT_NEAR(y0.value[(b * T + t) * D + i], s0, 1e-15);
      }
    }
  }
}

TEST(LinearScanTest, GradientsOfDecayInputsAndInit) {
  Rng rng(5);
  const int B = 3, T = 40, D = 4;
  std::vector<Tensor<double>> in = {RandomTensor(1, D, rng, 0.3, 0.97),
                                    RandomTensor(B * T, D, rng),
                                    RandomTensor(B, D, rng)};
  GradCheckResult r = CheckOpGradients(
      [](Tape<double>& t, Leaves x) {
        return LinearScan(t, x[0], x[1], T, x[2]);
      },
      in);
  EXPECT_TRUE(r.ok) << r.message;
  r = CheckOpGradients(
      [](Tape<double>& t, Leaves x) { return LinearScan(t, x[0], x[1], T); },
      in);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(LinearScanTest, LongSequenceDirectionalCheck) {
  // T = 2000: the inputs are checked along random directions.
  Rng rng(7);
  const int B = 2, T = 2000, D = 3;
  std::vector<Tensor<double>> in = {RandomTensor(1, D, rng, 0.8, 0.99),
                                    RandomTensor(B * T, D, rng)};
  GradCheckOptions options;
  options.max_full_elements = 100;
  GradCheckResult r = CheckOpGradients(
      [](Tape<double>& t, Leaves x) { return LinearScan(t, x[0], x[1], T); },
      in, options);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(LinearScanTest, FloatMatchesDouble) {
  Rng rng(9);
  const int B = 2, T = 500, D = 5;
  Tensor<double> a = RandomTensor(1, D, rng, 0.5, 0.99);
  Tensor<double> u = RandomTensor(B * T, D, rng);
  std::vector<float> af(a.values().begin(), a.values().end());
  std::vector<float> uf(u.values().begin(), u.values().end());
  Tape<double> td;
  Tape<float> tf;
  Var<double> ad = td.Leaf(a.data(), 1, D), ud = td.Leaf(u.data(), B * T, D);
  Var<float> af_v = tf.Leaf(af.data(), 1, D),
             uf_v = tf.Leaf(uf.data(), B * T, D);
  td.Backward(SumAll(td, Tanh(td, LinearScan(td, ad, ud, T))));
  tf.Backward(SumAll(tf, Tanh(tf, LinearScan(tf, af_v, uf_v, T))));
  double max_ref = 0;
  for (int i = 0; i < D; ++i) max_ref = std::max(max_ref, std::abs(ad.grad[i]));
  for (int i = 0; i < D; ++i)
    EXPECT_NEAR(af_v.grad[i], ad.grad[i], 1e-5 * max_ref);
  for (int i = 0; i < B * T * D; ++i)
    EXPECT_NEAR(uf_v.grad[i], ud.grad[i], 1e-5);
}

}  // namespace
}  // namespace elm
