// Tests of the LIF / ALIF baselines: the spike functions against their
// formulas, the forward against the equations written out here, the surrogate
// in the backward against hand-derived derivatives, whole-model
// central-difference gradient checks in double (spike gradient off, and with
// the step replaced by a smooth sigmoid), parameter counts, config
// validation, and a small training run that fits a teacher LIF's spike train.
#include "elm/lif.h"

#include <algorithm>
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "autodiff/grad_check.h"
#include "autodiff/ops.h"
#include "autodiff/optimizer.h"
#include "base/rng.h"
#include "elm/heads.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

double Sigma(double x) { return 1 / (1 + std::exp(-x)); }

TEST(SpikeFunctionTest, SurrogateMatchesItsFormula) {
  for (double beta : {1.0, 5.0, 10.0}) {
    for (double u : {-2.0, -0.3, 0.0, 0.1, 1.5}) {
      const double want =
          1 / ((1 + beta * std::abs(u)) * (1 + beta * std::abs(u)));
      EXPECT_DOUBLE_EQ(FastSigmoidSurrogate(beta, u), want);
      EXPECT_DOUBLE_EQ(SpikeGrad(SpikeFunction::kSurrogate, beta, u), want);
      EXPECT_FLOAT_EQ(
          FastSigmoidSurrogate(static_cast<float>(beta), static_cast<float>(u)),
          static_cast<float>(want));
      EXPECT_EQ(SpikeGrad(SpikeFunction::kHeaviside, beta, u), 0.0);
      // The binary forward of both step variants: H(u), with H(0) = 0.
      for (SpikeFunction fn :
           {SpikeFunction::kSurrogate, SpikeFunction::kHeaviside}) {
        EXPECT_EQ(SpikeValue(fn, beta, u), u > 0 ? 1.0 : 0.0);
      }
      // The smooth stand-in: σ(βu), whose backward is its exact derivative.
      EXPECT_DOUBLE_EQ(SpikeValue(SpikeFunction::kSigmoid, beta, u),
                       Sigma(beta * u));
      const double h = 1e-6;
      const double numeric =
          (SpikeValue(SpikeFunction::kSigmoid, beta, u + h) -
           SpikeValue(SpikeFunction::kSigmoid, beta, u - h)) /
          (2 * h);
      EXPECT_NEAR(SpikeGrad(SpikeFunction::kSigmoid, beta, u), numeric, 1e-8);
    }
  }
  EXPECT_EQ(SpikeValue(SpikeFunction::kSurrogate, 10.0, 1e-300), 1.0);
  EXPECT_EQ(SpikeValue(SpikeFunction::kSurrogate, 10.0, -0.0), 0.0);
}

// The surrogate in the recurrence's backward, against derivatives worked out
// by hand for two LIF steps (ψ = 1/(1 + β|u|)², β = 10):
//   v0 = (1−α)I0,  u0 = v0 − ϑ,  s0 = H(u0),  v1 = αv0 + (1−α)I1 − ϑ s0.
TEST(LifRecurrenceTest, SurrogateGradientByHand) {
  const double I0 = 3, I1 = -0.7, alpha = 0.8, vartheta = 0.5, beta = 10;
  const double v0 = (1 - alpha) * I0, u0 = v0 - vartheta;      // 0.6, 0.1
  const double psi = 1 / ((1 + beta * u0) * (1 + beta * u0));  // 1/4
  struct Grads {
    double i0, i1, alpha, threshold;
  };
  // which = 0: L = s0; which = 1: L = v1.
  auto run = [&](int which) {
    Tape<double> tape;
    const double current[2] = {I0, I1};
    Var<double> cur = tape.Leaf(current, 2, 1);
    Var<double> a = tape.Leaf(&alpha, 1, 1);
    Var<double> th = tape.Leaf(&vartheta, 1, 1);
    LifTrace<double> tr =
        LifRecurrence(tape, cur, a, th, Var<double>{}, Var<double>{}, 2,
                      SpikeFunction::kSurrogate, beta);
    EXPECT_EQ(tr.spikes.value[0], 1.0);
    EXPECT_NEAR(tr.v.value[1], alpha * v0 + (1 - alpha) * I1 - vartheta, 1e-15);
    const double pick[2][2] = {{1, 0}, {0, 1}};
    Var<double> out = which == 0 ? tr.spikes : tr.v;
    tape.Backward(
        SumAll(tape, Mul(tape, out, tape.Constant(pick[which], 2, 1))));
    return Grads{cur.grad[0], cur.grad[1], a.grad[0], th.grad[0]};
  };
  const Grads s0 = run(0);
  EXPECT_NEAR(s0.i0, psi * (1 - alpha), 1e-15);
  EXPECT_NEAR(s0.i1, 0.0, 1e-15);
  EXPECT_NEAR(s0.alpha, -psi * I0, 1e-15);
  EXPECT_NEAR(s0.threshold, -psi, 1e-15);
  const Grads v1 = run(1);
  EXPECT_NEAR(v1.i0, alpha * (1 - alpha) - vartheta * psi * (1 - alpha), 1e-15);
  EXPECT_NEAR(v1.i1, 1 - alpha, 1e-15);
  EXPECT_NEAR(v1.alpha, (v0 - I1) - alpha * I0 + vartheta * psi * I0, 1e-15);
  EXPECT_NEAR(v1.threshold, -1 + vartheta * psi, 1e-15);
}

// A small model whose neuron spikes now and then on inputs in [0, 1.5).
LifModel<double> CheckModel(bool adaptive, SpikeFunction fn) {
  LifConfig c;
  c.num_input = 4;
  c.adaptive = adaptive;
  c.tau_mem_init = 5;
  c.tau_mem_max = 50;
  c.tau_adapt_init = 30;
  c.tau_adapt_max = 300;
  c.adapt_strength_init = 0.3;
  c.threshold_init = 0.6;
  c.surrogate_beta = 4;
  c.spike_function = fn;
  absl::StatusOr<LifModel<double>> m = LifModel<double>::Create(c, 1);
  CHECK(m.ok()) << m.status();
  const LifModel<double>::ParamIds& ids = m->ids();
  Rng rng(3);
  FillUniform(m->params().value(ids.input_weight), 0.3, 1.2, rng);
  m->params().value(ids.input_bias)[0] = 0.1;
  m->params().value(ids.spike_weight)[0] = 2.0;
  m->params().value(ids.spike_bias)[0] = -0.3;
  m->params().value(ids.soma_weight)[0] = 0.7;
  m->params().value(ids.soma_bias)[0] = 0.2;
  return *std::move(m);
}

// The forward against the equations of lif.h, written out per step.
TEST(LifModelTest, ForwardFollowsTheEquations) {
  for (bool adaptive : {false, true}) {
    SCOPED_TRACE(adaptive ? "ALIF" : "LIF");
    LifModel<double> m = CheckModel(adaptive, SpikeFunction::kSurrogate);
    const LifModel<double>::ParamIds& ids = m.ids();
    const int B = 2, T = 40, N = 4;
    Rng rng(5);
    Tensor<double> x(B * T, N);
    for (int i = 0; i < x.size(); ++i) x[i] = rng.Uniform(0, 1.5);
    Tape<double> tape;
    LifModel<double>::Outputs out =
        m.Unroll(tape, tape.Constant(x.view()), T, nullptr);

    auto p = [&](int id) { return m.params().value(id)[0]; };
    const double alpha = std::exp(-1.0 / m.tau_mem());
    EXPECT_NEAR(m.tau_mem(), 5.0, 1e-12);
    const double rho = adaptive ? std::exp(-1.0 / m.tau_adapt()) : 0;
    if (adaptive) {
      EXPECT_NEAR(m.tau_adapt(), 30.0, 1e-12);
    }
    const double gamma = adaptive ? p(ids.adapt_strength) : 0;
    const double vartheta = p(ids.threshold);
    int spikes = 0;
    for (int b = 0; b < B; ++b) {
      double v = 0, s = 0, a = 0;
      for (int t = 0; t < T; ++t) {
        const int r = b * T + t;
        double current = p(ids.input_bias);
        for (int i = 0; i < N; ++i)
          current += m.params().value(ids.input_weight)[i] * x(r, i);
        v = alpha * v + (1 - alpha) * current - vartheta * s;
        a = rho * a + s;
        const double theta = vartheta + gamma * a;
        s = v > theta ? 1 : 0;
        spikes += s;
        EXPECT_NEAR(out.trace.v.value[r], v, 1e-13) << r;
        EXPECT_NEAR(out.trace.threshold.value[r], theta, 1e-13) << r;
        EXPECT_EQ(out.trace.spikes.value[r], s) << r;
        EXPECT_NEAR(out.y.value[2 * r],
                    p(ids.spike_weight) * (v - theta) + p(ids.spike_bias),
                    1e-13);
        EXPECT_NEAR(out.y.value[2 * r + 1],
                    p(ids.soma_weight) * v + p(ids.soma_bias), 1e-13);
      }
    }
    EXPECT_GT(spikes, 5);
    EXPECT_LT(spikes, 3 * B * T / 4);
  }
}

struct GradCase {
  std::string name;
  bool adaptive;
  SpikeFunction fn;
};

// Parameterised tests print the case by name.
void PrintTo(const GradCase& c, std::ostream* os) { *os << c.name; }

class LifGradientTest : public ::testing::TestWithParam<GradCase> {};

// Central differences in double over the inputs and every parameter. With
// kHeaviside (ψ = 0) this is the gradient of everything but the spike, exact
// as long as no spike flips under the perturbation (checked: every |u_t| is
// far above the step); with kSigmoid every path, the spike's included.
TEST_P(LifGradientTest, MatchesCentralDifferences) {
  const GradCase& gc = GetParam();
  LifModel<double> m = CheckModel(gc.adaptive, gc.fn);
  const int B = 2, T = 15, N = 4, R = B * T;
  Rng rng(7);
  Tensor<double> x(R, N), x_grad(R, N), spike(R, 1), soma(R, 1), w(R, 1);
  for (int i = 0; i < x.size(); ++i) x[i] = rng.Uniform(0, 1.5);
  for (int r = 0; r < R; ++r) {
    spike[r] = rng.Bernoulli(0.3) ? 1 : 0;
    soma[r] = rng.Uniform(0, 1);
    w[r] = rng.Uniform(-1, 1);
  }
  GradBlock<double> grads(m.params());
  double min_margin = 1e9, num_spikes = 0;
  auto eval = [&](bool with_grad) {
    Tape<double> tape;
    Var<double> xv =
        tape.External(x.data(), with_grad ? x_grad.data() : nullptr, R, N);
    LifModel<double>::Outputs out =
        m.Unroll(tape, xv, T, with_grad ? &grads : nullptr);
    // The NeuronIO loss, plus a term on the spikes themselves.
    Var<double> loss =
        Add(tape,
            NeuronioLoss(tape, out.y, tape.Constant(spike.view()),
                         tape.Constant(soma.view())),
            SumAll(tape, Mul(tape, out.trace.spikes, tape.Constant(w.view()))));
    if (with_grad) {
      tape.Backward(loss);
      min_margin = 1e9;
      num_spikes = 0;
      for (int r = 0; r < R; ++r) {
        min_margin = std::min(
            min_margin,
            std::abs(out.trace.v.value[r] - out.trace.threshold.value[r]));
        num_spikes += out.trace.spikes.value[r];
      }
    }
    return loss.scalar();
  };
  std::vector<GradCheckInput> inputs = {{"X", x.view(), x_grad.view()}};
  for (int id = 0; id < m.params().num_params(); ++id) {
    inputs.push_back(
        {m.params().info(id).name, m.params().value(id), grads.view(id)});
  }
  GradCheckOptions options;
  options.rtol = 1e-5;
  GradCheckResult r = CheckGradients(eval, inputs, options);
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.num_checked, R * N + LifParamCount(m.config()));
  if (gc.fn == SpikeFunction::kHeaviside) {
    // Spikes happen (so the reset and adaptation paths carry gradient), and no
    // membrane lies within reach of the finite-difference step of threshold.
    EXPECT_GE(num_spikes, 2);
    EXPECT_LE(num_spikes, R - 2);
    EXPECT_GT(min_margin, 1e-4);
  }
  // Every parameter gets a gradient.
  for (int id = 0; id < m.params().num_params(); ++id) {
    View<double> g = grads.view(id);
    double norm = 0;
    for (int64_t i = 0; i < g.size(); ++i) norm += std::abs(g[i]);
    EXPECT_GT(norm, 1e-8) << m.params().info(id).name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Models, LifGradientTest,
    ::testing::Values(
        GradCase{"lif_no_spike_grad", false, SpikeFunction::kHeaviside},
        GradCase{"alif_no_spike_grad", true, SpikeFunction::kHeaviside},
        GradCase{"lif_sigmoid_spike", false, SpikeFunction::kSigmoid},
        GradCase{"alif_sigmoid_spike", true, SpikeFunction::kSigmoid}),
    [](const auto& info) { return info.param.name; });

TEST(LifModelTest, ParamCounts) {
  LifConfig c;
  c.num_input = 1278;  // NeuronIO
  EXPECT_EQ(LifParamCount(c), 1285);
  absl::StatusOr<LifModel<float>> lif = LifModel<float>::Create(c);
  ASSERT_TRUE(lif.ok()) << lif.status();
  EXPECT_EQ(lif->params().num_elements(), 1285);
  EXPECT_EQ(lif->params().num_trainable_elements(), 1285);
  EXPECT_EQ(lif->params().num_params(), 8);
  c.adaptive = true;
  EXPECT_EQ(LifParamCount(c), 1287);
  absl::StatusOr<LifModel<float>> alif = LifModel<float>::Create(c);
  ASSERT_TRUE(alif.ok()) << alif.status();
  EXPECT_EQ(alif->params().num_elements(), 1287);
  std::vector<std::string> names;
  for (const ParamInfo& info : alif->params().infos())
    names.push_back(info.name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "input.weight", "input.bias", "_proto_tau_mem",
                       "threshold", "_proto_tau_adapt", "adapt_strength",
                       "spike_readout.weight", "spike_readout.bias",
                       "soma_readout.weight", "soma_readout.bias"}));
  // Initial values.
  const LifModel<float>::ParamIds& ids = alif->ids();
  EXPECT_NEAR(alif->tau_mem(), 20.0, 1e-4);
  EXPECT_NEAR(alif->tau_adapt(), 200.0, 1e-3);
  EXPECT_EQ(alif->params().value(ids.threshold)[0], 1.0f);
  EXPECT_EQ(alif->params().value(ids.adapt_strength)[0], 0.5f);
  const View<const float> w = alif->params().value(ids.input_weight);
  const float bound = 1 / std::sqrt(1278.0f);
  EXPECT_LE(*std::max_element(w.data, w.data + w.size()), bound);
  EXPECT_GE(*std::min_element(w.data, w.data + w.size()), -bound);
  EXPECT_EQ(lif->tau_adapt(), 0.0);
}

TEST(LifModelTest, ConfigErrorsNameTheField) {
  auto message = [](const LifConfig& c) {
    return std::string(ValidateLifConfig(c).message());
  };
  LifConfig good;
  good.num_input = 3;
  EXPECT_TRUE(ValidateLifConfig(good).ok());
  LifConfig c = good;
  c.num_input = 0;
  EXPECT_EQ(message(c), "lif config: num_input = 0; expected >= 1");
  c = good;
  c.tau_mem_init = 500;
  EXPECT_EQ(message(c),
            "lif config: tau_mem_init = 500; expected in (tau_mem_min, "
            "tau_mem_max) = (1, 200)");
  c = good;
  c.delta_t = 0;
  EXPECT_TRUE(absl::StrContains(message(c), "delta_t = 0"));
  c = good;
  c.surrogate_beta = -1;
  EXPECT_TRUE(absl::StrContains(message(c), "surrogate_beta = -1"));
  c = good;
  c.tau_mem_max = 0.5;
  EXPECT_TRUE(absl::StrContains(message(c), "tau_mem_max = 0.5"));
  c = good;
  c.threshold_init = NAN;
  EXPECT_TRUE(absl::StrContains(message(c), "threshold_init = nan"));
  // The adaptation fields matter only for ALIF.
  c = good;
  c.tau_adapt_min = 0;
  EXPECT_TRUE(ValidateLifConfig(c).ok());
  c.adaptive = true;
  EXPECT_TRUE(absl::StrContains(message(c), "tau_adapt_min = 0"));
  EXPECT_FALSE(LifModel<double>::Create(c).ok());
}

// A student LIF learns a teacher LIF's spike train and membrane: the NeuronIO
// loss falls to under half its initial value within 300 Adam steps (0.39 →
// 0.15), its spike part (BCE) to under 0.6 of it (0.42 → 0.21).
TEST(LifModelTest, LearnsATeachersSpikeTrain) {
  const int N = 16, B = 4, T = 150, R = B * T;
  LifConfig c;
  c.num_input = N;
  c.tau_mem_init = 10;
  absl::StatusOr<LifModel<double>> teacher = LifModel<double>::Create(c, 1);
  ASSERT_TRUE(teacher.ok());
  Rng rng(2);
  FillUniform(teacher->params().value(teacher->ids().input_weight), 0.0, 1.2,
              rng);
  Tensor<double> x(R, N);
  for (int i = 0; i < x.size(); ++i) x[i] = rng.Bernoulli(0.15) ? 1 : 0;
  Tensor<double> spike(R, 1), soma(R, 1);
  {
    Tape<double> tape;
    LifModel<double>::Outputs out =
        teacher->Unroll(tape, tape.Constant(x.view()), T, nullptr);
    for (int r = 0; r < R; ++r) {
      spike[r] = out.trace.spikes.value[r];
      soma[r] = out.y.value[2 * r + 1];
    }
  }
  double rate = 0;
  for (int r = 0; r < R; ++r) rate += spike[r] / R;
  ASSERT_GT(rate, 0.02);
  ASSERT_LT(rate, 0.5);

  c.tau_mem_init = 30;  // the student starts with another time constant
  absl::StatusOr<LifModel<double>> student = LifModel<double>::Create(c, 5);
  ASSERT_TRUE(student.ok());
  GradBlock<double> grads(student->params());
  Adam<double> adam(/*lr=*/0.03);
  Tape<double> tape;
  // The loss and its spike part (the BCE of the logit), before and after.
  double loss_first = 0, loss_last = 0, bce_first = 0, bce_last = 0;
  const int kSteps = 300;
  for (int step = 0; step <= kSteps; ++step) {
    tape.Reset();
    LifModel<double>::Outputs out = student->Unroll(
        tape, tape.Constant(x.view()), T, step < kSteps ? &grads : nullptr);
    const Var<double> spike_v = tape.Constant(spike.view());
    Var<double> loss =
        NeuronioLoss(tape, out.y, spike_v, tape.Constant(soma.view()));
    const double bce =
        BceWithLogits(tape, SliceCols(tape, out.y, 0, 1), spike_v).scalar();
    if (step == 0) {
      loss_first = loss.scalar();
      bce_first = bce;
    }
    loss_last = loss.scalar();
    bce_last = bce;
    if (step == kSteps) break;
    tape.Backward(loss);
    adam.Step(student->params().data(), grads.data(),
              student->params().num_trainable_elements());
    grads.Zero();
  }
  EXPECT_LT(loss_last, 0.5 * loss_first)
      << "loss " << loss_first << " -> " << loss_last;
  EXPECT_LT(bce_last, 0.6 * bce_first)
      << "spike BCE " << bce_first << " -> " << bce_last;
}

// The float instantiation runs forward and backward to finite gradients.
TEST(LifModelTest, FloatUnrollAndBackward) {
  LifConfig c;
  c.num_input = 10;
  c.adaptive = true;
  absl::StatusOr<LifModel<float>> m = LifModel<float>::Create(c, 3);
  ASSERT_TRUE(m.ok());
  const int B = 2, T = 50;
  Rng rng(1);
  std::vector<float> x(B * T * 10);
  for (float& v : x) v = rng.Bernoulli(0.3) ? 1.0f : 0.0f;
  GradBlock<float> grads(m->params());
  Tape<float> tape;
  LifModel<float>::Outputs out =
      m->Unroll(tape, tape.Constant(x.data(), B * T, 10), T, &grads);
  ASSERT_EQ(out.y.rows, B * T);
  ASSERT_EQ(out.y.cols, 2);
  tape.Backward(SumAll(tape, Mul(tape, out.y, out.y)));
  EXPECT_GT(grads.SquaredNorm(), 0);
  EXPECT_TRUE(std::isfinite(grads.SquaredNorm()));
}

}  // namespace
}  // namespace elm
