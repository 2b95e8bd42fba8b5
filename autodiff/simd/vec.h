// A 32-byte SIMD vector of float or double and the few operations the kernels
// in autodiff/simd use on it: whole and partial (masked) loads and stores,
// an explicit fused multiply-add, and a broadcast. The vector type is the
// GCC/Clang vector extension: one AVX register with -march=native, a pair of
// SSE registers without; the masked loads and stores are AVX instructions
// where available and element loops otherwise. Everything is inline, so that
// the kernels built on it compile into their callers.
//
// Results never depend on an address: unaligned data takes the same path as
// aligned data, and MulAdd is one rounding wherever the target has FMA (two
// roundings everywhere otherwise), whatever the surrounding code.
#ifndef ELM_AUTODIFF_SIMD_VEC_H_
#define ELM_AUTODIFF_SIMD_VEC_H_

#ifdef __AVX__
#include <immintrin.h>
#endif

#include <cstdint>
#include <cstring>

// Without AVX, GCC notes (-Wpsabi) that passing and returning a 32-byte vector
// changes the ABI. Every translation unit of the repository is built with the
// same target flags, so the inline functions below agree on it; targets that
// include this header add -Wno-psabi to their copts (the note comes at the end
// of the unit, where a #pragma here would not reach).

namespace elm {
namespace simd {

template <typename T>
struct VecOf;
template <>
struct VecOf<float> {
  typedef float type __attribute__((vector_size(32)));
};
template <>
struct VecOf<double> {
  typedef double type __attribute__((vector_size(32)));
};

// A vector of kLanes<T> elements of T (8 floats or 4 doubles).
template <typename T>
using Vec = typename VecOf<T>::type;
template <typename T>
constexpr int64_t kLanes = 32 / sizeof(T);

// n rounded up to whole vectors of T.
template <typename T>
constexpr int64_t RoundUpToLanes(int64_t n) {
  return (n + kLanes<T> - 1) / kLanes<T> * kLanes<T>;
}

// The vector at p (any alignment).
template <typename T>
inline Vec<T> LoadVec(const T* p) {
  Vec<T> v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// v to p (any alignment). (By value: a reference to a tile's accumulator
// would make GCC keep the whole tile in memory.)
template <typename T>
inline void StoreVec(T* p, Vec<T> v) {
  std::memcpy(p, &v, sizeof(v));
}

// The first n ≤ kLanes elements of a vector: LoadFirst reads p[0, n) (the
// other lanes read as zero, and the memory past p + n is not touched);
// StoreFirst writes v's first n lanes to p[0, n) and leaves p[n, kLanes)
// untouched. (Slower than LoadVec / StoreVec at n == kLanes: see
// LoadPartial.)
#ifdef __AVX__
namespace internal {
alignas(64) inline constexpr int32_t kMask32[16] = {
    -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
alignas(64) inline constexpr int64_t kMask64[8] = {-1, -1, -1, -1, 0, 0, 0, 0};
// The AVX lane mask of the first n lanes.
inline __m256i LaneMask(float*, int64_t n) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask32 + 8 - n));
}
inline __m256i LaneMask(double*, int64_t n) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask64 + 4 - n));
}
}  // namespace internal

inline Vec<float> LoadFirst(const float* p, int64_t n) {
  return _mm256_maskload_ps(
      p, internal::LaneMask(static_cast<float*>(nullptr), n));
}
inline Vec<double> LoadFirst(const double* p, int64_t n) {
  return _mm256_maskload_pd(
      p, internal::LaneMask(static_cast<double*>(nullptr), n));
}
inline void StoreFirst(float* p, Vec<float> v, int64_t n) {
  _mm256_maskstore_ps(p, internal::LaneMask(static_cast<float*>(nullptr), n),
                      v);
}
inline void StoreFirst(double* p, Vec<double> v, int64_t n) {
  _mm256_maskstore_pd(p, internal::LaneMask(static_cast<double*>(nullptr), n),
                      v);
}
#else
template <typename T>
inline Vec<T> LoadFirst(const T* p, int64_t n) {
  Vec<T> v = {};
  for (int64_t l = 0; l < n; ++l) v[l] = p[l];
  return v;
}
template <typename T>
inline void StoreFirst(T* p, Vec<T> v, int64_t n) {
  for (int64_t l = 0; l < n; ++l) p[l] = v[l];
}
#endif

// The first n ≤ kLanes elements: a whole vector when n == kLanes, else
// LoadFirst / StoreFirst.
template <typename T>
inline Vec<T> LoadPartial(const T* p, int64_t n) {
  return n == kLanes<T> ? LoadVec(p) : LoadFirst(p, n);
}
template <typename T>
inline void StorePartial(T* p, Vec<T> v, int64_t n) {
  if (n == kLanes<T>) {
    StoreVec(p, v);
  } else {
    StoreFirst(p, v, n);
  }
}

// acc + a·b as one fused multiply-add wherever the target has FMA. Spelled
// out, not left to the compiler's contraction, which fuses some of the
// products and not others depending on the surrounding code (e.g. a GEMM
// tile's height), so that a row's results would depend on the batch.
#ifdef __FMA__
// (The builtins behind _mm256_fmadd_ps/pd, on the vector type itself.)
inline Vec<float> MulAdd(Vec<float> a, Vec<float> b, Vec<float> acc) {
  return __builtin_ia32_vfmaddps256(a, b, acc);
}
inline Vec<double> MulAdd(Vec<double> a, Vec<double> b, Vec<double> acc) {
  return __builtin_ia32_vfmaddpd256(a, b, acc);
}
#else  // no FMA instruction: nothing to contract
inline Vec<float> MulAdd(Vec<float> a, Vec<float> b, Vec<float> acc) {
  return acc + a * b;
}
inline Vec<double> MulAdd(Vec<double> a, Vec<double> b, Vec<double> acc) {
  return acc + a * b;
}
#endif

// Every lane a.
inline Vec<float> Splat(float a) { return Vec<float>{a, a, a, a, a, a, a, a}; }
inline Vec<double> Splat(double a) { return Vec<double>{a, a, a, a}; }

}  // namespace simd
}  // namespace elm

#endif  // ELM_AUTODIFF_SIMD_VEC_H_
