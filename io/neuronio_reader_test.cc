// Tests ReadNeuronioFile (io/neuronio_reader.h) on synthetic pickles written
// by io/neuronio_test_files.h: a ~120 MB dendriticVoltagesLowRes that must
// never be held (peak memory from /proc/self/status), plain and gzipped, and
// malformed files with the errors they must give (naming the file, the
// simulation and the key). The shared fixtures, read in both encodings and
// checked against expected_stats.json, are tested with the sampler in
// data/neuronio_test.cc (the check densifies the inputs).
#include "io/neuronio_reader.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "base/peak_memory.h"
#include "base/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/neuronio_file.h"
#include "io/neuronio_test_files.h"

namespace elm {
namespace {

using ::elm::neuronio_testing::ExpectSimulationIs;
using ::elm::neuronio_testing::Gzip;
using ::elm::neuronio_testing::MakeSynth;
using ::elm::neuronio_testing::Seconds;
using ::elm::neuronio_testing::SynthFile;
using ::elm::neuronio_testing::WriteSynth;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(NeuronioReaderTest, LargeDendriticVoltagesAreNeverHeld) {
  SynthFile f = MakeSynth(16, 6000, 3, /*rate=*/0.0005);
  f.dvt_columns = 6000;  // 16 × 639 × 6000 float16 = 123 MB
  const int64_t dvt_bytes = int64_t{16} * 639 * 6000 * 2;
  const std::string path = TestTempPath("big_dvt.p");
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
  const std::string path = TestTempPath(name);
  WriteSynth(f, path);
  absl::StatusOr<NeuronioFile> file = ReadNeuronioFile(path);
  // Building the value tree first gives the same error.
  absl::StatusOr<NeuronioFile> tree =
      ReadNeuronioFile(path, NeuronioPickleParse::kValueTree);
  std::remove(path.c_str());
  EXPECT_FALSE(file.ok()) << name;
  EXPECT_EQ(file.status(), tree.status()) << name;
  return file.ok() ? "" : std::string(file.status().message());
}

TEST(NeuronioReaderTest, ErrorsNameTheFileSimulationAndKey) {
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
  const std::string path = TestTempPath("truncated.p");
  WriteSynth(good, path);
  const std::string bytes = ReadTestFile(path);
  WriteTestFile(path, bytes.substr(0, bytes.size() / 2));
  absl::StatusOr<NeuronioFile> cut = ReadNeuronioFile(path);
  ASSERT_FALSE(cut.ok());
  EXPECT_THAT(cut.status().message(),
              AllOf(HasSubstr(path), HasSubstr("byte ")));
  WriteTestFile(path, bytes);
  Gzip(path, path + ".gz");
  const std::string gz = ReadTestFile(path + ".gz");
  WriteTestFile(path + ".gz", gz.substr(0, gz.size() - 100));
  cut = ReadNeuronioFile(path + ".gz");
  ASSERT_FALSE(cut.ok());
  EXPECT_THAT(cut.status().message(),
              AllOf(HasSubstr(path + ".gz"), HasSubstr("gzip data truncated")));
  // The pickle reader's errors inside a gzipped file name the user's file.
  WriteTestFile(path, bytes.substr(0, bytes.size() - 1));  // no STOP
  Gzip(path, path + ".gz");
  cut = ReadNeuronioFile(path + ".gz");
  ASSERT_FALSE(cut.ok());
  EXPECT_THAT(cut.status().message(),
              AllOf(HasSubstr(path + ".gz (gunzipped): byte "),
                    ::testing::Not(HasSubstr("/proc/self"))));
  std::remove(path.c_str());
  std::remove((path + ".gz").c_str());
  // Absent.
  absl::StatusOr<NeuronioFile> none = ReadNeuronioFile(TestTempPath("none.p"));
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("none.p"));
  none = ReadNeuronioFile(TestTempPath("none.p.gz"));
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("none.p.gz"));
}

}  // namespace
}  // namespace elm
