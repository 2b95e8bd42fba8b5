// The products against a naive loop that does the same multiply-adds in the
// same k order (MulAddRef: one rounding where the target has FMA, as MulAdd):
// Gemm (every init, strided and transposed A and B, partial panels, odd
// sizes, untouched columns past n), SmallGemm (both paths), GemmTN (several
// depth pieces) bit for bit, in float and double; Dot bit for bit without a
// tail and within a tight bound with one, independent of the addresses.
#include "autodiff/simd/gemm.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace elm {
namespace simd {
namespace {

// c + a·b as MulAdd computes it.
template <typename T>
T MulAddRef(T a, T b, T c) {
#ifdef __FMA__
  return std::fma(a, b, c);
#else
  return c + a * b;
#endif
}

template <typename T>
std::vector<T> Random(int64_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(u(gen));
  return v;
}

template <typename T>
void ExpectBitEqual(const std::vector<T>& got, const std::vector<T>& want,
                    const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(T)) != 0) {
      ADD_FAILURE() << what << ": element " << i << " is " << got[i]
                    << ", the naive loop gives " << want[i];
      return;
    }
  }
}

// C[m, n] (ldc) = C₀ + A·B with A(i, p) = a[i·ars + p·acs], B(p, j) =
// b[p·rs + j·cs], each element's k products added in order of p.
template <typename T>
void NaiveGemm(int64_t m, int64_t k, int64_t n, const T* a, int64_t ars,
               int64_t acs, const T* b, int64_t rs, int64_t cs, T* c,
               int64_t ldc, GemmInit init, const T* row) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      T acc = init == GemmInit::kZero ? T(0)
              : init == GemmInit::kC  ? c[i * ldc + j]
                                      : row[j];
      for (int64_t p = 0; p < k; ++p)
        acc = MulAddRef(a[i * ars + p * acs], b[p * rs + j * cs], acc);
      c[i * ldc + j] = acc;
    }
  }
}

template <typename T>
class GemmTest : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(GemmTest, Types);

TYPED_TEST(GemmTest, PanelsAndPackedSize) {
  using T = TypeParam;
  constexpr int64_t L = kLanes<T>;
  // 100 float columns: 3 + 3 + 3 + 2 + 2 vectors (4 left go as 2 + 2).
  if (L == 8) {
    std::vector<int64_t> widths;
    for (int64_t j0 = 0, w; j0 < 100; j0 += w)
      widths.push_back(w = PanelCols<T>(j0, 100));
    EXPECT_EQ(widths, (std::vector<int64_t>{24, 24, 24, 16, 16}));
  }
  // With 64-byte vectors, 300 float columns (the LRA MLP's hidden width):
  // 5·3 + 2 + 2 vectors.
  if (L == 16) {
    std::vector<int64_t> widths;
    for (int64_t j0 = 0, w; j0 < 300; j0 += w)
      widths.push_back(w = PanelCols<T>(j0, 300));
    EXPECT_EQ(widths, (std::vector<int64_t>{48, 48, 48, 48, 48, 32, 32}));
  }
  EXPECT_EQ(PanelCols<T>(0, 1), L);
  EXPECT_EQ(PackedSize<T>(5, 1), 5 * L);
  EXPECT_EQ(PackedSize<T>(5, 2 * L + 1), 5 * 3 * L);
  // Packing zero-pads the columns past n.
  const int64_t k = 3, n = L + 1;
  const std::vector<T> b = Random<T>(k * n, 1);
  std::vector<T> packed(PackedSize<T>(k, n), T(-7));
  const PackedB<T> pb = PackInto(packed.data(), b.data(), n, 1, k, n);
  EXPECT_EQ(pb.k, k);
  EXPECT_EQ(pb.n, n);
  const int64_t w = PanelCols<T>(0, n);
  ASSERT_EQ(w, 2 * L);
  for (int64_t p = 0; p < k; ++p) {
    for (int64_t j = 0; j < w; ++j)
      EXPECT_EQ(packed[p * w + j], j < n ? b[p * n + j] : T(0));
  }
}

TYPED_TEST(GemmTest, GemmMatchesNaiveLoop) {
  using T = TypeParam;
  uint32_t seed = 10;
  // Every remainder of the 4- and 8-row tiles, whole row blocks and more.
  for (int64_t m : {1, 2, 3, 4, 5, 6, 7, 8, 13, 48, 49, 100}) {
    for (int64_t k : {1, 3, 17, 145}) {
      for (int64_t n : {1, 3, 4, 7, 8, 9, 16, 23, 24, 25, 31, 40, 100, 200}) {
        for (GemmInit init : {GemmInit::kZero, GemmInit::kC, GemmInit::kRow}) {
          const std::string what = "m " + std::to_string(m) + " k " +
                                   std::to_string(k) + " n " +
                                   std::to_string(n) + " init " +
                                   std::to_string(static_cast<int>(init));
          SCOPED_TRACE(what);
          const int64_t ldc = n + 3;  // columns past n must stay untouched
          const std::vector<T> a = Random<T>(m * k, ++seed);
          const std::vector<T> b = Random<T>(k * n, ++seed);
          const std::vector<T> row = Random<T>(n, ++seed);
          std::vector<T> c = Random<T>(m * ldc, ++seed), want = c;
          std::vector<T> packed(PackedSize<T>(k, n));
          const PackedB<T> pb = PackInto(packed.data(), b.data(), n, 1, k, n);
          Gemm(m, a.data(), k, 1, pb, c.data(), ldc, init, row.data());
          NaiveGemm(m, k, n, a.data(), k, 1, b.data(), n, 1, want.data(), ldc,
                    init, row.data());
          ExpectBitEqual(c, want, what);
          if (m > 16 || k > 17) continue;
          // The same with A and B read transposed (strided views).
          std::vector<T> at(k * m), bt(n * k);
          for (int64_t i = 0; i < m; ++i)
            for (int64_t p = 0; p < k; ++p) at[p * m + i] = a[i * k + p];
          for (int64_t p = 0; p < k; ++p)
            for (int64_t j = 0; j < n; ++j) bt[j * k + p] = b[p * n + j];
          std::vector<T> c2 = Random<T>(m * ldc, seed), want2 = c2;
          const PackedB<T> pbt = PackInto(packed.data(), bt.data(), 1, k, k, n);
          Gemm(m, at.data(), 1, m, pbt, c2.data(), ldc, init, row.data());
          NaiveGemm(m, k, n, a.data(), k, 1, b.data(), n, 1, want2.data(), ldc,
                    init, row.data());
          ExpectBitEqual(c2, want2, what + " transposed");
        }
      }
    }
  }
}

TYPED_TEST(GemmTest, SmallGemmMatchesNaiveLoop) {
  using T = TypeParam;
  constexpr int64_t L = kLanes<T>;
  uint32_t seed = 100;
  for (int64_t m : {1, 4, 5, 8, 16}) {
    for (int64_t k : {1, 5, 20, 200}) {
      // n ≤ L takes the direct loop; wider goes through Gemm.
      for (int64_t n : {int64_t{1}, L - 1, L, L + 1, int64_t{100}}) {
        for (GemmInit init : {GemmInit::kZero, GemmInit::kC, GemmInit::kRow}) {
          const std::string what = "m " + std::to_string(m) + " k " +
                                   std::to_string(k) + " n " +
                                   std::to_string(n);
          const int64_t lda = k + 2, ldc = n + 1;
          const std::vector<T> a = Random<T>(m * lda, ++seed);
          const std::vector<T> b = Random<T>(k * n, ++seed);
          const std::vector<T> row = Random<T>(n, ++seed);
          std::vector<T> c = Random<T>(m * ldc, ++seed), want = c;
          std::vector<T> packed(PackedSize<T>(k, n));
          const PackedB<T> pb = PackInto(packed.data(), b.data(), n, 1, k, n);
          SmallGemm(m, a.data(), lda, pb, c.data(), ldc, init, row.data());
          NaiveGemm(m, k, n, a.data(), lda, 1, b.data(), n, 1, want.data(), ldc,
                    init, row.data());
          ExpectBitEqual(c, want, what);
        }
      }
    }
  }
}

TYPED_TEST(GemmTest, GemmTNMatchesNaiveLoop) {
  using T = TypeParam;
  uint32_t seed = 200;
  // r > kGemmDepthBlock: several packed pieces, added in row order.
  for (int64_t r : {1, 7, 128, 256, 300, 600}) {
    for (int64_t m : {1, 3, 4, 6, 15, 100}) {
      for (int64_t n : {1, 9, 24, 45, 200}) {
        const std::string what = "r " + std::to_string(r) + " m " +
                                 std::to_string(m) + " n " + std::to_string(n);
        const int64_t lda = m + 1, ldx = n + 2, ldc = n + 3;
        const std::vector<T> a = Random<T>(r * lda, ++seed);
        const std::vector<T> x = Random<T>(r * ldx, ++seed);
        std::vector<T> c = Random<T>(m * ldc, ++seed), want = c;
        std::vector<T> scratch(GemmTNScratch<T>(m, n));
        GemmTN(m, n, r, a.data(), lda, x.data(), ldx, c.data(), ldc,
               scratch.data());
        // C(i, j) += Σ_p A(p, i)·X(p, j), p in order: Aᵀ as a strided view.
        NaiveGemm(m, r, n, a.data(), 1, lda, x.data(), ldx, 1, want.data(), ldc,
                  GemmInit::kC, static_cast<const T*>(nullptr));
        ExpectBitEqual(c, want, what);
      }
    }
  }
}

TYPED_TEST(GemmTest, DotHasAFixedOrder) {
  using T = TypeParam;
  constexpr int64_t L = kLanes<T>;
  for (int64_t n : {0, 1, 3, 4, 7, 8, 15, 16, 31, 32, 33, 100, 145, 200}) {
    SCOPED_TRACE(n);
    const std::vector<T> a = Random<T>(n, 300 + n), b = Random<T>(n, 400 + n);
    const T got = Dot(a.data(), b.data(), n);
    // The documented order: lanes of 4 partial sums, then the tail.
    const int64_t whole = n / L * L;
    std::vector<T> s(4 * L, T(0));
    int64_t i = 0;
    for (; i + 4 * L <= whole; i += 4 * L) {
      for (int64_t j = 0; j < 4; ++j) {
        for (int64_t l = 0; l < L; ++l) {
          s[j * L + l] =
              MulAddRef(a[i + j * L + l], b[i + j * L + l], s[j * L + l]);
        }
      }
    }
    for (; i < whole; i += L) {
      for (int64_t l = 0; l < L; ++l)
        s[l] = MulAddRef(a[i + l], b[i + l], s[l]);
    }
    T want = 0;
    for (int64_t l = 0; l < L; ++l)
      want += (s[l] + s[L + l]) + (s[2 * L + l] + s[3 * L + l]);
    double exact = 0, magnitude = 0;
    for (int64_t e = 0; e < n; ++e) {
      exact += double(a[e]) * double(b[e]);
      magnitude += std::abs(double(a[e]) * double(b[e]));
    }
    if (n == whole) {
      // No tail: bit for bit.
      EXPECT_EQ(std::memcmp(&got, &want, sizeof(T)), 0) << got << " " << want;
    }
    // Whether the compiler fuses the tail's products is its choice: a tight
    // bound only.
    EXPECT_LE(std::abs(double(got) - exact),
              4.0 * n * std::numeric_limits<T>::epsilon() * magnitude);
    // Independent of where the arrays live.
    std::vector<T> a2(n + 3), b2(n + 1);
    std::copy(a.begin(), a.end(), a2.begin() + 3);
    std::copy(b.begin(), b.end(), b2.begin() + 1);
    const T moved = Dot(a2.data() + 3, b2.data() + 1, n);
    EXPECT_EQ(std::memcmp(&got, &moved, sizeof(T)), 0);
  }
}

}  // namespace
}  // namespace simd
}  // namespace elm
