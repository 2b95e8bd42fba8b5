// End-to-end tests of //data:generate_neuronio: the written files, compact or
// pickle (with and without the dendritic traces), read back to the file the
// generator makes; usage errors for a bad --format or --dendritic_traces
// without --format=pickle.
#include <sys/stat.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/test_binary.h"
#include "base/test_files.h"
#include "data/dataset.h"
#include "data/neuronio_generator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/neuronio_file.h"
#include "io/neuronio_reader.h"
#include "io/neuronio_test_files.h"

namespace elm {
namespace {

int64_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

TEST(GenerateNeuronioMainTest, WritesFilesThatReadBackToTheGeneratedOnes) {
  NeuronioGeneratorOptions options;
  options.num_simulations = 2;
  options.duration_ms = 300;
  absl::StatusOr<NeuronioFile> want = GenerateNeuronioFile(
      options, NeuronioGeneratedFileSeed(9, Split::kTrain, 0));
  ASSERT_TRUE(want.ok()) << want.status();
  const std::string base =
      "--files=1 --simulations=2 --duration_ms=300 --seed=9 ";
  struct Case {
    const char* flags;
    const char* file;
  };
  int64_t plain_size = 0;
  for (const Case& c :
       {Case{"", "generated_0.elmnio"},
        Case{"--format=pickle", "generated_0.p"},
        Case{"--format=pickle --dendritic_traces", "generated_0.p"}}) {
    SCOPED_TRACE(c.flags);
    const std::string dir = MakeTestDir("generated");
    const CommandResult r =
        RunTestBinary("data/generate_neuronio",
                      absl::StrCat(base, c.flags, " --out_dir=", dir));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::string path = absl::StrCat(dir, "/", c.file);
    absl::StatusOr<NeuronioFile> got = ReadNeuronioFile(path);
    ASSERT_TRUE(got.ok()) << got.status();
    neuronio_testing::ExpectSameFile(*want, *got);
    if (std::string(c.flags) == "--format=pickle") plain_size = FileSize(path);
    if (absl::StrContains(c.flags, "dendritic")) {
      // 2 × 639 × 300 float16 of dendritic traces, and the high-res ones.
      EXPECT_GT(FileSize(path), plain_size + 2 * 639 * 300 * 2);
    }
  }
}

TEST(GenerateNeuronioMainTest, UsageErrors) {
  const std::string dir = MakeTestDir("usage");
  CommandResult r = RunTestBinary(
      "data/generate_neuronio", absl::StrCat("--format=hdf5 --out_dir=", dir));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, ::testing::HasSubstr("--format must be"));
  r = RunTestBinary("data/generate_neuronio",
                    absl::StrCat("--dendritic_traces --out_dir=", dir));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, ::testing::HasSubstr("--format=pickle"));
}

}  // namespace
}  // namespace elm
