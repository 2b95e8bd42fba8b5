// Tests each optimizer on one or two steps worked out by hand (the expected
// values are written out from the update formulas with literal numbers), the
// float instantiation, state handling, state export and restore (a restored
// optimizer continues bit for bit) and the config validation and factory.
#include "autodiff/optimizer.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
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

// ---------------------------------------------------------------------------
// State export and restore

template <typename T>
bool BitEqual(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// A deterministic gradient that depends on the step and on the parameters, so
// that any divergence between two runs shows up in later steps.
template <typename T>
void FakeGradient(int step, const std::vector<T>& p, std::vector<T>* g) {
  g->resize(p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    (*g)[i] = static_cast<T>(std::sin(0.7 * step + 1.3 * i) +
                             0.5 * static_cast<double>(p[i]));
  }
}

struct SavedState {
  int64_t step_count = 0;
  size_t size = 0;
  double lr = 0.0;
  std::vector<std::pair<std::string, std::vector<double>>> vectors;
};

template <typename T>
SavedState Save(const Optimizer<T>& opt) {
  SavedState saved;
  saved.step_count = opt.step_count();
  saved.size = opt.size();
  saved.lr = opt.lr();
  for (const auto& s : opt.State())
    saved.vectors.push_back({s.name, *s.values});
  return saved;
}

template <typename T>
void Restore(const SavedState& saved, size_t n, Optimizer<T>* opt) {
  opt->PrepareRestore(n, saved.step_count);
  opt->set_lr(saved.lr);
  std::vector<typename Optimizer<T>::StateVector> state = opt->MutableState();
  ASSERT_EQ(state.size(), saved.vectors.size());
  for (size_t j = 0; j < state.size(); ++j) {
    ASSERT_EQ(state[j].name, saved.vectors[j].first);
    ASSERT_EQ(state[j].values->size(), saved.vectors[j].second.size())
        << state[j].name;
    *state[j].values = saved.vectors[j].second;
  }
}

struct RestoreCase {
  std::string name;
  OptimizerConfig config;
};

void PrintTo(const RestoreCase& c, std::ostream* os) { *os << c.name; }

OptimizerConfig Config(OptimizerKind kind, double lr, double weight_decay,
                       double momentum = 0.0, double dampening = 0.0,
                       bool nesterov = false) {
  OptimizerConfig c;
  c.kind = kind;
  c.lr = lr;
  c.weight_decay = weight_decay;
  c.momentum = momentum;
  c.dampening = dampening;
  c.nesterov = nesterov;
  return c;
}

class OptimizerRestoreTest : public ::testing::TestWithParam<RestoreCase> {
 protected:
  // Runs `steps_before` steps on optimizer A, saves its state, restores it
  // into optimizer B (fresh, or first used on other parameters), then runs
  // both further and requires bit-identical parameters and state.
  template <typename T>
  void Run(int steps_before, bool restore_into_used) {
    SCOPED_TRACE(::testing::Message()
                 << "steps_before=" << steps_before
                 << " restore_into_used=" << restore_into_used
                 << " T=" << (sizeof(T) == 4 ? "float" : "double"));
    const OptimizerConfig& config = GetParam().config;
    const size_t n = 7;
    auto a = MakeOptimizer<T>(config);
    ASSERT_TRUE(a.ok()) << a.status();
    std::vector<T> pa(n), g;
    for (size_t i = 0; i < n; ++i) pa[i] = static_cast<T>(0.3 * i - 1.1);
    for (int s = 0; s < steps_before; ++s) {
      (*a)->set_lr(config.lr * (1.0 + 0.1 * s));  // as a schedule would
      FakeGradient(s, pa, &g);
      (*a)->Step(pa.data(), g.data(), n);
    }
    const SavedState saved = Save(**a);
    EXPECT_EQ(saved.step_count, steps_before);

    auto b = MakeOptimizer<T>(config);
    ASSERT_TRUE(b.ok()) << b.status();
    if (restore_into_used) {  // leave state of another size behind
      std::vector<T> junk(n + 3, T(2)), junk_grad(n + 3, T(-1));
      for (int s = 0; s < 2; ++s)
        (*b)->Step(junk.data(), junk_grad.data(), junk.size());
      (*b)->set_lr(123.0);
    }
    Restore(saved, n, b->get());
    EXPECT_EQ((*b)->step_count(), (*a)->step_count());
    EXPECT_EQ((*b)->size(), (*a)->size());
    EXPECT_EQ((*b)->lr(), (*a)->lr());
    std::vector<T> pb = pa;

    const std::vector<T> at_restore = pa;
    for (int s = steps_before; s < steps_before + 5; ++s) {
      std::vector<T> ga, gb;
      FakeGradient(s, pa, &ga);
      FakeGradient(s, pb, &gb);
      (*a)->Step(pa.data(), ga.data(), n);
      (*b)->Step(pb.data(), gb.data(), n);
      ASSERT_TRUE(BitEqual(pa, pb)) << "parameters differ after step " << s;
    }
    EXPECT_FALSE(BitEqual(pa, at_restore)) << "the steps changed nothing";
    const SavedState end_a = Save(**a), end_b = Save(**b);
    ASSERT_EQ(end_a.vectors.size(), end_b.vectors.size());
    for (size_t j = 0; j < end_a.vectors.size(); ++j) {
      EXPECT_TRUE(BitEqual(end_a.vectors[j].second, end_b.vectors[j].second))
          << end_a.vectors[j].first;
    }
  }
};

TEST_P(OptimizerRestoreTest, ContinuesBitIdentically) {
  for (int steps_before : {0, 1, 3}) {
    for (bool used : {false, true}) {
      Run<float>(steps_before, used);
      Run<double>(steps_before, used);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, OptimizerRestoreTest,
    ::testing::Values(
        RestoreCase{"sgd", Config(OptimizerKind::kSgd, 0.05, 0.01)},
        RestoreCase{"sgd_momentum",
                    Config(OptimizerKind::kSgd, 0.05, 0.01, 0.9, 0.3)},
        RestoreCase{"sgd_nesterov", Config(OptimizerKind::kSgd, 0.05, 0.02, 0.8,
                                           0.0, /*nesterov=*/true)},
        RestoreCase{"adam", Config(OptimizerKind::kAdam, 0.01, 0.01)},
        RestoreCase{"adamw", Config(OptimizerKind::kAdamW, 0.01, 0.1)},
        RestoreCase{"adamax", Config(OptimizerKind::kAdamax, 0.01, 0.01)}),
    [](const auto& info) { return info.param.name; });

TEST(OptimizerStateTest, NamesKindsAndSizes) {
  struct Want {
    OptimizerConfig config;
    std::vector<std::string> names;
  };
  const std::vector<Want> wants = {
      {Config(OptimizerKind::kSgd, 0.1, 0.0), {}},
      {Config(OptimizerKind::kSgd, 0.1, 0.0, 0.9), {"momentum_buffer"}},
      {Config(OptimizerKind::kAdam, 0.1, 0.0), {"exp_avg", "exp_avg_sq"}},
      {Config(OptimizerKind::kAdamW, 0.1, 0.0), {"exp_avg", "exp_avg_sq"}},
      {Config(OptimizerKind::kAdamax, 0.1, 0.0), {"exp_avg", "exp_inf"}},
  };
  for (const Want& want : wants) {
    auto opt = MakeOptimizer<double>(want.config);
    ASSERT_TRUE(opt.ok());
    const std::string kind(OptimizerKindName(want.config.kind));
    EXPECT_EQ((*opt)->kind(), want.config.kind) << kind;
    auto names = [&] {
      std::vector<std::string> out;
      for (const auto& s : (*opt)->State()) out.push_back(s.name);
      return out;
    };
    EXPECT_EQ(names(), want.names) << kind;
    for (const auto& s : (*opt)->State()) EXPECT_TRUE(s.values->empty());
    std::vector<double> p = {1.0, 2.0, 3.0}, g = {0.1, 0.2, 0.3};
    (*opt)->Step(p.data(), g.data(), 3);
    EXPECT_EQ(names(), want.names) << kind;
    for (const auto& s : (*opt)->State()) EXPECT_EQ(s.values->size(), 3u);
    // The mutable view aliases the state the next Step() uses.
    for (auto& s : (*opt)->MutableState()) EXPECT_EQ(s.values->size(), 3u);
    (*opt)->PrepareRestore(5, 4);
    EXPECT_EQ((*opt)->step_count(), 4);
    EXPECT_EQ((*opt)->size(), 5u);
    for (const auto& s : (*opt)->State()) {
      EXPECT_EQ(*s.values, std::vector<double>(5, 0.0)) << s.name;
    }
    (*opt)->PrepareRestore(5, 0);
    EXPECT_EQ((*opt)->step_count(), 0);
    EXPECT_EQ((*opt)->size(), 0u);
    for (const auto& s : (*opt)->State()) EXPECT_TRUE(s.values->empty());
  }
}

TEST(OptimizerStateTest, SgdRestoredAfterOneStepDoesNotCopyTheGradientAgain) {
  // Restored at step 1 with buf = 1: the second step must be
  // buf = 0.9 * 1 + 0.5 * 1 = 1.4 (not the first-step copy, buf = 1).
  Sgd<double> sgd(0.1, 0.9, 0.5);
  sgd.PrepareRestore(1, 1);
  (*sgd.MutableState()[0].values)[0] = 1.0;
  std::vector<double> p = {0.9};
  const std::vector<double> g = {1.0};
  sgd.Step(p.data(), g.data(), 1);
  EXPECT_NEAR(sgd.momentum_buffer()[0], 1.4, kTol);
  EXPECT_NEAR(p[0], 0.76, kTol);
}

TEST(OptimizerDeathTest, RestoreWithNegativeStepCountCheckFails) {
  Adam<double> adam(0.1);
  EXPECT_DEATH(adam.PrepareRestore(3, -1), "negative step count");
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
