// Fuzzes the spec parser and validator and the checkpoint reader with
// deterministic mutations (io/reader_fuzz.h's MutateBytes, and for specs also
// one to three numbers replaced by boundary values, which often keeps the text
// parseable and so reaches the validator): every variant must give a status,
// never a crash or an out-of-memory abort.
#include "experiments/spec_fuzz.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/rng.h"
#include "base/test_files.h"
#include "elm/checkpoint.h"
#include "elm/model.h"
#include "experiments/spec.h"
#include "experiments/test_specs.h"
#include "gtest/gtest.h"
#include "io/reader_fuzz.h"

namespace elm {
namespace {

constexpr int kMutations = 400;

// Numbers that break sizes, counts and ranges.
constexpr const char* kBoundaryNumbers[] = {
    "0",          "-1",     "1",      "2147483647", "-2147483648",
    "100000000",  "1e308",  "-1e308", "nan",        "inf",
    "4294967295", "1e-320", "65536",  "6000",       "9223372036854775807"};

// `text` with one number (a maximal run of digits, '.', 'e', '-') replaced.
std::string ReplaceANumber(Rng* rng, const std::string& text) {
  std::vector<std::pair<size_t, size_t>> numbers;
  for (size_t i = 0; i < text.size();) {
    const char prev = i == 0 ? ' ' : text[i - 1];
    if (absl::ascii_isdigit(text[i]) && !absl::ascii_isalpha(prev) &&
        prev != '_') {
      size_t j = i;
      while (j < text.size() &&
             (absl::ascii_isdigit(text[j]) || text[j] == '.' || text[j] == 'e'))
        ++j;
      numbers.emplace_back(i, j - i);
      i = j;
    } else {
      ++i;
    }
  }
  if (numbers.empty()) return text;
  const auto [at, len] = numbers[rng->UniformInt(numbers.size())];
  std::string out = text;
  out.replace(at, len,
              kBoundaryNumbers[rng->UniformInt(sizeof(kBoundaryNumbers) /
                                               sizeof(char*))]);
  return out;
}

std::string SpecText() {
  return absl::StrCat(
      R"pb(
        name: "fuzz"
        model { elm { num_memory: 4 mlp_hidden_size: 8 memory_tau_max: 50 } }
        train {
          lr: 0.01
          batch_size: 4
          batches_per_epoch: 6
          epochs: 2
          log_every_steps: 2
          threads: 2
          seed: 5
        }
        eval { window_ms: 200 burn_in_ms: 50 ignore_start_ms: 100 }
      )pb",
      "data { ", TinyNeuronioData(8, 1200), " seed: 3 }");
}

TEST(SpecFuzzTest, MutatedSpecsGiveAStatus) {
  const std::string seed = SpecText();
  absl::StatusOr<ExperimentSpec> base = ParseExperimentSpecText(seed, "fuzz");
  ASSERT_TRUE(base.ok()) << base.status();
  ASSERT_TRUE(ValidateSpec(*base).ok());
  Rng rng(11);
  int parsed = 0, valid = 0;
  for (int i = 0; i < kMutations; ++i) {
    std::string text = seed;
    if (i % 2 == 0) {
      MutateBytes(&rng, &text);
    } else {
      for (int k = 0; k < 1 + static_cast<int>(rng.UniformInt(3)); ++k) {
        text = ReplaceANumber(&rng, text);
      }
    }
    absl::StatusOr<ExperimentSpec> spec = ParseExperimentSpecText(text, "fuzz");
    if (!spec.ok()) continue;
    ++parsed;
    if (!ValidateSpec(*spec).ok()) continue;
    ++valid;
    // What //experiments:spec_fuzzer checks: a valid spec prints, reads back
    // and validates again.
    EXPECT_TRUE(FuzzSpec(text).ok()) << text;
  }
  std::printf("specs: %d of %d parsed, %d of them valid\n", parsed, kMutations,
              valid);
  // The number edits reach the validator (many make a number the field's
  // type cannot hold, which the parser rejects).
  EXPECT_GT(parsed, kMutations / 10);
  EXPECT_LT(valid, parsed);
}

// The spec fuzzer's seeds: every shipped spec parses, validates and survives
// printing and reading back.
TEST(SpecFuzzTest, ShippedSpecsPassFuzzSpec) {
  const std::string dir = RunfilesPath("experiments/specs");
  const std::vector<std::string> names = ListTestFiles(dir, ".textproto");
  EXPECT_GE(names.size(), 10u);
  for (const std::string& name : names) {
    const absl::Status s =
        FuzzSpec(ReadTestFile(absl::StrCat(dir, "/", name, ".textproto")));
    EXPECT_TRUE(s.ok()) << name << ": " << s;
  }
}

TEST(SpecFuzzTest, MutatedCheckpointsGiveAStatus) {
  const std::string path = TinyNeuronioCheckpoint("fuzz_seed.ckpt");
  const std::string seed = ReadTestFile(path);
  const std::string scratch = TestTempPath("fuzz.ckpt");
  Rng rng(12);
  int rejected = 0;
  for (int i = 0; i < kMutations; ++i) {
    std::string bytes = seed;
    MutateBytes(&rng, &bytes);
    WriteTestFile(scratch, bytes);
    if (!LoadModelFromCheckpoint<float>(scratch).ok()) ++rejected;
  }
  std::printf("checkpoints: %d of %d mutations rejected\n", rejected,
              kMutations);
  EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace elm
