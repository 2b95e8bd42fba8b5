// Tests parameter sets, gradient blocks aliased on the tape, gradient summation
// across blocks, and global-norm clipping.
#include "autodiff/params.h"

#include <cmath>

#include "autodiff/ops.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

TEST(ParamSetTest, ContiguousLayoutAndLookup) {
  ParamSet<float> p;
  const int a = p.Add("a", 2, 3);
  const int b = p.Add("b", 1, 4);
  EXPECT_EQ(p.num_params(), 2);
  EXPECT_EQ(p.num_elements(), 10);
  EXPECT_EQ(p.info(b).offset, 6);
  EXPECT_EQ(p.value(b).data, p.data() + 6);
  EXPECT_EQ(*p.Find("b"), b);
  EXPECT_EQ(*p.Find("a"), a);
  absl::StatusOr<int> missing = p.Find("c");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'c'"), std::string::npos);
  int visited = 0;
  p.ForEach([&](const ParamInfo& info, View<float> v) {
    EXPECT_EQ(v.data, p.data() + info.offset);
    ++visited;
  });
  EXPECT_EQ(visited, 2);
}

TEST(ParamSetTest, FrozenParametersComeLastAndGetNoGradient) {
  ParamSet<float> p;
  const int a = p.Add("a", 2, 3);
  const int f = p.Add("frozen", 1, 4, /*trainable=*/false);
  EXPECT_EQ(p.num_elements(), 10);
  EXPECT_EQ(p.num_trainable_elements(), 6);
  EXPECT_TRUE(p.info(a).trainable);
  EXPECT_FALSE(p.info(f).trainable);
  GradBlock<float> g(p);
  Tape<float> tape;
  EXPECT_TRUE(p.OnTape(tape, a, &g).needs_grad());
  EXPECT_FALSE(p.OnTape(tape, f, &g).needs_grad());
  EXPECT_DEATH(p.Add("late", 1, 1), "after a frozen one");
}

TEST(ParamSetTest, BackwardAccumulatesIntoGradBlocks) {
  ParamSet<double> p;
  const int w = p.Add("w", 1, 3);
  p.value(w)[0] = 1;
  p.value(w)[1] = 2;
  p.value(w)[2] = 3;
  GradBlock<double> g1(p), g2(p);
  const double x[3] = {4, 5, 6};
  for (GradBlock<double>* g : {&g1, &g2}) {
    Tape<double> tape;
    Var<double> loss =
        SumAll(tape, Mul(tape, p.OnTape(tape, w, g), tape.Constant(x, 1, 3)));
    tape.Backward(loss);
  }
  for (int i = 0; i < 3; ++i) EXPECT_EQ(g1.view(w)[i], x[i]);
  g1.Add(g2);  // summing per-thread blocks
  for (int i = 0; i < 3; ++i) EXPECT_EQ(g1.data()[i], 2 * x[i]);
  g1.Zero();
  EXPECT_EQ(g1.SquaredNorm(), 0.0);
  // Without a block the Var needs no gradient.
  Tape<double> tape;
  EXPECT_FALSE(p.OnTape(tape, w, nullptr).needs_grad());
}

TEST(ClipGradNormTest, MatchesTorchSemantics) {
  ParamSet<double> p;
  p.Add("a", 1, 2);
  p.Add("b", 1, 1);
  GradBlock<double> g(p);
  g.data()[0] = 3;
  g.data()[1] = 0;
  g.data()[2] = 4;  // norm 5
  EXPECT_DOUBLE_EQ(ClipGradNorm(g, 10.0), 5.0);
  EXPECT_EQ(g.data()[0], 3.0);  // below the limit: unchanged
  EXPECT_DOUBLE_EQ(ClipGradNorm(g, 1.0), 5.0);
  const double coef = 1.0 / (5.0 + 1e-6);
  EXPECT_DOUBLE_EQ(g.data()[0], 3 * coef);
  EXPECT_DOUBLE_EQ(g.data()[2], 4 * coef);
  EXPECT_NEAR(std::sqrt(g.SquaredNorm()), 1.0, 1e-6);
}

// torch clips whenever max_norm / (n + 1e-6) < 1, so also for n a little
// below max_norm (n > max_norm − 1e-6), by a factor just below 1.
TEST(ClipGradNormTest, ClipsWithinEpsilonBelowTheLimitAsTorch) {
  ParamSet<double> p;
  p.Add("a", 1, 2);
  GradBlock<double> g(p);
  g.data()[0] = 3;
  g.data()[1] = 4;  // norm 5
  const double max_norm = 5.0 + 5e-7;
  EXPECT_DOUBLE_EQ(ClipGradNorm(g, max_norm), 5.0);
  EXPECT_DOUBLE_EQ(g.data()[0], 3 * max_norm / (5.0 + 1e-6));
  EXPECT_LT(g.data()[0], 3.0);
}

TEST(FillUniformTest, RangeAndSeed) {
  Tensor<float> a(10, 10), b(10, 10);
  Rng r1(4), r2(4);
  FillUniform(a.view(), -0.25, 0.25, r1);
  FillUniform(b.view(), -0.25, 0.25, r2);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(a[i], b[i]);
    EXPECT_GE(a[i], -0.25f);
    EXPECT_LE(a[i], 0.25f);
  }
}

}  // namespace
}  // namespace elm
