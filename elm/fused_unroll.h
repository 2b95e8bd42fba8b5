// The fused ELM unroll: the whole T-step ELM / Branch-ELM recurrence as ONE
// tape record with a hand-derived backward. It computes exactly what
// ElmModel::Unroll composes from primitive ops (the oracle; they agree to
// ~1e-12 relative in double), much faster.
//
// Notation (rows are [B, ·] per step; [T·B, ·] buffers are time-major
// internally):
//   x̃_t = routed input [B, S];  w = w_s ⊙ mask [S];  br(k) = k / d_brch
//   Branch drive (time-parallel, sparse):  a_t[j] = Σ_{k: br(k)=j} w[k]·x̃_t[k]
//   [B, B_r] Branch trace (a linear scan):          u_t = κ_u ⊙ u_{t−1} + a_t,
//   u_{−1} = 0
//     (v1 sums synaptic traces with one τ_s per branch, which equals this scan;
//     v2 is it.)
//   MLP first layer, time-parallel part:   P = U·W₁ᵤᵀ + b₁ [T·B, H₁] Sequential
//   cell, per step t:
//     k_t = κ_m ⊙ m_{t−1}                  (m_{−1} = 0)
//     A₁ = P_t + k_t·W₁ₘᵀ;  h_l = act(A_l);  A_{l+1} = h_l·W_{l+1}ᵀ + b_{l+1};
//     z_t = A_{L+1}
//       (with no hidden layer, z_t = A₁)
//     Δ_t = 1.7159·tanh(2z_t/3);  m_t = k_t + g ⊙ Δ_t     (g = λ(1−κ_m) in v1,
//     1−κ_λ in v2)
//   Readout, time-parallel:                y = M·W_yᵀ + b_y [T·B, n_out]
//
// Adjoint (ȳ given; every weight gradient is one GEMM over the T·B rows after
// the sweep):
//   W̄_y += ȲᵀM,  b̄_y += Σ Ȳ,  M̄ = Ȳ·W_y
//   reverse over t, with c = adjoint reaching m_t from step t+1 (c = 0 at t =
//   T−1):
//     m̄ = M̄_t + c;  ḡ += Σ_b m̄ ⊙ Δ_t;  Z̄_t = m̄ ⊙ g ⊙ 1.7159·(1 − tanh²)·2/3
//     Ā_l = (Ā_{l+1}·W_{l+1}) ⊙ act'(A_l) down to Ā₁;   k̄ = m̄ + Ā₁·W₁ₘ
//     κ̄_m += Σ_b k̄ ⊙ m_{t−1};   c = k̄ ⊙ κ_m
//   W̄_{l+1} += Ā_{l+1}ᵀ·act(A_l),  b̄ += Σ Ā;   W̄₁ₘ += Ā₁ᵀ·K;   W̄₁ᵤ += Ā₁ᵀ·U; Ū
//   = Ā₁·W₁ᵤ reverse scan: ā_t = Ū_t + κ_u ⊙ ā_{t+1} w̄[k] += Σ_{b,t}
//   ā_t[br(k)]·x̃_t[k]   (over the input's nonzeros),   x̄ by the same map.
// κ_m and g are Vars computed by primitive ops from τ_m, so their own gradients
// (to τ_m's proto) come from the tape.
#ifndef ELM_ELM_FUSED_UNROLL_H_
#define ELM_ELM_FUSED_UNROLL_H_

#include <cstdint>
#include <vector>

#include "autodiff/tape.h"

namespace elm {

// Sparse [rows, cols] inputs in CSR form: row r's nonzeros are (col[k],
// value[k]) for k in [row_begin[r], row_begin[r + 1]). Rows are b·T + t. The
// arrays must outlive the tape use.
struct CsrInput {
  const int64_t* row_begin = nullptr;
  const int32_t* col = nullptr;
  const float* value = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
};

// The structure the fused unroll needs, independent of the parameter values.
struct FusedElmSpec {
  int64_t num_input = 0;               // N
  int64_t num_branch = 0;              // B_r
  int64_t num_synapse_per_branch = 0;  // d_brch
  int64_t num_memory = 0;              // d_m
  bool silu = false;                   // hidden activation: silu, else relu
  // Synapse k reads input index[k] scaled by mask[k]; empty index = identity
  // routing.
  std::vector<int64_t> index;  // [S] or empty
  std::vector<double> mask;    // [S] or empty
  // Per-branch trace decay κ_u [B_r] (v1: exp(−Δt/τ_s), one per branch; v2:
  // κ_b).
  std::vector<double> kappa_branch;
};

// The parameter Vars of one unroll. mlp_w[l] is [out, in] (PyTorch layout),
// mlp_b[l] [1, out].
template <typename T>
struct FusedElmParams {
  Var<T> w_s;      // [1, S], effective synapse weights (relu of the proto)
  Var<T> kappa_m;  // [1, d_m]
  Var<T> gain;     // [1, d_m]
  std::vector<Var<T>> mlp_w;
  std::vector<Var<T>> mlp_b;
  Var<T> w_y;  // [n_out, d_m]
  Var<T> b_y;  // [1, n_out]
};

// y [B·T, n_out] for dense inputs x [B·T, N] (x may need a gradient).
template <typename T>
Var<T> FusedElmUnroll(Tape<T>& tape, const FusedElmSpec& spec,
                      const FusedElmParams<T>& p, Var<T> x, int64_t steps,
                      Var<T>* memory_record = nullptr);

// The same for sparse inputs (no input gradient).
template <typename T>
Var<T> FusedElmUnroll(Tape<T>& tape, const FusedElmSpec& spec,
                      const FusedElmParams<T>& p, const CsrInput& x,
                      int64_t steps, Var<T>* memory_record = nullptr);

}  // namespace elm

#endif  // ELM_ELM_FUSED_UNROLL_H_
