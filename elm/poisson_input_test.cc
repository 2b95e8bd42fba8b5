// PoissonSampler and PoissonInput: the sample mean and variance of the counts
// and the channel ranges.
#include "elm/poisson_input.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace elm {
namespace {

TEST(PoissonSamplerTest, MeanAndVariance) {
  for (double mean : {0.0, 0.3, 8.0, 42.0}) {
    SCOPED_TRACE(mean);
    PoissonSampler sampler(mean);
    Rng rng(5);
    const int n = 200000;
    double sum = 0, sum2 = 0;
    for (int i = 0; i < n; ++i) {
      const double k = sampler.Sample(rng);
      sum += k;
      sum2 += k * k;
    }
    const double m = sum / n, var = sum2 / n - m * m;
    // Standard error of the mean: sqrt(mean / n) (≤ 0.015 here).
    EXPECT_NEAR(m, mean, 5 * std::sqrt(mean / n) + 1e-12);
    EXPECT_NEAR(var, mean, 0.03 * mean + 1e-12);
  }
}

TEST(PoissonInputTest, RatesAndChannels) {
  PoissonRates rates;
  rates.exc_per_ms = 8;
  rates.inh_per_ms = 6;
  rates.dt_ms = 0.5;
  PoissonInput input(rates, 11);
  std::vector<int32_t> col;
  int64_t exc = 0, inh = 0;
  const int steps = 50000;
  for (int t = 0; t < steps; ++t) {
    col.clear();
    input.Append(&col);
    for (int32_t c : col) {
      ASSERT_GE(c, 0);
      ASSERT_LT(c, 1278);
      (c < 639 ? exc : inh)++;
    }
  }
  EXPECT_NEAR(static_cast<double>(exc) / steps, 4.0, 0.05);
  EXPECT_NEAR(static_cast<double>(inh) / steps, 3.0, 0.05);
}

TEST(PoissonInputTest, ScaledRates) {
  PoissonInput input(PoissonRates{}, 12);
  std::vector<int32_t> col;
  const int steps = 20000;
  for (double scale : {0.0, 2.5, 9.0}) {
    SCOPED_TRACE(scale);
    col.clear();
    for (int t = 0; t < steps; ++t) input.AppendScaled(&col, scale);
    // 14 spikes per ms at scale 1; scales are capped at kMaxScale.
    const double expected = 14 * std::min(scale, PoissonInput::kMaxScale);
    EXPECT_NEAR(static_cast<double>(col.size()) / steps, expected,
                0.02 * expected + 1e-12);
  }
}

}  // namespace
}  // namespace elm
