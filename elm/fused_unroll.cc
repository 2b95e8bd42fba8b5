// The fused ELM unroll: see fused_unroll.h for the forward and adjoint
// equations.
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

// Rows [row0, row0 + rows) of a row-major buffer with `cols` columns.
template <typename T>
Mat<T> Rows(T* data, int64_t row0, int64_t rows, int64_t cols) {
  return Mat<T>(data + row0 * cols, rows, cols);
}

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

// A scratch array in the tape's arena (zeroed when asked).
template <typename T>
struct ScratchVec {
  ScratchVec(Arena& arena, int64_t n, bool zero = false)
      : ptr(n == 0 ? nullptr
                   : (zero ? arena.AllocateZeroed<T>(n)
                           : arena.AllocateArray<T>(n))) {}
  T* data() const { return ptr; }
  T& operator[](int64_t i) const { return ptr[i]; }
  T* ptr;
};

// Everything the backward needs, placed in the arena (trivially copyable).
template <typename T>
struct Saved {
  // Shapes.
  int64_t batch, steps, n_in, n_branch, per_branch, n_syn, d_m, n_out, layers;
  int64_t hidden;  // width of the hidden layers (0 when layers == 0)
  bool silu;
  // Structure: synapses fed by channel c are syn[chan_begin[c] .. chan_begin[c
  // + 1]).
  const int64_t* chan_begin;
  const int64_t* syn;
  const T* syn_scale;         // mask[k]
  const int32_t* syn_branch;  // br(k) = k / d_brch
  Arena* arena;               // the tape's: backward scratch
  // Projected first layer (one κ_u for all branches and B_r ≥ H₁): U is never
  // formed.
  bool projected;
  const T* w1u_t;    // W₁ᵤᵀ [B_r, H₁] (projected only)
  const T* kappa_u;  // [B_r]
  // Input nonzeros, CSR over batch-major rows b·T + t.
  const int64_t* row_begin;
  const int32_t* col;
  const T* val;
  // Time-major buffers [T·B, ·].
  T* u;        // branch traces [T·B, B_r]
  T* act_pre;  // pre-activations A_1..A_L (hidden layers), each [T·B, H]
  T* act_out;  // activations h_1..h_L, each [T·B, H]
  T* k;        // κ_m ⊙ m_{t−1} [T·B, d_m]
  T* th;       // tanh(2z/3) [T·B, d_m]
  T* m;        // m_t [T·B, d_m]
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

template <typename T>
void Backward(const Saved<T>& s) {
  const int64_t B = s.batch, TT = s.steps, R = B * TT, dm = s.d_m, L = s.layers;
  const int64_t H1 = L > 0 ? s.hidden : dm;  // width of A_1
  // Scratch for the adjoints in the tape's arena (every buffer is fully written
  // before it is read, except the accumulators, which are zeroed).
  Arena& arena = *s.arena;
  ScratchVec<T> y_bar(arena, R * s.n_out), m_bar(arena, R * dm),
      a1_bar(arena, R * H1), c(arena, B * dm, true), k_bar(arena, B * dm);
  // Ā_2..Ā_L of the hidden layers and Z̄, per layer.
  ScratchVec<T> hidden_bar(arena, L > 1 ? R * s.hidden * (L - 1) : 0);
  ScratchVec<T> z_bar(arena, L > 0 ? R * dm : 0);
  // ȳ to time-major.
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < TT; ++t) {
      std::copy(s.y.grad + (b * TT + t) * s.n_out,
                s.y.grad + (b * TT + t + 1) * s.n_out,
                y_bar.data() + (t * B + b) * s.n_out);
    }
  }
  Mat<T> Ybar(y_bar.data(), R, s.n_out);
  Mat<T> M(s.m, R, dm);
  Mat<T> Wy(s.w_y.value, s.n_out, dm);
  if (s.w_y.grad)
    Mat<T>(s.w_y.grad, s.n_out, dm).noalias() += Ybar.transpose() * M;
  if (s.b_y.grad) Mat<T>(s.b_y.grad, 1, s.n_out) += Ybar.colwise().sum();
  Mat<T> Mbar(m_bar.data(), R, dm);
  Mbar.noalias() = Ybar * Wy;

  const T* g = s.gain.value;
  const T* km = s.kappa_m.value;
  ScratchVec<T> gain_bar(arena, dm, true), kappa_bar(arena, dm, true);
  const Var<T>& w1 = s.mlp_w[0];
  const int64_t in1 = s.n_branch + dm;
  Mat<T> W1(w1.value, H1, in1);
  for (int64_t t = TT - 1; t >= 0; --t) {
    T* mb = m_bar.data() + t * B * dm;
    const T* tht = s.th + t * B * dm;
    // The adjoint of z_t: into Z̄ (L > 0) or Ā₁ (L == 0).
    T* zb = L > 0 ? z_bar.data() + t * B * dm : a1_bar.data() + t * B * dm;
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t i = 0; i < dm; ++i) {
        const int64_t e = b * dm + i;
        mb[e] += c[e];
        const T delta = tht[e] * T(1.7159);
        gain_bar[i] += mb[e] * delta;
        zb[e] =
            mb[e] * g[i] * T(1.7159) * (T(1) - tht[e] * tht[e]) * (T(2) / T(3));
      }
    }
    // Down the MLP: Ā_l = (Ā_{l+1}·W_{l+1}) ⊙ act'(A_l).
    const T* upper = zb;
    int64_t upper_width = dm;
    for (int64_t l = L; l >= 1; --l) {
      T* ab = l == 1 ? a1_bar.data() + t * B * s.hidden
                     : hidden_bar.data() + ((l - 2) * R + t * B) * s.hidden;
      const Var<T>& w = s.mlp_w[l];
      SmallGemm<T>(B, s.hidden, upper_width, upper, upper_width, w.value,
                   s.hidden, ab, s.hidden, /*accumulate=*/false);
      const T* pre = s.act_pre + ((l - 1) * R + t * B) * s.hidden;
      for (int64_t e = 0; e < B * s.hidden; ++e)
        ab[e] *= ActGrad(pre[e], s.silu);
      upper = ab;
      upper_width = s.hidden;
    }
    // k̄ = m̄ + Ā₁·W₁ₘ;  κ̄_m += Σ_b k̄ ⊙ m_{t−1};  c = k̄ ⊙ κ_m.
    SmallGemm<T>(B, dm, H1, a1_bar.data() + t * B * H1, H1,
                 W1.data() + s.n_branch, in1, k_bar.data(), dm,
                 /*accumulate=*/false);
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t i = 0; i < dm; ++i) {
        const int64_t e = b * dm + i;
        k_bar[e] += mb[e];
        if (t > 0) kappa_bar[i] += k_bar[e] * s.m[(t - 1) * B * dm + e];
        c[e] = k_bar[e] * km[i];
      }
    }
  }
  if (s.gain.grad)
    for (int64_t i = 0; i < dm; ++i) s.gain.grad[i] += gain_bar[i];
  if (s.kappa_m.grad)
    for (int64_t i = 0; i < dm; ++i) s.kappa_m.grad[i] += kappa_bar[i];

  // Weight gradients, one GEMM each over the T·B rows.
  for (int64_t l = L; l >= 1; --l) {  // layer l+1 (index l), input h_l
    const Var<T>& w = s.mlp_w[l];
    const Var<T>& bias = s.mlp_b[l];
    const int64_t out = l == L ? dm : s.hidden;
    const T* ab =
        l == L ? z_bar.data() : hidden_bar.data() + (l - 1) * R * s.hidden;
    Eigen::Map<const RowMatrix<T>> Ab(ab, R, out);
    Eigen::Map<const RowMatrix<T>> Hl(s.act_out + (l - 1) * R * s.hidden, R,
                                      s.hidden);
    if (w.grad) Mat<T>(w.grad, out, s.hidden).noalias() += Ab.transpose() * Hl;
    if (bias.grad) Mat<T>(bias.grad, 1, out) += Ab.colwise().sum();
  }
  Mat<T> A1bar(a1_bar.data(), R, H1);
  if (w1.grad) {
    Mat<T>(w1.grad, H1, in1).rightCols(dm).noalias() +=
        A1bar.transpose() * Mat<T>(s.k, R, dm);
  }
  if (s.mlp_b[0].grad) Mat<T>(s.mlp_b[0].grad, 1, H1) += A1bar.colwise().sum();

  // ā, the adjoint of the branch drive a_t [T·B, B_r], when needed.
  ScratchVec<T> a_bar(
      arena, (s.w_s.grad && !s.projected) || s.x.grad ? R * s.n_branch : 0);
  if (s.projected) {
    // With one κ for every branch, U·W₁ᵤᵀ = scan(A·W₁ᵤᵀ): the forward never
    // formed U. G = reverse-scan(Ā₁) gives W̄₁ᵤ = Σ_t G_tᵀ a_t and ā_t =
    // G_t·W₁ᵤ, both over the input's nonzeros only.
    const T kappa = s.kappa_u[0];
    ScratchVec<T> g(arena, R * H1);
    std::copy(a1_bar.data(), a1_bar.data() + R * H1, g.data());
    for (int64_t t = TT - 2; t >= 0; --t) {
      T* cur = g.data() + t * B * H1;
      const T* next = cur + B * H1;
      for (int64_t e = 0; e < B * H1; ++e) cur[e] += kappa * next[e];
    }
    ScratchVec<T> w1u_bar_t(arena, w1.grad ? s.n_branch * H1 : 0,
                            true);  // [B_r, H1]
    const T* w = s.w_s.value;
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t t = 0; t < TT; ++t) {
        const T* gt = g.data() + (t * B + b) * H1;
        const int64_t r = b * TT + t;
        for (int64_t n = s.row_begin[r]; n < s.row_begin[r + 1]; ++n) {
          const int64_t ch = s.col[n];
          for (int64_t q = s.chan_begin[ch]; q < s.chan_begin[ch + 1]; ++q) {
            const int64_t k = s.syn[q];
            const int64_t j = s.syn_branch[k];
            if (w1.grad) {
              const T coef = w[k] * s.syn_scale[k] * s.val[n];
              T* dst = w1u_bar_t.data() + j * H1;
              for (int64_t h = 0; h < H1; ++h) dst[h] += coef * gt[h];
            }
            if (s.w_s.grad) {
              const T* wt = s.w1u_t + j * H1;
              T dot = 0;
              for (int64_t h = 0; h < H1; ++h) dot += gt[h] * wt[h];
              s.w_s.grad[k] += dot * s.syn_scale[k] * s.val[n];
            }
          }
        }
      }
    }
    if (w1.grad) {
      Mat<T>(w1.grad, H1, in1).leftCols(s.n_branch) +=
          Mat<T>(w1u_bar_t.data(), s.n_branch, H1).transpose();
    }
    if (s.x.grad) {
      Mat<T>(a_bar.data(), R, s.n_branch).noalias() =
          Mat<T>(g.data(), R, H1) * W1.leftCols(s.n_branch);
    }
  } else {
    if (w1.grad) {
      Mat<T>(w1.grad, H1, in1).leftCols(s.n_branch).noalias() +=
          A1bar.transpose() * Mat<T>(s.u, R, s.n_branch);
    }
    if (a_bar.data() != nullptr) {
      // Ū = Ā₁·W₁ᵤ, then the reverse scan ā_t = Ū_t + κ_u ⊙ ā_{t+1} (in place).
      Mat<T>(a_bar.data(), R, s.n_branch).noalias() =
          A1bar * W1.leftCols(s.n_branch);
      for (int64_t t = TT - 2; t >= 0; --t) {
        T* cur = a_bar.data() + t * B * s.n_branch;
        const T* next = cur + B * s.n_branch;
        for (int64_t b = 0; b < B; ++b) {
          for (int64_t j = 0; j < s.n_branch; ++j) {
            cur[b * s.n_branch + j] += s.kappa_u[j] * next[b * s.n_branch + j];
          }
        }
      }
    }
  }
  if (a_bar.data() == nullptr) return;
  // w̄[k] += Σ ā[br(k)]·mask[k]·x over the nonzeros (unless done above);
  // x̄[c] += Σ_k w[k]·mask[k]·ā[br(k)].
  const T* w = s.w_s.value;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < TT; ++t) {
      const T* ab = a_bar.data() + (t * B + b) * s.n_branch;
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
            sum += w[k] * s.syn_scale[k] * ab[s.syn_branch[k]];
          }
          xg[ch] += sum;
        }
      }
    }
  }
}

template <typename T>
Var<T> Unroll(Tape<T>& tape, const FusedElmSpec& spec,
              const FusedElmParams<T>& p, Var<T> x, const int64_t* row_begin,
              const int32_t* col, const T* val, int64_t rows, int64_t steps,
              Var<T>* memory_record) {
  CHECK_GT(steps, 0);
  CHECK_EQ(rows % steps, 0)
      << "FusedElmUnroll: " << rows << " rows are not B·" << steps;
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

  Mat<T> W1(p.mlp_w[0].value, H1, n_branch + dm);
  // A₁ [T·B, H₁]; with several hidden layers, the first of the L pre-activation
  // blocks [T·B, H] that are kept for the backward.
  T* a1 = arena.AllocateArray<T>(L > 1 ? L * R * hidden : R * H1);
  const T* w = p.w_s.value;
  const bool uniform = std::all_of(kappa_u, kappa_u + n_branch, [&](T kappa) {
    return kappa == kappa_u[0];
  });
  s.projected = uniform && n_branch >= 2 * H1;
  s.u = nullptr;
  s.w1u_t = nullptr;
  if (s.projected) {
    // A₁ = scan(A·W₁ᵤᵀ) + b₁: each input nonzero adds a row of W₁ᵤᵀ, then one
    // H₁-wide scan.
    T* w1u_t = arena.AllocateArray<T>(n_branch * H1);
    Mat<T>(w1u_t, n_branch, H1) = W1.leftCols(n_branch).transpose();
    std::fill(a1, a1 + R * H1, T(0));  // accumulated below
    s.w1u_t = w1u_t;
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t t = 0; t < TT; ++t) {
        T* at = a1 + (t * B + b) * H1;
        const int64_t r = b * TT + t;
        for (int64_t n = row_begin[r]; n < row_begin[r + 1]; ++n) {
          const int64_t ch = col[n];
          for (int64_t q = chan_begin[ch]; q < chan_begin[ch + 1]; ++q) {
            const int64_t k = syn[q];
            const T coef = w[k] * syn_scale[k] * val[n];
            const T* row = w1u_t + syn_branch[k] * H1;
            for (int64_t h = 0; h < H1; ++h) at[h] += coef * row[h];
          }
        }
      }
    }
    const T kappa = kappa_u[0];
    for (int64_t t = 1; t < TT; ++t) {
      T* cur = a1 + t * B * H1;
      const T* prev = cur - B * H1;
      for (int64_t e = 0; e < B * H1; ++e) cur[e] += kappa * prev[e];
    }
  } else {
    // Branch drive a_t and the branch-trace scan into U, then A₁ = U·W₁ᵤᵀ + b₁.
    T* u = arena.AllocateZeroed<T>(R * n_branch);
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t t = 0; t < TT; ++t) {
        T* ut = u + (t * B + b) * n_branch;
        const int64_t r = b * TT + t;
        for (int64_t n = row_begin[r]; n < row_begin[r + 1]; ++n) {
          const int64_t ch = col[n];
          for (int64_t q = chan_begin[ch]; q < chan_begin[ch + 1]; ++q) {
            const int64_t k = syn[q];
            ut[syn_branch[k]] += w[k] * syn_scale[k] * val[n];
          }
        }
      }
    }
    for (int64_t t = 1; t < TT; ++t) {
      T* cur = u + t * B * n_branch;
      const T* prev = cur - B * n_branch;
      for (int64_t b = 0; b < B; ++b) {
        for (int64_t j = 0; j < n_branch; ++j) {
          cur[b * n_branch + j] += kappa_u[j] * prev[b * n_branch + j];
        }
      }
    }
    s.u = u;
    Mat<T>(a1, R, H1).noalias() =
        Mat<T>(u, R, n_branch) * W1.leftCols(n_branch).transpose();
  }
  // The bias is added after the scan (it is not part of the trace).
  Mat<T>(a1, R, H1).rowwise() += Mat<T>(p.mlp_b[0].value, 1, H1).row(0);

  T* act_out = L > 0 ? arena.AllocateArray<T>(L * R * hidden) : nullptr;
  T* z_all = L > 0 ? arena.AllocateArray<T>(R * dm) : a1;
  T* k = arena.AllocateArray<T>(R * dm);
  T* th = arena.AllocateArray<T>(R * dm);
  T* m = arena.AllocateArray<T>(R * dm);
  T* pre_all = a1;  // pre-activation of hidden layer l at ((l − 1)·R + row)·H
  // Transposed weights for the per-step products: W₁ₘᵀ [d_m, H₁], W_lᵀ [in,
  // out].
  T* w1m_t = arena.AllocateArray<T>(dm * H1);
  Mat<T>(w1m_t, dm, H1) = W1.rightCols(dm).transpose();
  std::vector<const T*> w_t(L + 1, nullptr);
  for (int64_t l = 1; l <= L; ++l) {
    const int64_t out = l == L ? dm : hidden;
    T* wt = arena.AllocateArray<T>(hidden * out);
    Mat<T>(wt, hidden, out) = Mat<T>(p.mlp_w[l].value, out, hidden).transpose();
    w_t[l] = wt;
  }
  const T* km = p.kappa_m.value;
  const T* g = p.gain.value;
  for (int64_t t = 0; t < TT; ++t) {
    T* kt = k + t * B * dm;
    if (t == 0) {
      std::fill(kt, kt + B * dm, T(0));
    } else {
      const T* mp = m + (t - 1) * B * dm;
      for (int64_t b = 0; b < B; ++b) {
        for (int64_t i = 0; i < dm; ++i)
          kt[b * dm + i] = km[i] * mp[b * dm + i];
      }
    }
    SmallGemm<T>(B, H1, dm, kt, dm, w1m_t, H1, a1 + t * B * H1, H1,
                 /*accumulate=*/true);

    for (int64_t l = 1; l <= L; ++l) {
      const T* pre = pre_all + ((l - 1) * R + t * B) * hidden;
      T* h = act_out + ((l - 1) * R + t * B) * hidden;
      for (int64_t e = 0; e < B * hidden; ++e) h[e] = Act(pre[e], spec.silu);
      const int64_t out = l == L ? dm : hidden;
      T* next =
          l == L ? z_all + t * B * dm : pre_all + (l * R + t * B) * hidden;
      const T* bias = p.mlp_b[l].value;
      for (int64_t b = 0; b < B; ++b)
        std::copy(bias, bias + out, next + b * out);
      SmallGemm<T>(B, out, hidden, h, hidden, w_t[l], out, next, out,
                   /*accumulate=*/true);
    }
    const T* z = z_all + t * B * dm;
    T* tht = th + t * B * dm;
    T* mt = m + t * B * dm;
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
  s.act_pre = pre_all;
  s.act_out = act_out;
  s.k = k;
  s.th = th;
  s.m = m;

  // Readout y = M·W_yᵀ + b_y, back to batch-major rows.
  const bool needs_grad =
      p.w_s.needs_grad() || p.kappa_m.needs_grad() || p.gain.needs_grad() ||
      p.w_y.needs_grad() || p.b_y.needs_grad() || x.needs_grad() ||
      std::any_of(p.mlp_w.begin(), p.mlp_w.end(),
                  [](const Var<T>& v) { return v.needs_grad(); }) ||
      std::any_of(p.mlp_b.begin(), p.mlp_b.end(),
                  [](const Var<T>& v) { return v.needs_grad(); });
  Var<T> y = tape.NewVar(R, n_out, needs_grad);
  {
    std::vector<T> ytm(R * n_out);
    Mat<T> Y(ytm.data(), R, n_out);
    Y.noalias() = Mat<T>(m, R, dm) * Mat<T>(p.w_y.value, n_out, dm).transpose();
    Y.rowwise() += Mat<T>(p.b_y.value, 1, n_out).row(0);
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t t = 0; t < TT; ++t) {
        std::copy(ytm.data() + (t * B + b) * n_out,
                  ytm.data() + (t * B + b + 1) * n_out,
                  y.value + (b * TT + t) * n_out);
      }
    }
  }
  if (memory_record != nullptr) {
    *memory_record = tape.NewVar(R, dm, false);
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t t = 0; t < TT; ++t) {
        std::copy(m + (t * B + b) * dm, m + (t * B + b + 1) * dm,
                  memory_record->value + (b * TT + t) * dm);
      }
    }
  }
  if (needs_grad) {
    s.x = x;
    s.w_s = p.w_s;
    s.kappa_m = p.kappa_m;
    s.gain = p.gain;
    s.w_y = p.w_y;
    s.b_y = p.b_y;
    s.y = y;
    Var<T>* ws = arena.AllocateArray<Var<T>>(2 * (L + 1));
    std::copy(p.mlp_w.begin(), p.mlp_w.end(), ws);
    std::copy(p.mlp_b.begin(), p.mlp_b.end(), ws + L + 1);
    s.mlp_w = ws;
    s.mlp_b = ws + L + 1;
    tape.Record([s] { Backward(s); });
  }
  return y;
}

}  // namespace

template <typename T>
Var<T> FusedElmUnroll(Tape<T>& tape, const FusedElmSpec& spec,
                      const FusedElmParams<T>& p, Var<T> x, int64_t steps,
                      Var<T>* memory_record) {
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
                memory_record);
}

template <typename T>
Var<T> FusedElmUnroll(Tape<T>& tape, const FusedElmSpec& spec,
                      const FusedElmParams<T>& p, const CsrInput& x,
                      int64_t steps, Var<T>* memory_record) {
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
                memory_record);
}

template Var<float> FusedElmUnroll<float>(Tape<float>&, const FusedElmSpec&,
                                          const FusedElmParams<float>&,
                                          Var<float>, int64_t, Var<float>*);
template Var<double> FusedElmUnroll<double>(Tape<double>&, const FusedElmSpec&,
                                            const FusedElmParams<double>&,
                                            Var<double>, int64_t, Var<double>*);
template Var<float> FusedElmUnroll<float>(Tape<float>&, const FusedElmSpec&,
                                          const FusedElmParams<float>&,
                                          const CsrInput&, int64_t,
                                          Var<float>*);
template Var<double> FusedElmUnroll<double>(Tape<double>&, const FusedElmSpec&,
                                            const FusedElmParams<double>&,
                                            const CsrInput&, int64_t,
                                            Var<double>*);

}  // namespace elm
