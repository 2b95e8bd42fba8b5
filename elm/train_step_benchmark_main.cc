// `bazel run //elm:train_step_benchmark`: times one training step (fused
// forward over T, the loss, backward, Adam update) of the configurations of the
// fused-path issue, each in its own process, and prints one JSON object per
// line:
//   {"config", "T", "B", "threads", "median_step_s", "min_step_s",
//   "max_step_s", "median_cpu_s", "peak_rss_mib", "mlp_gflop",
//   "mlp_gflops_per_s"}
// (median_cpu_s: the median step's CPU time summed over the process's
// threads; less sensitive to a shared machine's load than wall time;
// mlp_gflop: the MLP's multiply-adds of the step, forward and both backward
// products, 3 · 2 · B · T · (in·H + (L − 1)·H² + H·d_m), and mlp_gflops_per_s
// that over the median step time: what share of the FMA peak the step reaches;
// mlp_gflops_per_cpu_s: over the median CPU time, times the threads, i.e. what
// the step would reach on idle cores; compare with fma_peak's
// median_gflops_per_cpu_s, which is measured the same way).
// Configurations: the NeuronIO/SHD shapes of the fused-path issue and the LRA
// shapes (App. B / Table S2, d_m 150, MLP hidden 300, one-hot inputs):
// ListOps (16 tokens, T 2,000, batch 32 and the paper's 384), Pathfinder (16
// grey bins, T 1,024), pixel images (16 grey bins, T 784, 10 classes) and
// Path-X (8 grey bins, T 16,384, batch 16, τ_s 150, τ_m up to 2e4).
// Before them, `fma_peak` lines give the machine's peak: GFLOP/s of a
// register-resident FMA loop in the widest vectors the build targets
// (AVX-512, else AVX2/FMA, else scalar; AVX-512 builds add a 256-bit line),
// on 1 and 2 threads (`--fma_peak` alone runs only those).
// Inputs are sparse ±1 spikes at 1% density (CSR), or one-hot (one random
// channel per step) for the LRA shapes. With 2 threads the batch is
// split in two halves on a thread pool, one tape and gradient block each,
// summed before the Adam step. Flags: --config=<name> --steps=<T> --threads=<n>
// run one configuration in this process; --block_steps, --checkpoint_every and
// --memory_budget_mib set the fused unroll's FusedElmOptions (fused_unroll.h)
// and are then echoed in the JSON line.
#include <immintrin.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "autodiff/ops.h"
#include "autodiff/optimizer.h"
#include "base/rng.h"
#include "base/thread_pool.h"
#include "elm/heads.h"
#include "elm/model.h"
#include "gflags/gflags.h"
#include "glog/logging.h"

DEFINE_string(config, "",
              "run one configuration (empty: all, each in its own process)");
DEFINE_int32(steps, 500, "sequence length T");
DEFINE_int32(threads, 1, "threads splitting the batch");
DEFINE_int32(repeats, 0, "timed steps (0: chosen from the config)");
DEFINE_int64(block_steps, 0, "FusedElmOptions::block_steps (0: automatic)");
DEFINE_int64(checkpoint_every, 0,
             "FusedElmOptions::checkpoint_every (0: full storage)");
DEFINE_int64(memory_budget_mib, 0,
             "FusedElmOptions::memory_budget_bytes in MiB (0: none)");
DEFINE_bool(fma_peak, false, "only measure the FMA peak (1 and 2 threads)");

namespace elm {
namespace {

struct BenchConfig {
  std::string name;
  int batch;
  std::vector<int> steps;
  std::vector<int> threads;
  bool classify = false;  // class labels and cross-entropy on the last step
  bool one_hot = false;   // one-hot inputs (else sparse ±1 spikes)
  int repeats = 0;        // timed steps (0: max(5, 20000 / T))
};

const std::vector<BenchConfig>& Configs() {
  static const auto* configs = new std::vector<BenchConfig>{
      {"branch_dm15", 8, {500, 2000}, {1, 2}},
      {"branch_dm100_silu", 8, {500}, {1, 2}},
      {"plain_dm100", 8, {500}, {1, 2}},
      {"shd_like", 32, {250}, {1, 2}, /*classify=*/true},
      {"tiny", 1, {1000}, {1}},
      {"listops_dm150", 32, {2000}, {1, 2}, true, /*one_hot=*/true},
      {"listops_dm150_b384", 384, {2000}, {2}, true, true, /*repeats=*/3},
      {"pathfinder_dm150", 32, {1024}, {1, 2}, true, true},
      {"pixel_image_dm150", 32, {784}, {1, 2}, true, true},
      {"path_x_dm150", 16, {16384}, {1, 2}, true, true, /*repeats=*/3},
  };
  return *configs;
}

// ---- FMA peak ----

// The FMA loop's vectors: FmaVec<bits> for 512 (AVX-512), 256 (FMA) and 32
// (scalar), where the build targets them.
template <int kBits>
struct FmaVec;
#if defined(__AVX512F__)
template <>
struct FmaVec<512> {
  using V = __m512;
  static V Set1(float x) { return _mm512_set1_ps(x); }
  static V Fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static float Lane0(V v) { return _mm512_cvtss_f32(v); }
};
#endif
#if defined(__FMA__)
template <>
struct FmaVec<256> {
  using V = __m256;
  static V Set1(float x) { return _mm256_set1_ps(x); }
  static V Fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static float Lane0(V v) { return _mm256_cvtss_f32(v); }
};
#endif
template <>
struct FmaVec<32> {
  using V = float;
  static V Set1(float x) { return x; }
  static V Fma(V a, V b, V c) { return a * b + c; }
  static float Lane0(V v) { return v; }
};

// GFLOP/s of `threads` threads each running independent FMA chains of
// kBits-bit vectors held in registers (enough chains to cover the FMA
// latency on two ports). *gflops_per_cpu_s: the same per CPU-second of each
// thread, times the threads (what the threads would reach on idle cores).
template <int kBits>
double FmaPeakGflops(int threads, double* gflops_per_cpu_s) {
  using F = FmaVec<kBits>;
  using V = typename F::V;
  constexpr int kChains = 12;
  constexpr int64_t kIterations = 40'000'000;
  constexpr int kLanes = kBits / 32;
  std::vector<float> sink(threads);
  std::vector<double> cpu(threads);
  auto body = [&](int t) {
    timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    // The chains' loops unrolled completely, so that the chains live in
    // registers (else GCC keeps acc in memory and the loop measures store
    // forwarding: about a third of the FMA rate).
    V acc[kChains];
#pragma GCC unroll 16
    for (int j = 0; j < kChains; ++j) acc[j] = F::Set1(1.0f + 0.01f * j + t);
    const V a = F::Set1(0.999999f), b = F::Set1(1e-6f);
    for (int64_t i = 0; i < kIterations; ++i) {
#pragma GCC unroll 16
      for (int j = 0; j < kChains; ++j) acc[j] = F::Fma(acc[j], a, b);
    }
    float s = 0;
    for (int j = 0; j < kChains; ++j) s += F::Lane0(acc[j]);
    sink[t] = s;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    cpu[t] = (c1.tv_sec - c0.tv_sec) + 1e-9 * (c1.tv_nsec - c0.tv_nsec);
  };
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) workers.emplace_back(body, t);
  for (std::thread& w : workers) w.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  CHECK(sink[0] != 12345.0f);  // keeps the loop's result alive
  const double gflop = 2.0 * kLanes * kChains * kIterations * threads * 1e-9;
  double cpu_seconds = 0;
  for (double c : cpu) cpu_seconds += c;
  *gflops_per_cpu_s = gflop / cpu_seconds * threads;
  return gflop / seconds;
}

template <int kBits>
void PrintFmaPeakOf() {
  for (int threads : {1, 2}) {
    std::vector<double> runs, per_cpu;
    for (int i = 0; i < 3; ++i) {
      double c = 0;
      runs.push_back(FmaPeakGflops<kBits>(threads, &c));
      per_cpu.push_back(c);
    }
    std::sort(runs.begin(), runs.end());
    std::sort(per_cpu.begin(), per_cpu.end());
    std::printf(
        "{\"config\": \"fma_peak\", \"vector_bits\": %d, \"threads\": %d, "
        "\"median_gflops_per_s\": %.1f, \"max_gflops_per_s\": %.1f, "
        "\"median_gflops_per_cpu_s\": %.1f}\n",
        kBits, threads, runs[1], runs[2], per_cpu[1]);
    std::fflush(stdout);
  }
}

// The widest vectors the build targets, then (AVX-512 builds) 256-bit ones:
// on CPUs that split 512-bit FMAs in two halves (AMD Zen 4) both give the
// same GFLOP/s.
void PrintFmaPeak() {
#if defined(__AVX512F__)
  PrintFmaPeakOf<512>();
  PrintFmaPeakOf<256>();
#elif defined(__FMA__)
  PrintFmaPeakOf<256>();
#else
  PrintFmaPeakOf<32>();
#endif
}

ElmConfig ModelConfig(const std::string& name) {
  ElmConfig c;
  c.set_num_output(2);
  c.set_memory_tau_max(150);
  if (name == "branch_dm15" || name == "branch_dm100_silu") {
    c.set_num_input(1278);
    c.set_num_branch(45);
    c.set_num_synapse_per_branch(100);
    c.set_input_to_synapse_routing("neuronio_routing");
    c.set_num_memory(name == "branch_dm15" ? 15 : 100);
    if (name == "branch_dm100_silu") c.set_mlp_activation("silu");
  } else if (name == "plain_dm100") {
    c.set_num_input(1278);
    c.set_num_memory(100);
  } else if (name == "shd_like") {
    c.set_num_input(700);
    c.set_num_output(20);
    c.set_num_memory(100);
    c.set_memory_tau_max(500);
    c.set_delta_t(4);
  } else if (name == "listops_dm150" || name == "listops_dm150_b384" ||
             name == "pathfinder_dm150" || name == "pixel_image_dm150") {
    // LRA (App. B / Table S2): d_m 150, MLP hidden 2·d_m = 300, τ_s 5, one-hot
    // inputs (ListOps: our 16 tokens; images: 16 grey bins).
    c.set_num_input(16);
    c.set_num_memory(150);
    c.set_num_output(name == "pathfinder_dm150" ? 2 : 10);
    c.set_memory_tau_max(
        name == "pathfinder_dm150" || name == "pixel_image_dm150" ? 1000
                                                                  : 2000);
  } else if (name == "path_x_dm150") {
    // Path-X (App. B / Table S2): d_m 150, 8 grey bins, tau_s 150 ms,
    // tau_m 1..2e4 ms, 2 classes, T 16,384 (128x128).
    c.set_num_input(8);
    c.set_num_memory(150);
    c.set_num_output(2);
    c.set_tau_s_value(150);
    c.set_memory_tau_max(20000);
  } else if (name == "tiny") {
    c.set_num_input(6);
    c.set_num_memory(4);
  } else {
    LOG(FATAL) << "unknown config " << name;
  }
  return c;
}

struct Shard {
  std::vector<int64_t> row_begin;
  std::vector<int32_t> col;
  std::vector<float> val;
  std::vector<float> spike, soma;
  std::vector<int64_t> labels;
};

// CPU time of every thread of the process (on a shared machine, less
// sensitive than wall time to other processes' load).
double ProcessCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

double PeakRssMib() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

int RunOne(const std::string& name, int steps, int threads) {
  const BenchConfig* bench = nullptr;
  for (const BenchConfig& b : Configs()) {
    if (b.name == name) bench = &b;
  }
  CHECK(bench != nullptr) << "unknown config " << name;
  absl::StatusOr<ElmModel<float>> model =
      ElmModel<float>::Create(ModelConfig(name), 1);
  CHECK(model.ok()) << model.status();
  FusedElmOptions options;
  options.block_steps = FLAGS_block_steps;
  options.checkpoint_every = FLAGS_checkpoint_every;
  options.memory_budget_bytes = FLAGS_memory_budget_mib << 20;
  model->set_fused_options(options);
  const int n_in = model->shape().num_input;
  const bool classify = bench->classify;
  const int n_out = model->shape().num_output;
  const int B = bench->batch;
  threads = std::max(1, std::min(threads, B));
  // Shards of the batch, one per thread, each a CSR batch of sparse ±1 spikes
  // at 1%.
  Rng rng(7);
  std::vector<Shard> shards(threads);
  for (int s = 0; s < threads; ++s) {
    const int b = B / threads + (s < B % threads ? 1 : 0);
    Shard& sh = shards[s];
    sh.row_begin.push_back(0);
    for (int64_t r = 0; r < int64_t{b} * steps; ++r) {
      if (bench->one_hot) {
        sh.col.push_back(static_cast<int32_t>(rng.UniformInt(n_in)));
        sh.val.push_back(1.0f);
      }
      for (int c = 0; c < n_in && !bench->one_hot; ++c) {
        if (rng.Uniform() < 0.01) {
          sh.col.push_back(c);
          sh.val.push_back(c < n_in / 2 ? 1.0f : -1.0f);
        }
      }
      sh.row_begin.push_back(static_cast<int64_t>(sh.col.size()));
      sh.spike.push_back(rng.Uniform() < 0.002 ? 1.0f : 0.0f);
      sh.soma.push_back(static_cast<float>(rng.Uniform(0, 1.3)));
    }
    for (int i = 0; i < b; ++i)
      sh.labels.push_back(static_cast<int64_t>(rng.UniformInt(n_out)));
  }
  std::vector<Tape<float>> tapes(threads);
  std::vector<GradBlock<float>> grads(threads,
                                      GradBlock<float>(model->params()));
  Adam<float> adam(5e-4);

  auto shard_step = [&](int s) {
    Shard& sh = shards[s];
    Tape<float>& tape = tapes[s];
    tape.Reset();
    const int64_t rows = static_cast<int64_t>(sh.row_begin.size()) - 1;
    CsrView x{sh.row_begin.data(), sh.col.data(), sh.val.data(), rows, n_in};
    Var<float> y = model->FusedUnroll(tape, x, steps, &grads[s]);
    Var<float> loss;
    if (classify) {
      loss = SoftmaxCrossEntropy<float>(
          tape, ClassReadout(tape, y, steps, Readout::kLastStep), sh.labels);
    } else {
      loss = NeuronioLoss(tape, y, tape.Constant(sh.spike.data(), rows, 1),
                          tape.Constant(sh.soma.data(), rows, 1));
    }
    tape.Backward(loss);
  };
  ThreadPool pool(threads);
  auto step = [&] {
    pool.Run(threads, shard_step);
    for (int s = 1; s < threads; ++s) grads[0].Add(grads[s]);
    adam.Step(model->params().data(), grads[0].data(),
              model->params().num_trainable_elements());
    for (GradBlock<float>& g : grads) g.Zero();
  };
  for (int i = 0; i < 3; ++i)
    step();  // warm-up: arena and optimizer state sized
  const int repeats = FLAGS_repeats > 0    ? FLAGS_repeats
                      : bench->repeats > 0 ? bench->repeats
                                           : std::max(5, 20000 / steps);
  std::vector<double> times, cpu_times;
  for (int i = 0; i < repeats; ++i) {
    const double cpu_start = ProcessCpuSeconds();
    const auto start = std::chrono::steady_clock::now();
    step();
    times.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count());
    cpu_times.push_back(ProcessCpuSeconds() - cpu_start);
  }
  std::sort(times.begin(), times.end());
  std::sort(cpu_times.begin(), cpu_times.end());
  std::string extra;
  if (FLAGS_block_steps != 0 || FLAGS_checkpoint_every != 0 ||
      FLAGS_memory_budget_mib != 0) {
    extra = absl::StrCat(", \"block_steps\": ", FLAGS_block_steps,
                         ", \"checkpoint_every\": ", FLAGS_checkpoint_every,
                         ", \"memory_budget_mib\": ", FLAGS_memory_budget_mib);
  }
  // The MLP's FLOPs: forward, input gradient and weight gradient products.
  const ElmShape& shape = model->shape();
  const double H = shape.mlp_hidden_size;
  const double mlp_macs_per_row = shape.mlp_input_size * H +
                                  (shape.mlp_num_layers - 1) * H * H +
                                  H * shape.num_memory;
  const double mlp_gflop =
      3 * 2 * mlp_macs_per_row * static_cast<double>(B) * steps * 1e-9;
  const double median = times[times.size() / 2];
  std::printf(
      "{\"config\": \"%s\", \"T\": %d, \"B\": %d, \"threads\": %d, "
      "\"median_step_s\": %.6f, "
      "\"min_step_s\": %.6f, \"max_step_s\": %.6f, \"median_cpu_s\": %.6f, "
      "\"peak_rss_mib\": %.1f, \"mlp_gflop\": %.3f, "
      "\"mlp_gflops_per_s\": %.2f, \"mlp_gflops_per_cpu_s\": %.2f%s}\n",
      name.c_str(), steps, B, threads, median, times.front(), times.back(),
      cpu_times[cpu_times.size() / 2], PeakRssMib(), mlp_gflop,
      mlp_gflop / median, mlp_gflop / cpu_times[cpu_times.size() / 2] * threads,
      extra.c_str());
  return 0;
}

}  // namespace
}  // namespace elm

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (FLAGS_fma_peak) {
    elm::PrintFmaPeak();
    return 0;
  }
  if (!FLAGS_config.empty())
    return elm::RunOne(FLAGS_config, FLAGS_steps, FLAGS_threads);
  // Every configuration in its own process, so that peak RSS is per
  // configuration.
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  CHECK_GT(n, 0);
  self[n] = '\0';
  elm::PrintFmaPeak();
  for (const elm::BenchConfig& b : elm::Configs()) {
    for (int steps : b.steps) {
      for (int threads : b.threads) {
        const std::string cmd =
            absl::StrCat(self, " --config=", b.name, " --steps=", steps,
                         " --threads=", threads);
        std::fflush(stdout);
        if (std::system(cmd.c_str()) != 0) {
          std::fprintf(stderr, "failed: %s\n", cmd.c_str());
          return 1;
        }
      }
    }
  }
  return 0;
}
