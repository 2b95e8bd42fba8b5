// Tests of the LSTM baseline: the fused unroll against the composed oracle
// (outputs and every gradient to 1e-12·max(1, max|ref|) in double), a
// whole-model central-difference gradient check, two steps computed by hand
// from the gate formulas, PyTorch's (i, f, g, o) gate order, PyTorch's
// initialisation, parameter counts, config validation and state_dict I/O.
#include "elm/lstm.h"

#include <algorithm>
#include <cmath>
#include <ostream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "autodiff/grad_check.h"
#include "autodiff/ops.h"
#include "base/rng.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

double MaxAbsOrOne(const double* a, int64_t n) {
  double m = 1;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::abs(a[i]));
  return m;
}

void ExpectClose(const double* got, const double* want, int64_t n,
                 const std::string& what, double tol = 1e-12) {
  const double scale = MaxAbsOrOne(want, n);
  double worst = 0;
  for (int64_t i = 0; i < n; ++i)
    worst = std::max(worst, std::abs(got[i] - want[i]));
  EXPECT_LE(worst, tol * scale) << what << ": max|fused − composed| = " << worst
                                << " (scale " << scale << ")";
}

double Sigma(double x) { return 1 / (1 + std::exp(-x)); }

struct Case {
  std::string name;
  int num_input, hidden, num_output, batch, steps;
};

// Parameterised tests print the case by name.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class LstmFusedVsComposedTest : public ::testing::TestWithParam<Case> {};

TEST_P(LstmFusedVsComposedTest, OutputsAndGradientsAgree) {
  const Case& c = GetParam();
  absl::StatusOr<LstmModel<double>> model = LstmModel<double>::Create(
      {c.num_input, c.hidden, c.num_output}, /*seed=*/3);
  ASSERT_TRUE(model.ok()) << model.status();
  const int64_t R = int64_t{c.batch} * c.steps, D = c.num_input, H = c.hidden,
                n_out = c.num_output;
  Rng rng(11);
  std::vector<double> x(R * D), w(R * n_out);
  for (double& v : x) v = 1.5 * rng.Normal();
  for (double& v : w) v = rng.Uniform(-1, 1);

  struct Result {
    GradBlock<double> grads;
    std::vector<double> x_grad, y, h, cell;
  };
  auto run = [&](bool fused) {
    Result res{GradBlock<double>(model->params()), {}, {}, {}, {}};
    res.x_grad.assign(R * D, 0.0);
    Tape<double> tape;
    Var<double> xv = tape.External(x.data(), res.x_grad.data(), R, D);
    LstmModel<double>::Outputs out =
        fused ? model->FusedUnroll(tape, xv, c.steps, &res.grads, true)
              : model->Unroll(tape, xv, c.steps, &res.grads, true);
    res.y.assign(out.y.value, out.y.value + out.y.size());
    res.h.assign(out.hidden.value, out.hidden.value + out.hidden.size());
    res.cell.assign(out.cell.value, out.cell.value + out.cell.size());
    // L = Σ w ⊙ y² + Σ h: reaches h both through the readout and directly.
    Var<double> loss = Add(tape,
                           SumAll(tape, Mul(tape, Mul(tape, out.y, out.y),
                                            tape.Constant(w.data(), R, n_out))),
                           SumAll(tape, out.hidden));
    tape.Backward(loss);
    return res;
  };
  const Result ref = run(false);
  const Result fused = run(true);
  ASSERT_EQ(ref.h.size(), static_cast<size_t>(R * H));
  ExpectClose(fused.y.data(), ref.y.data(), ref.y.size(), "y");
  ExpectClose(fused.h.data(), ref.h.data(), ref.h.size(), "h");
  ExpectClose(fused.cell.data(), ref.cell.data(), ref.cell.size(), "c");
  ExpectClose(fused.x_grad.data(), ref.x_grad.data(), ref.x_grad.size(),
              "dL/dX");
  for (int id = 0; id < model->params().num_params(); ++id) {
    const ParamInfo& info = model->params().info(id);
    ExpectClose(fused.grads.data() + info.offset,
                ref.grads.data() + info.offset, info.size(),
                "dL/d" + info.name);
  }
  EXPECT_GT(std::sqrt(ref.grads.SquaredNorm()), 1e-3);
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, LstmFusedVsComposedTest,
    ::testing::Values(Case{"one_unit_one_step", 1, 1, 1, 2, 1},
                      Case{"small", 3, 4, 2, 2, 10},
                      Case{"long", 5, 7, 3, 3, 100},
                      Case{"wide", 8, 16, 2, 3, 37},
                      Case{"narrow_input", 2, 9, 1, 2, 64}),
    [](const auto& info) { return info.param.name; });

class LstmGradientTest : public ::testing::TestWithParam<bool> {};

TEST_P(LstmGradientTest, MatchesCentralDifferences) {
  const bool fused = GetParam();
  absl::StatusOr<LstmModel<double>> m = LstmModel<double>::Create({3, 2, 2}, 5);
  ASSERT_TRUE(m.ok()) << m.status();
  const int B = 2, T = 6, D = 3;
  Rng rng(4);
  Tensor<double> x(B * T, D), x_grad(B * T, D), w(B * T, 2);
  for (int i = 0; i < x.size(); ++i) x[i] = rng.Uniform(-2, 2);
  for (int i = 0; i < w.size(); ++i) w[i] = rng.Uniform(-1, 1);
  GradBlock<double> grads(m->params());
  auto eval = [&](bool with_grad) {
    Tape<double> tape;
    Var<double> xv =
        tape.External(x.data(), with_grad ? x_grad.data() : nullptr, B * T, D);
    GradBlock<double>* g = with_grad ? &grads : nullptr;
    Var<double> y =
        fused ? m->FusedUnroll(tape, xv, T, g).y : m->Unroll(tape, xv, T, g).y;
    Var<double> loss = SumAll(
        tape, Mul(tape, Mul(tape, y, y), tape.Constant(w.data(), B * T, 2)));
    if (with_grad) tape.Backward(loss);
    return loss.scalar();
  };
  std::vector<GradCheckInput> inputs = {{"X", x.view(), x_grad.view()}};
  for (int id = 0; id < m->params().num_params(); ++id) {
    inputs.push_back(
        {m->params().info(id).name, m->params().value(id), grads.view(id)});
  }
  GradCheckResult r = CheckGradients(eval, inputs);
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.num_checked, B * T * D + LstmParamCount({3, 2, 2}));
}

INSTANTIATE_TEST_SUITE_P(Unrolls, LstmGradientTest, ::testing::Bool(),
                         [](const auto& info) {
                           return info.param ? "fused" : "composed";
                         });

// Two steps of a one-unit LSTM, written out from the gate formulas.
TEST(LstmModelTest, TwoStepsByHand) {
  absl::StatusOr<LstmModel<double>> m = LstmModel<double>::Create({2, 1, 1});
  ASSERT_TRUE(m.ok()) << m.status();
  const LstmModel<double>::ParamIds& ids = m->ids();
  ParamSet<double>& p = m->params();
  // Rows: i, f, g, o.
  const double w_ih[4][2] = {{0.3, -0.2}, {0.5, 0.1}, {-0.4, 0.7}, {0.2, 0.6}};
  const double w_hh[4] = {0.9, -0.3, 0.4, -0.8};
  const double b_ih[4] = {0.05, 0.2, -0.1, 0.3};
  const double b_hh[4] = {-0.15, 0.1, 0.25, -0.05};
  for (int k = 0; k < 4; ++k) {
    p.value(ids.weight_ih)(k, 0) = w_ih[k][0];
    p.value(ids.weight_ih)(k, 1) = w_ih[k][1];
    p.value(ids.weight_hh)(k, 0) = w_hh[k];
    p.value(ids.bias_ih)(0, k) = b_ih[k];
    p.value(ids.bias_hh)(0, k) = b_hh[k];
  }
  p.value(ids.readout_weight)(0, 0) = 1.7;
  p.value(ids.readout_bias)(0, 0) = -0.4;
  const double x[2][2] = {{1.0, -2.0}, {0.5, 1.5}};  // steps 0, 1

  double h = 0, c = 0, y[2];
  for (int t = 0; t < 2; ++t) {
    double a[4];
    for (int k = 0; k < 4; ++k) {
      a[k] = w_ih[k][0] * x[t][0] + w_ih[k][1] * x[t][1] + b_ih[k] +
             w_hh[k] * h + b_hh[k];
    }
    const double i = Sigma(a[0]), f = Sigma(a[1]), g = std::tanh(a[2]),
                 o = Sigma(a[3]);
    c = f * c + i * g;
    h = o * std::tanh(c);
    y[t] = 1.7 * h - 0.4;
  }
  for (bool fused : {false, true}) {
    Tape<double> tape;
    Var<double> xv = tape.Constant(&x[0][0], 2, 2);
    Var<double> out = fused ? m->FusedUnroll(tape, xv, 2, nullptr).y
                            : m->Unroll(tape, xv, 2, nullptr).y;
    EXPECT_NEAR(out.value[0], y[0], 1e-15) << (fused ? "fused" : "composed");
    EXPECT_NEAR(out.value[1], y[1], 1e-15) << (fused ? "fused" : "composed");
  }
}

// Biases that saturate single gates identify PyTorch's order (i, f, g, o).
TEST(LstmModelTest, GateOrderIsPyTorchs) {
  const int D = 3, H = 4, B = 2, T = 6;
  absl::StatusOr<LstmModel<double>> m = LstmModel<double>::Create({D, H, 1}, 2);
  ASSERT_TRUE(m.ok()) << m.status();
  const LstmModel<double>::ParamIds& ids = m->ids();
  ParamSet<double>& p = m->params();
  // Only W_ih stays random; W_hh and the biases are zero.
  for (int id : {ids.weight_hh, ids.bias_ih, ids.bias_hh}) {
    View<double> v = p.value(id);
    std::fill(v.data, v.data + v.size(), 0.0);
  }
  auto set_gate_bias = [&](int gate, double value) {
    for (int j = 0; j < H; ++j) p.value(ids.bias_ih)(0, gate * H + j) = value;
  };
  // Input only at t = 0.
  Tensor<double> x(B * T, D);
  Rng rng(9);
  for (int b = 0; b < B; ++b) {
    for (int d = 0; d < D; ++d) x(b * T, d) = rng.Uniform(1, 2);
  }
  auto run = [&](bool fused) {
    Tape<double> tape;
    LstmModel<double>::Outputs out =
        fused ? m->FusedUnroll(tape, tape.Constant(x.view()), T, nullptr, true)
              : m->Unroll(tape, tape.Constant(x.view()), T, nullptr, true);
    return std::make_pair(
        std::vector<double>(out.cell.value, out.cell.value + out.cell.size()),
        std::vector<double>(out.hidden.value,
                            out.hidden.value + out.hidden.size()));
  };
  for (bool fused : {false, true}) {
    SCOPED_TRACE(fused ? "fused" : "composed");
    // Forget gate (block 1) open: after t = 0 the input gate is σ(0) = 1/2 but
    // g = tanh(0) = 0, so the cell keeps its value. (With the forget gate in
    // another block, c would halve or grow each step.)
    set_gate_bias(1, 60);
    auto [cell, hidden] = run(fused);
    for (int b = 0; b < B; ++b) {
      for (int j = 0; j < H; ++j) {
        const double c0 = cell[b * T * H + j];
        EXPECT_GT(std::abs(c0), 1e-3);
        for (int t = 1; t < T; ++t)
          EXPECT_NEAR(cell[(b * T + t) * H + j], c0, 1e-15);
      }
    }
    // Input (0), forget (1) and cell (2) gates open with no input after t = 0:
    // c_t = c_{t−1} + 1.
    set_gate_bias(0, 60);
    set_gate_bias(2, 60);
    std::tie(cell, hidden) = run(fused);
    for (int b = 0; b < B; ++b) {
      for (int t = 1; t < T; ++t) {
        for (int j = 0; j < H; ++j) {
          EXPECT_NEAR(cell[(b * T + t) * H + j],
                      cell[(b * T + t - 1) * H + j] + 1, 1e-12);
        }
      }
    }
    // Output gate (3) shut: h = σ(−60)·tanh(c) ≈ 0 while the cell is not.
    set_gate_bias(3, -60);
    std::tie(cell, hidden) = run(fused);
    for (int r = 0; r < B * T * H; ++r) {
      EXPECT_LT(std::abs(hidden[r]), 1e-20);
      EXPECT_GT(std::abs(cell[r]), 0.5);
    }
    for (int gate = 0; gate < 4; ++gate) set_gate_bias(gate, 0);
  }
}

TEST(LstmModelTest, InitialisationLikePyTorch) {
  const LstmConfig config{20, 25, 2};
  absl::StatusOr<LstmModel<float>> a = LstmModel<float>::Create(config, 7);
  absl::StatusOr<LstmModel<float>> b = LstmModel<float>::Create(config, 7);
  absl::StatusOr<LstmModel<float>> c = LstmModel<float>::Create(config, 8);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  const int64_t n = a->params().num_elements();
  EXPECT_EQ(n, LstmParamCount(config));
  EXPECT_TRUE(std::equal(a->params().data(), a->params().data() + n,
                         b->params().data()));
  EXPECT_FALSE(std::equal(a->params().data(), a->params().data() + n,
                          c->params().data()));
  // Every parameter U(±1/√H) (nn.LSTM; nn.Linear(H, ·) has the same bound).
  const double bound = 1 / std::sqrt(25.0);
  a->params().ForEach([&](const ParamInfo& info, View<float> v) {
    double max_abs = 0, sum = 0;
    for (int64_t i = 0; i < v.size(); ++i) {
      max_abs = std::max(max_abs, std::abs(static_cast<double>(v[i])));
      sum += v[i];
    }
    EXPECT_LE(max_abs, bound) << info.name;
    if (v.size() >= 100) {
      EXPECT_GT(max_abs, 0.95 * bound) << info.name;
      EXPECT_LT(std::abs(sum / v.size()), 0.2 * bound) << info.name;
    }
  });
}

// Chrono initialisation: b_f = log(U(1, T_max − 1)), b_i = −b_f in the
// effective bias b_ih + b_hh; every other value as without it; deterministic
// per seed.
TEST(LstmModelTest, ChronoInitialisation) {
  constexpr int H = 4000;
  constexpr double kTMax = 2000;
  LstmConfig plain_config{3, H, 2};
  LstmConfig config = plain_config;
  config.chrono_t_max = kTMax;
  absl::StatusOr<LstmModel<double>> a = LstmModel<double>::Create(config, 7);
  absl::StatusOr<LstmModel<double>> b = LstmModel<double>::Create(config, 7);
  absl::StatusOr<LstmModel<double>> c = LstmModel<double>::Create(config, 8);
  absl::StatusOr<LstmModel<double>> plain =
      LstmModel<double>::Create(plain_config, 7);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && plain.ok()) << a.status();
  const int64_t n = a->params().num_elements();
  EXPECT_TRUE(std::equal(a->params().data(), a->params().data() + n,
                         b->params().data()));
  EXPECT_FALSE(std::equal(a->params().data(), a->params().data() + n,
                          c->params().data()));
  const auto ids = a->ids();
  const View<const double> b_ih = a->params().value(ids.bias_ih);
  const View<const double> b_hh = a->params().value(ids.bias_hh);
  // exp(b_f) is U(1, T_max − 1): its bounds, mean and quartiles.
  double sum = 0;
  int below_quarter = 0, below_half = 0;
  for (int j = 0; j < H; ++j) {
    const double f = b_ih(0, H + j) + b_hh(0, H + j);
    EXPECT_DOUBLE_EQ(b_ih(0, j) + b_hh(0, j), -f) << j;
    const double u = std::exp(f);
    ASSERT_GE(u, 1.0);
    ASSERT_LT(u, kTMax - 1);
    sum += u;
    below_quarter += u < 1 + 0.25 * (kTMax - 2);
    below_half += u < 1 + 0.5 * (kTMax - 2);
  }
  // Standard errors: mean 577/√H ≈ 9; fractions ≈ 0.007.
  EXPECT_NEAR(sum / H, kTMax / 2, 40);
  EXPECT_NEAR(below_quarter / static_cast<double>(H), 0.25, 0.03);
  EXPECT_NEAR(below_half / static_cast<double>(H), 0.5, 0.03);
  // The cell and output gates' biases and every weight are PyTorch's.
  const View<const double> plain_ih = plain->params().value(ids.bias_ih);
  for (int j = 2 * H; j < 4 * H; ++j) {
    ASSERT_EQ(b_ih(0, j), plain_ih(0, j)) << j;
  }
  const View<const double> w = a->params().value(ids.weight_hh);
  const View<const double> plain_w = plain->params().value(ids.weight_hh);
  EXPECT_TRUE(std::equal(w.data, w.data + w.size(), plain_w.data));
  // Off is 0; values in (0, 2] and non-finite ones are errors naming the field.
  for (double bad : {1.5, -1.0, std::nan("")}) {
    config.chrono_t_max = bad;
    const absl::Status st = LstmModel<double>::Create(config).status();
    EXPECT_TRUE(absl::StrContains(st.message(), "chrono_t_max")) << bad;
  }
}

TEST(LstmModelTest, ParamCounts) {
  // NeuronIO (1278 inputs, 2 outputs): ours has nn.LSTM's two bias vectors;
  // the paper's Table S10 (77.67K for H = 15, 265.9K for H = 50) counts one.
  EXPECT_EQ(LstmParamCount({1278, 15, 2}), 77732);
  EXPECT_EQ(LstmParamCount({1278, 50, 2}), 266102);
  EXPECT_EQ(LstmParamCount({1278, 50, 2}) - 4 * 50, 265902);
  absl::StatusOr<LstmModel<float>> m = LstmModel<float>::Create({1278, 15, 2});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->params().num_elements(), 77732);
  EXPECT_EQ(m->params().num_trainable_elements(), 77732);
}

TEST(LstmModelTest, ConfigErrorsNameTheField) {
  struct Bad {
    LstmConfig config;
    std::string message;
  };
  for (const Bad& bad :
       {Bad{{0, 4, 2}, "num_input = 0"}, Bad{{3, 0, 2}, "hidden = 0"},
        Bad{{3, 4, -1}, "num_output = -1"}}) {
    absl::Status st = ValidateLstmConfig(bad.config);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(st.message(), bad.message)) << st;
    EXPECT_FALSE(LstmModel<double>::Create(bad.config).ok());
  }
  EXPECT_TRUE(ValidateLstmConfig({1, 1, 1}).ok());
}

TEST(LstmModelTest, StateDictRoundTrip) {
  const LstmConfig config{3, 4, 2};
  absl::StatusOr<LstmModel<double>> a = LstmModel<double>::Create(config, 1);
  absl::StatusOr<LstmModel<double>> b = LstmModel<double>::Create(config, 2);
  ASSERT_TRUE(a.ok() && b.ok());
  const std::vector<NamedTensor> sd = a->StateDict();
  ASSERT_EQ(sd.size(), 6u);
  const std::vector<std::pair<std::string, std::vector<int64_t>>> want = {
      {"weight_ih_l0", {16, 3}},  {"weight_hh_l0", {16, 4}},
      {"bias_ih_l0", {16}},       {"bias_hh_l0", {16}},
      {"readout.weight", {2, 4}}, {"readout.bias", {2}}};
  for (size_t k = 0; k < want.size(); ++k) {
    EXPECT_EQ(sd[k].name, want[k].first);
    EXPECT_EQ(sd[k].shape, want[k].second) << sd[k].name;
    EXPECT_EQ(sd[k].dtype, "f64");
  }
  ASSERT_TRUE(b->LoadStateDict(sd, "", "memory").ok());
  const int64_t n = a->params().num_elements();
  EXPECT_TRUE(std::equal(a->params().data(), a->params().data() + n,
                         b->params().data()));

  // With a prefix, as in a PyTorch module holding the LSTM.
  std::vector<NamedTensor> prefixed = sd;
  for (NamedTensor& t : prefixed) t.name = "model." + t.name;
  absl::StatusOr<LstmModel<float>> f = LstmModel<float>::Create(config, 3);
  ASSERT_TRUE(f->LoadStateDict(prefixed, "model.", "memory").ok());
  EXPECT_EQ(f->params().data()[5], static_cast<float>(a->params().data()[5]));
}

TEST(LstmModelTest, LoadErrorsNameTheTensorAndShape) {
  absl::StatusOr<LstmModel<double>> m = LstmModel<double>::Create({3, 4, 2});
  ASSERT_TRUE(m.ok());
  const std::vector<NamedTensor> good = m->StateDict();
  const std::vector<double> before(m->params().data(), m->params().data() + 10);

  std::vector<NamedTensor> sd = good;
  sd.erase(sd.begin() + 1);
  absl::Status st = m->LoadStateDict(sd, "", "lstm.txt");
  EXPECT_EQ(st.message(), "lstm.txt: missing tensor 'weight_hh_l0'");

  sd = good;
  sd[3].shape = {4, 4};
  st = m->LoadStateDict(sd, "", "lstm.txt");
  EXPECT_EQ(st.message(),
            "lstm.txt: tensor 'bias_hh_l0' has shape (4, 4); expected (16,)");

  sd = good;
  sd[0].shape = {3, 16};
  st = m->LoadStateDict(sd, "", "lstm.txt");
  EXPECT_EQ(st.message(),
            "lstm.txt: tensor 'weight_ih_l0' has shape (3, 16); expected "
            "(16, 3)");

  sd = good;
  sd.push_back(good[0]);
  sd.back().name = "weight_ih_l1";
  st = m->LoadStateDict(sd, "", "lstm.txt");
  EXPECT_TRUE(
      absl::StrContains(st.message(), "unexpected tensor 'weight_ih_l1'"))
      << st;

  sd = good;
  sd[5].dtype = "i64";
  sd[5].int_values = {1, 2};
  sd[5].values.clear();
  st = m->LoadStateDict(sd, "", "lstm.txt");
  EXPECT_TRUE(absl::StrContains(st.message(), "'readout.bias' has dtype i64"))
      << st;
  // A failed load leaves the parameters as they were.
  EXPECT_TRUE(std::equal(before.begin(), before.end(), m->params().data()));
}

// The float instantiation: fused and composed agree to float precision.
TEST(LstmModelTest, FloatFusedMatchesComposed) {
  absl::StatusOr<LstmModel<float>> m = LstmModel<float>::Create({6, 8, 2}, 4);
  ASSERT_TRUE(m.ok());
  const int B = 3, T = 40;
  Rng rng(1);
  std::vector<float> x(B * T * 6);
  for (float& v : x) v = static_cast<float>(rng.Normal());
  GradBlock<float> g_ref(m->params()), g_fused(m->params());
  std::vector<float> y_ref, y_fused;
  for (bool fused : {false, true}) {
    Tape<float> tape;
    GradBlock<float>* g = fused ? &g_fused : &g_ref;
    Var<float> xv = tape.Constant(x.data(), B * T, 6);
    Var<float> y =
        fused ? m->FusedUnroll(tape, xv, T, g).y : m->Unroll(tape, xv, T, g).y;
    (fused ? y_fused : y_ref).assign(y.value, y.value + y.size());
    tape.Backward(SumAll(tape, Mul(tape, y, y)));
  }
  for (size_t i = 0; i < y_ref.size(); ++i)
    EXPECT_NEAR(y_fused[i], y_ref[i], 1e-5f);
  for (int64_t i = 0; i < g_ref.size(); ++i)
    EXPECT_NEAR(g_fused.data()[i], g_ref.data()[i],
                1e-4f * std::max(1.0f, std::abs(g_ref.data()[i])));
}

}  // namespace
}  // namespace elm
