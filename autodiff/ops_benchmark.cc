// Benchmarks of the hot primitive ops in float: a Linear layer + tanh forward
// and backward at batch × feature shapes [8..64 × 30..200], and the linear scan
// forward and backward at T = 500..5000 (B = 8, D = 45, the Branch-ELM branch
// count). Run optimized:
//   bazel run //autodiff:ops_benchmark
#include <vector>

#include "autodiff/ops.h"
#include "autodiff/params.h"
#include "autodiff/scan.h"
#include "benchmark/benchmark.h"

namespace elm {
namespace {

// x [B, F] → tanh(x Wᵀ + b) [B, F] → sum; forward, then backward into a
// GradBlock.
void BM_LinearTanhForwardBackward(benchmark::State& state) {
  const int64_t batch = state.range(0);
  const int64_t features = state.range(1);
  ParamSet<float> params;
  const int w = params.Add("w", features, features);
  const int b = params.Add("b", 1, features);
  Rng rng(1);
  params.ForEach(
      [&](const ParamInfo&, View<float> v) { FillUniform(v, -0.1, 0.1, rng); });
  GradBlock<float> grads(params);
  std::vector<float> x(batch * features);
  for (float& v : x) v = static_cast<float>(rng.Uniform(-1, 1));
  Tape<float> tape;
  for (auto _ : state) {
    tape.Reset();
    Var<float> in = tape.Constant(x.data(), batch, features);
    Var<float> h = Tanh(tape, Linear(tape, in, params.OnTape(tape, w, &grads),
                                     params.OnTape(tape, b, &grads)));
    Var<float> loss = SumAll(tape, h);
    tape.Backward(loss);
    benchmark::DoNotOptimize(grads.data());
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_LinearTanhForwardBackward)
    ->ArgsProduct({{8, 32, 64}, {30, 100, 200}})
    ->ArgNames({"B", "F"});

// Linear scan over [B·T, D] with a learnable decay; forward then backward.
void BM_LinearScanForwardBackward(benchmark::State& state) {
  const int64_t steps = state.range(0);
  const int64_t batch = 8, d = 45;
  Rng rng(2);
  std::vector<float> a(d), u(batch * steps * d), a_grad(d);
  for (float& v : a) v = static_cast<float>(rng.Uniform(0.5, 0.99));
  for (float& v : u) v = static_cast<float>(rng.Uniform(-1, 1));
  Tape<float> tape;
  for (auto _ : state) {
    tape.Reset();
    Var<float> decay = tape.External(a.data(), a_grad.data(), 1, d);
    Var<float> y = LinearScan(tape, decay,
                              tape.Constant(u.data(), batch * steps, d), steps);
    tape.Backward(SumAll(tape, y));
    benchmark::DoNotOptimize(a_grad.data());
  }
  state.SetItemsProcessed(state.iterations() * batch * steps);
}
BENCHMARK(BM_LinearScanForwardBackward)
    ->Arg(500)
    ->Arg(2000)
    ->Arg(5000)
    ->ArgName("T");

// Forward only (evaluation path), no tape records.
void BM_LinearScanForward(benchmark::State& state) {
  const int64_t steps = state.range(0);
  const int64_t batch = 8, d = 45;
  Rng rng(3);
  std::vector<float> a(d), u(batch * steps * d), y(batch * steps * d);
  for (float& v : a) v = static_cast<float>(rng.Uniform(0.5, 0.99));
  for (float& v : u) v = static_cast<float>(rng.Uniform(-1, 1));
  for (auto _ : state) {
    LinearScanForward<float>(a.data(), {u.data(), batch * steps, d}, nullptr,
                             steps, {y.data(), batch * steps, d});
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * batch * steps);
}
BENCHMARK(BM_LinearScanForward)->Arg(500)->Arg(5000)->ArgName("T");

}  // namespace
}  // namespace elm
