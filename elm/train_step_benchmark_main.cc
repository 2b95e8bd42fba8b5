// `bazel run //elm:train_step_benchmark`: times one training step (fused
// forward over T, the loss, backward, Adam update) of the configurations of the
// fused-path issue, each in its own process, and prints one JSON object per
// line:
//   {"config", "T", "B", "threads", "median_step_s", "min_step_s",
//   "max_step_s", "median_cpu_s", "peak_rss_mib"}
// (median_cpu_s: the median step's CPU time summed over the process's
// threads; less sensitive to a shared machine's load than wall time).
// Inputs are sparse ±1 spikes at 1% density (CSR). With 2 threads the batch is
// split in two halves on a thread pool, one tape and gradient block each,
// summed before the Adam step. Flags: --config=<name> --steps=<T> --threads=<n>
// run one configuration in this process; --block_steps, --checkpoint_every and
// --memory_budget_mib set the fused unroll's FusedElmOptions (fused_unroll.h)
// and are then echoed in the JSON line.
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
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

namespace elm {
namespace {

struct BenchConfig {
  std::string name;
  int batch;
  std::vector<int> steps;
  std::vector<int> threads;
};

const std::vector<BenchConfig>& Configs() {
  static const auto* configs = new std::vector<BenchConfig>{
      {"branch_dm15", 8, {500, 2000}, {1, 2}},
      {"branch_dm100_silu", 8, {500}, {1, 2}},
      {"plain_dm100", 8, {500}, {1, 2}},
      {"shd_like", 32, {250}, {1, 2}},
      {"tiny", 1, {1000}, {1}},
  };
  return *configs;
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
  const bool classify = model->shape().num_output != 2;
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
      for (int c = 0; c < n_in; ++c) {
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
      sh.labels.push_back(static_cast<int64_t>(rng.UniformInt(20)));
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
  const int repeats =
      FLAGS_repeats > 0 ? FLAGS_repeats : std::max(5, 20000 / steps);
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
  std::printf(
      "{\"config\": \"%s\", \"T\": %d, \"B\": %d, \"threads\": %d, "
      "\"median_step_s\": %.6f, "
      "\"min_step_s\": %.6f, \"max_step_s\": %.6f, \"median_cpu_s\": %.6f, "
      "\"peak_rss_mib\": %.1f%s}\n",
      name.c_str(), steps, B, threads, times[times.size() / 2], times.front(),
      times.back(), cpu_times[cpu_times.size() / 2], PeakRssMib(),
      extra.c_str());
  return 0;
}

}  // namespace
}  // namespace elm

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (!FLAGS_config.empty())
    return elm::RunOne(FLAGS_config, FLAGS_steps, FLAGS_threads);
  // Every configuration in its own process, so that peak RSS is per
  // configuration.
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  CHECK_GT(n, 0);
  self[n] = '\0';
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
