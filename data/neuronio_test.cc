// Tests the NeuronIO reader and sampler: every value of
// ../shared/data/neuronio/expected_stats.json from both fixture encodings
// (gzipped and gunzipped), synthetic pickles written by a small pickle writer
// (a ~120 MB dendriticVoltagesLowRes that must never be held, with peak memory
// from /proc/self/status; malformed files with the errors they must give), the
// reference's target conventions, dense windows, and the training sampler's
// rules (window starts, simulations without replacement, batches per file
// load, determinism per seed, targets matching the sampled windows).
#include "data/neuronio.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/peak_memory.h"
#include "base/shared_data.h"
#include "data/dataset.h"
#include "data/dataset_spec.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kPy2Fixture[] =
    "neuronio_l5pc_2sims_6s_seed100520_py2style.p.gz";
constexpr char kPy3Fixture[] =
    "neuronio_l5pc_2sims_6s_seed100520_py3proto2.p.gz";

std::string TempPath(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name);
}

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

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), bytes.size());
  ASSERT_TRUE(out.good()) << path;
}

// ---- A small protocol-2 pickle writer (Python 2 encoding: str as
// SHORT_BINSTRING / BINSTRING), streaming to a file ----

class PickleWriter {
 public:
  explicit PickleWriter(std::ostream* out) : out_(out) {}
  ~PickleWriter() { Flush(); }

  void Op(uint8_t op) { buf_.push_back(static_cast<char>(op)); }
  void Le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) buf_.push_back(static_cast<char>(v >> (8 * i)));
  }
  void Str(const std::string& s) {
    if (s.size() < 256) {
      Op('U');
      Le(s.size(), 1);
    } else {
      Op('T');
      Le(s.size(), 4);
    }
    buf_ += s;
  }
  void Int(int64_t v) {
    if (v >= 0 && v < 256) {
      Op('K');
      Le(v, 1);
    } else if (v >= 0 && v < 65536) {
      Op('M');
      Le(v, 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      Op('J');
      Le(static_cast<uint32_t>(v), 4);
    } else {
      Op(0x8a);
      Le(8, 1);
      Le(static_cast<uint64_t>(v), 8);
    }
  }
  void Float(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    Op('G');
    for (int i = 7; i >= 0; --i)
      buf_.push_back(static_cast<char>(bits >> (8 * i)));
  }
  void Global(const std::string& module, const std::string& name) {
    Op('c');
    buf_ += module + "\n" + name + "\n";
  }
  // {  ...key value pairs...  }
  void DictBegin() {
    Op('}');
    Op('(');
  }
  void DictEnd() { Op('u'); }
  void ListBegin() {
    Op(']');
    Op('(');
  }
  void ListEnd() { Op('e'); }
  // numpy.dtype(descr, False, True) with its BUILD state (3, '<', None, None,
  // None, -1, -1, 0), as numpy pickles it.
  void Dtype(const std::string& descr) {
    Global("numpy", "dtype");
    Str(descr);
    Op(0x89);  // False
    Op(0x88);  // True
    Op(0x87);  // TUPLE3
    Op('R');
    Op('(');
    Int(3);
    Str("<");
    Op('N');
    Op('N');
    Op('N');
    Int(-1);
    Int(-1);
    Int(0);
    Op('t');
    Op('b');
  }
  // numpy.ndarray of `descr` and `shape`, raw data given or streamed.
  void ArrayBegin(const std::string& descr, const std::vector<int64_t>& shape) {
    Global("numpy.core.multiarray", "_reconstruct");
    Global("numpy", "ndarray");
    Int(0);
    Op(0x85);  // TUPLE1
    Str("b");
    Op(0x87);  // TUPLE3
    Op('R');
    Op('(');
    Int(1);
    Op('(');
    for (int64_t d : shape) Int(d);
    Op('t');
    Dtype(descr);
    Op(0x89);  // not Fortran order
  }
  void ArrayEnd() {
    Op('t');
    Op('b');
  }
  template <typename T>
  void Array(const std::string& descr, const std::vector<T>& values) {
    ArrayBegin(descr, {static_cast<int64_t>(values.size())});
    Str(std::string(reinterpret_cast<const char*>(values.data()),
                    values.size() * sizeof(T)));
    ArrayEnd();
  }
  // A BINSTRING of n bytes, streamed in chunks of the repeated `pattern`.
  void LargeString(int64_t n, const std::string& pattern) {
    Op('T');
    Le(n, 4);
    Flush();
    std::string chunk;
    while (chunk.size() < (1 << 20)) chunk += pattern;
    for (int64_t done = 0; done < n;) {
      const int64_t take = std::min<int64_t>(chunk.size(), n - done);
      out_->write(chunk.data(), take);
      done += take;
    }
  }
  // Memoizes the top of the stack (BINPUT / LONG_BINPUT); returns the index.
  uint32_t Put() {
    const uint32_t i = next_memo_++;
    if (i < 256) {
      Op('q');
      Le(i, 1);
    } else {
      Op('r');
      Le(i, 4);
    }
    return i;
  }
  void Get(uint32_t i) {
    if (i < 256) {
      Op('h');
      Le(i, 1);
    } else {
      Op('j');
      Le(i, 4);
    }
  }
  // A numpy.int64 scalar as Python 2 cPickle writes it (the Kaggle files'
  // spike times and segment keys): scalar(dtype('i8'), <8 bytes>), with the
  // callable and the dtype memoized once and every intermediate memoized.
  void NumpyInt64(int64_t v) {
    if (scalar_memo_ == kNone) {
      Global("numpy.core.multiarray", "scalar");
      scalar_memo_ = Put();
      Dtype("i8");
      dtype_memo_ = Put();
    } else {
      Get(scalar_memo_);
      Get(dtype_memo_);
    }
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(v >> (8 * i));
    Str(bytes);
    Put();
    Op(0x86);  // TUPLE2
    Put();
    Op('R');
    Put();
  }
  void Flush() {
    out_->write(buf_.data(), buf_.size());
    buf_.clear();
  }

 private:
  static constexpr uint32_t kNone = ~uint32_t{0};
  std::ostream* out_;
  std::string buf_;
  uint32_t next_memo_ = 0;
  uint32_t scalar_memo_ = kNone;
  uint32_t dtype_memo_ = kNone;
};

// A synthetic NeuronIO file.
struct SynthSim {
  std::map<int64_t, std::vector<int64_t>> ex, inh;  // segment → times
  std::vector<double> output_spikes;                // written as float64
  std::vector<float> soma;                          // written as float32
};

struct SynthFile {
  int segments = kNeuronioNumSegments;
  int64_t duration_ms = 1000;
  std::vector<SynthSim> sims;
  // Keys left out (anywhere they occur).
  std::set<std::string> omit;
  // How segment keys and spike times are written: lists of ints (false,
  // false), int64 arrays, or numpy.int64 scalars as in the Kaggle files.
  bool times_as_arrays = false;
  bool numpy_scalars = false;
  // Columns of each simulation's float16 dendriticVoltagesLowRes
  // [segments, dvt_columns]; 0: none.
  int64_t dvt_columns = 0;
};

// Random content: each channel spikes about `rate` times per ms, one
// excitatory channel lists a time twice, soma crosses −55 mV.
SynthFile MakeSynth(int sims, int64_t duration_ms, uint64_t seed,
                    double rate = 0.002) {
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
    w.Op(0x80);
    w.Le(2, 1);
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

// ---- Conventions ----

TEST(NeuronioTest, TargetConventions) {
  EXPECT_EQ(NeuronioSpikeStep(1358.0), 1357);
  EXPECT_EQ(NeuronioSpikeStep(10.75), 10);
  EXPECT_EQ(NeuronioSpikeStep(10.5), 10);
  EXPECT_EQ(NeuronioSpikeStep(10.25), 9);
  EXPECT_EQ(NeuronioSpikeStep(1.4), 0);
  EXPECT_EQ(NeuronioSpikeStep(0.25), 0);  // int(-0.25) = 0, not floor
  EXPECT_EQ(NeuronioSpikeStep(0.0), 0);
  // float32 arithmetic, as torch does it.
  EXPECT_EQ(NeuronioSomaTarget(-50.0f), (-55.0f + 67.7f) * 0.1f);
  EXPECT_EQ(NeuronioSomaTarget(24.3f), (-55.0f + 67.7f) * 0.1f);
  EXPECT_EQ(NeuronioSomaTarget(-76.375f), (-76.375f + 67.7f) * 0.1f);
  EXPECT_NEAR(NeuronioSomaTarget(-67.7f), 0.0f, 1e-7);
}

// ---- The fixtures ----

// The fixtures' expected statistics, as a protobuf Struct.
bool ReadExpectedStats(const std::string& dir, google::protobuf::Struct* out,
                       std::string* error) {
  const std::string json = ReadAll(dir + "/expected_stats.json");
  const auto status = google::protobuf::util::JsonStringToMessage(json, out);
  if (!status.ok()) *error = status.ToString();
  return status.ok() && !json.empty();
}

double Num(const google::protobuf::Struct& s, const std::string& key) {
  const auto it = s.fields().find(key);
  EXPECT_NE(it, s.fields().end()) << key;
  return it == s.fields().end() ? NAN : it->second.number_value();
}

std::vector<double> Nums(const google::protobuf::Struct& s,
                         const std::string& key) {
  std::vector<double> out;
  const auto it = s.fields().find(key);
  EXPECT_NE(it, s.fields().end()) << key;
  if (it == s.fields().end()) return out;
  for (const auto& v : it->second.list_value().values()) {
    out.push_back(v.number_value());
  }
  return out;
}

// Checks a read fixture against expected_stats.json.
void CheckAgainstStats(const NeuronioFile& file,
                       const google::protobuf::Struct& stats) {
  const NeuronioParams& p = file.params;
  EXPECT_EQ(p.num_segments(), Num(stats, "num_segments"));
  EXPECT_EQ(p.duration_ms, Num(stats, "sim_duration_ms"));
  EXPECT_EQ(p.CountSegments("basal"), Num(stats, "num_basal_segments"));
  EXPECT_EQ(p.CountSegments("apical"), Num(stats, "num_apical_segments"));
  EXPECT_EQ(p.random_seed, Num(stats, "randomSeed"));
  EXPECT_EQ(p.excitatory_synapse_type,
            stats.fields().at("excitatorySynapseType").string_value());
  EXPECT_EQ(p.inhibitory_synapse_type,
            stats.fields().at("inhibitorySynapseType").string_value());
  EXPECT_EQ(p.segment_dist_from_soma.size(), 639u);
  ASSERT_EQ(file.simulations.size(), Num(stats, "num_simulations"));
  const auto& sims = stats.fields().at("sims").list_value().values();
  ASSERT_EQ(sims.size(), 2);
  for (int s = 0; s < 2; ++s) {
    SCOPED_TRACE(absl::StrCat("simulation ", s));
    const google::protobuf::Struct& want = sims[s].struct_value();
    const NeuronioSimulation& sim = file.simulations[s];
    ASSERT_EQ(sim.input_dim(), kNeuronioInputDim);
    // Spike counts and segments with spikes, per kind.
    int64_t counts[2] = {0, 0}, with_spikes[2] = {0, 0};
    for (int c = 0; c < sim.input_dim(); ++c) {
      const int kind = c < sim.num_segments ? 0 : 1;
      counts[kind] += sim.InputSpikeTimes(c).size();
      with_spikes[kind] += !sim.InputSpikeTimes(c).empty();
    }
    EXPECT_EQ(counts[0], Num(want, "num_ex_input_spikes"));
    EXPECT_EQ(counts[1], Num(want, "num_inh_input_spikes"));
    EXPECT_EQ(with_spikes[0], Num(want, "num_ex_segments_with_spikes"));
    EXPECT_EQ(with_spikes[1], Num(want, "num_inh_segments_with_spikes"));
    const absl::Span<const int32_t> seg0 = sim.InputSpikeTimes(0);
    ASSERT_GE(seg0.size(), 5u);
    EXPECT_EQ(std::vector<double>(seg0.begin(), seg0.begin() + 5),
              Nums(want, "ex_spike_times_seg0_first5"));
    // The dense input, summed over time for the first 5 channels.
    const int64_t steps = sim.duration_ms;
    std::vector<float> dense(steps * sim.input_dim());
    Densify(sim, 0, steps, dense.data());
    std::vector<double> sums(5, 0.0);
    double total[2] = {0, 0};
    for (int64_t t = 0; t < steps; ++t) {
      for (int c = 0; c < 5; ++c) sums[c] += dense[t * sim.input_dim() + c];
      for (int c = 0; c < sim.input_dim(); ++c) {
        total[c < sim.num_segments ? 0 : 1] += dense[t * sim.input_dim() + c];
      }
    }
    EXPECT_EQ(sums, Nums(want, "X_dense_sum_over_time_first5_channels"));
    EXPECT_EQ(static_cast<int64_t>(sim.step_channels.size()),
              static_cast<int64_t>(total[0] - total[1]));
    EXPECT_GT(total[0], 0);
    EXPECT_LT(total[1], 0);  // inhibitory inputs are −1
    // Output spikes and their ELM steps.
    EXPECT_EQ(sim.output_spike_times_ms,
              Nums(want, "output_spike_times_ms_float16"));
    const std::vector<double> bins = Nums(want, "output_spike_bins_elm");
    EXPECT_EQ(std::vector<double>(sim.output_spike_steps.begin(),
                                  sim.output_spike_steps.end()),
              bins);
    std::vector<float> spike(steps), soma(steps);
    NeuronioTargets(sim, 0, steps, spike.data(), soma.data());
    std::vector<double> target_bins;
    for (int64_t t = 0; t < steps; ++t) {
      if (spike[t] != 0) target_bins.push_back(t);
    }
    EXPECT_EQ(target_bins, bins);
    // Soma.
    ASSERT_EQ(static_cast<int64_t>(sim.soma_mv.size()), steps);
    EXPECT_EQ(std::vector<double>(sim.soma_mv.begin(), sim.soma_mv.begin() + 5),
              Nums(want, "soma_lowres_first5"));
    double sum = 0, max = -1e300, target_sum = 0;
    for (int64_t t = 0; t < steps; ++t) {
      sum += sim.soma_mv[t];
      max = std::max<double>(max, sim.soma_mv[t]);
      target_sum += soma[t];
    }
    EXPECT_NEAR(sum / steps, Num(want, "soma_lowres_mean"), 1e-9);
    EXPECT_EQ(max, Num(want, "soma_lowres_max"));
    // The targets are float32 (as in the reference's torch code); the json's
    // mean is float64 arithmetic.
    EXPECT_NEAR(target_sum / steps, Num(want, "elm_soma_target_mean"), 1e-6);
  }
}

void ExpectSameFile(const NeuronioFile& a, const NeuronioFile& b) {
  EXPECT_EQ(a.params.segment_types, b.params.segment_types);
  EXPECT_EQ(a.params.duration_ms, b.params.duration_ms);
  EXPECT_EQ(a.params.segment_dist_from_soma, b.params.segment_dist_from_soma);
  ASSERT_EQ(a.simulations.size(), b.simulations.size());
  for (size_t s = 0; s < a.simulations.size(); ++s) {
    const NeuronioSimulation& x = a.simulations[s];
    const NeuronioSimulation& y = b.simulations[s];
    EXPECT_EQ(x.channel_begin, y.channel_begin);
    EXPECT_EQ(x.channel_times, y.channel_times);
    EXPECT_EQ(x.step_begin, y.step_begin);
    EXPECT_EQ(x.step_channels, y.step_channels);
    EXPECT_EQ(x.output_spike_times_ms, y.output_spike_times_ms);
    EXPECT_EQ(x.output_spike_steps, y.output_spike_steps);
    EXPECT_EQ(x.soma_mv, y.soma_mv);
  }
}

TEST(NeuronioTest, FixturesMatchExpectedStatsInBothEncodings) {
  std::string missing;
  const std::string dir = FindSharedPath("data/neuronio", &missing);
  if (dir.empty()) GTEST_SKIP() << "missing " << missing;
  google::protobuf::Struct stats;
  std::string error;
  ASSERT_TRUE(ReadExpectedStats(dir, &stats, &error)) << error;
  std::vector<NeuronioFile> files;
  for (const char* name : {kPy2Fixture, kPy3Fixture}) {
    SCOPED_TRACE(name);
    const std::string gz = absl::StrCat(dir, "/", name);
    const bool reset = ResetPeakRss();
    const int64_t before = PeakRss();
    auto start = std::chrono::steady_clock::now();
    absl::StatusOr<NeuronioFile> file = ReadNeuronioFile(gz);
    const double gz_seconds = Seconds(start);
    const int64_t peak = PeakRss();
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_EQ(file->path, gz);
    CheckAgainstStats(*file, stats);
    // The same file gunzipped, under a name unlike the fixtures'.
    const std::string plain = TempPath("sims.pickle");
    Gunzip(gz, plain);
    start = std::chrono::steady_clock::now();
    absl::StatusOr<NeuronioFile> unzipped = ReadNeuronioFile(plain);
    const double plain_seconds = Seconds(start);
    std::remove(plain.c_str());
    ASSERT_TRUE(unzipped.ok()) << unzipped.status();
    ExpectSameFile(*file, *unzipped);
    std::printf(
        "%s: read in %.3f s (gunzipped copy %.3f s); peak RSS +%.1f MB%s\n",
        name, gz_seconds, plain_seconds, (peak - before) / 1e6,
        reset ? "" : " [peak not resettable]");
    files.push_back(*std::move(file));
  }
  ExpectSameFile(files[0], files[1]);
}

TEST(NeuronioTest, SamplerOnTheFixture) {
  std::string missing;
  const std::string dir = FindSharedPath("data/neuronio", &missing);
  if (dir.empty()) GTEST_SKIP() << "missing " << missing;
  NeuronioSpec spec;  // window 500, ignore 500, fraction 0.3
  spec.add_train_files(absl::StrCat(dir, "/*_py2style.p.gz"));
  absl::StatusOr<std::unique_ptr<NeuronioDataset>> d =
      NeuronioDataset::Create(spec, 0);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ((*d)->files(Split::kTrain),
            std::vector<std::string>{absl::StrCat(dir, "/", kPy2Fixture)});
  absl::StatusOr<std::unique_ptr<NeuronioSampler>> s =
      (*d)->MakeNeuronioSampler(Split::kTrain, 2, 7);
  ASSERT_TRUE(s.ok()) << s.status();
  // int(0.3 · 2 · 6000 / (2 · 500)) = int(3.6) = 3 batches per load.
  std::vector<float> dense(500 * kNeuronioInputDim), want(dense.size());
  std::vector<float> spike(500), soma(500);
  for (int i = 0; i < 7; ++i) {
    absl::StatusOr<Batch> b = (*s)->Next();
    ASSERT_TRUE(b.ok()) << b.status();
    std::string why;
    ASSERT_TRUE(b->IsConsistent(&why)) << why;
    const std::vector<NeuronioWindow>& w = (*s)->last_windows();
    ASSERT_EQ(w.size(), 2u);
    EXPECT_NE(w[0].simulation, w[1].simulation);
    std::vector<float> all(2 * dense.size());
    b->ToDense(all.data());
    for (int r = 0; r < 2; ++r) {
      EXPECT_EQ(w[r].load, i / 3);
      EXPECT_GE(w[r].start, 500);
      EXPECT_LE(w[r].start, 6000 - 500 - 1);
      const NeuronioSimulation& sim =
          (*s)->loaded_file()->simulations[w[r].simulation];
      Densify(sim, w[r].start, 500, want.data());
      EXPECT_TRUE(
          std::equal(want.begin(), want.end(), all.begin() + r * dense.size()));
      NeuronioTargets(sim, w[r].start, 500, spike.data(), soma.data());
      EXPECT_TRUE(
          std::equal(spike.begin(), spike.end(), b->spike.begin() + r * 500));
      EXPECT_TRUE(
          std::equal(soma.begin(), soma.end(), b->soma.begin() + r * 500));
    }
  }
}

// ---- Synthetic files ----

TEST(NeuronioTest, ReadsWhatWasWrittenInEachEncodingPlainOrGzipped) {
  SynthFile f = MakeSynth(3, 1000, 11);
  for (const char* encoding : {"lists", "arrays", "numpy_scalars"}) {
    f.times_as_arrays = encoding == std::string("arrays");
    f.numpy_scalars = encoding == std::string("numpy_scalars");
    const std::string path = TempPath(absl::StrCat(encoding, ".p"));
    WriteSynth(f, path);
    Gzip(path, path + ".gz");
    for (const std::string& p : {path, path + ".gz"}) {
      SCOPED_TRACE(p);
      absl::StatusOr<NeuronioFile> file = ReadNeuronioFile(p);
      ASSERT_TRUE(file.ok()) << file.status();
      EXPECT_EQ(file->params.random_seed, 1234567);
      EXPECT_EQ(file->params.CountSegments("basal"), 262);
      EXPECT_EQ(file->params.segment_dist_from_soma[2], 3.0);
      ASSERT_EQ(file->simulations.size(), 3u);
      for (int s = 0; s < 3; ++s) {
        ExpectSimulationIs(file->simulations[s], f.sims[s], f);
      }
      const NeuronioSimulation& sim = file->simulations[0];
      // Channel 3 lists t = 5 twice: once in the step index, 1 when dense.
      const absl::Span<const int32_t> at5 = sim.StepChannels(5);
      EXPECT_EQ(std::count(at5.begin(), at5.end(), 3), 1);
      EXPECT_TRUE(std::is_sorted(at5.begin(), at5.end()));
      std::vector<float> dense(20 * sim.input_dim());
      Densify(sim, 0, 20, dense.data());
      EXPECT_EQ(dense[5 * sim.input_dim() + 3], 1.0f);
      // Past the end: zero padding.
      Densify(sim, 990, 20, dense.data());
      EXPECT_EQ(dense[9 * sim.input_dim() + 3], 1.0f);  // t = 999
      for (int64_t k = 10 * sim.input_dim(); k < 20 * sim.input_dim(); ++k) {
        ASSERT_EQ(dense[k], 0.0f) << k;
      }
      // Output spikes at t + 0.625 → step t.
      EXPECT_EQ(sim.output_spike_steps[0], 10);
      std::remove(p.c_str());
    }
  }
}

TEST(NeuronioTest, LargeDendriticVoltagesAreNeverHeld) {
  SynthFile f = MakeSynth(16, 6000, 3, /*rate=*/0.0005);
  f.dvt_columns = 6000;  // 16 × 639 × 6000 float16 = 123 MB
  const int64_t dvt_bytes = int64_t{16} * 639 * 6000 * 2;
  const std::string path = TempPath("big_dvt.p");
  WriteSynth(f, path);
  Gzip(path, path + ".gz");
  for (const std::string& p : {path, path + ".gz"}) {
    SCOPED_TRACE(p);
    const bool reset = ResetPeakRss();
    const int64_t before = PeakRss();
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<NeuronioFile> file = ReadNeuronioFile(p);
    const double seconds = Seconds(start);
    const int64_t growth = PeakRss() - before;
    ASSERT_TRUE(file.ok()) << file.status();
    ASSERT_EQ(file->simulations.size(), 16u);
    ExpectSimulationIs(file->simulations[15], f.sims[15], f);
    int64_t kept = 0;
    for (const NeuronioSimulation& s : file->simulations) {
      kept += s.channel_times.size() * 4 + s.step_channels.size() * 4 +
              s.step_begin.size() * 8 + s.soma_mv.size() * 4;
    }
    std::printf(
        "%s: %.1f MB of dendriticVoltagesLowRes skipped in %.3f s; peak RSS "
        "+%.1f MB, %.1f MB kept%s\n",
        p.c_str(), dvt_bytes / 1e6, seconds, growth / 1e6, kept / 1e6,
        reset ? "" : " [peak not resettable]");
    if (!reset) continue;
    // What is kept, the value tree of the small values, and buffers; nothing
    // near the array (123 MB).
    EXPECT_LT(growth, kept + (int64_t{16} << 20));
    EXPECT_LT(growth, dvt_bytes / 5);
  }
  std::remove(path.c_str());
  std::remove((path + ".gz").c_str());
}

// Writes `f` and returns the error reading it gives.
std::string ErrorOf(const SynthFile& f, const std::string& name) {
  const std::string path = TempPath(name);
  WriteSynth(f, path);
  absl::StatusOr<NeuronioFile> file = ReadNeuronioFile(path);
  std::remove(path.c_str());
  EXPECT_FALSE(file.ok()) << name;
  return file.ok() ? "" : std::string(file.status().message());
}

TEST(NeuronioTest, ErrorsNameTheFileSimulationAndKey) {
  const SynthFile good = MakeSynth(2, 100, 5, 0.01);
  {
    SynthFile f = good;
    f.sims[1].inh[639] = {3};
    EXPECT_THAT(ErrorOf(f, "segment.p"),
                AllOf(HasSubstr("segment.p: simulation 1 "),
                      HasSubstr("listOfSingleSimulationDicts[1]"),
                      HasSubstr("inhInputSpikeTimes: segment index 639 "
                                "outside [0, 639)")));
  }
  {
    SynthFile f = good;
    f.sims[0].ex[-1] = {3};
    EXPECT_THAT(ErrorOf(f, "negative_segment.p"),
                HasSubstr("exInputSpikeTimes: segment index -1 outside"));
  }
  {
    SynthFile f = good;
    f.sims[0].ex[17] = {4, 100};
    EXPECT_THAT(ErrorOf(f, "late.p"),
                AllOf(HasSubstr("late.p: simulation 0 "),
                      HasSubstr("exInputSpikeTimes: segment 17: spike time "
                                "100 ms outside [0, 100)")));
  }
  {
    SynthFile f = good;
    f.sims[1].inh[2] = {-1};
    EXPECT_THAT(
        ErrorOf(f, "early.p"),
        AllOf(HasSubstr("simulation 1 "),
              HasSubstr("inhInputSpikeTimes: segment 2: spike time -1")));
  }
  {
    SynthFile f = good;
    f.sims[1].output_spikes = {50.0, 100.5};  // step int(100.0) = 100
    EXPECT_THAT(ErrorOf(f, "output.p"),
                AllOf(HasSubstr("simulation 1 "),
                      HasSubstr("outputSpikeTimes: spike 1 at 100.5 ms")));
    f.sims[1].output_spikes = {-0.25};
    EXPECT_THAT(ErrorOf(f, "output_negative.p"),
                HasSubstr("outputSpikeTimes: spike 0 at -0.25 ms"));
  }
  {
    SynthFile f = good;
    f.sims[0].soma.pop_back();
    EXPECT_THAT(ErrorOf(f, "short_soma.p"),
                AllOf(HasSubstr("short_soma.p: simulation 0 "),
                      HasSubstr("somaVoltageLowRes: 99 samples; expected "
                                "100")));
    f.sims[0].soma.push_back(NAN);
    EXPECT_THAT(ErrorOf(f, "nan_soma.p"),
                HasSubstr("somaVoltageLowRes: sample 99 is nan"));
  }
  for (const char* key : {"exInputSpikeTimes", "inhInputSpikeTimes",
                          "outputSpikeTimes", "somaVoltageLowRes"}) {
    SynthFile f = good;
    f.omit = {key};
    EXPECT_THAT(ErrorOf(f, "missing.p"),
                AllOf(HasSubstr("missing.p: simulation 0 "),
                      HasSubstr(absl::StrCat(key, ": missing key"))));
  }
  {
    SynthFile f = good;
    f.omit = {"totalSimDurationInSec"};
    EXPECT_THAT(ErrorOf(f, "no_duration.p"),
                HasSubstr("no_duration.p: Params.totalSimDurationInSec: "
                          "missing key"));
    f.omit = {"allSegmentsType"};
    EXPECT_THAT(ErrorOf(f, "no_types.p"),
                HasSubstr("no_types.p: Params.allSegmentsType: missing key"));
    f.omit = {"Params"};
    EXPECT_THAT(ErrorOf(f, "no_params.p"),
                HasSubstr("no_params.p: Params: missing key"));
    f.omit = {"Results"};
    EXPECT_THAT(ErrorOf(f, "no_results.p"),
                HasSubstr("no_results.p: Results: missing key"));
  }
  // Truncated, plain and gzipped.
  const std::string path = TempPath("truncated.p");
  WriteSynth(good, path);
  const std::string bytes = ReadAll(path);
  WriteAll(path, bytes.substr(0, bytes.size() / 2));
  absl::StatusOr<NeuronioFile> cut = ReadNeuronioFile(path);
  ASSERT_FALSE(cut.ok());
  EXPECT_THAT(cut.status().message(),
              AllOf(HasSubstr(path), HasSubstr("byte ")));
  WriteAll(path, bytes);
  Gzip(path, path + ".gz");
  const std::string gz = ReadAll(path + ".gz");
  WriteAll(path + ".gz", gz.substr(0, gz.size() - 100));
  cut = ReadNeuronioFile(path + ".gz");
  ASSERT_FALSE(cut.ok());
  EXPECT_THAT(cut.status().message(),
              AllOf(HasSubstr(path + ".gz"), HasSubstr("gzip data truncated")));
  // The pickle reader's errors inside a gzipped file name the user's file.
  WriteAll(path, bytes.substr(0, bytes.size() - 1));  // no STOP
  Gzip(path, path + ".gz");
  cut = ReadNeuronioFile(path + ".gz");
  ASSERT_FALSE(cut.ok());
  EXPECT_THAT(cut.status().message(),
              AllOf(HasSubstr(path + ".gz (gunzipped): byte "),
                    ::testing::Not(HasSubstr("/proc/self"))));
  std::remove(path.c_str());
  std::remove((path + ".gz").c_str());
  // Absent.
  absl::StatusOr<NeuronioFile> none = ReadNeuronioFile(TempPath("none.p"));
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("none.p"));
  none = ReadNeuronioFile(TempPath("none.p.gz"));
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("none.p.gz"));
}

// ---- The sampler ----

// Three synthetic files of 6 simulations of 1000 ms under TEST_TMPDIR/synth/,
// written once.
const std::vector<std::string>& SynthFiles() {
  static const auto* const kFiles = [] {
    const std::string dir = TempPath("synth");
    mkdir(dir.c_str(), 0755);
    auto* files = new std::vector<std::string>;
    for (const char* name : {"c_sim__3.p", "a_sim__1.p", "b_sim__2.p"}) {
      const std::string path = absl::StrCat(dir, "/", name);
      WriteSynth(MakeSynth(6, 1000, files->size() + 100), path);
      files->push_back(path);
    }
    std::sort(files->begin(), files->end());
    return files;
  }();
  return *kFiles;
}

NeuronioSpec SynthSpec() {
  SynthFiles();
  NeuronioSpec spec;
  spec.add_train_files(TempPath("synth/*sim__*"));
  spec.add_valid_files(TempPath("synth/b_sim__2.p"));
  spec.set_window_ms(300);
  spec.set_ignore_start_ms(600);
  spec.set_file_load_fraction(1.0);
  return spec;
}

TEST(NeuronioTest, SamplerFollowsTheReferenceRules) {
  const NeuronioSpec spec = SynthSpec();
  absl::StatusOr<std::unique_ptr<NeuronioDataset>> d =
      NeuronioDataset::Create(spec, 3);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->info().input_dim, 1278);
  EXPECT_EQ((*d)->info().steps, 300);
  EXPECT_EQ((*d)->info().num_classes, 0);
  EXPECT_EQ((*d)->info().delta_t_ms, 1.0);
  ASSERT_EQ((*d)->files(Split::kTrain), SynthFiles());  // sorted
  ASSERT_EQ((*d)->files(Split::kValid).size(), 1u);
  std::map<std::string, NeuronioFile> contents;
  for (const std::string& path : SynthFiles()) {
    contents[path] = *ReadNeuronioFile(path);
  }
  constexpr int kBatch = 3, kWindow = 300;
  absl::StatusOr<std::unique_ptr<NeuronioSampler>> s =
      (*d)->MakeNeuronioSampler(Split::kTrain, kBatch, 9);
  ASSERT_TRUE(s.ok()) << s.status();
  // int(1.0 · 6 · 1000 / (3 · 300)) = int(6.67) = 6 batches per load.
  constexpr int kPerLoad = 6, kLoads = 60;
  std::map<int64_t, int> batches_of_load;
  std::set<int> files_used;
  std::set<int64_t> starts;
  int64_t spikes_seen = 0;
  std::vector<float> dense(kBatch * kWindow * kNeuronioInputDim);
  std::vector<float> want(kWindow * kNeuronioInputDim);
  std::vector<float> spike(kWindow), soma(kWindow);
  for (int i = 0; i < kPerLoad * kLoads; ++i) {
    SCOPED_TRACE(absl::StrCat("batch ", i));
    absl::StatusOr<Batch> b = (*s)->Next();
    ASSERT_TRUE(b.ok()) << b.status();
    std::string why;
    ASSERT_TRUE(b->IsConsistent(&why)) << why;
    ASSERT_EQ(b->batch, kBatch);
    ASSERT_EQ(b->steps, kWindow);
    ASSERT_EQ(b->input_dim(), kNeuronioInputDim);
    const std::vector<NeuronioWindow>& w = (*s)->last_windows();
    ASSERT_EQ(w.size(), static_cast<size_t>(kBatch));
    std::set<int> sims;
    for (const NeuronioWindow& x : w) {
      sims.insert(x.simulation);
      EXPECT_EQ(x.load, w[0].load);
      EXPECT_EQ(x.file, w[0].file);
      ASSERT_GE(x.start, 600);
      ASSERT_LE(x.start, 1000 - 300 - 1);
      starts.insert(x.start);
    }
    EXPECT_EQ(sims.size(), static_cast<size_t>(kBatch))
        << "repeated simulation";
    ++batches_of_load[w[0].load];
    files_used.insert(w[0].file);
    EXPECT_EQ((*s)->loaded_file()->path, SynthFiles()[w[0].file]);
    // Inputs and targets are those of the sampled windows (dense for a few
    // batches, row by row for all).
    const NeuronioFile& file = contents[SynthFiles()[w[0].file]];
    if (i < 12) b->ToDense(dense.data());
    for (int r = 0; r < kBatch; ++r) {
      const NeuronioSimulation& sim = file.simulations[w[r].simulation];
      for (int64_t t = 0; t < kWindow; ++t) {
        const int64_t row = r * kWindow + t;
        const absl::Span<const int32_t> channels =
            sim.StepChannels(w[r].start + t);
        ASSERT_EQ(b->inputs.row_begin[row + 1] - b->inputs.row_begin[row],
                  static_cast<int64_t>(channels.size()));
        for (size_t k = 0; k < channels.size(); ++k) {
          ASSERT_EQ(b->inputs.col[b->inputs.row_begin[row] + k], channels[k]);
          ASSERT_EQ(b->inputs.value[b->inputs.row_begin[row] + k],
                    channels[k] < 639 ? 1.0f : -1.0f);
        }
      }
      NeuronioTargets(sim, w[r].start, kWindow, spike.data(), soma.data());
      ASSERT_TRUE(std::equal(spike.begin(), spike.end(),
                             b->spike.begin() + r * kWindow));
      ASSERT_TRUE(
          std::equal(soma.begin(), soma.end(), b->soma.begin() + r * kWindow));
      for (int64_t t = 0; t < kWindow; ++t) {
        spikes_seen += b->spike[r * kWindow + t] != 0;
        ASSERT_EQ(b->soma[r * kWindow + t],
                  NeuronioSomaTarget(sim.soma_mv[w[r].start + t]));
      }
      if (i < 12) {
        Densify(sim, w[r].start, kWindow, want.data());
        ASSERT_TRUE(std::equal(want.begin(), want.end(),
                               dense.begin() + r * want.size()));
      }
    }
  }
  EXPECT_GT(spikes_seen, 0);
  ASSERT_EQ(batches_of_load.size(), static_cast<size_t>(kLoads));
  for (const auto& [load, count] : batches_of_load) {
    EXPECT_EQ(count, kPerLoad) << "load " << load;
  }
  EXPECT_EQ(files_used.size(), 3u);
  // Every start in {600, …, 699} occurs; none outside (checked above).
  EXPECT_EQ(starts.size(), 100u);
}

// The first n batches of a fresh sampler.
std::vector<Batch> Draw(
    const NeuronioSpec& spec, uint64_t dataset_seed, uint64_t seed,
    int batch_size, int n,
    std::vector<std::vector<NeuronioWindow>>* windows = nullptr) {
  std::vector<Batch> out;
  absl::StatusOr<std::unique_ptr<NeuronioDataset>> d =
      NeuronioDataset::Create(spec, dataset_seed);
  EXPECT_TRUE(d.ok()) << d.status();
  if (!d.ok()) return out;
  absl::StatusOr<std::unique_ptr<NeuronioSampler>> s =
      (*d)->MakeNeuronioSampler(Split::kTrain, batch_size, seed);
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return out;
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<Batch> b = (*s)->Next();
    EXPECT_TRUE(b.ok()) << b.status();
    if (!b.ok()) break;
    out.push_back(*std::move(b));
    if (windows != nullptr) windows->push_back((*s)->last_windows());
  }
  return out;
}

bool SameBatches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].inputs.row_begin != b[i].inputs.row_begin || a[i].inputs.col != b[i].inputs.col ||
        a[i].inputs.value != b[i].inputs.value || a[i].spike != b[i].spike ||
        a[i].soma != b[i].soma) {
      return false;
    }
  }
  return true;
}

TEST(NeuronioTest, SameSeedSameBatches) {
  const NeuronioSpec spec = SynthSpec();
  const std::vector<Batch> a = Draw(spec, 1, 2, 4, 20);
  ASSERT_EQ(a.size(), 20u);
  EXPECT_TRUE(SameBatches(a, Draw(spec, 1, 2, 4, 20)));
  EXPECT_FALSE(SameBatches(a, Draw(spec, 1, 3, 4, 20)));
  EXPECT_FALSE(SameBatches(a, Draw(spec, 5, 2, 4, 20)));
  // Through the Dataset interface too.
  absl::StatusOr<std::unique_ptr<Dataset>> d = MakeNeuronioDataset(spec, 1);
  ASSERT_TRUE(d.ok()) << d.status();
  absl::StatusOr<std::unique_ptr<BatchSampler>> s =
      (*d)->MakeSampler(Split::kTrain, 4, 2);
  ASSERT_TRUE(s.ok()) << s.status();
  std::vector<Batch> c;
  for (int i = 0; i < 20; ++i) c.push_back(*(*s)->Next());
  EXPECT_TRUE(SameBatches(a, c));
}

TEST(NeuronioTest, BatchesPerFileLoadAsTheReferenceRoundsThem) {
  NeuronioSpec spec = SynthSpec();
  // max = 6 · 1000 / (4 · 6) = 250; int(0.29 · 250) = int(72.5) = 72.
  spec.set_window_ms(6);
  spec.set_file_load_fraction(0.29);
  std::vector<std::vector<NeuronioWindow>> windows;
  Draw(spec, 0, 0, 4, 3 * 72 + 1, &windows);
  ASSERT_EQ(windows.size(), 3u * 72 + 1);
  for (size_t i = 0; i < windows.size(); ++i) {
    ASSERT_EQ(windows[i][0].load, static_cast<int64_t>(i / 72)) << i;
  }
  // A batch of all 6 simulations: each batch holds every simulation once.
  spec.set_file_load_fraction(1.0);
  windows.clear();
  Draw(spec, 0, 0, 6, 10, &windows);
  for (const auto& w : windows) {
    std::set<int> sims;
    for (const NeuronioWindow& x : w) sims.insert(x.simulation);
    EXPECT_EQ(sims.size(), 6u);
  }
}

absl::Status FirstBatchStatus(const NeuronioSpec& spec, int batch_size) {
  absl::StatusOr<std::unique_ptr<Dataset>> d = MakeNeuronioDataset(spec, 0);
  if (!d.ok()) return d.status();
  absl::StatusOr<std::unique_ptr<BatchSampler>> s =
      (*d)->MakeSampler(Split::kTrain, batch_size, 0);
  if (!s.ok()) return s.status();
  return (*s)->Next().status();
}

TEST(NeuronioTest, SpecErrorsNameTheField) {
  const NeuronioSpec good = SynthSpec();
  ASSERT_TRUE(FirstBatchStatus(good, 2).ok());
  auto message_of = [](const NeuronioSpec& spec, int batch) {
    return std::string(FirstBatchStatus(spec, batch).message());
  };
  NeuronioSpec spec = good;
  spec.set_window_ms(0);
  EXPECT_THAT(message_of(spec, 2), HasSubstr("NeuronioSpec.window_ms"));
  spec = good;
  spec.set_ignore_start_ms(-1);
  EXPECT_THAT(message_of(spec, 2), HasSubstr("NeuronioSpec.ignore_start_ms"));
  for (double fraction : {0.0, -0.5, 1.5}) {
    spec = good;
    spec.set_file_load_fraction(fraction);
    EXPECT_THAT(message_of(spec, 2),
                HasSubstr("NeuronioSpec.file_load_fraction must be in (0, 1]"));
  }
  spec = good;
  spec.add_train_files(TempPath("synth/nothing_*.p"));
  EXPECT_THAT(message_of(spec, 2),
              AllOf(HasSubstr("NeuronioSpec.train_files[1]"),
                    HasSubstr("synth/nothing_*.p' matches no file")));
  spec = good;
  spec.clear_train_files();
  EXPECT_THAT(message_of(spec, 2),
              HasSubstr("NeuronioSpec.train_files is empty"));
  EXPECT_THAT(message_of(good, 0), HasSubstr("batch_size must be > 0"));
  absl::StatusOr<std::unique_ptr<Dataset>> d = MakeNeuronioDataset(good, 0);
  ASSERT_TRUE(d.ok());
  EXPECT_THAT(
      std::string((*d)->MakeSampler(Split::kTest, 2, 0).status().message()),
      HasSubstr("NeuronioSpec.test_files is empty"));
  EXPECT_TRUE((*d)->MakeSampler(Split::kValid, 2, 0).ok());
  // Against the loaded file.
  EXPECT_THAT(message_of(good, 7),
              AllOf(HasSubstr("_sim__"),
                    HasSubstr("6 simulations, fewer than the batch size 7")));
  spec = good;
  spec.set_ignore_start_ms(700);
  EXPECT_THAT(message_of(spec, 2),
              AllOf(HasSubstr("_sim__"),
                    HasSubstr("NeuronioSpec.window_ms (300) + "
                              "ignore_start_ms (700) must be below the "
                              "simulation duration 1000 ms")));
  spec = good;
  spec.set_file_load_fraction(0.1);  // int(0.1 · 6000 / 600) = int(1.0) = 1
  EXPECT_TRUE(FirstBatchStatus(spec, 2).ok());
  spec.set_file_load_fraction(0.05);
  EXPECT_THAT(message_of(spec, 2),
              HasSubstr("NeuronioSpec.file_load_fraction 0.05 gives 0 "
                        "batches per load"));
  // A file of another cell.
  SynthFile small = MakeSynth(2, 1000, 1);
  small.segments = 10;
  for (SynthSim& s : small.sims) {
    s.ex = {{3, {5}}};
    s.inh = {};
  }
  const std::string path = TempPath("ten_segments.p");
  WriteSynth(small, path);
  spec = good;
  spec.clear_train_files();
  spec.add_train_files(path);
  EXPECT_THAT(message_of(spec, 2),
              AllOf(HasSubstr("ten_segments.p: Params.allSegmentsType has 10 "
                              "segments; NeuronIO inputs need 639")));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace elm
