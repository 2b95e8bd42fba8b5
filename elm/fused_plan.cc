// The plan of one fused unroll (fused_plan.h): what is computed once per
// unroll.
#include "elm/fused_plan.h"

#include <algorithm>
#include <vector>

#include "autodiff/tensor.h"
#include "glog/logging.h"

namespace elm {
namespace {

using simd::kLanes;
using simd::PackedB;

template <typename T>
using Mat = Eigen::Map<RowMatrix<T>>;

// Whether the dense branch drive pays (not projected): a row's vectors are
// few against the synapses per channel (NeuronIO routing: 6 vectors for 45
// branches against 3.5 synapses per channel) and fit in registers.
template <typename T>
bool UseDenseDrive(int64_t chan_ld, int64_t n_live, int64_t n_in) {
  const int64_t vectors = chan_ld / kLanes<T>;
  return vectors <= kMaxDenseVectors &&
         vectors <= 2 + 4 * n_live / std::max<int64_t>(1, n_in);
}

// Packs the weights of every product into the plan: the forward's always,
// the backward's when needs_grad.
template <typename T>
void PackWeights(Arena& arena, const FusedElmParams<T>& p, Var<T> x,
                 bool needs_grad, FusedPlan<T>& plan) {
  const int64_t n_branch = plan.n_branch, dm = plan.d_m, H1 = plan.h1;
  const int64_t L = plan.layers, hidden = plan.hidden, n_out = plan.n_out;
  const int64_t in1 = n_branch + dm;  // W₁ [H₁, in1] = [W₁ᵤ | W₁ₘ]
  const T* w1 = p.mlp_w[0].value;
  plan.w1u_t = nullptr;
  plan.w1u_ld = simd::RoundUpToLanes<T>(H1);
  plan.w1u_t_packed = PackedB<T>{};
  if (plan.projected) {
    // Rows padded with zeros to whole vectors: the sparse loops load and
    // store whole vectors of W₁ᵤᵀ and of the channel sums.
    T* w1u_t = ArenaArray<T>(arena, n_branch * plan.w1u_ld, true);
    Eigen::Map<RowMatrix<T>, 0, Eigen::OuterStride<>>(
        w1u_t, n_branch, H1, Eigen::OuterStride<>(plan.w1u_ld)) =
        Mat<T>(p.mlp_w[0].value, H1, in1).leftCols(n_branch).transpose();
    plan.w1u_t = w1u_t;
  } else {
    plan.w1u_t_packed = PackB<T>(arena, w1, 1, in1, n_branch, H1);
  }
  plan.wy_t = PackB<T>(arena, p.w_y.value, 1, dm, dm, n_out);
  plan.w1m_t = PackB<T>(arena, w1 + n_branch, 1, in1, dm, H1);
  PackedB<T>* upper_w_t = arena.AllocateArray<PackedB<T>>(L + 1);
  upper_w_t[0] = PackedB<T>{};
  for (int64_t l = 1; l <= L; ++l) {
    const int64_t out = l == L ? dm : hidden;
    upper_w_t[l] = PackB<T>(arena, p.mlp_w[l].value, 1, hidden, hidden, out);
  }
  plan.upper_w_t = upper_w_t;

  plan.w1m = plan.w1u = plan.wy = PackedB<T>{};
  PackedB<T>* upper_w = arena.AllocateArray<PackedB<T>>(L + 1);
  for (int64_t l = 0; l <= L; ++l) upper_w[l] = PackedB<T>{};
  if (needs_grad) {
    plan.wy = PackB<T>(arena, p.w_y.value, dm, 1, n_out, dm);
    if ((p.w_s.needs_grad() && !plan.projected) || x.needs_grad())
      plan.w1u = PackB<T>(arena, w1, in1, 1, H1, n_branch);
    plan.w1m = PackB<T>(arena, w1 + n_branch, in1, 1, H1, dm);
    for (int64_t l = 1; l <= L; ++l) {
      const int64_t out = l == L ? dm : hidden;
      upper_w[l] = PackB<T>(arena, p.mlp_w[l].value, hidden, 1, out, hidden);
    }
  }
  plan.upper_w = upper_w;
}

// Blocks, segments, slots and checkpoints (fused_unroll.h, "Blocking" and
// "Checkpointing"): without a backward one slot suffices (nothing is read
// back).
template <typename T>
void PlaceBlocks(Arena& arena, const FusedElmLayout& layout, bool needs_grad,
                 FusedPlan<T>& plan) {
  const int64_t B = plan.batch, dm = plan.d_m, G = layout.block_steps;
  const int64_t cap = G * B;
  plan.block_steps = G;
  plan.chunk_steps = std::min(G, std::max<int64_t>(1, kChunkRows / B));
  plan.num_blocks = layout.num_blocks;
  plan.segment_blocks = layout.segment_steps / G;
  plan.num_segments = layout.num_segments;
  plan.num_slots = needs_grad ? plan.segment_blocks : 1;
  Slot<T>* slots = arena.AllocateArray<Slot<T>>(plan.num_slots);
  for (int64_t i = 0; i < plan.num_slots; ++i) {
    Slot<T>& slot = slots[i];
    slot.u = ArenaArray<T>(arena, plan.projected ? 0 : cap * plan.n_branch);
    slot.pre = ArenaArray<T>(arena, plan.layers * cap * plan.hidden);
    slot.th = ArenaArray<T>(arena, cap * dm);
    slot.m = ArenaArray<T>(arena, cap * dm);
    slot.m_in = ArenaArray<T>(arena, B * dm);
  }
  plan.slots = slots;
  plan.z = ArenaArray<T>(arena, cap * dm);
  plan.k_step = ArenaArray<T>(arena, B * dm);
  plan.h_step = ArenaArray<T>(arena, B * plan.hidden);
  const bool checkpointed = needs_grad && plan.num_segments > 1;
  plan.ckpt_m =
      ArenaArray<T>(arena, checkpointed ? plan.num_segments * B * dm : 0);
  plan.ckpt_carry = ArenaArray<T>(
      arena, checkpointed ? plan.num_segments * B * plan.carry_width : 0);
}

}  // namespace

template <typename T>
FusedPlan<T> BuildPlan(Tape<T>& tape, const FusedElmSpec& spec,
                       const FusedElmParams<T>& p, Var<T> x,
                       const int64_t* row_begin, const int32_t* col,
                       const T* val, int64_t rows, int64_t steps,
                       bool needs_grad, const FusedElmOptions& options) {
  CHECK_GT(steps, 0);
  CHECK_EQ(rows % steps, 0)
      << "FusedElmUnroll: " << rows << " rows are not B·" << steps;
  CHECK_GE(options.block_steps, 0);
  CHECK_GE(options.checkpoint_every, 0);
  CHECK_GE(options.memory_budget_bytes, 0);
  const int64_t n_branch = spec.num_branch, per = spec.num_synapse_per_branch;
  const int64_t n_syn = n_branch * per;
  const int64_t L = static_cast<int64_t>(p.mlp_w.size()) - 1;
  CHECK_GE(L, 0);
  CHECK_EQ(p.mlp_b.size(), p.mlp_w.size());
  CHECK_EQ(p.w_s.size(), n_syn);
  CHECK_EQ(static_cast<int64_t>(spec.kappa_branch.size()), n_branch);
  const int64_t hidden = L > 0 ? p.mlp_w[0].rows : 0;
  const int64_t H1 = L > 0 ? hidden : spec.num_memory;
  CHECK_EQ(p.mlp_w[0].rows, H1);
  CHECK_EQ(p.mlp_w[0].cols, n_branch + spec.num_memory);
  Arena& arena = tape.arena();

  FusedPlan<T> plan;
  plan.batch = rows / steps;
  plan.steps = steps;
  plan.n_in = spec.num_input;
  plan.n_branch = n_branch;
  plan.d_m = spec.num_memory;
  plan.n_out = p.w_y.rows;
  plan.layers = L;
  plan.hidden = hidden;
  plan.h1 = H1;
  plan.act = spec.silu ? simd::Activation::kSilu : simd::Activation::kRelu;
  plan.arena = &arena;
  const bool routed = !spec.index.empty();
  plan.synapses = InvertRouting<T>(
      arena, spec.num_input, n_syn, per, routed ? spec.index.data() : nullptr,
      routed ? spec.mask.data() : nullptr, p.w_s.value);
  T* kappa_u = arena.AllocateArray<T>(n_branch);
  for (int64_t j = 0; j < n_branch; ++j)
    kappa_u[j] = static_cast<T>(spec.kappa_branch[j]);
  plan.kappa_u = kappa_u;
  plan.row_begin = row_begin;
  plan.col = col;
  plan.val = val;
  plan.x = x;
  plan.w_s = p.w_s;
  plan.kappa_m = p.kappa_m;
  plan.gain = p.gain;
  plan.w_y = p.w_y;
  plan.b_y = p.b_y;
  Var<T>* mlp = arena.AllocateArray<Var<T>>(2 * (L + 1));
  std::copy(p.mlp_w.begin(), p.mlp_w.end(), mlp);
  std::copy(p.mlp_b.begin(), p.mlp_b.end(), mlp + L + 1);
  plan.mlp_w = mlp;
  plan.mlp_b = mlp + L + 1;

  const FusedElmLayout layout =
      FusedElmUnrollLayout(spec, L, hidden, plan.batch, steps,
                           static_cast<int64_t>(sizeof(T)), options);
  plan.projected = layout.projected;
  plan.carry_width = plan.projected ? H1 : n_branch;
  plan.chan_w = nullptr;
  plan.chan_ld = simd::RoundUpToLanes<T>(n_branch);
  const int64_t n_live = plan.synapses.chan_begin[spec.num_input];
  if (!plan.projected &&
      UseDenseDrive<T>(plan.chan_ld, n_live, spec.num_input)) {
    T* chan_w = arena.AllocateArray<T>(spec.num_input * plan.chan_ld);
    DenseChannelWeights(spec.num_input, plan.synapses, plan.chan_ld, chan_w);
    plan.chan_w = chan_w;
  }
  PackWeights(arena, p, x, needs_grad, plan);
  PlaceBlocks(arena, layout, needs_grad, plan);
  return plan;
}

template FusedPlan<float> BuildPlan(Tape<float>&, const FusedElmSpec&,
                                    const FusedElmParams<float>&, Var<float>,
                                    const int64_t*, const int32_t*,
                                    const float*, int64_t, int64_t, bool,
                                    const FusedElmOptions&);
template FusedPlan<double> BuildPlan(Tape<double>&, const FusedElmSpec&,
                                     const FusedElmParams<double>&, Var<double>,
                                     const int64_t*, const int32_t*,
                                     const double*, int64_t, int64_t, bool,
                                     const FusedElmOptions&);

}  // namespace elm
