// The streaming NeuronIO pickle reader against the value-tree one
// (ReadNeuronioFile with NeuronioPickleParse::kStreaming / kValueTree,
// io/neuronio_reader.h): the same NeuronioFile, field by field, on the shared
// NeuronIO fixtures (Python 2 cPickle and Python 3 protocol 2, gzipped and
// not), on synthetic pickles in every encoding io/neuronio_test_files.h
// writes, and on a small Kaggle-size file; and the same error, naming the file
// and the byte, for truncated and corrupted files.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "base/rng.h"
#include "base/shared_data.h"
#include "base/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/neuronio_file.h"
#include "io/neuronio_reader.h"
#include "io/neuronio_test_files.h"
#include "io/pickle.h"

namespace elm {
namespace {

using ::elm::neuronio_testing::ExpectSameFile;
using ::elm::neuronio_testing::Gunzip;
using ::elm::neuronio_testing::Gzip;
using ::elm::neuronio_testing::MakeSynth;
using ::elm::neuronio_testing::SynthFile;
using ::elm::neuronio_testing::WriteKaggleSizePickle;
using ::elm::neuronio_testing::WriteSynth;
using ::testing::AllOf;
using ::testing::HasSubstr;

// Reads `path` both ways and expects the same file (or the same error).
void ExpectSameBothWays(const std::string& path) {
  SCOPED_TRACE(path);
  absl::StatusOr<NeuronioFile> stream = ReadNeuronioFile(path);
  absl::StatusOr<NeuronioFile> tree =
      ReadNeuronioFile(path, NeuronioPickleParse::kValueTree);
  ASSERT_EQ(stream.status(), tree.status());
  if (stream.ok()) ExpectSameFile(*stream, *tree);
}

TEST(NeuronioReaderOracleTest, SharedFixtures) {
  for (const char* name :
       {"neuronio_l5pc_2sims_6s_seed100520_py2style.p.gz",
        "neuronio_l5pc_2sims_6s_seed100520_py3proto2.p.gz"}) {
    std::string missing;
    const std::string gz =
        FindSharedPath(absl::StrCat("data/neuronio/", name), &missing);
    if (gz.empty()) GTEST_SKIP() << missing;
    ExpectSameBothWays(gz);
    const std::string plain = TestTempPath("fixture.p");
    Gunzip(gz, plain);
    ExpectSameBothWays(plain);
    absl::StatusOr<NeuronioFile> file = ReadNeuronioFile(plain);
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_EQ(file->simulations.size(), 2u);
    // Both encodings stream in one pass: both simulations are handed over
    // while parsing (the memoized keys and dtypes of the first, which later
    // ones use, are copied out of it).
    std::vector<size_t> streamed;
    int restarts = 0;
    UnpickleOptions options;
    options.skip_keys = NeuronioSkippedKeys();
    options.stream_list_key = "listOfSingleSimulationDicts";
    options.stream_item = [&streamed](size_t index, const PickleValue&,
                                      const auto&) {
      streamed.push_back(index);
      return true;
    };
    options.stream_restart = [&restarts] { ++restarts; };
    absl::StatusOr<Pickle> pickle = ReadPickleFile(plain, options);
    ASSERT_TRUE(pickle.ok()) << pickle.status();
    EXPECT_EQ(restarts, 0);
    EXPECT_EQ(streamed, (std::vector<size_t>{0, 1}));
    std::remove(plain.c_str());
  }
}

TEST(NeuronioReaderOracleTest, SyntheticFilesInEveryEncoding) {
  const std::string path = TestTempPath("synth.p");
  for (int variant = 0; variant < 6; ++variant) {
    SCOPED_TRACE(variant);
    SynthFile f = MakeSynth(variant == 5 ? 1 : 4, 1000, 20 + variant);
    f.numpy_scalars = variant == 1 || variant == 3;
    f.times_as_arrays = variant == 2;
    if (variant >= 3) f.dvt_columns = 100;
    if (variant == 4) f.duration_ms = 1000;
    WriteSynth(f, path);
    ExpectSameBothWays(path);
  }
  ASSERT_TRUE(WriteKaggleSizePickle(path, 3, 7).ok());
  ExpectSameBothWays(path);
  Gzip(path, path + ".gz");
  ExpectSameBothWays(path + ".gz");
  std::remove(path.c_str());
  std::remove((path + ".gz").c_str());
}

TEST(NeuronioReaderOracleTest, TruncatedAndCorruptedFilesGiveTheSameErrors) {
  SynthFile f = MakeSynth(3, 1000, 31);
  f.numpy_scalars = true;
  f.dvt_columns = 50;
  const std::string path = TestTempPath("good.p");
  WriteSynth(f, path);
  const std::string bytes = ReadTestFile(path);
  const std::string bad = TestTempPath("bad.p");
  // Truncated: at the start, in the Params, in each simulation, in a trace,
  // one byte short.
  for (const double at : {0.0, 0.001, 0.01, 0.2, 0.35, 0.5, 0.7, 0.9, 0.999}) {
    const size_t n = static_cast<size_t>(at * bytes.size());
    SCOPED_TRACE(n);
    WriteTestFile(bad, bytes.substr(0, n));
    ExpectSameBothWays(bad);
    absl::StatusOr<NeuronioFile> file = ReadNeuronioFile(bad);
    ASSERT_FALSE(file.ok());
    EXPECT_THAT(file.status().message(),
                AllOf(HasSubstr(bad), HasSubstr("byte ")));
  }
  WriteTestFile(bad, bytes.substr(0, bytes.size() - 1));
  ExpectSameBothWays(bad);
  // Flipped bytes anywhere: an error (the same both ways, naming the file)
  // or, where the byte was data, the same file.
  Rng rng(5);
  int errors = 0;
  for (int k = 0; k < 40; ++k) {
    std::string flipped = bytes;
    const size_t at = rng.UniformInt(bytes.size());
    flipped[at] = static_cast<char>(flipped[at] ^ (1 + rng.UniformInt(255)));
    SCOPED_TRACE(at);
    WriteTestFile(bad, flipped);
    ExpectSameBothWays(bad);
    absl::StatusOr<NeuronioFile> file = ReadNeuronioFile(bad);
    if (!file.ok()) {
      ++errors;
      EXPECT_THAT(file.status().message(), HasSubstr(bad));
    }
  }
  EXPECT_GT(errors, 0);
  std::remove(path.c_str());
  std::remove(bad.c_str());
}

}  // namespace
}  // namespace elm
