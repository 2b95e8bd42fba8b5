// The GRU: a central-difference gradient check of the whole unroll (every
// parameter and the input), two steps of a one-unit cell by hand, and the
// registered factory (config from the Any, a wrong config type).
#include "gru.h"

#include <cmath>
#include <memory>
#include <vector>

#include "autodiff/grad_check.h"
#include "autodiff/ops.h"
#include "experiments/model_registry.h"
#include "gtest/gtest.h"

namespace mylab {
namespace {

using elm::Tape;
using elm::Var;

GruConfig Config(int hidden, double update_gate_bias = 0) {
  GruConfig c;
  c.set_hidden(hidden);
  c.set_update_gate_bias(update_gate_bias);
  return c;
}

TEST(GruTest, GradientsMatchCentralDifferences) {
  const int B = 2, T = 5, D = 3, H = 4, n_out = 2;
  absl::StatusOr<GruModel<double>> m =
      GruModel<double>::Create(Config(H, 0.5), D, n_out, /*seed=*/7);
  ASSERT_TRUE(m.ok()) << m.status();
  elm::Rng rng(3);
  elm::Tensor<double> x = elm::RandomTensor(B * T, D, rng, -2, 2);
  elm::Tensor<double> w = elm::RandomTensor(B * T, n_out, rng);
  elm::Tensor<double> x_grad(B * T, D);
  elm::GradBlock<double> grads(m->params());
  // L = Σ w ⊙ y²: every output step reaches every earlier step's state.
  auto eval = [&](bool with_grad) {
    Tape<double> tape;
    Var<double> xv =
        tape.External(x.data(), with_grad ? x_grad.data() : nullptr, B * T, D);
    Var<double> y = m->Forward(tape, xv, T, with_grad ? &grads : nullptr);
    Var<double> loss =
        elm::SumAll(tape, elm::Mul(tape, elm::Mul(tape, y, y),
                                   tape.Constant(w.data(), B * T, n_out)));
    if (with_grad) tape.Backward(loss);
    return loss.scalar();
  };
  std::vector<elm::GradCheckInput> inputs = {{"x", x.view(), x_grad.view()}};
  for (int id = 0; id < m->params().num_params(); ++id) {
    inputs.push_back(
        {m->params().info(id).name, m->params().value(id), grads.view(id)});
  }
  const elm::GradCheckResult r = elm::CheckGradients(eval, inputs);
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.num_checked, B * T * D + m->params().num_elements());
}

TEST(GruTest, TwoStepsOfOneUnitByHand) {
  absl::StatusOr<GruModel<double>> m =
      GruModel<double>::Create(Config(1), 1, 1, 0);
  ASSERT_TRUE(m.ok()) << m.status();
  // Parameters in order: weight_ih, weight_hh, bias_ih, bias_hh (rows r, z, n),
  // readout.weight, readout.bias.
  const double w_i[3] = {0.3, -0.5, 0.8}, w_h[3] = {0.7, 0.2, -0.6};
  const double b_i[3] = {0.1, 0.05, -0.2}, b_h[3] = {-0.3, 0.4, 0.25};
  elm::ParamSet<double>& p = m->params();
  for (int k = 0; k < 3; ++k) {
    p.value(0)(k, 0) = w_i[k];
    p.value(1)(k, 0) = w_h[k];
    p.value(2)(0, k) = b_i[k];
    p.value(3)(0, k) = b_h[k];
  }
  p.value(4)(0, 0) = 1.5;
  p.value(5)(0, 0) = -0.1;
  const double x[2] = {1.0, -2.0};
  auto sigma = [](double a) { return 1 / (1 + std::exp(-a)); };
  double h = 0, y[2];
  for (int t = 0; t < 2; ++t) {
    const double r = sigma(w_i[0] * x[t] + b_i[0] + w_h[0] * h + b_h[0]);
    const double z = sigma(w_i[1] * x[t] + b_i[1] + w_h[1] * h + b_h[1]);
    const double n =
        std::tanh(w_i[2] * x[t] + b_i[2] + r * (w_h[2] * h + b_h[2]));
    h = (1 - z) * n + z * h;
    y[t] = 1.5 * h - 0.1;
  }
  Tape<double> tape;
  Var<double> out = m->Forward(tape, tape.Constant(x, 2, 1), 2, nullptr);
  EXPECT_NEAR(out.value[0], y[0], 1e-15);
  EXPECT_NEAR(out.value[1], y[1], 1e-15);
}

TEST(GruTest, RegisteredFactoryReadsTheAnyConfig) {
  elm::ModelSpec spec;
  spec.mutable_custom()->set_name("gru");
  spec.mutable_custom()->mutable_config()->PackFrom(Config(6));
  elm::DatasetInfo info;
  info.input_dim = 10;  // NeuronIO-like: per-step targets, 2 outputs
  absl::StatusOr<std::unique_ptr<elm::SequenceModel>> model =
      elm::MakeModel(spec, info, 1);
  ASSERT_TRUE(model.ok()) << model.status();
  // 3H(D + H + 2) + n_out(H + 1) with H = 6, D = 10, n_out = 2.
  EXPECT_EQ((*model)->params().num_trainable_elements(),
            3 * 6 * (10 + 6 + 2) + 2 * 7);

  spec.mutable_custom()->mutable_config()->PackFrom(elm::LstmSpec());
  model = elm::MakeModel(spec, info, 1);
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find("mylab.GruConfig"),
            absl::string_view::npos)
      << model.status();
}

}  // namespace
}  // namespace mylab
