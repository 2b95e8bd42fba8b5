// Tests of the NeuronIO-style generator: the input statistics against the
// NeuronIO input generator's numbers (rates, rate pieces, smoothing),
// determinism per seed, the branched teacher's output rate and supralinear
// branch summation, the LIF / ALIF teachers, option validation, the
// in-memory training sampler (the same batches as the disk sampler on the
// NeuronIO fixtures) and the dataset of a NeuronioSpec's `generate`.
#include "data/neuronio_generator.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/rng.h"
#include "base/shared_data.h"
#include "data/dataset.h"
#include "data/dataset_spec.pb.h"
#include "data/neuronio.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::HasSubstr;

// Per-synapse rates (Hz) of the excitatory and inhibitory channels of a tree
// range [lo, hi) over simulations.
struct Rates {
  double exc = 0, inh = 0;
};
Rates MeanRates(const std::vector<NeuronioSimulation>& sims, int lo, int hi) {
  double e = 0, i = 0, ms = 0;
  for (const NeuronioSimulation& s : sims) {
    for (int c = lo; c < hi; ++c) {
      e += s.InputSpikeTimes(c).size();
      i += s.InputSpikeTimes(s.num_segments + c).size();
    }
    ms += s.duration_ms;
  }
  return {e / ms * 1000 / (hi - lo), i / ms * 1000 / (hi - lo)};
}

TEST(NeuronioGeneratorTest, InputRatesMatchTheNeuronioStatistics) {
  NeuronioGeneratorOptions o;
  std::vector<NeuronioSimulation> sims;
  Rng rng(7);
  for (int i = 0; i < 32; ++i) sims.push_back(GenerateNeuronioInputs(o, rng));
  const Rates all = MeanRates(sims, 0, 639);
  // Mean tree total 400 spikes / 100 ms over 262 and 377 segments: 12.5 Hz
  // per excitatory synapse (the fixture: about 13 Hz).
  EXPECT_GT(all.exc, 11.0);
  EXPECT_LT(all.exc, 14.0);
  // Inhibitory: E[max(0, U[0, 800] + U[-600, 200])] over E[U[0, 800]].
  Rng mc(3);
  double h = 0;
  const int n = 1000000;
  for (int k = 0; k < n; ++k) {
    h += std::max(0.0, mc.Uniform(0, 800) + mc.Uniform(-600, 200));
  }
  const double ratio = h / n / 400.0;  // ≈ 0.65
  EXPECT_NEAR(all.inh / all.exc, ratio, 0.1 * ratio);
  // Each tree gets the same total: per-synapse rate ∝ 1 / tree size.
  const Rates basal = MeanRates(sims, 0, 262);
  const Rates apical = MeanRates(sims, 262, 639);
  EXPECT_NEAR(basal.exc / apical.exc, 377.0 / 262.0, 0.15);
  // Within a simulation the spikes follow the smoothed rate: bins are 1 ms
  // and a channel spikes at most once per step.
  for (const NeuronioSimulation& s : sims) {
    for (int64_t t = 0; t < s.duration_ms; ++t) {
      auto ch = s.StepChannels(t);
      ASSERT_TRUE(std::is_sorted(ch.begin(), ch.end()));
      ASSERT_EQ(std::adjacent_find(ch.begin(), ch.end()), ch.end());
    }
  }
}

TEST(NeuronioGeneratorTest, RatePiecesIntervalsAndSmoothing) {
  NeuronioGeneratorOptions o;
  o.duration_ms = 300;
  Rng rng(11);
  double min_interval = 1e9, max_interval = 0, min_sigma = 1e9, max_sigma = 0;
  for (int i = 0; i < 300; ++i) {
    NeuronioInputDraw d;
    GenerateNeuronioInputs(o, rng, &d);
    ASSERT_GE(d.interval_ms, 5.0);
    ASSERT_LE(d.interval_ms, 470.0);
    ASSERT_GE(d.sigma_ms, 5.0);
    ASSERT_LE(d.sigma_ms, 620.0);
    min_interval = std::min(min_interval, d.interval_ms);
    max_interval = std::max(max_interval, d.interval_ms);
    min_sigma = std::min(min_sigma, d.sigma_ms);
    max_sigma = std::max(max_sigma, d.sigma_ms);
    for (const RatePieces& p : d.trees) {
      ASSERT_EQ(p.begin_ms.size(), p.rate_exc.size() + 1);
      ASSERT_LT(p.begin_ms.front(), 0);
      ASSERT_GT(p.begin_ms.back(), o.duration_ms);
      for (size_t k = 0; k + 1 < p.begin_ms.size(); ++k) {
        ASSERT_NEAR(p.begin_ms[k + 1] - p.begin_ms[k], d.interval_ms, 1e-6);
        ASSERT_GE(p.rate_exc[k], 0);
        ASSERT_LE(p.rate_exc[k], 800);
        ASSERT_GE(p.rate_inh[k], 0);
        if (p.rate_inh[k] > 0) {
          ASSERT_GE(p.rate_inh[k] - p.rate_exc[k], -600);
          ASSERT_LE(p.rate_inh[k] - p.rate_exc[k], 200);
        }
      }
    }
    // The smoothed rate is a weighted mean of the pieces: within their range,
    // and equal to the single piece where sigma is much shorter than it.
    for (int tree = 0; tree < 2; ++tree) {
      const RatePieces& p = d.trees[tree];
      const double lo = *std::min_element(p.rate_exc.begin(), p.rate_exc.end());
      const double hi = *std::max_element(p.rate_exc.begin(), p.rate_exc.end());
      for (double r : d.smoothed_exc[tree]) {
        ASSERT_GE(r, lo - 1e-6);
        ASSERT_LE(r, hi + 1e-6);
      }
    }
    for (double f : d.segment_factor) {
      ASSERT_GE(f, 0.5);
      ASSERT_LT(f, 1.5);
    }
  }
  EXPECT_LT(min_interval, 40);
  EXPECT_GT(max_interval, 430);
  EXPECT_LT(min_sigma, 50);
  EXPECT_GT(max_sigma, 570);
}

TEST(NeuronioGeneratorTest, SmoothingOfAStepIsTheNormalCdf) {
  // One simulation with a huge interval: the pieces around t in [0, 300)
  // are at most two, and the smoothed rate between them is exact.
  NeuronioGeneratorOptions o;
  o.duration_ms = 300;
  o.input.sigma_min_ms = o.input.sigma_max_ms = 30;
  o.input.sigma_jitter_ms = 0;
  o.input.interval_min_ms = o.input.interval_max_ms = 150;
  o.input.interval_jitter_ms = 0;
  Rng rng(5);
  NeuronioInputDraw d;
  GenerateNeuronioInputs(o, rng, &d);
  const RatePieces& p = d.trees[0];
  for (int64_t t = 0; t < o.duration_ms; t += 7) {
    double want = 0;
    for (size_t k = 0; k < p.rate_exc.size(); ++k) {
      want += p.rate_exc[k] *
              (0.5 * std::erfc(-(p.begin_ms[k + 1] - t) / 30.0 / std::sqrt(2)) -
               0.5 * std::erfc(-(p.begin_ms[k] - t) / 30.0 / std::sqrt(2)));
    }
    EXPECT_NEAR(d.smoothed_exc[0][t], want, 1e-6 * (1 + want)) << t;
  }
}

TEST(NeuronioGeneratorTest, SegmentLengthsAreFixedAndPlausible) {
  const std::vector<double> a = NeuronioSegmentLengths({});
  const std::vector<double> b = NeuronioSegmentLengths({});
  ASSERT_EQ(a.size(), 639u);
  EXPECT_EQ(a, b);
  double mean = 0;
  for (double l : a) {
    EXPECT_GE(l, 2);
    EXPECT_LE(l, 120);
    mean += l / a.size();
  }
  EXPECT_GT(mean, 15);
  EXPECT_LT(mean, 35);
}

TEST(NeuronioGeneratorTest, DeterministicPerSeedAndSeedsDiffer) {
  NeuronioGeneratorOptions o;
  o.num_simulations = 3;
  o.duration_ms = 1000;
  auto a = GenerateNeuronioFile(o, 42);
  auto b = GenerateNeuronioFile(o, 42);
  auto c = GenerateNeuronioFile(o, 43);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok() && c.ok());
  ASSERT_EQ(a->simulations.size(), 3u);
  EXPECT_EQ(a->params.num_segments(), kNeuronioNumSegments);
  EXPECT_EQ(a->params.CountSegments("basal"), 262);
  EXPECT_EQ(a->params.CountSegments("apical"), 377);
  EXPECT_EQ(a->params.duration_ms, 1000);
  for (int i = 0; i < 3; ++i) {
    const NeuronioSimulation& x = a->simulations[i];
    const NeuronioSimulation& y = b->simulations[i];
    const NeuronioSimulation& z = c->simulations[i];
    EXPECT_EQ(x.step_channels, y.step_channels);
    EXPECT_EQ(x.step_begin, y.step_begin);
    EXPECT_EQ(x.channel_times, y.channel_times);
    EXPECT_EQ(x.soma_mv, y.soma_mv);
    EXPECT_EQ(x.output_spike_times_ms, y.output_spike_times_ms);
    EXPECT_NE(x.step_channels, z.step_channels);
    EXPECT_NE(x.soma_mv, z.soma_mv);
    // The reader's invariants.
    ASSERT_EQ(x.channel_begin.size(), 2u * 639 + 1);
    ASSERT_EQ(x.channel_begin.back(),
              static_cast<int64_t>(x.step_channels.size()));
    ASSERT_EQ(x.soma_mv.size(), 1000u);
    ASSERT_EQ(x.output_spike_steps.size(), x.output_spike_times_ms.size());
    for (size_t k = 0; k < x.output_spike_steps.size(); ++k) {
      EXPECT_EQ(x.output_spike_steps[k],
                NeuronioSpikeStep(x.output_spike_times_ms[k]));
      EXPECT_GT(x.soma_mv[x.output_spike_steps[k]], -25.0f);
    }
  }
  // Simulations of one file differ from each other.
  EXPECT_NE(a->simulations[0].step_channels, a->simulations[1].step_channels);
}

TEST(NeuronioGeneratorTest, BranchedTeacherFiresAtNeuronioRates) {
  // The 128-simulation set of 6 s the issue names (a Kaggle file's size).
  NeuronioGeneratorOptions o;
  o.num_simulations = 128;
  auto file = GenerateNeuronioFile(o, 1);
  ASSERT_TRUE(file.ok()) << file.status();
  double spikes = 0, seconds = 0, below = 0, samples = 0;
  for (const NeuronioSimulation& s : file->simulations) {
    spikes += s.output_spike_times_ms.size();
    seconds += s.duration_ms / 1000.0;
    for (float v : s.soma_mv) {
      below += v < -50.0f;
      ++samples;
      ASSERT_GE(v, -90.0f);
      ASSERT_LE(v, 20.0f);
    }
  }
  const double rate = spikes / seconds;
  RecordProperty("output_rate_hz", std::to_string(rate));
  EXPECT_GT(rate, 0.5);
  EXPECT_LT(rate, 3.0);
  // The soma is subthreshold nearly all the time; it starts at rest (-75 mV).
  EXPECT_GT(below / samples, 0.95);
  EXPECT_FLOAT_EQ(file->simulations[0].soma_mv[0], -75.0f);
}

// Peak somatic depolarisation (mV above the start; or with `area`, its
// integral in mV·ms) after synchronous excitatory spikes at t = 50 on
// `segments`.
double PeakDepolarisation(const NeuronioGeneratorOptions& o,
                          const std::vector<int>& segments, int repeats,
                          bool area = false) {
  std::vector<std::pair<int64_t, int32_t>> spikes;
  for (int r = 0; r < repeats; ++r) {
    for (int s : segments) spikes.push_back({50 + r, s});
  }
  NeuronioSimulation sim = MakeNeuronioInputSimulation(639, 400, spikes);
  RunNeuronioTeacher(o, &sim);
  double peak = -1e9, integral = 0;
  for (float v : sim.soma_mv) {
    peak = std::max<double>(peak, v);
    integral += v - sim.soma_mv[0];
  }
  return area ? integral : peak - sim.soma_mv[0];
}

TEST(NeuronioGeneratorTest, BranchedTeacherSumsSupralinearlyWithinABranch) {
  NeuronioGeneratorOptions o;
  std::vector<int> clustered, spread;
  for (int k = 0; k < 20; ++k) {
    clustered.push_back(k);  // all on basal branch 0
    spread.push_back(k < 13 ? 20 * k : 262 + 20 * (k - 13));  // 20 branches
  }
  const double c = PeakDepolarisation(o, clustered, 1);
  const double s = PeakDepolarisation(o, spread, 1);
  EXPECT_GT(s, 0.0);
  // Measured: 0.62 mV clustered vs 0.28 mV spread (AMPA only: 0.16 vs 0.18).
  EXPECT_GT(c, 2.0 * s) << "clustered " << c << " mV, spread " << s << " mV";
  // The NMDA plateau carries the somatic charge too (area ratio ≈ 2.1).
  const double ca = PeakDepolarisation(o, clustered, 1, /*area=*/true);
  const double sa = PeakDepolarisation(o, spread, 1, /*area=*/true);
  EXPECT_GT(ca, 1.8 * sa) << "clustered " << ca << " mV·ms, spread " << sa;
  // Without NMDA the same inputs sum sublinearly (driving force): the
  // supralinearity comes from the Mg block.
  NeuronioGeneratorOptions linear = o;
  linear.branched.w_nmda = 0;
  const double cl = PeakDepolarisation(linear, clustered, 1);
  const double sl = PeakDepolarisation(linear, spread, 1);
  EXPECT_GT(sl, 0.0);
  EXPECT_LE(cl, sl * 1.01);
}

// Spike counts in [0, 300) and [1700, 2000) ms under constant excitation.
std::pair<int, int> EarlyLateSpikes(NeuronioTeacher teacher) {
  NeuronioGeneratorOptions o;
  o.teacher = teacher;
  std::vector<std::pair<int64_t, int32_t>> spikes;
  for (int64_t t = 0; t < 2000; ++t) {
    for (int s = 0; s < 10; ++s) spikes.push_back({t, s});
  }
  NeuronioSimulation sim = MakeNeuronioInputSimulation(639, 2000, spikes);
  RunNeuronioTeacher(o, &sim);
  std::pair<int, int> n = {0, 0};
  for (double t : sim.output_spike_times_ms) {
    n.first += t < 300;
    n.second += t >= 1700;
  }
  return n;
}

TEST(NeuronioGeneratorTest, LifSpikesRegularlyAndAlifAdapts) {
  const auto lif = EarlyLateSpikes(NeuronioTeacher::kLif);
  EXPECT_GT(lif.first, 5) << lif.first << " then " << lif.second;
  EXPECT_NEAR(lif.second, lif.first, 2);
  const auto alif = EarlyLateSpikes(NeuronioTeacher::kAlif);
  EXPECT_GT(alif.first, 5) << alif.first << " then " << alif.second;
  EXPECT_LT(alif.second, 0.7 * alif.first);
  // Inhibition alone keeps them silent.
  NeuronioGeneratorOptions o;
  o.teacher = NeuronioTeacher::kLif;
  std::vector<std::pair<int64_t, int32_t>> inh;
  for (int64_t t = 0; t < 500; ++t) inh.push_back({t, 639 + 3});
  NeuronioSimulation sim = MakeNeuronioInputSimulation(639, 500, inh);
  RunNeuronioTeacher(o, &sim);
  EXPECT_TRUE(sim.output_spike_times_ms.empty());
  EXPECT_LT(sim.soma_mv[400], -72.0f);
}

TEST(NeuronioGeneratorTest, LifAndAlifFilesHaveOutputs) {
  for (NeuronioTeacher t : {NeuronioTeacher::kLif, NeuronioTeacher::kAlif}) {
    NeuronioGeneratorOptions o;
    o.teacher = t;
    o.num_simulations = 4;
    auto file = GenerateNeuronioFile(o, 9);
    ASSERT_TRUE(file.ok()) << file.status();
    int spikes = 0;
    for (const auto& s : file->simulations) {
      spikes += s.output_spike_times_ms.size();
    }
    EXPECT_GT(spikes, 0);
  }
}

TEST(NeuronioGeneratorTest, BadOptionsNameTheField) {
  NeuronioGeneratorOptions o;
  o.num_simulations = 0;
  EXPECT_THAT(GenerateNeuronioFile(o, 1).status().message(),
              HasSubstr("num_simulations"));
  o = {};
  o.input.interval_min_ms = 500;
  EXPECT_THAT(ValidateNeuronioGeneratorOptions(o).message(),
              HasSubstr("interval_min_ms"));
  o = {};
  o.branched.tau_nmda_ms = 0;
  EXPECT_THAT(ValidateNeuronioGeneratorOptions(o).message(),
              HasSubstr("branched.tau_nmda_ms"));
  o = {};
  o.branched.w_gaba = -1;
  EXPECT_THAT(ValidateNeuronioGeneratorOptions(o).message(),
              HasSubstr("branched.w_gaba"));
  o = {};
  o.point.v_reset_mv = -50;
  EXPECT_THAT(ValidateNeuronioGeneratorOptions(o).message(),
              HasSubstr("point.v_reset_mv"));
  EXPECT_TRUE(ValidateNeuronioGeneratorOptions({}).ok());
}

TEST(NeuronioGeneratorTest, InMemoryDatasetSamplesWindows) {
  NeuronioGeneratorOptions o;
  o.num_simulations = 4;
  o.duration_ms = 1200;
  std::vector<NeuronioFile> train;
  for (uint64_t seed : {1, 2}) {
    auto f = GenerateNeuronioFile(o, seed);
    ASSERT_TRUE(f.ok());
    train.push_back(*std::move(f));
  }
  NeuronioSpec spec;
  spec.set_window_ms(200);
  spec.set_ignore_start_ms(100);
  spec.set_file_load_fraction(0.5);
  auto ds = GeneratedNeuronioDataset::Create(spec, train, {}, {}, 5);
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ((*ds)->info().input_dim, kNeuronioInputDim);
  EXPECT_EQ((*ds)->info().steps, 200);
  EXPECT_FALSE((*ds)->MakeSampler(Split::kValid, 2, 0).ok());
  EXPECT_FALSE((*ds)->MakeSampler(Split::kTrain, 5, 0).ok());
  auto s1 = (*ds)->MakeSampler(Split::kTrain, 2, 3);
  auto s2 = (*ds)->MakeSampler(Split::kTrain, 2, 3);
  auto s3 = (*ds)->MakeSampler(Split::kTrain, 2, 4);
  ASSERT_TRUE(s1.ok() && s2.ok() && s3.ok());
  bool any_diff = false;
  for (int i = 0; i < 10; ++i) {  // several file loads (6 batches per load)
    auto a = (*s1)->Next();
    auto b = (*s2)->Next();
    auto c = (*s3)->Next();
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    std::string why;
    ASSERT_TRUE(a->IsConsistent(&why)) << why;
    EXPECT_EQ(a->inputs.col, b->inputs.col);
    EXPECT_EQ(a->soma, b->soma);
    any_diff |= a->inputs.col != c->inputs.col;
    for (size_t k = 0; k < a->inputs.col.size(); ++k) {
      ASSERT_EQ(a->inputs.value[k], a->inputs.col[k] < 639 ? 1.0f : -1.0f);
    }
    // Each row block is a window of some simulation: its targets match
    // NeuronioTargets at some start in [ignore, duration - window).
    for (int r = 0; r < 2; ++r) {
      bool found = false;
      std::vector<float> spike(200), soma(200);
      for (const NeuronioFile& f : train) {
        for (const NeuronioSimulation& sim : f.simulations) {
          for (int64_t start = 100; start < 1000 && !found; ++start) {
            NeuronioTargets(sim, start, 200, spike.data(), soma.data());
            found = std::equal(soma.begin(), soma.end(),
                               a->soma.begin() + r * 200) &&
                    a->inputs.row_begin[r * 200 + 200] -
                            a->inputs.row_begin[r * 200] ==
                        sim.step_begin[start + 200] - sim.step_begin[start];
          }
        }
      }
      EXPECT_TRUE(found) << "batch " << i << " row " << r;
    }
  }
  // Over several file loads, a process holding only some windows gets the
  // same rows and targets.
  const absl::Status held = CheckHeldParts(**ds, Split::kTrain, 3, 3, 14);
  EXPECT_TRUE(held.ok()) << held;
  EXPECT_TRUE(any_diff);
}

TEST(NeuronioGeneratorTest, InMemoryDatasetMatchesTheDiskDatasetOnTheFixtures) {
  std::string missing;
  const std::string dir = FindSharedPath("data/neuronio", &missing);
  if (dir.empty()) GTEST_SKIP() << "missing " << missing;
  // Both encodings of the fixture, in the disk dataset's (sorted) order.
  const std::vector<std::string> paths = {
      absl::StrCat(dir, "/neuronio_l5pc_2sims_6s_seed100520_py2style.p.gz"),
      absl::StrCat(dir, "/neuronio_l5pc_2sims_6s_seed100520_py3proto2.p.gz")};
  NeuronioSpec spec;                 // window 500, ignore 500, fraction 0.3
  spec.set_file_load_fraction(0.2);  // 2 batches per load: several loads
  for (const std::string& path : paths) {
    spec.add_train_files(path);
    spec.add_test_files(path);
  }
  spec.add_valid_files(paths[1]);
  std::vector<NeuronioFile> in_memory;
  for (const std::string& path : paths) {
    absl::StatusOr<NeuronioFile> f = ReadNeuronioFile(path);
    ASSERT_TRUE(f.ok()) << f.status();
    in_memory.push_back(*std::move(f));
  }
  for (uint64_t dataset_seed : {0, 3}) {
    absl::StatusOr<std::unique_ptr<NeuronioDataset>> disk =
        NeuronioDataset::Create(spec, dataset_seed);
    ASSERT_TRUE(disk.ok()) << disk.status();
    ASSERT_EQ((*disk)->files(Split::kTrain), paths);
    absl::StatusOr<std::unique_ptr<GeneratedNeuronioDataset>> memory =
        GeneratedNeuronioDataset::Create(spec, in_memory, {in_memory[1]},
                                         in_memory, dataset_seed);
    ASSERT_TRUE(memory.ok()) << memory.status();
    for (Split split : {Split::kTrain, Split::kValid, Split::kTest}) {
      for (uint64_t seed : {7, 8}) {
        for (int batch_size : {1, 2}) {
          SCOPED_TRACE(absl::StrCat("dataset seed ", dataset_seed, " split ",
                                    SplitName(split), " seed ", seed, " batch ",
                                    batch_size));
          auto a = (*disk)->MakeSampler(split, batch_size, seed);
          auto b = (*memory)->MakeSampler(split, batch_size, seed);
          ASSERT_TRUE(a.ok()) << a.status();
          ASSERT_TRUE(b.ok()) << b.status();
          for (int i = 0; i < 9; ++i) {
            absl::StatusOr<Batch> x = (*a)->Next();
            absl::StatusOr<Batch> y = (*b)->Next();
            ASSERT_TRUE(x.ok()) << x.status();
            ASSERT_TRUE(y.ok()) << y.status();
            ASSERT_EQ(x->batch, y->batch);
            ASSERT_EQ(x->steps, y->steps);
            ASSERT_EQ(x->input_dim(), y->input_dim());
            ASSERT_EQ(x->inputs.row_begin, y->inputs.row_begin)
                << "batch " << i;
            ASSERT_EQ(x->inputs.col, y->inputs.col) << "batch " << i;
            ASSERT_EQ(x->inputs.value, y->inputs.value) << "batch " << i;
            ASSERT_EQ(x->spike, y->spike) << "batch " << i;
            ASSERT_EQ(x->soma, y->soma) << "batch " << i;
          }
        }
      }
    }
  }
}

TEST(NeuronioGeneratorTest, InMemorySamplerOutlivesTheDataset) {
  NeuronioGeneratorOptions o;
  o.num_simulations = 2;
  o.duration_ms = 800;
  o.teacher = NeuronioTeacher::kLif;
  absl::StatusOr<NeuronioFile> f = GenerateNeuronioFile(o, 1);
  ASSERT_TRUE(f.ok()) << f.status();
  NeuronioSpec spec;
  spec.set_window_ms(200);
  spec.set_ignore_start_ms(100);
  auto ds = GeneratedNeuronioDataset::Create(spec, {*f}, {}, {}, 0);
  ASSERT_TRUE(ds.ok()) << ds.status();
  auto s = (*ds)->MakeSampler(Split::kTrain, 2, 1);
  auto want = (*ds)->MakeSampler(Split::kTrain, 2, 1);
  ASSERT_TRUE(s.ok() && want.ok());
  ds->reset();
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<Batch> a = (*s)->Next();
    absl::StatusOr<Batch> b = (*want)->Next();
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->inputs.col, b->inputs.col);
    EXPECT_EQ(a->soma, b->soma);
  }
}

TEST(NeuronioGeneratorTest, GeneratedSpecBuildsSeededFiles) {
  NeuronioSpec spec;
  spec.set_window_ms(200);
  spec.set_ignore_start_ms(100);
  NeuronioGeneratorSpec* g = spec.mutable_generate();
  g->set_num_train_files(2);
  g->set_num_valid_files(0);
  g->set_num_test_files(1);
  g->set_simulations_per_file(2);
  g->set_duration_ms(600);
  g->set_teacher(NeuronioGeneratorSpec::ALIF);
  auto ds = MakeGeneratedNeuronioDataset(spec, 4);
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ((*ds)->files(Split::kTrain).size(), 2u);
  EXPECT_TRUE((*ds)->files(Split::kValid).empty());
  EXPECT_EQ((*ds)->files(Split::kTest).size(), 1u);
  const NeuronioGeneratorOptions o = NeuronioGeneratorOptionsFromSpec(*g);
  EXPECT_EQ(o.teacher, NeuronioTeacher::kAlif);
  EXPECT_EQ(o.num_simulations, 2);
  EXPECT_EQ(o.duration_ms, 600);
  // File i of a split is GenerateNeuronioFile with its own seed.
  auto want =
      GenerateNeuronioFile(o, NeuronioGeneratedFileSeed(4, Split::kTrain, 1));
  ASSERT_TRUE(want.ok());
  const NeuronioFile& got = (*ds)->files(Split::kTrain)[1];
  ASSERT_EQ(got.simulations.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(got.simulations[i].step_channels,
              want->simulations[i].step_channels);
    EXPECT_EQ(got.simulations[i].soma_mv, want->simulations[i].soma_mv);
  }
  EXPECT_NE(NeuronioGeneratedFileSeed(4, Split::kTrain, 0),
            NeuronioGeneratedFileSeed(4, Split::kTest, 0));
  EXPECT_NE(NeuronioGeneratedFileSeed(4, Split::kTrain, 0),
            NeuronioGeneratedFileSeed(5, Split::kTrain, 0));
  EXPECT_NE((*ds)->files(Split::kTrain)[0].simulations[0].step_channels,
            (*ds)->files(Split::kTest)[0].simulations[0].step_channels);
}

TEST(NeuronioGeneratorTest, SizesAreBounded) {
  // Issue 18: 1e8 simulations per file grew to 17 GB before being killed.
  NeuronioGeneratorOptions o;
  o.num_simulations = 100000000;
  absl::Status s = ValidateNeuronioGeneratorOptions(o);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("simulations_per_file = 100000000; expected at "
                             "most 100000"),
            std::string::npos)
      << s;
  o = NeuronioGeneratorOptions();
  o.duration_ms = 2000000000;
  EXPECT_FALSE(ValidateNeuronioGeneratorOptions(o).ok());
  o.duration_ms = 600000;
  o.num_simulations = 100;  // 6e7 simulated ms in one file
  EXPECT_FALSE(ValidateNeuronioGeneratorOptions(o).ok());
  EXPECT_TRUE(
      ValidateNeuronioGeneratorOptions(NeuronioGeneratorOptions()).ok());
  // Over all files of a data set.
  EXPECT_TRUE(CheckGeneratedDataSize(26, 128, 6000, "g.").ok());
  s = CheckGeneratedDataSize(27, 128, 6000, "g.");
  EXPECT_NE(s.message().find("g.files · simulations_per_file · duration_ms = "
                             "27 · 128 · 6000"),
            std::string::npos)
      << s;
}

}  // namespace
}  // namespace elm
