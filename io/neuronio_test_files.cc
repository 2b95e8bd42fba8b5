// The NeuronIO test helpers of io/neuronio_test_files.h.
#include "io/neuronio_test_files.h"

#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "base/rng.h"
#include "gtest/gtest.h"
#include "io/neuronio_file.h"
#include "io/neuronio_pickle_writer.h"
#include "io/pickle_writer.h"

namespace elm {
namespace neuronio_testing {

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

// Gzips (level 1) or gunzips `from` into `to`.
void Gzip(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  gzFile out = gzopen(to.c_str(), "wb1");
  ASSERT_NE(out, nullptr) << to;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), buffer.size());
    if (in.gcount() > 0) {
      ASSERT_EQ(gzwrite(out, buffer.data(), in.gcount()), in.gcount());
    }
  }
  ASSERT_EQ(gzclose(out), Z_OK);
}

void Gunzip(const std::string& from, const std::string& to) {
  gzFile in = gzopen(from.c_str(), "rb");
  ASSERT_NE(in, nullptr) << from;
  std::ofstream out(to, std::ios::binary);
  std::vector<char> buffer(1 << 20);
  int n;
  while ((n = gzread(in, buffer.data(), buffer.size())) > 0) {
    out.write(buffer.data(), n);
  }
  ASSERT_EQ(n, 0) << from;
  gzclose(in);
  ASSERT_TRUE(out.good()) << to;
}

// ---- Synthetic files ----

// Random content: each channel spikes about `rate` times per ms, one
// excitatory channel lists a time twice, soma crosses −55 mV.
SynthFile MakeSynth(int sims, int64_t duration_ms, uint64_t seed, double rate) {
  Rng rng(seed);
  SynthFile f;
  f.duration_ms = duration_ms;
  for (int s = 0; s < sims; ++s) {
    SynthSim sim;
    for (auto* dict : {&sim.ex, &sim.inh}) {
      for (int seg = 0; seg < f.segments; ++seg) {
        std::vector<int64_t> times(
            rng.UniformInt(static_cast<uint64_t>(2 * rate * duration_ms) + 1));
        for (int64_t& t : times) t = rng.UniformInt(duration_ms);
        std::sort(times.begin(), times.end());
        if (!times.empty() || rng.Bernoulli(0.5)) (*dict)[seg] = times;
      }
    }
    sim.ex[3] = {5, 5, duration_ms - 1};  // a repeat: X is boolean
    for (int64_t t = 10 + s; t < duration_ms; t += 97) {
      sim.output_spikes.push_back(t + 0.625);
    }
    sim.soma.resize(duration_ms);
    for (int64_t t = 0; t < duration_ms; ++t) {
      sim.soma[t] = -75.0f + static_cast<float>((t * 7 + s * 13) % 40);
    }
    f.sims.push_back(std::move(sim));
  }
  return f;
}

void WriteSynth(const SynthFile& f, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  {
    PickleWriter w(&out);
    auto keep = [&](const std::string& key) { return !f.omit.count(key); };
    w.Proto2();
    w.DictBegin();
    if (keep("Params")) {
      w.Str("Params");
      w.DictBegin();
      if (keep("allSegmentsType")) {
        w.Str("allSegmentsType");
        w.ListBegin();
        for (int i = 0; i < f.segments; ++i) {
          w.Str(i < f.segments * 262 / 639 ? "basal" : "apical");
        }
        w.ListEnd();
      }
      w.Str("allSegments_DistFromSoma");
      w.ListBegin();
      for (int i = 0; i < f.segments; ++i) w.Float(i * 1.5);
      w.ListEnd();
      if (keep("totalSimDurationInSec")) {
        w.Str("totalSimDurationInSec");
        if (f.duration_ms % 1000 == 0) {
          w.Int(f.duration_ms / 1000);
        } else {
          w.Float(f.duration_ms / 1000.0);
        }
      }
      w.Str("randomSeed");
      w.Int(1234567);
      w.Str("excitatorySynapseType");
      w.Str("NMDA");
      w.Str("inhibitorySynapseType");
      w.Str("GABA_A");
      w.Str("collectAndSaveDVTs");
      w.Op(f.dvt_columns > 0 ? 0x88 : 0x89);
      w.DictEnd();
    }
    if (keep("Results")) {
      w.Str("Results");
      w.DictBegin();
      w.Str("listOfSingleSimulationDicts");
      w.ListBegin();
      for (const SynthSim& sim : f.sims) {
        w.DictBegin();
        const std::pair<const char*,
                        const std::map<int64_t, std::vector<int64_t>>*>
            dicts[2] = {{"exInputSpikeTimes", &sim.ex},
                        {"inhInputSpikeTimes", &sim.inh}};
        for (const auto& [key, dict] : dicts) {
          if (!keep(key)) continue;
          w.Str(key);
          w.DictBegin();
          for (const auto& [seg, times] : *dict) {
            f.numpy_scalars ? w.NumpyInt64(seg) : w.Int(seg);
            if (f.times_as_arrays) {
              w.Array("i8", times);
            } else {
              w.ListBegin();
              for (int64_t t : times) {
                f.numpy_scalars ? w.NumpyInt64(t) : w.Int(t);
              }
              w.ListEnd();
            }
          }
          w.DictEnd();
        }
        if (keep("outputSpikeTimes")) {
          w.Str("outputSpikeTimes");
          w.Array("f8", sim.output_spikes);
        }
        if (keep("somaVoltageLowRes")) {
          w.Str("somaVoltageLowRes");
          w.Array("f4", sim.soma);
        }
        w.Str("recordingTimeLowRes");
        std::vector<float> times(f.duration_ms);
        for (int64_t t = 0; t < f.duration_ms; ++t) times[t] = t;
        w.Array("f4", times);
        if (f.dvt_columns > 0) {
          w.Str("dendriticVoltagesLowRes");
          w.ArrayBegin("f2", {f.segments, f.dvt_columns});
          w.LargeString(int64_t{2} * f.segments * f.dvt_columns,
                        std::string("\x00\xbc", 2));  // float16 −1
          w.ArrayEnd();
        }
        w.DictEnd();
      }
      w.ListEnd();
      w.DictEnd();
    }
    w.DictEnd();
    w.Op('.');
  }
  ASSERT_TRUE(out.good()) << path;
}

// The simulation `sim` should hold what `want` was written with.
void ExpectSimulationIs(const NeuronioSimulation& sim, const SynthSim& want,
                        const SynthFile& f) {
  ASSERT_EQ(sim.num_segments, f.segments);
  ASSERT_EQ(sim.duration_ms, f.duration_ms);
  for (int c = 0; c < 2 * f.segments; ++c) {
    const auto& dict = c < f.segments ? want.ex : want.inh;
    const auto it = dict.find(c % f.segments);
    const std::vector<int64_t> expected =
        it == dict.end() ? std::vector<int64_t>() : it->second;
    const absl::Span<const int32_t> got = sim.InputSpikeTimes(c);
    ASSERT_EQ(std::vector<int64_t>(got.begin(), got.end()), expected) << c;
  }
  EXPECT_EQ(sim.output_spike_times_ms, want.output_spikes);
  EXPECT_EQ(sim.soma_mv, want.soma);
}

NeuronioParams KaggleSizeParams() {
  NeuronioParams p;
  for (int i = 0; i < kNeuronioNumSegments; ++i) {
    p.segment_types.push_back(i < 262 ? "basal" : "apical");
    p.segment_dist_from_soma.push_back(1.5 * i);
  }
  p.duration_ms = 6000;
  p.random_seed = 100520;
  p.excitatory_synapse_type = "NMDA";
  p.inhibitory_synapse_type = "GABA_A";
  return p;
}

NeuronioSimulation KaggleSizeSimulation(int i, uint64_t seed) {
  Rng rng(MixSeeds(seed, static_cast<uint64_t>(i)));
  NeuronioSimulation sim;
  sim.num_segments = kNeuronioNumSegments;
  sim.duration_ms = 6000;
  sim.channel_begin.push_back(0);
  for (int c = 0; c < sim.input_dim(); ++c) {
    // 0 .. 132 spikes: 66 on average, 84,000 per simulation.
    std::vector<int32_t> times(rng.UniformInt(133));
    for (int32_t& t : times) t = static_cast<int32_t>(rng.UniformInt(6000));
    std::sort(times.begin(), times.end());
    sim.channel_times.insert(sim.channel_times.end(), times.begin(),
                             times.end());
    sim.channel_begin.push_back(static_cast<int64_t>(sim.channel_times.size()));
  }
  for (int64_t t = 50 + i % 97; t < 6000; t += 290) {
    sim.output_spike_times_ms.push_back(t + 0.25);
    sim.output_spike_steps.push_back(NeuronioSpikeStep(t + 0.25));
  }
  sim.soma_mv.resize(6000);
  for (int64_t t = 0; t < 6000; ++t) {
    sim.soma_mv[t] = -75.0f + static_cast<float>((t * 7 + i * 13) % 40) / 4;
  }
  IndexNeuronioSteps(&sim);
  return sim;
}

absl::Status WriteKaggleSizePickle(const std::string& path, int sims,
                                   uint64_t seed) {
  NeuronioPickleOptions options;
  options.dendritic_traces = true;
  return WriteNeuronioPickle(
      KaggleSizeParams(), sims,
      [seed](int i) { return KaggleSizeSimulation(i, seed); }, path, options);
}

void ExpectSameFile(const NeuronioFile& a, const NeuronioFile& b) {
  EXPECT_EQ(a.params.segment_types, b.params.segment_types);
  EXPECT_EQ(a.params.duration_ms, b.params.duration_ms);
  EXPECT_EQ(a.params.segment_dist_from_soma, b.params.segment_dist_from_soma);
  EXPECT_EQ(a.params.random_seed, b.params.random_seed);
  EXPECT_EQ(a.params.excitatory_synapse_type, b.params.excitatory_synapse_type);
  EXPECT_EQ(a.params.inhibitory_synapse_type, b.params.inhibitory_synapse_type);
  ASSERT_EQ(a.simulations.size(), b.simulations.size());
  for (size_t i = 0; i < a.simulations.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("simulation ", i));
    const NeuronioSimulation& x = a.simulations[i];
    const NeuronioSimulation& y = b.simulations[i];
    EXPECT_EQ(x.num_segments, y.num_segments);
    EXPECT_EQ(x.duration_ms, y.duration_ms);
    EXPECT_EQ(x.channel_begin, y.channel_begin);
    EXPECT_EQ(x.channel_times, y.channel_times);
    EXPECT_EQ(x.step_begin, y.step_begin);
    EXPECT_EQ(x.step_channels, y.step_channels);
    EXPECT_EQ(x.output_spike_times_ms, y.output_spike_times_ms);
    EXPECT_EQ(x.output_spike_steps, y.output_spike_steps);
    EXPECT_EQ(x.soma_mv, y.soma_mv);
  }
}

}  // namespace neuronio_testing
}  // namespace elm
