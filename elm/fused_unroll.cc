// The fused ELM unroll: see fused_unroll.h for the forward and adjoint
// equations, the blocking and the checkpointing.
#include "elm/fused_unroll.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "autodiff/simd/activations.h"
#include "autodiff/simd/gemm.h"
#include "autodiff/simd/vec.h"
#include "autodiff/tensor.h"
#include "glog/logging.h"

namespace elm {
namespace {

// The kernels (autodiff/simd).
using simd::ActBackward;
using simd::ActForward;
using simd::Activation;
using simd::Dot;
using simd::Gemm;
using simd::GemmInit;
using simd::GemmTN;
using simd::GemmTNScratch;
using simd::kLanes;
using simd::LoadFirst;
using simd::LoadVec;
using simd::MulAdd;
using simd::PackedB;
using simd::PackedSize;
using simd::PackInto;
using simd::SmallGemm;
using simd::Splat;
using simd::StoreFirst;
using simd::StoreVec;
using simd::TanhOf2Thirds;
using simd::Vec;

template <typename T>
using Mat = Eigen::Map<RowMatrix<T>>;

// The automatic block: about this many rows (steps × sequences) per block.
constexpr int64_t kAutoBlockRows = 4096;
// A block is processed in chunks of about this many rows (ForwardBlock,
// BackwardBlock), small enough that a chunk's activations and adjoints are
// still in L2 when its time-parallel products read them.
constexpr int64_t kChunkRows = 128;

// B(p, j) = b[p·rs + j·cs] packed (simd::PackInto) into the arena.
template <typename T>
PackedB<T> PackB(Arena& arena, const T* b, int64_t rs, int64_t cs, int64_t k,
                 int64_t n) {
  return PackInto(arena.AllocateArray<T>(PackedSize<T>(k, n)), b, rs, cs, k, n);
}
// An array in the tape's arena (zeroed when asked; null when empty), 64-byte
// aligned. (No result here depends on an address: every loop handles
// unaligned data the same way.)
template <typename T>
T* ArenaArray(Arena& arena, int64_t n, bool zero = false) {
  if (n == 0) return nullptr;
  return zero ? arena.AllocateZeroed<T>(n) : arena.AllocateArray<T>(n);
}

// Gradient accumulation that does not depend on where the gradient lives (a
// GradBlock's address is arbitrary): the products go through Gemm / GemmTN,
// whose results depend on no address, and column sums are plain loops.
//
// grad[c] += Σ_r a[r, c], the rows in order.
template <typename T>
void AddColumnSums(T* grad, const T* a, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* ar = a + r * cols;
    for (int64_t c = 0; c < cols; ++c) grad[c] += ar[c];
  }
}

// A live synapse as the sparse loops see it (the entries of one channel are
// contiguous).
template <typename T>
struct Synapse {
  int32_t k;       // the synapse
  int32_t branch;  // k / d_brch
  T w;             // w_s[k]·mask[k] (this unroll's)
  T scale;         // mask[k]
};

// The stored activations of one block of steps [t0, t1), time-major rows
// (t − t0)·B + b. A slot holds G·B rows (`cap`); the last block may use fewer.
// (h_l and K are not stored: see fused_unroll.h, "Checkpointing".)
template <typename T>
struct Slot {
  T* u;     // branch traces U [cap, B_r] (unprojected first layer), else null
  T* pre;   // A_1..A_L, layer l at (l − 1)·cap·H (L ≥ 1), else null
  T* th;    // tanh(2z/3) [cap, d_m]
  T* m;     // m_t [cap, d_m]
  T* m_in;  // m_{t0−1} [B, d_m] (zeros for the first block)
};

// Everything the forward blocks and the backward need, placed in the arena
// (trivially copyable).
template <typename T>
struct Saved {
  // Shapes.
  int64_t batch, steps, n_in, n_branch, per_branch, n_syn, d_m, n_out, layers;
  int64_t hidden;  // width of the hidden layers (0 when layers == 0)
  int64_t h1;      // width of A₁: hidden, or d_m when layers == 0
  Activation act;  // the hidden layers' activation
  // Structure: the synapses fed by channel c are syn[q] for q in
  // [chan_begin[c], chan_begin[c + 1]).
  const int64_t* chan_begin;
  const Synapse<T>* syn;
  // Not projected, few branches: chan_w [N, chan_ld] (DenseBranchDrive); else
  // null (BranchDrive).
  const T* chan_w;
  int64_t chan_ld;
  Arena* arena;  // the tape's: backward scratch
  // Projected first layer (one κ_u for all branches and B_r ≥ 2·H₁): U is
  // never formed; the scan runs over A₁'s H₁ columns.
  bool projected;
  const T* w1u_t;  // W₁ᵤᵀ [B_r, H₁] (projected only), leading dim w1u_ld
  int64_t w1u_ld;     // H₁ rounded up to whole vectors (zero padded)
  PackedB<T> w1u_tp;  // W₁ᵤᵀ packed (not projected: P = U·W₁ᵤᵀ)
  PackedB<T> w1u;     // W₁ᵤ [H₁, B_r] packed (Ū or ā; when needed)
  PackedB<T> wy_t;    // W_yᵀ [d_m, n_out] packed (the readout)
  PackedB<T> wy;      // W_y [n_out, d_m] packed (M̄ = Ȳ·W_y)
  const T* kappa_u;   // [B_r]
  // Input nonzeros, CSR over batch-major rows b·T + t.
  const int64_t* row_begin;
  const int32_t* col;
  const T* val;
  // The weights of the per-step products, packed (SmallGemm): forward W₁ₘᵀ
  // [d_m, H₁] and W_{l+1}ᵀ [H, out]; backward W₁ₘ [H₁, d_m] and W_{l+1}
  // [out, H] (l = 1..L; index 0 unused).
  PackedB<T> w1m_t;
  const PackedB<T>* w_t;
  PackedB<T> w1m;
  const PackedB<T>* w;
  // Blocking and checkpointing (see the header).
  int64_t block_steps;     // G
  int64_t chunk_steps;     // steps per chunk of a block (≈ kChunkRows / B)
  int64_t num_blocks;      // ⌈T / G⌉
  int64_t segment_blocks;  // blocks per checkpoint segment
  int64_t num_segments;  // ⌈num_blocks / segment_blocks⌉ (1: full storage)
  int64_t num_slots;     // block j lives in slots[j % num_slots]
  const Slot<T>* slots;
  T* z;       // z [G·B, d_m] of the block being run (also A₁ if L = 0)
  T* k_step;  // the forward's K_t [B, d_m]
  T* h_step;  // the forward's h_l at step t [B, H]
  int64_t carry_width;  // width of the forward trace: H₁ (projected) or B_r
  T* ckpt_m;  // [num_segments, B, d_m]: m before each segment (checkpointed)
  T* ckpt_carry;  // [num_segments, B, carry_width]: the trace before it
  // Parameter Vars.
  Var<T> x, w_s, kappa_m, gain, w_y, b_y, y;
  const Var<T>* mlp_w;  // L + 1 of each
  const Var<T>* mlp_b;
};

// The per-step element-wise parts of the cell, on [B, d_m] rows (separate
// functions so that the restrict-qualified pointers let the compiler
// vectorise over d_m).

// k = κ_m ⊙ m_{t−1}.
template <typename T>
void DecayMemory(int64_t B, int64_t dm, const T* __restrict km,
                 const T* __restrict m_prev, T* __restrict k) {
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t i = 0; i < dm; ++i) k[b * dm + i] = km[i] * m_prev[b * dm + i];
  }
}

// m_t = k + g ⊙ 1.7159·tanh(2z/3).
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

// The sparse parts, over block rows (t − t0)·B + b of width `width`, for the
// input rows b·T + t (separate functions, so that the restrict-qualified
// pointers keep the compiler from reloading the structure after every
// store).
struct BlockRows {
  int64_t batch, steps, t0, t1;
};

// How far ahead (in nonzeros) the scattered-synapse loops prefetch the
// channel's synapses.
constexpr int64_t kPrefetchAhead = 4;

// Calls visit(row, q, x) for each nonzero x of the block's input rows and each
// synapse q its channel feeds, with `row` the block row (t − t0)·B + b, rows
// in the order b, then t (the floating-point order of BranchDrive and
// BranchWeightGrad).
template <typename T, typename Visit>
inline void ForEachSynapseNonzero(const BlockRows& br,
                                  const int64_t* __restrict row_begin,
                                  const int32_t* __restrict col,
                                  const T* __restrict val,
                                  const int64_t* __restrict chan_begin,
                                  const Synapse<T>* __restrict syn,
                                  Visit&& visit) {
  const int64_t nnz_end = row_begin[br.batch * br.steps];
  for (int64_t b = 0; b < br.batch; ++b) {
    for (int64_t t = br.t0; t < br.t1; ++t) {
      const int64_t row = (t - br.t0) * br.batch + b;
      const int64_t r = b * br.steps + t;
      for (int64_t n = row_begin[r]; n < row_begin[r + 1]; ++n) {
        if (n + kPrefetchAhead < nnz_end)
          __builtin_prefetch(syn + chan_begin[col[n + kPrefetchAhead]]);
        const int64_t ch = col[n];
        const T v = val[n];
        for (int64_t q = chan_begin[ch]; q < chan_begin[ch + 1]; ++q)
          visit(row, syn[q], v);
      }
    }
  }
}

// Not projected: u[row, br(k)] += w[k]·mask[k]·x for each nonzero x of the
// row and each synapse k its channel feeds (the branch drive a_t).
template <typename T>
void BranchDrive(const BlockRows& br, int64_t width,
                 const int64_t* __restrict row_begin,
                 const int32_t* __restrict col, const T* __restrict val,
                 const int64_t* __restrict chan_begin,
                 const Synapse<T>* __restrict syn, T* __restrict u) {
  ForEachSynapseNonzero(br, row_begin, col, val, chan_begin, syn,
                        [u, width](int64_t row, const Synapse<T>& s, T v) {
                          u[row * width + s.branch] += s.w * v;
                        });
}

// The most vectors per row of the dense drive (its row stays in registers).
constexpr int64_t kMaxDenseVectors = 8;

// Column blocks of at most kMaxDenseVectors vectors (a row's block of a sum
// kept in registers): the dense drive, and the projected first layer below.

// Vector i of a block row at p (NV vectors, `last` lanes valid in the last).
template <typename T, int NV>
inline Vec<T> LoadBlock(const T* p, int i, int64_t last) {
  return i == NV - 1 && last < kLanes<T> ? LoadFirst(p + i * kLanes<T>, last)
                                         : LoadVec(p + i * kLanes<T>);
}
template <typename T, int NV>
inline void StoreBlock(T* p, int i, Vec<T> v, int64_t last) {
  if (i == NV - 1 && last < kLanes<T>) {
    StoreFirst(p + i * kLanes<T>, v, last);
  } else {
    StoreVec(p + i * kLanes<T>, v);
  }
}

// Runs Op<T, NV>::Run(h0, last, args...) for each column block [h0, h0 +
// NV·L) of width (the last vector `last` lanes wide).
template <template <typename, int> class Op, typename T, typename... Args>
void ForEachColumnBlock(int64_t width, const Args&... args) {
  constexpr int64_t L = kLanes<T>, BL = kMaxDenseVectors * L;
  for (int64_t h0 = 0; h0 < width; h0 += BL) {
    const int64_t cols = std::min(BL, width - h0);
    const int64_t nv = (cols + L - 1) / L, last = cols - (nv - 1) * L;
    switch (nv) {
#define ELM_BLOCK_CASE(k)             \
  case k:                             \
    Op<T, k>::Run(h0, last, args...); \
    break;
      ELM_BLOCK_CASE(1)
      ELM_BLOCK_CASE(2)
      ELM_BLOCK_CASE(3)
      ELM_BLOCK_CASE(4)
      ELM_BLOCK_CASE(5)
      ELM_BLOCK_CASE(6)
      ELM_BLOCK_CASE(7)
      ELM_BLOCK_CASE(8)
#undef ELM_BLOCK_CASE
      default:
        LOG(FATAL) << "column block of " << nv << " vectors";
    }
  }
}

// The same with the channels' weights as dense rows: u[row, :] = Σ_x x ·
// chan_w[c, :] over the row's nonzeros x (channel c; chan_w [N, ld], ld ≥
// width a whole number of vectors, zero past width), where chan_w[c, j] =
// Σ w[k]·mask[k] over the synapses k of channel c on branch j. Whole vectors
// summed in registers instead of a loop of scattered adds: faster when the
// branches are few against the synapses per channel. One column block of NV
// vectors per row (h0 = 0).
template <typename T, int NV>
struct DenseBranchDriveRows {
  static void Run(int64_t h0, int64_t last, const BlockRows& br, int64_t width,
                  int64_t ld, const int64_t* __restrict row_begin,
                  const int32_t* __restrict col, const T* __restrict val,
                  const T* __restrict chan_w, T* __restrict u) {
    constexpr int64_t L = kLanes<T>;
    for (int64_t b = 0; b < br.batch; ++b) {
      for (int64_t t = br.t0; t < br.t1; ++t) {
        T* __restrict ut = u + ((t - br.t0) * br.batch + b) * width + h0;
        const int64_t r = b * br.steps + t;
        Vec<T> acc[NV];
        for (int i = 0; i < NV; ++i) acc[i] = Vec<T>{};
        for (int64_t n = row_begin[r]; n < row_begin[r + 1]; ++n) {
          const T* __restrict cw = chan_w + int64_t{col[n]} * ld + h0;
          const Vec<T> vv = Splat(val[n]);
          for (int i = 0; i < NV; ++i)
            acc[i] = MulAdd(vv, LoadVec(cw + i * L), acc[i]);
        }
        for (int i = 0; i < NV; ++i) StoreBlock<T, NV>(ut, i, acc[i], last);
      }
    }
  }
};

// DenseBranchDriveRows for any width up to kMaxDenseVectors vectors; writes
// every row of u.
template <typename T>
void DenseBranchDrive(const BlockRows& br, int64_t width, int64_t ld,
                      const int64_t* row_begin, const int32_t* col,
                      const T* val, const T* chan_w, T* u) {
  CHECK_LE(width, kMaxDenseVectors * kLanes<T>) << "DenseBranchDrive";
  ForEachColumnBlock<DenseBranchDriveRows, T>(width, br, width, ld, row_begin,
                                              col, val, chan_w, u);
}

// Its adjoint for the weights: chan_wbar[c, :] += x · ā[row, :] (the columns
// past width stay zero); w̄[k] is then mask[k]·chan_wbar[c, br(k)].
template <typename T>
void DenseChannelGrad(const BlockRows& br, int64_t width, int64_t ld,
                      const int64_t* __restrict row_begin,
                      const int32_t* __restrict col, const T* __restrict val,
                      const T* __restrict a_bar, T* __restrict chan_wbar) {
  constexpr int64_t L = kLanes<T>;
  const int64_t nvec = (width + L - 1) / L, last = width - (nvec - 1) * L;
  for (int64_t b = 0; b < br.batch; ++b) {
    for (int64_t t = br.t0; t < br.t1; ++t) {
      const T* __restrict ab = a_bar + ((t - br.t0) * br.batch + b) * width;
      const int64_t r = b * br.steps + t;
      for (int64_t n = row_begin[r]; n < row_begin[r + 1]; ++n) {
        T* __restrict g = chan_wbar + int64_t{col[n]} * ld;
        const Vec<T> v = Splat(val[n]);
        for (int64_t i = 0; i + 1 < nvec; ++i) {
          StoreVec(g + i * L,
                   MulAdd(v, LoadVec(ab + i * L), LoadVec(g + i * L)));
        }
        const int64_t i = (nvec - 1) * L;
        const Vec<T> ab_last =
            last == L ? LoadVec(ab + i) : LoadFirst(ab + i, last);
        StoreVec(g + i, MulAdd(v, ab_last, LoadVec(g + i)));
      }
    }
  }
}

// The projected first layer works on column blocks of H₁ (ForEachColumnBlock):
// a block's columns of W₁ᵤᵀ [B_r, ·] (and of the channel sums, backward) stay
// in L2 while all of a chunk's rows pass, and a row's block of the drive or of
// G stays in registers. Columns are independent, so the blocking changes no
// result.

// One term of the projected drive: coef · W₁ᵤᵀ row at `off` (a synapse k of
// a nonzero x: coef = w[k]·mask[k]·x, off = br(k)·ld).
template <typename T>
struct DriveTerm {
  int64_t off;
  T coef;
};

// How many terms ahead the projected drive prefetches its weight rows.
constexpr int64_t kTermsAhead = 4;

// Projected, one column block [h0, h0 + NV·L) (the last vector `last` lanes
// wide) of the first layer's input part for the chunk's rows: for each row,
// d = Σ coef · W₁ᵤᵀ[off, block] over its terms (in order, one multiply-add
// each), trace = d + κ·trace(t − 1) (trace = d at t = 0) and a = b₁ + trace.
// Row i (t-major: (t − t0)·B + b) has terms [row_end[i − 1], row_end[i]).
// carry [B, width] holds trace(t0 − 1, ·) on entry and trace(t1 − 1, ·) on
// return.
template <typename T, int NV>
struct ProjectedDriveScanBlock {
  static void Run(int64_t h0, int64_t last, const BlockRows& br, int64_t width,
                  int64_t ld, T kappa, const DriveTerm<T>* __restrict terms,
                  const int64_t* __restrict row_end, const T* __restrict w1u_t,
                  const T* __restrict bias, T* __restrict carry,
                  T* __restrict a) {
    constexpr int64_t L = kLanes<T>;
    const Vec<T> k = Splat(kappa);
    const int64_t rows = (br.t1 - br.t0) * br.batch;
    const int64_t num_terms = rows > 0 ? row_end[rows - 1] : 0;
    int64_t e = 0;
    for (int64_t t = br.t0; t < br.t1; ++t) {
      for (int64_t b = 0; b < br.batch; ++b) {
        const int64_t row = (t - br.t0) * br.batch + b;
        Vec<T> acc[NV];
        for (int i = 0; i < NV; ++i) acc[i] = Vec<T>{};
        for (; e < row_end[row]; ++e) {
          if (e + kTermsAhead < num_terms) {
            const char* p = reinterpret_cast<const char*>(
                w1u_t + terms[e + kTermsAhead].off + h0);
            for (int64_t o = 0; o < NV * L * int64_t{sizeof(T)}; o += 64)
              __builtin_prefetch(p + o);
          }
          const Vec<T> coef = Splat(terms[e].coef);
          const T* wr = w1u_t + terms[e].off + h0;
          for (int i = 0; i < NV; ++i)
            acc[i] = MulAdd(coef, LoadVec(wr + i * L), acc[i]);
        }
        T* tr = carry + b * width + h0;
        T* at = a + row * width + h0;
        for (int i = 0; i < NV; ++i) {
          const Vec<T> x =
              t == 0 ? acc[i]
                     : MulAdd(k, LoadBlock<T, NV>(tr, i, last), acc[i]);
          StoreBlock<T, NV>(tr, i, x, last);
          StoreBlock<T, NV>(at, i, x + LoadBlock<T, NV>(bias + h0, i, last),
                            last);
        }
      }
    }
  }
};

// Projected: the first layer's input part for the chunk's rows, a[row, :] =
// b₁ + trace(row) with trace(t, b) = Σ_x Σ_k w[k]·mask[k]·x · W₁ᵤᵀ[br(k), :]
// (over the nonzeros x of the row and the synapses k their channels feed) +
// κ·trace(t − 1, b). The row's terms are resolved once (in `arena`, freed on
// return), then the column blocks run over them (ProjectedDriveScanBlock).
template <typename T>
void ProjectedDriveScan(const BlockRows& br, int64_t width, int64_t ld, T kappa,
                        const int64_t* row_begin, const int32_t* col,
                        const T* val, const int64_t* chan_begin,
                        const Synapse<T>* syn, const T* w1u_t, const T* bias,
                        T* carry, T* a, Arena& arena) {
  const int64_t rows = (br.t1 - br.t0) * br.batch;
  int64_t num_terms = 0;
  for (int64_t t = br.t0; t < br.t1; ++t) {
    for (int64_t b = 0; b < br.batch; ++b) {
      const int64_t r = b * br.steps + t;
      for (int64_t n = row_begin[r]; n < row_begin[r + 1]; ++n)
        num_terms += chan_begin[col[n] + 1] - chan_begin[col[n]];
    }
  }
  const Arena::Mark mark = arena.GetMark();
  DriveTerm<T>* terms = arena.AllocateArray<DriveTerm<T>>(num_terms);
  int64_t* row_end = arena.AllocateArray<int64_t>(rows);
  int64_t e = 0;
  for (int64_t t = br.t0; t < br.t1; ++t) {
    for (int64_t b = 0; b < br.batch; ++b) {
      const int64_t r = b * br.steps + t;
      for (int64_t n = row_begin[r]; n < row_begin[r + 1]; ++n) {
        const T v = val[n];
        for (int64_t q = chan_begin[col[n]]; q < chan_begin[col[n] + 1]; ++q)
          terms[e++] = {int64_t{syn[q].branch} * ld, syn[q].w * v};
      }
      row_end[(t - br.t0) * br.batch + b] = e;
    }
  }
  ForEachColumnBlock<ProjectedDriveScanBlock, T>(
      width, br, width, ld, kappa, terms, row_end, w1u_t, bias, carry, a);
  arena.RewindTo(mark);
}

// Projected backward, one column block, over the chunk's rows (t
// descending): G(t, b) = Ā₁(t, b) + κ·G(t + 1, b) (just Ā₁ at the last step
// T − 1) in rev_carry [B, width] (holding G(t1, ·) on entry, G(t0, ·) on
// return), also stored into g when not null, and (sums not null) sums[c, :]
// += x · G(t, b) for each nonzero x of the row in channel c (one
// multiply-add).
template <typename T, int NV>
struct ReverseScanChannelSumsBlock {
  static void Run(int64_t h0, int64_t last, const BlockRows& br, int64_t width,
                  int64_t ld, T kappa, const int64_t* __restrict row_begin,
                  const int32_t* __restrict col, const T* __restrict val,
                  const T* __restrict a1_bar, T* __restrict rev_carry,
                  T* __restrict g, T* __restrict sums) {
    const Vec<T> k = Splat(kappa);
    for (int64_t t = br.t1 - 1; t >= br.t0; --t) {
      const bool first = t == br.steps - 1;  // the reverse scan's first step
      for (int64_t b = 0; b < br.batch; ++b) {
        const int64_t row = (t - br.t0) * br.batch + b;
        const T* ab = a1_bar + row * width + h0;
        T* gt = rev_carry + b * width + h0;
        Vec<T> acc[NV];
        for (int i = 0; i < NV; ++i) {
          const Vec<T> x = LoadBlock<T, NV>(ab, i, last);
          acc[i] = first ? x : MulAdd(k, LoadBlock<T, NV>(gt, i, last), x);
          StoreBlock<T, NV>(gt, i, acc[i], last);
        }
        if (g != nullptr) {
          for (int i = 0; i < NV; ++i)
            StoreBlock<T, NV>(g + row * width + h0, i, acc[i], last);
        }
        if (sums == nullptr) continue;
        const int64_t r = b * br.steps + t;
        for (int64_t n = row_begin[r]; n < row_begin[r + 1]; ++n) {
          T* dst = sums + int64_t{col[n]} * ld + h0;
          const Vec<T> v = Splat(val[n]);
          for (int i = 0; i < NV; ++i) {
            T* d = dst + i * kLanes<T>;
            StoreVec(d, MulAdd(v, acc[i], LoadVec(d)));
          }
        }
      }
    }
  }
};

// Projected backward over the chunk's rows, block by block
// (ReverseScanChannelSumsBlock).
template <typename T>
void ReverseScanChannelSums(const BlockRows& br, int64_t width, int64_t ld,
                            T kappa, const int64_t* row_begin,
                            const int32_t* col, const T* val, const T* a1_bar,
                            T* rev_carry, T* g, T* sums) {
  ForEachColumnBlock<ReverseScanChannelSumsBlock, T>(
      width, br, width, ld, kappa, row_begin, col, val, a1_bar, rev_carry, g,
      sums);
}

// Not projected: w̄[k] += ā[row, br(k)]·mask[k]·x for each nonzero x of the
// row and each synapse k its channel feeds.
template <typename T>
void BranchWeightGrad(const BlockRows& br, int64_t width,
                      const int64_t* __restrict row_begin,
                      const int32_t* __restrict col, const T* __restrict val,
                      const int64_t* __restrict chan_begin,
                      const Synapse<T>* __restrict syn,
                      const T* __restrict a_bar, T* __restrict w_grad) {
  ForEachSynapseNonzero(
      br, row_begin, col, val, chan_begin, syn,
      [a_bar, w_grad, width](int64_t row, const Synapse<T>& s, T v) {
        w_grad[s.k] += a_bar[row * width + s.branch] * s.scale * v;
      });
}

// Whether the first layer is projected: one κ_u (as T) for every branch and
// B_r ≥ 2·H₁. Then U·W₁ᵤᵀ = scan(A·W₁ᵤᵀ) and U is never formed.
template <typename T>
bool Projected(const FusedElmSpec& spec, int64_t h1) {
  const std::vector<double>& k = spec.kappa_branch;
  const bool uniform = std::all_of(k.begin(), k.end(), [&](double v) {
    return static_cast<T>(v) == static_cast<T>(k[0]);
  });
  return uniform && spec.num_branch >= 2 * h1;
}

// The last row block [B, d_m] of m in block j's slot (block j is full).
template <typename T>
const T* LastM(const Saved<T>& s, int64_t j) {
  return s.slots[j % s.num_slots].m + (s.block_steps - 1) * s.batch * s.d_m;
}

// Runs the forward of block j into `slot`, chunk by chunk (chunk_steps
// steps: the branch drive and trace, A₁'s time-parallel part, the sequential
// cell, and, when y is not null, the readout into y [B·T, n_out] and the
// memory record (when not null) for the chunk's rows), so that each chunk's
// rows are still in cache from one stage to the next. m_prev = m_{t0−1}
// (null for the first block); `carry` holds the trace at t0 − 1 on entry and
// at t1 − 1 on return. The forward pass and the checkpointed backward's
// recomputation (without y) both run exactly this.
// K_t = κ_m ⊙ m_{t−1} [B, d_m] of step t of the block starting at t0 (zero
// at t = 0), into k: the forward's and the backward's (recomputed) K.
template <typename T>
void StepMemoryInput(const Saved<T>& s, const Slot<T>& slot, int64_t t0,
                     int64_t t, T* k) {
  const int64_t B = s.batch, dm = s.d_m;
  if (t == 0) {
    std::fill(k, k + B * dm, T(0));
    return;
  }
  const T* m_prev = t == t0 ? slot.m_in : slot.m + ((t - t0) * B - B) * dm;
  DecayMemory(B, dm, s.kappa_m.value, m_prev, k);
}

template <typename T>
void ForwardBlock(const Saved<T>& s, int64_t j, const T* m_prev, T* carry,
                  const Slot<T>& slot, T* y = nullptr, T* memory = nullptr) {
  const int64_t B = s.batch, TT = s.steps, G = s.block_steps, cap = G * B;
  const int64_t t0 = j * G, t1 = std::min(TT, t0 + G);
  const int64_t n_branch = s.n_branch, dm = s.d_m, L = s.layers;
  const int64_t hidden = s.hidden, H1 = s.h1, n_out = s.n_out;
  // m_{t0−1} first: with a single slot, m_prev points into this slot's m.
  if (m_prev != nullptr) {
    std::copy(m_prev, m_prev + B * dm, slot.m_in);
  } else {
    std::fill(slot.m_in, slot.m_in + B * dm, T(0));
  }
  T* a1 = L > 0 ? slot.pre : s.z;
  const T* g = s.gain.value;
  for (int64_t c0 = t0, c1; c0 < t1; c0 = c1) {
    c1 = std::min(t1, c0 + s.chunk_steps);
    const int64_t o = (c0 - t0) * B, R = (c1 - c0) * B;  // the chunk's rows
    const BlockRows rows{B, TT, c0, c1};
    if (s.projected) {
      // A₁ = b₁ + the scan of the projected drive, in one pass.
      ProjectedDriveScan(rows, H1, s.w1u_ld, s.kappa_u[0], s.row_begin, s.col,
                         s.val, s.chan_begin, s.syn, s.w1u_t, s.mlp_b[0].value,
                         carry, a1 + o * H1, *s.arena);
    } else {
      // The branch drive a_t and the branch-trace scan into U, then
      // P = b₁ + U·W₁ᵤᵀ.
      T* u = slot.u + o * n_branch;
      if (s.chan_w != nullptr) {  // writes every row
        DenseBranchDrive(rows, n_branch, s.chan_ld, s.row_begin, s.col, s.val,
                         s.chan_w, u);
      } else {
        std::fill(u, u + R * n_branch, T(0));  // accumulated
        BranchDrive(rows, n_branch, s.row_begin, s.col, s.val, s.chan_begin,
                    s.syn, u);
      }
      for (int64_t t = std::max<int64_t>(c0, 1); t < c1; ++t) {
        T* cur = u + (t - c0) * B * n_branch;
        const T* prev = t == c0 ? carry : cur - B * n_branch;
        for (int64_t b = 0; b < B; ++b) {
          for (int64_t i = 0; i < n_branch; ++i) {
            cur[b * n_branch + i] += s.kappa_u[i] * prev[b * n_branch + i];
          }
        }
      }
      std::copy(u + (R - B) * n_branch, u + R * n_branch, carry);
      Gemm(R, u, n_branch, 1, s.w1u_tp, a1 + o * H1, H1, GemmInit::kRow,
           s.mlp_b[0].value);
    }

    // The sequential cell.
    for (int64_t t = c0; t < c1; ++t) {
      const int64_t row = (t - t0) * B;  // the step's first row in the block
      T* kt = s.k_step;
      StepMemoryInput(s, slot, t0, t, kt);
      SmallGemm<T>(B, kt, dm, s.w1m_t, a1 + row * H1, H1, GemmInit::kC);

      for (int64_t l = 1; l <= L; ++l) {
        const T* pre = slot.pre + ((l - 1) * cap + row) * hidden;
        T* h = s.h_step;
        ActForward(pre, h, B * hidden, s.act);
        const int64_t out = l == L ? dm : hidden;
        T* next = l == L ? s.z + row * dm : slot.pre + (l * cap + row) * hidden;
        SmallGemm<T>(B, h, hidden, s.w_t[l], next, out, GemmInit::kRow,
                     s.mlp_b[l].value);
      }
      const T* z = s.z + row * dm;  // = A₁'s rows when L == 0
      T* tht = slot.th + row * dm;
      T* mt = slot.m + row * dm;
      TanhOf2Thirds(z, tht, B * dm);
      UpdateMemory(B, dm, kt, g, tht, mt);
    }

    // The readout y = M·W_yᵀ + b_y straight into y's batch-major rows (and
    // the memory record).
    for (int64_t b = 0; y != nullptr && b < B; ++b) {
      Gemm(c1 - c0, slot.m + (o + b) * dm, B * dm, 1, s.wy_t,
           y + (b * TT + c0) * n_out, n_out, GemmInit::kRow, s.b_y.value);
      if (memory == nullptr) continue;
      for (int64_t t = c0; t < c1; ++t) {
        const T* src = slot.m + ((t - t0) * B + b) * dm;
        std::copy(src, src + dm, memory + (b * TT + t) * dm);
      }
    }
  }
}

// The backward's scratch, one chunk's worth (cap = chunk_steps·B rows; every
// buffer is fully written before it is read, except the accumulators and
// carries, which are zeroed).
template <typename T>
struct Scratch {
  T* y_bar;       // Ȳ [cap, n_out]
  T* m_bar;       // M̄ [cap, d_m]
  T* a1_bar;      // Ā₁ [cap, H₁]
  T* hidden_bar;  // Ā_2..Ā_L [(L − 1)·cap, H]
  T* z_bar;       // Z̄ [cap, d_m] (L ≥ 1; else Ā₁)
  T* h;           // h_1..h_L recomputed [L·cap, H] (by ActBackward)
  T* k;           // K recomputed [cap, d_m]
  T* c;           // adjoint reaching m_t from step t + 1 [B, d_m]
  T* k_bar;       // [B, d_m]
  T* gain_bar;    // [d_m]
  T* kappa_bar;   // [d_m]
  T* a_bar;       // ā [cap, B_r] (when needed)
  T* g;           // reverse-scanned Ā₁ [cap, H₁] (projected, for x̄)
  T* rev_carry;   // the reverse scan's row at t1 (of ā or of g)
  T* w1u_bar_t;   // W̄₁ᵤᵀ [B_r, H₁]
  T* w1m_bar_t;   // W̄₁ₘᵀ [d_m, H₁]
  T* carry;       // the forward trace while recomputing a segment
  T* pack;        // GemmTN's packed chunk
  T* chan_g;      // Σ x·G_t per input channel [N, H₁] (projected; w1u_ld)
  T* chan_wbar;   // the adjoint of chan_w [N, chan_ld] (when chan_w is used)
};

// The backward of block j (its activations in `slot`), chunk by chunk in
// reverse (the chunks of ForwardBlock, so that a chunk's adjoints are still in
// cache for its products): the readout's adjoint, the cell's per-step sweep
// in reverse, the chunk's weight-gradient products and its branch part. The
// scratch rows are the chunk's: row (t − c0)·B + b.
template <typename T>
void BackwardBlock(const Saved<T>& s, int64_t j, const Slot<T>& slot,
                   const Scratch<T>& w) {
  const int64_t B = s.batch, TT = s.steps, G = s.block_steps, cap = G * B;
  const int64_t t0 = j * G, t1 = std::min(TT, t0 + G);
  const int64_t dm = s.d_m, L = s.layers, H1 = s.h1, hidden = s.hidden;
  const int64_t n_out = s.n_out, n_branch = s.n_branch;
  const int64_t ccap = s.chunk_steps * B;  // rows of a scratch chunk
  const T* g = s.gain.value;
  const T* km = s.kappa_m.value;
  const Var<T>& w1 = s.mlp_w[0];
  const int64_t in1 = n_branch + dm;
  const int64_t last = t1 - t0 - (t1 - t0 - 1) % s.chunk_steps - 1;
  for (int64_t c0 = t0 + last, c1 = t1; c1 > t0; c1 = c0, c0 -= s.chunk_steps) {
    const int64_t o = (c0 - t0) * B, R = (c1 - c0) * B;  // the chunk's rows
    // Ȳ to time-major; a chunk without any (a loss on the last step only)
    // has M̄ = 0 and adds nothing to W̄_y, b̄_y.
    bool any = false;
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t t = c0; t < c1; ++t) {
        const T* src = s.y.grad + (b * TT + t) * n_out;
        T* dst = w.y_bar + ((t - c0) * B + b) * n_out;
        for (int64_t i = 0; i < n_out; ++i) {
          dst[i] = src[i];
          any |= src[i] != T(0);
        }
      }
    }
    if (any) {
      if (s.w_y.grad) {
        GemmTN(n_out, dm, R, w.y_bar, n_out, slot.m + o * dm, dm, s.w_y.grad,
               dm, w.pack);
      }
      if (s.b_y.grad) AddColumnSums(s.b_y.grad, w.y_bar, R, n_out);
      Gemm(R, w.y_bar, n_out, 1, s.wy, w.m_bar, dm, GemmInit::kZero);
    } else {
      std::fill(w.m_bar, w.m_bar + R * dm, T(0));
    }

    for (int64_t t = c1 - 1; t >= c0; --t) {
      const int64_t row = (t - c0) * B;   // in the chunk's scratch
      const int64_t srow = (t - t0) * B;  // in the slot
      T* mb = w.m_bar + row * dm;
      const T* tht = slot.th + srow * dm;
      // The adjoint of z_t: into Z̄ (L > 0) or Ā₁ (L == 0).
      T* zb = (L > 0 ? w.z_bar : w.a1_bar) + row * dm;
      CellOutputBackward(B, dm, tht, g, w.c, mb, w.gain_bar, zb);
      // Down the MLP: Ā_l = (Ā_{l+1}·W_{l+1}) ⊙ act'(A_l).
      const T* upper = zb;
      int64_t upper_width = dm;
      for (int64_t l = L; l >= 1; --l) {
        T* ab = l == 1 ? w.a1_bar + row * hidden
                       : w.hidden_bar + ((l - 2) * ccap + row) * hidden;
        SmallGemm<T>(B, upper, upper_width, s.w[l], ab, hidden,
                     GemmInit::kZero);
        const T* pre = slot.pre + ((l - 1) * cap + srow) * hidden;
        // (also h_l for the chunk's weight gradient W̄_{l+1})
        ActBackward(pre, ab, w.h + ((l - 1) * ccap + row) * hidden, B * hidden,
                    s.act);
        upper = ab;
        upper_width = hidden;
      }
      // k̄ = m̄ + Ā₁·W₁ₘ;  κ̄_m += Σ_b k̄ ⊙ m_{t−1};  c = k̄ ⊙ κ_m.
      SmallGemm<T>(B, w.a1_bar + row * H1, H1, s.w1m, w.k_bar, dm,
                   GemmInit::kZero);
      const T* m_prev = t == t0 ? slot.m_in : slot.m + (srow - B) * dm;
      MemoryInputBackward(B, dm, mb, km, t > 0 ? m_prev : nullptr, w.k_bar,
                          w.kappa_bar, w.c);
    }

    // The chunk's weight gradients, one product each over its rows.
    for (int64_t l = L; l >= 1; --l) {  // layer l+1 (index l), input h_l
      const Var<T>& wl = s.mlp_w[l];
      const Var<T>& bias = s.mlp_b[l];
      const int64_t out = l == L ? dm : hidden;
      const T* ab = l == L ? w.z_bar : w.hidden_bar + (l - 1) * ccap * hidden;
      if (wl.grad) {
        GemmTN(out, hidden, R, ab, out, w.h + (l - 1) * ccap * hidden, hidden,
               wl.grad, hidden, w.pack);
      }
      if (bias.grad) AddColumnSums(bias.grad, ab, R, out);
    }
    if (w1.grad) {
      // K = κ_m ⊙ m_{t−1} for the chunk's rows, as the forward computed it.
      for (int64_t t = c0; t < c1; ++t)
        StepMemoryInput(s, slot, t0, t, w.k + (t - c0) * B * dm);
      // W̄₁ₘᵀ [d_m, H₁] += Kᵀ·Ā₁ (the wide side as columns: faster panels;
      // added into W̄₁ once, at the end).
      GemmTN(dm, H1, R, w.k, dm, w.a1_bar, H1, w.w1m_bar_t, H1, w.pack);
    }
    if (s.mlp_b[0].grad) AddColumnSums(s.mlp_b[0].grad, w.a1_bar, R, H1);

    const BlockRows rows{B, TT, c0, c1};
    if (s.projected) {
      // With one κ for every branch, U·W₁ᵤᵀ = scan(A·W₁ᵤᵀ): the forward
      // never formed U. G = reverse-scan(Ā₁) gives W̄₁ᵤ = Σ_t G_tᵀ a_t and
      // ā_t = G_t·W₁ᵤ, both over the input's nonzeros only: per input
      // channel, Σ x·G_t over its nonzeros (Backward turns it into W̄₁ᵤ and w̄
      // once, after the last block), with the reverse scan in the same pass;
      // G itself is kept only for x̄.
      if (w.chan_g != nullptr || s.x.grad) {
        ReverseScanChannelSums(rows, H1, s.w1u_ld, s.kappa_u[0], s.row_begin,
                               s.col, s.val, w.a1_bar, w.rev_carry,
                               s.x.grad ? w.g : nullptr, w.chan_g);
      }
      if (s.x.grad) {
        Gemm(R, w.g, H1, 1, s.w1u, w.a_bar, n_branch, GemmInit::kZero);
      }
    } else {
      if (w1.grad) {
        // W̄₁ᵤᵀ [B_r, H₁] += Uᵀ·Ā₁ (as W̄₁ₘᵀ).
        GemmTN(n_branch, H1, R, slot.u + o * n_branch, n_branch, w.a1_bar, H1,
               w.w1u_bar_t, H1, w.pack);
      }
      if (w.a_bar != nullptr) {
        // Ū = Ā₁·W₁ᵤ, then the reverse scan ā_t = Ū_t + κ_u ⊙ ā_{t+1} (in
        // place; at the last step T − 1, ā = Ū).
        Gemm(R, w.a1_bar, H1, 1, s.w1u, w.a_bar, n_branch, GemmInit::kZero);
        for (int64_t t = c1 == TT ? c1 - 2 : c1 - 1; t >= c0; --t) {
          T* cur = w.a_bar + (t - c0) * B * n_branch;
          const T* next = t == c1 - 1 ? w.rev_carry : cur + B * n_branch;
          for (int64_t b = 0; b < B; ++b) {
            for (int64_t i = 0; i < n_branch; ++i) {
              cur[b * n_branch + i] += s.kappa_u[i] * next[b * n_branch + i];
            }
          }
        }
        std::copy(w.a_bar, w.a_bar + B * n_branch, w.rev_carry);
      }
    }
    if (w.a_bar == nullptr) continue;
    // w̄[k] += Σ ā[br(k)]·mask[k]·x over the nonzeros (unless done above);
    // x̄[c] += Σ_k w[k]·mask[k]·ā[br(k)].
    if (s.w_s.grad && !s.projected) {
      if (w.chan_wbar != nullptr) {
        DenseChannelGrad(rows, n_branch, s.chan_ld, s.row_begin, s.col, s.val,
                         w.a_bar, w.chan_wbar);
      } else {
        BranchWeightGrad(rows, n_branch, s.row_begin, s.col, s.val,
                         s.chan_begin, s.syn, w.a_bar, s.w_s.grad);
      }
    }
    if (!s.x.grad) continue;
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t t = c0; t < c1; ++t) {
        const T* ab = w.a_bar + ((t - c0) * B + b) * n_branch;
        T* xg = s.x.grad + (b * TT + t) * s.n_in;
        for (int64_t ch = 0; ch < s.n_in; ++ch) {
          T sum = 0;
          for (int64_t q = s.chan_begin[ch]; q < s.chan_begin[ch + 1]; ++q)
            sum += s.syn[q].w * ab[s.syn[q].branch];
          xg[ch] += sum;
        }
      }
    }
  }
}

template <typename T>
void Backward(const Saved<T>& s) {
  const int64_t B = s.batch, dm = s.d_m;
  const int64_t cap = s.chunk_steps * B;  // the scratch holds one chunk
  const int64_t L = s.layers, H1 = s.h1;
  Arena& arena = *s.arena;
  const bool need_a_bar = (s.w_s.grad && !s.projected) || s.x.grad;
  Scratch<T> w;
  w.y_bar = ArenaArray<T>(arena, cap * s.n_out);
  w.m_bar = ArenaArray<T>(arena, cap * dm);
  w.a1_bar = ArenaArray<T>(arena, cap * H1);
  w.hidden_bar = ArenaArray<T>(arena, L > 1 ? cap * s.hidden * (L - 1) : 0);
  w.z_bar = ArenaArray<T>(arena, L > 0 ? cap * dm : 0);
  w.h = ArenaArray<T>(arena, L * cap * s.hidden);
  w.k = ArenaArray<T>(arena, cap * dm);
  w.c = ArenaArray<T>(arena, B * dm, true);
  w.k_bar = ArenaArray<T>(arena, B * dm);
  w.gain_bar = ArenaArray<T>(arena, dm, true);
  w.kappa_bar = ArenaArray<T>(arena, dm, true);
  w.a_bar = ArenaArray<T>(arena, need_a_bar ? cap * s.n_branch : 0);
  w.g = ArenaArray<T>(arena, s.projected && s.x.grad ? cap * H1 : 0);
  w.rev_carry = ArenaArray<T>(arena, B * (s.projected ? H1 : s.n_branch), true);
  w.w1u_bar_t =
      ArenaArray<T>(arena, s.mlp_w[0].grad ? s.n_branch * H1 : 0, true);
  w.w1m_bar_t = ArenaArray<T>(arena, s.mlp_w[0].grad ? dm * H1 : 0, true);
  w.carry = ArenaArray<T>(arena, s.num_segments > 1 ? B * s.carry_width : 0);
  const int64_t widest = std::max({dm, s.hidden, s.n_branch, s.n_out, H1});
  w.pack = ArenaArray<T>(arena, GemmTNScratch<T>(widest, widest));
  w.chan_wbar = ArenaArray<T>(
      arena, s.chan_w != nullptr && s.w_s.grad ? s.n_in * s.chan_ld : 0, true);
  w.chan_g = ArenaArray<T>(
      arena,
      s.projected && (s.mlp_w[0].grad || s.w_s.grad) ? s.n_in * s.w1u_ld : 0,
      true);

  for (int64_t seg = s.num_segments - 1; seg >= 0; --seg) {
    const int64_t j_begin = seg * s.segment_blocks;
    const int64_t j_end = std::min(s.num_blocks, j_begin + s.segment_blocks);
    // Checkpointed: recompute the segment from its checkpoint (the last
    // segment's activations are still in the slots from the forward).
    if (seg < s.num_segments - 1) {
      const T* ck = s.ckpt_carry + seg * B * s.carry_width;
      std::copy(ck, ck + B * s.carry_width, w.carry);
      for (int64_t j = j_begin; j < j_end; ++j) {
        const T* m_prev = j == 0         ? nullptr
                          : j == j_begin ? s.ckpt_m + seg * B * dm
                                         : LastM(s, j - 1);
        ForwardBlock(s, j, m_prev, w.carry, s.slots[j % s.num_slots]);
      }
    }
    for (int64_t j = j_end - 1; j >= j_begin; --j)
      BackwardBlock(s, j, s.slots[j % s.num_slots], w);
  }
  if (s.gain.grad)
    for (int64_t i = 0; i < dm; ++i) s.gain.grad[i] += w.gain_bar[i];
  if (s.kappa_m.grad)
    for (int64_t i = 0; i < dm; ++i) s.kappa_m.grad[i] += w.kappa_bar[i];
  if (w.chan_wbar != nullptr) {
    for (int64_t ch = 0; ch < s.n_in; ++ch) {
      const T* gb = w.chan_wbar + ch * s.chan_ld;
      for (int64_t q = s.chan_begin[ch]; q < s.chan_begin[ch + 1]; ++q)
        s.w_s.grad[s.syn[q].k] += gb[s.syn[q].branch] * s.syn[q].scale;
    }
  }
  if (w.chan_g != nullptr) {
    // Projected: with S_c = Σ x·G_t over channel c's nonzeros (all blocks),
    // W̄₁ᵤᵀ[br(k)] += w[k]·mask[k]·S_c and w̄[k] += mask[k]·S_c·W₁ᵤᵀ[br(k)]
    // for each synapse k that c feeds: one dot per synapse, not per nonzero.
    for (int64_t ch = 0; ch < s.n_in; ++ch) {
      const T* sg = w.chan_g + ch * s.w1u_ld;
      for (int64_t q = s.chan_begin[ch]; q < s.chan_begin[ch + 1]; ++q) {
        const int64_t jb = s.syn[q].branch;
        if (w.w1u_bar_t != nullptr) {
          const T coef = s.syn[q].w;
          T* dst = w.w1u_bar_t + jb * H1;
          for (int64_t h = 0; h < H1; ++h) dst[h] += coef * sg[h];
        }
        if (s.w_s.grad) {
          s.w_s.grad[s.syn[q].k] +=
              Dot(sg, s.w1u_t + jb * s.w1u_ld, H1) * s.syn[q].scale;
        }
      }
    }
  }
  if (s.mlp_w[0].grad) {
    Mat<T> w1_grad(s.mlp_w[0].grad, H1, s.n_branch + dm);
    if (w.w1u_bar_t != nullptr) {
      w1_grad.leftCols(s.n_branch) +=
          Mat<T>(w.w1u_bar_t, s.n_branch, H1).transpose();
    }
    w1_grad.rightCols(dm) += Mat<T>(w.w1m_bar_t, dm, H1).transpose();
  }
}

template <typename T>
Var<T> Unroll(Tape<T>& tape, const FusedElmSpec& spec,
              const FusedElmParams<T>& p, Var<T> x, const int64_t* row_begin,
              const int32_t* col, const T* val, int64_t rows, int64_t steps,
              Var<T>* memory_record, const FusedElmOptions& options) {
  CHECK_GT(steps, 0);
  CHECK_EQ(rows % steps, 0)
      << "FusedElmUnroll: " << rows << " rows are not B·" << steps;
  CHECK_GE(options.block_steps, 0);
  CHECK_GE(options.checkpoint_every, 0);
  CHECK_GE(options.memory_budget_bytes, 0);
  const int64_t B = rows / steps, TT = steps, R = rows;
  const int64_t n_branch = spec.num_branch, per = spec.num_synapse_per_branch;
  const int64_t n_syn = n_branch * per, dm = spec.num_memory;
  const int64_t L = static_cast<int64_t>(p.mlp_w.size()) - 1;
  CHECK_GE(L, 0);
  CHECK_EQ(p.mlp_b.size(), p.mlp_w.size());
  CHECK_EQ(p.w_s.size(), n_syn);
  CHECK_EQ(static_cast<int64_t>(spec.kappa_branch.size()), n_branch);
  const int64_t hidden = L > 0 ? p.mlp_w[0].rows : 0;
  const int64_t H1 = L > 0 ? hidden : dm;
  CHECK_EQ(p.mlp_w[0].rows, H1);
  CHECK_EQ(p.mlp_w[0].cols, n_branch + dm);
  const int64_t n_out = p.w_y.rows;
  Arena& arena = tape.arena();

  Saved<T> s;
  s.batch = B;
  s.steps = TT;
  s.n_in = spec.num_input;
  s.n_branch = n_branch;
  s.per_branch = per;
  s.n_syn = n_syn;
  s.d_m = dm;
  s.n_out = n_out;
  s.layers = L;
  s.hidden = hidden;
  s.h1 = H1;
  s.act = spec.silu ? Activation::kSilu : Activation::kRelu;
  // Inverse routing: the synapses each channel feeds.
  int64_t* chan_begin = arena.AllocateZeroed<int64_t>(spec.num_input + 1);
  const bool routed = !spec.index.empty();
  // Masked synapses (padding slots) contribute nothing: they are left out.
  auto live = [&](int64_t k) { return !routed || spec.mask[k] != 0.0; };
  for (int64_t k = 0; k < n_syn; ++k) {
    if (live(k)) chan_begin[(routed ? spec.index[k] : k) + 1]++;
  }
  for (int64_t c = 0; c < spec.num_input; ++c)
    chan_begin[c + 1] += chan_begin[c];
  const int64_t n_live = chan_begin[spec.num_input];
  Synapse<T>* syn = arena.AllocateArray<Synapse<T>>(n_live);
  {
    std::vector<int64_t> fill(chan_begin, chan_begin + spec.num_input);
    for (int64_t k = 0; k < n_syn; ++k) {
      if (!live(k)) continue;
      const int64_t q = fill[routed ? spec.index[k] : k]++;
      syn[q].k = static_cast<int32_t>(k);
      syn[q].branch = static_cast<int32_t>(k / per);
      syn[q].scale = routed ? static_cast<T>(spec.mask[k]) : T(1);
      syn[q].w = p.w_s.value[k] * syn[q].scale;
    }
  }
  T* kappa_u = arena.AllocateArray<T>(n_branch);
  for (int64_t j = 0; j < n_branch; ++j)
    kappa_u[j] = static_cast<T>(spec.kappa_branch[j]);
  s.chan_begin = chan_begin;
  s.syn = syn;
  s.arena = &arena;
  s.kappa_u = kappa_u;
  s.row_begin = row_begin;
  s.col = col;
  s.val = val;
  s.x = x;
  s.w_s = p.w_s;
  s.kappa_m = p.kappa_m;
  s.gain = p.gain;
  s.w_y = p.w_y;
  s.b_y = p.b_y;
  Var<T>* ws = arena.AllocateArray<Var<T>>(2 * (L + 1));
  std::copy(p.mlp_w.begin(), p.mlp_w.end(), ws);
  std::copy(p.mlp_b.begin(), p.mlp_b.end(), ws + L + 1);
  s.mlp_w = ws;
  s.mlp_b = ws + L + 1;

  const int64_t in1 = n_branch + dm;
  s.projected = Projected<T>(spec, H1);
  s.w1u_t = nullptr;
  s.w1u_ld = (H1 + kLanes<T> - 1) / kLanes<T> * kLanes<T>;
  s.w1u_tp = PackedB<T>{};
  if (s.projected) {
    // Rows padded with zeros to whole vectors: the sparse loops load and
    // store whole vectors of W₁ᵤᵀ and of the channel sums.
    T* w1u_t = ArenaArray<T>(arena, n_branch * s.w1u_ld, true);
    Eigen::Map<RowMatrix<T>, 0, Eigen::OuterStride<>>(
        w1u_t, n_branch, H1, Eigen::OuterStride<>(s.w1u_ld)) =
        Mat<T>(p.mlp_w[0].value, H1, in1).leftCols(n_branch).transpose();
    s.w1u_t = w1u_t;
  } else {
    s.w1u_tp = PackB<T>(arena, p.mlp_w[0].value, 1, in1, n_branch, H1);
  }
  s.wy_t = PackB<T>(arena, p.w_y.value, 1, dm, dm, n_out);
  s.carry_width = s.projected ? H1 : n_branch;
  // Not projected: dense per-channel rows when a row's vectors are few
  // against the synapses per channel (NeuronIO routing: 6 vectors for 45
  // branches against 3.5 synapses per channel).
  s.chan_w = nullptr;
  s.chan_ld = (n_branch + kLanes<T> - 1) / kLanes<T> * kLanes<T>;
  if (!s.projected && s.chan_ld / kLanes<T> <= kMaxDenseVectors &&
      s.chan_ld / kLanes<T> <=
          2 + 4 * n_live / std::max<int64_t>(1, spec.num_input)) {
    T* chan_w = arena.AllocateZeroed<T>(spec.num_input * s.chan_ld);
    for (int64_t ch = 0; ch < spec.num_input; ++ch) {
      for (int64_t q = chan_begin[ch]; q < chan_begin[ch + 1]; ++q)
        chan_w[ch * s.chan_ld + syn[q].branch] += syn[q].w;
    }
    s.chan_w = chan_w;
  }
  // The per-step products' weights, packed: W₁ₘᵀ [d_m, H₁] and W_{l+1}ᵀ
  // [hidden, out] for the forward, W₁ₘ and W_{l+1} for the backward.
  s.w1m_t = PackB<T>(arena, p.mlp_w[0].value + n_branch, 1, in1, dm, H1);
  PackedB<T>* w_t = arena.AllocateArray<PackedB<T>>(L + 1);
  w_t[0] = PackedB<T>{};
  for (int64_t l = 1; l <= L; ++l) {
    const int64_t out = l == L ? dm : hidden;
    w_t[l] = PackB<T>(arena, p.mlp_w[l].value, 1, hidden, hidden, out);
  }
  s.w_t = w_t;

  const bool needs_grad =
      p.w_s.needs_grad() || p.kappa_m.needs_grad() || p.gain.needs_grad() ||
      p.w_y.needs_grad() || p.b_y.needs_grad() || x.needs_grad() ||
      std::any_of(p.mlp_w.begin(), p.mlp_w.end(),
                  [](const Var<T>& v) { return v.needs_grad(); }) ||
      std::any_of(p.mlp_b.begin(), p.mlp_b.end(),
                  [](const Var<T>& v) { return v.needs_grad(); });

  s.w1m = s.w1u = s.wy = PackedB<T>{};
  PackedB<T>* w_b = arena.AllocateArray<PackedB<T>>(L + 1);
  for (int64_t l = 0; l <= L; ++l) w_b[l] = PackedB<T>{};
  if (needs_grad) {
    s.wy = PackB<T>(arena, p.w_y.value, dm, 1, n_out, dm);
    if ((p.w_s.needs_grad() && !s.projected) || x.needs_grad()) {
      s.w1u = PackB<T>(arena, p.mlp_w[0].value, in1, 1, H1, n_branch);
    }
    s.w1m = PackB<T>(arena, p.mlp_w[0].value + n_branch, in1, 1, H1, dm);
    for (int64_t l = 1; l <= L; ++l) {
      const int64_t out = l == L ? dm : hidden;
      w_b[l] = PackB<T>(arena, p.mlp_w[l].value, hidden, 1, out, hidden);
    }
  }
  s.w = w_b;

  // Blocks, segments and slots (fused_unroll.h, "Blocking and checkpointing").
  const FusedElmLayout layout = FusedElmUnrollLayout(
      spec, L, hidden, B, TT, static_cast<int64_t>(sizeof(T)), options);
  const int64_t G = layout.block_steps, cap = G * B;
  s.block_steps = G;
  s.chunk_steps = std::min(G, std::max<int64_t>(1, kChunkRows / B));
  s.num_blocks = layout.num_blocks;
  s.segment_blocks = layout.segment_steps / G;
  s.num_segments = layout.num_segments;
  // Without a backward one slot suffices (nothing is read back).
  s.num_slots = needs_grad ? s.segment_blocks : 1;
  Slot<T>* slots = arena.AllocateArray<Slot<T>>(s.num_slots);
  for (int64_t i = 0; i < s.num_slots; ++i) {
    Slot<T>& slot = slots[i];
    slot.u = ArenaArray<T>(arena, s.projected ? 0 : cap * n_branch);
    slot.pre = ArenaArray<T>(arena, L * cap * hidden);
    slot.th = ArenaArray<T>(arena, cap * dm);
    slot.m = ArenaArray<T>(arena, cap * dm);
    slot.m_in = ArenaArray<T>(arena, B * dm);
  }
  s.slots = slots;
  s.z = ArenaArray<T>(arena, cap * dm);
  s.k_step = ArenaArray<T>(arena, B * dm);
  s.h_step = ArenaArray<T>(arena, B * hidden);
  const bool checkpointed = needs_grad && s.num_segments > 1;
  s.ckpt_m = ArenaArray<T>(arena, checkpointed ? s.num_segments * B * dm : 0);
  s.ckpt_carry = ArenaArray<T>(
      arena, checkpointed ? s.num_segments * B * s.carry_width : 0);

  Var<T> y = tape.NewVar(R, n_out, needs_grad);
  if (memory_record != nullptr) *memory_record = tape.NewVar(R, dm, false);
  T* carry = ArenaArray<T>(arena, B * s.carry_width, true);
  for (int64_t j = 0; j < s.num_blocks; ++j) {
    const Slot<T>& slot = slots[j % s.num_slots];
    if (checkpointed && j % s.segment_blocks == 0) {
      const int64_t seg = j / s.segment_blocks;
      std::copy(carry, carry + B * s.carry_width,
                s.ckpt_carry + seg * B * s.carry_width);
    }
    ForwardBlock(s, j, j == 0 ? nullptr : LastM(s, j - 1), carry, slot, y.value,
                 memory_record != nullptr ? memory_record->value : nullptr);
    if (checkpointed && j % s.segment_blocks == 0) {
      const int64_t seg = j / s.segment_blocks;
      std::copy(slot.m_in, slot.m_in + B * dm, s.ckpt_m + seg * B * dm);
    }
  }
  if (needs_grad) {
    s.y = y;
    tape.Record([s] { Backward(s); });
  }
  return y;
}

}  // namespace

FusedElmLayout FusedElmUnrollLayout(const FusedElmSpec& spec, int64_t layers,
                                    int64_t hidden, int64_t batch,
                                    int64_t steps, int64_t bytes_per_element,
                                    const FusedElmOptions& options) {
  CHECK_GT(batch, 0);
  CHECK_GT(steps, 0);
  const int64_t dm = spec.num_memory, n_branch = spec.num_branch;
  const int64_t H1 = layers > 0 ? hidden : dm;
  const bool projected = bytes_per_element == sizeof(float)
                             ? Projected<float>(spec, H1)
                             : Projected<double>(spec, H1);
  FusedElmLayout out;
  const int64_t auto_steps =
      std::max<int64_t>(1, (kAutoBlockRows + batch - 1) / batch);
  out.block_steps = std::min(
      steps, options.block_steps > 0 ? options.block_steps : auto_steps);
  const int64_t G = out.block_steps;
  out.num_blocks = (steps + G - 1) / G;
  // Stored elements per row (U, A_l, tanh, M) and per block (m_in).
  out.elements_per_row = (projected ? 0 : n_branch) + layers * hidden + 2 * dm;
  const int64_t per_block = G * batch * out.elements_per_row + batch * dm;
  out.full_storage_bytes = out.num_blocks * per_block * bytes_per_element;
  int64_t k = options.checkpoint_every;
  if (k == 0 && options.memory_budget_bytes > 0 &&
      out.full_storage_bytes > options.memory_budget_bytes) {
    k = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(steps))));
    while (k * k < steps) ++k;  // exact ⌈√T⌉
  }
  const int64_t segment_blocks =
      k > 0 ? std::min(out.num_blocks, (k + G - 1) / G) : out.num_blocks;
  out.segment_steps = segment_blocks * G;
  out.num_segments = (out.num_blocks + segment_blocks - 1) / segment_blocks;
  out.checkpointed = out.num_segments > 1;
  const int64_t carry_width = projected ? H1 : n_branch;
  out.stored_bytes = out.checkpointed
                         ? (segment_blocks * per_block +
                            out.num_segments * batch * (dm + carry_width)) *
                               bytes_per_element
                         : out.full_storage_bytes;
  return out;
}

template <typename T>
Var<T> FusedElmUnroll(Tape<T>& tape, const FusedElmSpec& spec,
                      const FusedElmParams<T>& p, Var<T> x, int64_t steps,
                      Var<T>* memory_record, const FusedElmOptions& options) {
  CHECK_EQ(x.cols, spec.num_input);
  // The nonzeros of the dense input, as CSR (the backward's x̄ still covers
  // every entry).
  const int64_t rows = x.rows;
  int64_t nnz = 0;
  for (int64_t i = 0; i < x.size(); ++i) nnz += x.value[i] != T(0);
  int64_t* row_begin = tape.arena().template AllocateArray<int64_t>(rows + 1);
  int32_t* col = tape.arena().template AllocateArray<int32_t>(nnz);
  T* val = tape.arena().template AllocateArray<T>(nnz);
  int64_t n = 0;
  for (int64_t r = 0; r < rows; ++r) {
    row_begin[r] = n;
    for (int64_t c = 0; c < x.cols; ++c) {
      const T v = x.value[r * x.cols + c];
      if (v != T(0)) {
        col[n] = static_cast<int32_t>(c);
        val[n++] = v;
      }
    }
  }
  row_begin[rows] = n;
  return Unroll(tape, spec, p, x, row_begin, col, val, rows, steps,
                memory_record, options);
}

template <typename T>
Var<T> FusedElmUnroll(Tape<T>& tape, const FusedElmSpec& spec,
                      const FusedElmParams<T>& p, const CsrView& x,
                      int64_t steps, Var<T>* memory_record,
                      const FusedElmOptions& options) {
  CHECK_EQ(x.cols, spec.num_input);
  const int64_t nnz = x.row_begin[x.rows];
  const T* val;
  if constexpr (std::is_same_v<T, float>) {
    val = x.value;
  } else {
    T* converted = tape.arena().template AllocateArray<T>(nnz);
    for (int64_t i = 0; i < nnz; ++i) converted[i] = static_cast<T>(x.value[i]);
    val = converted;
  }
  return Unroll(tape, spec, p, Var<T>{}, x.row_begin, x.col, val, x.rows, steps,
                memory_record, options);
}

template Var<float> FusedElmUnroll<float>(Tape<float>&, const FusedElmSpec&,
                                          const FusedElmParams<float>&,
                                          Var<float>, int64_t, Var<float>*,
                                          const FusedElmOptions&);
template Var<double> FusedElmUnroll<double>(Tape<double>&, const FusedElmSpec&,
                                            const FusedElmParams<double>&,
                                            Var<double>, int64_t, Var<double>*,
                                            const FusedElmOptions&);
template Var<float> FusedElmUnroll<float>(Tape<float>&, const FusedElmSpec&,
                                          const FusedElmParams<float>&,
                                          const CsrView&, int64_t, Var<float>*,
                                          const FusedElmOptions&);
template Var<double> FusedElmUnroll<double>(Tape<double>&, const FusedElmSpec&,
                                            const FusedElmParams<double>&,
                                            const CsrView&, int64_t,
                                            Var<double>*,
                                            const FusedElmOptions&);

}  // namespace elm
