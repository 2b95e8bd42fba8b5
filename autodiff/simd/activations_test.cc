// The activations against std:: (evaluated in double) over a dense range and
// at the extremes (±0, tiny, huge, ±∞; NaN for exp): FastTanh within 5 ulp of
// tanh (or 1e-7 absolute); FastExp within 5 ulp of exp where exp is a normal
// float, saturating past its ±88.723 clamp; for |x| ≤ 88.7, Silu within a
// relative 1e-6 and SiluBackward's derivative within 1e-6 of the size of the
// terms of the analytic σ·(1 + x·(1 − σ)); double paths equal std:: exactly;
// every element takes the same path (its result does not depend on its
// position in the array); relu exact; nothing past n is written.
#include "autodiff/simd/activations.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace elm {
namespace simd {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kFloatEps = std::numeric_limits<float>::epsilon();
// FastExp clamps its argument to ±88.723.
constexpr float kExpClamp = 88.7f;

// A dense grid over [lo, hi] plus the extremes.
std::vector<float> Inputs(float lo, float hi) {
  std::vector<float> x;
  for (int i = 0; i <= 20000; ++i) x.push_back(lo + (hi - lo) * i / 20000.0f);
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-5f, -3e-4f, 5e-4f,
                  std::numeric_limits<float>::denorm_min(),
                  std::numeric_limits<float>::max(),
                  -std::numeric_limits<float>::max(), kInf, -kInf}) {
    x.push_back(v);
  }
  return x;
}

// f over a whole array (one vector at a time, the last one partial).
template <typename F>
std::vector<float> Map(const std::vector<float>& x, F f) {
  std::vector<float> y(x.size());
  MapVec(x.data(), y.data(), static_cast<int64_t>(x.size()), f);
  return y;
}

TEST(ActivationsTest, FastTanhIsCloseToTanh) {
  const std::vector<float> x = Inputs(-12, 12);
  const std::vector<float> y = Map(x, [](Vec<float> v) { return FastTanh(v); });
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = std::tanh(double(x[i]));
    EXPECT_LE(std::abs(y[i] - want),
              std::max(1e-7, 5 * kFloatEps * std::abs(want)))
        << "tanh(" << x[i] << ") = " << y[i] << ", want " << want;
  }
}

TEST(ActivationsTest, FastExpIsCloseToExp) {
  const std::vector<float> x = Inputs(-87, 88.7f);
  const std::vector<float> y = Map(x, [](Vec<float> v) { return FastExp(v); });
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = std::exp(double(x[i]));
    if (want >= std::numeric_limits<float>::min() &&
        want <= std::numeric_limits<float>::max()) {
      EXPECT_LE(std::abs(y[i] - want), 5 * kFloatEps * want)
          << "exp(" << x[i] << ") = " << y[i] << ", want " << want;
    }
  }
  // Past the clamp: +∞ stays +∞, large arguments saturate near FLT_MAX,
  // −∞ and very negative ones give (almost) 0, NaN stays NaN.
  const std::vector<float> ext = Map(
      {kInf, 100.0f, -kInf, -100.0f, std::numeric_limits<float>::quiet_NaN()},
      [](Vec<float> v) { return FastExp(v); });
  EXPECT_EQ(ext[0], kInf);
  EXPECT_GE(ext[1], 1e38f);
  EXPECT_LE(ext[2], 1e-38f);
  EXPECT_GE(ext[2], 0.0f);
  EXPECT_LE(ext[3], 1e-38f);
  EXPECT_TRUE(std::isnan(ext[4]));
}

TEST(ActivationsTest, TanhOf2Thirds) {
  const std::vector<float> x = Inputs(-15, 15);
  std::vector<float> th(x.size());
  TanhOf2Thirds(x.data(), th.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = std::tanh(2.0 * x[i] / 3.0);
    EXPECT_LE(std::abs(th[i] - want),
              std::max(1e-7, 6 * kFloatEps * std::abs(want)))
        << x[i];
  }
  std::vector<double> xd = {-3.0, -0.1, 0.0, 0.7, 20.0}, thd(5);
  TanhOf2Thirds(xd.data(), thd.data(), 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(thd[i], std::tanh(xd[i] * 2.0 / 3.0));
}

TEST(ActivationsTest, SiluIsCloseToItsDefinition) {
  const std::vector<float> x = Inputs(-80, 80);
  std::vector<float> h(x.size());
  Silu(x.data(), h.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    if (!(std::abs(x[i]) <= kExpClamp)) continue;  // see below
    const double want = x[i] / (1.0 + std::exp(-double(x[i])));
    EXPECT_LE(std::abs(h[i] - want), 1e-6 * std::abs(want) + 1e-30)
        << "silu(" << x[i] << ") = " << h[i] << ", want " << want;
  }
  // Past the exp clamp: silu(x) = x for large x; for x < −88.7 the result is
  // x / 3.4e38, near 0 (but not the exact, much smaller value).
  std::vector<float> big = {100.0f, 1e6f, -100.0f, -1e4f}, hb(4);
  Silu(big.data(), hb.data(), 4);
  EXPECT_EQ(hb[0], 100.0f);
  EXPECT_EQ(hb[1], 1e6f);
  EXPECT_LE(std::abs(hb[2]), 1e-34f);
  EXPECT_LE(std::abs(hb[3]), 1e-34f);
  std::vector<double> xd = {-30.0, -1.0, 0.0, 0.5, 9.0}, hd(5);
  Silu(xd.data(), hd.data(), 5);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(hd[i], xd[i] / (1.0 + std::exp(-xd[i])));
}

// silu'(x) = σ·(1 + x·(1 − σ)), in double.
double SiluDerivative(double x) {
  const double sig = 1.0 / (1.0 + std::exp(-x));
  return sig * (1.0 + x * (1.0 - sig));
}

TEST(ActivationsTest, SiluBackwardIsTheAnalyticDerivative) {
  const std::vector<float> x = Inputs(-40, 40);  // and the extremes
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<float> g(n), h(n), h_fwd(n);
  for (int64_t i = 0; i < n; ++i) g[i] = 1.0f + 0.25f * (i % 3);
  const std::vector<float> g_in = g;
  SiluBackward(x.data(), g.data(), h.data(), n);
  Silu(x.data(), h_fwd.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    if (!(std::abs(x[i]) <= kExpClamp)) continue;  // FastExp's clamp
    const double want = g_in[i] * SiluDerivative(x[i]);
    // Relative to the size of the terms of σ + σ·x·(1 − σ) (they cancel near
    // the derivative's root, x ≈ −1.28).
    const double sig = 1.0 / (1.0 + std::exp(-double(x[i])));
    const double terms = g_in[i] * sig * (1.0 + std::abs(x[i]) * (1.0 - sig));
    EXPECT_LE(std::abs(g[i] - want), 1e-6 * terms + 1e-30)
        << "silu'(" << x[i] << ") = " << g[i] / g_in[i];
    // h exactly as Silu computes it.
    EXPECT_EQ(std::memcmp(&h[i], &h_fwd[i], sizeof(float)), 0) << x[i];
  }
  std::vector<double> xd = {-5.0, 0.0, 0.3, 4.0}, gd(4, 2.0), hd(4);
  SiluBackward(xd.data(), gd.data(), hd.data(), 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(gd[i], 2.0 * SiluDerivative(xd[i]), 1e-15);
    EXPECT_EQ(hd[i], xd[i] / (1.0 + std::exp(-xd[i])));
  }
}

// Every element takes the same path: a value gives the same bits wherever it
// sits (in a whole vector, in the partial last one, at any offset).
TEST(ActivationsTest, ResultsDoNotDependOnPosition) {
  const std::vector<float> x = Inputs(-10, 10);
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<float> ref(n), g_ref(n, 1.0f), h_ref(n);
  Silu(x.data(), ref.data(), n);
  SiluBackward(x.data(), g_ref.data(), h_ref.data(), n);
  for (int64_t off : {1, 3, 7}) {
    for (int64_t i = 0; i < n; i += 997) {
      // x[i] alone, at offset off of a short array.
      std::vector<float> one(off + 1, 0.0f), out(off + 1), g(off + 1, 1.0f),
          h(off + 1);
      one[off] = x[i];
      Silu(one.data(), out.data(), off + 1);
      SiluBackward(one.data(), g.data(), h.data(), off + 1);
      EXPECT_EQ(std::memcmp(&out[off], &ref[i], sizeof(float)), 0) << x[i];
      EXPECT_EQ(std::memcmp(&g[off], &g_ref[i], sizeof(float)), 0) << x[i];
    }
  }
}

template <typename T>
class ActTest : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(ActTest, Types);

TYPED_TEST(ActTest, ReluAndSiluThroughActForwardAndBackward) {
  using T = TypeParam;
  const int64_t n = 2 * kLanes<T> + 3;  // a partial last vector
  std::vector<T> a(n + 1);
  for (int64_t i = 0; i <= n; ++i) a[i] = T(i - n / 2) * T(0.37);
  // Relu: exact, 0 at the kink; nothing past n written.
  std::vector<T> h(n + 1, T(-9)), g(n + 1, T(2)), h2(n + 1, T(-9));
  ActForward(a.data(), h.data(), n, Activation::kRelu);
  ActBackward(a.data(), g.data(), h2.data(), n, Activation::kRelu);
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_EQ(h[i], a[i] > 0 ? a[i] : T(0));
    EXPECT_EQ(h2[i], h[i]);
    EXPECT_EQ(g[i], a[i] > 0 ? T(2) : T(0));
  }
  EXPECT_EQ(h[n], T(-9));
  EXPECT_EQ(h2[n], T(-9));
  EXPECT_EQ(g[n], T(2));
  // Silu: the same as Silu / SiluBackward.
  std::vector<T> hs(n), want(n), gs(n, T(1)), gw(n, T(1)), hb(n), hw(n);
  ActForward(a.data(), hs.data(), n, Activation::kSilu);
  Silu(a.data(), want.data(), n);
  ActBackward(a.data(), gs.data(), hb.data(), n, Activation::kSilu);
  SiluBackward(a.data(), gw.data(), hw.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_EQ(hs[i], want[i]);
    EXPECT_EQ(gs[i], gw[i]);
    EXPECT_EQ(hb[i], hw[i]);
  }
}

}  // namespace
}  // namespace simd
}  // namespace elm
