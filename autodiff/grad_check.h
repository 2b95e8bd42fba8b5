// Gradient checking for tests in any package: compares analytic gradients with
// central differences in double. Tensors up to `max_full_elements` are checked
// element by element,
//     ∂L/∂x_i ≈ (L(x + h e_i) − L(x − h e_i)) / 2h,
//     h = relative_step · max(1, |x_i|);
// larger ones along `num_directions` random unit directions u (⟨∇L, u⟩ against
// the two-point difference along u), which costs O(1) evaluations instead of
// O(n). An element passes when |analytic − numeric| ≤ atol + rtol ·
// max(|analytic|, |numeric|). Instantiate your model for double to check it.
//
// Three entry points:
//  * CheckGradients: any model. `eval(with_grad)` returns the loss at the
//    current values of the inputs and, when with_grad, writes dL/dx into each
//    input's `grad` view (zeroed first by the checker). Inputs are views into
//    your own storage (e.g. a ParamSet and a GradBlock), and are perturbed in
//    place and restored.
//  * CheckTapeGradients: a function of tape Vars. `f(tape, leaves)` builds a
//    scalar loss from leaves made over the given tensors.
//  * CheckOpGradients: the same for an op of any output shape, using
//    L = Σ w ⊙ f(x) with fixed random weights w.
//
// Example, an op:
//   std::vector<Tensor<double>> in = {RandomTensor(3, 4, rng)};
//   GradCheckResult r = CheckOpGradients(
//       [](Tape<double>& t, absl::Span<const Var<double>> x) {
//         return Tanh(t, x[0]);
//       },
//       in);
//   EXPECT_TRUE(r.ok) << r.message;
//
// Example, a whole model (parameters in a ParamSet<double>, input x [R, D]):
//   GradBlock<double> grads(model.params());
//   Tensor<double> x_grad(R, D);
//   auto eval = [&](bool with_grad) {
//     Tape<double> tape;
//     Var<double> xv = tape.External(
//         x.data(), with_grad ? x_grad.data() : nullptr, R, D);
//     Var<double> y =
//         model.Forward(tape, xv, steps, with_grad ? &grads : nullptr);
//     Var<double> loss = SumAll(tape, Mul(tape, y, y));
//     if (with_grad) tape.Backward(loss);
//     return loss.scalar();
//   };
//   std::vector<GradCheckInput> inputs = {{"x", x.view(), x_grad.view()}};
//   for (int id = 0; id < model.params().num_params(); ++id)
//     inputs.push_back({model.params().info(id).name, model.params().value(id),
//                       grads.view(id)});
//   EXPECT_TRUE(CheckGradients(eval, inputs).ok);
#ifndef ELM_AUTODIFF_GRAD_CHECK_H_
#define ELM_AUTODIFF_GRAD_CHECK_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "autodiff/tape.h"
#include "autodiff/tensor.h"
#include "base/rng.h"

namespace elm {

struct GradCheckOptions {
  double relative_step = 1e-6;
  double atol = 1e-7;
  double rtol = 1e-6;
  int64_t max_full_elements = 4096;  // larger tensors use random directions
  int num_directions = 4;
  uint64_t seed = 1;
};

struct GradCheckInput {
  std::string name;
  View<double> value;
  View<double> grad;  // same shape; filled by eval(true)
};

struct GradCheckResult {
  bool ok = true;
  int64_t num_checked = 0;   // elements and directions compared
  double max_abs_error = 0;  // over everything compared
  double max_rel_error = 0;  // |a − n| / max(|a|, |n|, tiny)
  std::string message;       // the first failures, one per line
};

GradCheckResult CheckGradients(
    const std::function<double(bool with_grad)>& eval,
    absl::Span<const GradCheckInput> inputs,
    const GradCheckOptions& options = {});

using TapeLossFn = std::function<Var<double>(
    Tape<double>& tape, absl::Span<const Var<double>> leaves)>;

// Checks dL/d(input) for L = f(tape, leaves), f returning a [1, 1] Var.
GradCheckResult CheckTapeGradients(const TapeLossFn& f,
                                   std::vector<Tensor<double>>& inputs,
                                   const GradCheckOptions& options = {});

// Checks the vector-Jacobian product of an op: L = Σ w ⊙ f(tape, leaves) with
// fixed random w ~ U[−1, 1] (seeded by options.seed), for f of any output
// shape.
GradCheckResult CheckOpGradients(const TapeLossFn& f,
                                 std::vector<Tensor<double>>& inputs,
                                 const GradCheckOptions& options = {});

// A [rows, cols] tensor with entries uniform in [lo, hi).
Tensor<double> RandomTensor(int64_t rows, int64_t cols, Rng& rng,
                            double lo = -1.0, double hi = 1.0);

}  // namespace elm

#endif  // ELM_AUTODIFF_GRAD_CHECK_H_
