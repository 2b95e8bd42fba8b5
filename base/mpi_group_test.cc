// MpiGroup without mpirun (a group of one process, no MPI calls) in this
// process, and its collectives on 1, 2 and 3 ranks under mpirun
// (mpi_group_test_main, which also sends point to point, blocking and polled,
// and waits in a sleeping barrier), including a rank that
// dies: the job stops with mpirun's report instead of hanging.
#include "base/mpi_group.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/test_binary.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::pair<int64_t, int64_t> Range(int64_t a, int64_t b) { return {a, b}; }

TEST(MpiGroupTest, OutsideMpirunIsOneProcess) {
  ASSERT_EQ(std::getenv("OMPI_COMM_WORLD_SIZE"), nullptr);
  MpiGroup& world = MpiGroup::World();
  EXPECT_EQ(world.rank(), 0);
  EXPECT_EQ(world.size(), 1);
  EXPECT_TRUE(world.is_root());
  EXPECT_FALSE(world.uses_mpi());
  std::vector<int64_t> counts;
  const std::vector<float> mine = {1.5f, 2.5f};
  EXPECT_EQ(world.AllGather<float>(mine, &counts), mine);
  EXPECT_EQ(counts, std::vector<int64_t>{2});
  const std::vector<int64_t> known = {2};
  EXPECT_EQ(world.AllGatherKnown<float>(mine, known), mine);
  std::string bytes = "kept";
  world.BroadcastBytes(&bytes);
  EXPECT_EQ(bytes, "kept");
  EXPECT_EQ(world.GatherToRoot("x"), std::vector<std::string>{"x"});
  world.Barrier();
}

TEST(MpiGroupTest, Parts) {
  // 10 over 4: 2, 3, 2, 3, contiguous and covering.
  EXPECT_EQ(MpiGroup::Part(10, 4, 0), Range(0, 2));
  EXPECT_EQ(MpiGroup::Part(10, 4, 1), Range(2, 5));
  EXPECT_EQ(MpiGroup::Part(10, 4, 2), Range(5, 7));
  EXPECT_EQ(MpiGroup::Part(10, 4, 3), Range(7, 10));
  // Fewer items than parts: some parts are empty.
  EXPECT_EQ(MpiGroup::Part(1, 2, 0), Range(0, 0));
  EXPECT_EQ(MpiGroup::Part(1, 2, 1), Range(0, 1));
}

TEST(MpiGroupTest, CollectivesOnRanks) {
  for (int ranks : {1, 2, 3}) {
    const CommandResult r =
        RunTestBinaryOnRanks("base/mpi_group_test_main", ranks, "");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::string bytes, gathered;
    for (int k = 0; k < ranks; ++k) {
      bytes += std::string(k + 1, 'a' + k);
      absl::StrAppend(&gathered, k == 0 ? "" : " ", "rank", k);
    }
    EXPECT_THAT(r.output,
                HasSubstr(absl::StrCat("size ", ranks, " uses_mpi 1 bytes ",
                                       bytes, " gathered ", gathered, "\n")));
  }
}

TEST(MpiGroupTest, DeadRankStopsTheJob) {
  const CommandResult r =
      RunTestBinaryOnRanks("base/mpi_group_test_main", 2, "--die_rank=1");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, Not(HasSubstr("size 2")));
  // Open MPI's runtime sees the rank exit and ends the others (which wait in
  // a barrier) before their MPI call can return an error; mpirun names it.
  EXPECT_THAT(r.output, HasSubstr("exited with non-zero status"));
  EXPECT_THAT(r.output, HasSubstr("Exit code:    3"));
}

}  // namespace
}  // namespace elm
