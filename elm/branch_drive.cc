// The branch drives, the branch-trace scans and their adjoints: see
// branch_drive.h for the equations and the three strategies. The sparse loops
// are separate functions taking restrict-qualified pointers, so that the
// compiler does not reload the structure after every store.
#include "elm/branch_drive.h"

#include <algorithm>
#include <vector>

#include "autodiff/simd/gemm.h"
#include "autodiff/simd/vec.h"
#include "glog/logging.h"

namespace elm {
namespace {

using simd::kLanes;
using simd::LoadVec;
using simd::MulAdd;
using simd::Splat;
using simd::StoreVec;
using simd::Vec;

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

template <typename T>
void BranchDriveImpl(const BlockRows& br, int64_t width,
                     const int64_t* __restrict row_begin,
                     const int32_t* __restrict col, const T* __restrict val,
                     const int64_t* __restrict chan_begin,
                     const Synapse<T>* __restrict syn, T* __restrict u) {
  ForEachSynapseNonzero(br, row_begin, col, val, chan_begin, syn,
                        [u, width](int64_t row, const Synapse<T>& s, T v) {
                          u[row * width + s.branch] += s.w * v;
                        });
}

template <typename T>
void BranchWeightGradImpl(const BlockRows& br, int64_t width,
                          const int64_t* __restrict row_begin,
                          const int32_t* __restrict col,
                          const T* __restrict val,
                          const int64_t* __restrict chan_begin,
                          const Synapse<T>* __restrict syn,
                          const T* __restrict a_bar, T* __restrict w_grad) {
  ForEachSynapseNonzero(
      br, row_begin, col, val, chan_begin, syn,
      [a_bar, w_grad, width](int64_t row, const Synapse<T>& s, T v) {
        w_grad[s.k] += a_bar[row * width + s.branch] * s.scale * v;
      });
}

// Column blocks of at most kMaxDenseVectors vectors (a row's block of a sum
// kept in registers): the dense drive, and the projected first layer.

// Vector i of a block row at p (NV vectors, `last` lanes valid in the last).
template <typename T, int NV>
inline Vec<T> LoadBlock(const T* p, int i, int64_t last) {
  return i == NV - 1 ? simd::LoadPartial(p + i * kLanes<T>, last)
                     : LoadVec(p + i * kLanes<T>);
}
template <typename T, int NV>
inline void StoreBlock(T* p, int i, Vec<T> v, int64_t last) {
  if (i == NV - 1) {
    simd::StorePartial(p + i * kLanes<T>, v, last);
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

// DenseBranchDrive for one column block of NV vectors per row (h0 = 0):
// whole vectors summed in registers instead of a loop of scattered adds.
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

// ProjectedDriveScan for one column block [h0, h0 + NV·L) (the last vector
// `last` lanes wide): for each row, d = Σ coef · W₁ᵤᵀ[off, block] over its
// terms (in order, one multiply-add each), trace = d + κ·trace(t − 1)
// (trace = d at t = 0) and a = b₁ + trace. Row i (t-major: (t − t0)·B + b)
// has terms [row_end[i − 1], row_end[i]).
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

// ReverseScanChannelSums for one column block.
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

// rows[t − t0] += κ_u ⊙ rows[t − t0 ∓ 1] over B rows of width each: the
// forward and reverse trace scans' step (prev: the neighbour step's rows).
template <typename T>
inline void ScanStep(int64_t batch, int64_t width, const T* kappa_u,
                     const T* prev, T* cur) {
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t i = 0; i < width; ++i) {
      cur[b * width + i] += kappa_u[i] * prev[b * width + i];
    }
  }
}

}  // namespace

template <typename T>
ChannelSynapses<T> InvertRouting(Arena& arena, int64_t n_in, int64_t n_syn,
                                 int64_t per_branch, const int64_t* index,
                                 const double* mask, const T* w_s) {
  int64_t* chan_begin = arena.AllocateZeroed<int64_t>(n_in + 1);
  const bool routed = index != nullptr;
  // Masked synapses (padding slots) contribute nothing: they are left out.
  auto live = [&](int64_t k) { return !routed || mask[k] != 0.0; };
  for (int64_t k = 0; k < n_syn; ++k) {
    if (live(k)) chan_begin[(routed ? index[k] : k) + 1]++;
  }
  for (int64_t c = 0; c < n_in; ++c) chan_begin[c + 1] += chan_begin[c];
  Synapse<T>* syn = arena.AllocateArray<Synapse<T>>(chan_begin[n_in]);
  std::vector<int64_t> fill(chan_begin, chan_begin + n_in);
  for (int64_t k = 0; k < n_syn; ++k) {
    if (!live(k)) continue;
    const int64_t q = fill[routed ? index[k] : k]++;
    syn[q].k = static_cast<int32_t>(k);
    syn[q].branch = static_cast<int32_t>(k / per_branch);
    syn[q].scale = routed ? static_cast<T>(mask[k]) : T(1);
    syn[q].w = w_s[k] * syn[q].scale;
  }
  return {chan_begin, syn};
}

template <typename T>
void DenseChannelWeights(int64_t n_in, const ChannelSynapses<T>& cs, int64_t ld,
                         T* chan_w) {
  std::fill(chan_w, chan_w + n_in * ld, T(0));
  for (int64_t ch = 0; ch < n_in; ++ch) {
    for (int64_t q = cs.chan_begin[ch]; q < cs.chan_begin[ch + 1]; ++q)
      chan_w[ch * ld + cs.syn[q].branch] += cs.syn[q].w;
  }
}

template <typename T>
void BranchDrive(const BlockRows& br, int64_t width, const int64_t* row_begin,
                 const int32_t* col, const T* val, const ChannelSynapses<T>& cs,
                 T* u) {
  BranchDriveImpl(br, width, row_begin, col, val, cs.chan_begin, cs.syn, u);
}

template <typename T>
void DenseBranchDrive(const BlockRows& br, int64_t width, int64_t ld,
                      const int64_t* row_begin, const int32_t* col,
                      const T* val, const T* chan_w, T* u) {
  CHECK_LE(width, kMaxDenseVectors * kLanes<T>) << "DenseBranchDrive";
  ForEachColumnBlock<DenseBranchDriveRows, T>(width, br, width, ld, row_begin,
                                              col, val, chan_w, u);
}

template <typename T>
void BranchTraceScan(const BlockRows& br, int64_t width, const T* kappa_u,
                     T* carry, T* u) {
  const int64_t B = br.batch, rows = (br.t1 - br.t0) * B;
  for (int64_t t = std::max<int64_t>(br.t0, 1); t < br.t1; ++t) {
    T* cur = u + (t - br.t0) * B * width;
    ScanStep(B, width, kappa_u, t == br.t0 ? carry : cur - B * width, cur);
  }
  std::copy(u + (rows - B) * width, u + rows * width, carry);
}

template <typename T>
void ProjectedDriveScan(const BlockRows& br, int64_t width, int64_t ld, T kappa,
                        const int64_t* row_begin, const int32_t* col,
                        const T* val, const ChannelSynapses<T>& cs,
                        const T* w1u_t, const T* bias, T* carry, T* a,
                        Arena& arena) {
  const int64_t* chan_begin = cs.chan_begin;
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
          terms[e++] = {int64_t{cs.syn[q].branch} * ld, cs.syn[q].w * v};
      }
      row_end[(t - br.t0) * br.batch + b] = e;
    }
  }
  ForEachColumnBlock<ProjectedDriveScanBlock, T>(
      width, br, width, ld, kappa, terms, row_end, w1u_t, bias, carry, a);
  arena.RewindTo(mark);
}

template <typename T>
void ReverseBranchTraceScan(const BlockRows& br, int64_t width,
                            const T* kappa_u, T* rev_carry, T* a_bar) {
  const int64_t B = br.batch;
  for (int64_t t = br.t1 == br.steps ? br.t1 - 2 : br.t1 - 1; t >= br.t0; --t) {
    T* cur = a_bar + (t - br.t0) * B * width;
    ScanStep(B, width, kappa_u, t == br.t1 - 1 ? rev_carry : cur + B * width,
             cur);
  }
  std::copy(a_bar, a_bar + B * width, rev_carry);
}

template <typename T>
void BranchWeightGrad(const BlockRows& br, int64_t width,
                      const int64_t* row_begin, const int32_t* col,
                      const T* val, const ChannelSynapses<T>& cs,
                      const T* a_bar, T* w_grad) {
  BranchWeightGradImpl(br, width, row_begin, col, val, cs.chan_begin, cs.syn,
                       a_bar, w_grad);
}

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
        StoreVec(g + i,
                 MulAdd(v, simd::LoadPartial(ab + i, last), LoadVec(g + i)));
      }
    }
  }
}

template <typename T>
void DenseChannelGradToSynapses(int64_t n_in, const ChannelSynapses<T>& cs,
                                int64_t ld, const T* chan_wbar, T* w_grad) {
  for (int64_t ch = 0; ch < n_in; ++ch) {
    const T* gb = chan_wbar + ch * ld;
    for (int64_t q = cs.chan_begin[ch]; q < cs.chan_begin[ch + 1]; ++q)
      w_grad[cs.syn[q].k] += gb[cs.syn[q].branch] * cs.syn[q].scale;
  }
}

template <typename T>
void ReverseScanChannelSums(const BlockRows& br, int64_t width, int64_t ld,
                            T kappa, const int64_t* row_begin,
                            const int32_t* col, const T* val, const T* a1_bar,
                            T* rev_carry, T* g, T* sums) {
  ForEachColumnBlock<ReverseScanChannelSumsBlock, T>(
      width, br, width, ld, kappa, row_begin, col, val, a1_bar, rev_carry, g,
      sums);
}

template <typename T>
void ProjectedChannelSumsToGrads(int64_t n_in, int64_t width, int64_t ld,
                                 const ChannelSynapses<T>& cs, const T* chan_g,
                                 const T* w1u_t, T* w1u_bar_t, T* w_grad) {
  for (int64_t ch = 0; ch < n_in; ++ch) {
    const T* sg = chan_g + ch * ld;
    for (int64_t q = cs.chan_begin[ch]; q < cs.chan_begin[ch + 1]; ++q) {
      const int64_t jb = cs.syn[q].branch;
      if (w1u_bar_t != nullptr) {
        const T coef = cs.syn[q].w;
        T* dst = w1u_bar_t + jb * width;
        for (int64_t h = 0; h < width; ++h) dst[h] += coef * sg[h];
      }
      if (w_grad != nullptr) {
        w_grad[cs.syn[q].k] +=
            simd::Dot(sg, w1u_t + jb * ld, width) * cs.syn[q].scale;
      }
    }
  }
}

template <typename T>
void BranchInputGrad(const BlockRows& br, int64_t width, int64_t n_in,
                     const ChannelSynapses<T>& cs, const T* a_bar, T* x_grad) {
  for (int64_t b = 0; b < br.batch; ++b) {
    for (int64_t t = br.t0; t < br.t1; ++t) {
      const T* ab = a_bar + ((t - br.t0) * br.batch + b) * width;
      T* xg = x_grad + (b * br.steps + t) * n_in;
      for (int64_t ch = 0; ch < n_in; ++ch) {
        T sum = 0;
        for (int64_t q = cs.chan_begin[ch]; q < cs.chan_begin[ch + 1]; ++q)
          sum += cs.syn[q].w * ab[cs.syn[q].branch];
        xg[ch] += sum;
      }
    }
  }
}

#define ELM_BRANCH_DRIVE_INSTANTIATE(T)                                        \
  template ChannelSynapses<T> InvertRouting(Arena&, int64_t, int64_t, int64_t, \
                                            const int64_t*, const double*,     \
                                            const T*);                         \
  template void DenseChannelWeights(int64_t, const ChannelSynapses<T>&,        \
                                    int64_t, T*);                              \
  template void BranchDrive(const BlockRows&, int64_t, const int64_t*,         \
                            const int32_t*, const T*,                          \
                            const ChannelSynapses<T>&, T*);                    \
  template void DenseBranchDrive(const BlockRows&, int64_t, int64_t,           \
                                 const int64_t*, const int32_t*, const T*,     \
                                 const T*, T*);                                \
  template void BranchTraceScan(const BlockRows&, int64_t, const T*, T*, T*);  \
  template void ProjectedDriveScan(const BlockRows&, int64_t, int64_t, T,      \
                                   const int64_t*, const int32_t*, const T*,   \
                                   const ChannelSynapses<T>&, const T*,        \
                                   const T*, T*, T*, Arena&);                  \
  template void ReverseBranchTraceScan(const BlockRows&, int64_t, const T*,    \
                                       T*, T*);                                \
  template void BranchWeightGrad(const BlockRows&, int64_t, const int64_t*,    \
                                 const int32_t*, const T*,                     \
                                 const ChannelSynapses<T>&, const T*, T*);     \
  template void DenseChannelGrad(const BlockRows&, int64_t, int64_t,           \
                                 const int64_t*, const int32_t*, const T*,     \
                                 const T*, T*);                                \
  template void DenseChannelGradToSynapses(int64_t, const ChannelSynapses<T>&, \
                                           int64_t, const T*, T*);             \
  template void ReverseScanChannelSums(const BlockRows&, int64_t, int64_t, T,  \
                                       const int64_t*, const int32_t*,         \
                                       const T*, const T*, T*, T*, T*);        \
  template void ProjectedChannelSumsToGrads(int64_t, int64_t, int64_t,         \
                                            const ChannelSynapses<T>&,         \
                                            const T*, const T*, T*, T*);       \
  template void BranchInputGrad(const BlockRows&, int64_t, int64_t,            \
                                const ChannelSynapses<T>&, const T*, T*);

ELM_BRANCH_DRIVE_INSTANTIATE(float)
ELM_BRANCH_DRIVE_INSTANTIATE(double)
#undef ELM_BRANCH_DRIVE_INSTANTIATE

}  // namespace elm
