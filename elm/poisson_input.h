// Background input for surrogate-neuron simulations (population.h): NeuronIO-
// like Poisson spike trains on a neuron's input channels, as sparse rows. Per
// step of Δt ms and per neuron, the number of excitatory spikes is
// Poisson(exc_rate·Δt), each on a channel drawn uniformly from the excitatory
// channels [0, num_excitatory), and likewise for the inhibitory ones
// [num_excitatory, num_input) at inh_rate (NeuronIO: 639 + 639 channels on
// the L5PC's segments; ≈ 8 excitatory and 6 inhibitory spikes per ms, the
// dataset's typical mean rates; AppendScaled modulates them, as NeuronIO's
// inputs fluctuate). Channels of one draw may repeat (two spikes on
// one channel: input 2, as a summed dense input would be). Poisson counts are
// drawn by inverting a precomputed CDF with one uniform number.
//
// Example, one step's CSR over N neurons:
//   PoissonInput bg(PoissonRates{}, /*seed=*/1);
//   row_begin[0] = 0; col.clear();
//   for (int64_t i = 0; i < N; ++i) {
//     bg.Append(&col);
//     row_begin[i + 1] = col.size();
//   }
#ifndef ELM_ELM_POISSON_INPUT_H_
#define ELM_ELM_POISSON_INPUT_H_

#include <cstdint>
#include <vector>

#include "base/rng.h"

namespace elm {

struct PoissonRates {
  double exc_per_ms =
      8.0;  // excitatory spikes per ms per neuron (all synapses)
  double inh_per_ms = 6.0;  // inhibitory spikes per ms per neuron
  double dt_ms = 1.0;       // Δt
  int32_t num_excitatory = 639;
  int32_t num_input = 1278;
};

// Poisson(mean) by CDF inversion over a table (mean ≤ 500, CHECKed).
class PoissonSampler {
 public:
  explicit PoissonSampler(double mean);
  int Sample(Rng& rng) const;

 private:
  std::vector<double> cdf_;  // P(X ≤ k) for k < size; the last entry is 1
};

class PoissonInput {
 public:
  // Rates may be scaled per call (AppendScaled) by factors up to kMaxScale,
  // rounded to multiples of 1/kScaleSteps.
  static constexpr double kMaxScale = 4.0;
  static constexpr int kScaleSteps = 16;

  PoissonInput(const PoissonRates& rates, uint64_t seed);
  // Appends one neuron's spike channels of one step to `col`.
  void Append(std::vector<int32_t>* col) { AppendScaled(col, 1.0); }
  // The same with both rates multiplied by `scale` (clamped to [0,
  // kMaxScale], rounded to a multiple of 1 / kScaleSteps).
  void AppendScaled(std::vector<int32_t>* col, double scale);
  const PoissonRates& rates() const { return rates_; }
  Rng& rng() { return rng_; }

 private:
  PoissonRates rates_;
  std::vector<PoissonSampler> exc_, inh_;  // per scale level
  Rng rng_;
};

}  // namespace elm

#endif  // ELM_ELM_POISSON_INPUT_H_
