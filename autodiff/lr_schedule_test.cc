// Tests the learning-rate schedules: constant, the recursive cosine (values
// worked out by hand, the wrap past T_max, agreement with the closed form),
// linear warmup alone and composed with the cosine, and config validation.
#include "autodiff/lr_schedule.h"

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

LrSchedule MakeOrDie(const LrScheduleConfig& config) {
  absl::StatusOr<LrSchedule> schedule = LrSchedule::Create(config);
  EXPECT_TRUE(schedule.ok()) << schedule.status();
  return *std::move(schedule);
}

// The rates of steps 0 .. count-1.
std::vector<double> Rates(LrSchedule schedule, int count) {
  std::vector<double> rates;
  for (int i = 0; i < count; ++i) {
    rates.push_back(schedule.lr());
    schedule.Step();
  }
  return rates;
}

TEST(LrScheduleTest, ConstantStaysAtBaseLr) {
  LrScheduleConfig config;
  config.base_lr = 0.25;
  for (double lr : Rates(MakeOrDie(config), 20)) EXPECT_EQ(lr, 0.25);
}

TEST(LrScheduleTest, CosineByHandWrapsPastTMax) {
  // base 1, eta_min 0, T_max 4: (1 + cos(pi t / 4)) / 2, where
  // cos(pi/4) = sqrt(2)/2; past t = 4 the rate climbs back up (period 8).
  LrScheduleConfig config;
  config.kind = LrScheduleKind::kCosine;
  config.base_lr = 1.0;
  config.t_max = 4;
  const double h = std::sqrt(2.0) / 4.0;
  const std::vector<double> expected = {
      1.0,     0.5 + h, 0.5,     0.5 - h, 0.0,     0.5 - h, 0.5,
      0.5 + h, 1.0,     0.5 + h, 0.5,     0.5 - h, 0.0,     0.5 - h};
  const std::vector<double> rates = Rates(MakeOrDie(config), expected.size());
  for (size_t t = 0; t < expected.size(); ++t) {
    EXPECT_NEAR(rates[t], expected[t], 1e-15) << "step " << t;
  }
}

TEST(LrScheduleTest, CosineWithEtaMinByHand) {
  // base 0.1, eta_min 0.01, T_max 2: 0.1, 0.055, 0.01, then the special branch
  // at t = 3: 0.01 + 0.09 * (1 - cos(pi/2)) / 2 = 0.055, and at t = 4:
  // 2 / 1 * 0.045 + 0.01 = 0.1.
  LrScheduleConfig config;
  config.kind = LrScheduleKind::kCosine;
  config.base_lr = 0.1;
  config.eta_min = 0.01;
  config.t_max = 2;
  const std::vector<double> expected = {0.1, 0.055, 0.01, 0.055, 0.1, 0.055};
  const std::vector<double> rates = Rates(MakeOrDie(config), expected.size());
  for (size_t t = 0; t < expected.size(); ++t) {
    EXPECT_NEAR(rates[t], expected[t], 1e-16) << "step " << t;
  }
}

TEST(LrScheduleTest, CosineWithTMaxOneAlternates) {
  LrScheduleConfig config;
  config.kind = LrScheduleKind::kCosine;
  config.base_lr = 0.5;
  config.eta_min = 0.1;
  config.t_max = 1;
  const std::vector<double> rates = Rates(MakeOrDie(config), 7);
  for (size_t t = 0; t < rates.size(); ++t) {
    EXPECT_NEAR(rates[t], t % 2 == 0 ? 0.5 : 0.1, 1e-15) << "step " << t;
  }
}

TEST(LrScheduleTest, CosineFollowsTheClosedFormForManyPeriods) {
  LrScheduleConfig config;
  config.kind = LrScheduleKind::kCosine;
  config.base_lr = 3e-3;
  config.eta_min = 1e-5;
  config.t_max = 7;
  LrSchedule schedule = MakeOrDie(config);
  const double pi = 3.141592653589793;
  for (int t = 0; t < 100; ++t) {
    const double closed =
        1e-5 + (3e-3 - 1e-5) * (1.0 + std::cos(pi * t / 7.0)) / 2.0;
    EXPECT_NEAR(schedule.lr(), closed, 1e-12 * 3e-3) << "step " << t;
    EXPECT_EQ(schedule.step_count(), t);
    schedule.Step();
  }
}

TEST(LrScheduleTest, LinearWarmup) {
  LrScheduleConfig config;
  config.base_lr = 2.0;
  config.warmup_steps = 4;
  config.warmup_start_factor = 0.25;
  const std::vector<double> expected = {0.5, 0.875, 1.25, 1.625, 2.0, 2.0, 2.0};
  const std::vector<double> rates = Rates(MakeOrDie(config), expected.size());
  for (size_t t = 0; t < expected.size(); ++t) {
    EXPECT_NEAR(rates[t], expected[t], 1e-15) << "step " << t;
  }
}

TEST(LrScheduleTest, WarmupMultipliesTheCosine) {
  LrScheduleConfig config;
  config.kind = LrScheduleKind::kCosine;
  config.base_lr = 1.0;
  config.t_max = 4;
  config.warmup_steps = 2;
  config.warmup_start_factor = 0.5;
  LrSchedule schedule = MakeOrDie(config);
  const double h = std::sqrt(2.0) / 4.0;
  const std::vector<double> cosine = {1.0, 0.5 + h, 0.5, 0.5 - h, 0.0};
  const std::vector<double> factor = {0.5, 0.75, 1.0, 1.0, 1.0};
  for (size_t t = 0; t < cosine.size(); ++t) {
    EXPECT_NEAR(schedule.warmup_factor(), factor[t], 1e-15) << t;
    EXPECT_NEAR(schedule.inner_lr(), cosine[t], 1e-15) << t;
    EXPECT_NEAR(schedule.lr(), cosine[t] * factor[t], 1e-15) << t;
    schedule.Step();
  }
}

TEST(LrScheduleTest, KindNamesRoundTrip) {
  for (LrScheduleKind kind :
       {LrScheduleKind::kConstant, LrScheduleKind::kCosine}) {
    auto parsed = ParseLrScheduleKind(LrScheduleKindName(kind));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, kind);
  }
  auto bad = ParseLrScheduleKind("step");
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "kind = 'step'"));
}

TEST(LrScheduleTest, ValidationNamesTheField) {
  const auto expect_bad = [](const LrScheduleConfig& config,
                             const char* field) {
    const absl::Status status = ValidateLrScheduleConfig(config);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_TRUE(absl::StrContains(status.message(), field)) << status;
    EXPECT_FALSE(LrSchedule::Create(config).ok()) << field;
  };
  LrScheduleConfig ok;
  ok.kind = LrScheduleKind::kCosine;
  ok.t_max = 10;
  EXPECT_TRUE(ValidateLrScheduleConfig(ok).ok());
  LrScheduleConfig c = ok;
  c.base_lr = -1.0;
  expect_bad(c, "base_lr = -1");
  c.base_lr = std::numeric_limits<double>::quiet_NaN();
  expect_bad(c, "base_lr = nan");
  c = ok;
  c.t_max = 0;
  expect_bad(c, "t_max = 0; expected >= 1");
  c = ok;
  c.eta_min = -1e-5;
  expect_bad(c, "eta_min = -1e-05");
  c = ok;
  c.warmup_steps = -1;
  expect_bad(c, "warmup_steps = -1");
  c = ok;
  c.warmup_steps = 5;
  c.warmup_start_factor = 0.0;
  expect_bad(c, "warmup_start_factor = 0; expected a value in (0, 1]");
  c.warmup_start_factor = 1.5;
  expect_bad(c, "warmup_start_factor = 1.5");
  c = ok;
  c.kind = static_cast<LrScheduleKind>(9);
  expect_bad(c, "kind = 9");
  // t_max and eta_min are not used by a constant schedule.
  c = ok;
  c.kind = LrScheduleKind::kConstant;
  c.t_max = 0;
  EXPECT_TRUE(ValidateLrScheduleConfig(c).ok());
}

}  // namespace
}  // namespace elm
