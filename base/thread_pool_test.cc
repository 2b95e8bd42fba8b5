// Tests the thread pool: every task runs once per Run, on distinct threads,
// repeatedly, and fewer tasks than threads leave the extra workers idle.
#include "base/thread_pool.h"

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace elm {
namespace {

TEST(ThreadPoolTest, RunsEachTaskOncePerCall) {
  ThreadPool pool(3);
  EXPECT_EQ(pool.num_threads(), 3);
  for (int round = 0; round < 200; ++round) {
    std::vector<int> hits(3, 0);
    std::vector<std::thread::id> ids(3);
    pool.Run(3, [&](int i) {
      hits[i]++;
      ids[i] = std::this_thread::get_id();
    });
    EXPECT_EQ(hits, (std::vector<int>{1, 1, 1})) << round;
    EXPECT_EQ(std::set<std::thread::id>(ids.begin(), ids.end()).size(), 3u);
    EXPECT_EQ(ids[0], std::this_thread::get_id());
  }
}

TEST(ThreadPoolTest, FewerTasksThanThreads) {
  ThreadPool pool(4);
  std::atomic<int> sum{0};
  for (int round = 0; round < 100; ++round)
    pool.Run(2, [&](int i) { sum += i + 1; });
  EXPECT_EQ(sum.load(), 300);
  pool.Run(0, [&](int) { sum = -1; });
  EXPECT_EQ(sum.load(), 300);
}

TEST(ThreadPoolTest, SingleThreadRunsInline) {
  ThreadPool pool(1);
  int calls = 0;
  pool.Run(1, [&](int i) { calls += i + 1; });
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace elm
