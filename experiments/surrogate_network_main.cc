// `bazel run //experiments:surrogate_network`: a recurrent network of
// surrogate L5PC neurons (surrogate_network.h: a released NeuronIO ELM per
// neuron, Poisson background input, random delayed connections, a spike at
// each upward crossing of the spike-probability threshold), with a progress
// line and a self-contained HTML report (raster plot, population rates, the
// per-neuron rate distribution, one neuron's soma and spike probability).
//
//   bazel run //experiments:surrogate_network -- --neurons=1000 --seconds=10
//       [--model=../shared/golden/pretrained/num_memory_15/neuronio_best_model_state.pt]
//       [--output=surrogate_network.html] [--threads=2] [--seed=1]
//       [--in_degree=200] [--inhibitory_fraction=0.2] [--delay_min_ms=1]
//       [--delay_max_ms=5] [--spike_threshold=0.5] [--exc_per_ms=8]
//       [--inh_per_ms=6] [--raster_ms=2000]
//
// Relative paths are taken from the directory `bazel run` was started in (the
// default --model assumes the repository root, with ../shared beside it).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/user_path.h"
#include "elm/model_file.h"
#include "experiments/report/report.h"
#include "experiments/report/svg_plot.h"
#include "experiments/surrogate_network.h"
#include "gflags/gflags.h"

DEFINE_string(
    model,
    "../shared/golden/pretrained/num_memory_15/neuronio_best_model_state.pt",
    "the NeuronIO ELM (.pt with model_config.json beside it, or .ckpt)");
DEFINE_string(output, "surrogate_network.html", "the HTML report to write");
DEFINE_int64(neurons, 1000, "number of neurons");
DEFINE_double(seconds, 10, "simulated time in seconds");
DEFINE_int32(threads, 2, "threads");
DEFINE_uint64(seed, 1, "seed of the connectivity and the background input");
DEFINE_int64(in_degree, 200, "recurrent connections per neuron");
DEFINE_double(inhibitory_fraction, 0.2, "fraction of inhibitory neurons");
DEFINE_int32(delay_min_ms, 1, "shortest connection delay (ms)");
DEFINE_int32(delay_max_ms, 5, "longest connection delay (ms)");
DEFINE_double(spike_threshold, 0.5,
              "a spike when the spike probability crosses this upwards");
DEFINE_double(exc_per_ms, 8, "background excitatory spikes per ms per neuron");
DEFINE_double(inh_per_ms, 6, "background inhibitory spikes per ms per neuron");
DEFINE_double(modulation_ms, 100,
              "background rates fluctuate: a new exponential(mean 1) factor "
              "per neuron every this many ms (0: stationary)");
DEFINE_double(warmup_ms, 100, "no spikes are emitted in the first ms");
DEFINE_int64(raster_ms, 2000, "length of the raster window (ms)");

namespace elm {
namespace {

std::string Hz(double v) { return absl::StrFormat("%.2f Hz", v); }

int Main() {
  const std::string model_path = ResolveUserPath(FLAGS_model);
  absl::StatusOr<ElmModel<float>> model = LoadElmModelFile<float>(model_path);
  if (!model.ok()) {
    std::fprintf(stderr,
                 "surrogate_network: cannot load the model: %s\n"
                 "Pass --model=<neuronio_best_model_state.pt of a released "
                 "model> (the default is the released num_memory_15 in "
                 "../shared/golden/pretrained, relative to the directory "
                 "bazel run was started in).\n",
                 std::string(model.status().message()).c_str());
    return 1;
  }
  SurrogateNetworkConfig c;
  c.neurons = FLAGS_neurons;
  c.seconds = FLAGS_seconds;
  c.threads = FLAGS_threads;
  c.seed = FLAGS_seed;
  c.in_degree = FLAGS_in_degree;
  c.inhibitory_fraction = FLAGS_inhibitory_fraction;
  c.delay_min_ms = FLAGS_delay_min_ms;
  c.delay_max_ms = FLAGS_delay_max_ms;
  c.spike_threshold = FLAGS_spike_threshold;
  c.background.exc_per_ms = FLAGS_exc_per_ms;
  c.background.inh_per_ms = FLAGS_inh_per_ms;
  c.record_steps = FLAGS_raster_ms;
  c.modulation_ms = FLAGS_modulation_ms;
  c.warmup_ms = FLAGS_warmup_ms;
  const int64_t total = static_cast<int64_t>(
      std::llround(FLAGS_seconds * 1000 / model->config().delta_t()));
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<SurrogateNetworkResult> r =
      SimulateSurrogateNetwork(*model, c, [&](int64_t done) {
        if (done % 500 != 0 && done != total) return;
        const double wall = std::chrono::duration<double>(
                                std::chrono::steady_clock::now() - start)
                                .count();
        std::fprintf(stderr,
                     "\rsimulated %.1f / %.1f s in %.1f s (%.0f neuron-s/s)",
                     done * 1e-3, total * 1e-3, wall,
                     c.neurons * done * 1e-3 / std::max(wall, 1e-9));
      });
  std::fprintf(stderr, "\n");
  if (!r.ok()) {
    std::fprintf(stderr, "surrogate_network: %s\n",
                 std::string(r.status().message()).c_str());
    return 1;
  }
  const int64_t N = c.neurons, n_exc = r->num_excitatory;
  const double sim_s = r->steps * r->dt_ms * 1e-3;
  // Rates.
  std::vector<double> rate(N);
  double exc_sum = 0, inh_sum = 0;
  int64_t silent = 0;
  for (int64_t i = 0; i < N; ++i) {
    rate[i] = r->spike_count[i] / sim_s;
    (i < n_exc ? exc_sum : inh_sum) += rate[i];
    silent += r->spike_count[i] == 0;
  }
  const double exc_rate = n_exc > 0 ? exc_sum / n_exc : 0;
  const double inh_rate = N > n_exc ? inh_sum / (N - n_exc) : 0;
  std::vector<double> sorted = rate;
  std::sort(sorted.begin(), sorted.end());
  const double median_rate = sorted[N / 2];
  const double speed = N * sim_s / r->wall_seconds;
  std::printf(
      "%lld neurons, %.1f s simulated in %.2f s (%.0f neuron-seconds per "
      "second); %zu spikes; mean rate %.2f Hz excitatory, %.2f Hz "
      "inhibitory\n",
      static_cast<long long>(N), sim_s, r->wall_seconds, speed,
      r->spikes.size(), exc_rate, inh_rate);

  ReportContent report;
  report.title = "Surrogate L5PC network";
  report.subtitle = absl::StrCat(N, " ELM neurons (", model_path, "), ",
                                 absl::StrFormat("%.1f", sim_s),
                                 " s simulated, Δt = ", r->dt_ms, " ms");
  report.summary = {
      {"neurons", absl::StrCat(N, " (", n_exc, " excitatory, ", N - n_exc,
                               " inhibitory)")},
      {"simulated time", absl::StrFormat("%.1f s", sim_s)},
      {"wall time",
       absl::StrFormat("%.2f s (%d threads)", r->wall_seconds, c.threads)},
      {"speed", absl::StrFormat("%.0f neuron-seconds per second", speed)},
      {"spikes", absl::StrCat(r->spikes.size())},
      {"mean rate, excitatory", Hz(exc_rate)},
      {"mean rate, inhibitory", Hz(inh_rate)},
      {"median rate", Hz(median_rate)},
      {"silent neurons", absl::StrCat(silent)},
      {"spike rule", absl::StrFormat("spike probability crosses %.3g upwards",
                                     c.spike_threshold)},
      {"background",
       absl::StrFormat("Poisson, %.3g exc + %.3g inh spikes/ms",
                       c.background.exc_per_ms, c.background.inh_per_ms)},
      {"rate fluctuations",
       c.modulation_ms > 0
           ? absl::StrFormat("exponential factor per neuron every %g ms",
                             c.modulation_ms)
           : std::string("none (stationary)")},
      {"warm-up", absl::StrFormat("%g ms without spikes", c.warmup_ms)},
      {"connections",
       absl::StrFormat("%d in per neuron, delays %d-%d ms", c.in_degree,
                       c.delay_min_ms, c.delay_max_ms)},
  };

  // Raster (with the recorded neuron's traces) over the first window.
  TracePlot raster;
  raster.title = absl::StrFormat("Spikes of all neurons, first %.0f ms",
                                 std::min<double>(FLAGS_raster_ms, r->steps));
  raster.num_channels = static_cast<int>(N);
  raster.num_excitatory = static_cast<int>(n_exc);
  raster.raster_label = "neuron";
  raster.raster_rows = "neurons";
  raster.soma_true_name = "";
  raster.soma_pred_name = "soma of neuron 0 (mV re −67.7 mV)";
  raster.spike_prob_name = "spike probability of neuron 0";
  raster.spike_steps_name = "its spikes";
  raster.ms_per_step = r->dt_ms;
  for (const auto& s : r->spikes) {
    if (s.first >= FLAGS_raster_ms) break;
    raster.raster.push_back(s);
    if (s.second == 0) raster.spike_steps.push_back(s.first);
  }
  raster.soma_pred_mv = r->soma_mv;
  raster.spike_prob = r->spike_prob;
  report.figures.push_back(
      {"Raster: each spike (upward threshold crossing) of every neuron; below, "
       "neuron 0's predicted soma voltage and spike probability.",
       RenderTracePlot(raster), true});

  // Population rates in 10 ms bins.
  const int64_t bin = std::max<int64_t>(1, std::llround(10 / r->dt_ms));
  const int64_t bins = (r->steps + bin - 1) / bin;
  std::vector<double> exc_bins(bins, 0), inh_bins(bins, 0);
  for (const auto& [step, neuron] : r->spikes)
    (neuron < n_exc ? exc_bins : inh_bins)[step / bin] += 1;
  LinePlot pop_rate;
  pop_rate.title = "Population rate (10 ms bins)";
  pop_rate.x_label = "time (s)";
  pop_rate.y_label = "rate per neuron (Hz)";
  pop_rate.width = 1160;
  PlotSeries exc_s{"excitatory"}, inh_s{"inhibitory"};
  const double bin_s = bin * r->dt_ms * 1e-3;
  for (int64_t b = 0; b < bins; ++b) {
    const double x = b * bin_s;
    exc_s.x.push_back(x);
    exc_s.y.push_back(n_exc > 0 ? exc_bins[b] / (n_exc * bin_s) : 0);
    inh_s.x.push_back(x);
    inh_s.y.push_back(N > n_exc ? inh_bins[b] / ((N - n_exc) * bin_s) : 0);
  }
  exc_s.color = "#d62728";
  inh_s.color = "#1f77b4";
  pop_rate.series = {exc_s, inh_s};
  report.figures.push_back(
      {"Mean firing rate of the excitatory and the "
       "inhibitory neurons over time.",
       RenderLinePlot(pop_rate), true});

  // Distribution of the neurons' rates.
  // Bins of a whole number of spikes per run (rates are multiples of
  // 1 / sim_s), about 40 of them.
  const int64_t max_count = std::max<int64_t>(
      1, static_cast<int64_t>(std::llround(sorted.back() * sim_s)));
  const int64_t per_bin = (max_count + 39) / 40;
  const int kBins = static_cast<int>(max_count / per_bin + 1);
  std::vector<double> hist(kBins, 0);
  for (int64_t i = 0; i < N; ++i) hist[r->spike_count[i] / per_bin] += 1;
  LinePlot dist;
  dist.title = "Firing-rate distribution";
  dist.x_label = "rate (Hz)";
  dist.y_label = "neurons";
  PlotSeries h{"neurons per rate bin"};
  for (int b = 0; b < kBins; ++b) {
    h.x.push_back((b * per_bin + 0.5 * (per_bin - 1)) / sim_s);
    h.y.push_back(hist[b]);
  }
  h.markers = true;
  dist.series = {h};
  report.figures.push_back(
      {"How many neurons fire at each rate (over the whole run).",
       RenderLinePlot(dist)});

  ReportTable table;
  table.caption = "Rates per population";
  table.header = {"population", "neurons", "mean (Hz)", "silent"};
  int64_t silent_exc = 0;
  for (int64_t i = 0; i < n_exc; ++i) silent_exc += r->spike_count[i] == 0;
  table.rows = {
      {"excitatory", absl::StrCat(n_exc), absl::StrFormat("%.3f", exc_rate),
       absl::StrCat(silent_exc)},
      {"inhibitory", absl::StrCat(N - n_exc), absl::StrFormat("%.3f", inh_rate),
       absl::StrCat(silent - silent_exc)}};
  report.tables.push_back(table);
  report.footer = "bazel run //experiments:surrogate_network";

  const std::string out = ResolveUserPath(FLAGS_output);
  const absl::Status written = WriteReportHtml(out, report);
  if (!written.ok()) {
    std::fprintf(stderr, "surrogate_network: %s\n",
                 std::string(written.message()).c_str());
    return 1;
  }
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

}  // namespace
}  // namespace elm

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "--neurons=1000 --seconds=10 [--model=<.pt>] [--output=<report.html>] "
      "(see the file for all flags)");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return elm::Main();
}
