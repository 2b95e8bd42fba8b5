// The block forward of the fused ELM unroll (fused_forward.h). Per chunk of
// steps, with rows [B, ·] per step (notation of fused_unroll.h):
//   Branch drive and trace (branch_drive.h):
//     u_t = κ_u ⊙ u_{t−1} + a_t                          [B, B_r]
//   First layer, time-parallel part:
//     P = U·W₁ᵤᵀ + b₁                                    [C·B, H₁]
//   Sequential cell, per step t:
//     k_t = κ_m ⊙ m_{t−1}                  (m_{−1} = 0)  [B, d_m]
//     A₁ = P_t + k_t·W₁ₘᵀ;  h_l = act(A_l);  A_{l+1} = h_l·W_{l+1}ᵀ + b_{l+1};
//     z_t = A_{L+1}  (with no hidden layer, z_t = A₁)      [B, d_m]
//     Δ_t = 1.7159·tanh(2z_t/3);  m_t = k_t + g ⊙ Δ_t      [B, d_m]
//   Readout, time-parallel:   y = M·W_yᵀ + b_y           [C·B, n_out]
// Stored for the backward (in the block's slot): U (unless projected),
// A_1..A_L, tanh(2z/3) and M.
#include "elm/fused_forward.h"

#include <algorithm>

#include "autodiff/simd/activations.h"
#include "autodiff/simd/gemm.h"

namespace elm {
namespace {

using simd::GemmInit;

// m_t = k + g ⊙ 1.7159·tanh(2z/3) on [B, d_m] rows (restrict-qualified so
// that the compiler vectorises over d_m).
template <typename T>
void UpdateMemory(int64_t B, int64_t dm, const T* __restrict k,
                  const T* __restrict g, const T* __restrict th,
                  T* __restrict m) {
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t i = 0; i < dm; ++i) {
      const int64_t e = b * dm + i;
      m[e] = k[e] + g[i] * (th[e] * T(1.7159));
    }
  }
}

// A₁'s time-parallel part for the chunk's R rows (from block row o) into a1
// [R, H₁]: projected, b₁ + the scan of the projected drive in one pass; else
// the branch drive and the trace scan into U, then P = b₁ + U·W₁ᵤᵀ.
template <typename T>
void FirstLayerInput(const FusedPlan<T>& plan, const BlockRows& rows,
                     const Slot<T>& slot, int64_t o, int64_t R, T* carry,
                     T* a1) {
  const int64_t n_branch = plan.n_branch, H1 = plan.h1;
  if (plan.projected) {
    ProjectedDriveScan(rows, H1, plan.w1u_ld, plan.kappa_u[0], plan.row_begin,
                       plan.col, plan.val, plan.synapses, plan.w1u_t,
                       plan.mlp_b[0].value, carry, a1, *plan.arena);
    return;
  }
  T* u = slot.u + o * n_branch;
  if (plan.chan_w != nullptr) {  // writes every row
    DenseBranchDrive(rows, n_branch, plan.chan_ld, plan.row_begin, plan.col,
                     plan.val, plan.chan_w, u);
  } else {
    std::fill(u, u + R * n_branch, T(0));  // accumulated
    BranchDrive(rows, n_branch, plan.row_begin, plan.col, plan.val,
                plan.synapses, u);
  }
  BranchTraceScan(rows, n_branch, plan.kappa_u, carry, u);
  simd::Gemm(R, u, n_branch, 1, plan.w1u_t_packed, a1, H1, GemmInit::kRow,
             plan.mlp_b[0].value);
}

// The sequential cell at step t (its first row in the block: row = (t −
// t0)·B), A₁'s time-parallel part already in a1 [cap, H₁].
template <typename T>
void CellStep(const FusedPlan<T>& plan, const Slot<T>& slot, int64_t t0,
              int64_t t, T* a1) {
  const int64_t B = plan.batch, dm = plan.d_m, L = plan.layers;
  const int64_t hidden = plan.hidden, H1 = plan.h1;
  const int64_t cap = plan.block_steps * B, row = (t - t0) * B;
  T* kt = plan.k_step;
  StepMemoryInput(plan, slot, t0, t, kt);
  simd::SmallGemm<T>(B, kt, dm, plan.w1m_t, a1 + row * H1, H1, GemmInit::kC);
  for (int64_t l = 1; l <= L; ++l) {
    const T* pre = slot.pre + ((l - 1) * cap + row) * hidden;
    T* h = plan.h_step;
    simd::ActForward(pre, h, B * hidden, plan.act);
    const int64_t out = l == L ? dm : hidden;
    T* next = l == L ? plan.z + row * dm : slot.pre + (l * cap + row) * hidden;
    simd::SmallGemm<T>(B, h, hidden, plan.upper_w_t[l], next, out,
                       GemmInit::kRow, plan.mlp_b[l].value);
  }
  const T* z = plan.z + row * dm;  // = A₁'s rows when L == 0
  T* tht = slot.th + row * dm;
  simd::TanhOf2Thirds(z, tht, B * dm);
  UpdateMemory(B, dm, kt, plan.gain.value, tht, slot.m + row * dm);
}

}  // namespace

template <typename T>
void ForwardBlock(const FusedPlan<T>& plan, int64_t j, const T* m_prev,
                  T* carry, const Slot<T>& slot, T* y, T* memory) {
  const int64_t B = plan.batch, TT = plan.steps, G = plan.block_steps;
  const int64_t t0 = j * G, t1 = std::min(TT, t0 + G);
  const int64_t dm = plan.d_m, H1 = plan.h1, n_out = plan.n_out;
  // m_{t0−1} first: with a single slot, m_prev points into this slot's m.
  if (m_prev != nullptr) {
    std::copy(m_prev, m_prev + B * dm, slot.m_in);
  } else {
    std::fill(slot.m_in, slot.m_in + B * dm, T(0));
  }
  T* a1 = plan.layers > 0 ? slot.pre : plan.z;
  for (int64_t c0 = t0, c1; c0 < t1; c0 = c1) {
    c1 = std::min(t1, c0 + plan.chunk_steps);
    const int64_t o = (c0 - t0) * B, R = (c1 - c0) * B;  // the chunk's rows
    FirstLayerInput(plan, BlockRows{B, TT, c0, c1}, slot, o, R, carry,
                    a1 + o * H1);
    for (int64_t t = c0; t < c1; ++t) CellStep(plan, slot, t0, t, a1);
    // The readout y = M·W_yᵀ + b_y straight into y's batch-major rows (and
    // the memory record).
    for (int64_t b = 0; y != nullptr && b < B; ++b) {
      simd::Gemm(c1 - c0, slot.m + (o + b) * dm, B * dm, 1, plan.wy_t,
                 y + (b * TT + c0) * n_out, n_out, GemmInit::kRow,
                 plan.b_y.value);
      if (memory == nullptr) continue;
      for (int64_t t = c0; t < c1; ++t) {
        const T* src = slot.m + ((t - t0) * B + b) * dm;
        std::copy(src, src + dm, memory + (b * TT + t) * dm);
      }
    }
  }
}

template void ForwardBlock(const FusedPlan<float>&, int64_t, const float*,
                           float*, const Slot<float>&, float*, float*);
template void ForwardBlock(const FusedPlan<double>&, int64_t, const double*,
                           double*, const Slot<double>&, double*, double*);

}  // namespace elm
