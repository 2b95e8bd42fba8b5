// The branch part of the fused ELM unroll (fused_unroll.h): how the sparse
// input drives the branches, the branch-trace scan and their adjoints, over a
// chunk of a block's rows. With x̃_t the routed input [B, S], w = w_s ⊙ mask
// [S] and br(k) = k / d_brch:
//   Branch drive:  a_t[j] = Σ_{k: br(k)=j} w[k]·x̃_t[k]      [B, B_r]
//   Trace scan:    u_t = κ_u ⊙ u_{t−1} + a_t,  u_{−1} = 0    [B, B_r]
//   First layer's input part:  P = U·W₁ᵤᵀ + b₁               [T·B, H₁]
// Adjoint (Ū = Ā₁·W₁ᵤ given):
//   reverse scan:  ā_t = Ū_t + κ_u ⊙ ā_{t+1}
//   w̄[k] += Σ_{b,t} ā_t[br(k)]·mask[k]·x_t[c(k)]   (over the nonzeros)
//   x̄_t[c] += Σ_{k fed by c} w[k]·ā_t[br(k)]
//
// Three strategies, chosen by shape once per unroll (fused_plan.cc):
//  - scattered (BranchDrive): for each nonzero, an add per synapse its
//    channel feeds;
//  - dense (DenseBranchDrive): when the branches are few against the synapses
//    per channel (NeuronIO routing), each nonzero adds its channel's row of
//    summed synapse weights [B_r], a row's sum kept in registers;
//  - projected (ProjectedDriveScan): with one κ_u for every branch and
//    B_r ≥ 2·H₁, U·W₁ᵤᵀ = scan(A·W₁ᵤᵀ), so U is never formed: each nonzero
//    adds rows of W₁ᵤᵀ, fused with the scan and the bias in one pass, in
//    column blocks of 8 vectors (a block of W₁ᵤᵀ stays in L2, a row's block
//    of the sum in registers). Its backward reverse-scans Ā₁ and keeps per-
//    channel sums of it, from which W̄₁ᵤ and w̄ follow once after the last
//    block (one dot product per synapse, not per nonzero).
//
// Rows: a chunk of steps [t0, t1) has block rows (t − t0)·B + b (time-major)
// and input rows b·T + t (batch-major CSR); nonzeros are visited b, then t,
// then in CSR order, which fixes every floating-point order here.
#ifndef ELM_ELM_BRANCH_DRIVE_H_
#define ELM_ELM_BRANCH_DRIVE_H_

#include <cstdint>

#include "autodiff/arena.h"

namespace elm {

// A live synapse as the sparse loops see it (the synapses a channel feeds are
// contiguous: see ChannelSynapses).
template <typename T>
struct Synapse {
  int32_t k;       // the synapse
  int32_t branch;  // br(k) = k / d_brch
  T w;             // w_s[k]·mask[k] (this unroll's)
  T scale;         // mask[k]
};

// The inverse routing: the synapses channel c feeds are syn[q] for q in
// [chan_begin[c], chan_begin[c + 1]).
template <typename T>
struct ChannelSynapses {
  const int64_t* chan_begin;  // [N + 1]
  const Synapse<T>* syn;      // [live synapses]
};

// Builds the inverse routing in `arena`: synapse k reads input index[k] (k
// itself when index is null) scaled by mask[k] (1 when null); masked synapses
// (padding slots) are left out. w_s [S], S = n_branch·per_branch.
template <typename T>
ChannelSynapses<T> InvertRouting(Arena& arena, int64_t n_in, int64_t n_syn,
                                 int64_t per_branch, const int64_t* index,
                                 const double* mask, const T* w_s);

// The input rows of a chunk of steps [t0, t1) of `batch` sequences of
// `steps` steps.
struct BlockRows {
  int64_t batch, steps, t0, t1;
};

// The most vectors per row of the dense drive (its row stays in registers),
// and per column block of the projected first layer.
constexpr int64_t kMaxDenseVectors = 8;

// The dense drive's per-channel weights: chan_w[c, j] = Σ w[k]·mask[k] over
// the synapses k of channel c on branch j, rows [n_in, ld] (ld ≥ n_branch,
// a whole number of vectors), zeroed first.
template <typename T>
void DenseChannelWeights(int64_t n_in, const ChannelSynapses<T>& cs, int64_t ld,
                         T* chan_w);

// ----- Forward -----

// Scattered: u[row, br(k)] += w[k]·mask[k]·x for each nonzero x of the
// chunk's rows and each synapse k its channel feeds (u [rows, width],
// accumulated).
template <typename T>
void BranchDrive(const BlockRows& br, int64_t width, const int64_t* row_begin,
                 const int32_t* col, const T* val, const ChannelSynapses<T>& cs,
                 T* u);

// Dense: u[row, :] = Σ_x x · chan_w[c, :] over the row's nonzeros x (channel
// c; chan_w [N, ld] from DenseChannelWeights); writes every row of u [rows,
// width], width ≤ kMaxDenseVectors vectors.
template <typename T>
void DenseBranchDrive(const BlockRows& br, int64_t width, int64_t ld,
                      const int64_t* row_begin, const int32_t* col,
                      const T* val, const T* chan_w, T* u);

// The trace scan over the chunk's rows of u [rows, width] (in place, rows
// t-major): u_t += κ_u ⊙ u_{t−1} for t ≥ max(t0, 1), with carry [B, width]
// holding u_{t0−1} on entry and u_{t1−1} on return.
template <typename T>
void BranchTraceScan(const BlockRows& br, int64_t width, const T* kappa_u,
                     T* carry, T* u);

// Projected: the first layer's input part for the chunk's rows, a[row, :] =
// b₁ + trace(row) with trace(t, b) = Σ_x Σ_k w[k]·mask[k]·x · W₁ᵤᵀ[br(k), :]
// (over the nonzeros x of the row and the synapses k their channels feed) +
// κ·trace(t − 1, b), a [rows, width]. W₁ᵤᵀ is [B_r, width] with leading
// dimension ld (a whole number of vectors, zero padded). carry [B, width]
// holds trace(t0 − 1) on entry and trace(t1 − 1) on return. The row's terms
// are resolved once (in `arena`, freed on return).
template <typename T>
void ProjectedDriveScan(const BlockRows& br, int64_t width, int64_t ld, T kappa,
                        const int64_t* row_begin, const int32_t* col,
                        const T* val, const ChannelSynapses<T>& cs,
                        const T* w1u_t, const T* bias, T* carry, T* a,
                        Arena& arena);

// ----- Backward -----

// The reverse scan over the chunk's rows of ā [rows, width] (in place; Ū on
// entry): ā_t += κ_u ⊙ ā_{t+1}, except at the last step T − 1, with
// rev_carry [B, width] holding ā_{t1} on entry and ā_{t0} on return.
template <typename T>
void ReverseBranchTraceScan(const BlockRows& br, int64_t width,
                            const T* kappa_u, T* rev_carry, T* a_bar);

// Scattered: w̄[k] += ā[row, br(k)]·mask[k]·x for each nonzero x of the
// chunk's rows and each synapse k its channel feeds.
template <typename T>
void BranchWeightGrad(const BlockRows& br, int64_t width,
                      const int64_t* row_begin, const int32_t* col,
                      const T* val, const ChannelSynapses<T>& cs,
                      const T* a_bar, T* w_grad);

// Dense: the adjoint of chan_w, chan_wbar[c, :] += x · ā[row, :] (the
// columns past width stay zero); DenseChannelGradToSynapses turns it into w̄.
template <typename T>
void DenseChannelGrad(const BlockRows& br, int64_t width, int64_t ld,
                      const int64_t* row_begin, const int32_t* col,
                      const T* val, const T* a_bar, T* chan_wbar);

// w̄[k] += mask[k]·chan_wbar[c, br(k)] for every synapse k of every channel c
// (after the last block).
template <typename T>
void DenseChannelGradToSynapses(int64_t n_in, const ChannelSynapses<T>& cs,
                                int64_t ld, const T* chan_wbar, T* w_grad);

// Projected backward over the chunk's rows (t descending): G(t, b) =
// Ā₁(t, b) + κ·G(t + 1, b) (just Ā₁ at the last step T − 1) in rev_carry
// [B, width] (holding G(t1) on entry, G(t0) on return), also stored into g
// [rows, width] when not null, and (sums not null) sums[c, :] += x · G(t, b)
// for each nonzero x of the row in channel c (sums [N, ld]).
template <typename T>
void ReverseScanChannelSums(const BlockRows& br, int64_t width, int64_t ld,
                            T kappa, const int64_t* row_begin,
                            const int32_t* col, const T* val, const T* a1_bar,
                            T* rev_carry, T* g, T* sums);

// Projected, after the last block: with S_c = Σ x·G_t over channel c's
// nonzeros (chan_g [N, ld]), W̄₁ᵤᵀ[br(k)] += w[k]·mask[k]·S_c (w1u_bar_t
// [B_r, width], when not null) and w̄[k] += mask[k]·S_c·W₁ᵤᵀ[br(k)] (w_grad,
// when not null) for each synapse k that c feeds.
template <typename T>
void ProjectedChannelSumsToGrads(int64_t n_in, int64_t width, int64_t ld,
                                 const ChannelSynapses<T>& cs, const T* chan_g,
                                 const T* w1u_t, T* w1u_bar_t, T* w_grad);

// x̄[b·T + t, c] += Σ_{k fed by c} w[k]·ā[row, br(k)] over the chunk's rows
// (x_grad [B·T, n_in], a_bar [rows, width]).
template <typename T>
void BranchInputGrad(const BlockRows& br, int64_t width, int64_t n_in,
                     const ChannelSynapses<T>& cs, const T* a_bar, T* x_grad);

}  // namespace elm

#endif  // ELM_ELM_BRANCH_DRIVE_H_
