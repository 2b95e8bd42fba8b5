// Runs each reader of io/reader_fuzz.h over deterministic mutations of a
// valid seed file (and the seed itself, which must read): every variant must
// give a status, never crash or abort, and the file readers' errors name the
// file. An input on which a coverage-guided run of a //io:*_fuzzer crashes
// becomes a regression case here (docs/reliability.md "Fuzzing"), the file under
// io/testdata/fuzz_<reader>/.
#include "io/reader_fuzz.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/rng.h"
#include "base/shared_data.h"
#include "base/test_files.h"
#include "gtest/gtest.h"
#include "io/neuronio_compact.h"
#include "io/neuronio_reader.h"
#include "io/neuronio_test_files.h"
#include "io/npy.h"

namespace elm {
namespace {

using neuronio_testing::MakeSynth;
using neuronio_testing::WriteSynth;

// Mutations per reader: a few seconds in all at -O1 on 2 cores.
constexpr int kMutations = 600;

// `min_errors`: how many variants at least must be rejected (where the seed
// is mostly structure, so that most edits break it).
void Fuzz(FuzzedReader reader, const std::string& seed, uint64_t rng_seed,
          int min_errors = kMutations / 4) {
  const std::string scratch =
      TestTempPath(absl::StrCat("fuzz_", static_cast<int>(reader)));
  const absl::Status base = FuzzReader(reader, seed, scratch);
  ASSERT_TRUE(base.ok()) << FuzzedReaderName(reader) << " seed: " << base;
  Rng rng(rng_seed);
  int errors = 0;
  for (int i = 0; i < kMutations; ++i) {
    std::string input = seed;
    MutateBytes(&rng, &input);
    const absl::Status s = FuzzReader(reader, input, scratch);
    if (s.ok()) continue;
    ++errors;
    const bool is_file_reader = reader == FuzzedReader::kNpy ||
                                reader == FuzzedReader::kCompact ||
                                reader == FuzzedReader::kNeuronio;
    if (is_file_reader) {
      EXPECT_TRUE(absl::StrContains(s.message(), scratch))
          << FuzzedReaderName(reader) << " mutation " << i << ": " << s;
    }
  }
  std::printf("%s: %d of %d mutations rejected\n", FuzzedReaderName(reader),
              errors, kMutations);
  // The mutations reach the checks (a seed that any edit leaves valid would
  // test nothing).
  EXPECT_GE(errors, min_errors) << FuzzedReaderName(reader);
}

std::string SynthPickle() {
  const std::string path = TestTempPath("fuzz_seed.pkl");
  WriteSynth(MakeSynth(/*sims=*/2, /*duration_ms=*/40, /*seed=*/7), path);
  return ReadTestFile(path);
}

TEST(ReaderFuzzTest, ElmTensor) {
  Fuzz(FuzzedReader::kElmTensor, ElmTensorFuzzSeed(), 1);
}

TEST(ReaderFuzzTest, Npy) {
  const std::string path = TestTempPath("fuzz_seed.npy");
  const std::vector<float> values = {1, 2, 3, 4, 5, 6};
  ASSERT_TRUE(WriteNpy<float>(path, {2, 3}, values).ok());
  Fuzz(FuzzedReader::kNpy, ReadTestFile(path), 2);
}

TEST(ReaderFuzzTest, PickleAndNeuronio) {
  const std::string pickle = SynthPickle();
  Fuzz(FuzzedReader::kPickle, pickle, 3);
  Fuzz(FuzzedReader::kNeuronio, pickle, 4);
}

// Inputs on which //io:pickle_fuzzer crashed (FuzzReader CHECKs that the
// streaming parse gives the plain parse's status).
TEST(ReaderFuzzTest, PickleRegressionInputs) {
  // Session 7: a BINPUT repeated before MEMOIZE; the single pass stored the
  // MEMOIZE at another index and accepted a GET the plain parse rejects.
  const std::string input = ReadTestFile(
      RunfilesPath("io/testdata/fuzz_pickle/memoize_after_repeated_put.pkl"));
  const absl::Status s =
      FuzzReader(FuzzedReader::kPickle, input, TestTempPath("fuzz_regression"));
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "never stored")) << s;
}

TEST(ReaderFuzzTest, CompactNeuronio) {
  const std::string pkl = TestTempPath("fuzz_seed_c.pkl");
  WriteSynth(MakeSynth(2, 40, 9), pkl);
  absl::StatusOr<NeuronioFile> file = ReadNeuronioFile(pkl);
  ASSERT_TRUE(file.ok()) << file.status();
  for (int version : {1, 2}) {
    const std::string path = TestTempPath("fuzz_seed.elmnio");
    ASSERT_TRUE(WriteNeuronioCompact(*file, path, version).ok());
    Fuzz(FuzzedReader::kCompact, ReadTestFile(path), 5 + version);
  }
}

TEST(ReaderFuzzTest, Pt) {
  std::string missing;
  const std::string pt = FindSharedPath(
      "golden/pretrained/num_memory_1/neuronio_best_model_state.pt", &missing);
  if (pt.empty()) GTEST_SKIP() << "missing " << missing;
  // Mostly weights, which any value fits: no minimum of rejections.
  Fuzz(FuzzedReader::kPt, ReadTestFile(pt), 6, /*min_errors=*/1);
}

}  // namespace
}  // namespace elm
