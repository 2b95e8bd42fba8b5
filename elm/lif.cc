// The LIF / ALIF baselines: spike functions, the fused membrane recurrence and
// the model. See lif.h for the forward and adjoint equations.
#include "elm/lif.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "autodiff/kernels.h"
#include "autodiff/ops.h"
#include "base/rng.h"
#include "glog/logging.h"

namespace elm {
namespace {

// Everything the recurrence's backward needs (trivially copyable).
template <typename T>
struct LifSaved {
  int64_t batch, steps;
  SpikeFunction fn;
  T beta;
  Var<T> current, alpha, threshold, rho, gamma;  // rho, gamma empty for LIF
  Var<T> v, theta, spikes;                       // the outputs
  const T* adapt;                                // a_t [B·T] (ALIF) or null
};

template <typename T>
void LifBackward(const LifSaved<T>& s) {
  const int64_t B = s.batch, TT = s.steps;
  const bool adaptive = s.adapt != nullptr;
  const T alpha = s.alpha.value[0], vartheta = s.threshold.value[0];
  const T rho = adaptive ? s.rho.value[0] : T(0);
  const T gamma = adaptive ? s.gamma.value[0] : T(0);
  T alpha_bar = 0, threshold_bar = 0, rho_bar = 0, gamma_bar = 0;
  for (int64_t b = 0; b < B; ++b) {
    T v_next = 0, a_next = 0;  // V', A'
    for (int64_t t = TT - 1; t >= 0; --t) {
      const int64_t r = b * TT + t;
      const T u = s.v.value[r] - s.theta.value[r];
      const T spike_bar = s.spikes.grad[r] - vartheta * v_next + a_next;
      const T u_bar = spike_bar * SpikeGrad(s.fn, s.beta, u);
      const T v_bar = s.v.grad[r] + u_bar + alpha * v_next;
      const T theta_bar = s.theta.grad[r] - u_bar;
      const T v_prev = t > 0 ? s.v.value[r - 1] : T(0);
      const T s_prev = t > 0 ? s.spikes.value[r - 1] : T(0);
      if (s.current.grad != nullptr)
        s.current.grad[r] += (T(1) - alpha) * v_bar;
      alpha_bar += v_bar * (v_prev - s.current.value[r]);
      threshold_bar += theta_bar - v_bar * s_prev;
      v_next = v_bar;
      if (adaptive) {
        const T a_bar = gamma * theta_bar + rho * a_next;
        gamma_bar += theta_bar * s.adapt[r];
        if (t > 0) rho_bar += a_bar * s.adapt[r - 1];
        a_next = a_bar;
      }
    }
  }
  if (s.alpha.grad != nullptr) s.alpha.grad[0] += alpha_bar;
  if (s.threshold.grad != nullptr) s.threshold.grad[0] += threshold_bar;
  if (adaptive) {
    if (s.rho.grad != nullptr) s.rho.grad[0] += rho_bar;
    if (s.gamma.grad != nullptr) s.gamma.grad[0] += gamma_bar;
  }
}

// The sigmoid proto of τ ∈ (lo, hi): logit((τ − lo) / (hi − lo)).
double TauProto(double tau, double lo, double hi) {
  const double q = (tau - lo) / (hi - lo);
  return std::log(q / (1.0 - q));
}

double TauOf(double proto, double lo, double hi) {
  return lo + (hi - lo) / (1.0 + std::exp(-proto));
}

absl::Status CheckTauRange(const char* name, double init, double lo,
                           double hi) {
  if (!(std::isfinite(lo) && lo > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "lif config: ", name, "_min = ", lo, "; expected a finite value > 0"));
  }
  if (!(std::isfinite(hi) && hi > lo)) {
    return absl::InvalidArgumentError(
        absl::StrCat("lif config: ", name, "_max = ", hi,
                     "; expected a finite value > ", name, "_min = ", lo));
  }
  if (!(init > lo && init < hi)) {
    return absl::InvalidArgumentError(
        absl::StrCat("lif config: ", name, "_init = ", init, "; expected in (",
                     name, "_min, ", name, "_max) = (", lo, ", ", hi, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

template <typename T>
T FastSigmoidSurrogate(T beta, T u) {
  const T d = T(1) + beta * std::abs(u);
  return T(1) / (d * d);
}

template <typename T>
T SpikeValue(SpikeFunction fn, T beta, T u) {
  if (fn == SpikeFunction::kSigmoid) return StableSigmoid(beta * u);
  return u > T(0) ? T(1) : T(0);
}

template <typename T>
T SpikeGrad(SpikeFunction fn, T beta, T u) {
  switch (fn) {
    case SpikeFunction::kSurrogate:
      return FastSigmoidSurrogate(beta, u);
    case SpikeFunction::kHeaviside:
      return T(0);
    case SpikeFunction::kSigmoid: {
      const T s = StableSigmoid(beta * u);
      return beta * s * (T(1) - s);
    }
  }
  return T(0);
}

absl::Status ValidateLifConfig(const LifConfig& config) {
  if (config.num_input < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "lif config: num_input = ", config.num_input, "; expected >= 1"));
  }
  if (!(std::isfinite(config.delta_t) && config.delta_t > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("lif config: delta_t = ", config.delta_t,
                     "; expected a finite value > 0"));
  }
  if (absl::Status st = CheckTauRange("tau_mem", config.tau_mem_init,
                                      config.tau_mem_min, config.tau_mem_max);
      !st.ok()) {
    return st;
  }
  if (config.adaptive) {
    if (absl::Status st =
            CheckTauRange("tau_adapt", config.tau_adapt_init,
                          config.tau_adapt_min, config.tau_adapt_max);
        !st.ok()) {
      return st;
    }
    if (!std::isfinite(config.adapt_strength_init)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "lif config: adapt_strength_init = ", config.adapt_strength_init,
          "; expected a finite value"));
    }
  }
  if (!std::isfinite(config.threshold_init)) {
    return absl::InvalidArgumentError(
        absl::StrCat("lif config: threshold_init = ", config.threshold_init,
                     "; expected a finite value"));
  }
  if (!(std::isfinite(config.surrogate_beta) && config.surrogate_beta > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("lif config: surrogate_beta = ", config.surrogate_beta,
                     "; expected a finite value > 0"));
  }
  return absl::OkStatus();
}

int64_t LifParamCount(const LifConfig& config) {
  return config.num_input + (config.adaptive ? 9 : 7);
}

template <typename T>
LifTrace<T> LifRecurrence(Tape<T>& tape, Var<T> current, Var<T> alpha,
                          Var<T> threshold, Var<T> rho, Var<T> gamma,
                          int64_t steps, SpikeFunction fn, T beta) {
  for (const Var<T>& x : {current, alpha, threshold, rho, gamma}) {
    if (x.size() != 0) tape.CheckLive(x);  // rho, gamma: empty for LIF
  }
  CHECK_EQ(current.cols, 1) << "LifRecurrence: the current is [B·T, 1]";
  CHECK_GT(steps, 0);
  CHECK_EQ(current.rows % steps, 0)
      << "LifRecurrence: " << current.rows << " rows are not B·" << steps;
  CHECK_EQ(alpha.size(), 1);
  CHECK_EQ(threshold.size(), 1);
  const bool adaptive = rho.size() != 0;
  CHECK_EQ(gamma.size(), rho.size())
      << "LifRecurrence: give both rho and gamma (ALIF) or neither (LIF)";
  if (adaptive) CHECK_EQ(rho.size(), 1);
  const int64_t B = current.rows / steps, TT = steps, R = current.rows;
  const bool needs_grad = current.needs_grad() || alpha.needs_grad() ||
                          threshold.needs_grad() || rho.needs_grad() ||
                          gamma.needs_grad();
  LifTrace<T> out;
  out.v = tape.NewVar(R, 1, needs_grad);
  out.threshold = tape.NewVar(R, 1, needs_grad);
  out.spikes = tape.NewVar(R, 1, needs_grad);
  T* adapt = adaptive ? tape.arena().template AllocateArray<T>(R) : nullptr;
  const T a = alpha.value[0], vartheta = threshold.value[0];
  const T r_decay = adaptive ? rho.value[0] : T(0);
  const T g = adaptive ? gamma.value[0] : T(0);
  for (int64_t b = 0; b < B; ++b) {
    T v = 0, spike = 0, adapt_t = 0;
    for (int64_t t = 0; t < TT; ++t) {
      const int64_t r = b * TT + t;
      v = a * v + (T(1) - a) * current.value[r] - vartheta * spike;
      T theta = vartheta;
      if (adaptive) {
        adapt_t = r_decay * adapt_t + spike;
        adapt[r] = adapt_t;
        theta += g * adapt_t;
      }
      spike = SpikeValue(fn, beta, v - theta);
      out.v.value[r] = v;
      out.threshold.value[r] = theta;
      out.spikes.value[r] = spike;
    }
  }
  if (needs_grad) {
    LifSaved<T> s{B,         TT,  fn,    beta,  current,       alpha,
                  threshold, rho, gamma, out.v, out.threshold, out.spikes,
                  adapt};
    tape.Record([s] { LifBackward(s); });
  }
  return out;
}

template <typename T>
absl::StatusOr<LifModel<T>> LifModel<T>::Create(const LifConfig& config,
                                                uint64_t seed) {
  if (absl::Status st = ValidateLifConfig(config); !st.ok()) return st;
  LifModel<T> m(config);
  ParamSet<T>& p = m.params_;
  ParamIds& ids = m.ids_;
  ids.input_weight = p.Add("input.weight", 1, config.num_input);
  ids.input_bias = p.Add("input.bias", 1, 1);
  ids.proto_tau_mem = p.Add("_proto_tau_mem", 1, 1);
  ids.threshold = p.Add("threshold", 1, 1);
  if (config.adaptive) {
    ids.proto_tau_adapt = p.Add("_proto_tau_adapt", 1, 1);
    ids.adapt_strength = p.Add("adapt_strength", 1, 1);
  }
  ids.spike_weight = p.Add("spike_readout.weight", 1, 1);
  ids.spike_bias = p.Add("spike_readout.bias", 1, 1);
  ids.soma_weight = p.Add("soma_readout.weight", 1, 1);
  ids.soma_bias = p.Add("soma_readout.bias", 1, 1);
  CHECK_EQ(p.num_elements(), LifParamCount(config));

  Rng rng(seed);
  const double bound = 1.0 / std::sqrt(static_cast<double>(config.num_input));
  FillUniform(p.value(ids.input_weight), -bound, bound, rng);
  p.value(ids.proto_tau_mem)[0] = static_cast<T>(
      TauProto(config.tau_mem_init, config.tau_mem_min, config.tau_mem_max));
  p.value(ids.threshold)[0] = static_cast<T>(config.threshold_init);
  if (config.adaptive) {
    p.value(ids.proto_tau_adapt)[0] = static_cast<T>(TauProto(
        config.tau_adapt_init, config.tau_adapt_min, config.tau_adapt_max));
    p.value(ids.adapt_strength)[0] = static_cast<T>(config.adapt_strength_init);
  }
  p.value(ids.spike_weight)[0] = T(1);
  p.value(ids.soma_weight)[0] = T(1);
  return m;
}

template <typename T>
double LifModel<T>::tau_mem() const {
  return TauOf(params_.value(ids_.proto_tau_mem)[0], config_.tau_mem_min,
               config_.tau_mem_max);
}

template <typename T>
double LifModel<T>::tau_adapt() const {
  if (!config_.adaptive) return 0.0;
  return TauOf(params_.value(ids_.proto_tau_adapt)[0], config_.tau_adapt_min,
               config_.tau_adapt_max);
}

template <typename T>
typename LifModel<T>::Outputs LifModel<T>::Unroll(Tape<T>& tape, Var<T> x,
                                                  int64_t steps,
                                                  GradBlock<T>* grads) {
  CHECK_EQ(x.cols, config_.num_input)
      << "LifModel::Unroll: input has " << x.cols << " channels, the model "
      << config_.num_input;
  auto param = [&](int id) { return params_.OnTape(tape, id, grads); };
  // exp(−Δt / τ) with τ = lo + (hi − lo)·σ(proto), by primitive ops.
  T* neg_dt = tape.arena().template AllocateArray<T>(1);
  neg_dt[0] = static_cast<T>(-config_.delta_t);
  const Var<T> neg_dt_v = tape.Constant(neg_dt, 1, 1);
  auto decay = [&](int proto, double lo, double hi) {
    Var<T> tau = Affine(tape, Sigmoid(tape, param(proto)),
                        static_cast<T>(hi - lo), static_cast<T>(lo));
    return Exp(tape, Div(tape, neg_dt_v, tau));
  };
  const Var<T> current = Linear(tape, x, param(ids_.input_weight),
                                param(ids_.input_bias));  // [B·T, 1]
  const Var<T> alpha =
      decay(ids_.proto_tau_mem, config_.tau_mem_min, config_.tau_mem_max);
  Var<T> rho, gamma;
  if (config_.adaptive) {
    rho = decay(ids_.proto_tau_adapt, config_.tau_adapt_min,
                config_.tau_adapt_max);
    gamma = param(ids_.adapt_strength);
  }
  Outputs out;
  out.trace = LifRecurrence(tape, current, alpha, param(ids_.threshold), rho,
                            gamma, steps, config_.spike_function,
                            static_cast<T>(config_.surrogate_beta));
  const Var<T> margin =
      Sub(tape, out.trace.v, out.trace.threshold);  // u_t [B·T, 1]
  const Var<T> logit = Add(tape, Mul(tape, margin, param(ids_.spike_weight)),
                           param(ids_.spike_bias));
  const Var<T> soma = Add(tape, Mul(tape, out.trace.v, param(ids_.soma_weight)),
                          param(ids_.soma_bias));
  out.y = Concat<T>(tape, {logit, soma});
  return out;
}

#define ELM_LIF_INSTANTIATE(T)                                            \
  template T FastSigmoidSurrogate<T>(T, T);                               \
  template T SpikeValue<T>(SpikeFunction, T, T);                          \
  template T SpikeGrad<T>(SpikeFunction, T, T);                           \
  template LifTrace<T> LifRecurrence<T>(Tape<T>&, Var<T>, Var<T>, Var<T>, \
                                        Var<T>, Var<T>, int64_t,          \
                                        SpikeFunction, T);                \
  template class LifModel<T>;

ELM_LIF_INSTANTIATE(float)
ELM_LIF_INSTANTIATE(double)
#undef ELM_LIF_INSTANTIATE

}  // namespace elm
