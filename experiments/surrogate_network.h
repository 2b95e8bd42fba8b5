// A recurrent network of surrogate L5 pyramidal cells: N copies of a trained
// NeuronIO ELM (a released model) stepped together as an ElmPopulation
// (elm/population.h), Δt = 1 ms, as a network simulator would use them.
//
// Input of neuron i at step t (channels of the NeuronIO model: 0..638
// excitatory, 639..1277 inhibitory synapse groups):
//  - background: NeuronIO-like Poisson input on all 1,278 channels
//    (elm/poisson_input.h, by default 8 excitatory and 6 inhibitory spikes
//    per ms), optionally with fluctuating rates (modulation_ms);
//  - recurrent: the spikes that neurons j → i emitted `delay` steps before.
//    Each neuron receives in_degree connections from other neurons drawn
//    uniformly (with repetition, no self-connection); a connection ends on a
//    random excitatory channel when j is excitatory (neurons [0, N_exc)), on a
//    random inhibitory channel when j is inhibitory (Dale's law: the last
//    round(inhibitory_fraction·N) neurons), with a delay uniform in
//    [delay_min_ms, delay_max_ms]. A delivered spike is an input of 1 on that
//    channel, exactly as a background spike.
// Spike rule: neuron i emits a spike at step t when its spike probability
// crosses the threshold upwards, p_t ≥ θ > p_{t−1} (p_{−1} = 0). The ELM's
// output is the probability that the detailed model spikes in this 1 ms bin;
// a real spike makes it rise for about 1–2 bins, so the crossing counts each
// spike once (the drop below θ acts as the refractory period), and θ = 0.5 is
// the decision where a spike is more likely than not.
#ifndef ELM_EXPERIMENTS_SURROGATE_NETWORK_H_
#define ELM_EXPERIMENTS_SURROGATE_NETWORK_H_

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "elm/model.h"
#include "elm/poisson_input.h"

namespace elm {

struct SurrogateNetworkConfig {
  int64_t neurons = 1000;
  double seconds = 10.0;  // simulated time (steps of the model's Δt)
  double inhibitory_fraction = 0.2;
  int64_t in_degree = 200;  // recurrent connections per neuron
  int delay_min_ms = 1;
  int delay_max_ms = 5;
  double spike_threshold = 0.5;  // θ
  PoissonRates background;       // dt_ms is set from the model
  // Rate fluctuations: every modulation_ms (at a random phase per neuron),
  // each neuron's background rates are multiplied by a new factor drawn
  // from an exponential distribution of mean 1 (capped at
  // PoissonInput::kMaxScale, so the mean is 0.98), so that the mean rates stay
  // about those of `background`; 0: stationary rates. (The released models
  // fire at the onset of a rate increase; at stationary NeuronIO-mean rates
  // they are silent after the first ~50 ms.)
  double modulation_ms = 0;
  // Spikes of the first warmup_ms are not emitted (the state starts at zero,
  // not at the steady state of the input).
  double warmup_ms = 0;
  int threads = 2;
  uint64_t seed = 1;
  int64_t record_neuron = 0;    // whose soma and spike probability to record
  int64_t record_steps = 2000;  // for the first this many steps
};

struct SurrogateNetworkResult {
  int64_t steps = 0;
  int64_t num_excitatory = 0;  // neurons [0, num_excitatory) are excitatory
  double dt_ms = 1.0;
  std::vector<std::pair<int64_t, int32_t>> spikes;  // (step, neuron)
  std::vector<int64_t> spike_count;                 // [N]
  std::vector<int64_t> recurrent_inputs;            // [steps]: spikes delivered
  std::vector<float> soma_mv, spike_prob;           // the recorded neuron's
  double wall_seconds = 0;                          // of the simulation loop
};

// Runs the network. `progress` (may be empty) is called every 100 steps with
// the steps done. Errors: InvalidArgument for a model that is not a NeuronIO
// model of background.num_input inputs and 2 outputs, or a bad config (each
// field named).
absl::StatusOr<SurrogateNetworkResult> SimulateSurrogateNetwork(
    const ElmModel<float>& model, const SurrogateNetworkConfig& config,
    const std::function<void(int64_t)>& progress = {});

}  // namespace elm

#endif  // ELM_EXPERIMENTS_SURROGATE_NETWORK_H_
