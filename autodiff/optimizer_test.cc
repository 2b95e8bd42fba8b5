// Tests each optimizer on one or two steps worked out by hand (the expected
// values are written out from the update formulas with literal numbers), the
// float instantiation, state handling and the config validation and factory.
#include "autodiff/optimizer.h"

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

constexpr double kTol = 1e-15;

TEST(SgdTest, PlainStep) {
  Sgd<double> sgd(0.1);
  std::vector<double> p = {1.0, -2.0};
  const std::vector<double> g = {0.5, -4.0};
  sgd.Step(p.data(), g.data(), p.size());
  EXPECT_NEAR(p[0], 0.95, kTol);
  EXPECT_NEAR(p[1], -1.6, kTol);
  EXPECT_TRUE(sgd.momentum_buffer().empty());
  EXPECT_EQ(sgd.step_count(), 1);
}

TEST(SgdTest, MomentumCopiesTheFirstGradient) {
  // lr 0.1, momentum 0.9, dampening 0.5: the first buffer is the gradient
  // itself (no dampening), the second is 0.9 * buf + 0.5 * g.
  Sgd<double> sgd(0.1, 0.9, 0.5);
  std::vector<double> p = {1.0};
  const std::vector<double> g = {1.0};
  sgd.Step(p.data(), g.data(), 1);
  EXPECT_NEAR(sgd.momentum_buffer()[0], 1.0, kTol);
  EXPECT_NEAR(p[0], 0.9, kTol);  // 1 - 0.1 * 1
  sgd.Step(p.data(), g.data(), 1);
  EXPECT_NEAR(sgd.momentum_buffer()[0], 1.4, kTol);  // 0.9 * 1 + 0.5 * 1
  EXPECT_NEAR(p[0], 0.76, kTol);                     // 0.9 - 0.1 * 1.4
}

TEST(SgdTest, NesterovAndWeightDecay) {
  // lr 0.1, momentum 0.9, weight decay 0.1, Nesterov. p = 2, g = 1:
  // step 1: d = 1 + 0.1 * 2 = 1.2, buf = 1.2,
  //         step = 1.2 + 0.9 * 1.2 = 2.28, p = 2 - 0.228 = 1.772.
  // step 2: d = 1 + 0.1772 = 1.1772, buf = 0.9 * 1.2 + 1.1772 = 2.2572,
  //         step = 1.1772 + 0.9 * 2.2572 = 3.20868,
  //         p = 1.772 - 0.320868 = 1.451132.
  Sgd<double> sgd(0.1, 0.9, 0.0, 0.1, /*nesterov=*/true);
  std::vector<double> p = {2.0};
  const std::vector<double> g = {1.0};
  sgd.Step(p.data(), g.data(), 1);
  EXPECT_NEAR(p[0], 1.772, kTol);
  sgd.Step(p.data(), g.data(), 1);
  EXPECT_NEAR(sgd.momentum_buffer()[0], 2.2572, kTol);
  EXPECT_NEAR(p[0], 1.451132, 1e-14);
}

TEST(AdamTest, FirstStepMovesByLrTimesSign) {
  // After one step m / bc1 = g and sqrt(v / bc2) = |g|, so with eps = 0 the
  // step is lr.
  Adam<double> adam(0.01, 0.9, 0.999, /*eps=*/0.0);
  std::vector<double> p = {1.0, 1.0, -3.0};
  const std::vector<double> g = {2.0, -0.001, 7.0};
  adam.Step(p.data(), g.data(), p.size());
  EXPECT_NEAR(p[0], 0.99, kTol);
  EXPECT_NEAR(p[1], 1.01, kTol);
  EXPECT_NEAR(p[2], -3.01, kTol);
  EXPECT_NEAR(adam.exp_avg()[0], 0.2, kTol);       // 0.1 * 2
  EXPECT_NEAR(adam.exp_avg_sq()[0], 0.004, kTol);  // 0.001 * 4
  EXPECT_NEAR(adam.exp_avg_sq()[1], 0.001 * 0.001 * 0.001, 1e-20);
}

TEST(AdamTest, SecondStepByHand) {
  // lr 0.01, betas (0.9, 0.999), eps 1e-8; g = 1 then 2, p starts at 1.
  // m2 = 0.9 * 0.1 + 0.1 * 2 = 0.29; v2 = 0.999 * 0.001 + 0.001 * 4 = 0.004999;
  // bc1 = 1 - 0.81 = 0.19; bc2 = 1 - 0.998001 = 0.001999.
  Adam<double> adam(0.01);
  std::vector<double> p = {1.0};
  std::vector<double> g = {1.0};
  adam.Step(p.data(), g.data(), 1);
  const double p1 = 1.0 - 0.01 * 1.0 / (1.0 + 1e-8);
  EXPECT_NEAR(p[0], p1, kTol);
  g[0] = 2.0;
  adam.Step(p.data(), g.data(), 1);
  EXPECT_NEAR(adam.exp_avg()[0], 0.29, kTol);
  EXPECT_NEAR(adam.exp_avg_sq()[0], 0.004999, kTol);
  const double expected =
      p1 -
      (0.01 / 0.19) * 0.29 / (std::sqrt(0.004999) / std::sqrt(0.001999) + 1e-8);
  EXPECT_NEAR(p[0], expected, kTol);
}

TEST(AdamTest, WeightDecayIsAddedToTheGradient) {
  // g = 0, p = 2, weight decay 0.5: the gradient used is 1, so the step is
  // lr * 1 / (1 + eps).
  Adam<double> adam(0.1, 0.9, 0.999, 1e-3, /*weight_decay=*/0.5);
  std::vector<double> p = {2.0};
  const std::vector<double> g = {0.0};
  adam.Step(p.data(), g.data(), 1);
  EXPECT_NEAR(p[0], 2.0 - 0.1 / 1.001, kTol);
}

TEST(AdamWTest, DecayIsDecoupled) {
  // p = 1, lr 0.1, weight decay 0.5, eps 0: p = 1 * (1 - 0.05) = 0.95, then the
  // Adam step of exactly lr: 0.85. The moments see the raw gradient.
  AdamW<double> adamw(0.1, 0.9, 0.999, 0.0, 0.5);
  std::vector<double> p = {1.0};
  const std::vector<double> g = {3.0};
  adamw.Step(p.data(), g.data(), 1);
  EXPECT_NEAR(p[0], 0.85, kTol);
  EXPECT_NEAR(adamw.exp_avg()[0], 0.3, kTol);
  // A zero gradient still decays the parameter:
  // p = 0.85 * 0.95 - (0.1 / 0.19) * 0.27 / sqrt(0.000999 * 9 / 0.001999).
  const std::vector<double> zero = {0.0};
  adamw.Step(p.data(), zero.data(), 1);
  const double expected =
      0.85 * 0.95 - (0.1 / 0.19) * 0.27 / (std::sqrt(0.008991 / 0.001999));
  EXPECT_NEAR(p[0], expected, kTol);
}

TEST(AdamaxTest, TwoStepsByHand) {
  // lr 0.01, betas (0.9, 0.999), eps 0. g = 1 then -3, p starts at 0.
  // step 1: m = 0.1, u = 1, clr = 0.01 / 0.1 = 0.1, p = -0.1 * 0.1 / 1 = -0.01.
  // step 2: m = 0.09 - 0.3 = -0.21, u = max(0.999, 3) = 3, clr = 0.01 / 0.19,
  //         p = -0.01 + (0.01 / 0.19) * 0.21 / 3.
  Adamax<double> adamax(0.01, 0.9, 0.999, 0.0);
  std::vector<double> p = {0.0};
  std::vector<double> g = {1.0};
  adamax.Step(p.data(), g.data(), 1);
  EXPECT_NEAR(p[0], -0.01, kTol);
  g[0] = -3.0;
  adamax.Step(p.data(), g.data(), 1);
  EXPECT_NEAR(adamax.exp_avg()[0], -0.21, kTol);
  EXPECT_NEAR(adamax.exp_inf()[0], 3.0, kTol);
  EXPECT_NEAR(p[0], -0.01 + (0.01 / 0.19) * 0.21 / 3.0, kTol);
}

TEST(AdamaxTest, InfinityNormDecaysAndKeepsEps) {
  // g = 2 then 1 with eps 0.5: u1 = 2.5, u2 = max(0.999 * 2.5, 1.5) = 2.4975.
  Adamax<double> adamax(0.01, 0.9, 0.999, 0.5);
  std::vector<double> p = {0.0};
  std::vector<double> g = {2.0};
  adamax.Step(p.data(), g.data(), 1);
  EXPECT_NEAR(adamax.exp_inf()[0], 2.5, kTol);
  g[0] = 1.0;
  adamax.Step(p.data(), g.data(), 1);
  EXPECT_NEAR(adamax.exp_inf()[0], 2.4975, kTol);
  // NaN propagates as in torch.amax.
  g[0] = std::numeric_limits<double>::quiet_NaN();
  adamax.Step(p.data(), g.data(), 1);
  EXPECT_TRUE(std::isnan(adamax.exp_inf()[0]));
}

TEST(OptimizerTest, FloatParametersMatchDoubleToRounding) {
  OptimizerConfig config;
  config.kind = OptimizerKind::kAdam;
  config.lr = 0.05;
  config.weight_decay = 0.01;
  auto f = MakeOptimizer<float>(config);
  auto d = MakeOptimizer<double>(config);
  ASSERT_TRUE(f.ok() && d.ok());
  const std::vector<float> initial = {0.5f, -1.25f, 3.0f};
  std::vector<float> pf = initial;
  std::vector<double> pd(pf.begin(), pf.end());
  for (int step = 0; step < 5; ++step) {
    std::vector<float> gf = {0.3f * step - 0.5f, 1.0f, -2.0f + step};
    std::vector<double> gd(gf.begin(), gf.end());
    (*f)->Step(pf.data(), gf.data(), pf.size());
    (*d)->Step(pd.data(), gd.data(), pd.size());
  }
  for (size_t i = 0; i < pf.size(); ++i) {
    EXPECT_NEAR(pf[i], pd[i], 1e-6) << i;
    EXPECT_GT(std::fabs(pf[i] - initial[i]), 0.01f) << i;
  }
}

TEST(OptimizerTest, LearningRateAndReset) {
  Sgd<double> sgd(0.1, 0.5);
  EXPECT_EQ(sgd.lr(), 0.1);
  sgd.set_lr(0.2);
  EXPECT_EQ(sgd.lr(), 0.2);
  std::vector<double> p = {1.0};
  const std::vector<double> g = {1.0};
  sgd.Step(p.data(), g.data(), 1);
  EXPECT_NEAR(p[0], 0.8, kTol);
  EXPECT_EQ(sgd.size(), 1);
  sgd.Reset();
  EXPECT_EQ(sgd.step_count(), 0);
  EXPECT_EQ(sgd.size(), 0);
  EXPECT_TRUE(sgd.momentum_buffer().empty());
  EXPECT_EQ(sgd.lr(), 0.2);
  // After a reset the buffer is the gradient again, and n may change.
  std::vector<double> q = {1.0, 2.0};
  const std::vector<double> h = {1.0, 1.0};
  sgd.Step(q.data(), h.data(), 2);
  EXPECT_NEAR(q[0], 0.8, kTol);
  EXPECT_NEAR(q[1], 1.8, kTol);
}

TEST(OptimizerDeathTest, ProgrammerErrorsCheckFail) {
  Sgd<double> sgd(0.1);
  std::vector<double> p = {1.0, 2.0};
  const std::vector<double> g = {1.0, 1.0};
  sgd.Step(p.data(), g.data(), 2);
  EXPECT_DEATH(sgd.Step(p.data(), g.data(), 1), "different number");
  EXPECT_DEATH(sgd.set_lr(-1.0), "bad learning rate");
  EXPECT_DEATH(Adam<double>(0.1, 1.0), "beta1");
  EXPECT_DEATH(Sgd<double>(0.1, 0.0, 0.0, 0.0, /*nesterov=*/true), "nesterov");
}

TEST(OptimizerConfigTest, FactoryBuildsEachKind) {
  OptimizerConfig config;
  config.lr = 0.1;
  config.eps = 0.0;
  for (OptimizerKind kind : {OptimizerKind::kSgd, OptimizerKind::kAdam,
                             OptimizerKind::kAdamW, OptimizerKind::kAdamax}) {
    config.kind = kind;
    auto opt = MakeOptimizer<double>(config);
    ASSERT_TRUE(opt.ok()) << opt.status();
    EXPECT_EQ((*opt)->lr(), 0.1);
    std::vector<double> p = {1.0};
    const std::vector<double> g = {2.0};
    (*opt)->Step(p.data(), g.data(), 1);
    // SGD moves by lr * g = 0.2; the Adam family by lr on the first step.
    EXPECT_NEAR(p[0], kind == OptimizerKind::kSgd ? 0.8 : 0.9, kTol)
        << OptimizerKindName(kind);
  }
}

TEST(OptimizerConfigTest, KindNamesRoundTrip) {
  for (OptimizerKind kind : {OptimizerKind::kSgd, OptimizerKind::kAdam,
                             OptimizerKind::kAdamW, OptimizerKind::kAdamax}) {
    auto parsed = ParseOptimizerKind(OptimizerKindName(kind));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, kind);
  }
  auto bad = ParseOptimizerKind("rmsprop");
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "kind = 'rmsprop'"));
}

TEST(OptimizerConfigTest, ValidationNamesTheField) {
  const auto expect_bad = [](OptimizerConfig config, const char* field) {
    const absl::Status status = ValidateOptimizerConfig(config);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_TRUE(absl::StrContains(status.message(), field)) << status;
    auto made = MakeOptimizer<float>(config);
    EXPECT_FALSE(made.ok()) << field;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  OptimizerConfig ok;
  EXPECT_TRUE(ValidateOptimizerConfig(ok).ok());
  OptimizerConfig c = ok;
  c.lr = -1e-3;
  expect_bad(c, "lr = -0.001");
  c.lr = nan;
  expect_bad(c, "lr = nan");
  c.lr = inf;
  expect_bad(c, "lr = inf");
  c = ok;
  c.beta1 = 1.0;
  expect_bad(c, "beta1 = 1; expected a value in [0, 1)");
  c = ok;
  c.beta2 = -0.1;
  expect_bad(c, "beta2 = -0.1");
  c = ok;
  c.eps = -1e-8;
  expect_bad(c, "eps = ");
  c = ok;
  c.weight_decay = -0.01;
  expect_bad(c, "weight_decay = -0.01");
  c = ok;
  c.kind = OptimizerKind::kSgd;
  c.momentum = -0.9;
  expect_bad(c, "momentum = -0.9");
  c = ok;
  c.dampening = nan;
  expect_bad(c, "dampening = nan");
  c = ok;
  c.kind = OptimizerKind::kSgd;
  c.nesterov = true;
  expect_bad(c, "nesterov = true needs momentum > 0 and dampening == 0");
  c.momentum = 0.9;
  c.dampening = 0.1;
  expect_bad(c, "nesterov");
  c.dampening = 0.0;
  EXPECT_TRUE(ValidateOptimizerConfig(c).ok());
  c = ok;
  c.kind = static_cast<OptimizerKind>(17);
  expect_bad(c, "kind = 17");
}

}  // namespace
}  // namespace elm
