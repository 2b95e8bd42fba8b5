// The sweep's manager/worker queue over MPI (see sweep_mpi.h).
//
// Messages (base/mpi_group point to point):
//   worker -> 0, kTagReport: "<index>\t<ok>\t<progress line>" about the
//     variant it just ran, or "-1\t1\t" when it starts: a request for work.
//   0 -> worker, kTagAssign: the next variant index as text, or "-1": stop.
// Rank 0's main thread is the manager; its variants run on a second thread
// that never calls MPI (MpiGroup::World() is MPI_THREAD_FUNNELED).
#include "experiments/sweep_mpi.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "experiments/sweep_report.h"
#include "glog/logging.h"

namespace elm {
namespace {

constexpr int kTagReport = 1;
constexpr int kTagAssign = 2;
// How long a waiting rank sleeps between polls.
const absl::Duration kPoll = absl::Milliseconds(20);

using Clock = std::chrono::steady_clock;

void PrintLine(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

// Runs a variant and returns its report message.
std::string RunAndReport(const SweepPlan& plan, int index, int rank,
                         const SweepRunOptions& options) {
  const absl::StatusOr<VariantOutcome> outcome =
      RunSweepVariant(plan, index, options);
  return absl::StrCat(
      index, "\t", outcome.ok() ? 1 : 0, "\t",
      VariantLine(plan, index, outcome, absl::StrCat(" on rank ", rank)));
}

void Worker(const SweepPlan& plan, MpiGroup& group,
            const SweepRunOptions& options) {
  std::string report = "-1\t1\t";
  while (true) {
    group.SendBytes(0, kTagReport, report);
    const std::string assigned =
        group.ReceiveBytesSleeping(0, kTagAssign, kPoll);
    int index = -1;
    CHECK(absl::SimpleAtoi(assigned, &index)) << assigned;
    if (index < 0) return;
    report = RunAndReport(plan, index, group.rank(), options);
  }
}

// The manager on rank 0; returns the names of the failed variants.
std::vector<std::string> Manager(const SweepPlan& plan, MpiGroup& group,
                                 const SweepRunOptions& options) {
  const int n = static_cast<int>(plan.variants.size());
  int next = 0, done = 0;
  std::vector<std::string> failed;
  auto record = [&](const std::string& message) {
    const std::vector<std::string> parts =
        absl::StrSplit(message, absl::MaxSplits('\t', 2));
    int index = -1;
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &index) || index < 0) {
      return;
    }
    ++done;
    if (parts[1] != "1") failed.push_back(plan.variants[index].name);
    PrintLine(absl::StrCat(parts[2], "  (", done, " of ", n, " done)"));
  };
  auto announce = [&](int index, int rank) {
    PrintLine(absl::StrCat("[", index + 1, "/", n, "] ",
                           plan.variants[index].name, " -> rank ", rank));
  };
  // Rank 0's own worker thread.
  std::thread local;
  std::atomic<bool> local_done{false};
  std::string local_report;
  auto start_local = [&]() {
    const int index = next++;
    announce(index, 0);
    local_done = false;
    local = std::thread([&, index]() {
      local_report = RunAndReport(plan, index, 0, options);
      local_done = true;
    });
  };
  bool local_running = false;
  if (next < n) {
    start_local();
    local_running = true;
  }
  int remote = group.size() - 1;  // workers not yet told to stop
  std::string message;
  while (remote > 0 || local_running) {
    bool busy = false;
    int sender = -1;
    if (group.TryReceiveBytes(MpiGroup::kAnyRank, kTagReport, &message,
                              &sender)) {
      busy = true;
      record(message);
      int index = -1;
      if (next < n) {
        index = next++;
        announce(index, sender);
      } else {
        --remote;
      }
      group.SendBytes(sender, kTagAssign, absl::StrCat(index));
    }
    if (local_running && local_done) {
      busy = true;
      local.join();
      record(local_report);
      local_running = next < n;
      if (local_running) start_local();
    }
    if (!busy) absl::SleepFor(kPoll);
  }
  return failed;
}

}  // namespace

absl::Status RunSweepOnRanks(const SweepPlan& plan,
                             const SweepRunOptions& options, MpiGroup& group) {
  group.set_failure_hint(
      "Run the same command again: finished variants are skipped and "
      "interrupted ones resume from their last checkpoint.");
  absl::Status status;
  if (group.is_root()) {
    std::error_code ec;
    std::filesystem::create_directories(plan.output_dir, ec);
    PrintLine(absl::StrCat(PlanLine(plan), " on ", group.size(), " ranks"));
    const auto start = Clock::now();
    const std::vector<std::string> failed = Manager(plan, group, options);
    status = WriteSweepReport(plan);
    PrintLine(absl::StrCat(
        "sweep ", plan.sweep.name(), ": ", plan.variants.size(),
        " variants in ",
        absl::StrFormat(
            "%.1f",
            std::chrono::duration<double>(Clock::now() - start).count()),
        " s on ", group.size(), " ranks; ", plan.output_dir, "/sweep.csv, ",
        plan.output_dir, "/sweep.html"));
    if (status.ok() && !failed.empty()) {
      status = absl::InternalError(
          absl::StrCat(failed.size(), " of ", plan.variants.size(),
                       " variants failed: ", absl::StrJoin(failed, ", ")));
    }
  } else {
    Worker(plan, group, options);
  }
  group.BarrierSleeping(kPoll);
  return status;
}

}  // namespace elm
