// Runs FuzzCheckpoint (checkpoint_fuzz.h) on its seed, which must load, on
// deterministic mutations of it (each must give a status; many must be
// rejected). (The coverage-guided runs of //elm:checkpoint_fuzzer found no
// crashing input to keep; docs/reliability.md "Fuzzing".)
#include "elm/checkpoint_fuzz.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "base/rng.h"
#include "base/test_files.h"
#include "gtest/gtest.h"
#include "io/reader_fuzz.h"

namespace elm {
namespace {

TEST(CheckpointFuzzTest, SeedLoadsAndMutationsGiveAStatus) {
  const std::string scratch = TestTempPath("fuzz.ckpt");
  const std::string seed = CheckpointFuzzSeed();
  const absl::Status base = FuzzCheckpoint(seed, scratch);
  ASSERT_TRUE(base.ok()) << base;
  Rng rng(21);
  int rejected = 0;
  constexpr int kMutations = 400;
  for (int i = 0; i < kMutations; ++i) {
    std::string body = seed;
    MutateBytes(&rng, &body);
    const absl::Status s = FuzzCheckpoint(body, scratch);
    if (s.ok()) continue;
    ++rejected;
    EXPECT_NE(s.message().find(scratch), absl::string_view::npos) << s;
  }
  std::printf("%d of %d mutations rejected\n", rejected, kMutations);
  EXPECT_GT(rejected, kMutations / 4);
}

}  // namespace
}  // namespace elm
