// Google Benchmark of the simd kernels at the fused ELM's shapes (float):
//   BM_GemmPerStep      [B, K]·[K, N] per step: the first layer's memory part
//                       [B, 145]·[145, 200] style products for B = 4..16;
//   BM_SmallGemmHidden  [B, 200]·[200, 100] (the last layer, per step);
//   BM_GemmTN           a chunk's weight gradient [128, 100]ᵀ·[128, 200];
//                       (the first and this also at the LRA shapes: d_m 150,
//                       hidden 300, batch 16 and 32);
//   BM_Dot              one projected w̄ entry (H₁ = 200);
//   BM_Activations      tanh(2x/3), silu and its backward over [8, 200].
// Not run by `bazel test`: bazel run //autodiff/simd:simd_benchmark
#include <cstdint>
#include <random>
#include <vector>

#include "autodiff/simd/activations.h"
#include "autodiff/simd/gemm.h"
#include "benchmark/benchmark.h"

namespace elm {
namespace simd {
namespace {

std::vector<float> Random(int64_t n) {
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(gen);
  return v;
}

// C[m, n] = bias + A[m, k]·B[k, n] with B packed once.
void GemmShape(benchmark::State& state, bool small) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const std::vector<float> a = Random(m * k), b = Random(k * n),
                           bias = Random(n);
  std::vector<float> packed(PackedSize<float>(k, n)), c(m * n);
  const PackedB<float> pb = PackInto(packed.data(), b.data(), n, 1, k, n);
  for (auto _ : state) {
    if (small) {
      SmallGemm(m, a.data(), k, pb, c.data(), n, GemmInit::kRow, bias.data());
    } else {
      Gemm(m, a.data(), k, 1, pb, c.data(), n, GemmInit::kRow, bias.data());
    }
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * 2 * m * k * n);  // flops
}

void BM_GemmPerStep(benchmark::State& state) { GemmShape(state, false); }
BENCHMARK(BM_GemmPerStep)
    ->Args({4, 145, 200})
    ->Args({8, 145, 200})
    ->Args({16, 145, 200})
    ->Args({8, 100, 200})
    ->Args({128, 45, 200})   // a chunk's P = U·W₁ᵤᵀ
    ->Args({16, 150, 300})   // LRA (d_m 150, H 300), a thread's half batch
    ->Args({32, 150, 300})   // ... batch 32: K·W₁ₘᵀ
    ->Args({32, 300, 150});  // ... the last layer

void BM_SmallGemmHidden(benchmark::State& state) { GemmShape(state, true); }
BENCHMARK(BM_SmallGemmHidden)
    ->Args({8, 200, 100})
    ->Args({16, 200, 100})
    ->Args({8, 20, 15})
    ->Args({1, 7, 5});  // one vector wide: the direct loop

void BM_GemmTN(benchmark::State& state) {
  const int64_t r = state.range(0), m = state.range(1), n = state.range(2);
  const std::vector<float> a = Random(r * m), x = Random(r * n);
  std::vector<float> c(m * n, 0.0f), scratch(GemmTNScratch<float>(m, n));
  for (auto _ : state) {
    GemmTN(m, n, r, a.data(), m, x.data(), n, c.data(), n, scratch.data());
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * 2 * r * m * n);
}
BENCHMARK(BM_GemmTN)
    ->Args({128, 100, 200})
    ->Args({128, 200, 200})
    ->Args({128, 45, 200})
    ->Args({128, 150, 300});  // LRA: W̄₂ and W̄₁ₘᵀ over a chunk

void BM_Dot(benchmark::State& state) {
  const int64_t n = state.range(0);
  const std::vector<float> a = Random(n), b = Random(n);
  for (auto _ : state) benchmark::DoNotOptimize(Dot(a.data(), b.data(), n));
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Dot)->Arg(200)->Arg(20);

enum Kind { kTanh2Thirds, kSilu, kSiluBackward };

void BM_Activations(benchmark::State& state) {
  const int64_t n = state.range(1);
  const std::vector<float> x = Random(n);
  std::vector<float> y(n), g(n, 1.0f);
  for (auto _ : state) {
    switch (state.range(0)) {
      case kTanh2Thirds:
        TanhOf2Thirds(x.data(), y.data(), n);
        break;
      case kSilu:
        Silu(x.data(), y.data(), n);
        break;
      default:
        SiluBackward(x.data(), g.data(), y.data(), n);
        break;
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Activations)
    ->ArgNames({"kind", "n"})
    ->Args({kTanh2Thirds, 8 * 100})
    ->Args({kSilu, 8 * 200})
    ->Args({kSiluBackward, 8 * 200})
    ->Args({kSilu, 8 * 200 + 3});  // a partial last vector

}  // namespace
}  // namespace simd
}  // namespace elm
