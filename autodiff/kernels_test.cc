// Kernel-level tests without a tape: backward kernels accumulate into existing
// adjoints and skip null ones, and float kernels agree with double kernels.
#include "autodiff/kernels.h"

#include <cmath>
#include <vector>

#include "base/rng.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

std::vector<double> RandomVec(int n, Rng& rng) {
  std::vector<double> v(n);
  for (double& x : v) x = rng.Uniform(-1, 1);
  return v;
}

TEST(KernelsTest, MatMulBackwardAccumulatesAndSkipsNull) {
  Rng rng(1);
  std::vector<double> a = RandomVec(6, rng), b = RandomVec(6, rng),
                      dc = RandomVec(4, rng);
  std::vector<double> da(6, 1.0);  // pre-existing adjoint
  MatMulBackward<double>({a.data(), 2, 3}, {b.data(), 3, 2}, {dc.data(), 2, 2},
                         {da.data(), 2, 3}, {nullptr, 3, 2}, false, false);
  for (int i = 0; i < 2; ++i) {
    for (int k = 0; k < 3; ++k) {
      double want = 1.0;
      for (int j = 0; j < 2; ++j) want += dc[i * 2 + j] * b[k * 2 + j];
      EXPECT_NEAR(da[i * 3 + k], want, 1e-15);
    }
  }
}

TEST(KernelsTest, BroadcastBackwardSumsOverRepeatedAxes) {
  std::vector<double> a(6, 0.0), b = {1, 2, 3}, dout = {1, 2, 3, 4, 5, 6};
  std::vector<double> db(3, 0.0);
  BinaryBackward<double>(BinaryOp::kAdd, {a.data(), 2, 3}, {b.data(), 1, 3},
                         {dout.data(), 2, 3}, {nullptr, 2, 3},
                         {db.data(), 1, 3});
  EXPECT_EQ(db[0], 5);
  EXPECT_EQ(db[1], 7);
  EXPECT_EQ(db[2], 9);
}

TEST(KernelsTest, FloatKernelsMatchDouble) {
  Rng rng(2);
  const int n = 64;
  std::vector<double> xd = RandomVec(n, rng), dyd = RandomVec(n, rng);
  std::vector<float> xf(xd.begin(), xd.end()), dyf(dyd.begin(), dyd.end());
  for (UnaryOp op : {UnaryOp::kExp, UnaryOp::kTanh, UnaryOp::kSigmoid,
                     UnaryOp::kSilu, UnaryOp::kSoftplus}) {
    std::vector<double> yd(n), dxd(n, 0.0);
    std::vector<float> yf(n), dxf(n, 0.0f);
    UnaryForward<double>(op, xd.data(), yd.data(), n);
    UnaryForward<float>(op, xf.data(), yf.data(), n);
    UnaryBackward<double>(op, xd.data(), yd.data(), dyd.data(), dxd.data(), n);
    UnaryBackward<float>(op, xf.data(), yf.data(), dyf.data(), dxf.data(), n);
    for (int i = 0; i < n; ++i) {
      EXPECT_NEAR(yf[i], yd[i], 1e-6 * std::max(1.0, std::abs(yd[i])));
      EXPECT_NEAR(dxf[i], dxd[i], 1e-6 * std::max(1.0, std::abs(dxd[i])));
    }
  }
  const double ld = BceWithLogitsForward<double>(xd.data(), dyd.data(), n);
  const float lf = BceWithLogitsForward<float>(xf.data(), dyf.data(), n);
  EXPECT_NEAR(lf, ld, 1e-6);
}

TEST(KernelsTest, SoftplusAndSigmoidSaturate) {
  EXPECT_EQ(StableSoftplus(50.0), 50.0);
  EXPECT_NEAR(StableSoftplus(-50.0), std::exp(-50.0), 1e-30);
  EXPECT_EQ(StableSigmoid(-1000.0), 0.0);
  EXPECT_EQ(StableSigmoid(1000.0), 1.0);
  EXPECT_TRUE(std::isfinite(StableSigmoid(-1000.0f)));
}

}  // namespace
}  // namespace elm
