// Rng: a small, fast, seeded random number generator (xoshiro256** seeded
// through splitmix64) with the few distributions the library needs, and
// MixSeeds, which derives the seed of a sub-stream (a file, a split, a
// simulation) from a parent seed. The same seed gives the same stream on every
// platform and compiler, unlike the <random> distributions.
#ifndef ELM_BASE_RNG_H_
#define ELM_BASE_RNG_H_

#include <cstdint>

namespace elm {

// One splitmix64 step: a bijective scrambling of x + 0x9E3779B97F4A7C15.
uint64_t SplitMix64(uint64_t x);

// The seed of sub-stream `b` of seed `a`: SplitMix64(a ^ SplitMix64(b)).
// Part of every seeded result (datasets, generated NeuronIO files): its
// values must never change.
uint64_t MixSeeds(uint64_t a, uint64_t b);

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { Seed(seed); }
  void Seed(uint64_t seed);

  // 64 uniformly random bits.
  uint64_t Next();
  // Uniform in [0, 1) with 53 random bits.
  double Uniform();
  // Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [0, n), n > 0, without modulo bias.
  uint64_t UniformInt(uint64_t n);
  // Standard normal (Box–Muller; the second value of each pair is kept).
  double Normal();
  // True with probability p.
  bool Bernoulli(double p) { return Uniform() < p; }

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace elm

#endif  // ELM_BASE_RNG_H_
