// Implementation of the optimizers in optimizer.h. Every update follows
// PyTorch 1.13's single-tensor code (torch/optim/{sgd,adam,adamw,adamax}.py)
// operation by operation, in double:
//   a.add_(b, alpha=s)         -> fma(s, b, a), as torch's vectorized kernel;
//   a.addcmul_(b, c, value=s)  -> a + s * b * c, left to right, not fused;
//   a.addcdiv_(b, c, value=s)  -> a + s * b / c, left to right, not fused.
#include "autodiff/optimizer.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace elm {
namespace {

absl::Status FieldError(absl::string_view field, double value,
                        absl::string_view expected) {
  return absl::InvalidArgumentError(absl::StrCat(
      "optimizer config: ", field, " = ", value, "; expected ", expected));
}

absl::Status CheckNonNegative(absl::string_view field, double value) {
  if (!(std::isfinite(value) && value >= 0.0)) {
    return FieldError(field, value, "a finite value >= 0");
  }
  return absl::OkStatus();
}

absl::Status CheckBeta(absl::string_view field, double value) {
  if (!(value >= 0.0 && value < 1.0)) {
    return FieldError(field, value, "a value in [0, 1)");
  }
  return absl::OkStatus();
}

// torch's `a.add(b, alpha=s)`. Its vectorized CPU kernel (AVX2 and up) computes
// fmadd(b, s, a), a fused multiply-add, so this does too; the golden traces
// were made that way.
inline double AddScaled(double a, double s, double b) {
  return std::fma(s, b, a);
}

// PyTorch's amax: NaN wins.
double NanMax(double a, double b) {
  if (std::isnan(a)) return a;
  if (std::isnan(b)) return b;
  return a > b ? a : b;
}

}  // namespace

absl::string_view OptimizerKindName(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSgd:
      return "sgd";
    case OptimizerKind::kAdam:
      return "adam";
    case OptimizerKind::kAdamW:
      return "adamw";
    case OptimizerKind::kAdamax:
      return "adamax";
  }
  return "unknown";
}

absl::StatusOr<OptimizerKind> ParseOptimizerKind(absl::string_view name) {
  for (OptimizerKind kind : {OptimizerKind::kSgd, OptimizerKind::kAdam,
                             OptimizerKind::kAdamW, OptimizerKind::kAdamax}) {
    if (name == OptimizerKindName(kind)) return kind;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("optimizer config: kind = '", name,
                   "'; expected sgd, adam, adamw or adamax"));
}

absl::Status ValidateOptimizerConfig(const OptimizerConfig& config) {
  switch (config.kind) {
    case OptimizerKind::kSgd:
    case OptimizerKind::kAdam:
    case OptimizerKind::kAdamW:
    case OptimizerKind::kAdamax:
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "optimizer config: kind = ", static_cast<int>(config.kind),
          "; expected a known kind"));
  }
  if (auto s = CheckNonNegative("lr", config.lr); !s.ok()) return s;
  if (auto s = CheckBeta("beta1", config.beta1); !s.ok()) return s;
  if (auto s = CheckBeta("beta2", config.beta2); !s.ok()) return s;
  if (auto s = CheckNonNegative("eps", config.eps); !s.ok()) return s;
  if (auto s = CheckNonNegative("weight_decay", config.weight_decay); !s.ok()) {
    return s;
  }
  if (auto s = CheckNonNegative("momentum", config.momentum); !s.ok()) return s;
  if (!std::isfinite(config.dampening)) {
    return FieldError("dampening", config.dampening, "a finite value");
  }
  if (config.kind == OptimizerKind::kSgd && config.nesterov &&
      (config.momentum <= 0.0 || config.dampening != 0.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "optimizer config: nesterov = true needs momentum > 0 and dampening "
        "== 0; got momentum = ",
        config.momentum, ", dampening = ", config.dampening));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Optimizer

template <typename T>
Optimizer<T>::Optimizer(double lr) : lr_(0.0) {
  set_lr(lr);
}

template <typename T>
Optimizer<T>::~Optimizer() = default;

template <typename T>
void Optimizer<T>::set_lr(double lr) {
  CHECK(std::isfinite(lr) && lr >= 0.0) << "bad learning rate " << lr;
  lr_ = lr;
}

template <typename T>
void Optimizer<T>::Step(T* params, const T* grads, size_t n) {
  if (step_count_ == 0) {
    size_ = n;
    InitState(n);
  }
  CHECK_EQ(n, size_) << "Step() on a different number of parameters than "
                        "the first Step()";
  CHECK(n == 0 || (params != nullptr && grads != nullptr));
  ++step_count_;
  Update(params, grads, n);
}

template <typename T>
void Optimizer<T>::Reset() {
  step_count_ = 0;
  size_ = 0;
  ClearState();
}

template <typename T>
std::vector<typename Optimizer<T>::ConstStateVector> Optimizer<T>::State()
    const {
  // MutableState() only hands out pointers; nothing is written through them
  // here, so casting away const is safe.
  std::vector<ConstStateVector> out;
  for (StateVector& s : const_cast<Optimizer*>(this)->MutableState()) {
    out.push_back({std::move(s.name), s.values});
  }
  return out;
}

template <typename T>
void Optimizer<T>::PrepareRestore(size_t n, int64_t step_count) {
  CHECK_GE(step_count, 0) << "PrepareRestore: negative step count";
  Reset();
  if (step_count == 0) return;
  size_ = n;
  step_count_ = step_count;
  InitState(n);
}

// ---------------------------------------------------------------------------
// Sgd

template <typename T>
Sgd<T>::Sgd(double lr, double momentum, double dampening, double weight_decay,
            bool nesterov)
    : Optimizer<T>(lr),
      momentum_(momentum),
      dampening_(dampening),
      weight_decay_(weight_decay),
      nesterov_(nesterov) {
  OptimizerConfig config;
  config.kind = OptimizerKind::kSgd;
  config.lr = lr;
  config.momentum = momentum;
  config.dampening = dampening;
  config.weight_decay = weight_decay;
  config.nesterov = nesterov;
  const absl::Status status = ValidateOptimizerConfig(config);
  CHECK(status.ok()) << status;
}

template <typename T>
void Sgd<T>::InitState(size_t n) {
  if (momentum_ != 0.0) buf_.assign(n, 0.0);
}

template <typename T>
std::vector<typename Optimizer<T>::StateVector> Sgd<T>::MutableState() {
  if (momentum_ == 0.0) return {};
  return {{"momentum_buffer", &buf_}};
}

template <typename T>
void Sgd<T>::ClearState() {
  buf_.clear();
}

template <typename T>
void Sgd<T>::Update(T* params, const T* grads, size_t n) {
  const double lr = this->lr();
  const bool first = this->step_count() == 1;
  DCHECK(momentum_ == 0.0 || buf_.size() == n) << "momentum_buffer resized";
  for (size_t i = 0; i < n; ++i) {
    const double p = params[i];
    double d_p = grads[i];
    if (weight_decay_ != 0.0) d_p = AddScaled(d_p, weight_decay_, p);
    if (momentum_ != 0.0) {
      double& buf = buf_[i];
      if (first) {
        buf = d_p;  // torch.clone(d_p)
      } else {
        buf = buf * momentum_;
        buf = AddScaled(buf, 1.0 - dampening_, d_p);
      }
      d_p = nesterov_ ? AddScaled(d_p, momentum_, buf) : buf;
    }
    params[i] = static_cast<T>(AddScaled(p, -lr, d_p));
  }
}

// CHECKs the settings of Adam, AdamW or Adamax (programmer errors: user input
// goes through MakeOptimizer).
static void CheckMomentOptimizer(OptimizerKind kind, double lr, double beta1,
                                 double beta2, double eps,
                                 double weight_decay) {
  OptimizerConfig config;
  config.kind = kind;
  config.lr = lr;
  config.beta1 = beta1;
  config.beta2 = beta2;
  config.eps = eps;
  config.weight_decay = weight_decay;
  const absl::Status status = ValidateOptimizerConfig(config);
  CHECK(status.ok()) << status;
}

// ---------------------------------------------------------------------------
// Adam / AdamW

template <typename T>
Adam<T>::Adam(double lr, double beta1, double beta2, double eps,
              double weight_decay, bool decoupled)
    : Optimizer<T>(lr),
      beta1_(beta1),
      beta2_(beta2),
      eps_(eps),
      weight_decay_(weight_decay),
      decoupled_(decoupled) {
  CheckMomentOptimizer(decoupled ? OptimizerKind::kAdamW : OptimizerKind::kAdam,
                       lr, beta1, beta2, eps, weight_decay);
}

template <typename T>
void Adam<T>::InitState(size_t n) {
  exp_avg_.assign(n, 0.0);
  exp_avg_sq_.assign(n, 0.0);
}

template <typename T>
std::vector<typename Optimizer<T>::StateVector> Adam<T>::MutableState() {
  return {{"exp_avg", &exp_avg_}, {"exp_avg_sq", &exp_avg_sq_}};
}

template <typename T>
void Adam<T>::ClearState() {
  exp_avg_.clear();
  exp_avg_sq_.clear();
}

template <typename T>
void Adam<T>::Update(T* params, const T* grads, size_t n) {
  const double lr = this->lr();
  const double step = static_cast<double>(this->step_count());
  const double bias_correction1 = 1.0 - std::pow(beta1_, step);
  const double bias_correction2 = 1.0 - std::pow(beta2_, step);
  const double step_size = lr / bias_correction1;
  const double bias_correction2_sqrt = std::sqrt(bias_correction2);
  DCHECK(exp_avg_.size() == n && exp_avg_sq_.size() == n)
      << "Adam state resized";
  // The settings as locals and the state as restrict pointers, so that the
  // loops vectorise (a store through a double& could otherwise change a
  // member).
  const double beta1 = beta1_, beta2 = beta2_, eps = eps_;
  const double weight_decay = weight_decay_;
  const double decay = 1.0 - lr * weight_decay;  // AdamW only
  double* __restrict exp_avg = exp_avg_.data();
  double* __restrict exp_avg_sq = exp_avg_sq_.data();
  auto update = [&](size_t i, double p, double grad) {
    double m = exp_avg[i] * beta1;
    m = AddScaled(m, 1.0 - beta1, grad);
    double v = exp_avg_sq[i] * beta2;
    v = v + (1.0 - beta2) * grad * grad;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    const double denom = std::sqrt(v) / bias_correction2_sqrt + eps;
    params[i] = static_cast<T>(p + (-step_size) * m / denom);
  };
  if (decoupled_) {
    for (size_t i = 0; i < n; ++i) update(i, params[i] * decay, grads[i]);
  } else if (weight_decay != 0.0) {
    for (size_t i = 0; i < n; ++i) {
      const double p = params[i];
      update(i, p, AddScaled(grads[i], weight_decay, p));
    }
  } else {
    for (size_t i = 0; i < n; ++i) update(i, params[i], grads[i]);
  }
}

// ---------------------------------------------------------------------------
// Adamax

template <typename T>
Adamax<T>::Adamax(double lr, double beta1, double beta2, double eps,
                  double weight_decay)
    : Optimizer<T>(lr),
      beta1_(beta1),
      beta2_(beta2),
      eps_(eps),
      weight_decay_(weight_decay) {
  CheckMomentOptimizer(OptimizerKind::kAdamax, lr, beta1, beta2, eps,
                       weight_decay);
}

template <typename T>
void Adamax<T>::InitState(size_t n) {
  exp_avg_.assign(n, 0.0);
  exp_inf_.assign(n, 0.0);
}

template <typename T>
std::vector<typename Optimizer<T>::StateVector> Adamax<T>::MutableState() {
  return {{"exp_avg", &exp_avg_}, {"exp_inf", &exp_inf_}};
}

template <typename T>
void Adamax<T>::ClearState() {
  exp_avg_.clear();
  exp_inf_.clear();
}

template <typename T>
void Adamax<T>::Update(T* params, const T* grads, size_t n) {
  const double step = static_cast<double>(this->step_count());
  const double bias_correction = 1.0 - std::pow(beta1_, step);
  const double clr = this->lr() / bias_correction;
  DCHECK(exp_avg_.size() == n && exp_inf_.size() == n)
      << "Adamax state resized";
  // Locals and restrict pointers so that the loop vectorises (as in Adam).
  const double beta1 = beta1_, beta2 = beta2_, eps = eps_;
  const double weight_decay = weight_decay_;
  double* __restrict exp_avg = exp_avg_.data();
  double* __restrict exp_inf = exp_inf_.data();
  for (size_t i = 0; i < n; ++i) {
    const double p = params[i];
    double grad = grads[i];
    if (weight_decay != 0.0) grad = AddScaled(grad, weight_decay, p);
    double m = exp_avg[i] * beta1;
    m = AddScaled(m, 1.0 - beta1, grad);
    const double u = NanMax(exp_inf[i] * beta2, std::fabs(grad) + eps);
    exp_avg[i] = m;
    exp_inf[i] = u;
    params[i] = static_cast<T>(p + (-clr) * m / u);
  }
}

// ---------------------------------------------------------------------------
// Factory

template <typename T>
absl::StatusOr<std::unique_ptr<Optimizer<T>>> MakeOptimizer(
    const OptimizerConfig& config) {
  if (absl::Status status = ValidateOptimizerConfig(config); !status.ok()) {
    return status;
  }
  switch (config.kind) {
    case OptimizerKind::kSgd:
      return std::unique_ptr<Optimizer<T>>(
          new Sgd<T>(config.lr, config.momentum, config.dampening,
                     config.weight_decay, config.nesterov));
    case OptimizerKind::kAdam:
      return std::unique_ptr<Optimizer<T>>(new Adam<T>(config.lr, config.beta1,
                                                       config.beta2, config.eps,
                                                       config.weight_decay));
    case OptimizerKind::kAdamW:
      return std::unique_ptr<Optimizer<T>>(
          new AdamW<T>(config.lr, config.beta1, config.beta2, config.eps,
                       config.weight_decay));
    case OptimizerKind::kAdamax:
      return std::unique_ptr<Optimizer<T>>(
          new Adamax<T>(config.lr, config.beta1, config.beta2, config.eps,
                        config.weight_decay));
  }
  return absl::InvalidArgumentError("optimizer config: unknown kind");
}

template class Optimizer<float>;
template class Optimizer<double>;
template class Sgd<float>;
template class Sgd<double>;
template class Adam<float>;
template class Adam<double>;
template class AdamW<float>;
template class AdamW<double>;
template class Adamax<float>;
template class Adamax<double>;
template absl::StatusOr<std::unique_ptr<Optimizer<float>>> MakeOptimizer<float>(
    const OptimizerConfig& config);
template absl::StatusOr<std::unique_ptr<Optimizer<double>>>
MakeOptimizer<double>(const OptimizerConfig& config);

}  // namespace elm
