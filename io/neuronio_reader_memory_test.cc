// The peak memory of reading a Kaggle-size NeuronIO pickle
// (WriteKaggleSizePickle, io/neuronio_test_files.h: 6 s simulations with the
// released files' input rate and the dendritic and high-resolution traces)
// with ReadNeuronioFile, measured in a child process
// (//io:neuronio_reader_benchmark --read, peak RSS from /proc/self/status) so
// that this test's own allocations do not count. A 128-simulation file is
// 1.4 GB and takes most of a minute to write on 2 cores, so the test reads a
// 24-simulation one (260 MB) and checks the bound that makes 128 simulations
// fit in 300 MB: 40 MB plus 2 MB per simulation (the result is ~0.75 MB per
// simulation; 40 + 128 · 2 = 296). The benchmark measures the 128-simulation
// file itself (docs/data.md "Reading the NeuronIO pickles").
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/test_binary.h"
#include "base/test_files.h"
#include "gtest/gtest.h"
#include "io/neuronio_test_files.h"

namespace elm {
namespace {

TEST(NeuronioReaderMemoryTest, PeakMemoryStaysUnderTheKaggleBound) {
  constexpr int kSims = 24;
  const std::string path = TestTempPath("kaggle_size.p");
  ASSERT_TRUE(neuronio_testing::WriteKaggleSizePickle(path, kSims, 3).ok());
  const CommandResult r = RunTestBinary("io/neuronio_reader_benchmark",
                                        absl::StrCat("--read=", path));
  std::remove(path.c_str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  double seconds = 0, cpu = 0;
  long long peak = 0, sims = 0, spikes = 0;
  ASSERT_EQ(std::sscanf(r.output.c_str(),
                        "seconds=%lf peak_rss=%lld cpu_seconds=%lf sims=%lld "
                        "input_spikes=%lld",
                        &seconds, &peak, &cpu, &sims, &spikes),
            5)
      << r.output;
  std::printf("%d simulations: peak RSS %.1f MB, %.2f s\n", kSims, peak / 1e6,
              seconds);
  EXPECT_EQ(sims, kSims);
  EXPECT_GT(spikes, kSims * 70000);  // the released files' rate
  EXPECT_GT(peak, 0);
  EXPECT_LE(peak, (int64_t{40} << 20) + kSims * (int64_t{2} << 20));
}

}  // namespace
}  // namespace elm
