// Register-blocked matrix products for small and medium shapes (a batch of
// 1–32 rows times layer widths of up to a few hundred), where Eigen's blocked
// GEMM costs more in packing and dispatch than in arithmetic, and a plain
// triple loop re-loads C for every k:
//   Gemm       C[m, n] = C₀ + A[m, k]·B[k, n]   (B packed once: PackInto)
//   SmallGemm  the same for row-major A, with a direct loop when n ≤ kLanes
//   GemmTN     C[m, n] += A[r, m]ᵀ·X[r, n]      (weight gradients)
//   Dot        Σ a[i]·b[i]
// C₀ is zero, C's own values or a bias row (GemmInit).
//
// The kernel keeps a kTileRows × 3-vector tile of C in vector registers over
// the whole k loop (unrolled by 4), reading B from a copy packed into column
// panels (contiguous, zero padded), so the loop streams one panel and
// broadcasts A. With 32-byte vectors (16 ymm registers) the tile is 4 × 3
// (4 × 24 floats in 12 registers; measured on this AMD EPYC at m = 4, 8, 16: 4
// × 3 tiles beat 6 × 2 ones, and the unrolling adds ~40% at m = 4); with
// 64-byte vectors (AVX-512: 32 zmm registers) it is 8 × 3 (8 × 48 floats in 24
// registers), which halves the loads of B per multiply-add and fits the batch
// sizes 16, 32 and 384 of the LRA shapes in whole tiles. Each C element is C₀
// followed by its k products added in order of k, one MulAdd each (vec.h), so
// results do not depend on m, on the tile an element falls in, on any address
// or on the blocking: Gemm, SmallGemm and GemmTN agree bit for bit with a loop
// c = MulAdd(a, b, c) over k in order. Dot has its own fixed order (see there).
//
// Everything is an inline template: the kernels compile into their callers
// (with the callers' optimisation flags).
#ifndef ELM_AUTODIFF_SIMD_GEMM_H_
#define ELM_AUTODIFF_SIMD_GEMM_H_

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "autodiff/simd/vec.h"

namespace elm {
namespace simd {

// The tile: kTileRows rows × up to kTileVectors vectors of C (8 × 3 with
// 64-byte vectors, 4 × 3 with 32-byte ones).
constexpr int kTileRows = kVectorBytes == 64 ? 8 : 4;
constexpr int kTileVectors = 3;

// The columns of the panel starting at column j0 of n: 3 vectors, except
// that 4 remaining vectors go as 2 + 2 and fewer than 3 as they are (a
// 1-vector tile has too few accumulators to hide the multiply-add latency:
// 100 float columns are 3 + 3 + 3 + 2 + 2 vectors, 200 are 7·3 + 2 + 2).
template <typename T>
inline int64_t PanelCols(int64_t j0, int64_t n) {
  constexpr int64_t L = kLanes<T>;
  const int64_t left = (n - j0 + L - 1) / L;
  return (left == 4 ? 2 : std::min<int64_t>(left, kTileVectors)) * L;
}

// B [k, n] packed into column panels: panel j0 (columns j0 .. j0 + w, w =
// PanelCols(j0, n)) starts at data + j0·k and holds row p's w values at p·w.
// Columns past n are zero. A non-owning view.
template <typename T>
struct PackedB {
  const T* data = nullptr;
  int64_t k = 0, n = 0;
};

// Elements of a packed [k, n] B: k rows of n rounded up to whole vectors.
template <typename T>
inline int64_t PackedSize(int64_t k, int64_t n) {
  return k * RoundUpToLanes<T>(n);
}

// Packs B(p, j) = b[p·rs + j·cs] (so a transposed or strided view packs
// directly) into `data` (PackedSize(k, n) elements, any alignment).
template <typename T>
PackedB<T> PackInto(T* data, const T* b, int64_t rs, int64_t cs, int64_t k,
                    int64_t n) {
  constexpr int64_t L = kLanes<T>;
  for (int64_t j0 = 0, w; j0 < n; j0 += w) {
    w = PanelCols<T>(j0, n);
    T* dst = data + j0 * k;
    if (cs == 1) {
      // Row-contiguous B: whole vectors, the last one masked at the edge.
      const int64_t nvec = w / L, last = std::min(w, n - j0) - (nvec - 1) * L;
      for (int64_t p = 0; p < k; ++p) {
        const T* src = b + p * rs + j0;
        T* out = dst + p * w;
        for (int64_t v = 0; v + 1 < nvec; ++v)
          StoreVec(out + v * L, LoadVec(src + v * L));
        const int64_t v = nvec - 1;
        StoreVec(out + v * L, LoadPartial(src + v * L, last));
      }
      continue;
    }
    for (int64_t p = 0; p < k; ++p) {
      for (int64_t jj = 0; jj < w; ++jj) {
        const int64_t j = j0 + jj;
        dst[p * w + jj] = j < n ? b[p * rs + j * cs] : T(0);
      }
    }
  }
  return {data, k, n};
}

// What C starts from: zero, C's own values, or one row (a bias) for every row.
enum class GemmInit { kZero, kC, kRow };

namespace internal {

// One MR × NV·kLanes tile of C = C₀ + A·B over the panel `bp`; nc columns
// are valid: all NV·kLanes, or (kPartial) only part of the last vector.
// A(i, p) = a[i·ars + p·acs].
template <typename T, int MR, int NV, bool kPartial>
__attribute__((always_inline)) inline void GemmTile(
    int64_t k, const T* __restrict a, int64_t ars, int64_t acs,
    const T* __restrict bp, T* __restrict c, int64_t ldc, int64_t nc,
    GemmInit init, const T* __restrict row) {
  constexpr int64_t L = kLanes<T>;
  const int64_t last = nc - (NV - 1) * L;  // valid lanes of the last vector
  // (Every loop over the tile is unrolled completely, so that GCC keeps the
  // tile in registers: left to its heuristics, a tile of 8 × 3 or one with
  // masked lanes stays in memory.)
  Vec<T> acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    const T* src = init == GemmInit::kC ? c + r * ldc : row;
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) {
      if (init == GemmInit::kZero) {
        acc[r][v] = Vec<T>{};
      } else if (kPartial && v == NV - 1) {
        acc[r][v] = LoadFirst(src + v * L, last);
      } else {
        acc[r][v] = LoadVec(src + v * L);
      }
    }
  }
#pragma GCC unroll 4
  for (int64_t p = 0; p < k; ++p) {
    Vec<T> b[NV];
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) b[v] = LoadVec(bp + (p * NV + v) * L);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const Vec<T> ar = Splat(a[r * ars + p * acs]);
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) acc[r][v] = MulAdd(ar, b[v], acc[r][v]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) {
      if (kPartial && v == NV - 1) {
        StoreFirst(c + r * ldc + v * L, acc[r][v], last);
      } else {
        StoreVec(c + r * ldc + v * L, acc[r][v]);
      }
    }
  }
}

// One panel's product: rows [0, m) of C (tile i, rows i·MR .., starting at
// a + i·ats; within it A(r, p) = a[r·ars + p·acs]) times the panel bp, nc of
// its columns valid.
template <typename T>
struct PanelArgs {
  int64_t k;
  const T* a;
  int64_t ars, acs, ats;
  const T* bp;
  T* c;
  int64_t ldc, nc;
  GemmInit init;
  const T* row;
};

// The last rows of a panel (rows < MR ≤ kTileRows) as one tile of `rows`
// rows.
template <typename T, int NV, bool kPartial, int MR>
inline void GemmLastRows(int64_t rows, const T* a, T* c,
                         const PanelArgs<T>& g) {
  if constexpr (MR > 0) {
    if (rows == MR) {
      GemmTile<T, MR, NV, kPartial>(g.k, a, g.ars, g.acs, g.bp, c, g.ldc, g.nc,
                                    g.init, g.row);
    } else {
      GemmLastRows<T, NV, kPartial, MR - 1>(rows, a, c, g);
    }
  }
}

// All rows of one panel: tiles of kTileRows rows, then the remaining rows.
template <typename T, int NV, bool kPartial>
inline void GemmPanel(int64_t m, const PanelArgs<T>& g) {
  const T* a = g.a;
  T* c = g.c;
  int64_t i = 0;
  for (; i + kTileRows <= m;
       i += kTileRows, a += g.ats, c += kTileRows * g.ldc) {
    GemmTile<T, kTileRows, NV, kPartial>(g.k, a, g.ars, g.acs, g.bp, c, g.ldc,
                                         g.nc, g.init, g.row);
  }
  GemmLastRows<T, NV, kPartial, kTileRows - 1>(m - i, a, c, g);
}

// A panel of any width up to kTileVectors vectors: the vectors its columns
// need, the last one partial or not.
template <typename T>
inline void GemmAnyPanel(int64_t m, const PanelArgs<T>& g) {
  constexpr int64_t L = kLanes<T>;
  static_assert(kTileVectors == 3, "the cases below are for 3-vector panels");
  switch (((g.nc + L - 1) / L) * 2 + (g.nc % L != 0)) {
    case 2:
      return GemmPanel<T, 1, false>(m, g);
    case 3:
      return GemmPanel<T, 1, true>(m, g);
    case 4:
      return GemmPanel<T, 2, false>(m, g);
    case 5:
      return GemmPanel<T, 2, true>(m, g);
    case 6:
      return GemmPanel<T, 3, false>(m, g);
    default:
      return GemmPanel<T, 3, true>(m, g);
  }
}

// Rows per block of a tall product (a multiple of the tile height), so that
// the block's rows of A stay in cache while every panel of B passes.
constexpr int64_t kGemmRowBlock = 48;
static_assert(kGemmRowBlock % kTileRows == 0, "whole tiles per row block");

// Every panel of B for blocks of kGemmRowBlock rows of A (tile i of the rows
// starting at a + i·ats).
template <typename T>
inline void GemmBlocks(int64_t m, const T* a, int64_t ars, int64_t acs,
                       int64_t ats, const PackedB<T>& b, T* c, int64_t ldc,
                       GemmInit init, const T* row) {
  constexpr int64_t tiles_per_block = kGemmRowBlock / kTileRows;
  for (int64_t i0 = 0; i0 < m; i0 += kGemmRowBlock) {
    const int64_t rows = std::min(kGemmRowBlock, m - i0);
    for (int64_t j0 = 0, panel; j0 < b.n; j0 += panel) {
      panel = PanelCols<T>(j0, b.n);
      const PanelArgs<T> g{b.k,
                           a + i0 / kGemmRowBlock * tiles_per_block * ats,
                           ars,
                           acs,
                           ats,
                           b.data + j0 * b.k,
                           c + i0 * ldc + j0,
                           ldc,
                           std::min(panel, b.n - j0),
                           init,
                           row != nullptr ? row + j0 : nullptr};
      GemmAnyPanel(rows, g);
    }
  }
}

// Aᵀ for m rows and k columns, A [k, m] row-major (lda), into tiles of
// kTileRows rows: tile i holds A(p, i·R + r) at i·R·k + p·R + r (R =
// kTileRows; each p's R values one small copy; a last partial tile's missing
// rows are not written, and not read).
template <typename T>
inline void PackTiles(int64_t m, int64_t k, const T* a, int64_t lda, T* out) {
  constexpr int64_t R = kTileRows;
  int64_t i0 = 0;
  for (; i0 + R <= m; i0 += R) {
    T* tile = out + i0 * k;
    for (int64_t p = 0; p < k; ++p)
      std::memcpy(tile + p * R, a + p * lda + i0, R * sizeof(T));
  }
  if (i0 < m) {
    T* tile = out + i0 * k;
    for (int64_t p = 0; p < k; ++p) {
      for (int64_t r = 0; r < m - i0; ++r)
        tile[p * R + r] = a[p * lda + i0 + r];
    }
  }
}

}  // namespace internal

// C[m, B.n] (leading dimension ldc) = C₀ + A·B with A(i, p) = a[i·ars +
// p·acs] (so Aᵀ or a strided view multiplies directly); `row` is the bias
// row [B.n] for GemmInit::kRow.
template <typename T>
inline void Gemm(int64_t m, const T* a, int64_t ars, int64_t acs,
                 const PackedB<T>& b, T* c, int64_t ldc, GemmInit init,
                 const T* row = nullptr) {
  internal::GemmBlocks(m, a, ars, acs, kTileRows * ars, b, c, ldc, init, row);
}

// Gemm for row-major A (leading dimension lda): the per-step products of a
// recurrent cell. Products at most one vector wide (tiny models) skip the
// blocking and dispatch: each row is one accumulator over the single packed
// panel, with the same multiply-adds in the same order as Gemm.
template <typename T>
inline void SmallGemm(int64_t m, const T* a, int64_t lda, const PackedB<T>& b,
                      T* c, int64_t ldc, GemmInit init,
                      const T* row = nullptr) {
  constexpr int64_t L = kLanes<T>;
  if (b.n > L) return Gemm(m, a, lda, 1, b, c, ldc, init, row);
  for (int64_t i = 0; i < m; ++i) {
    const T* ai = a + i * lda;
    T* ci = c + i * ldc;
    Vec<T> acc = init == GemmInit::kZero ? Vec<T>{}
                 : init == GemmInit::kC  ? LoadFirst(ci, b.n)
                                         : LoadFirst(row, b.n);
    for (int64_t p = 0; p < b.k; ++p)
      acc = MulAdd(Splat(ai[p]), LoadVec(b.data + p * L), acc);
    StorePartial(ci, acc, b.n);
  }
}

// Rows of A and X per piece of GemmTN (X's packed piece stays in cache).
constexpr int64_t kGemmDepthBlock = 256;

// The scratch GemmTN needs for products of m rows and n columns (any r).
template <typename T>
inline int64_t GemmTNScratch(int64_t m, int64_t n) {
  return PackedSize<T>(kGemmDepthBlock, n) +
         kGemmDepthBlock * ((m + kTileRows - 1) / kTileRows * kTileRows);
}

// C[m, n] (ldc) += Aᵀ·X, A [r, m] (lda) and X [r, n] (ldx) row-major: over
// pieces of kGemmDepthBlock rows, each piece of X packed into panels and of
// Aᵀ into tiles in `scratch` (GemmTNScratch(m, n) elements), so that both
// stream contiguously. Each C element adds its r products in row order.
template <typename T>
inline void GemmTN(int64_t m, int64_t n, int64_t r, const T* a, int64_t lda,
                   const T* x, int64_t ldx, T* c, int64_t ldc, T* scratch) {
  T* apack = scratch + PackedSize<T>(kGemmDepthBlock, n);
  for (int64_t p0 = 0; p0 < r; p0 += kGemmDepthBlock) {
    const int64_t kk = std::min(kGemmDepthBlock, r - p0);
    const PackedB<T> xb = PackInto(scratch, x + p0 * ldx, ldx, 1, kk, n);
    internal::PackTiles(m, kk, a + p0 * lda, lda, apack);
    internal::GemmBlocks<T>(m, apack, 1, kTileRows, kTileRows * kk, xb, c, ldc,
                            GemmInit::kC, nullptr);
  }
}

// Σ a[i]·b[i] in a fixed order, so that it does not depend on the arrays'
// addresses: four vector partial sums s0..s3 over blocks of 4 vectors (vector
// j of a block into s_j, one MulAdd each), then the remaining whole vectors
// into s0, then the lanes of (s0 + s1) + (s2 + s3) summed in lane order, then
// the tail elements a[i]·b[i] in order.
template <typename T>
inline T Dot(const T* a, const T* b, int64_t n) {
  constexpr int64_t L = kLanes<T>;
  Vec<T> s0 = {}, s1 = {}, s2 = {}, s3 = {};
  int64_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    s0 = MulAdd(LoadVec(a + i), LoadVec(b + i), s0);
    s1 = MulAdd(LoadVec(a + i + L), LoadVec(b + i + L), s1);
    s2 = MulAdd(LoadVec(a + i + 2 * L), LoadVec(b + i + 2 * L), s2);
    s3 = MulAdd(LoadVec(a + i + 3 * L), LoadVec(b + i + 3 * L), s3);
  }
  for (; i + L <= n; i += L) s0 = MulAdd(LoadVec(a + i), LoadVec(b + i), s0);
  const Vec<T> s = (s0 + s1) + (s2 + s3);
  T sum = 0;
  for (int64_t l = 0; l < L; ++l) sum += s[l];
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

}  // namespace simd
}  // namespace elm

#endif  // ELM_AUTODIFF_SIMD_GEMM_H_
