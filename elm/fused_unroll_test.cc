// The fused unroll against the composed oracle (ElmModel::Unroll) in double:
// outputs, memory traces and every gradient (parameters and input) agree to
// 1e-12·max(1, max|ref|) per tensor on random configurations (v1/v2, routing
// on/off, 0–2 hidden layers, relu/silu, learnable τ_m on/off, T up to 300);
// sparse CSR inputs give the same as dense ones.
#include "elm/fused_unroll.h"

#include <cmath>
#include <string>
#include <vector>

#include "autodiff/ops.h"
#include "elm/model.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

struct Case {
  std::string name;
  bool v2, routed, learn_tau, silu;
  int layers, steps, batch;
};

ElmConfig MakeConfig(const Case& c) {
  ElmConfig cfg;
  cfg.set_version(c.v2 ? ElmConfig::V2 : ElmConfig::V1);
  cfg.set_num_input(c.routed ? 11 : 16);
  cfg.set_num_output(3);
  cfg.set_num_memory(5);
  cfg.set_mlp_num_layers(c.layers);
  cfg.set_mlp_hidden_size(7);
  cfg.set_mlp_activation(c.silu ? "silu" : "relu");
  cfg.set_learn_memory_tau(c.learn_tau);
  cfg.set_memory_tau_max(150);
  cfg.set_lambda_value(3);
  // Unrouted: 16 branches of one synapse (B_r ≥ 2·H₁: the projected first
  // layer); routed: 3 branches of 4 (the branch-trace path).
  cfg.set_num_branch(c.routed ? 3 : 16);
  cfg.set_num_synapse_per_branch(c.routed ? 4 : 1);
  if (c.routed) cfg.set_input_to_synapse_routing("neuronio_routing");
  return cfg;
}

double MaxAbs(const double* a, int64_t n) {
  double m = 1;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::abs(a[i]));
  return m;
}

void ExpectClose(const double* got, const double* want, int64_t n,
                 const std::string& what) {
  const double scale = MaxAbs(want, n);
  double worst = 0;
  for (int64_t i = 0; i < n; ++i)
    worst = std::max(worst, std::abs(got[i] - want[i]));
  EXPECT_LE(worst, 1e-12 * scale)
      << what << ": max|fused − composed| = " << worst << " (scale " << scale
      << ")";
}

class FusedVsComposedTest : public ::testing::TestWithParam<Case> {};

TEST_P(FusedVsComposedTest, OutputsAndGradientsAgree) {
  const Case& c = GetParam();
  absl::StatusOr<ElmModel<double>> model =
      ElmModel<double>::Create(MakeConfig(c), 5);
  ASSERT_TRUE(model.ok()) << model.status();
  Rng rng(17);
  // Random w_s protos (some negative), finite τ_m protos.
  View<double> ws = model->params().value(model->ids().proto_w_s);
  // Every fifth proto negative (relu off); the rest positive, so that a masked
  // synapse's gradient (which must be 0) is visible.
  for (int i = 0; i < ws.size(); ++i) {
    ws[i] = (i % 5 == 0 ? -1 : 1) * (0.1 + std::abs(0.5 * rng.Normal()));
  }
  View<double> tau = model->params().value(model->ids().proto_tau_m);
  for (int i = 0; i < tau.size(); ++i) tau[i] = rng.Uniform(-4, 4);
  const int64_t N = model->shape().num_input, R = c.batch * c.steps;
  std::vector<double> x(R * N);
  for (double& v : x) {
    const double u = rng.Uniform();
    v = u < 0.05 ? 1.0 : (u < 0.1 ? -1.0 : (u < 0.12 ? 2.0 : 0.0));
  }
  // A loss with a random weight per output: L = Σ w ⊙ y².
  std::vector<double> w(R * 3);
  for (double& v : w) v = rng.Uniform(-1, 1);

  auto run = [&](bool fused, GradBlock<double>& grads,
                 std::vector<double>& x_grad, std::vector<double>& y_out,
                 std::vector<double>& m_out) {
    Tape<double> tape;
    x_grad.assign(R * N, 0.0);
    Var<double> xv = tape.External(x.data(), x_grad.data(), R, N);
    Var<double> y, m;
    if (fused) {
      y = model->FusedUnroll(tape, xv, c.steps, &grads, &m);
    } else {
      auto out = model->Unroll(tape, xv, c.steps, &grads, true);
      y = out.y;
      m = out.memory;
    }
    y_out.assign(y.value, y.value + y.size());
    m_out.assign(m.value, m.value + m.size());
    tape.Backward(SumAll(
        tape, Mul(tape, Mul(tape, y, y), tape.Constant(w.data(), R, 3))));
  };
  GradBlock<double> g_ref(model->params()), g_fused(model->params());
  std::vector<double> xg_ref, xg_fused, y_ref, y_fused, m_ref, m_fused;
  run(false, g_ref, xg_ref, y_ref, m_ref);
  run(true, g_fused, xg_fused, y_fused, m_fused);
  ExpectClose(y_fused.data(), y_ref.data(), y_ref.size(), "y");
  ExpectClose(m_fused.data(), m_ref.data(), m_ref.size(), "memory");
  ExpectClose(xg_fused.data(), xg_ref.data(), xg_ref.size(), "dL/dX");
  for (int id = 0; id < model->params().num_params(); ++id) {
    const ParamInfo& info = model->params().info(id);
    ExpectClose(g_fused.data() + info.offset, g_ref.data() + info.offset,
                info.size(), "dL/d" + info.name);
  }
  // The gradients are not trivially zero.
  EXPECT_GT(std::sqrt(g_ref.SquaredNorm()), 1e-3);
}

INSTANTIATE_TEST_SUITE_P(
    Configs, FusedVsComposedTest,
    ::testing::Values(Case{"v1_plain", false, false, false, false, 1, 40, 2},
                      Case{"v2_plain", true, false, false, false, 1, 40, 2},
                      Case{"v1_routed_tau", false, true, true, false, 1, 60, 3},
                      Case{"v2_routed_tau", true, true, true, true, 1, 60, 3},
                      Case{"v1_linear", false, true, true, false, 0, 50, 2},
                      Case{"v2_linear", true, false, false, false, 0, 50, 1},
                      Case{"v1_deep_silu", false, true, true, true, 2, 30, 2},
                      Case{"v2_deep_relu", true, true, false, false, 2, 30, 2},
                      Case{"v1_long", false, true, true, true, 1, 300, 2},
                      Case{"v2_long", true, true, true, false, 1, 300, 1}),
    [](const auto& info) { return info.param.name; });

TEST(FusedUnrollTest, SparseInputsMatchDense) {
  Case c{"sparse", false, true, true, true, 1, 50, 3};
  absl::StatusOr<ElmModel<float>> model =
      ElmModel<float>::Create(MakeConfig(c), 9);
  ASSERT_TRUE(model.ok());
  View<float> tau = model->params().value(model->ids().proto_tau_m);
  for (int i = 0; i < tau.size(); ++i) tau[i] = 0.5f * i - 1;
  const int64_t N = model->shape().num_input, R = c.batch * c.steps;
  Rng rng(3);
  std::vector<float> x(R * N, 0.0f);
  std::vector<int64_t> row_begin = {0};
  std::vector<int32_t> col;
  std::vector<float> val;
  for (int64_t r = 0; r < R; ++r) {
    for (int64_t ch = 0; ch < N; ++ch) {
      if (rng.Uniform() < 0.1) {
        x[r * N + ch] = ch % 2 ? -1.0f : 1.0f;
        col.push_back(static_cast<int32_t>(ch));
        val.push_back(x[r * N + ch]);
      }
    }
    row_begin.push_back(static_cast<int64_t>(col.size()));
  }
  GradBlock<float> g_dense(model->params()), g_sparse(model->params());
  Tape<float> t1, t2;
  Var<float> y1 =
      model->FusedUnroll(t1, t1.Constant(x.data(), R, N), c.steps, &g_dense);
  CsrInput csr{row_begin.data(), col.data(), val.data(), R, N};
  Var<float> y2 = model->FusedUnroll(t2, csr, c.steps, &g_sparse);
  t1.Backward(SumAll(t1, y1));
  t2.Backward(SumAll(t2, y2));
  for (int64_t i = 0; i < y1.size(); ++i) EXPECT_EQ(y1.value[i], y2.value[i]);
  for (int64_t i = 0; i < g_dense.size(); ++i)
    EXPECT_EQ(g_dense.data()[i], g_sparse.data()[i]);
}

TEST(FusedUnrollTest, V1WithMixedTauPerBranchFallsBackToComposed) {
  Case c{"mixed", false, true, false, false, 1, 10, 1};
  absl::StatusOr<ElmModel<double>> model =
      ElmModel<double>::Create(MakeConfig(c), 1);
  ASSERT_TRUE(model.ok());
  std::vector<NamedTensor> sd = model->StateDict();
  sd[1].values[1] = 7.0;  // tau_s of synapse 1 differs within branch 0
  ASSERT_TRUE(model->LoadStateDict(sd, "", "test").ok());
  EXPECT_FALSE(model->CanFuse());
  std::vector<double> x(10 * 11, 1.0);
  Tape<double> tape;
  Var<double> y =
      model->FusedUnroll(tape, tape.Constant(x.data(), 10, 11), 10, nullptr);
  Var<double> y_ref =
      model->Unroll(tape, tape.Constant(x.data(), 10, 11), 10, nullptr).y;
  for (int64_t i = 0; i < y.size(); ++i) EXPECT_EQ(y.value[i], y_ref.value[i]);
}

}  // namespace
}  // namespace elm
