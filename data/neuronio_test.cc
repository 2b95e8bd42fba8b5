// Tests the NeuronIO sampler and dataset (data/neuronio.h): every value of
// ../shared/data/neuronio/expected_stats.json from both fixture encodings
// (gzipped and gunzipped) through ReadNeuronioFile, Densify and
// NeuronioTargets; synthetic pickles (io/neuronio_test_files.h) read back in
// each encoding and densified; and the training sampler's rules (window
// starts, simulations without replacement, batches per file load, determinism
// per seed, targets matching the sampled windows) and spec errors. The reader's
// own tests (large traces, malformed files) are io/neuronio_reader_test.cc;
// the target conventions, io/neuronio_file_test.cc.
#include "data/neuronio.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/peak_memory.h"
#include "base/shared_data.h"
#include "base/test_files.h"
#include "data/dataset.h"
#include "data/dataset_spec.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "io/neuronio_test_files.h"

namespace elm {
namespace {

using ::elm::neuronio_testing::ExpectSameFile;
using ::elm::neuronio_testing::ExpectSimulationIs;
using ::elm::neuronio_testing::Gunzip;
using ::elm::neuronio_testing::Gzip;
using ::elm::neuronio_testing::MakeSynth;
using ::elm::neuronio_testing::Seconds;
using ::elm::neuronio_testing::SynthFile;
using ::elm::neuronio_testing::SynthSim;
using ::elm::neuronio_testing::WriteSynth;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kPy2Fixture[] =
    "neuronio_l5pc_2sims_6s_seed100520_py2style.p.gz";
constexpr char kPy3Fixture[] =
    "neuronio_l5pc_2sims_6s_seed100520_py3proto2.p.gz";

// ---- The fixtures ----

// The fixtures' expected statistics, as a protobuf Struct.
bool ReadExpectedStats(const std::string& dir, google::protobuf::Struct* out,
                       std::string* error) {
  const std::string json = ReadTestFile(dir + "/expected_stats.json");
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
    const std::string plain = TestTempPath("sims.pickle");
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
      const NeuronioSimulationView& sim =
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
    const std::string path = TestTempPath(absl::StrCat(encoding, ".p"));
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

// ---- The sampler ----

// Three synthetic files of 6 simulations of 1000 ms under TEST_TMPDIR/synth/,
// written once.
const std::vector<std::string>& SynthFiles() {
  static const auto* const kFiles = [] {
    const std::string dir = TestTempPath("synth");
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
  spec.add_train_files(TestTempPath("synth/*sim__*"));
  spec.add_valid_files(TestTempPath("synth/b_sim__2.p"));
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

TEST(NeuronioTest, SameSeedSameBatches) {
  const NeuronioSpec spec = SynthSpec();
  const std::vector<Batch> a = Draw(spec, 1, 2, 4, 20);
  ASSERT_EQ(a.size(), 20u);
  EXPECT_TRUE(a == Draw(spec, 1, 2, 4, 20));
  EXPECT_FALSE(a == Draw(spec, 1, 3, 4, 20));
  EXPECT_FALSE(a == Draw(spec, 5, 2, 4, 20));
  // Through the Dataset interface too.
  absl::StatusOr<std::unique_ptr<Dataset>> d = MakeNeuronioDataset(spec, 1);
  ASSERT_TRUE(d.ok()) << d.status();
  absl::StatusOr<std::unique_ptr<BatchSampler>> s =
      (*d)->MakeSampler(Split::kTrain, 4, 2);
  ASSERT_TRUE(s.ok()) << s.status();
  std::vector<Batch> c;
  for (int i = 0; i < 20; ++i) c.push_back(*(*s)->Next());
  EXPECT_TRUE((a == c));
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

// Issue 18 item 9: a '[' in a file name was read as a glob with no way to
// escape it documented.
TEST(NeuronioTest, BracketsInFileNames) {
  const std::string dir = MakeTestDir("brackets");
  for (const char* name : {"run[1].p", "run1.p", "b[x].p"}) {
    WriteTestFile(absl::StrCat(dir, "/", name), "x");
  }
  auto expand = [&](const std::string& pattern) {
    absl::StatusOr<std::vector<std::string>> files =
        ExpandNeuronioFiles({dir + "/" + pattern}, "f");
    std::string out = files.ok() ? "" : files.status().ToString();
    if (files.ok()) {
      for (const std::string& f : *files) {
        absl::StrAppend(&out, f.substr(dir.size() + 1), " ");
      }
    }
    return out;
  };
  // Unescaped, "[1]" is the class of '1'.
  EXPECT_EQ(expand("run[1].p"), "run1.p ");
  // Escaped, it is the name.
  EXPECT_EQ(expand("run\\[1\\].p"), "run[1].p ");
  EXPECT_EQ(expand("run\\[*"), "run[1].p ");
  // No "bx.p": the pattern is taken as the name of the file it is.
  EXPECT_EQ(expand("b[x].p"), "b[x].p ");
  // Matching nothing: the error says how to escape.
  EXPECT_THAT(expand("c[x].p"),
              AllOf(HasSubstr("f[0]: '"), HasSubstr("c[x].p' matches no file"),
                    HasSubstr("escape a '['")));
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
  spec.add_train_files(TestTempPath("synth/nothing_*.p"));
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
  const std::string path = TestTempPath("ten_segments.p");
  WriteSynth(small, path);
  spec = good;
  spec.clear_train_files();
  spec.add_train_files(path);
  EXPECT_THAT(message_of(spec, 2),
              AllOf(HasSubstr("ten_segments.p: Params.allSegmentsType has 10 "
                              "segments; NeuronIO inputs need 639")));
  std::remove(path.c_str());
}

// ---- Prefetch and the conversion cache ----

// What a sampler returned at each Next() call: the batch and its windows, or
// the error.
struct Outcome {
  std::string error;
  Batch batch;
  std::vector<NeuronioWindow> windows;
  bool operator==(const Outcome& o) const {
    if (error != o.error || batch != o.batch) return false;
    if (windows.size() != o.windows.size()) return false;
    for (size_t i = 0; i < windows.size(); ++i) {
      const NeuronioWindow &a = windows[i], &b = o.windows[i];
      if (a.file != b.file || a.simulation != b.simulation ||
          a.start != b.start || a.load != b.load) {
        return false;
      }
    }
    return true;
  }
};

std::vector<Outcome> Outcomes(NeuronioSampler& s, int n) {
  std::vector<Outcome> out(n);
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<Batch> b = s.Next();
    if (b.ok()) {
      out[i].batch = *std::move(b);
      out[i].windows = s.last_windows();
    } else {
      out[i].error = b.status().ToString();
    }
  }
  return out;
}

// Five files, two of which cannot be used: the synthetic ones, a truncated
// pickle and a file of 2 simulations (fewer than a batch of 3).
std::vector<std::string> FilesWithBadOnes() {
  std::vector<std::string> files = SynthFiles();
  const std::string truncated = TestTempPath("synth_truncated.p");
  WriteTestFile(truncated, ReadTestFile(files[0]).substr(0, 20000));
  const std::string small = TestTempPath("synth_small.p");
  WriteSynth(MakeSynth(2, 1000, 77), small);
  files.insert(files.begin() + 1, truncated);
  files.push_back(small);
  return files;
}

TEST(NeuronioTest, PrefetchGivesTheSameBatchesAndErrorsAtTheSameCall) {
  const std::vector<std::string> files = FilesWithBadOnes();
  NeuronioSpec spec = SynthSpec();
  spec.set_file_load_fraction(0.3);  // int(0.3 · 6000 / 900) = 2 per load
  for (uint64_t seed : {1, 2}) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    spec.set_prefetch(false);
    NeuronioSampler plain(files, spec, 3, seed);
    ASSERT_FALSE(plain.prefetch());
    spec.set_prefetch(true);
    NeuronioSampler prefetching(files, spec, 3, seed);
    ASSERT_TRUE(prefetching.prefetch());
    constexpr int kCalls = 150;
    const std::vector<Outcome> want = Outcomes(plain, kCalls);
    const std::vector<Outcome> got = Outcomes(prefetching, kCalls);
    int truncated = 0, small = 0, kept = 0;
    for (int i = 0; i < kCalls; ++i) {
      ASSERT_TRUE(got[i] == want[i])
          << "call " << i << ": " << got[i].error << " vs " << want[i].error;
      truncated += absl::StrContains(want[i].error, "synth_truncated.p");
      small += absl::StrContains(want[i].error, "synth_small.p: 2 simulations");
      // A file picked twice in a row: the next load of the same file.
      if (i > 0 && !want[i].windows.empty() && !want[i - 1].windows.empty() &&
          want[i].windows[0].load == want[i - 1].windows[0].load + 1 &&
          want[i].windows[0].file == want[i - 1].windows[0].file) {
        ++kept;
      }
    }
    EXPECT_GT(truncated, 0);
    EXPECT_GT(small, 0);
    EXPECT_GT(kept, 0);
  }
}

// A loader of in-memory copies of the synthetic files that counts the files
// alive, the calls, and the calls made on another thread than the test's.
struct CountingLoader {
  std::vector<NeuronioFile> contents;
  std::mutex mu;
  std::vector<int> calls;
  int background_calls = 0;
  std::atomic<int> alive{0};
  std::atomic<int> max_alive{0};
  std::atomic<int> finished{0};
  std::thread::id main = std::this_thread::get_id();
  int delay_ms = 0;

  NeuronioFileLoader Loader() {
    return
        [this](
            int index) -> absl::StatusOr<std::shared_ptr<const NeuronioFile>> {
          {
            std::lock_guard<std::mutex> lock(mu);
            calls.push_back(index);
            background_calls += std::this_thread::get_id() != main;
          }
          if (delay_ms > 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
          }
          const int now = ++alive;
          int seen = max_alive.load();
          while (now > seen && !max_alive.compare_exchange_weak(seen, now)) {
          }
          ++finished;
          return std::shared_ptr<const NeuronioFile>(
              new NeuronioFile(contents[index]), [this](const NeuronioFile* f) {
                --alive;
                delete f;
              });
        };
  }
};

TEST(NeuronioTest, PrefetchLoadsInTheBackgroundWithAtMostTwoFiles) {
  NeuronioSpec spec = SynthSpec();
  spec.set_file_load_fraction(0.3);
  std::vector<NeuronioFile> contents;
  for (const std::string& path : SynthFiles()) {
    contents.push_back(*ReadNeuronioFile(path));
  }
  CountingLoader plain_loader, prefetch_loader;
  plain_loader.contents = prefetch_loader.contents = contents;
  std::vector<Outcome> want, got;
  {
    NeuronioSampler plain(3, plain_loader.Loader(), spec, 3, 4);
    NeuronioSampler prefetching(3, prefetch_loader.Loader(), spec, 3, 4,
                                /*prefetch=*/true);
    want = Outcomes(plain, 200);
    got = Outcomes(prefetching, 200);
  }
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_TRUE(got[i] == want[i]) << "call " << i;
  }
  // 100 loads of 3 files: about a third keep the file.
  const std::vector<int>& p = plain_loader.calls;
  const std::vector<int>& q = prefetch_loader.calls;
  EXPECT_LT(p.size(), 90u);
  EXPECT_EQ(plain_loader.background_calls, 0);
  EXPECT_EQ(plain_loader.max_alive.load(), 1);
  // The same files in the same order, plus at most the one prefetched after
  // the last; all but the first loaded in the background.
  ASSERT_GE(q.size(), p.size());
  ASSERT_LE(q.size(), p.size() + 1);
  EXPECT_TRUE(std::equal(p.begin(), p.end(), q.begin()));
  EXPECT_EQ(prefetch_loader.background_calls, static_cast<int>(q.size()) - 1);
  EXPECT_EQ(prefetch_loader.max_alive.load(), 2);
  // Everything freed with the samplers.
  EXPECT_EQ(plain_loader.alive.load(), 0);
  EXPECT_EQ(prefetch_loader.alive.load(), 0);
}

TEST(NeuronioTest, DestroyingWithALoadInFlightWaitsAndFreesIt) {
  NeuronioSpec spec = SynthSpec();
  std::vector<NeuronioFile> contents;
  for (const std::string& path : SynthFiles()) {
    contents.push_back(*ReadNeuronioFile(path));
  }
  CountingLoader loader;
  for (int i = 0; i < 20; ++i) loader.contents.push_back(contents[i % 3]);
  loader.delay_ms = 200;
  // Each sampler is destroyed right after its first batch, while the load of
  // the next file (when the next pick is another file) sleeps in the loader.
  int in_flight = 0;
  for (uint64_t seed = 0; seed < 3; ++seed) {
    const int finished_before = loader.finished.load();
    {
      NeuronioSampler s(20, loader.Loader(), spec, 3, seed, /*prefetch=*/true);
      ASSERT_TRUE(s.Next().ok());
    }
    int started = 0;
    {
      std::lock_guard<std::mutex> lock(loader.mu);
      started = static_cast<int>(loader.calls.size());
      loader.calls.clear();
    }
    ASSERT_GE(started, 1);
    ASSERT_LE(started, 2);
    in_flight += started == 2;
    // The destructor waited for the load and freed what it loaded.
    EXPECT_EQ(loader.finished.load() - finished_before, started);
    EXPECT_EQ(loader.alive.load(), 0);
  }
  EXPECT_GT(in_flight, 0);
  // A sampler destroyed before its first batch loads nothing.
  const int finished = loader.finished.load();
  { NeuronioSampler unused(20, loader.Loader(), spec, 3, 5, true); }
  EXPECT_EQ(loader.finished.load(), finished);
}

TEST(NeuronioTest, PrefetchIsTheDefaultOfFileSamplers) {
  NeuronioSpec spec = SynthSpec();
  absl::StatusOr<std::unique_ptr<NeuronioDataset>> d =
      NeuronioDataset::Create(spec, 0);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE((*(*d)->MakeNeuronioSampler(Split::kTrain, 2, 0))->prefetch());
  spec.set_prefetch(false);
  d = NeuronioDataset::Create(spec, 0);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_FALSE((*(*d)->MakeNeuronioSampler(Split::kTrain, 2, 0))->prefetch());
}

TEST(NeuronioTest, CacheDirGivesTheSameBatches) {
  NeuronioSpec spec = SynthSpec();
  spec.set_file_load_fraction(0.3);
  const std::vector<Batch> want = Draw(spec, 1, 2, 3, 60);
  ASSERT_EQ(want.size(), 60u);
  const std::string cache = TestTempPath("synth_cache/sub");
  std::filesystem::remove_all(TestTempPath("synth_cache"));
  spec.set_cache_dir(cache);                     // created
  EXPECT_TRUE(want == Draw(spec, 1, 2, 3, 60));  // converts
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(cache)) {
    EXPECT_THAT(e.path().filename().string(),
                AllOf(HasSubstr("_sim__"), HasSubstr(".elmnio")));
    ++entries;
  }
  EXPECT_EQ(entries, 3);
  EXPECT_TRUE(want == Draw(spec, 1, 2, 3, 60));  // reads the entries
  spec.set_prefetch(false);
  EXPECT_TRUE(want == Draw(spec, 1, 2, 3, 60));

  // A cache_dir that cannot be a folder, and one with `generate`.
  WriteTestFile(TestTempPath("synth_cache/file"), "x");
  spec.set_cache_dir(TestTempPath("synth_cache/file"));
  EXPECT_THAT(std::string(NeuronioDataset::Create(spec, 0).status().message()),
              HasSubstr("NeuronioSpec.cache_dir: cannot create the folder"));
  NeuronioSpec generated;
  generated.mutable_generate();
  generated.set_cache_dir("x");
  EXPECT_THAT(std::string(ValidateNeuronioSpec(generated).message()),
              HasSubstr("NeuronioSpec.cache_dir is set with `generate`"));
}

}  // namespace
}  // namespace elm
