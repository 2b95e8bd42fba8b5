// Element-wise activation functions over arrays, one vector at a time, for
// the hand-written cells (the fused ELM unroll; usable by any model):
//   FastTanh, FastExp     on one Vec<float> (Eigen's float algorithms)
//   TanhOf2Thirds         th = tanh(2x/3)  (LeCun's 1.7159·tanh(2x/3) inside)
//   Silu, SiluBackward    h = x·σ(x);  g ⊙= silu'(x)
//   ActForward, ActBackward   relu or silu (Activation)
//
// Why not Eigen's array functions: they run whole packets on the aligned
// middle of an array and scalar code (which rounds differently) on the
// elements before and after it, so an element's result would depend on its
// address, hence (in a cell) on the batch. Here every element, the last
// partial vector's included, takes the same path, so a sequence's results do
// not depend on the batch it runs in. For float these are Eigen's packet
// algorithms (a few ulp from the exact value); double uses std::tanh /
// std::exp per element (as Eigen does for tanh).
//
// Every function is inline (compiled into its callers).
#ifndef ELM_AUTODIFF_SIMD_ACTIVATIONS_H_
#define ELM_AUTODIFF_SIMD_ACTIVATIONS_H_

#include <cmath>
#include <cstdint>
#include <cstring>

#include "autodiff/simd/vec.h"

namespace elm {
namespace simd {

// tanh: Eigen's generic_fast_tanh_float, a rational approximation (odd
// polynomials of degree 13 over 6 in x, x clamped to ±7.99 (±7.91 without
// FMA), and x itself for |x| < 0.0004).
inline Vec<float> FastTanh(Vec<float> a) {
#ifdef __FMA__
  const float clamp = 7.99881172180175781f;
#else
  const float clamp = 7.90531110763549805f;
#endif
  const Vec<float> hi = Splat(clamp), lo = Splat(-clamp);
  Vec<float> x = a < hi ? a : hi;
  x = x > lo ? x : lo;
  const Vec<float> abs_a = a < Splat(0.0f) ? -a : a;
  const Vec<float> x2 = x * x;
  Vec<float> p =
      MulAdd(x2, Splat(-2.76076847742355e-16f), Splat(2.00018790482477e-13f));
  p = MulAdd(x2, p, Splat(-8.60467152213735e-11f));
  p = MulAdd(x2, p, Splat(5.12229709037114e-08f));
  p = MulAdd(x2, p, Splat(1.48572235717979e-05f));
  p = MulAdd(x2, p, Splat(6.37261928875436e-04f));
  p = MulAdd(x2, p, Splat(4.89352455891786e-03f));
  p = x * p;
  Vec<float> q =
      MulAdd(x2, Splat(1.19825839466702e-06f), Splat(1.18534705686654e-04f));
  q = MulAdd(x2, q, Splat(2.26843463243900e-03f));
  q = MulAdd(x2, q, Splat(4.89352518554385e-03f));
  return abs_a < Splat(0.0004f) ? x : p / q;
}

// exp: Eigen's pexp_float (Cephes): exp(x) = 2^m·exp(r), m = ⌊x/ln 2 + ½⌋,
// a degree-5 polynomial for exp(r); 2^m applied as 2^⌊m/2⌋·2^(m−⌊m/2⌋). x is
// clamped to ±88.723 (so +∞ maps to ~3.4e38, −∞ to ~3e-39); NaN stays NaN.
inline Vec<float> FastExp(Vec<float> a) {
  typedef Vec<int32_t> VecI;
  Vec<float> x = a < Splat(88.723f) ? a : Splat(88.723f);
  x = x > Splat(-88.723f) ? x : Splat(-88.723f);
  // m = floor(x·log2(e) + 1/2), from the truncation.
  const Vec<float> f = MulAdd(x, Splat(1.44269504088896341f), Splat(0.5f));
  const Vec<float> tr =
      __builtin_convertvector(__builtin_convertvector(f, VecI), Vec<float>);
  const Vec<float> m = tr > f ? tr - Splat(1.0f) : tr;
  Vec<float> r = MulAdd(m, Splat(-0.693359375f), x);
  r = MulAdd(m, Splat(2.12194440e-4f), r);
  const Vec<float> r2 = r * r, r3 = r2 * r;
  Vec<float> y = MulAdd(Splat(1.9875691500E-4f), r, Splat(1.3981999507E-3f));
  Vec<float> y1 = MulAdd(Splat(4.1665795894E-2f), r, Splat(1.6666665459E-1f));
  const Vec<float> y2 = r + Splat(1.0f);
  y = MulAdd(y, r, Splat(8.3334519073E-3f));
  y1 = MulAdd(y1, r, Splat(5.0000001201E-1f));
  y = MulAdd(y, r3, y1);
  y = MulAdd(y, r2, y2);
  const VecI mi = __builtin_convertvector(m, VecI);
  const VecI m1 = mi >> 1, m2 = mi - m1;
  const VecI e1 = (m1 + 127) << 23, e2 = (m2 + 127) << 23;
  Vec<float> s1, s2;
  std::memcpy(&s1, &e1, sizeof(s1));
  std::memcpy(&s2, &e2, sizeof(s2));
  const Vec<float> e = y * s1 * s2;
  return e > a ? e : a;
}

// out = f(in) over n floats (f of one Vec<float>), the last vector masked.
template <typename F>
inline void MapVec(const float* in, float* out, int64_t n, F f) {
  constexpr int64_t L = kLanes<float>;
  int64_t e = 0;
  for (; e + L <= n; e += L) StoreVec(out + e, f(LoadVec(in + e)));
  if (e < n) StoreFirst(out + e, f(LoadFirst(in + e, n - e)), n - e);
}

// th = tanh(2x/3) over n elements (x·2, then /3).
inline void TanhOf2Thirds(const float* x, float* th, int64_t n) {
  MapVec(x, th, n,
         [](Vec<float> v) { return FastTanh(v * Splat(2.0f) / Splat(3.0f)); });
}
inline void TanhOf2Thirds(const double* x, double* th, int64_t n) {
  for (int64_t e = 0; e < n; ++e) th[e] = std::tanh(x[e] * 2.0 / 3.0);
}

// h = silu(a) = a / (1 + exp(−a)) over n elements.
inline void Silu(const float* a, float* h, int64_t n) {
  MapVec(a, h, n, [](Vec<float> x) { return x / (Splat(1.0f) + FastExp(-x)); });
}
inline void Silu(const double* a, double* h, int64_t n) {
  for (int64_t e = 0; e < n; ++e) h[e] = a[e] / (1.0 + std::exp(-a[e]));
}

// g ⊙= silu'(a) = σ·(1 + a·(1 − σ)), σ = 1 / (1 + exp(−a)), and h = silu(a)
// (exactly as Silu computes it: one exp for both), over n elements.
inline void SiluBackward(const float* a, float* g, float* h, int64_t n) {
  constexpr int64_t L = kLanes<float>;
  const Vec<float> one = Splat(1.0f);
  auto step = [&](Vec<float> x, Vec<float> gv, Vec<float>* hv) {
    const Vec<float> d = one + FastExp(-x);
    *hv = x / d;
    const Vec<float> sig = one / d;
    return gv * (sig * (one + x * (one - sig)));
  };
  int64_t e = 0;
  for (; e + L <= n; e += L) {
    Vec<float> hv;
    StoreVec(g + e, step(LoadVec(a + e), LoadVec(g + e), &hv));
    StoreVec(h + e, hv);
  }
  if (e < n) {
    const int64_t k = n - e;
    Vec<float> hv;
    StoreFirst(g + e, step(LoadFirst(a + e, k), LoadFirst(g + e, k), &hv), k);
    StoreFirst(h + e, hv, k);
  }
}
inline void SiluBackward(const double* a, double* g, double* h, int64_t n) {
  for (int64_t e = 0; e < n; ++e) {
    const double d = 1.0 + std::exp(-a[e]);
    h[e] = a[e] / d;
    const double sig = 1.0 / d;
    g[e] *= sig * (1.0 + a[e] * (1.0 - sig));
  }
}

// A hidden layer's activation: relu (max(a, 0); derivative 1[a > 0], 0 at the
// kink, as PyTorch) or silu.
enum class Activation { kRelu, kSilu };

// h = act(a) over n elements.
template <typename T>
inline void ActForward(const T* a, T* h, int64_t n, Activation act) {
  if (act == Activation::kSilu) return Silu(a, h, n);
  constexpr int64_t L = kLanes<T>;
  const Vec<T> zero = {};
  int64_t e = 0;
  for (; e + L <= n; e += L) {
    const Vec<T> x = LoadVec(a + e);
    StoreVec(h + e, x > zero ? x : zero);
  }
  for (; e < n; ++e) h[e] = a[e] > T(0) ? a[e] : T(0);
}

// g ⊙= act'(a) and h = act(a) (as ActForward computes it) over n elements.
template <typename T>
inline void ActBackward(const T* a, T* g, T* h, int64_t n, Activation act) {
  if (act == Activation::kSilu) return SiluBackward(a, g, h, n);
  constexpr int64_t L = kLanes<T>;
  const Vec<T> zero = {}, one = zero + T(1);
  int64_t e = 0;
  for (; e + L <= n; e += L) {
    const Vec<T> x = LoadVec(a + e);
    StoreVec(g + e, LoadVec(g + e) * (x > zero ? one : zero));
    StoreVec(h + e, x > zero ? x : zero);
  }
  for (; e < n; ++e) {
    g[e] *= a[e] > T(0) ? T(1) : T(0);
    h[e] = a[e] > T(0) ? a[e] : T(0);
  }
}

}  // namespace simd
}  // namespace elm

#endif  // ELM_AUTODIFF_SIMD_ACTIVATIONS_H_
