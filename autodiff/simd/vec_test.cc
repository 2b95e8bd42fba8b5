// The vector wrapper: whole and partial loads and stores at any alignment
// (partial ones touch only their n elements), MulAdd's single rounding where
// the target has FMA, and Splat.
#include "autodiff/simd/vec.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace elm {
namespace simd {
namespace {

template <typename T>
class VecTest : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(VecTest, Types);

TYPED_TEST(VecTest, LoadStoreAtAnyOffset) {
  using T = TypeParam;
  constexpr int64_t L = kLanes<T>;
  // The widest vectors the target has: 64 bytes with AVX-512, else 32.
#if defined(__AVX512F__)
  EXPECT_EQ(L * static_cast<int64_t>(sizeof(T)), 64);
#else
  EXPECT_EQ(L * static_cast<int64_t>(sizeof(T)), 32);
#endif
  std::vector<T> src(3 * L), dst(3 * L);
  for (int64_t i = 0; i < 3 * L; ++i) src[i] = T(i) + T(0.5);
  for (int64_t off = 0; off <= L; ++off) {
    std::fill(dst.begin(), dst.end(), T(-1));
    const Vec<T> v = LoadVec(src.data() + off);
    for (int64_t l = 0; l < L; ++l) EXPECT_EQ(v[l], src[off + l]);
    StoreVec(dst.data() + off, v);
    for (int64_t i = 0; i < 3 * L; ++i) {
      EXPECT_EQ(dst[i], i >= off && i < off + L ? src[i] : T(-1))
          << "offset " << off << ", element " << i;
    }
  }
}

TYPED_TEST(VecTest, PartialLoadsReadOnlyTheirElements) {
  using T = TypeParam;
  constexpr int64_t L = kLanes<T>;
  for (int64_t n = 0; n <= L; ++n) {
    // The n elements at the very end of the array: nothing past it is read
    // (a masked load does not fault on the masked lanes).
    std::vector<T> src(n + 1);
    for (int64_t i = 0; i <= n; ++i) src[i] = T(i + 1);
    const Vec<T> v = LoadFirst(src.data() + 1, n);
    for (int64_t l = 0; l < L; ++l)
      EXPECT_EQ(v[l], l < n ? src[1 + l] : T(0)) << "n " << n << ", lane " << l;
    if (n == 0) continue;
    const Vec<T> w = LoadPartial(src.data() + 1, n);
    for (int64_t l = 0; l < L; ++l)
      EXPECT_EQ(w[l], l < n ? src[1 + l] : T(0)) << "n " << n << ", lane " << l;
  }
}

TYPED_TEST(VecTest, PartialStoresLeaveTheRestUntouched) {
  using T = TypeParam;
  constexpr int64_t L = kLanes<T>;
  Vec<T> v;
  for (int64_t l = 0; l < L; ++l) v[l] = T(10 + l);
  for (int64_t n = 0; n <= L; ++n) {
    for (bool partial : {false, true}) {
      if (partial && n == 0) continue;
      std::vector<T> dst(L + 2, T(-1));
      if (partial) {
        StorePartial(dst.data() + 1, v, n);
      } else {
        StoreFirst(dst.data() + 1, v, n);
      }
      EXPECT_EQ(dst[0], T(-1));
      for (int64_t l = 0; l < L; ++l)
        EXPECT_EQ(dst[1 + l], l < n ? T(10 + l) : T(-1)) << "n " << n;
      EXPECT_EQ(dst[L + 1], T(-1));
    }
  }
}

TYPED_TEST(VecTest, RoundUpToLanes) {
  using T = TypeParam;
  constexpr int64_t L = kLanes<T>;
  EXPECT_EQ(RoundUpToLanes<T>(0), 0);
  EXPECT_EQ(RoundUpToLanes<T>(1), L);
  EXPECT_EQ(RoundUpToLanes<T>(L), L);
  EXPECT_EQ(RoundUpToLanes<T>(L + 1), 2 * L);
}

TYPED_TEST(VecTest, SplatFillsEveryLane) {
  using T = TypeParam;
  const Vec<T> v = Splat(T(2.5));
  for (int64_t l = 0; l < kLanes<T>; ++l) EXPECT_EQ(v[l], T(2.5));
}

// a·b = 1 − ε² is not representable: one rounding (FMA) keeps −ε² in
// a·b − 1, two roundings give 0.
TYPED_TEST(VecTest, MulAddRoundsOnceWithFma) {
  using T = TypeParam;
  const T eps = std::numeric_limits<T>::epsilon();
  const Vec<T> a = Splat(T(1) + eps), b = Splat(T(1) - eps);
  const Vec<T> r = MulAdd(a, b, Splat(T(-1)));
#ifdef __FMA__
  const T want = -eps * eps;
#else
  const T want = T(0);
#endif
  for (int64_t l = 0; l < kLanes<T>; ++l) EXPECT_EQ(r[l], want);
  // Exact cases agree everywhere.
  const Vec<T> s = MulAdd(Splat(T(3)), Splat(T(0.5)), Splat(T(1)));
  for (int64_t l = 0; l < kLanes<T>; ++l) EXPECT_EQ(s[l], T(2.5));
}

}  // namespace
}  // namespace simd
}  // namespace elm
