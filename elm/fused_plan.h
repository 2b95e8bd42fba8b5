// The plan of one fused ELM unroll (fused_unroll.h): everything computed once
// per unroll before the first block runs, and read by the block forward
// (fused_forward.h) and the backward (fused_backward.h). BuildPlan chooses the
// branch drive (branch_drive.h: projected, dense or scattered), inverts the
// routing, packs the weights of every product (autodiff/simd/gemm.h), fixes the
// blocking and checkpointing (FusedElmUnrollLayout, fused_spec.h) and places
// the per-block activation slots and the checkpoints in the tape's arena.
//
// Shapes: B = batch, T = steps, N = inputs, B_r = branches, d_m = memory
// units, H = hidden width, L = hidden layers, H₁ = the first layer's width
// (H, or d_m when L = 0), G = steps per block, cap = G·B rows per slot.
// Block rows are time-major, (t − t0)·B + b.
#ifndef ELM_ELM_FUSED_PLAN_H_
#define ELM_ELM_FUSED_PLAN_H_

#include <algorithm>
#include <cstdint>

#include "autodiff/arena.h"
#include "autodiff/simd/activations.h"
#include "autodiff/simd/gemm.h"
#include "autodiff/tape.h"
#include "elm/branch_drive.h"
#include "elm/fused_spec.h"

namespace elm {

// A block is processed in chunks of about this many rows (ForwardBlock,
// BackwardBlock), small enough that a chunk's activations and adjoints are
// still in L2 when its time-parallel products read them.
constexpr int64_t kChunkRows = 128;

// The stored activations of one block of steps [t0, t1), time-major rows
// (t − t0)·B + b. A slot holds cap = G·B rows; the last block may use fewer.
// (h_l and K are not stored: see fused_unroll.h, "Checkpointing".)
template <typename T>
struct Slot {
  T* u;     // branch traces U [cap, B_r] (not projected), else null
  T* pre;   // A_1..A_L [L, cap, H] (L ≥ 1), else null
  T* th;    // tanh(2z/3) [cap, d_m]
  T* m;     // m_t [cap, d_m]
  T* m_in;  // m_{t0−1} [B, d_m] (zeros for the first block)
};

// Everything the forward blocks and the backward need, placed in the arena
// (trivially copyable: the backward's tape record holds a copy).
template <typename T>
struct FusedPlan {
  // Shapes.
  int64_t batch, steps, n_in, n_branch, d_m, n_out, layers;
  int64_t hidden;  // H, the hidden layers' width (0 when layers == 0)
  int64_t h1;      // H₁, the width of A₁: hidden, or d_m when layers == 0
  simd::Activation act;
  Arena* arena;  // the tape's: the backward's scratch
  // The branch drive (branch_drive.h). Projected (one κ_u for all branches
  // and B_r ≥ 2·H₁): U is never formed; the scan runs over A₁'s H₁ columns.
  ChannelSynapses<T> synapses;
  bool projected;
  // Not projected, few branches: the dense drive's chan_w [N, chan_ld];
  // else null (the scattered drive).
  const T* chan_w;
  int64_t chan_ld;
  const T* w1u_t;  // W₁ᵤᵀ [B_r, H₁] (projected only), leading dim w1u_ld
  int64_t w1u_ld;    // H₁ rounded up to whole vectors (zero padded)
  const T* kappa_u;  // κ_u [B_r]
  // Input nonzeros, CSR over batch-major rows b·T + t.
  const int64_t* row_begin;
  const int32_t* col;
  const T* val;
  // Packed weights (autodiff/simd/gemm.h). The time-parallel products:
  simd::PackedB<T> w1u_t_packed;  // W₁ᵤᵀ [B_r, H₁] (not projected: P = U·W₁ᵤᵀ)
  simd::PackedB<T> w1u;   // W₁ᵤ [H₁, B_r] (Ū or ā; when needed)
  simd::PackedB<T> wy_t;  // W_yᵀ [d_m, n_out] (the readout)
  simd::PackedB<T> wy;    // W_y [n_out, d_m] (M̄ = Ȳ·W_y; backward)
  // The per-step products: forward W₁ₘᵀ [d_m, H₁] and W_{l+1}ᵀ [H, out];
  // backward W₁ₘ [H₁, d_m] and W_{l+1} [out, H] (upper_w*[l], l = 1..L; index
  // 0 unused; out = d_m at l = L, else H).
  simd::PackedB<T> w1m_t;
  const simd::PackedB<T>* upper_w_t;
  simd::PackedB<T> w1m;
  const simd::PackedB<T>* upper_w;
  // Blocking and checkpointing (fused_unroll.h).
  int64_t block_steps;     // G
  int64_t chunk_steps;     // steps per chunk of a block (≈ kChunkRows / B)
  int64_t num_blocks;      // ⌈T / G⌉
  int64_t segment_blocks;  // blocks per checkpoint segment
  int64_t num_segments;  // ⌈num_blocks / segment_blocks⌉ (1: full storage)
  int64_t num_slots;     // block j lives in slots[j % num_slots]
  const Slot<T>* slots;
  T* z;       // z [cap, d_m] of the block being run (also A₁ if L = 0)
  T* k_step;  // the forward's K_t [B, d_m]
  T* h_step;  // the forward's h_l at step t [B, H]
  int64_t carry_width;  // width of the forward trace: H₁ (projected) or B_r
  T* ckpt_m;            // [num_segments, B, d_m]: m before each segment
  T* ckpt_carry;        // [num_segments, B, carry_width]: the trace before it
  // Parameter Vars (mlp_w, mlp_b: L + 1 of each), and y once recorded.
  Var<T> x, w_s, kappa_m, gain, w_y, b_y, y;
  const Var<T>* mlp_w;
  const Var<T>* mlp_b;
};

// The plan for `rows` = B·T input rows (CSR row_begin/col/val, batch-major;
// x: the dense input's Var when it may need a gradient), in the tape's
// arena. needs_grad: whether anything needs a gradient (then every block's
// slot is kept per segment, and the backward's weights are packed).
template <typename T>
FusedPlan<T> BuildPlan(Tape<T>& tape, const FusedElmSpec& spec,
                       const FusedElmParams<T>& p, Var<T> x,
                       const int64_t* row_begin, const int32_t* col,
                       const T* val, int64_t rows, int64_t steps,
                       bool needs_grad, const FusedElmOptions& options);

// An array of n T in `arena` (zeroed when asked; null when n == 0), 64-byte
// aligned. (No result depends on an address: every loop handles unaligned
// data the same way.)
template <typename T>
inline T* ArenaArray(Arena& arena, int64_t n, bool zero = false) {
  if (n == 0) return nullptr;
  return zero ? arena.AllocateZeroed<T>(n) : arena.AllocateArray<T>(n);
}

// B(p, j) = b[p·rs + j·cs] for p < k, j < n, packed for simd::Gemm into
// `arena`.
template <typename T>
inline simd::PackedB<T> PackB(Arena& arena, const T* b, int64_t rs, int64_t cs,
                              int64_t k, int64_t n) {
  return simd::PackInto(arena.AllocateArray<T>(simd::PackedSize<T>(k, n)), b,
                        rs, cs, k, n);
}

// The last row block [B, d_m] of m in block j's slot (block j is full).
template <typename T>
inline const T* LastM(const FusedPlan<T>& plan, int64_t j) {
  return plan.slots[j % plan.num_slots].m +
         (plan.block_steps - 1) * plan.batch * plan.d_m;
}

// K_t = κ_m ⊙ m_{t−1} [B, d_m] of step t of the block starting at t0 (zero
// at t = 0), into k: the forward's and the backward's (recomputed) K. (A
// separate loop so that the restrict-qualified pointers let the compiler
// vectorise over d_m.)
template <typename T>
inline void DecayMemory(int64_t B, int64_t dm, const T* __restrict km,
                        const T* __restrict m_prev, T* __restrict k) {
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t i = 0; i < dm; ++i) k[b * dm + i] = km[i] * m_prev[b * dm + i];
  }
}
template <typename T>
inline void StepMemoryInput(const FusedPlan<T>& plan, const Slot<T>& slot,
                            int64_t t0, int64_t t, T* k) {
  const int64_t B = plan.batch, dm = plan.d_m;
  if (t == 0) {
    std::fill(k, k + B * dm, T(0));
    return;
  }
  const T* m_prev = t == t0 ? slot.m_in : slot.m + ((t - t0) * B - B) * dm;
  DecayMemory(B, dm, plan.kappa_m.value, m_prev, k);
}

}  // namespace elm

#endif  // ELM_ELM_FUSED_PLAN_H_
