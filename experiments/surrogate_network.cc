// SimulateSurrogateNetwork: see surrogate_network.h. The recurrent spikes
// wait in a ring of delay_max + 1 event lists (slot t mod D holds what
// arrives at step t); each step sorts its slot's events by target neuron and
// appends them to the neurons' background spikes in one CSR over neurons.
#include "experiments/surrogate_network.h"

#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/rng.h"
#include "base/status_macros.h"
#include "elm/population.h"

namespace elm {
namespace {

absl::Status CheckConfig(const ElmModel<float>& model,
                         const SurrogateNetworkConfig& c) {
  auto bad = [](const std::string& what) {
    return absl::InvalidArgumentError(
        absl::StrCat("surrogate network: ", what));
  };
  const ElmShape& s = model.shape();
  if (s.num_input != c.background.num_input || s.num_output != 2) {
    return bad(absl::StrCat("the model has ", s.num_input, " inputs and ",
                            s.num_output, " outputs; a NeuronIO model with ",
                            c.background.num_input,
                            " inputs and 2 outputs is needed"));
  }
  if (c.neurons < 2) return bad(absl::StrCat("neurons = ", c.neurons, " < 2"));
  if (!(c.seconds > 0)) return bad(absl::StrCat("seconds = ", c.seconds));
  if (!(c.inhibitory_fraction >= 0 && c.inhibitory_fraction <= 1)) {
    return bad(absl::StrCat("inhibitory_fraction = ", c.inhibitory_fraction,
                            " is not in [0, 1]"));
  }
  if (c.in_degree < 0) return bad(absl::StrCat("in_degree = ", c.in_degree));
  if (c.delay_min_ms < 1 || c.delay_max_ms < c.delay_min_ms) {
    return bad(absl::StrCat("delays [", c.delay_min_ms, ", ", c.delay_max_ms,
                            "] ms: need 1 <= delay_min <= delay_max"));
  }
  if (c.record_neuron < 0 || c.record_neuron >= c.neurons) {
    return bad(absl::StrCat("record_neuron = ", c.record_neuron));
  }
  return absl::OkStatus();
}

// The connections as outgoing lists: edge e of neuron j (e in
// [begin[j], begin[j + 1])) goes to target[e], channel[e], after delay[e]
// steps.
struct Outgoing {
  std::vector<int64_t> begin;
  std::vector<int32_t> target, channel, delay;
};

Outgoing Connect(const SurrogateNetworkConfig& c, int64_t n_exc, double dt_ms,
                 Rng& rng) {
  const int64_t N = c.neurons;
  const int32_t n_exc_ch = c.background.num_excitatory;
  const int32_t n_inh_ch = c.background.num_input - n_exc_ch;
  const int d_lo =
      std::max(1, static_cast<int>(std::lround(c.delay_min_ms / dt_ms)));
  const int d_hi =
      std::max(d_lo, static_cast<int>(std::lround(c.delay_max_ms / dt_ms)));
  struct Edge {
    int32_t pre, post, channel, delay;
  };
  std::vector<Edge> edges;
  edges.reserve(N * c.in_degree);
  for (int64_t i = 0; i < N; ++i) {
    for (int64_t k = 0; k < c.in_degree; ++k) {
      int64_t j = static_cast<int64_t>(rng.UniformInt(N - 1));
      if (j >= i) ++j;  // no self-connection
      const bool exc = j < n_exc;
      const int32_t ch =
          exc ? static_cast<int32_t>(rng.UniformInt(n_exc_ch))
              : n_exc_ch + static_cast<int32_t>(rng.UniformInt(n_inh_ch));
      const int32_t d =
          d_lo + static_cast<int32_t>(rng.UniformInt(d_hi - d_lo + 1));
      edges.push_back(
          {static_cast<int32_t>(j), static_cast<int32_t>(i), ch, d});
    }
  }
  Outgoing out;
  out.begin.assign(N + 1, 0);
  for (const Edge& e : edges) ++out.begin[e.pre + 1];
  for (int64_t j = 0; j < N; ++j) out.begin[j + 1] += out.begin[j];
  out.target.resize(edges.size());
  out.channel.resize(edges.size());
  out.delay.resize(edges.size());
  std::vector<int64_t> fill(out.begin.begin(), out.begin.end() - 1);
  for (const Edge& e : edges) {
    const int64_t q = fill[e.pre]++;
    out.target[q] = e.post;
    out.channel[q] = e.channel;
    out.delay[q] = e.delay;
  }
  return out;
}

}  // namespace

absl::StatusOr<SurrogateNetworkResult> SimulateSurrogateNetwork(
    const ElmModel<float>& model, const SurrogateNetworkConfig& config,
    const std::function<void(int64_t)>& progress) {
  RETURN_IF_ERROR(CheckConfig(model, config));
  const int64_t N = config.neurons;
  const double dt_ms = model.config().delta_t();
  SurrogateNetworkResult r;
  r.dt_ms = dt_ms;
  r.steps = std::max<int64_t>(1, std::llround(config.seconds * 1000 / dt_ms));
  r.num_excitatory =
      N - static_cast<int64_t>(std::llround(config.inhibitory_fraction * N));
  r.spike_count.assign(N, 0);
  r.recurrent_inputs.assign(r.steps, 0);

  Rng rng(config.seed);
  // The background's seed first: the same background whatever the
  // connectivity.
  const uint64_t background_seed = rng.Next();
  const Outgoing out = Connect(config, r.num_excitatory, dt_ms, rng);
  int32_t max_delay = 1;
  for (int32_t d : out.delay) max_delay = std::max(max_delay, d);
  PoissonRates rates = config.background;
  rates.dt_ms = dt_ms;
  PoissonInput background(rates, background_seed);
  ASSIGN_OR_RETURN(ElmPopulation<float> pop,
                   ElmPopulation<float>::Create(
                       model, N, PopulationOptions{.threads = config.threads}));

  // ring[t % D]: the (target, channel) events arriving at step t.
  const int64_t D = max_delay + 1;
  std::vector<std::vector<std::pair<int32_t, int32_t>>> ring(D);
  std::vector<int64_t> ev_begin(N + 1), ev_fill(N);
  std::vector<int32_t> ev_channel;
  std::vector<int64_t> row_begin(N + 1);
  std::vector<int32_t> col;
  std::vector<float> prev_p(N, 0.0f);
  std::vector<double> scale(N, 1.0);
  const int64_t modulation_steps =
      config.modulation_ms > 0
          ? std::max<int64_t>(1, std::llround(config.modulation_ms / dt_ms))
          : 0;
  const int64_t warmup_steps = std::llround(config.warmup_ms / dt_ms);
  Rng& mod_rng = background.rng();
  // Each neuron redraws its factor at its own phase (no synchronised steps).
  std::vector<int64_t> phase(N, 0);
  for (int64_t i = 0; modulation_steps > 0 && i < N; ++i) {
    phase[i] = static_cast<int64_t>(mod_rng.UniformInt(modulation_steps));
    scale[i] = -std::log(1.0 - mod_rng.Uniform());
  }
  const float theta = static_cast<float>(config.spike_threshold);
  const auto start = std::chrono::steady_clock::now();
  for (int64_t t = 0; t < r.steps; ++t) {
    // This step's recurrent events, sorted by target.
    std::vector<std::pair<int32_t, int32_t>>& slot = ring[t % D];
    r.recurrent_inputs[t] = static_cast<int64_t>(slot.size());
    std::fill(ev_begin.begin(), ev_begin.end(), 0);
    for (const auto& ev : slot) ++ev_begin[ev.first + 1];
    for (int64_t i = 0; i < N; ++i) ev_begin[i + 1] += ev_begin[i];
    ev_channel.resize(slot.size());
    std::copy(ev_begin.begin(), ev_begin.end() - 1, ev_fill.begin());
    for (const auto& ev : slot) ev_channel[ev_fill[ev.first]++] = ev.second;
    slot.clear();
    for (int64_t i = 0; modulation_steps > 0 && i < N; ++i) {
      if (t % modulation_steps == phase[i])
        scale[i] = -std::log(1.0 - mod_rng.Uniform());
    }
    // The step's CSR: background, then the recurrent events.
    col.clear();
    for (int64_t i = 0; i < N; ++i) {
      row_begin[i] = static_cast<int64_t>(col.size());
      background.AppendScaled(&col, scale[i]);
      col.insert(col.end(), ev_channel.begin() + ev_begin[i],
                 ev_channel.begin() + ev_begin[i + 1]);
    }
    row_begin[N] = static_cast<int64_t>(col.size());
    pop.StepSparse(row_begin.data(), col.data(), nullptr);
    // Spikes: upward threshold crossings, sent along the outgoing edges.
    absl::Span<const float> p = pop.spike_probability();
    for (int64_t i = 0; i < N; ++i) {
      if (p[i] >= theta && prev_p[i] < theta && t >= warmup_steps) {
        r.spikes.emplace_back(t, static_cast<int32_t>(i));
        ++r.spike_count[i];
        for (int64_t e = out.begin[i]; e < out.begin[i + 1]; ++e) {
          ring[(t + out.delay[e]) % D].emplace_back(out.target[e],
                                                    out.channel[e]);
        }
      }
      prev_p[i] = p[i];
    }
    if (t < config.record_steps) {
      r.soma_mv.push_back(pop.soma_voltage()[config.record_neuron]);
      r.spike_prob.push_back(p[config.record_neuron]);
    }
    if (progress && (t + 1) % 100 == 0) progress(t + 1);
  }
  r.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return r;
}

}  // namespace elm
