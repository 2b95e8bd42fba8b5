// First-order optimizers over one flat, contiguous parameter block (the layout
// of a model's parameter, gradient and moment blocks): SGD (momentum,
// dampening, Nesterov, L2 weight decay), Adam (L2 weight decay), AdamW
// (decoupled weight decay) and Adamax. Each reproduces the single-tensor
// (for-loop) implementation of PyTorch 1.13's torch.optim step by step,
// including its bias corrections, the order of its floating-point operations
// and the fused multiply-adds of its vectorized `add(alpha=)` kernel, so a
// float64 run matches a PyTorch float64 trace (the golden traces bit for bit).
// The state (moments, momentum buffer) is kept in double and all arithmetic is
// done in double, also for float parameters, which are rounded once per step
// when written back. The learning rate is set from outside (see lr_schedule.h)
// before each Step(). OptimizerConfig plus MakeOptimizer() build one from user
// settings, validating them with a Status that names the bad field. For
// checkpoints, State()/MutableState() expose the state vectors by name and
// PrepareRestore() sizes them, so that a restored optimizer continues bit for
// bit as if training had never stopped.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<Optimizer<float>> opt,
//                    MakeOptimizer<float>(config));
//   for (...) {
//     opt->set_lr(schedule.lr());
//     opt->Step(params.data(), grads.data(), params.num_trainable_elements());
//     schedule.Step();
//   }
#ifndef ELM_AUTODIFF_OPTIMIZER_H_
#define ELM_AUTODIFF_OPTIMIZER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace elm {

enum class OptimizerKind { kSgd, kAdam, kAdamW, kAdamax };

// "sgd", "adam", "adamw" or "adamax".
absl::string_view OptimizerKindName(OptimizerKind kind);
// The inverse of OptimizerKindName (case-sensitive); InvalidArgument otherwise.
absl::StatusOr<OptimizerKind> ParseOptimizerKind(absl::string_view name);

// User-facing optimizer settings, with PyTorch's names. Fields that a kind does
// not use are ignored by it (but must still be finite).
struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::kAdam;
  double lr = 1e-3;      // >= 0
  double beta1 = 0.9;    // Adam, AdamW, Adamax: in [0, 1)
  double beta2 = 0.999;  // Adam, AdamW, Adamax: in [0, 1)
  double eps = 1e-8;     // Adam, AdamW, Adamax: >= 0
  // >= 0. Adam, Adamax, SGD: L2, added to the gradient; AdamW: decoupled.
  double weight_decay = 0.0;
  double momentum = 0.0;   // SGD: >= 0
  double dampening = 0.0;  // SGD
  bool nesterov = false;   // SGD: needs momentum > 0 and dampening == 0
};

// OK, or InvalidArgument naming the first bad field, e.g.
// "optimizer config: lr = -1; expected a finite value >= 0".
absl::Status ValidateOptimizerConfig(const OptimizerConfig& config);

// Base class. T is float or double (explicitly instantiated for both).
template <typename T>
class Optimizer {
 public:
  virtual ~Optimizer();

  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Applies one update to params[0, n) given grads[0, n). The state is sized on
  // the first call; every later call must pass the same n (CHECK). params and
  // grads must not overlap.
  void Step(T* params, const T* grads, size_t n);

  // The learning rate used by the next Step(). set_lr CHECKs that lr is finite
  // and >= 0.
  double lr() const { return lr_; }
  void set_lr(double lr);

  // Number of Step() calls so far (PyTorch's state['step']).
  int64_t step_count() const { return step_count_; }
  // The n of the first Step(), or 0 before it.
  size_t size() const { return size_; }

  // Forgets the state (moments, buffers, step count); the learning rate is
  // kept.
  void Reset();

  // Which algorithm this is (AdamW for an Adam with decoupled weight decay).
  virtual OptimizerKind kind() const = 0;

  // One named state vector (moments, buffers), for checkpoints.
  struct StateVector {
    std::string name;
    std::vector<double>* values;
  };
  struct ConstStateVector {
    std::string name;
    const std::vector<double>* values;
  };

  // The state vectors, always the same names in the same order for a given
  // kind and settings: SGD "momentum_buffer" (none when momentum == 0),
  // Adam/AdamW "exp_avg", "exp_avg_sq", Adamax "exp_avg", "exp_inf". Each is
  // empty while step_count() == 0 and holds size() values after. Together with
  // step_count() (and lr(), which a schedule usually sets) they are the whole
  // state. To restore a saved state: PrepareRestore(n, saved_step_count), then
  // copy each saved vector over the one of the same name, keeping its size.
  virtual std::vector<StateVector> MutableState() = 0;
  std::vector<ConstStateVector> State() const;

  // Readies the optimizer for a restore: forgets the current state, then, when
  // step_count > 0, sets size() = n and step_count() = step_count and sizes
  // every state vector to n zeros; with step_count == 0 it is Reset() (the
  // vectors are empty and the next Step() starts afresh). After the saved
  // vectors are copied in, the next Step() continues exactly where the saved
  // optimizer would have (e.g. SGD copies the gradient into its momentum buffer
  // only on step 1). CHECKs step_count >= 0.
  void PrepareRestore(size_t n, int64_t step_count);

 protected:
  explicit Optimizer(double lr);

  // Sizes the state for n parameters; called once, by the first Step().
  virtual void InitState(size_t n) = 0;
  // Clears the state vectors.
  virtual void ClearState() = 0;
  // The update itself. step_count() already counts this step.
  virtual void Update(T* params, const T* grads, size_t n) = 0;

 private:
  double lr_;
  int64_t step_count_ = 0;
  size_t size_ = 0;
};

// torch.optim.SGD (1.13): with g = grad + weight_decay * p,
//   buf = g on the first step, else buf = momentum * buf + (1 - dampening) * g;
//   d = nesterov ? g + momentum * buf : buf   (d = g when momentum == 0);
//   p = p - lr * d.
template <typename T>
class Sgd : public Optimizer<T> {
 public:
  // CHECKs the values (use MakeOptimizer for user input).
  Sgd(double lr, double momentum = 0.0, double dampening = 0.0,
      double weight_decay = 0.0, bool nesterov = false);

  // Empty when momentum == 0 or before the first step.
  const std::vector<double>& momentum_buffer() const { return buf_; }

  OptimizerKind kind() const override { return OptimizerKind::kSgd; }
  std::vector<typename Optimizer<T>::StateVector> MutableState() override;

 protected:
  void InitState(size_t n) override;
  void ClearState() override;
  void Update(T* params, const T* grads, size_t n) override;

 private:
  double momentum_;
  double dampening_;
  double weight_decay_;
  bool nesterov_;
  std::vector<double> buf_;
};

// torch.optim.Adam (1.13, amsgrad=False, maximize=False):
//   g = grad + weight_decay * p;
//   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g;
//   bc1 = 1 - beta1^t;  bc2 = 1 - beta2^t;  step_size = lr / bc1;
//   denom = sqrt(v) / sqrt(bc2) + eps;  p = p - step_size * m / denom.
// With decoupled = true it is torch.optim.AdamW: first
// p = p * (1 - lr * weight_decay), and the gradient is used as is.
template <typename T>
class Adam : public Optimizer<T> {
 public:
  // CHECKs the values (use MakeOptimizer for user input).
  Adam(double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
       double weight_decay = 0.0, bool decoupled = false);

  const std::vector<double>& exp_avg() const { return exp_avg_; }
  const std::vector<double>& exp_avg_sq() const { return exp_avg_sq_; }

  OptimizerKind kind() const override {
    return decoupled_ ? OptimizerKind::kAdamW : OptimizerKind::kAdam;
  }
  std::vector<typename Optimizer<T>::StateVector> MutableState() override;

 protected:
  void InitState(size_t n) override;
  void ClearState() override;
  void Update(T* params, const T* grads, size_t n) override;

 private:
  double beta1_;
  double beta2_;
  double eps_;
  double weight_decay_;
  bool decoupled_;
  std::vector<double> exp_avg_;
  std::vector<double> exp_avg_sq_;
};

// torch.optim.AdamW (1.13): Adam with decoupled weight decay.
template <typename T>
class AdamW : public Adam<T> {
 public:
  AdamW(double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 1e-2)
      : Adam<T>(lr, beta1, beta2, eps, weight_decay, /*decoupled=*/true) {}
};

// torch.optim.Adamax (1.13):
//   g = grad + weight_decay * p;  m = beta1 * m + (1 - beta1) * g;
//   u = max(beta2 * u, |g| + eps)  (a NaN propagates, as in torch.amax);
//   clr = lr / (1 - beta1^t);  p = p - clr * m / u.
template <typename T>
class Adamax : public Optimizer<T> {
 public:
  // CHECKs the values (use MakeOptimizer for user input).
  Adamax(double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
         double weight_decay = 0.0);

  const std::vector<double>& exp_avg() const { return exp_avg_; }
  const std::vector<double>& exp_inf() const { return exp_inf_; }

  OptimizerKind kind() const override { return OptimizerKind::kAdamax; }
  std::vector<typename Optimizer<T>::StateVector> MutableState() override;

 protected:
  void InitState(size_t n) override;
  void ClearState() override;
  void Update(T* params, const T* grads, size_t n) override;

 private:
  double beta1_;
  double beta2_;
  double eps_;
  double weight_decay_;
  std::vector<double> exp_avg_;
  std::vector<double> exp_inf_;
};

// Validates `config` and builds the optimizer it describes.
template <typename T>
absl::StatusOr<std::unique_ptr<Optimizer<T>>> MakeOptimizer(
    const OptimizerConfig& config);

extern template class Optimizer<float>;
extern template class Optimizer<double>;
extern template class Sgd<float>;
extern template class Sgd<double>;
extern template class Adam<float>;
extern template class Adam<double>;
extern template class AdamW<float>;
extern template class AdamW<double>;
extern template class Adamax<float>;
extern template class Adamax<double>;
extern template absl::StatusOr<std::unique_ptr<Optimizer<float>>>
MakeOptimizer<float>(const OptimizerConfig& config);
extern template absl::StatusOr<std::unique_ptr<Optimizer<double>>>
MakeOptimizer<double>(const OptimizerConfig& config);

}  // namespace elm

#endif  // ELM_AUTODIFF_OPTIMIZER_H_
