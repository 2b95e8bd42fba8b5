// The fused ELM unroll: the whole T-step ELM / Branch-ELM recurrence as ONE
// tape record with a hand-derived backward. It computes exactly what
// ElmModel::Unroll composes from primitive ops (the oracle; they agree to
// ~1e-12 relative in double), much faster.
//
// Notation (rows are [B, ·] per step; [T·B, ·] buffers are time-major
// internally):
//   x̃_t = routed input [B, S];  w = w_s ⊙ mask [S];  br(k) = k / d_brch
//   Branch drive (time-parallel, sparse):
//     a_t[j] = Σ_{k: br(k)=j} w[k]·x̃_t[k]              [B, B_r]
//   Branch trace (a linear scan):
//     u_t = κ_u ⊙ u_{t−1} + a_t,  u_{−1} = 0
//     (v1 sums synaptic traces with one τ_s per branch, which equals this
//     scan; v2 is it.)
//   MLP first layer, time-parallel part:
//     P = U·W₁ᵤᵀ + b₁                                  [T·B, H₁]
//   Sequential cell, per step t:
//     k_t = κ_m ⊙ m_{t−1}                  (m_{−1} = 0)
//     A₁ = P_t + k_t·W₁ₘᵀ;  h_l = act(A_l);  A_{l+1} = h_l·W_{l+1}ᵀ + b_{l+1};
//     z_t = A_{L+1}
//       (with no hidden layer, z_t = A₁)
//     Δ_t = 1.7159·tanh(2z_t/3);  m_t = k_t + g ⊙ Δ_t     (g = λ(1−κ_m) in v1,
//     1−κ_λ in v2)
//   Readout, time-parallel:                y = M·W_yᵀ + b_y [T·B, n_out]
//
// The adjoint (ȳ given; every weight gradient is one product per chunk of
// rows) is written out in fused_backward.cc, the branch part in
// branch_drive.h.
//
// Blocking. The T steps are cut into blocks of G steps (G =
// FusedElmOptions::block_steps, by default ⌈4096 / B⌉ so that a block has
// about 4096 rows; at most T); only the last block may be shorter. A block is
// the unit of storage and checkpointing; it is processed in chunks of
// C = min(G, max(1, ⌊128 / B⌋)) steps (the last chunk of a block may be
// shorter), small enough that a chunk's rows are still in L2 from one stage to
// the next. The forward runs the chunks in order: the chunk's branch drive and
// trace scan (the trace's last row carried into the next chunk), P for its
// rows, the sequential cell, and the readout into y. The backward walks the
// blocks in reverse and each block's chunks in reverse: M̄ = Ȳ·W_y and W̄_y
// for the chunk's rows, the cell's per-step sweep over the chunk, then each
// weight gradient as one product over the chunk's C·B rows added into the
// gradient (W̄₁ into a transposed accumulator, added into the gradient after
// the last block; the gradients sum chunk results in reverse order), then the
// branch part for the chunk: Ū, the reverse scan (carried into the previous
// chunk) and the sparse w̄ / x̄. Every step of this is the same whether the
// block's activations were stored by the forward or recomputed, so the
// floating-point order depends on G (through the chunks) only, never on the
// checkpoint spacing. (G changes results only by rounding.) No result
// depends on an address (where the gradients live, or a buffer's alignment),
// nor, in the forward, on the batch: a sequence's outputs are the same
// whichever batch it runs in (evaluation relies on it).
//
// Implementation. fused_spec.h: this API's types and FusedElmUnrollLayout;
// fused_plan.h: what is computed once per unroll (the routing inverted, the
// weights packed, the layout and the slots); branch_drive.h: the branch drive
// by shape (projected, dense or scattered); fused_forward.cc: the block
// forward; fused_backward.cc: the backward. The products, tanh, exp (silu) and
// the vector type are the kernels of //autodiff/simd (gemm.h, activations.h,
// vec.h): one register-blocked kernel over weights packed once per unroll,
// explicit fused multiply-adds (the same for every row of any batch), masked
// loads and stores at the edges; Eigen's float algorithms for tanh and exp, one
// vector at a time (the same for every element).
//
// Checkpointing (FusedElmOptions::checkpoint_every = k, or a memory budget).
// Stored per (step, sequence) row, for the backward, are e_row elements:
//   U [B_r] (not with the projected first layer: one κ_u and B_r ≥ 2·H₁),
//   A_1..A_L [L·H], tanh(2z/3) and M [2·d_m],
// plus m_{t0−1} [B, d_m] per block. (h_l = act(A_l) and K = κ_m ⊙ m_{t−1}
// are not stored: the backward's activation derivative also writes h_l, and
// K is recomputed a chunk at a time, both bit for bit, for the weight
// gradients; that is cheaper than reading them back from memory.) Full
// storage keeps every block:
//   full = ⌈T/G⌉·(G·B·e_row + B·d_m)·sizeof(T)  (≈ T·B·e_row·sizeof(T)).
// Checkpointed, the steps are cut into segments of k' = G·⌈k/G⌉ steps (k
// rounded up to whole blocks; k' ≥ T means full storage). The forward keeps
// only one segment's blocks (reused) and, at each segment start t_s, the
// checkpoint (m_{t_s−1} [B, d_m] and the trace row at t_s − 1: [B, B_r], or
// [B, H₁] projected):
//   stored = (k'/G)·(G·B·e_row + B·d_m)·sizeof(T)
//            + ⌈T/k'⌉·B·(d_m + B_r or H₁)·sizeof(T).
// The backward takes the segments in reverse; for each but the last (whose
// blocks are still held from the forward) it reruns the forward of the
// segment's blocks from the checkpoint (the drive, the scan, P and the cell,
// by the same function as the forward; not the readout), then runs the
// segment's blocks' backward as above. Cost: one more forward (without the
// readout) of every segment but the last. Outputs and gradients are
// bit-identical to full storage at the same G (the backward scratch, one
// chunk's worth, is the same in both modes). In both modes y and ȳ [T·B,
// n_out] live on the tape, and an unroll that needs no gradient keeps only
// one block.
#ifndef ELM_ELM_FUSED_UNROLL_H_
#define ELM_ELM_FUSED_UNROLL_H_

#include <cstdint>

#include "autodiff/tape.h"
#include "base/csr.h"
#include "elm/fused_spec.h"  // IWYU pragma: export

namespace elm {

// y [B·T, n_out] for dense inputs x [B·T, N] (x may need a gradient).
template <typename T>
Var<T> FusedElmUnroll(Tape<T>& tape, const FusedElmSpec& spec,
                      const FusedElmParams<T>& p, Var<T> x, int64_t steps,
                      Var<T>* memory_record = nullptr,
                      const FusedElmOptions& options = {});

// The same for sparse inputs (no input gradient).
template <typename T>
Var<T> FusedElmUnroll(Tape<T>& tape, const FusedElmSpec& spec,
                      const FusedElmParams<T>& p, const CsrView& x,
                      int64_t steps, Var<T>* memory_record = nullptr,
                      const FusedElmOptions& options = {});

}  // namespace elm

#endif  // ELM_ELM_FUSED_UNROLL_H_
