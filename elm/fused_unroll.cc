// The fused ELM unroll: see fused_unroll.h for the forward and adjoint
// equations, the blocking and the checkpointing.
#include "elm/fused_unroll.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "autodiff/tensor.h"
#include "glog/logging.h"

namespace elm {
namespace {

template <typename T>
using Mat = Eigen::Map<RowMatrix<T>>;

// The automatic block: about this many rows (steps × sequences) per block.
constexpr int64_t kAutoBlockRows = 4096;

// C[M, N] (+)= A[M, K]·B[K, N] for the small per-step products (M = the batch),
// with leading dimensions; the inner loop runs over contiguous N. Eigen's
// blocked GEMM costs more in packing than in arithmetic at these sizes.
template <typename T>
void SmallGemm(int64_t m, int64_t n, int64_t k, const T* __restrict a,
               int64_t lda, const T* __restrict b, int64_t ldb, T* __restrict c,
               int64_t ldc, bool accumulate) {
  for (int64_t i = 0; i < m; ++i) {
    T* ci = c + i * ldc;
    if (!accumulate) std::fill(ci, ci + n, T(0));
    for (int64_t p = 0; p < k; ++p) {
      const T aip = a[i * lda + p];
      const T* bp = b + p * ldb;
      for (int64_t j = 0; j < n; ++j) ci[j] += aip * bp[j];
    }
  }
}

// An array in the tape's arena (zeroed when asked; null when empty). Every
// array is 64-byte aligned, so that the full-storage and the checkpointed
// modes see the same alignment (Eigen's vectorised loops peel by address).
template <typename T>
T* ArenaArray(Arena& arena, int64_t n, bool zero = false) {
  if (n == 0) return nullptr;
  return zero ? arena.AllocateZeroed<T>(n) : arena.AllocateArray<T>(n);
}

// Gradient accumulation that does not depend on where the gradient lives
// (Eigen's vectorised reductions and small products peel by the destination's
// address, and a GradBlock's address is arbitrary): a product is formed in
// 64-byte-aligned scratch and added element by element; column sums are
// plain loops in row order.
//
// grad[r·ld + c] += prod[r·cols + c] for a [rows, cols] block of a gradient
// with leading dimension ld.
template <typename T>
void AddBlock(T* grad, int64_t ld, const T* prod, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    T* g = grad + r * ld;
    const T* p = prod + r * cols;
    for (int64_t c = 0; c < cols; ++c) g[c] += p[c];
  }
}

// grad[c] += Σ_r a[r, c], the rows in order.
template <typename T>
void AddColumnSums(T* grad, const T* a, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* ar = a + r * cols;
    for (int64_t c = 0; c < cols; ++c) grad[c] += ar[c];
  }
}

// The stored activations of one block of steps [t0, t1), time-major rows
// (t − t0)·B + b. A slot holds G·B rows (`cap`); the last block may use fewer.
template <typename T>
struct Slot {
  T* u;     // branch traces U [cap, B_r] (unprojected first layer), else null
  T* pre;   // A_1..A_L, layer l at (l − 1)·cap·H (L ≥ 1), else null
  T* act;   // h_1..h_L, the same layout (L ≥ 1), else null
  T* k;     // K = κ_m ⊙ m_{t−1} [cap, d_m]
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
  bool silu;
  // Structure: synapses fed by channel c are syn[chan_begin[c] .. chan_begin[c
  // + 1]).
  const int64_t* chan_begin;
  const int64_t* syn;
  const T* syn_scale;         // mask[k]
  const int32_t* syn_branch;  // br(k) = k / d_brch
  Arena* arena;               // the tape's: backward scratch
  // Projected first layer (one κ_u for all branches and B_r ≥ 2·H₁): U is
  // never formed; the scan runs over A₁'s H₁ columns.
  bool projected;
  const T* w1u_t;    // W₁ᵤᵀ [B_r, H₁] (projected only)
  const T* kappa_u;  // [B_r]
  // Input nonzeros, CSR over batch-major rows b·T + t.
  const int64_t* row_begin;
  const int32_t* col;
  const T* val;
  // Transposed weights of the per-step products.
  const T* w1m_t;       // W₁ₘᵀ [d_m, H₁]
  const T* const* w_t;  // w_t[l] = W_{l+1}ᵀ [H, out], l = 1..L
  // Blocking and checkpointing (see the header).
  int64_t block_steps;     // G
  int64_t num_blocks;      // ⌈T / G⌉
  int64_t segment_blocks;  // blocks per checkpoint segment
  int64_t num_segments;  // ⌈num_blocks / segment_blocks⌉ (1: full storage)
  int64_t num_slots;     // block j lives in slots[j % num_slots]
  const Slot<T>* slots;
  T* z;  // z [G·B, d_m] of the block being run (also A₁ if L = 0)
  int64_t carry_width;  // width of the forward trace: H₁ (projected) or B_r
  T* ckpt_m;  // [num_segments, B, d_m]: m before each segment (checkpointed)
  T* ckpt_carry;  // [num_segments, B, carry_width]: the trace before it
  // Parameter Vars.
  Var<T> x, w_s, kappa_m, gain, w_y, b_y, y;
  const Var<T>* mlp_w;  // L + 1 of each
  const Var<T>* mlp_b;
};

template <typename T>
T Act(T a, bool silu) {
  return silu ? a / (T(1) + std::exp(-a)) : (a > T(0) ? a : T(0));
}

template <typename T>
T ActGrad(T a, bool silu) {
  if (!silu) return a > T(0) ? T(1) : T(0);
  const T s = T(1) / (T(1) + std::exp(-a));
  return s * (T(1) + a * (T(1) - s));
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

// Runs the forward of block j into `slot`: the branch drive and trace, A₁'s
// time-parallel part, then the sequential cell. m_prev = m_{t0−1} (null for
// the first block); `carry` holds the trace at t0 − 1 on entry and at t1 − 1
// on return. The forward pass and the checkpointed backward's recomputation
// both run exactly this.
template <typename T>
void ForwardBlock(const Saved<T>& s, int64_t j, const T* m_prev, T* carry,
                  const Slot<T>& slot) {
  const int64_t B = s.batch, TT = s.steps, G = s.block_steps, cap = G * B;
  const int64_t t0 = j * G, t1 = std::min(TT, t0 + G), Rb = (t1 - t0) * B;
  const int64_t n_branch = s.n_branch, dm = s.d_m, L = s.layers;
  const int64_t hidden = s.hidden, H1 = s.h1, cw = s.carry_width;
  // m_{t0−1} first: with a single slot, m_prev points into this slot's m.
  if (m_prev != nullptr) {
    std::copy(m_prev, m_prev + B * dm, slot.m_in);
  } else {
    std::fill(slot.m_in, slot.m_in + B * dm, T(0));
  }
  const T* w = s.w_s.value;
  Mat<T> W1(s.mlp_w[0].value, H1, n_branch + dm);
  T* a1 = L > 0 ? slot.pre : s.z;
  // The trace: A₁ before the bias (projected) or U; a scan over t.
  T* trace = s.projected ? a1 : slot.u;
  std::fill(trace, trace + Rb * cw, T(0));  // accumulated below
  if (s.projected) {
    // Each input nonzero adds a row of W₁ᵤᵀ, then one H₁-wide scan.
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t t = t0; t < t1; ++t) {
        T* at = trace + ((t - t0) * B + b) * H1;
        const int64_t r = b * TT + t;
        for (int64_t n = s.row_begin[r]; n < s.row_begin[r + 1]; ++n) {
          const int64_t ch = s.col[n];
          for (int64_t q = s.chan_begin[ch]; q < s.chan_begin[ch + 1]; ++q) {
            const int64_t k = s.syn[q];
            const T coef = w[k] * s.syn_scale[k] * s.val[n];
            const T* row = s.w1u_t + s.syn_branch[k] * H1;
            for (int64_t h = 0; h < H1; ++h) at[h] += coef * row[h];
          }
        }
      }
    }
    const T kappa = s.kappa_u[0];
    for (int64_t t = std::max<int64_t>(t0, 1); t < t1; ++t) {
      T* cur = trace + (t - t0) * B * H1;
      const T* prev = t == t0 ? carry : cur - B * H1;
      for (int64_t e = 0; e < B * H1; ++e) cur[e] += kappa * prev[e];
    }
  } else {
    // Branch drive a_t and the branch-trace scan into U.
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t t = t0; t < t1; ++t) {
        T* ut = trace + ((t - t0) * B + b) * n_branch;
        const int64_t r = b * TT + t;
        for (int64_t n = s.row_begin[r]; n < s.row_begin[r + 1]; ++n) {
          const int64_t ch = s.col[n];
          for (int64_t q = s.chan_begin[ch]; q < s.chan_begin[ch + 1]; ++q) {
            const int64_t k = s.syn[q];
            ut[s.syn_branch[k]] += w[k] * s.syn_scale[k] * s.val[n];
          }
        }
      }
    }
    for (int64_t t = std::max<int64_t>(t0, 1); t < t1; ++t) {
      T* cur = trace + (t - t0) * B * n_branch;
      const T* prev = t == t0 ? carry : cur - B * n_branch;
      for (int64_t b = 0; b < B; ++b) {
        for (int64_t i = 0; i < n_branch; ++i) {
          cur[b * n_branch + i] += s.kappa_u[i] * prev[b * n_branch + i];
        }
      }
    }
  }
  std::copy(trace + (Rb - B) * cw, trace + Rb * cw, carry);
  if (!s.projected) {
    Mat<T>(a1, Rb, H1).noalias() =
        Mat<T>(slot.u, Rb, n_branch) * W1.leftCols(n_branch).transpose();
  }
  // The bias is added after the scan (it is not part of the trace).
  Mat<T>(a1, Rb, H1).rowwise() += Mat<T>(s.mlp_b[0].value, 1, H1).row(0);

  // The sequential cell.
  const T* km = s.kappa_m.value;
  const T* g = s.gain.value;
  for (int64_t t = t0; t < t1; ++t) {
    const int64_t row = (t - t0) * B;  // the step's first row in the block
    T* kt = slot.k + row * dm;
    if (t == 0) {
      std::fill(kt, kt + B * dm, T(0));
    } else {
      const T* mp = t == t0 ? slot.m_in : slot.m + (row - B) * dm;
      for (int64_t b = 0; b < B; ++b) {
        for (int64_t i = 0; i < dm; ++i)
          kt[b * dm + i] = km[i] * mp[b * dm + i];
      }
    }
    SmallGemm<T>(B, H1, dm, kt, dm, s.w1m_t, H1, a1 + row * H1, H1,
                 /*accumulate=*/true);

    for (int64_t l = 1; l <= L; ++l) {
      const T* pre = slot.pre + ((l - 1) * cap + row) * hidden;
      T* h = slot.act + ((l - 1) * cap + row) * hidden;
      for (int64_t e = 0; e < B * hidden; ++e) h[e] = Act(pre[e], s.silu);
      const int64_t out = l == L ? dm : hidden;
      T* next = l == L ? s.z + row * dm : slot.pre + (l * cap + row) * hidden;
      const T* bias = s.mlp_b[l].value;
      for (int64_t b = 0; b < B; ++b)
        std::copy(bias, bias + out, next + b * out);
      SmallGemm<T>(B, out, hidden, h, hidden, s.w_t[l], out, next, out,
                   /*accumulate=*/true);
    }
    const T* z = s.z + row * dm;  // = A₁'s rows when L == 0
    T* tht = slot.th + row * dm;
    T* mt = slot.m + row * dm;
    // tanh((2z)/3) over the step's block at once: Eigen vectorises it for float
    // (within a few ulp of std::tanh) and uses std::tanh for double.
    using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
    Eigen::Map<Arr>(tht, B * dm) =
        (Eigen::Map<const Arr>(z, B * dm) * T(2) / T(3)).tanh();
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t i = 0; i < dm; ++i) {
        const int64_t e = b * dm + i;
        mt[e] = kt[e] + g[i] * (tht[e] * T(1.7159));
      }
    }
  }
}

// The backward's scratch, one block's worth (every buffer is fully written
// before it is read, except the accumulators and carries, which are zeroed).
template <typename T>
struct Scratch {
  T* y_bar;       // Ȳ [cap, n_out]
  T* m_bar;       // M̄ [cap, d_m]
  T* a1_bar;      // Ā₁ [cap, H₁]
  T* hidden_bar;  // Ā_2..Ā_L [(L − 1)·cap, H]
  T* z_bar;       // Z̄ [cap, d_m] (L ≥ 1; else Ā₁)
  T* c;           // adjoint reaching m_t from step t + 1 [B, d_m]
  T* k_bar;       // [B, d_m]
  T* gain_bar;    // [d_m]
  T* kappa_bar;   // [d_m]
  T* a_bar;       // ā [cap, B_r] (when needed)
  T* g;           // reverse-scanned Ā₁ [cap, H₁] (projected)
  T* rev_carry;   // the reverse scan's row at t1 (of ā or of g)
  T* w1u_bar_t;   // W̄₁ᵤᵀ [B_r, H₁] (projected)
  T* carry;       // the forward trace while recomputing a segment
  T* prod;        // a block's weight-gradient product, before AddBlock
};

// The backward of block j (its activations in `slot`): the cell's per-step
// sweep in reverse, then the block's weight-gradient products and the
// branch part, over the block's rows.
template <typename T>
void BackwardBlock(const Saved<T>& s, int64_t j, const Slot<T>& slot,
                   const Scratch<T>& w) {
  const int64_t B = s.batch, TT = s.steps, G = s.block_steps, cap = G * B;
  const int64_t t0 = j * G, t1 = std::min(TT, t0 + G), Rb = (t1 - t0) * B;
  const int64_t dm = s.d_m, L = s.layers, H1 = s.h1, hidden = s.hidden;
  const int64_t n_out = s.n_out, n_branch = s.n_branch;
  const bool last_block = j == s.num_blocks - 1;
  // Ȳ to time-major.
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = t0; t < t1; ++t) {
      std::copy(s.y.grad + (b * TT + t) * n_out,
                s.y.grad + (b * TT + t + 1) * n_out,
                w.y_bar + ((t - t0) * B + b) * n_out);
    }
  }
  Mat<T> Ybar(w.y_bar, Rb, n_out);
  Mat<T> M(slot.m, Rb, dm);
  Mat<T> Wy(s.w_y.value, n_out, dm);
  if (s.w_y.grad) {
    Mat<T>(w.prod, n_out, dm).noalias() = Ybar.transpose() * M;
    AddBlock(s.w_y.grad, dm, w.prod, n_out, dm);
  }
  if (s.b_y.grad) AddColumnSums(s.b_y.grad, w.y_bar, Rb, n_out);
  Mat<T> Mbar(w.m_bar, Rb, dm);
  Mbar.noalias() = Ybar * Wy;

  const T* g = s.gain.value;
  const T* km = s.kappa_m.value;
  const Var<T>& w1 = s.mlp_w[0];
  const int64_t in1 = n_branch + dm;
  Mat<T> W1(w1.value, H1, in1);
  for (int64_t t = t1 - 1; t >= t0; --t) {
    const int64_t row = (t - t0) * B;
    T* mb = w.m_bar + row * dm;
    const T* tht = slot.th + row * dm;
    // The adjoint of z_t: into Z̄ (L > 0) or Ā₁ (L == 0).
    T* zb = (L > 0 ? w.z_bar : w.a1_bar) + row * dm;
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t i = 0; i < dm; ++i) {
        const int64_t e = b * dm + i;
        mb[e] += w.c[e];
        const T delta = tht[e] * T(1.7159);
        w.gain_bar[i] += mb[e] * delta;
        zb[e] =
            mb[e] * g[i] * T(1.7159) * (T(1) - tht[e] * tht[e]) * (T(2) / T(3));
      }
    }
    // Down the MLP: Ā_l = (Ā_{l+1}·W_{l+1}) ⊙ act'(A_l).
    const T* upper = zb;
    int64_t upper_width = dm;
    for (int64_t l = L; l >= 1; --l) {
      T* ab = l == 1 ? w.a1_bar + row * hidden
                     : w.hidden_bar + ((l - 2) * cap + row) * hidden;
      const Var<T>& wl = s.mlp_w[l];
      SmallGemm<T>(B, hidden, upper_width, upper, upper_width, wl.value, hidden,
                   ab, hidden, /*accumulate=*/false);
      const T* pre = slot.pre + ((l - 1) * cap + row) * hidden;
      for (int64_t e = 0; e < B * hidden; ++e) ab[e] *= ActGrad(pre[e], s.silu);
      upper = ab;
      upper_width = hidden;
    }
    // k̄ = m̄ + Ā₁·W₁ₘ;  κ̄_m += Σ_b k̄ ⊙ m_{t−1};  c = k̄ ⊙ κ_m.
    SmallGemm<T>(B, dm, H1, w.a1_bar + row * H1, H1, W1.data() + n_branch, in1,
                 w.k_bar, dm, /*accumulate=*/false);
    const T* m_prev = t == t0 ? slot.m_in : slot.m + (row - B) * dm;
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t i = 0; i < dm; ++i) {
        const int64_t e = b * dm + i;
        w.k_bar[e] += mb[e];
        if (t > 0) w.kappa_bar[i] += w.k_bar[e] * m_prev[e];
        w.c[e] = w.k_bar[e] * km[i];
      }
    }
  }

  // The block's weight gradients, one GEMM each over its rows.
  for (int64_t l = L; l >= 1; --l) {  // layer l+1 (index l), input h_l
    const Var<T>& wl = s.mlp_w[l];
    const Var<T>& bias = s.mlp_b[l];
    const int64_t out = l == L ? dm : hidden;
    const T* ab = l == L ? w.z_bar : w.hidden_bar + (l - 1) * cap * hidden;
    Eigen::Map<const RowMatrix<T>> Ab(ab, Rb, out);
    Eigen::Map<const RowMatrix<T>> Hl(slot.act + (l - 1) * cap * hidden, Rb,
                                      hidden);
    if (wl.grad) {
      Mat<T>(w.prod, out, hidden).noalias() = Ab.transpose() * Hl;
      AddBlock(wl.grad, hidden, w.prod, out, hidden);
    }
    if (bias.grad) AddColumnSums(bias.grad, ab, Rb, out);
  }
  Mat<T> A1bar(w.a1_bar, Rb, H1);
  if (w1.grad) {
    Mat<T>(w.prod, H1, dm).noalias() =
        A1bar.transpose() * Mat<T>(slot.k, Rb, dm);
    AddBlock(w1.grad + n_branch, in1, w.prod, H1, dm);
  }
  if (s.mlp_b[0].grad) AddColumnSums(s.mlp_b[0].grad, w.a1_bar, Rb, H1);

  if (s.projected) {
    // With one κ for every branch, U·W₁ᵤᵀ = scan(A·W₁ᵤᵀ): the forward never
    // formed U. G = reverse-scan(Ā₁) gives W̄₁ᵤ = Σ_t G_tᵀ a_t and ā_t =
    // G_t·W₁ᵤ, both over the input's nonzeros only.
    const T kappa = s.kappa_u[0];
    std::copy(w.a1_bar, w.a1_bar + Rb * H1, w.g);
    for (int64_t t = std::min(t1 - 1, TT - 2); t >= t0; --t) {
      T* cur = w.g + (t - t0) * B * H1;
      const T* next = t == t1 - 1 ? w.rev_carry : cur + B * H1;
      for (int64_t e = 0; e < B * H1; ++e) cur[e] += kappa * next[e];
    }
    std::copy(w.g, w.g + B * H1, w.rev_carry);
    const T* ws = s.w_s.value;
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t t = t0; t < t1; ++t) {
        const T* gt = w.g + ((t - t0) * B + b) * H1;
        const int64_t r = b * TT + t;
        for (int64_t n = s.row_begin[r]; n < s.row_begin[r + 1]; ++n) {
          const int64_t ch = s.col[n];
          for (int64_t q = s.chan_begin[ch]; q < s.chan_begin[ch + 1]; ++q) {
            const int64_t k = s.syn[q];
            const int64_t jb = s.syn_branch[k];
            if (w1.grad) {
              const T coef = ws[k] * s.syn_scale[k] * s.val[n];
              T* dst = w.w1u_bar_t + jb * H1;
              for (int64_t h = 0; h < H1; ++h) dst[h] += coef * gt[h];
            }
            if (s.w_s.grad) {
              const T* wt = s.w1u_t + jb * H1;
              T dot = 0;
              for (int64_t h = 0; h < H1; ++h) dot += gt[h] * wt[h];
              s.w_s.grad[k] += dot * s.syn_scale[k] * s.val[n];
            }
          }
        }
      }
    }
    if (s.x.grad) {
      Mat<T>(w.a_bar, Rb, n_branch).noalias() =
          Mat<T>(w.g, Rb, H1) * W1.leftCols(n_branch);
    }
  } else {
    if (w1.grad) {
      Mat<T>(w.prod, H1, n_branch).noalias() =
          A1bar.transpose() * Mat<T>(slot.u, Rb, n_branch);
      AddBlock(w1.grad, in1, w.prod, H1, n_branch);
    }
    if (w.a_bar != nullptr) {
      // Ū = Ā₁·W₁ᵤ, then the reverse scan ā_t = Ū_t + κ_u ⊙ ā_{t+1} (in place).
      Mat<T>(w.a_bar, Rb, n_branch).noalias() = A1bar * W1.leftCols(n_branch);
      for (int64_t t = last_block ? t1 - 2 : t1 - 1; t >= t0; --t) {
        T* cur = w.a_bar + (t - t0) * B * n_branch;
        const T* next = t == t1 - 1 ? w.rev_carry : cur + B * n_branch;
        for (int64_t b = 0; b < B; ++b) {
          for (int64_t i = 0; i < n_branch; ++i) {
            cur[b * n_branch + i] += s.kappa_u[i] * next[b * n_branch + i];
          }
        }
      }
      std::copy(w.a_bar, w.a_bar + B * n_branch, w.rev_carry);
    }
  }
  if (w.a_bar == nullptr) return;
  // w̄[k] += Σ ā[br(k)]·mask[k]·x over the nonzeros (unless done above);
  // x̄[c] += Σ_k w[k]·mask[k]·ā[br(k)].
  const T* ws = s.w_s.value;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = t0; t < t1; ++t) {
      const T* ab = w.a_bar + ((t - t0) * B + b) * n_branch;
      const int64_t r = b * TT + t;
      if (s.w_s.grad && !s.projected) {
        for (int64_t n = s.row_begin[r]; n < s.row_begin[r + 1]; ++n) {
          const int64_t ch = s.col[n];
          for (int64_t q = s.chan_begin[ch]; q < s.chan_begin[ch + 1]; ++q) {
            const int64_t k = s.syn[q];
            s.w_s.grad[k] += ab[s.syn_branch[k]] * s.syn_scale[k] * s.val[n];
          }
        }
      }
      if (s.x.grad) {
        T* xg = s.x.grad + r * s.n_in;
        for (int64_t ch = 0; ch < s.n_in; ++ch) {
          T sum = 0;
          for (int64_t q = s.chan_begin[ch]; q < s.chan_begin[ch + 1]; ++q) {
            const int64_t k = s.syn[q];
            sum += ws[k] * s.syn_scale[k] * ab[s.syn_branch[k]];
          }
          xg[ch] += sum;
        }
      }
    }
  }
}

template <typename T>
void Backward(const Saved<T>& s) {
  const int64_t B = s.batch, cap = s.block_steps * B, dm = s.d_m;
  const int64_t L = s.layers, H1 = s.h1;
  Arena& arena = *s.arena;
  const bool need_a_bar = (s.w_s.grad && !s.projected) || s.x.grad;
  Scratch<T> w;
  w.y_bar = ArenaArray<T>(arena, cap * s.n_out);
  w.m_bar = ArenaArray<T>(arena, cap * dm);
  w.a1_bar = ArenaArray<T>(arena, cap * H1);
  w.hidden_bar = ArenaArray<T>(arena, L > 1 ? cap * s.hidden * (L - 1) : 0);
  w.z_bar = ArenaArray<T>(arena, L > 0 ? cap * dm : 0);
  w.c = ArenaArray<T>(arena, B * dm, true);
  w.k_bar = ArenaArray<T>(arena, B * dm);
  w.gain_bar = ArenaArray<T>(arena, dm, true);
  w.kappa_bar = ArenaArray<T>(arena, dm, true);
  w.a_bar = ArenaArray<T>(arena, need_a_bar ? cap * s.n_branch : 0);
  w.g = ArenaArray<T>(arena, s.projected ? cap * H1 : 0);
  w.rev_carry = ArenaArray<T>(arena, B * (s.projected ? H1 : s.n_branch), true);
  w.w1u_bar_t = ArenaArray<T>(
      arena, s.projected && s.mlp_w[0].grad ? s.n_branch * H1 : 0, true);
  w.carry = ArenaArray<T>(arena, s.num_segments > 1 ? B * s.carry_width : 0);
  w.prod = ArenaArray<T>(arena, std::max({s.n_out * dm, H1 * (s.n_branch + dm),
                                          s.hidden * s.hidden, dm * s.hidden}));

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
  if (w.w1u_bar_t != nullptr) {
    Mat<T>(s.mlp_w[0].grad, H1, s.n_branch + dm).leftCols(s.n_branch) +=
        Mat<T>(w.w1u_bar_t, s.n_branch, H1).transpose();
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
  s.silu = spec.silu;
  // Inverse routing: the synapses each channel feeds.
  int64_t* chan_begin = arena.AllocateZeroed<int64_t>(spec.num_input + 1);
  int64_t* syn = arena.AllocateArray<int64_t>(n_syn);
  T* syn_scale = arena.AllocateArray<T>(n_syn);
  const bool routed = !spec.index.empty();
  // Masked synapses (padding slots) contribute nothing: they are left out.
  auto live = [&](int64_t k) { return !routed || spec.mask[k] != 0.0; };
  for (int64_t k = 0; k < n_syn; ++k) {
    if (live(k)) chan_begin[(routed ? spec.index[k] : k) + 1]++;
  }
  for (int64_t c = 0; c < spec.num_input; ++c)
    chan_begin[c + 1] += chan_begin[c];
  {
    std::vector<int64_t> fill(chan_begin, chan_begin + spec.num_input);
    for (int64_t k = 0; k < n_syn; ++k) {
      if (live(k)) syn[fill[routed ? spec.index[k] : k]++] = k;
    }
  }
  int32_t* syn_branch = arena.AllocateArray<int32_t>(n_syn);
  for (int64_t k = 0; k < n_syn; ++k)
    syn_branch[k] = static_cast<int32_t>(k / per);
  for (int64_t k = 0; k < n_syn; ++k)
    syn_scale[k] = routed ? static_cast<T>(spec.mask[k]) : T(1);
  T* kappa_u = arena.AllocateArray<T>(n_branch);
  for (int64_t j = 0; j < n_branch; ++j)
    kappa_u[j] = static_cast<T>(spec.kappa_branch[j]);
  s.chan_begin = chan_begin;
  s.syn = syn;
  s.syn_scale = syn_scale;
  s.syn_branch = syn_branch;
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

  Mat<T> W1(p.mlp_w[0].value, H1, n_branch + dm);
  s.projected = Projected<T>(spec, H1);
  s.w1u_t = nullptr;
  if (s.projected) {
    T* w1u_t = arena.AllocateArray<T>(n_branch * H1);
    Mat<T>(w1u_t, n_branch, H1) = W1.leftCols(n_branch).transpose();
    s.w1u_t = w1u_t;
  }
  s.carry_width = s.projected ? H1 : n_branch;
  // Transposed weights for the per-step products: W₁ₘᵀ [d_m, H₁], W_lᵀ [in,
  // out].
  T* w1m_t = arena.AllocateArray<T>(dm * H1);
  Mat<T>(w1m_t, dm, H1) = W1.rightCols(dm).transpose();
  s.w1m_t = w1m_t;
  const T** w_t = arena.AllocateArray<const T*>(L + 1);
  w_t[0] = nullptr;
  for (int64_t l = 1; l <= L; ++l) {
    const int64_t out = l == L ? dm : hidden;
    T* wt = arena.AllocateArray<T>(hidden * out);
    Mat<T>(wt, hidden, out) = Mat<T>(p.mlp_w[l].value, out, hidden).transpose();
    w_t[l] = wt;
  }
  s.w_t = w_t;

  const bool needs_grad =
      p.w_s.needs_grad() || p.kappa_m.needs_grad() || p.gain.needs_grad() ||
      p.w_y.needs_grad() || p.b_y.needs_grad() || x.needs_grad() ||
      std::any_of(p.mlp_w.begin(), p.mlp_w.end(),
                  [](const Var<T>& v) { return v.needs_grad(); }) ||
      std::any_of(p.mlp_b.begin(), p.mlp_b.end(),
                  [](const Var<T>& v) { return v.needs_grad(); });

  // Blocks, segments and slots (fused_unroll.h, "Blocking and checkpointing").
  const FusedElmLayout layout = FusedElmUnrollLayout(
      spec, L, hidden, B, TT, static_cast<int64_t>(sizeof(T)), options);
  const int64_t G = layout.block_steps, cap = G * B;
  s.block_steps = G;
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
    slot.act = ArenaArray<T>(arena, L * cap * hidden);
    slot.k = ArenaArray<T>(arena, cap * dm);
    slot.th = ArenaArray<T>(arena, cap * dm);
    slot.m = ArenaArray<T>(arena, cap * dm);
    slot.m_in = ArenaArray<T>(arena, B * dm);
  }
  s.slots = slots;
  s.z = ArenaArray<T>(arena, cap * dm);
  const bool checkpointed = needs_grad && s.num_segments > 1;
  s.ckpt_m = ArenaArray<T>(arena, checkpointed ? s.num_segments * B * dm : 0);
  s.ckpt_carry = ArenaArray<T>(
      arena, checkpointed ? s.num_segments * B * s.carry_width : 0);

  Var<T> y = tape.NewVar(R, n_out, needs_grad);
  if (memory_record != nullptr) *memory_record = tape.NewVar(R, dm, false);
  T* carry = ArenaArray<T>(arena, B * s.carry_width, true);
  T* ytm = ArenaArray<T>(arena, cap * n_out);
  for (int64_t j = 0; j < s.num_blocks; ++j) {
    const Slot<T>& slot = slots[j % s.num_slots];
    if (checkpointed && j % s.segment_blocks == 0) {
      const int64_t seg = j / s.segment_blocks;
      std::copy(carry, carry + B * s.carry_width,
                s.ckpt_carry + seg * B * s.carry_width);
    }
    ForwardBlock(s, j, j == 0 ? nullptr : LastM(s, j - 1), carry, slot);
    if (checkpointed && j % s.segment_blocks == 0) {
      const int64_t seg = j / s.segment_blocks;
      std::copy(slot.m_in, slot.m_in + B * dm, s.ckpt_m + seg * B * dm);
    }
    // Readout y = M·W_yᵀ + b_y, back to batch-major rows.
    const int64_t t0 = j * G, t1 = std::min(TT, t0 + G), Rb = (t1 - t0) * B;
    Mat<T> Y(ytm, Rb, n_out);
    Y.noalias() =
        Mat<T>(slot.m, Rb, dm) * Mat<T>(p.w_y.value, n_out, dm).transpose();
    Y.rowwise() += Mat<T>(p.b_y.value, 1, n_out).row(0);
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t src = (t - t0) * B + b;
        std::copy(ytm + src * n_out, ytm + (src + 1) * n_out,
                  y.value + (b * TT + t) * n_out);
        if (memory_record != nullptr) {
          std::copy(slot.m + src * dm, slot.m + (src + 1) * dm,
                    memory_record->value + (b * TT + t) * dm);
        }
      }
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
  // Stored elements per row (U, A_l, h_l, K, tanh, M) and per block (m_in).
  out.elements_per_row =
      (projected ? 0 : n_branch) + 2 * layers * hidden + 3 * dm;
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
                      const FusedElmParams<T>& p, const CsrInput& x,
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
                                          const CsrInput&, int64_t, Var<float>*,
                                          const FusedElmOptions&);
template Var<double> FusedElmUnroll<double>(Tape<double>&, const FusedElmSpec&,
                                            const FusedElmParams<double>&,
                                            const CsrInput&, int64_t,
                                            Var<double>*,
                                            const FusedElmOptions&);

}  // namespace elm
