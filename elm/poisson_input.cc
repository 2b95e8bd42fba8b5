// PoissonInput: see poisson_input.h.
#include "elm/poisson_input.h"

#include <algorithm>
#include <cmath>

#include "glog/logging.h"

namespace elm {

PoissonSampler::PoissonSampler(double mean) {
  CHECK(mean >= 0 && mean <= 500) << "PoissonSampler: mean " << mean;
  // P(k) = e^−mean·mean^k/k!, summed until the tail is below 1e-15.
  double p = std::exp(-mean), sum = 0;
  for (int k = 0; sum < 1 - 1e-15 && k < 2000; ++k) {
    sum += p;
    cdf_.push_back(sum);
    p *= mean / (k + 1);
  }
  cdf_.back() = 1.0;
}

int PoissonSampler::Sample(Rng& rng) const {
  const double u = rng.Uniform();
  int k = 0;
  while (u >= cdf_[k]) ++k;  // cdf_.back() == 1 > u
  return k;
}

PoissonInput::PoissonInput(const PoissonRates& rates, uint64_t seed)
    : rates_(rates), rng_(seed) {
  const int levels = static_cast<int>(kMaxScale * kScaleSteps) + 1;
  for (int l = 0; l < levels; ++l) {
    const double scale = static_cast<double>(l) / kScaleSteps;
    exc_.emplace_back(scale * rates.exc_per_ms * rates.dt_ms);
    inh_.emplace_back(scale * rates.inh_per_ms * rates.dt_ms);
  }
  CHECK(rates.num_excitatory > 0 && rates.num_excitatory < rates.num_input)
      << "PoissonInput: " << rates.num_excitatory << " excitatory of "
      << rates.num_input << " channels";
}

void PoissonInput::AppendScaled(std::vector<int32_t>* col, double scale) {
  const int level = static_cast<int>(
      std::lround(std::min(kMaxScale, std::max(0.0, scale)) * kScaleSteps));
  const uint64_t n_exc = rates_.num_excitatory;
  const uint64_t n_inh = rates_.num_input - rates_.num_excitatory;
  for (int k = exc_[level].Sample(rng_); k > 0; --k)
    col->push_back(static_cast<int32_t>(rng_.UniformInt(n_exc)));
  for (int k = inh_[level].Sample(rng_); k > 0; --k) {
    col->push_back(static_cast<int32_t>(n_exc + rng_.UniformInt(n_inh)));
  }
}

}  // namespace elm
