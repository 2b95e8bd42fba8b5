// The run directory's guards: RunDirLock keeps two runs out of one directory
// (flock(2) on "<dir>/.lock", which the kernel releases when the process ends,
// however it ends, so a stale lock file never blocks), and PrepareFreshRunDir
// keeps a fresh run from mixing with, or silently destroying, an earlier run:
// it refuses a directory that holds one unless asked to overwrite it, and then
// removes everything a run writes before the new run writes anything.
//
// Example:
//   ASSIGN_OR_RETURN(RunDirLock lock, RunDirLock::Acquire(dir));
//   if (!resume) RETURN_IF_ERROR(PrepareFreshRunDir(dir, overwrite));
#ifndef ELM_EXPERIMENTS_RUN_DIR_H_
#define ELM_EXPERIMENTS_RUN_DIR_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace elm {

// An exclusive lock on a run directory, held while the object lives.
class RunDirLock {
 public:
  RunDirLock() = default;
  // Locks the existing directory `dir`. FailedPrecondition, naming the
  // directory and the holder's pid, when another process holds it (another
  // RunDirLock of this process on the same directory counts as another
  // holder too); an errno-coded error when the lock file cannot be created.
  static absl::StatusOr<RunDirLock> Acquire(const std::string& dir);
  RunDirLock(RunDirLock&& other) noexcept;
  RunDirLock& operator=(RunDirLock&& other) noexcept;
  RunDirLock(const RunDirLock&) = delete;
  RunDirLock& operator=(const RunDirLock&) = delete;
  ~RunDirLock();

  bool held() const { return fd_ >= 0; }

 private:
  explicit RunDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// The files and directories a run writes, relative to its directory (the
// lock file excepted): spec.textproto, metrics.csv, checkpoints/, best.ckpt,
// summary.json, report.html.
const std::vector<std::string>& RunDirEntries();

// For a run that starts afresh in `dir` (not --resume): OK when `dir` holds
// none of RunDirEntries(); otherwise, without `overwrite`, FailedPrecondition
// naming what it holds and the flags that decide (--resume, --overwrite,
// another --output_dir); with `overwrite`, removes those entries (the files in
// checkpoints/ that a run writes; checkpoints/ itself stays), leaving other
// files alone.
absl::Status PrepareFreshRunDir(const std::string& dir, bool overwrite);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_RUN_DIR_H_
