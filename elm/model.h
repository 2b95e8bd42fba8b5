// The ELM neuron (v1 and v2) and Branch-ELM, exactly as the PyTorch reference
// (elm_reference.md §1–3), built from primitive autodiff ops step by step. This
// composed unroll is the oracle that the fused fast path is checked against.
//
// Legend: B batch, T steps, N inputs, S synapses, B_r branches (d_brch synapses
// each), d_m memory units, H hidden units. Sequences are [B·T, D] matrices (row
// b·T + t).
//
// Forward, per step (s_0 = b_0 = m_0 = 0; x̃_t = x_t[index] ⊙ mask, or x_t
// without routing):
//   w_s = relu(proto_w_s), τ_m = (τmax − τmin)·σ(proto_τ_m) + τmin,
//   κ_m = exp(−Δt / max(τ_m, 1e-6)),  κ_s / κ_b = exp(−Δt / max(τ, 1e-6))
//   v1: s_t = κ_s ⊙ s_{t−1} + w_s ⊙ x̃_t              [B, S]
//       u_t = branch_sum(s_t)                         [B, B_r]
//   v2: u_t = b_t = κ_b ⊙ b_{t−1} + branch_sum(w_s ⊙ x̃_t)   [B, B_r]
//   z_t = MLP([u_t, κ_m ⊙ m_{t−1}])                   [B, d_m]
//   Δ_t = 1.7159 · tanh((2·z_t) / 3)
//   v1: m_t = κ_m ⊙ m_{t−1} + (λ·(1 − κ_m)) ⊙ Δ_t
//   v2: m_t = κ_m ⊙ m_{t−1} + (1 − κ_λ) ⊙ Δ_t,
//       κ_λ = exp(−Δt·λ / max(τ_m, 1e-6))
//   y_t = m_t · W_yᵀ + b_y                            [B, n_out]
// MLP = Linear → act → … → Linear (mlp_num_layers hidden layers, act relu or
// silu). Backward is the tape's: every primitive op's adjoint, in reverse.
//
// Parameters carry the reference's state_dict names (a frozen `_proto_tau_m` is
// the last parameter of the block, so optimizers step
// num_trainable_elements()): `_proto_w_s` [1, S],
// `_proto_tau_m` [1, d_m] (trained only with learn_memory_tau),
// `mlp.network.{2i}.weight` [out, in], `mlp.network.{2i}.bias` [1, out],
// `w_y.weight` [n_out, d_m], `w_y.bias` [1, n_out]. Buffers (never trained):
// `tau_s` [S] (v1) or `tau_b` [B_r] (v2), the routing
// `input_to_synapse_indices` and `valid_indices_mask` [S].
//
// Example, one training step on NeuronIO targets (heads.h has the loss;
// optimizer.h the step):
//   ASSIGN_OR_RETURN(ElmModel<float> model, ElmModel<float>::Create(config));
//   GradBlock<float> grads(model.params());
//   Tape<float> tape;
//   Var<float> y = model.FusedUnroll(tape, x, steps, &grads);  // x [B·T, N]
//   tape.Backward(NeuronioLoss(tape, y, spike, soma));
//   optimizer->Step(model.params().data(), grads.data(),
//                   model.params().num_trainable_elements());
#ifndef ELM_ELM_MODEL_H_
#define ELM_ELM_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "autodiff/params.h"
#include "autodiff/tape.h"
#include "elm/fused_unroll.h"
#include "elm/model_config.h"
#include "elm/model_config.pb.h"
#include "elm/routing.h"
#include "io/elmtensor.h"

namespace elm {

template <typename T>
class ElmModel {
 public:
  // Ids of the parameters in params().
  struct ParamIds {
    int proto_w_s = -1;
    int proto_tau_m = -1;
    std::vector<int> mlp_weight;  // mlp.network.{0,2,...}.weight
    std::vector<int> mlp_bias;
    int w_y_weight = -1;
    int w_y_bias = -1;
  };

  // Outputs of Unroll.
  struct Outputs {
    Var<T> y;       // [B·T, n_out]
    Var<T> states;  // v1: synaptic traces [B·T, S]; v2: branch traces [B·T,
                    // B_r] (if recorded)
    Var<T> memory;  // [B·T, d_m] (if recorded)
  };

  // A model initialised as the reference initialises it, from our seeded RNG:
  // w_s protos = w_s_value, τ buffers = the τ value, log-spaced τ_m protos,
  // PyTorch's default Linear init (U(±1/√fan_in) for weights and biases),
  // NeuronIO or seeded random routing.
  static absl::StatusOr<ElmModel> Create(const ElmConfig& config,
                                         uint64_t seed = 0);

  const ElmConfig& config() const { return config_; }
  const ElmShape& shape() const { return shape_; }
  ParamSet<T>& params() { return params_; }
  const ParamSet<T>& params() const { return params_; }
  const ParamIds& ids() const { return ids_; }
  // Whether parameter `id` is trained (everything but `_proto_tau_m` unless
  // learn_memory_tau).
  bool trainable(int id) const { return params_.info(id).trainable; }
  const std::vector<T>& synapse_tau() const {
    return tau_;
  }  // [S] (v1) or [B_r] (v2)
  const SynapseRouting& routing() const { return routing_; }

  // Loads a reference state_dict (names as above, each prefixed by `prefix`,
  // torch shapes: 1-D vectors, [out, in] weights). Every parameter and buffer
  // must be present with its expected shape; a missing, misshapen or unexpected
  // tensor is an error naming it and the expected shape (StateDictReader,
  // autodiff/state_dict.h). `source` names the file in messages.
  absl::Status LoadStateDict(absl::Span<const NamedTensor> tensors,
                             absl::string_view prefix,
                             absl::string_view source);
  // The state_dict in the reference's names, order, shapes and dtypes.
  std::vector<NamedTensor> StateDict() const;

  // The composed forward on `tape`. x: [B·T, N] (T = steps). Parameter
  // gradients accumulate into `grads` (null: none; `_proto_tau_m` only when
  // trainable). With `record`, Outputs also holds the state and memory traces.
  Outputs Unroll(Tape<T>& tape, Var<T> x, int64_t steps, GradBlock<T>* grads,
                 bool record = false);

  // The same forward as one fused tape record (fused_unroll.h): the training
  // path. Returns y [B·T, n_out]; `memory` (if not null) receives m_t [B·T,
  // d_m]. A v1 model whose τ_s differ within a branch falls back to the
  // composed Unroll.
  Var<T> FusedUnroll(Tape<T>& tape, Var<T> x, int64_t steps,
                     GradBlock<T>* grads, Var<T>* memory = nullptr);
  // Sparse inputs (CSR over rows b·T + t); needs CanFuse().
  Var<T> FusedUnroll(Tape<T>& tape, const CsrView& x, int64_t steps,
                     GradBlock<T>* grads, Var<T>* memory = nullptr);
  // False for a v1 model whose τ_s differ within a branch.
  bool CanFuse() const { return can_fuse_; }
  // The fused unroll's structure and its parameter Vars on `tape` without
  // gradients (w_s, κ_m and the gain computed as FusedUnroll computes them),
  // for streaming inference (population.h). Need CanFuse().
  const FusedElmSpec& fused_spec() const { return fused_spec_; }
  FusedElmParams<T> FusedParams(Tape<T>& tape) {
    return ToFused(MakeStepParams(tape, nullptr));
  }
  // Blocking and checkpointing of FusedUnroll (fused_unroll.h; default: full
  // storage).
  const FusedElmOptions& fused_options() const { return fused_options_; }
  void set_fused_options(const FusedElmOptions& options) {
    fused_options_ = options;
  }

 private:
  // The parameter Vars of one forward, with w_s, κ_m and the memory gain
  // computed from their protos by primitive ops.
  struct StepParams {
    Var<T> w_s, kappa_m, gain, w_y, b_y;
    std::vector<Var<T>> mlp_w, mlp_b;
  };

  ElmModel(ElmConfig config, ElmShape shape);
  StepParams MakeStepParams(Tape<T>& tape, GradBlock<T>* grads);
  // exp(−Δt / max(τ, 1e-6)) of the synapse (v1) or branch (v2) buffers.
  std::vector<double> TraceDecay() const;
  FusedElmSpec MakeFusedSpec() const;
  bool ComputeCanFuse() const;
  absl::Status LoadStateDictImpl(absl::Span<const NamedTensor> tensors,
                                 absl::string_view prefix,
                                 absl::string_view source);
  // Recomputes can_fuse_ and fused_spec_ (after creation and every load).
  void RefreshFusedSpec();
  static FusedElmParams<T> ToFused(const StepParams& p);

  ElmConfig config_;
  ElmShape shape_;
  ParamSet<T> params_;
  ParamIds ids_;
  std::vector<T> tau_;
  SynapseRouting routing_;
  std::vector<T> mask_;  // routing_.mask as T
  bool can_fuse_ = false;
  FusedElmSpec
      fused_spec_;  // the structure of the fused unroll (when can_fuse_)
  FusedElmOptions fused_options_;
};

}  // namespace elm

#endif  // ELM_ELM_MODEL_H_
