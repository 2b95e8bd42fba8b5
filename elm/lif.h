// The LIF and ALIF point-neuron baselines of the ELM paper (Table S4: "LIF
// (classic)" and "ALIF (classic)" fitted to NeuronIO with ~1280 parameters).
// The reference publishes no code for them, so this file defines the model: one
// leaky integrate-and-fire neuron (optionally with an adaptive threshold)
// driven by a learned weighted sum of the inputs, with learnable time
// constants and threshold, reset by subtraction, a surrogate gradient for the
// spike, and two affine readouts of the membrane for the NeuronIO head
// (elm/heads.h: spike logit, scaled soma voltage).
//
// Forward, per sequence (one neuron; every quantity is a scalar per step, and a
// sequence batch is a [B·T, 1] column with row b·T + t):
//   I_t = x_t·wᵀ + b                                  input current
//   τ_m = τm_min + (τm_max − τm_min)·σ(p_m),  α = exp(−Δt/τ_m)
//   v_t = α·v_{t−1} + (1 − α)·I_t − ϑ·s_{t−1}         membrane, reset by
//                                                     subtraction
//   LIF:  θ_t = ϑ
//   ALIF: τ_a = τa_min + (τa_max − τa_min)·σ(p_a),  ρ = exp(−Δt/τ_a)
//         a_t = ρ·a_{t−1} + s_{t−1},   θ_t = ϑ + γ·a_t  adaptive threshold
//   u_t = v_t − θ_t,   s_t = H(u_t)                   spike (H(0) = 0)
//   y_t = [k·u_t + c,  w_v·v_t + b_v]                 [B·T, 2]: logit, soma
// with v_{−1} = s_{−1} = a_{−1} = 0. ϑ, γ, k, c, w_v, b_v are free scalars,
// w [1, N] and b the input weights and bias; p_m, p_a are the time-constant
// protos (sigmoid-bounded, so τ stays in its range and α, ρ in (0, 1)).
//
// Spike nonlinearity (SpikeFunction): the forward step H(u) has derivative 0
// almost everywhere, so training replaces it in the backward by a surrogate,
// the fast-sigmoid derivative ψ(u) = 1 / (1 + β·|u|)² (SuperSpike, Zenke &
// Ganguli 2018); the forward stays binary. For gradient checks, kHeaviside
// uses the true a.e. derivative ψ = 0 (the gradient of everything except the
// spike) and kSigmoid replaces the step by the smooth s = σ(β·u) with its
// exact derivative β·s·(1 − s).
//
// Adjoint of the recurrence (one tape record, LifRecurrence): with v̄_t, θ̄_t,
// s̄_t the adjoints reaching the outputs and V' = A' = 0 after the last step,
// in reverse over t:
//   S_t = s̄_t − ϑ·V' + A'          (s_t feeds v_{t+1} and a_{t+1})
//   ū_t = S_t · ψ(u_t)
//   V_t = v̄_t + ū_t + α·V'         the total adjoint of v_t
//   Θ_t = θ̄_t − ū_t                the total adjoint of θ_t
//   A_t = γ·Θ_t + ρ·A'             the total adjoint of a_t (ALIF)
//   Ī_t += (1 − α)·V_t,  ᾱ += V_t·(v_{t−1} − I_t),  ϑ̄ += Θ_t − V_t·s_{t−1},
//   γ̄ += Θ_t·a_t,  ρ̄ += A_t·a_{t−1};   V' ← V_t,  A' ← A_t.
// I_t, α, ρ come from primitive tape ops (Linear, Sigmoid, Exp, ...) and the
// readouts are primitive ops too, so their gradients are the tape's.
//
// Parameters: `input.weight` [1, N], `input.bias` [1, 1], `_proto_tau_mem`,
// `threshold` (ϑ), for ALIF `_proto_tau_adapt` and `adapt_strength` (γ), then
// `spike_readout.weight` (k), `spike_readout.bias` (c), `soma_readout.weight`
// (w_v), `soma_readout.bias` (b_v), all [1, 1]. Count: N + 7 (LIF) or N + 9
// (ALIF): 1285 and 1287 for NeuronIO's N = 1278, against the paper's 1280 and
// 1281 (whose exact parameterisation is unpublished; ours adds the input bias
// and the four readout scalars that map the membrane to both NeuronIO targets).
#ifndef ELM_ELM_LIF_H_
#define ELM_ELM_LIF_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "autodiff/params.h"
#include "autodiff/tape.h"

namespace elm {

enum class SpikeFunction {
  // s = H(u); backward ψ(u) = 1 / (1 + β|u|)² (the training default).
  kSurrogate,
  // s = H(u); backward ψ = 0, H's true derivative almost everywhere.
  kHeaviside,
  // s = σ(βu); backward its exact derivative β·s·(1 − s).
  kSigmoid,
};

// The fast-sigmoid surrogate derivative 1 / (1 + β|u|)².
template <typename T>
T FastSigmoidSurrogate(T beta, T u);
// The spike s(u) of `fn` and the derivative ψ(u) its backward uses.
template <typename T>
T SpikeValue(SpikeFunction fn, T beta, T u);
template <typename T>
T SpikeGrad(SpikeFunction fn, T beta, T u);

struct LifConfig {
  int num_input = 0;      // N
  bool adaptive = false;  // ALIF
  double delta_t = 1.0;   // Δt, ms per step
  // τ_mem in ms: initial value and the bounds of its sigmoid proto.
  double tau_mem_init = 20.0;
  double tau_mem_min = 1.0;
  double tau_mem_max = 200.0;
  // ALIF only: τ_adapt in ms, likewise, and the initial γ.
  double tau_adapt_init = 200.0;
  double tau_adapt_min = 1.0;
  double tau_adapt_max = 2000.0;
  double adapt_strength_init = 0.5;
  double threshold_init = 1.0;   // ϑ
  double surrogate_beta = 10.0;  // β, > 0
  SpikeFunction spike_function = SpikeFunction::kSurrogate;
};

// OK, or InvalidArgument naming the first bad field, e.g.
// "lif config: tau_mem_init = 500; expected in (tau_mem_min, tau_mem_max) =
// (1, 200)". The τ_adapt fields are checked only when `adaptive`.
absl::Status ValidateLifConfig(const LifConfig& config);

// The trainable-parameter count: N + 7 (LIF) or N + 9 (ALIF).
int64_t LifParamCount(const LifConfig& config);

// The outputs of the recurrence, each [B·T, 1].
template <typename T>
struct LifTrace {
  Var<T> v;          // membrane v_t
  Var<T> threshold;  // θ_t
  Var<T> spikes;     // s_t
};

// The membrane recurrence as one tape record (equations and adjoint in the
// file comment). current [B·T, 1] (T = steps); alpha and threshold [1, 1];
// rho and gamma [1, 1] for ALIF, or both Vars with no elements for LIF. Every
// input may need a gradient; the outputs need one when any input does.
template <typename T>
LifTrace<T> LifRecurrence(Tape<T>& tape, Var<T> current, Var<T> alpha,
                          Var<T> threshold, Var<T> rho, Var<T> gamma,
                          int64_t steps, SpikeFunction fn, T beta);

template <typename T>
class LifModel {
 public:
  // Ids of the parameters in params() (-1 for the ALIF ones of a LIF).
  struct ParamIds {
    int input_weight = -1;
    int input_bias = -1;
    int proto_tau_mem = -1;
    int threshold = -1;
    int proto_tau_adapt = -1;
    int adapt_strength = -1;
    int spike_weight = -1;
    int spike_bias = -1;
    int soma_weight = -1;
    int soma_bias = -1;
  };

  struct Outputs {
    Var<T> y;  // [B·T, 2]: spike logit, soma (NeuronioLoss in elm/heads.h)
    LifTrace<T> trace;
  };

  // A model with the configured initial τ, ϑ and γ, input weights U(±1/√N)
  // from our seeded Rng, input bias 0, readouts k = w_v = 1, c = b_v = 0.
  static absl::StatusOr<LifModel> Create(const LifConfig& config,
                                         uint64_t seed = 0);

  const LifConfig& config() const { return config_; }
  ParamSet<T>& params() { return params_; }
  const ParamSet<T>& params() const { return params_; }
  const ParamIds& ids() const { return ids_; }
  // Switches the spike nonlinearity (e.g. to kSigmoid for a gradient check).
  void set_spike_function(SpikeFunction fn) { config_.spike_function = fn; }

  // The current time constants in ms (τ_adapt: 0 for a LIF).
  double tau_mem() const;
  double tau_adapt() const;

  // The forward on `tape`. x: [B·T, N] (T = steps; may need a gradient).
  // Parameter gradients accumulate into `grads` (null: none).
  Outputs Unroll(Tape<T>& tape, Var<T> x, int64_t steps, GradBlock<T>* grads);

 private:
  explicit LifModel(const LifConfig& config) : config_(config) {}

  LifConfig config_;
  ParamSet<T> params_;
  ParamIds ids_;
};

}  // namespace elm

#endif  // ELM_ELM_LIF_H_
