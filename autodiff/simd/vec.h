// A SIMD vector of float or double, as wide as the target's widest vector
// registers, and the few operations the kernels in autodiff/simd use on it:
// whole and partial (masked) loads and stores, an explicit fused multiply-add,
// and a broadcast. The vector type is the GCC/Clang vector extension:
//   AVX-512 targets (__AVX512F__, e.g. -march=native on an AVX-512 CPU):
//     64 bytes, one zmm register (16 floats, 8 doubles); masked loads and
//     stores are AVX-512 mask-register instructions;
//   every other target: 32 bytes, one ymm register with AVX (8 floats,
//     4 doubles), a pair of SSE registers without; masked loads and stores
//     are AVX instructions where available and element loops otherwise.
// The width is chosen when the code is compiled (kVectorBytes): `bazel run`
// builds with -march=native on the machine that runs the code, so it gets that
// CPU's widest vectors; --config=portable and the tests (no -march) get 32.
// Everything is inline, so that the kernels built on it compile into their
// callers.
//
// Results never depend on an address: unaligned data takes the same path as
// aligned data, and MulAdd is one rounding wherever the target has FMA (two
// roundings everywhere otherwise), whatever the surrounding code. Kernels that
// only combine lanes element by element (the products of gemm.h, the
// activations) give the same results at either width; a lane reduction (Dot)
// has a fixed order for a given width.
#ifndef ELM_AUTODIFF_SIMD_VEC_H_
#define ELM_AUTODIFF_SIMD_VEC_H_

#ifdef __AVX__
#include <immintrin.h>
#endif

#include <cstdint>
#include <cstring>
#include <utility>

// The vector width in bytes (a macro: vector_size needs a constant).
#if defined(__AVX512F__)
#define ELM_SIMD_VECTOR_BYTES 64
#else
#define ELM_SIMD_VECTOR_BYTES 32
#endif

// Without AVX, GCC notes (-Wpsabi) that passing and returning a 32-byte vector
// changes the ABI. Every translation unit of the repository is built with the
// same target flags, so the inline functions below agree on it; targets that
// include this header add -Wno-psabi to their copts (the note comes at the end
// of the unit, where a #pragma here would not reach).

namespace elm {
namespace simd {

// Bytes per vector: 64 on AVX-512 targets, else 32.
constexpr int64_t kVectorBytes = ELM_SIMD_VECTOR_BYTES;

template <typename T>
struct VecOf;
template <>
struct VecOf<float> {
  typedef float type __attribute__((vector_size(ELM_SIMD_VECTOR_BYTES)));
};
template <>
struct VecOf<double> {
  typedef double type __attribute__((vector_size(ELM_SIMD_VECTOR_BYTES)));
};
template <>
struct VecOf<int32_t> {
  typedef int32_t type __attribute__((vector_size(ELM_SIMD_VECTOR_BYTES)));
};

// A vector of kLanes<T> elements of T (16 floats or 8 doubles with AVX-512,
// else 8 floats or 4 doubles).
template <typename T>
using Vec = typename VecOf<T>::type;
template <typename T>
constexpr int64_t kLanes = kVectorBytes / sizeof(T);

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
#if defined(__AVX512F__)
inline Vec<float> LoadFirst(const float* p, int64_t n) {
  return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p);
}
inline Vec<double> LoadFirst(const double* p, int64_t n) {
  return _mm512_maskz_loadu_pd(static_cast<__mmask8>((1u << n) - 1), p);
}
inline void StoreFirst(float* p, Vec<float> v, int64_t n) {
  _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v);
}
inline void StoreFirst(double* p, Vec<double> v, int64_t n) {
  _mm512_mask_storeu_pd(p, static_cast<__mmask8>((1u << n) - 1), v);
}
#elif defined(__AVX__)
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
#if defined(__AVX512F__)  // (AVX-512F includes the 512-bit FMAs)
inline Vec<float> MulAdd(Vec<float> a, Vec<float> b, Vec<float> acc) {
  return _mm512_fmadd_ps(a, b, acc);
}
inline Vec<double> MulAdd(Vec<double> a, Vec<double> b, Vec<double> acc) {
  return _mm512_fmadd_pd(a, b, acc);
}
#elif defined(__FMA__)
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
namespace internal {
template <typename T, std::size_t... I>
inline Vec<T> SplatLanes(T a, std::index_sequence<I...>) {
  return Vec<T>{((void)I, a)...};
}
}  // namespace internal
inline Vec<float> Splat(float a) {
  return internal::SplatLanes(a, std::make_index_sequence<kLanes<float>>());
}
inline Vec<double> Splat(double a) {
  return internal::SplatLanes(a, std::make_index_sequence<kLanes<double>>());
}

}  // namespace simd
}  // namespace elm

#endif  // ELM_AUTODIFF_SIMD_VEC_H_
