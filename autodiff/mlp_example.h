// A complete, small use of the autodiff library: a two-layer MLP (tanh hidden
// layer) fitted to a nonlinear function of two inputs, y = sin(2·x₀)·cos(x₁) +
// 0.5·x₀·x₁, with the MSE loss and Adam. It is the README's worked example, the
// `bazel run //autodiff:train_mlp` demo, and the library's end-to-end training
// test. Deterministic for a given seed.
#ifndef ELM_AUTODIFF_MLP_EXAMPLE_H_
#define ELM_AUTODIFF_MLP_EXAMPLE_H_

#include <cstdint>
#include <functional>
#include <vector>

namespace elm {

struct MlpExampleOptions {
  int hidden = 32;
  int batch = 64;
  int steps = 600;
  double lr = 1e-2;
  uint64_t seed = 1;
  // Called after every step with (step, training loss); may be empty.
  std::function<void(int step, double loss)> on_step;
};

struct MlpExampleResult {
  std::vector<double> losses;  // training loss of every step
  double initial_test_loss = 0;
  double final_test_loss = 0;  // on 1024 fixed held-out points
};

MlpExampleResult TrainMlpExample(const MlpExampleOptions& options);

}  // namespace elm

#endif  // ELM_AUTODIFF_MLP_EXAMPLE_H_
