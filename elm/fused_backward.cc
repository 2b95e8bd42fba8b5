// The backward of the fused ELM unroll (fused_backward.h). Adjoint (ȳ given;
// notation of fused_unroll.h; every weight gradient is one product per chunk
// of C·B rows):
//   Readout:  W̄_y += ȲᵀM,  b̄_y += Σ Ȳ,  M̄ = Ȳ·W_y            [C·B, d_m]
//   reverse over t, with c = adjoint reaching m_t from step t+1 (c = 0 at
//   t = T−1):
//     m̄ = M̄_t + c;  ḡ += Σ_b m̄ ⊙ Δ_t;  Z̄_t = m̄ ⊙ g ⊙ 1.7159·(1 − tanh²)·2/3
//     Ā_l = (Ā_{l+1}·W_{l+1}) ⊙ act'(A_l) down to Ā₁;   k̄ = m̄ + Ā₁·W₁ₘ
//     κ̄_m += Σ_b k̄ ⊙ m_{t−1};   c = k̄ ⊙ κ_m
//   Per chunk:  W̄_{l+1} += Ā_{l+1}ᵀ·act(A_l),  b̄ += Σ Ā;   W̄₁ₘ += Ā₁ᵀ·K;
//     W̄₁ᵤ += Ā₁ᵀ·U;   Ū = Ā₁·W₁ᵤ, then the branch part (branch_drive.h):
//     ā_t = Ū_t + κ_u ⊙ ā_{t+1};  w̄[k] += Σ_{b,t} ā_t[br(k)]·x̃_t[k];  x̄.
// κ_m and g are Vars computed by primitive ops from τ_m, so their own
// gradients (to τ_m's proto) come from the tape. W̄₁ᵤ and W̄₁ₘ accumulate
// transposed (W̄₁ᵤᵀ, W̄₁ₘᵀ: the wide side as panel columns) and are added into
// W̄₁ once, after the last block; so are the projected and dense drives'
// per-channel sums.
#include "elm/fused_backward.h"

#include <algorithm>

#include "autodiff/simd/activations.h"
#include "autodiff/simd/gemm.h"
#include "autodiff/tensor.h"
#include "elm/fused_forward.h"

namespace elm {
namespace {

using simd::GemmInit;

template <typename T>
using Mat = Eigen::Map<RowMatrix<T>>;

// The backward's scratch, one chunk's worth (cap = chunk_steps·B rows; every
// buffer is fully written before it is read, except the accumulators and
// carries, which are zeroed).
template <typename T>
struct Scratch {
  T* y_bar;           // Ȳ [cap, n_out], time-major
  T* m_bar;           // M̄ [cap, d_m]
  T* a1_bar;          // Ā₁ [cap, H₁]
  T* hidden_bar;      // Ā_2..Ā_L [L − 1, cap, H]
  T* z_bar;           // Z̄ [cap, d_m] (L ≥ 1; else Ā₁)
  T* h;               // h_1..h_L recomputed [L, cap, H] (by ActBackward)
  T* k;               // K recomputed [cap, d_m]
  T* m_bar_next;      // c, the adjoint reaching m_t from step t + 1 [B, d_m]
  T* k_bar;           // [B, d_m]
  T* gain_bar;        // [d_m]
  T* kappa_bar;       // [d_m]
  T* a_bar;           // ā [cap, B_r] (when needed)
  T* scanned_a1_bar;  // G, the reverse-scanned Ā₁ [cap, H₁] (projected, x̄)
  T* rev_carry;       // the reverse scan's row at t1 (of ā or of G)
  T* w1u_bar_t;       // W̄₁ᵤᵀ [B_r, H₁]
  T* w1m_bar_t;       // W̄₁ₘᵀ [d_m, H₁]
  T* carry;           // the forward trace while recomputing a segment
  T* gemm_tn;         // GemmTN's packed pieces
  T* chan_g;          // Σ x·G_t per input channel [N, w1u_ld] (projected)
  T* chan_wbar;       // the adjoint of chan_w [N, chan_ld] (dense drive)
};

template <typename T>
Scratch<T> AllocateScratch(const FusedPlan<T>& plan) {
  const int64_t B = plan.batch, dm = plan.d_m;
  const int64_t cap = plan.chunk_steps * B;  // the scratch holds one chunk
  const int64_t L = plan.layers, H1 = plan.h1, n_branch = plan.n_branch;
  const bool w1_grad = plan.mlp_w[0].grad != nullptr;
  const bool need_a_bar = (plan.w_s.grad && !plan.projected) || plan.x.grad;
  Arena& arena = *plan.arena;
  Scratch<T> scratch;
  scratch.y_bar = ArenaArray<T>(arena, cap * plan.n_out);
  scratch.m_bar = ArenaArray<T>(arena, cap * dm);
  scratch.a1_bar = ArenaArray<T>(arena, cap * H1);
  scratch.hidden_bar =
      ArenaArray<T>(arena, L > 1 ? cap * plan.hidden * (L - 1) : 0);
  scratch.z_bar = ArenaArray<T>(arena, L > 0 ? cap * dm : 0);
  scratch.h = ArenaArray<T>(arena, L * cap * plan.hidden);
  scratch.k = ArenaArray<T>(arena, cap * dm);
  scratch.m_bar_next = ArenaArray<T>(arena, B * dm, true);
  scratch.k_bar = ArenaArray<T>(arena, B * dm);
  scratch.gain_bar = ArenaArray<T>(arena, dm, true);
  scratch.kappa_bar = ArenaArray<T>(arena, dm, true);
  scratch.a_bar = ArenaArray<T>(arena, need_a_bar ? cap * n_branch : 0);
  scratch.scanned_a1_bar =
      ArenaArray<T>(arena, plan.projected && plan.x.grad ? cap * H1 : 0);
  scratch.rev_carry =
      ArenaArray<T>(arena, B * (plan.projected ? H1 : n_branch), true);
  scratch.w1u_bar_t = ArenaArray<T>(arena, w1_grad ? n_branch * H1 : 0, true);
  scratch.w1m_bar_t = ArenaArray<T>(arena, w1_grad ? dm * H1 : 0, true);
  scratch.carry =
      ArenaArray<T>(arena, plan.num_segments > 1 ? B * plan.carry_width : 0);
  const int64_t widest = std::max({dm, plan.hidden, n_branch, plan.n_out, H1});
  scratch.gemm_tn =
      ArenaArray<T>(arena, simd::GemmTNScratch<T>(widest, widest));
  scratch.chan_wbar = ArenaArray<T>(
      arena,
      plan.chan_w != nullptr && plan.w_s.grad ? plan.n_in * plan.chan_ld : 0,
      true);
  scratch.chan_g = ArenaArray<T>(arena,
                                 plan.projected && (w1_grad || plan.w_s.grad)
                                     ? plan.n_in * plan.w1u_ld
                                     : 0,
                                 true);
  return scratch;
}

// grad[c] += Σ_r a[r, c], the rows in order (a plain loop: the result does
// not depend on where the gradient lives).
template <typename T>
void AddColumnSums(T* grad, const T* a, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* ar = a + r * cols;
    for (int64_t c = 0; c < cols; ++c) grad[c] += ar[c];
  }
}

// The cell's element-wise adjoints on [B, d_m] rows (restrict-qualified so
// that the compiler vectorises over d_m).
//
// m̄ += c;  ḡ += Σ_b m̄ ⊙ Δ;  Z̄ = m̄ ⊙ g ⊙ 1.7159·(1 − tanh²)·2/3.
template <typename T>
void CellOutputBackward(int64_t B, int64_t dm, const T* __restrict th,
                        const T* __restrict g, const T* __restrict c,
                        T* __restrict mb, T* __restrict gain_bar,
                        T* __restrict zb) {
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t i = 0; i < dm; ++i) {
      const int64_t e = b * dm + i;
      mb[e] += c[e];
      const T delta = th[e] * T(1.7159);
      gain_bar[i] += mb[e] * delta;
      zb[e] = mb[e] * g[i] * T(1.7159) * (T(1) - th[e] * th[e]) * (T(2) / T(3));
    }
  }
}

// k̄ += m̄ (k̄ holds Ā₁·W₁ₘ);  κ̄_m += Σ_b k̄ ⊙ m_{t−1} (unless m_prev is
// null: t = 0);  c = k̄ ⊙ κ_m.
template <typename T>
void MemoryInputBackward(int64_t B, int64_t dm, const T* __restrict mb,
                         const T* __restrict km, const T* __restrict m_prev,
                         T* __restrict k_bar, T* __restrict kappa_bar,
                         T* __restrict c) {
  for (int64_t b = 0; b < B; ++b) {
    T* __restrict kb = k_bar + b * dm;
    for (int64_t i = 0; i < dm; ++i) kb[i] += mb[b * dm + i];
    if (m_prev != nullptr) {
      for (int64_t i = 0; i < dm; ++i)
        kappa_bar[i] += kb[i] * m_prev[b * dm + i];
    }
    for (int64_t i = 0; i < dm; ++i) c[b * dm + i] = kb[i] * km[i];
  }
}

// A chunk of block j: steps [c0, c1) of the block's [t0, t1), block rows
// from o = (c0 − t0)·B, R = (c1 − c0)·B of them; scratch row (t − c0)·B + b.
struct Chunk {
  int64_t t0, c0, c1, o, R;
};

// The readout's adjoint for the chunk: Ȳ to time-major, W̄_y += ȲᵀM,
// b̄_y += Σ Ȳ, M̄ = Ȳ·W_y. A chunk without any Ȳ (a loss on the last step
// only) has M̄ = 0 and adds nothing to W̄_y, b̄_y.
template <typename T>
void ReadoutBackward(const FusedPlan<T>& plan, const Slot<T>& slot,
                     const Chunk& ch, const Scratch<T>& scratch) {
  const int64_t B = plan.batch, TT = plan.steps, dm = plan.d_m;
  const int64_t n_out = plan.n_out;
  bool any = false;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = ch.c0; t < ch.c1; ++t) {
      const T* src = plan.y.grad + (b * TT + t) * n_out;
      T* dst = scratch.y_bar + ((t - ch.c0) * B + b) * n_out;
      for (int64_t i = 0; i < n_out; ++i) {
        dst[i] = src[i];
        any |= src[i] != T(0);
      }
    }
  }
  if (!any) {
    std::fill(scratch.m_bar, scratch.m_bar + ch.R * dm, T(0));
    return;
  }
  if (plan.w_y.grad) {
    simd::GemmTN(n_out, dm, ch.R, scratch.y_bar, n_out, slot.m + ch.o * dm, dm,
                 plan.w_y.grad, dm, scratch.gemm_tn);
  }
  if (plan.b_y.grad) AddColumnSums(plan.b_y.grad, scratch.y_bar, ch.R, n_out);
  simd::Gemm(ch.R, scratch.y_bar, n_out, 1, plan.wy, scratch.m_bar, dm,
             GemmInit::kZero);
}

// The cell's adjoint at step t of the chunk: m̄ → Z̄ → down the MLP to Ā₁
// (writing h_l for the weight gradients) → k̄, κ̄_m and c for step t − 1.
template <typename T>
void CellStepBackward(const FusedPlan<T>& plan, const Slot<T>& slot,
                      const Chunk& ch, int64_t t, const Scratch<T>& scratch) {
  const int64_t B = plan.batch, dm = plan.d_m, L = plan.layers;
  const int64_t H1 = plan.h1, hidden = plan.hidden;
  const int64_t cap = plan.block_steps * B;   // rows of a slot
  const int64_t ccap = plan.chunk_steps * B;  // rows of a scratch chunk
  const int64_t row = (t - ch.c0) * B;        // in the chunk's scratch
  const int64_t srow = (t - ch.t0) * B;       // in the slot
  T* mb = scratch.m_bar + row * dm;
  // The adjoint of z_t: into Z̄ (L > 0) or Ā₁ (L == 0).
  T* zb = (L > 0 ? scratch.z_bar : scratch.a1_bar) + row * dm;
  CellOutputBackward(B, dm, slot.th + srow * dm, plan.gain.value,
                     scratch.m_bar_next, mb, scratch.gain_bar, zb);
  // Down the MLP: Ā_l = (Ā_{l+1}·W_{l+1}) ⊙ act'(A_l).
  const T* upper = zb;
  int64_t upper_width = dm;
  for (int64_t l = L; l >= 1; --l) {
    T* ab = l == 1 ? scratch.a1_bar + row * hidden
                   : scratch.hidden_bar + ((l - 2) * ccap + row) * hidden;
    simd::SmallGemm<T>(B, upper, upper_width, plan.upper_w[l], ab, hidden,
                       GemmInit::kZero);
    const T* pre = slot.pre + ((l - 1) * cap + srow) * hidden;
    // (also h_l for the chunk's weight gradient W̄_{l+1})
    simd::ActBackward(pre, ab, scratch.h + ((l - 1) * ccap + row) * hidden,
                      B * hidden, plan.act);
    upper = ab;
    upper_width = hidden;
  }
  // k̄ = m̄ + Ā₁·W₁ₘ;  κ̄_m += Σ_b k̄ ⊙ m_{t−1};  c = k̄ ⊙ κ_m.
  simd::SmallGemm<T>(B, scratch.a1_bar + row * H1, H1, plan.w1m, scratch.k_bar,
                     dm, GemmInit::kZero);
  const T* m_prev = t == ch.t0 ? slot.m_in : slot.m + (srow - B) * dm;
  MemoryInputBackward(B, dm, mb, plan.kappa_m.value, t > 0 ? m_prev : nullptr,
                      scratch.k_bar, scratch.kappa_bar, scratch.m_bar_next);
}

// The chunk's MLP weight gradients, one product each over its rows:
// W̄_{l+1} += Ā_{l+1}ᵀ·h_l, b̄_{l+1} += Σ Ā_{l+1}, W̄₁ₘᵀ += Kᵀ·Ā₁, b̄₁ += Σ Ā₁.
template <typename T>
void MlpWeightGrads(const FusedPlan<T>& plan, const Slot<T>& slot,
                    const Chunk& ch, const Scratch<T>& scratch) {
  const int64_t B = plan.batch, dm = plan.d_m, L = plan.layers;
  const int64_t H1 = plan.h1, hidden = plan.hidden;
  const int64_t ccap = plan.chunk_steps * B;
  for (int64_t l = L; l >= 1; --l) {  // layer l+1 (index l), input h_l
    const Var<T>& wl = plan.mlp_w[l];
    const Var<T>& bias = plan.mlp_b[l];
    const int64_t out = l == L ? dm : hidden;
    const T* ab =
        l == L ? scratch.z_bar : scratch.hidden_bar + (l - 1) * ccap * hidden;
    if (wl.grad) {
      simd::GemmTN(out, hidden, ch.R, ab, out,
                   scratch.h + (l - 1) * ccap * hidden, hidden, wl.grad, hidden,
                   scratch.gemm_tn);
    }
    if (bias.grad) AddColumnSums(bias.grad, ab, ch.R, out);
  }
  if (plan.mlp_w[0].grad) {
    // K = κ_m ⊙ m_{t−1} for the chunk's rows, as the forward computed it.
    for (int64_t t = ch.c0; t < ch.c1; ++t)
      StepMemoryInput(plan, slot, ch.t0, t, scratch.k + (t - ch.c0) * B * dm);
    // W̄₁ₘᵀ [d_m, H₁] += Kᵀ·Ā₁ (the wide side as columns: faster panels;
    // added into W̄₁ once, at the end).
    simd::GemmTN(dm, H1, ch.R, scratch.k, dm, scratch.a1_bar, H1,
                 scratch.w1m_bar_t, H1, scratch.gemm_tn);
  }
  if (plan.mlp_b[0].grad)
    AddColumnSums(plan.mlp_b[0].grad, scratch.a1_bar, ch.R, H1);
}

// The chunk's branch part: W̄₁ᵤ (or the projected channel sums), ā by the
// reverse scan, then w̄ and x̄ from ā (branch_drive.h).
template <typename T>
void BranchBackward(const FusedPlan<T>& plan, const Slot<T>& slot,
                    const Chunk& ch, const Scratch<T>& scratch) {
  const int64_t n_branch = plan.n_branch, H1 = plan.h1;
  const BlockRows rows{plan.batch, plan.steps, ch.c0, ch.c1};
  if (plan.projected) {
    // With one κ for every branch, U·W₁ᵤᵀ = scan(A·W₁ᵤᵀ): the forward
    // never formed U. G = reverse-scan(Ā₁) gives W̄₁ᵤ = Σ_t G_tᵀ a_t and
    // ā_t = G_t·W₁ᵤ, both over the input's nonzeros only: per input
    // channel, Σ x·G_t over its nonzeros (Backward turns it into W̄₁ᵤ and w̄
    // once, after the last block), with the reverse scan in the same pass;
    // G itself is kept only for x̄.
    if (scratch.chan_g != nullptr || plan.x.grad) {
      ReverseScanChannelSums(
          rows, H1, plan.w1u_ld, plan.kappa_u[0], plan.row_begin, plan.col,
          plan.val, scratch.a1_bar, scratch.rev_carry,
          plan.x.grad ? scratch.scanned_a1_bar : nullptr, scratch.chan_g);
    }
    if (plan.x.grad) {
      simd::Gemm(ch.R, scratch.scanned_a1_bar, H1, 1, plan.w1u, scratch.a_bar,
                 n_branch, GemmInit::kZero);
    }
  } else {
    if (plan.mlp_w[0].grad) {
      // W̄₁ᵤᵀ [B_r, H₁] += Uᵀ·Ā₁ (as W̄₁ₘᵀ).
      simd::GemmTN(n_branch, H1, ch.R, slot.u + ch.o * n_branch, n_branch,
                   scratch.a1_bar, H1, scratch.w1u_bar_t, H1, scratch.gemm_tn);
    }
    if (scratch.a_bar != nullptr) {
      // Ū = Ā₁·W₁ᵤ, then the reverse scan ā_t = Ū_t + κ_u ⊙ ā_{t+1}.
      simd::Gemm(ch.R, scratch.a1_bar, H1, 1, plan.w1u, scratch.a_bar, n_branch,
                 GemmInit::kZero);
      ReverseBranchTraceScan(rows, n_branch, plan.kappa_u, scratch.rev_carry,
                             scratch.a_bar);
    }
  }
  if (scratch.a_bar == nullptr) return;
  // w̄[k] += Σ ā[br(k)]·mask[k]·x over the nonzeros (unless done above);
  // x̄[c] += Σ_k w[k]·mask[k]·ā[br(k)].
  if (plan.w_s.grad && !plan.projected) {
    if (scratch.chan_wbar != nullptr) {
      DenseChannelGrad(rows, n_branch, plan.chan_ld, plan.row_begin, plan.col,
                       plan.val, scratch.a_bar, scratch.chan_wbar);
    } else {
      BranchWeightGrad(rows, n_branch, plan.row_begin, plan.col, plan.val,
                       plan.synapses, scratch.a_bar, plan.w_s.grad);
    }
  }
  if (plan.x.grad) {
    BranchInputGrad(rows, n_branch, plan.n_in, plan.synapses, scratch.a_bar,
                    plan.x.grad);
  }
}

// The backward of block j (its activations in `slot`), chunk by chunk in
// reverse (the chunks of ForwardBlock, so that a chunk's adjoints are still
// in cache for its products).
template <typename T>
void BackwardBlock(const FusedPlan<T>& plan, int64_t j, const Slot<T>& slot,
                   const Scratch<T>& scratch) {
  const int64_t B = plan.batch, G = plan.block_steps;
  const int64_t t0 = j * G, t1 = std::min(plan.steps, t0 + G);
  const int64_t last = t1 - t0 - (t1 - t0 - 1) % plan.chunk_steps - 1;
  for (int64_t c0 = t0 + last, c1 = t1; c1 > t0;
       c1 = c0, c0 -= plan.chunk_steps) {
    const Chunk ch{t0, c0, c1, (c0 - t0) * B, (c1 - c0) * B};
    ReadoutBackward(plan, slot, ch, scratch);
    for (int64_t t = c1 - 1; t >= c0; --t)
      CellStepBackward(plan, slot, ch, t, scratch);
    MlpWeightGrads(plan, slot, ch, scratch);
    BranchBackward(plan, slot, ch, scratch);
  }
}

// After the last block: the accumulators into the parameters' gradients.
template <typename T>
void AddAccumulatedGrads(const FusedPlan<T>& plan, const Scratch<T>& scratch) {
  const int64_t dm = plan.d_m, H1 = plan.h1, n_branch = plan.n_branch;
  if (plan.gain.grad)
    for (int64_t i = 0; i < dm; ++i) plan.gain.grad[i] += scratch.gain_bar[i];
  if (plan.kappa_m.grad) {
    for (int64_t i = 0; i < dm; ++i)
      plan.kappa_m.grad[i] += scratch.kappa_bar[i];
  }
  if (scratch.chan_wbar != nullptr) {
    DenseChannelGradToSynapses(plan.n_in, plan.synapses, plan.chan_ld,
                               scratch.chan_wbar, plan.w_s.grad);
  }
  if (scratch.chan_g != nullptr) {
    ProjectedChannelSumsToGrads(plan.n_in, H1, plan.w1u_ld, plan.synapses,
                                scratch.chan_g, plan.w1u_t, scratch.w1u_bar_t,
                                plan.w_s.grad);
  }
  if (plan.mlp_w[0].grad) {
    Mat<T> w1_grad(plan.mlp_w[0].grad, H1, n_branch + dm);
    if (scratch.w1u_bar_t != nullptr) {
      w1_grad.leftCols(n_branch) +=
          Mat<T>(scratch.w1u_bar_t, n_branch, H1).transpose();
    }
    w1_grad.rightCols(dm) += Mat<T>(scratch.w1m_bar_t, dm, H1).transpose();
  }
}

}  // namespace

template <typename T>
void Backward(const FusedPlan<T>& plan) {
  const int64_t B = plan.batch, dm = plan.d_m;
  const Scratch<T> scratch = AllocateScratch(plan);
  for (int64_t seg = plan.num_segments - 1; seg >= 0; --seg) {
    const int64_t j_begin = seg * plan.segment_blocks;
    const int64_t j_end =
        std::min(plan.num_blocks, j_begin + plan.segment_blocks);
    // Checkpointed: recompute the segment from its checkpoint (the last
    // segment's activations are still in the slots from the forward).
    if (seg < plan.num_segments - 1) {
      const T* ck = plan.ckpt_carry + seg * B * plan.carry_width;
      std::copy(ck, ck + B * plan.carry_width, scratch.carry);
      for (int64_t j = j_begin; j < j_end; ++j) {
        const T* m_prev = j == 0         ? nullptr
                          : j == j_begin ? plan.ckpt_m + seg * B * dm
                                         : LastM(plan, j - 1);
        ForwardBlock(plan, j, m_prev, scratch.carry,
                     plan.slots[j % plan.num_slots]);
      }
    }
    for (int64_t j = j_end - 1; j >= j_begin; --j)
      BackwardBlock(plan, j, plan.slots[j % plan.num_slots], scratch);
  }
  AddAccumulatedGrads(plan, scratch);
}

template void Backward(const FusedPlan<float>&);
template void Backward(const FusedPlan<double>&);

}  // namespace elm
