// End-to-end tests of `convert_neuronio` on synthetic NeuronIO pickles: the
// outputs, the skip on a rerun, the errors and exit codes.
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/test_binary.h"
#include "base/test_files.h"
#include "gtest/gtest.h"
#include "io/neuronio_compact.h"
#include "io/neuronio_reader.h"
#include "io/neuronio_test_files.h"

namespace elm {
namespace {

using ::elm::neuronio_testing::ExpectSameFile;
using ::elm::neuronio_testing::Gzip;
using ::elm::neuronio_testing::MakeSynth;
using ::elm::neuronio_testing::WriteSynth;

CommandResult Convert(const std::string& args) {
  return RunTestBinary("data/convert_neuronio", args);
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

int CountLines(const std::string& output, const std::string& word) {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    n += absl::StrContains(line, word);
  }
  return n;
}

TEST(ConvertNeuronioTest, ConvertsInParallelAndSkipsOnARerun) {
  const std::string in = MakeTestDir("convert_in");
  const std::string out = TestTempPath("convert_out/sub");  // created
  for (int i = 0; i < 4; ++i) {
    neuronio_testing::SynthFile f = MakeSynth(3, 800, 10 + i);
    f.dvt_columns = 20;
    WriteSynth(f, absl::StrCat(in, "/x_sim__", i, ".p"));
  }
  Gzip(in + "/x_sim__3.p", in + "/x_sim__3.p.gz");
  std::remove((in + "/x_sim__3.p").c_str());
  CommandResult r = Convert(
      absl::StrCat("--in='", in, "/*sim__*' --out_dir=", out, " --threads=2"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(CountLines(r.output, "] converted "), 4) << r.output;
  EXPECT_NE(r.output.find("[4/4]"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("4 converted, 0 skipped, 0 failed"),
            std::string::npos)
      << r.output;
  for (int i = 0; i < 4; ++i) {
    const std::string source =
        absl::StrCat(in, "/x_sim__", i, i == 3 ? ".p.gz" : ".p");
    const std::string target = absl::StrCat(out, "/x_sim__", i, ".elmnio");
    ASSERT_TRUE(Exists(target)) << target;
    EXPECT_EQ(ReadTestFile(target).substr(0, 8), kNeuronioCompactMagic);
    absl::StatusOr<NeuronioFile> a = ReadNeuronioFile(source);
    absl::StatusOr<NeuronioFile> b = ReadNeuronioFile(target);
    ASSERT_TRUE(a.ok() && b.ok()) << a.status() << b.status();
    ExpectSameFile(*a, *b);
  }

  // Interrupted: one output missing, one left truncated. The rerun converts
  // those two and skips the others.
  std::remove((out + "/x_sim__1.elmnio").c_str());
  WriteTestFile(out + "/x_sim__2.elmnio",
                ReadTestFile(out + "/x_sim__2.elmnio").substr(0, 100));
  r = Convert(absl::StrCat("--in=", in, "/x_sim__0.p,", in,
                           "/x_sim__[123]* --out_dir=", out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(CountLines(r.output, "] converted "), 2) << r.output;
  EXPECT_EQ(CountLines(r.output, "] skipped "), 2) << r.output;
  EXPECT_NE(r.output.find("x_sim__1.p -> "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("x_sim__2.p -> "), std::string::npos) << r.output;
  ASSERT_TRUE(ReadNeuronioFile(out + "/x_sim__2.elmnio").ok());
}

TEST(ConvertNeuronioTest, FailuresNameTheFileAndTheOthersAreConverted) {
  const std::string in = MakeTestDir("convert_bad_in");
  const std::string out = MakeTestDir("convert_bad_out");
  WriteSynth(MakeSynth(3, 800, 1), in + "/a_sim__1.p");
  WriteSynth(MakeSynth(3, 800, 2), in + "/b_sim__2.p");
  WriteTestFile(in + "/b_sim__2.p",
                ReadTestFile(in + "/b_sim__2.p").substr(0, 4000));
  CommandResult r = Convert(absl::StrCat("--in=", in, "/*.p --out_dir=", out));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(absl::StrCat("FAILED ", in, "/b_sim__2.p: ")),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("1 converted, 0 skipped, 1 failed"),
            std::string::npos)
      << r.output;
  EXPECT_TRUE(Exists(out + "/a_sim__1.elmnio"));
  EXPECT_FALSE(Exists(out + "/b_sim__2.elmnio"));

  // Inputs that match nothing, or two inputs with one output name.
  r = Convert(absl::StrCat("--in=", in, "/nothing* --out_dir=", out));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("matches no file"), std::string::npos) << r.output;
  Gzip(in + "/a_sim__1.p", in + "/a_sim__1.p.gz");
  r = Convert(absl::StrCat("--in=", in, "/a_* --out_dir=", out));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("would both be written to"), std::string::npos)
      << r.output;
}

TEST(ConvertNeuronioTest, UsageErrors) {
  for (const char* args :
       {"", "--in=x", "--out_dir=y", "--in=x --out_dir=y --threads=-1",
        "--in=x --out_dir=y --threads=100000", "--in=x --out_dir=y extra"}) {
    CommandResult r = Convert(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("usage:"), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace elm
