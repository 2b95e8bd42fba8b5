// `bazel run //elm:population_benchmark`: how fast ElmPopulation
// (population.h) simulates surrogate neurons, in neuron-seconds simulated per
// wall-clock second (Δt = 1 ms: 1000 steps are one simulated second), for
// released NeuronIO models at NeuronIO-like input rates (PoissonInput: 8
// excitatory and 6 inhibitory spikes per ms per neuron), for each population
// size and thread count, with the process's peak resident memory.
//
//   bazel run //elm:population_benchmark --
//   [--models=num_memory_15,best_elm_neuron]
//       [--pretrained=../shared/golden/pretrained] [--neurons=1,100,10000]
//       [--threads=1,2] [--repeats=5] [--work=4e9] [--project_first_layer=true]
//
// --models are folder names under --pretrained (each holding
// neuronio_best_model_state.pt and model_config.json) or paths of .pt files;
// relative paths are taken from the directory `bazel run` was started in (the
// default assumes the repository root). A run steps the population
// max(100, min(20000, work / (N · flops))) times, flops being the model's
// multiply-adds per neuron-step in the exact order (printed; the projected
// first layer does fewer, see population.h), so that every run takes similar
// time; the input of 16 steps is generated beforehand and cycled (the timed
// loop is the steps alone). Each configuration runs --repeats times; printed
// are the min, median and max of neuron-seconds per second, the median's
// multiply-adds per second, the median neuron-seconds per CPU-second of the
// process (all threads: on a machine shared with other jobs the wall-clock
// rate understates what the cores deliver), and the peak RSS (VmHWM, reset
// before the population is created: the model, the state, the input ring and
// the binary). One JSON line per configuration follows the table.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/peak_memory.h"
#include "base/user_path.h"
#include "elm/model_file.h"
#include "elm/poisson_input.h"
#include "elm/population.h"
#include "gflags/gflags.h"
#include "glog/logging.h"

DEFINE_string(models, "num_memory_15,best_elm_neuron",
              "model folders under --pretrained, or .pt paths");
DEFINE_string(pretrained, "../shared/golden/pretrained",
              "folder of the released models");
DEFINE_string(neurons, "1,100,10000", "population sizes");
DEFINE_string(threads, "1,2", "thread counts");
DEFINE_int32(repeats, 5, "runs per configuration");
DEFINE_double(work, 4e9, "multiply-adds per run (sets the step count)");
DEFINE_bool(project_first_layer, true,
            "PopulationOptions::project_first_layer (false: the batch "
            "forward's exact order)");

namespace elm {
namespace {

std::vector<int64_t> ParseList(const std::string& flag, const char* name) {
  std::vector<int64_t> out;
  for (absl::string_view s : absl::StrSplit(flag, ',', absl::SkipEmpty())) {
    int64_t v = 0;
    CHECK(absl::SimpleAtoi(s, &v) && v > 0)
        << "--" << name << ": bad value '" << s << "'";
    out.push_back(v);
  }
  return out;
}

// Multiply-adds per neuron-step: the MLP, the readout and the branch drive
// (one row of B_r per input spike).
double FlopsPerStep(const ElmShape& s, double spikes) {
  const double H = s.mlp_hidden_size, dm = s.num_memory;
  double f =
      s.mlp_num_layers == 0
          ? s.mlp_input_size * dm
          : s.mlp_input_size * H + (s.mlp_num_layers - 1) * H * H + H * dm;
  return f + dm * s.num_output + spikes * s.num_branch;
}

// CPU time of the process (all threads), in seconds.
double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Result {
  std::vector<double> rates;      // neuron-seconds per second, one per repeat
  std::vector<double> cpu_rates;  // neuron-seconds per CPU-second (process)
  int64_t steps = 0;
  int64_t peak_rss = 0;
};

Result Run(const ElmModel<float>& model, int64_t N, int threads,
           int64_t steps) {
  ResetPeakRss();
  Result r;
  r.steps = steps;
  absl::StatusOr<ElmPopulation<float>> pop = ElmPopulation<float>::Create(
      model, N,
      {.threads = threads, .project_first_layer = FLAGS_project_first_layer});
  CHECK(pop.ok()) << pop.status();
  // A ring of input steps (CSR over neurons).
  constexpr int kRing = 16;
  std::vector<std::vector<int64_t>> row_begin(kRing,
                                              std::vector<int64_t>(N + 1));
  std::vector<std::vector<int32_t>> col(kRing);
  PoissonInput input(PoissonRates{}, /*seed=*/17);
  for (int s = 0; s < kRing; ++s) {
    for (int64_t i = 0; i < N; ++i) {
      input.Append(&col[s]);
      row_begin[s][i + 1] = static_cast<int64_t>(col[s].size());
    }
  }
  for (int rep = 0; rep < FLAGS_repeats; ++rep) {
    pop->ResetAll();
    const double cpu_start = CpuSeconds();
    const auto start = std::chrono::steady_clock::now();
    for (int64_t t = 0; t < steps; ++t) {
      const int s = static_cast<int>(t % kRing);
      pop->StepSparse(row_begin[s].data(), col[s].data(), nullptr);
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    const double cpu = CpuSeconds() - cpu_start;
    r.rates.push_back(static_cast<double>(N) * steps * 1e-3 / secs);
    r.cpu_rates.push_back(static_cast<double>(N) * steps * 1e-3 / cpu);
  }
  r.peak_rss = PeakRss();
  return r;
}

int Main() {
  const std::vector<int64_t> neurons = ParseList(FLAGS_neurons, "neurons");
  const std::vector<int64_t> threads = ParseList(FLAGS_threads, "threads");
  CHECK_GE(FLAGS_repeats, 1);
  std::vector<std::string> json;
  std::printf("%-16s %6s %3s %6s %11s %11s %11s %9s %11s %8s\n", "model", "N",
              "thr", "steps", "min ns/s", "median ns/s", "max ns/s", "GMAC/s",
              "ns/CPU-s", "peak MB");
  for (absl::string_view name :
       absl::StrSplit(FLAGS_models, ',', absl::SkipEmpty())) {
    std::string path = std::string(name);
    if (!absl::EndsWith(path, ".pt")) {
      path = absl::StrCat(FLAGS_pretrained, "/", name,
                          "/neuronio_best_model_state.pt");
    }
    path = ResolveUserPath(path);
    absl::StatusOr<ElmModel<float>> model = LoadElmModelFile<float>(path);
    if (!model.ok()) {
      std::fprintf(stderr,
                   "population_benchmark: %s\n(pass --pretrained=<folder of "
                   "the released models> or --models=<.pt paths>)\n",
                   std::string(model.status().message()).c_str());
      return 1;
    }
    const double flops = FlopsPerStep(model->shape(), 14.0);
    for (int64_t N : neurons) {
      for (int64_t thr : threads) {
        const int64_t steps = std::max<int64_t>(
            100, std::min<int64_t>(20000, FLAGS_work / (N * flops)));
        Result r = Run(*model, N, static_cast<int>(thr), steps);
        std::vector<double> sorted = r.rates;
        std::sort(sorted.begin(), sorted.end());
        const double median = sorted[sorted.size() / 2];
        const double gmacs = median * 1e3 * flops * 1e-9;
        const double cpu_median = Median(r.cpu_rates);
        std::printf(
            "%-16s %6lld %3lld %6lld %11.4g %11.4g %11.4g %9.2f %11.4g "
            "%8.1f\n",
            std::string(name).c_str(), static_cast<long long>(N),
            static_cast<long long>(thr), static_cast<long long>(steps),
            sorted.front(), median, sorted.back(), gmacs, cpu_median,
            r.peak_rss / 1048576.0);
        std::fflush(stdout);
        json.push_back(absl::StrCat(
            "{\"model\":\"", name, "\",\"neurons\":", N, ",\"threads\":", thr,
            ",\"steps\":", r.steps, ",\"macs_per_neuron_step\":", flops,
            ",\"neuron_s_per_s_min\":", sorted.front(),
            ",\"neuron_s_per_s_median\":", median, ",\"neuron_s_per_s_max\":",
            sorted.back(), ",\"neuron_s_per_cpu_s_median\":", cpu_median,
            ",\"peak_rss_bytes\":", r.peak_rss, "}"));
      }
    }
  }
  for (const std::string& line : json) std::printf("%s\n", line.c_str());
  return 0;
}

}  // namespace
}  // namespace elm

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "[--models=a,b] [--pretrained=<dir>] [--neurons=1,100,10000] "
      "[--threads=1,2] [--repeats=5] [--work=4e9]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return elm::Main();
}
