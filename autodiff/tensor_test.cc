// Tests tensor views, owning tensors and the Eigen maps.
#include "autodiff/tensor.h"

#include "gtest/gtest.h"

namespace elm {
namespace {

TEST(TensorTest, RowMajorIndexingAndViews) {
  Tensor<float> t(2, 3, {0, 1, 2, 3, 4, 5});
  EXPECT_EQ(t(1, 0), 3);
  View<float> v = t.view();
  EXPECT_EQ(v(1, 2), 5);
  EXPECT_EQ(v.row(1)[1], 4);
  v(0, 1) = 10;
  EXPECT_EQ(t[1], 10);
  View<const float> c = v;  // mutable → const view
  EXPECT_EQ(c(0, 1), 10);
}

TEST(TensorTest, EigenMapIsRowMajor) {
  Tensor<double> t(2, 3, {1, 2, 3, 4, 5, 6});
  auto m = EigenMap(t.view());
  EXPECT_EQ(m(1, 0), 4);
  Eigen::VectorXd x(3);
  x << 1, 0, -1;
  Eigen::VectorXd y = m * x;
  EXPECT_EQ(y(0), -2);
  EXPECT_EQ(y(1), -2);
  m(0, 0) = 7;
  EXPECT_EQ(t[0], 7);
}

TEST(TensorTest, ZeroInitialised) {
  Tensor<double> t(4, 5);
  for (int i = 0; i < t.size(); ++i) EXPECT_EQ(t[i], 0.0);
}

}  // namespace
}  // namespace elm
