// The types of the fused ELM unroll's API (fused_unroll.h, which includes
// this header and documents the unroll): the structure it is given
// (FusedElmSpec), the parameter Vars (FusedElmParams), the blocking and
// checkpointing options (FusedElmOptions) and the layout they lead to
// (FusedElmLayout, FusedElmUnrollLayout). Kept apart from fused_unroll.h so
// that the implementation's plan (fused_plan.h) can use them without
// including the entry points.
#ifndef ELM_ELM_FUSED_SPEC_H_
#define ELM_ELM_FUSED_SPEC_H_

#include <cstdint>
#include <vector>

#include "autodiff/tape.h"

namespace elm {

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

// Blocking and checkpointing of one unroll (fused_unroll.h, "Blocking" and
// "Checkpointing"). The defaults store every step's activations (full
// storage).
struct FusedElmOptions {
  // G, the steps per block (the unit of storage and checkpointing, processed
  // in chunks of min(G, ⌊128 / B⌋) steps); 0: ⌈4096 / B⌉. Through the chunks
  // it fixes the floating-point summation order of the weight gradients, so
  // full storage and checkpointing agree bit for bit only at the same G.
  int64_t block_steps = 0;
  // k > 0: keep the memory state (and the branch trace) only every k steps,
  // k rounded up to a multiple of G, and recompute each segment's activations
  // in the backward (bit-identical to full storage). 0: no checkpoints
  // unless the budget asks for them.
  int64_t checkpoint_every = 0;
  // > 0 (and checkpoint_every == 0): when full storage would keep more than
  // this many bytes of activations (FusedElmLayout::full_storage_bytes),
  // checkpoint with k = ⌈√T⌉ (rounded up to whole blocks).
  int64_t memory_budget_bytes = 0;
};

// How an unroll is blocked and what it stores (FusedElmUnrollLayout).
struct FusedElmLayout {
  int64_t block_steps = 0;       // G
  int64_t num_blocks = 0;        // ⌈T / G⌉
  int64_t segment_steps = 0;     // k' (a multiple of G; the whole sequence when
                                 // not checkpointed)
  int64_t num_segments = 0;      // ⌈num_blocks / (k'/G)⌉
  bool checkpointed = false;     // num_segments > 1
  int64_t elements_per_row = 0;  // e_row
  int64_t full_storage_bytes = 0;  // the activations kept by full storage
  int64_t stored_bytes = 0;  // the activations and checkpoints kept (with a
                             // backward)
  // The first layer projected: one κ_u (in the element type) for every branch
  // and B_r ≥ 2·H₁, so U·W₁ᵤᵀ = scan(A·W₁ᵤᵀ) and U is never formed nor
  // stored.
  bool projected = false;
};

// The layout FusedElmUnroll uses for `batch` sequences of `steps` steps with
// `layers` hidden layers of width `hidden`, elements of `bytes_per_element`
// (4: float, 8: double).
FusedElmLayout FusedElmUnrollLayout(const FusedElmSpec& spec, int64_t layers,
                                    int64_t hidden, int64_t batch,
                                    int64_t steps, int64_t bytes_per_element,
                                    const FusedElmOptions& options = {});

}  // namespace elm

#endif  // ELM_ELM_FUSED_SPEC_H_
