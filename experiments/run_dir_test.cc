// Tests RunDirLock (refused while another process or holder has it, free
// again once that process is killed, whatever its lock file says) and
// PrepareFreshRunDir (refuses an earlier run, removes exactly a run's files
// with overwrite).
#include "experiments/run_dir.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/test_files.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

TEST(RunDirLockTest, ASecondHolderIsRefusedUntilTheFirstEnds) {
  const std::string dir = MakeTestDir("run_dir_lock");
  {
    absl::StatusOr<RunDirLock> first = RunDirLock::Acquire(dir);
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_TRUE(first->held());
    absl::StatusOr<RunDirLock> second = RunDirLock::Acquire(dir);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(second.status().message(),
              absl::StrCat("output_dir '", dir,
                           "' is in use by another run (process ", ::getpid(),
                           "); wait for it to end, or choose another "
                           "--output_dir"));
  }
  // Released with the first object.
  absl::StatusOr<RunDirLock> again = RunDirLock::Acquire(dir);
  EXPECT_TRUE(again.ok()) << again.status();
}

TEST(RunDirLockTest, AKilledHolderLeavesNoLockBehind) {
  const std::string dir = MakeTestDir("run_dir_lock_killed");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    absl::StatusOr<RunDirLock> lock = RunDirLock::Acquire(dir);
    const char ok = lock.ok() ? '1' : '0';
    (void)!::write(ready[1], &ok, 1);
    while (true) ::pause();  // killed below, holding the lock
  }
  char ok = 0;
  ASSERT_EQ(::read(ready[0], &ok, 1), 1);
  ASSERT_EQ(ok, '1');
  absl::StatusOr<RunDirLock> refused = RunDirLock::Acquire(dir);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::StrContains(refused.status().message(),
                                absl::StrCat("(process ", child, ")")))
      << refused.status();
  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ::close(ready[0]);
  ::close(ready[1]);
  // The lock file is still there, naming the dead process; it does not block.
  ASSERT_TRUE(Exists(dir + "/.lock"));
  absl::StatusOr<RunDirLock> taken = RunDirLock::Acquire(dir);
  EXPECT_TRUE(taken.ok()) << taken.status();
}

TEST(RunDirLockTest, AMissingDirectoryIsAnError) {
  const std::string dir = MakeTestDir("run_dir_lock_missing") + "/nope";
  absl::StatusOr<RunDirLock> lock = RunDirLock::Acquire(dir);
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(lock.status().message(), "cannot create the "
                                                         "lock file"))
      << lock.status();
}

TEST(PrepareFreshRunDirTest, AnEmptyOrForeignDirectoryIsFine) {
  const std::string dir = MakeTestDir("run_dir_fresh_empty");
  ::mkdir((dir + "/checkpoints").c_str(), 0755);
  WriteTestFile(dir + "/notes.txt", "mine");
  EXPECT_TRUE(PrepareFreshRunDir(dir, /*overwrite=*/false).ok());
  EXPECT_TRUE(Exists(dir + "/notes.txt"));
}

TEST(PrepareFreshRunDirTest, RefusesAnEarlierRunAndOverwritesItWhenAsked) {
  const std::string dir = MakeTestDir("run_dir_fresh_run");
  ::mkdir((dir + "/checkpoints").c_str(), 0755);
  for (const char* f :
       {"spec.textproto", "metrics.csv", "checkpoints/latest.ckpt",
        "checkpoints/latest.ckpt.tmp.12.0", "best.ckpt", "summary.json",
        "report.html", "notes.txt"}) {
    WriteTestFile(absl::StrCat(dir, "/", f), "x");
  }
  absl::Status refused = PrepareFreshRunDir(dir, /*overwrite=*/false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(),
            absl::StrCat("output_dir '", dir,
                         "' holds an earlier run (spec.textproto, metrics.csv, "
                         "checkpoints/latest.ckpt, best.ckpt, summary.json, "
                         "report.html); pass --resume to continue it, "
                         "--overwrite to delete it and start afresh, or choose "
                         "another --output_dir"));
  EXPECT_TRUE(Exists(dir + "/summary.json"));  // refused: nothing removed

  ASSERT_TRUE(PrepareFreshRunDir(dir, /*overwrite=*/true).ok());
  for (const char* f :
       {"spec.textproto", "metrics.csv", "checkpoints/latest.ckpt",
        "checkpoints/latest.ckpt.tmp.12.0", "best.ckpt", "summary.json",
        "report.html"}) {
    EXPECT_FALSE(Exists(absl::StrCat(dir, "/", f))) << f;
  }
  EXPECT_TRUE(Exists(dir + "/notes.txt"));  // not the run's
  EXPECT_TRUE(PrepareFreshRunDir(dir, /*overwrite=*/false).ok());
}

TEST(PrepareFreshRunDirTest, ASummaryAloneCountsAsARun) {
  // A summary without checkpoints still describes a run: never keep it
  // beside a new one.
  const std::string dir = MakeTestDir("run_dir_fresh_summary");
  WriteTestFile(dir + "/summary.json", "{}");
  EXPECT_FALSE(PrepareFreshRunDir(dir, /*overwrite=*/false).ok());
}

}  // namespace
}  // namespace elm
