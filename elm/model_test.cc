// Tests of the composed ELM model: initialisation like the reference, a
// whole-model gradient check in double for v1/v2 with and without routing and
// learnable τ_m, state_dict round trips and load errors that name the tensor
// and the expected shape.
#include "elm/model.h"

#include <cmath>
#include <string>

#include "autodiff/grad_check.h"
#include "autodiff/ops.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

ElmConfig Tiny(bool v2, bool routed, bool learn_tau, int layers = 1) {
  ElmConfig c;
  c.set_version(v2 ? ElmConfig::V2 : ElmConfig::V1);
  c.set_num_input(routed ? 5 : 8);
  c.set_num_output(2);
  c.set_num_memory(4);
  c.set_mlp_num_layers(layers);
  c.set_mlp_hidden_size(6);
  c.set_memory_tau_max(50);
  c.set_learn_memory_tau(learn_tau);
  c.set_num_branch(2);
  c.set_num_synapse_per_branch(4);
  c.set_mlp_activation(layers == 2 ? "silu" : "relu");
  if (routed) c.set_input_to_synapse_routing("neuronio_routing");
  return c;
}

TEST(ElmModelTest, InitialisationLikeTheReference) {
  ElmConfig c = Tiny(false, false, false);
  c.set_num_memory(50);
  c.set_mlp_hidden_size(400);
  c.set_memory_tau_max(1000);
  absl::StatusOr<ElmModel<float>> m = ElmModel<float>::Create(c, 7);
  ASSERT_TRUE(m.ok()) << m.status();
  const ElmModel<float>::ParamIds& ids = m->ids();
  View<float> w_s = m->params().value(ids.proto_w_s);
  for (int i = 0; i < w_s.size(); ++i) EXPECT_EQ(w_s[i], 0.5f);
  for (float tau : m->synapse_tau()) EXPECT_EQ(tau, 5.0f);
  // τ_m = scaled_sigmoid(proto) is log-spaced from 1 to 1000; the last float32
  // proto is +inf.
  View<float> proto = m->params().value(ids.proto_tau_m);
  for (int i = 0; i < 50; ++i) {
    const double tau_m =
        999.0 / (1.0 + std::exp(-static_cast<double>(proto[i]))) + 1.0;
    const double want = std::pow(10.0, 3.0 * i / 49.0);
    EXPECT_NEAR(tau_m, want, 1e-4 * want) << i;
  }
  EXPECT_TRUE(std::isinf(proto[49]) && proto[49] > 0);
  EXPECT_NEAR(proto[0], -20.7697, 1e-3);
  // Linear layers: U(±1/√fan_in), weights and biases.
  const View<float> w0 = m->params().value(ids.mlp_weight[0]);  // [400, 2 + 50]
  const double bound = 1 / std::sqrt(52.0);
  double sum = 0, sum2 = 0, max_abs = 0;
  for (int i = 0; i < w0.size(); ++i) {
    sum += w0[i];
    sum2 += w0[i] * w0[i];
    max_abs = std::max(max_abs, std::abs(static_cast<double>(w0[i])));
  }
  EXPECT_LE(max_abs, bound);
  EXPECT_GT(max_abs, 0.98 * bound);
  EXPECT_NEAR(sum / w0.size(), 0.0, 0.01 * bound);
  EXPECT_NEAR(sum2 / w0.size(), bound * bound / 3, 0.03 * bound * bound / 3);
  const View<float> b_y = m->params().value(ids.w_y_bias);
  for (int i = 0; i < b_y.size(); ++i)
    EXPECT_LE(std::abs(b_y[i]), 1 / std::sqrt(50.0));
}

TEST(ElmModelTest, SeedDeterminesInitialisation) {
  ElmConfig c = Tiny(false, false, false);
  auto a = ElmModel<float>::Create(c, 1), b = ElmModel<float>::Create(c, 1),
       d = ElmModel<float>::Create(c, 2);
  const int64_t n = a->params().num_elements();
  EXPECT_TRUE(std::equal(a->params().data(), a->params().data() + n,
                         b->params().data()));
  EXPECT_FALSE(std::equal(a->params().data(), a->params().data() + n,
                          d->params().data()));
}

struct GradCase {
  std::string name;
  bool v2, routed, learn_tau;
  int layers;
};

class ElmGradientTest : public ::testing::TestWithParam<GradCase> {};

TEST_P(ElmGradientTest, WholeModelMatchesCentralDifferences) {
  const GradCase& gc = GetParam();
  absl::StatusOr<ElmModel<double>> m = ElmModel<double>::Create(
      Tiny(gc.v2, gc.routed, gc.learn_tau, gc.layers), 3);
  ASSERT_TRUE(m.ok()) << m.status();
  // Perturb w_s protos so that some are negative (relu off), away from the
  // kink.
  Rng rng(11);
  View<double> w_s = m->params().value(m->ids().proto_w_s);
  for (int i = 0; i < w_s.size(); ++i) {
    double v = 0.5 + 0.6 * rng.Normal();
    w_s[i] = std::abs(v) < 0.05 ? 0.1 : v;
  }
  const int B = 2, T = 20, N = m->shape().num_input;
  Tensor<double> x(B * T, N);
  for (int i = 0; i < x.size(); ++i) {
    const double u = rng.Uniform();
    x[i] = u < 0.2 ? 1.0 : (u < 0.4 ? -1.0 : 0.0);
  }
  GradBlock<double> grads(m->params());
  Tensor<double> x_grad(B * T, N);
  auto eval = [&](bool with_grad) {
    Tape<double> tape;
    Var<double> xv =
        tape.External(x.data(), with_grad ? x_grad.data() : nullptr, B * T, N);
    auto out = m->Unroll(tape, xv, T, with_grad ? &grads : nullptr);
    Var<double> loss = SumAll(tape, Mul(tape, out.y, out.y));
    if (with_grad) tape.Backward(loss);
    return loss.scalar();
  };
  std::vector<GradCheckInput> inputs = {{"X", x.view(), x_grad.view()}};
  for (int id = 0; id < m->params().num_params(); ++id) {
    if (!m->trainable(id)) continue;
    inputs.push_back(
        {m->params().info(id).name, m->params().value(id), grads.view(id)});
  }
  EXPECT_EQ(
      inputs.size(),
      2 * gc.layers + 6 + (gc.learn_tau ? 1u : 0u));  // X, w_s, MLP, w_y, τ_m
  GradCheckOptions options;
  options.rtol = 1e-5;
  GradCheckResult r = CheckGradients(eval, inputs, options);
  EXPECT_TRUE(r.ok) << r.message;
}

INSTANTIATE_TEST_SUITE_P(
    Configs, ElmGradientTest,
    ::testing::Values(GradCase{"v1", false, false, false, 1},
                      GradCase{"v2", true, false, false, 1},
                      GradCase{"v1_routed_tau", false, true, true, 1},
                      GradCase{"v2_routed_tau", true, true, true, 1},
                      GradCase{"v1_linear", false, false, true, 0},
                      GradCase{"v2_deep_silu", true, false, true, 2}),
    [](const auto& info) { return info.param.name; });

TEST(ElmModelTest, StateDictRoundTrip) {
  ElmConfig c = Tiny(false, true, true);
  auto a = ElmModel<float>::Create(c, 1);
  auto b = ElmModel<float>::Create(c, 2);
  std::vector<NamedTensor> sd = a->StateDict();
  ASSERT_EQ(sd.size(), 11u);  // 2 protos, tau, 2 routing, 2×2 MLP, 2 readout
  EXPECT_EQ(sd[0].name, "_proto_w_s");
  EXPECT_EQ(sd[1].name, "tau_s");
  EXPECT_EQ(sd[4].dtype, "bool");
  absl::Status st = b->LoadStateDict(sd, "", "memory");
  ASSERT_TRUE(st.ok()) << st;
  const int64_t n = a->params().num_elements();
  EXPECT_TRUE(std::equal(a->params().data(), a->params().data() + n,
                         b->params().data()));
  EXPECT_EQ(a->routing().index, b->routing().index);
}

TEST(ElmModelTest, LoadErrorsNameTheTensorAndShape) {
  ElmConfig c = Tiny(false, true, false);
  auto m = ElmModel<float>::Create(c, 1);
  const std::vector<NamedTensor> good = m->StateDict();

  std::vector<NamedTensor> sd = good;
  sd[5].shape = {6, 9};  // mlp.network.0.weight is (6, 6)
  absl::Status st = m->LoadStateDict(sd, "", "ckpt.pt");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("ckpt.pt"), std::string::npos) << st;
  EXPECT_NE(st.message().find("'mlp.network.0.weight'"), std::string::npos)
      << st;
  EXPECT_NE(st.message().find("expected (6, 6)"), std::string::npos) << st;

  sd = good;
  sd.erase(sd.begin() + 7);  // mlp.network.2.weight
  st = m->LoadStateDict(sd, "", "ckpt.pt");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("missing tensor 'mlp.network.2.weight'"),
            std::string::npos)
      << st;

  sd = good;
  sd.push_back(sd[0]);
  sd.back().name = "mlp.network.4.weight";
  st = m->LoadStateDict(sd, "", "ckpt.pt");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("unexpected tensor 'mlp.network.4.weight'"),
            std::string::npos)
      << st;

  sd = good;
  sd[3].int_values[2] = 99;  // input index out of range
  st = m->LoadStateDict(sd, "", "ckpt.pt");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("input_to_synapse_indices"), std::string::npos)
      << st;

  sd = good;
  sd[6].values.pop_back();  // mlp.network.0.bias: 5 values for shape (6,)
  st = m->LoadStateDict(sd, "", "ckpt.pt");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(
      st.message().find("'mlp.network.0.bias' holds 5 values for shape (6,)"),
      std::string::npos)
      << st;

  sd = good;
  sd[0].shape = {7};
  st = m->LoadStateDict(sd, "", "ckpt.pt");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'_proto_w_s' has shape (7,); expected (8,)"),
            std::string::npos)
      << st;
}

}  // namespace
}  // namespace elm
