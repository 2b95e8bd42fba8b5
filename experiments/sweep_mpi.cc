// The sweep's manager/worker queue over MPI (see sweep_mpi.h).
//
// Messages (MPI_COMM_WORLD):
//   worker -> 0, kTagReport: chars "<index>\t<ok>\t<progress line>" about the
//     variant it just ran, or "-1\t1\t" when it starts: a request for work.
//   0 -> worker, kTagAssign: one int, the next variant index, or -1: stop.
// Rank 0's main thread is the manager; its variants run on a second thread
// that never calls MPI (MPI_THREAD_FUNNELED).
#include "experiments/sweep_mpi.h"

#include <mpi.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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
#include "experiments/sweep_report.h"
#include "glog/logging.h"

namespace elm {
namespace {

constexpr int kTagReport = 1;
constexpr int kTagAssign = 2;
// How long a waiting rank sleeps between polls.
constexpr auto kPoll = std::chrono::milliseconds(20);

using Clock = std::chrono::steady_clock;

void PrintLine(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

// Waits for `request` by polling, sleeping between tests (MPI_Wait would spin
// on a core).
void WaitPolling(MPI_Request* request) {
  int done = 0;
  while (true) {
    MPI_Test(request, &done, MPI_STATUS_IGNORE);
    if (done) return;
    std::this_thread::sleep_for(kPoll);
  }
}

// A barrier that sleeps while it waits.
void PollingBarrier() {
  MPI_Request request;
  MPI_Ibarrier(MPI_COMM_WORLD, &request);
  WaitPolling(&request);
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

void Worker(const SweepPlan& plan, int rank, const SweepRunOptions& options) {
  std::string report = "-1\t1\t";
  while (true) {
    MPI_Send(report.data(), static_cast<int>(report.size()), MPI_CHAR, 0,
             kTagReport, MPI_COMM_WORLD);
    int index = -1;
    MPI_Request request;
    MPI_Irecv(&index, 1, MPI_INT, 0, kTagAssign, MPI_COMM_WORLD, &request);
    WaitPolling(&request);
    if (index < 0) return;
    report = RunAndReport(plan, index, rank, options);
  }
}

// The manager on rank 0; returns the names of the failed variants.
std::vector<std::string> Manager(const SweepPlan& plan, int size,
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
  int remote = size - 1;  // workers that have not been told to stop
  while (remote > 0 || local_running) {
    bool busy = false;
    int flag = 0;
    MPI_Status status;
    MPI_Iprobe(MPI_ANY_SOURCE, kTagReport, MPI_COMM_WORLD, &flag, &status);
    if (flag) {
      busy = true;
      int count = 0;
      MPI_Get_count(&status, MPI_CHAR, &count);
      std::string message(count, '\0');
      MPI_Recv(message.data(), count, MPI_CHAR, status.MPI_SOURCE, kTagReport,
               MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      record(message);
      int index = -1;
      if (next < n) {
        index = next++;
        announce(index, status.MPI_SOURCE);
      } else {
        --remote;
      }
      MPI_Send(&index, 1, MPI_INT, status.MPI_SOURCE, kTagAssign,
               MPI_COMM_WORLD);
    }
    if (local_running && local_done) {
      busy = true;
      local.join();
      record(local_report);
      local_running = next < n;
      if (local_running) start_local();
    }
    if (!busy) std::this_thread::sleep_for(kPoll);
  }
  return failed;
}

}  // namespace

bool StartedByMpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr;
}

int MpirunRank() {
  const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
  int r = 0;
  if (rank == nullptr || !absl::SimpleAtoi(rank, &r)) return 0;
  return r;
}

absl::Status RunSweepOnRanks(const SweepPlan& plan,
                             const SweepRunOptions& options) {
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    return absl::FailedPreconditionError(
        "this MPI library does not support MPI_THREAD_FUNNELED");
  }
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  absl::Status status;
  if (rank == 0) {
    std::error_code ec;
    std::filesystem::create_directories(plan.output_dir, ec);
    PrintLine(absl::StrCat(PlanLine(plan), " on ", size, " ranks"));
    const auto start = Clock::now();
    const std::vector<std::string> failed = Manager(plan, size, options);
    status = WriteSweepReport(plan);
    PrintLine(absl::StrCat(
        "sweep ", plan.sweep.name(), ": ", plan.variants.size(),
        " variants in ",
        absl::StrFormat(
            "%.1f",
            std::chrono::duration<double>(Clock::now() - start).count()),
        " s on ", size, " ranks; ", plan.output_dir, "/sweep.csv, ",
        plan.output_dir, "/sweep.html"));
    if (status.ok() && !failed.empty()) {
      status = absl::InternalError(
          absl::StrCat(failed.size(), " of ", plan.variants.size(),
                       " variants failed: ", absl::StrJoin(failed, ", ")));
    }
  } else {
    Worker(plan, rank, options);
  }
  PollingBarrier();
  MPI_Finalize();
  return status;
}

}  // namespace elm
