// The two-layer MLP example: see mlp_example.h.
#include "autodiff/mlp_example.h"

#include <cmath>
#include <memory>

#include "autodiff/ops.h"
#include "autodiff/optimizer.h"
#include "autodiff/params.h"
#include "autodiff/tape.h"
#include "glog/logging.h"

namespace elm {
namespace {

double Target(double x0, double x1) {
  return std::sin(2 * x0) * std::cos(x1) + 0.5 * x0 * x1;
}

// Fills x [n, 2] uniform in [-1.5, 1.5]² and y [n, 1] with the target function.
void Sample(int n, Rng& rng, std::vector<float>& x, std::vector<float>& y) {
  x.resize(2 * n);
  y.resize(n);
  for (int i = 0; i < n; ++i) {
    const double x0 = rng.Uniform(-1.5, 1.5), x1 = rng.Uniform(-1.5, 1.5);
    x[2 * i] = static_cast<float>(x0);
    x[2 * i + 1] = static_cast<float>(x1);
    y[i] = static_cast<float>(Target(x0, x1));
  }
}

struct Mlp {
  ParamSet<float> params;
  int w1, b1, w2, b2;

  explicit Mlp(int hidden, Rng& rng) {
    w1 = params.Add("w1", hidden, 2);  // PyTorch Linear layout [out, in]
    b1 = params.Add("b1", 1, hidden);
    w2 = params.Add("w2", 1, hidden);
    b2 = params.Add("b2", 1, 1);
    // PyTorch's default Linear init: U(−1/√in, 1/√in) for weights and biases.
    const double k1 = 1 / std::sqrt(2.0),
                 k2 = 1 / std::sqrt(static_cast<double>(hidden));
    FillUniform(params.value(w1), -k1, k1, rng);
    FillUniform(params.value(b1), -k1, k1, rng);
    FillUniform(params.value(w2), -k2, k2, rng);
    FillUniform(params.value(b2), -k2, k2, rng);
  }

  // The mean squared error on (x, y); gradients go to `grads` when it is not
  // null.
  Var<float> Loss(Tape<float>& tape, const std::vector<float>& x,
                  const std::vector<float>& y, GradBlock<float>* grads) {
    const int64_t n = static_cast<int64_t>(y.size());
    Var<float> in = tape.Constant(x.data(), n, 2);  // [n, 2]
    Var<float> h =
        Tanh(tape, Linear(tape, in, params.OnTape(tape, w1, grads),  // [n, H]
                          params.OnTape(tape, b1, grads)));
    Var<float> out = Linear(tape, h, params.OnTape(tape, w2, grads),  // [n, 1]
                            params.OnTape(tape, b2, grads));
    return Mse(tape, out, tape.Constant(y.data(), n, 1));
  }
};

}  // namespace

MlpExampleResult TrainMlpExample(const MlpExampleOptions& options) {
  Rng rng(options.seed);
  Mlp mlp(options.hidden, rng);
  GradBlock<float> grads(mlp.params);
  Adam<float> adam(options.lr);
  Tape<float> tape;

  std::vector<float> test_x, test_y, x, y;
  Sample(1024, rng, test_x, test_y);
  MlpExampleResult result;
  result.initial_test_loss = mlp.Loss(tape, test_x, test_y, nullptr).scalar();

  for (int step = 0; step < options.steps; ++step) {
    tape.Reset();  // reuse the arena: no allocation after the first step
    Sample(options.batch, rng, x, y);
    Var<float> loss = mlp.Loss(tape, x, y, &grads);
    tape.Backward(loss);  // accumulates into `grads`
    adam.Step(mlp.params.data(), grads.data(), mlp.params.num_elements());
    grads.Zero();
    result.losses.push_back(loss.scalar());
    if (options.on_step) options.on_step(step, loss.scalar());
  }
  tape.Reset();
  result.final_test_loss = mlp.Loss(tape, test_x, test_y, nullptr).scalar();
  return result;
}

}  // namespace elm
