// The LSTM baseline of the ELM paper (Table S10): one LSTM layer in PyTorch's
// nn.LSTM layout with a linear readout per step, as a composed unroll from
// primitive tape ops (the oracle) and as a fused unroll (one tape record with
// a hand-derived backward, the training path). The two agree to ~1e-12
// relative in double.
//
// Legend: B batch, T steps, D inputs, H hidden units, n_out outputs. Sequences
// are [B·T, ·] matrices with row b·T + t (autodiff/tensor.h). Gate blocks of
// the 4H rows of the weights are in PyTorch's order (i, f, g, o).
//
// Forward (h_{−1} = c_{−1} = 0):
//   A_t = x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh            [B, 4H]
//   i = σ(A_i),  f = σ(A_f),  g = tanh(A_g),  o = σ(A_o)      [B, H] each
//   c_t = f ⊙ c_{t−1} + i ⊙ g;   h_t = o ⊙ tanh(c_t)          [B, H]
//   y_t = h_t·W_rᵀ + b_r                                      [B, n_out]
// The fused unroll computes X·W_ihᵀ + b_ih + b_hh for all B·T rows as one GEMM
// before the loop; the loop does only h_{t−1}·W_hhᵀ and the gates.
//
// Adjoint (h̄_t from the readout; carries h̄' = c̄' = 0 after the last step):
//   h̄ = h̄_t + h̄';  ō = h̄ ⊙ tanh(c_t);  c̄ = c̄' + h̄ ⊙ o ⊙ (1 − tanh²(c_t))
//   ī = c̄ ⊙ g;  ḡ = c̄ ⊙ i;  f̄ = c̄ ⊙ c_{t−1};  c̄' ← c̄ ⊙ f
//   Ā_i = ī ⊙ i(1 − i),  Ā_f = f̄ ⊙ f(1 − f),  Ā_g = ḡ ⊙ (1 − g²),
//   Ā_o = ō ⊙ o(1 − o);   h̄' ← Ā_t·W_hh
// then, after the reverse sweep, one GEMM each over the B·T rows:
//   W̄_ih += Āᵀ·X,  W̄_hh += Āᵀ·H₋ (H₋: h_{t−1} per row, 0 at t = 0),
//   b̄_ih = b̄_hh += Σ_rows Ā,  X̄ += Ā·W_ih.
//
// Parameters carry nn.LSTM's state_dict names: `weight_ih_l0` [4H, D],
// `weight_hh_l0` [4H, H], `bias_ih_l0` [4H], `bias_hh_l0` [4H] (held as
// [1, 4H]), and the readout's `readout.weight` [n_out, H], `readout.bias`
// [n_out]. Trainable parameters: 4H·(D + H + 2) + n_out·(H + 1); for NeuronIO
// (D = 1278, n_out = 2) and H = 50 that is 266,102 (the paper's 265.9K counts
// one bias vector, as JAX's LSTM cell has).
#ifndef ELM_ELM_LSTM_H_
#define ELM_ELM_LSTM_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "autodiff/params.h"
#include "autodiff/tape.h"
#include "io/elmtensor.h"

namespace elm {

struct LstmConfig {
  int num_input = 0;   // D
  int hidden = 0;      // H
  int num_output = 0;  // n_out
  // Chrono initialisation (Tallec & Ollivier 2018; the paper's Chrono-LSTM
  // baseline, Table S3, "uniform 1 - T_max"): when > 0, the forget-gate bias
  // b_f = log(u), u ~ U(1, T_max − 1) per unit, and the input-gate bias
  // b_i = −b_f, so that the initial memory time scales 1/(1 − σ(b_f)) spread
  // over about 1..T_max steps. 0: off (PyTorch's initialisation). Must be 0 or
  // > 2.
  double chrono_t_max = 0;
};

// OK, or InvalidArgument naming the first bad field, e.g.
// "lstm config: hidden = 0; expected >= 1".
absl::Status ValidateLstmConfig(const LstmConfig& config);

// The trainable-parameter count 4H·(D + H + 2) + n_out·(H + 1).
int64_t LstmParamCount(const LstmConfig& config);

// The fused LSTM layer as one tape record (see the file comment). x [B·T, D]
// (T = steps; may need a gradient), w_ih [4H, D], w_hh [4H, H], b_ih and b_hh
// [1, 4H]. Returns h [B·T, H]; `cell` (if not null) receives c_t [B·T, H] as a
// gradient-free Var.
template <typename T>
Var<T> FusedLstmLayer(Tape<T>& tape, Var<T> x, Var<T> w_ih, Var<T> w_hh,
                      Var<T> b_ih, Var<T> b_hh, int64_t steps,
                      Var<T>* cell = nullptr);

template <typename T>
class LstmModel {
 public:
  // Ids of the parameters in params().
  struct ParamIds {
    int weight_ih = -1;
    int weight_hh = -1;
    int bias_ih = -1;
    int bias_hh = -1;
    int readout_weight = -1;
    int readout_bias = -1;
  };

  struct Outputs {
    Var<T> y;       // [B·T, n_out]
    Var<T> hidden;  // h_t [B·T, H]
    Var<T> cell;    // c_t [B·T, H] (only when recorded)
  };

  // A model initialised as PyTorch does, from our seeded Rng: every LSTM weight
  // and bias U(±1/√H) (in the order weight_ih, weight_hh, bias_ih, bias_hh),
  // the readout as nn.Linear, U(±1/√H) for its weight and bias. With
  // config.chrono_t_max > 0 the same values are drawn, then the input- and
  // forget-gate blocks of bias_ih are overwritten with the chrono values
  // (drawn from Rng(MixSeeds(seed, 0xC4170))) and those blocks of bias_hh set
  // to 0, so the effective biases b_ih + b_hh are exactly −b_f and b_f.
  static absl::StatusOr<LstmModel> Create(const LstmConfig& config,
                                          uint64_t seed = 0);

  const LstmConfig& config() const { return config_; }
  ParamSet<T>& params() { return params_; }
  const ParamSet<T>& params() const { return params_; }
  const ParamIds& ids() const { return ids_; }

  // Loads a state_dict (names as above, each prefixed by `prefix`; biases
  // 1-D). Every parameter must be present with its expected shape and a
  // floating dtype; a missing, misshapen or unexpected tensor is an
  // InvalidArgument naming it and the expected shape (LoadParams,
  // autodiff/state_dict.h); a failed load leaves the model unchanged. `source`
  // names the file in messages.
  absl::Status LoadStateDict(absl::Span<const NamedTensor> tensors,
                             absl::string_view prefix,
                             absl::string_view source);
  // The state_dict in nn.LSTM's names, order and shapes (f32 or f64 by T).
  std::vector<NamedTensor> StateDict() const;

  // The composed forward from primitive ops (the oracle). x: [B·T, D]
  // (T = steps; may need a gradient). Parameter gradients accumulate into
  // `grads` (null: none). With `record`, Outputs.cell holds c_t.
  Outputs Unroll(Tape<T>& tape, Var<T> x, int64_t steps, GradBlock<T>* grads,
                 bool record = false);
  // The same forward with the fused LSTM layer (FusedLstmLayer) and the
  // readout as one Linear over all B·T rows: the training path.
  Outputs FusedUnroll(Tape<T>& tape, Var<T> x, int64_t steps,
                      GradBlock<T>* grads, bool record = false);

 private:
  explicit LstmModel(const LstmConfig& config) : config_(config) {}

  LstmConfig config_;
  ParamSet<T> params_;
  ParamIds ids_;
};

}  // namespace elm

#endif  // ELM_ELM_LSTM_H_
