// Checks every primitive op: the backward against central differences in double
// (inputs away from kinks), broadcasting and transposes, and the float path
// against the double path.
#include "autodiff/ops.h"

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "autodiff/grad_check.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using Leaves = absl::Span<const Var<double>>;

std::vector<Tensor<double>> Random(
    std::initializer_list<std::pair<int, int>> shapes, uint64_t seed,
    double lo = -1.5, double hi = 1.5) {
  Rng rng(seed);
  std::vector<Tensor<double>> out;
  for (auto [r, c] : shapes) out.push_back(RandomTensor(r, c, rng, lo, hi));
  return out;
}

void ExpectGradOk(const TapeLossFn& f, std::vector<Tensor<double>> inputs) {
  GradCheckResult r = CheckOpGradients(f, inputs);
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_GT(r.num_checked, 0);
}

// ----- matmul -----

struct MatMulCase {
  bool ta, tb;
};

class MatMulTest : public ::testing::TestWithParam<MatMulCase> {};

TEST_P(MatMulTest, GradientAndValue) {
  const auto [ta, tb] = GetParam();
  const int m = 3, k = 4, n = 5;
  std::vector<Tensor<double>> in =
      Random({{ta ? k : m, ta ? m : k}, {tb ? n : k, tb ? k : n}}, 7);
  // Value against a plain triple loop.
  Tape<double> tape;
  Var<double> c = MatMul(tape, tape.Constant(in[0].view()),
                         tape.Constant(in[1].view()), ta, tb);
  ASSERT_EQ(c.rows, m);
  ASSERT_EQ(c.cols, n);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double s = 0;
      for (int l = 0; l < k; ++l) {
        s +=
            (ta ? in[0](l, i) : in[0](i, l)) * (tb ? in[1](j, l) : in[1](l, j));
      }
      EXPECT_NEAR(c.value[i * n + j], s, 1e-14);
    }
  }
  EXPECT_FALSE(c.needs_grad());
  ExpectGradOk(
      [ta = ta, tb = tb](Tape<double>& t, Leaves x) {
        return MatMul(t, x[0], x[1], ta, tb);
      },
      in);
}

INSTANTIATE_TEST_SUITE_P(Transposes, MatMulTest,
                         ::testing::Values(MatMulCase{false, false},
                                           MatMulCase{true, false},
                                           MatMulCase{false, true},
                                           MatMulCase{true, true}));

TEST(OpsTest, LinearMatchesPyTorchLayout) {
  std::vector<Tensor<double>> in = Random({{4, 3}, {2, 3}, {1, 2}}, 11);
  Tape<double> tape;
  Var<double> y =
      Linear(tape, tape.Constant(in[0].view()), tape.Constant(in[1].view()),
             tape.Constant(in[2].view()));
  ASSERT_EQ(y.rows, 4);
  ASSERT_EQ(y.cols, 2);
  for (int i = 0; i < 4; ++i) {
    for (int o = 0; o < 2; ++o) {
      double s = in[2](0, o);
      for (int j = 0; j < 3; ++j) s += in[0](i, j) * in[1](o, j);
      EXPECT_NEAR(y.value[i * 2 + o], s, 1e-14);
    }
  }
  ExpectGradOk(
      [](Tape<double>& t, Leaves x) { return Linear(t, x[0], x[1], x[2]); },
      in);
}

// ----- broadcasting binary ops -----

struct BinaryCase {
  std::string name;
  int ar, ac, br, bc;
};

class BinaryTest : public ::testing::TestWithParam<BinaryCase> {};

TEST_P(BinaryTest, AllOpsGradients) {
  const BinaryCase& c = GetParam();
  for (int op = 0; op < 4; ++op) {
    SCOPED_TRACE(op);
    // b away from zero for division.
    std::vector<Tensor<double>> in = Random({{c.ar, c.ac}}, 21 + op);
    std::vector<Tensor<double>> b = Random({{c.br, c.bc}}, 31 + op, 0.5, 2.0);
    in.push_back(b[0]);
    ExpectGradOk(
        [op](Tape<double>& t, Leaves x) {
          switch (op) {
            case 0:
              return Add(t, x[0], x[1]);
            case 1:
              return Sub(t, x[0], x[1]);
            case 2:
              return Mul(t, x[0], x[1]);
            default:
              return Div(t, x[0], x[1]);
          }
        },
        in);
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, BinaryTest,
                         ::testing::Values(BinaryCase{"same", 3, 4, 3, 4},
                                           BinaryCase{"row_vector", 3, 4, 1, 4},
                                           BinaryCase{"col_vector", 3, 4, 3, 1},
                                           BinaryCase{"scalar", 3, 4, 1, 1},
                                           BinaryCase{"left_row", 1, 4, 3, 4},
                                           BinaryCase{"outer", 3, 1, 1, 4}),
                         [](const auto& info) { return info.param.name; });

TEST(OpsTest, BroadcastValues) {
  Tensor<double> a(2, 3, {1, 2, 3, 4, 5, 6});
  Tensor<double> row(1, 3, {10, 20, 30});
  Tensor<double> col(2, 1, {100, 200});
  Tape<double> tape;
  Var<double> x = Add(tape, tape.Constant(a.view()), tape.Constant(row.view()));
  Var<double> y = Sub(tape, tape.Constant(a.view()), tape.Constant(col.view()));
  Var<double> z =
      Div(tape, tape.Constant(col.view()), tape.Constant(row.view()));
  const std::vector<double> x_want = {11, 22, 33, 14, 25, 36};
  const std::vector<double> y_want = {-99, -98, -97, -196, -195, -194};
  const std::vector<double> z_want = {10, 5, 100.0 / 30, 20, 10, 200.0 / 30};
  for (int i = 0; i < 6; ++i) {
    EXPECT_DOUBLE_EQ(x.value[i], x_want[i]);
    EXPECT_DOUBLE_EQ(y.value[i], y_want[i]);
    EXPECT_DOUBLE_EQ(z.value[i], z_want[i]);
  }
}

TEST(OpsDeathTest, IncompatibleBroadcastDies) {
  Tensor<double> a(2, 3), b(3, 3);
  Tape<double> tape;
  EXPECT_DEATH(Add(tape, tape.Constant(a.view()), tape.Constant(b.view())),
               "do not broadcast");
}

// ----- unary functions -----

struct UnaryCase {
  std::string name;
  UnaryOp op;
  double lo, hi;
};

class UnaryTest : public ::testing::TestWithParam<UnaryCase> {};

TEST_P(UnaryTest, Gradient) {
  const UnaryCase& c = GetParam();
  std::vector<Tensor<double>> in = Random({{3, 5}}, 41, c.lo, c.hi);
  if (c.op == UnaryOp::kRelu) {
    // Away from the kink.
    for (double& v : in[0].values()) v = v >= 0 ? v + 0.1 : v - 0.1;
  }
  const UnaryOp op = c.op;
  ExpectGradOk([op](Tape<double>& t, Leaves x) { return Unary(t, op, x[0]); },
               in);
}

TEST_P(UnaryTest, FloatMatchesDouble) {
  const UnaryCase& c = GetParam();
  Rng rng(43);
  Tensor<double> xd = RandomTensor(4, 7, rng, c.lo, c.hi);
  Tensor<double> wd = RandomTensor(4, 7, rng);
  std::vector<float> xf(xd.values().begin(), xd.values().end());
  std::vector<float> wf(wd.values().begin(), wd.values().end());
  Tape<double> td;
  Tape<float> tf;
  Var<double> vd = td.Leaf(xd.data(), 4, 7);
  Var<float> vf = tf.Leaf(xf.data(), 4, 7);
  Var<double> yd = Unary(td, c.op, vd);
  Var<float> yf = Unary(tf, c.op, vf);
  td.Backward(SumAll(td, Mul(td, yd, td.Constant(wd.data(), 4, 7))));
  tf.Backward(SumAll(tf, Mul(tf, yf, tf.Constant(wf.data(), 4, 7))));
  for (int i = 0; i < 28; ++i) {
    EXPECT_NEAR(yf.value[i], yd.value[i],
                2e-6 * std::max(1.0, std::abs(yd.value[i])));
    EXPECT_NEAR(vf.grad[i], vd.grad[i],
                2e-6 * std::max(1.0, std::abs(vd.grad[i])));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Functions, UnaryTest,
    ::testing::Values(UnaryCase{"exp", UnaryOp::kExp, -2, 2},
                      UnaryCase{"log", UnaryOp::kLog, 0.2, 3},
                      UnaryCase{"tanh", UnaryOp::kTanh, -2, 2},
                      UnaryCase{"sigmoid", UnaryOp::kSigmoid, -4, 4},
                      UnaryCase{"relu", UnaryOp::kRelu, -2, 2},
                      UnaryCase{"silu", UnaryOp::kSilu, -4, 4},
                      UnaryCase{"softplus", UnaryOp::kSoftplus, -4, 4}),
    [](const auto& info) { return info.param.name; });

TEST(OpsTest, ActivationValuesAtReferencePoints) {
  Tensor<double> x(1, 4, {-30.0, -1.0, 0.5, 25.0});
  Tape<double> tape;
  Var<double> in = tape.Constant(x.view());
  Var<double> sig = Sigmoid(tape, in);
  Var<double> sp = Softplus(tape, in);
  Var<double> si = Silu(tape, in);
  Var<double> re = Relu(tape, in);
  for (int i = 0; i < 4; ++i) {
    const double v = x[i];
    EXPECT_NEAR(sig.value[i], 1 / (1 + std::exp(-v)), 1e-15);
    EXPECT_NEAR(sp.value[i], v > 20 ? v : std::log(1 + std::exp(v)), 1e-14);
    EXPECT_NEAR(si.value[i], v / (1 + std::exp(-v)), 1e-14);
    EXPECT_EQ(re.value[i], v > 0 ? v : 0.0);
  }
}

TEST(OpsTest, ReluGradientIsZeroAtTheKink) {
  Tensor<double> x(1, 3, {-1.0, 0.0, 1.0});
  Tape<double> tape;
  Var<double> v = tape.Leaf(x.data(), 1, 3);
  tape.Backward(SumAll(tape, Relu(tape, v)));
  EXPECT_EQ(v.grad[0], 0.0);
  EXPECT_EQ(v.grad[1], 0.0);
  EXPECT_EQ(v.grad[2], 1.0);
}

TEST(OpsTest, AffineScaleClamp) {
  std::vector<Tensor<double>> in = Random({{3, 4}}, 51);
  ExpectGradOk(
      [](Tape<double>& t, Leaves x) { return Affine(t, x[0], 2.5, -0.3); }, in);
  ExpectGradOk([](Tape<double>& t, Leaves x) { return Scale(t, x[0], -0.7); },
               in);
  // Clamp: values kept away from the bounds ±0.6.
  for (double& v : in[0].values()) {
    if (std::abs(std::abs(v) - 0.6) < 0.05) v += 0.1;
  }
  ExpectGradOk(
      [](Tape<double>& t, Leaves x) { return Clamp(t, x[0], -0.6, 0.6); }, in);
  Tape<double> tape;
  Var<double> c = Clamp(tape, tape.Constant(in[0].view()), -0.6, 0.6);
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(c.value[i], std::min(std::max(in[0][i], -0.6), 0.6));
}

// ----- structure ops -----

TEST(OpsTest, ConcatSliceGather) {
  std::vector<Tensor<double>> in = Random({{3, 2}, {3, 4}, {3, 1}}, 61);
  ExpectGradOk(
      [](Tape<double>& t, Leaves x) {
        return Concat<double>(t, {x[0], x[1], x[2]});
      },
      in);
  ExpectGradOk(
      [](Tape<double>& t, Leaves x) {
        // A part used twice accumulates both gradients.
        return Concat<double>(t, {x[1], x[0], x[1]});
      },
      in);
  ExpectGradOk(
      [](Tape<double>& t, Leaves x) { return SliceCols(t, x[1], 1, 3); }, in);
  const std::vector<int64_t> index = {3, 0, 0, 2, 3};
  ExpectGradOk([&](Tape<double>& t,
                   Leaves x) { return GatherCols<double>(t, x[1], index); },
               in);

  Tape<double> tape;
  Var<double> cat = Concat<double>(
      tape, {tape.Constant(in[0].view()), tape.Constant(in[1].view())});
  Var<double> g = GatherCols<double>(tape, tape.Constant(in[1].view()), index);
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(cat.value[r * 6 + 1], in[0](r, 1));
    EXPECT_EQ(cat.value[r * 6 + 2], in[1](r, 0));
    for (int j = 0; j < 5; ++j)
      EXPECT_EQ(g.value[r * 5 + j], in[1](r, index[j]));
  }
}

TEST(OpsTest, Reductions) {
  std::vector<Tensor<double>> in = Random({{3, 4}}, 71);
  for (int axis = 0; axis < 2; ++axis) {
    ExpectGradOk(
        [axis](Tape<double>& t, Leaves x) { return Sum(t, x[0], axis); }, in);
    ExpectGradOk(
        [axis](Tape<double>& t, Leaves x) { return Mean(t, x[0], axis); }, in);
  }
  ExpectGradOk([](Tape<double>& t, Leaves x) { return MeanAll(t, x[0]); }, in);
  Tape<double> tape;
  Var<double> x = tape.Constant(in[0].view());
  Var<double> s0 = Sum(tape, x, 0);
  Var<double> m1 = Mean(tape, x, 1);
  ASSERT_EQ(s0.cols, 4);
  ASSERT_EQ(m1.rows, 3);
  EXPECT_NEAR(s0.value[2], in[0](0, 2) + in[0](1, 2) + in[0](2, 2), 1e-15);
  EXPECT_NEAR(m1.value[1],
              (in[0](1, 0) + in[0](1, 1) + in[0](1, 2) + in[0](1, 3)) / 4,
              1e-15);
  double total = 0;
  for (double v : in[0].values()) total += v;
  EXPECT_NEAR(SumAll(tape, x).scalar(), total, 1e-14);
}

// ----- losses -----

TEST(OpsTest, BceWithLogits) {
  std::vector<Tensor<double>> in = Random({{4, 3}, {4, 3}}, 81, -3, 3);
  for (double& z : in[1].values()) z = (z + 3) / 6;  // targets in [0, 1]
  ExpectGradOk(
      [](Tape<double>& t, Leaves x) { return BceWithLogits(t, x[0], x[1]); },
      in);
  Tape<double> tape;
  Var<double> l = BceWithLogits(tape, tape.Constant(in[0].view()),
                                tape.Constant(in[1].view()));
  double want = 0;
  for (int i = 0; i < 12; ++i) {
    const double p = 1 / (1 + std::exp(-in[0][i]));
    want -= in[1][i] * std::log(p) + (1 - in[1][i]) * std::log(1 - p);
  }
  EXPECT_NEAR(l.scalar(), want / 12, 1e-14);
  // Saturated logits stay finite.
  Tensor<double> big(1, 2, {800.0, -800.0});
  Tensor<double> zt(1, 2, {0.0, 1.0});
  Var<double> lb =
      BceWithLogits(tape, tape.Constant(big.view()), tape.Constant(zt.view()));
  EXPECT_NEAR(lb.scalar(), 800.0, 1e-9);
}

TEST(OpsTest, Mse) {
  std::vector<Tensor<double>> in = Random({{5, 2}, {5, 2}}, 91);
  ExpectGradOk([](Tape<double>& t, Leaves x) { return Mse(t, x[0], x[1]); },
               in);
  Tape<double> tape;
  Var<double> l =
      Mse(tape, tape.Constant(in[0].view()), tape.Constant(in[1].view()));
  double want = 0;
  for (int i = 0; i < 10; ++i)
    want += (in[0][i] - in[1][i]) * (in[0][i] - in[1][i]);
  EXPECT_NEAR(l.scalar(), want / 10, 1e-15);
}

TEST(OpsTest, SoftmaxCrossEntropy) {
  std::vector<Tensor<double>> in = Random({{4, 5}}, 101, -3, 3);
  const std::vector<int64_t> labels = {0, 4, 2, 2};
  ExpectGradOk(
      [&](Tape<double>& t, Leaves x) {
        return SoftmaxCrossEntropy<double>(t, x[0], labels);
      },
      in);
  Tape<double> tape;
  Var<double> l =
      SoftmaxCrossEntropy<double>(tape, tape.Constant(in[0].view()), labels);
  double want = 0;
  for (int r = 0; r < 4; ++r) {
    double z = 0;
    for (int c = 0; c < 5; ++c) z += std::exp(in[0](r, c));
    want += std::log(z) - in[0](r, labels[r]);
  }
  EXPECT_NEAR(l.scalar(), want / 4, 1e-14);
}

TEST(OpsTest, DropoutIsSeededAndScaled) {
  std::vector<Tensor<double>> in = Random({{20, 30}}, 111);
  Tape<double> tape;
  Rng rng1(5), rng2(5);
  Var<double> x = tape.Leaf(in[0].data(), 20, 30);
  Var<double> a = Dropout(tape, x, 0.25, rng1, /*training=*/true);
  Var<double> b = Dropout(tape, x, 0.25, rng2, /*training=*/true);
  int zeros = 0;
  for (int i = 0; i < 600; ++i) {
    EXPECT_EQ(a.value[i], b.value[i]);
    if (a.value[i] == 0) {
      ++zeros;
    } else {
      EXPECT_NEAR(a.value[i], in[0][i] / 0.75, 1e-15);
    }
  }
  EXPECT_GT(zeros, 100);  // 150 expected
  EXPECT_LT(zeros, 200);
  tape.Backward(SumAll(tape, a));
  for (int i = 0; i < 600; ++i)
    EXPECT_EQ(x.grad[i], a.value[i] == 0 ? 0.0 : 1 / 0.75);
  // Identity outside training.
  Var<double> e = Dropout(tape, x, 0.25, rng1, /*training=*/false);
  EXPECT_EQ(e.value, x.value);
  // The masked op's gradient (mask fixed by a reseeded rng per evaluation).
  ExpectGradOk(
      [](Tape<double>& t, Leaves v) {
        Rng r(9);
        return Dropout(t, v[0], 0.5, r, true);
      },
      in);
}

TEST(OpsTest, ReshapeSharesBuffers) {
  std::vector<Tensor<double>> in = Random({{2, 6}}, 121);
  ExpectGradOk(
      [](Tape<double>& t, Leaves x) { return Sum(t, Reshape(x[0], 4, 3), 0); },
      in);
}

TEST(OpsTest, NoRecordsWithoutGradients) {
  std::vector<Tensor<double>> in = Random({{2, 3}, {3, 2}}, 131);
  Tape<double> tape;
  Var<double> y = Tanh(tape, MatMul(tape, tape.Constant(in[0].view()),
                                    tape.Constant(in[1].view())));
  EXPECT_FALSE(y.needs_grad());
  EXPECT_EQ(tape.num_records(), 0u);
}

// ----- float path against double path, for every op family -----

// Runs f on float and double copies of the same inputs, with L = Σ w ⊙ f(x),
// and compares the outputs and input gradients to float precision.
template <typename F>
void ExpectFloatMatchesDouble(F f, std::vector<Tensor<double>> in,
                              double tol = 2e-5) {
  Rng rng(77);
  std::vector<std::vector<float>> inf;
  for (const Tensor<double>& t : in)
    inf.emplace_back(t.values().begin(), t.values().end());
  Tape<double> td;
  Tape<float> tf;
  std::vector<Var<double>> xd;
  std::vector<Var<float>> xf;
  for (size_t k = 0; k < in.size(); ++k) {
    xd.push_back(td.Leaf(in[k].data(), in[k].rows(), in[k].cols()));
    xf.push_back(tf.Leaf(inf[k].data(), in[k].rows(), in[k].cols()));
  }
  Var<double> yd = f(td, xd);
  Var<float> yf = f(tf, xf);
  ASSERT_EQ(yd.size(), yf.size());
  std::vector<double> wd(yd.size());
  for (double& w : wd) w = rng.Uniform(-1, 1);
  std::vector<float> wf(wd.begin(), wd.end());
  td.Backward(
      SumAll(td, Mul(td, yd, td.Constant(wd.data(), yd.rows, yd.cols))));
  tf.Backward(
      SumAll(tf, Mul(tf, yf, tf.Constant(wf.data(), yf.rows, yf.cols))));
  double max_y = 1;
  for (int64_t i = 0; i < yd.size(); ++i)
    max_y = std::max(max_y, std::abs(yd.value[i]));
  for (int64_t i = 0; i < yd.size(); ++i)
    EXPECT_NEAR(yf.value[i], yd.value[i], tol * max_y);
  for (size_t k = 0; k < in.size(); ++k) {
    double max_g = 1;
    for (int64_t i = 0; i < xd[k].size(); ++i)
      max_g = std::max(max_g, std::abs(xd[k].grad[i]));
    for (int64_t i = 0; i < xd[k].size(); ++i) {
      EXPECT_NEAR(xf[k].grad[i], xd[k].grad[i], tol * max_g)
          << "input " << k << " [" << i << "]";
    }
  }
}

TEST(OpsFloatTest, FloatMatchesDoubleForEveryOpFamily) {
  auto in = [](std::initializer_list<std::pair<int, int>> shapes) {
    return Random(shapes, 141, 0.2, 1.7);
  };
  ExpectFloatMatchesDouble(
      [](auto& t, auto& x) { return MatMul(t, x[0], x[1], true, false); },
      in({{6, 4}, {6, 5}}));
  ExpectFloatMatchesDouble(
      [](auto& t, auto& x) { return Linear(t, x[0], x[1], x[2]); },
      in({{5, 3}, {4, 3}, {1, 4}}));
  ExpectFloatMatchesDouble(
      [](auto& t, auto& x) { return Div(t, Mul(t, x[0], x[1]), x[2]); },
      in({{4, 3}, {1, 3}, {4, 1}}));
  ExpectFloatMatchesDouble(
      [](auto& t, auto& x) {
        using T = std::remove_reference_t<decltype(x[0].value[0])>;
        return Sub(t, Clamp(t, x[0], T(0.5), T(1.5)), x[1]);
      },
      in({{4, 3}, {4, 3}}));
  ExpectFloatMatchesDouble(
      [](auto& t, auto& x) {
        using T = std::remove_reference_t<decltype(x[0].value[0])>;
        return Concat<T>(
            t, {SliceCols(t, x[0], 1, 3), Sum(t, x[0], 1), Mean(t, x[0], 0)});
      },
      in({{1, 4}}));
  ExpectFloatMatchesDouble(
      [](auto& t, auto& x) {
        using T = std::remove_reference_t<decltype(x[0].value[0])>;
        static const std::vector<int64_t> index = {2, 2, 0};
        return GatherCols<T>(t, x[0], index);
      },
      in({{3, 4}}));
  ExpectFloatMatchesDouble(
      [](auto& t, auto& x) { return BceWithLogits(t, x[0], x[1]); },
      in({{4, 3}, {4, 3}}));
  ExpectFloatMatchesDouble([](auto& t, auto& x) { return Mse(t, x[0], x[1]); },
                           in({{4, 3}, {4, 3}}));
  ExpectFloatMatchesDouble(
      [](auto& t, auto& x) {
        using T = std::remove_reference_t<decltype(x[0].value[0])>;
        static const std::vector<int64_t> labels = {1, 0, 2, 2};
        return SoftmaxCrossEntropy<T>(t, x[0], labels);
      },
      in({{4, 3}}));
}

}  // namespace
}  // namespace elm
