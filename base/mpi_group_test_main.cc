// An MPI program for mpi_group_test: every rank checks MpiGroup's collectives
// against the values it expects from every rank and rank 0 prints what it
// received. With --die_rank=R, rank R exits without a word before the second
// barrier (as a crashed rank would), to check that the job stops instead of
// waiting forever.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/mpi_group.h"

namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "mismatch: %s\n", what.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int die_rank = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--die_rank=", 0) == 0) {
      if (!absl::SimpleAtoi(arg.substr(11), &die_rank)) return 2;
    }
  }
  elm::MpiGroup& world = elm::MpiGroup::World();
  const int rank = world.rank(), size = world.size();
  world.set_failure_hint("(the test's hint)");
  // Rank r sends r + 1 copies of the letter 'a' + r (rank 0 ... ).
  std::vector<int64_t> counts;
  const std::string mine(rank + 1, static_cast<char>('a' + rank));
  const std::vector<char> all = world.AllGatherBytes(mine, &counts);
  std::string expected;
  for (int r = 0; r < size; ++r) expected += std::string(r + 1, 'a' + r);
  if (std::string(all.begin(), all.end()) != expected) return Fail("bytes");
  for (int r = 0; r < size; ++r) {
    if (counts[r] != r + 1) return Fail("counts");
  }
  // Floats with known counts: rank r sends r floats (rank 0 sends none).
  std::vector<float> floats(rank);
  for (int i = 0; i < rank; ++i) floats[i] = rank + 0.25f * i;
  std::vector<int64_t> known(size);
  for (int r = 0; r < size; ++r) known[r] = r;
  const std::vector<float> gathered =
      world.AllGatherKnown<float>(floats, known);
  std::vector<float> want;
  for (int r = 0; r < size; ++r) {
    for (int i = 0; i < r; ++i) want.push_back(r + 0.25f * i);
  }
  if (gathered != want) return Fail("floats");
  const std::vector<double> doubles =
      world.AllGather<double>(std::vector<double>{rank * 1.5});
  for (int r = 0; r < size; ++r) {
    if (doubles[r] != r * 1.5) return Fail("doubles");
  }
  std::string message = rank == 0 ? "from the root" : "";
  world.BroadcastBytes(&message);
  if (message != "from the root") return Fail("broadcast");
  const std::vector<std::string> at_root =
      world.GatherToRoot(absl::StrCat("rank", rank));
  if (rank == 0 && static_cast<int>(at_root.size()) != size) {
    return Fail("gather");
  }
  // Point to point: every other rank sends its rank to the root, which
  // receives from any rank and answers each with its rank doubled.
  std::string replies;
  if (rank == 0) {
    for (int i = 1; i < size; ++i) {
      int sender = -1;
      const std::string got =
          world.ReceiveBytes(elm::MpiGroup::kAnyRank, 7, &sender);
      if (got != absl::StrCat(sender)) return Fail("receive");
      world.SendBytes(sender, 8, absl::StrCat(2 * sender));
    }
  } else {
    world.SendBytes(0, 7, absl::StrCat(rank));
    if (world.ReceiveBytes(0, 8) != absl::StrCat(2 * rank)) {
      return Fail("reply");
    }
  }
  // The polling forms: every other rank sends its rank to the root, which
  // collects them with TryReceiveBytes (false until a message is there) and
  // answers each; the others wait for the answer sleeping.
  if (rank == 0) {
    std::string got;
    if (size == 1 && world.TryReceiveBytes(elm::MpiGroup::kAnyRank, 9, &got)) {
      return Fail("a message from nobody");
    }
    for (int answered = 0; answered < size - 1;) {
      int sender = -1;
      if (!world.TryReceiveBytes(elm::MpiGroup::kAnyRank, 9, &got, &sender)) {
        usleep(1000);
        continue;
      }
      if (got != absl::StrCat("polled ", sender)) return Fail("try receive");
      world.SendBytes(sender, 10, absl::StrCat(3 * sender));
      ++answered;
    }
  } else {
    world.SendBytes(0, 9, absl::StrCat("polled ", rank));
    int sender = -1;
    if (world.ReceiveBytesSleeping(0, 10, absl::Milliseconds(2), &sender) !=
            absl::StrCat(3 * rank) ||
        sender != 0) {
      return Fail("sleeping receive");
    }
  }
  world.BarrierSleeping(absl::Milliseconds(2));
  if (rank == die_rank) _exit(3);
  world.Barrier();
  if (rank == 0) {
    std::printf("size %d uses_mpi %d bytes %s gathered %s\n", size,
                world.uses_mpi() ? 1 : 0, expected.c_str(),
                absl::StrJoin(at_root, " ").c_str());
  }
  return 0;
}
