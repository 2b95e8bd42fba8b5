// Runs mpi_smoke on 1, 2 and 4 ranks (4 oversubscribe 2 cores) under mpirun
// with MpirunOptions() (base/test_binary.h): as root, in a container, with no
// network but loopback. Checks the allreduce and allgather results rank 0
// printed.
#include <string>

#include "absl/strings/str_cat.h"
#include "base/test_binary.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

TEST(MpiSmokeTest, RanksCommunicate) {
  for (int ranks : {1, 2, 4}) {
    CommandResult r =
        RunTestBinaryOnRanks("third_party/smoke/mpi_smoke", ranks, "");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::string expected = absl::StrCat("size ", ranks, " sum ",
                                        ranks * (ranks + 1) / 2, " gathered");
    for (int i = 0; i < ranks; ++i) absl::StrAppend(&expected, " ", i);
    EXPECT_NE(r.output.find(expected + "\n"), std::string::npos)
        << "expected '" << expected << "' in:\n"
        << r.output;
  }
}

}  // namespace
}  // namespace elm
