// Gradient checking: see grad_check.h.
#include "autodiff/grad_check.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "autodiff/ops.h"
#include "glog/logging.h"

namespace elm {
namespace {

constexpr int kMaxReportedFailures = 8;

// Records one comparison in `result`.
void Compare(double analytic, double numeric, double scale,
             const std::string& what, const GradCheckOptions& options,
             GradCheckResult& result, int& failures) {
  const double err = std::abs(analytic - numeric);
  const double denom =
      std::max({std::abs(analytic), std::abs(numeric), scale, 1e-300});
  result.num_checked++;
  result.max_abs_error = std::max(result.max_abs_error, err);
  result.max_rel_error = std::max(result.max_rel_error, err / denom);
  if (!(err <= options.atol + options.rtol * denom)) {  // also catches NaN
    result.ok = false;
    if (failures++ < kMaxReportedFailures) {
      absl::StrAppendFormat(&result.message,
                            "%s: analytic %.12g numeric %.12g (|diff| %.3g)\n",
                            what, analytic, numeric, err);
    }
  }
}

}  // namespace

GradCheckResult CheckGradients(
    const std::function<double(bool with_grad)>& eval,
    absl::Span<const GradCheckInput> inputs, const GradCheckOptions& options) {
  for (const GradCheckInput& in : inputs) {
    CHECK(in.value.rows == in.grad.rows && in.value.cols == in.grad.cols)
        << "grad view of " << in.name << " has another shape than its value";
    std::fill(in.grad.data, in.grad.data + in.grad.size(), 0.0);
  }
  eval(true);
  // Copy the analytic gradients: eval(false) may not touch them, but keep them
  // safe.
  std::vector<std::vector<double>> analytic;
  for (const GradCheckInput& in : inputs) {
    analytic.emplace_back(in.grad.data, in.grad.data + in.grad.size());
  }

  GradCheckResult result;
  int failures = 0;
  Rng rng(options.seed);
  for (size_t k = 0; k < inputs.size(); ++k) {
    const GradCheckInput& in = inputs[k];
    const std::vector<double>& g = analytic[k];
    double* x = in.value.data;
    const int64_t n = in.value.size();
    if (n <= options.max_full_elements) {
      for (int64_t i = 0; i < n; ++i) {
        const double x0 = x[i];
        const double h = options.relative_step * std::max(1.0, std::abs(x0));
        x[i] = x0 + h;
        const double lp = eval(false);
        x[i] = x0 - h;
        const double lm = eval(false);
        x[i] = x0;
        Compare(g[i], (lp - lm) / (2 * h), 0.0,
                absl::StrCat(in.name, "[", i / in.value.cols, ", ",
                             i % in.value.cols, "]"),
                options, result, failures);
      }
    } else {
      double max_abs_x = 0;
      for (int64_t i = 0; i < n; ++i)
        max_abs_x = std::max(max_abs_x, std::abs(x[i]));
      const double h = options.relative_step * std::max(1.0, max_abs_x);
      std::vector<double> x0(x, x + n);
      std::vector<double> u(n);
      for (int d = 0; d < options.num_directions; ++d) {
        double norm = 0;
        for (double& ui : u) {
          ui = rng.Normal();
          norm += ui * ui;
        }
        norm = std::sqrt(norm);
        double directional = 0, magnitude = 0;
        for (int64_t i = 0; i < n; ++i) {
          u[i] /= norm;
          directional += g[i] * u[i];
          magnitude += std::abs(g[i] * u[i]);
        }
        for (int64_t i = 0; i < n; ++i) x[i] = x0[i] + h * u[i];
        const double lp = eval(false);
        for (int64_t i = 0; i < n; ++i) x[i] = x0[i] - h * u[i];
        const double lm = eval(false);
        std::copy(x0.begin(), x0.end(), x);
        // Scale by Σ|g_i u_i| so that cancellation in ⟨g, u⟩ does not fail a
        // correct check.
        Compare(directional, (lp - lm) / (2 * h), magnitude,
                absl::StrCat(in.name, " direction ", d), options, result,
                failures);
      }
    }
  }
  if (failures > kMaxReportedFailures) {
    absl::StrAppend(&result.message, "... and ",
                    failures - kMaxReportedFailures, " more\n");
  }
  return result;
}

GradCheckResult CheckTapeGradients(const TapeLossFn& f,
                                   std::vector<Tensor<double>>& inputs,
                                   const GradCheckOptions& options) {
  std::vector<Tensor<double>> grads;
  std::vector<GradCheckInput> checks;
  grads.reserve(inputs.size());
  for (size_t k = 0; k < inputs.size(); ++k) {
    grads.emplace_back(inputs[k].rows(), inputs[k].cols());
  }
  for (size_t k = 0; k < inputs.size(); ++k) {
    checks.push_back(
        {absl::StrCat("input ", k), inputs[k].view(), grads[k].view()});
  }
  Tape<double> tape;
  std::vector<Var<double>> leaves(inputs.size());
  auto eval = [&](bool with_grad) {
    tape.Reset();
    for (size_t k = 0; k < inputs.size(); ++k) {
      leaves[k] =
          tape.External(inputs[k].data(), with_grad ? grads[k].data() : nullptr,
                        inputs[k].rows(), inputs[k].cols());
    }
    Var<double> loss = f(tape, leaves);
    CHECK_EQ(loss.size(), 1) << "the checked function must return a scalar";
    const double value = loss.value[0];
    if (with_grad && loss.needs_grad()) tape.Backward(loss);
    return value;
  };
  return CheckGradients(eval, checks, options);
}

GradCheckResult CheckOpGradients(const TapeLossFn& f,
                                 std::vector<Tensor<double>>& inputs,
                                 const GradCheckOptions& options) {
  std::vector<double> weights;
  auto weighted = [&](Tape<double>& tape,
                      absl::Span<const Var<double>> leaves) {
    Var<double> y = f(tape, leaves);
    if (static_cast<int64_t>(weights.size()) != y.size()) {
      Rng rng(options.seed ^ 0x5eed);
      weights.resize(y.size());
      for (double& w : weights) w = rng.Uniform(-1.0, 1.0);
    }
    Var<double> w = tape.Constant(weights.data(), y.rows, y.cols);
    return SumAll(tape, Mul(tape, y, w));
  };
  return CheckTapeGradients(weighted, inputs, options);
}

Tensor<double> RandomTensor(int64_t rows, int64_t cols, Rng& rng, double lo,
                            double hi) {
  Tensor<double> t(rows, cols);
  for (int64_t i = 0; i < t.size(); ++i) t[i] = rng.Uniform(lo, hi);
  return t;
}

}  // namespace elm
