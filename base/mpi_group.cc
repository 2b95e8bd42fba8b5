// MpiGroup: see mpi_group.h. Under mpirun the world communicator's error
// handler is MPI_ERRORS_RETURN, so that a failed collective reaches Check,
// which prints what happened (and the caller's hint) before MPI_Abort ends the
// job; with MPI's default handler (MPI_ERRORS_ARE_FATAL) the job would also
// stop, with MPI's message only.
#include "base/mpi_group.h"

#include <mpi.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

#include "absl/time/clock.h"
#include "glog/logging.h"

namespace elm {
namespace {

void FinalizeAtExit() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Finalize();
}

// The displacements of `counts` (bytes per rank) as MPI's ints.
void IntCountsAndDisplacements(absl::Span<const int64_t> counts,
                               std::vector<int>* ints,
                               std::vector<int>* displs) {
  ints->resize(counts.size());
  displs->resize(counts.size());
  int64_t offset = 0;
  for (size_t r = 0; r < counts.size(); ++r) {
    CHECK_GE(counts[r], 0);
    CHECK_LE(offset + counts[r], INT_MAX)
        << "a gather of more than 2 GiB is not supported";
    (*ints)[r] = static_cast<int>(counts[r]);
    (*displs)[r] = static_cast<int>(offset);
    offset += counts[r];
  }
}

}  // namespace

MpiGroup& MpiGroup::World() {
  static MpiGroup* world = [] {
    auto* group = new MpiGroup();
    if (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr) group->InitMpi();
    return group;
  }();
  return *world;
}

MpiGroup& MpiGroup::Single() {
  static MpiGroup* single = new MpiGroup();
  return *single;
}

void MpiGroup::InitMpi() {
  // A program may have initialised MPI itself (then it also finalises it).
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    std::atexit(FinalizeAtExit);
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  uses_mpi_ = true;
}

std::pair<int64_t, int64_t> MpiGroup::Part(int64_t n, int parts, int r) {
  CHECK_GT(parts, 0);
  CHECK(r >= 0 && r < parts) << r << " of " << parts;
  return {n * r / parts, n * (r + 1) / parts};
}

void MpiGroup::Check(int error, const char* what) {
  if (error == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {0};
  int length = 0;
  MPI_Error_string(error, text, &length);
  std::fprintf(stderr,
               "elm: rank %d of %d: %s failed (%s): another rank has stopped "
               "or the connection between ranks is lost; the job stops.%s%s\n",
               rank_, size_, what, text, hint_.empty() ? "" : " ",
               hint_.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);
}

void MpiGroup::Barrier() {
  if (!uses_mpi_) return;
  Check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

std::vector<char> MpiGroup::AllGatherBytesKnown(
    absl::Span<const char> mine, absl::Span<const int64_t> counts) {
  CHECK_EQ(static_cast<int>(counts.size()), size_);
  CHECK_EQ(static_cast<int64_t>(mine.size()), counts[rank_]);
  if (!uses_mpi_) return std::vector<char>(mine.begin(), mine.end());
  std::vector<int> ints, displs;
  IntCountsAndDisplacements(counts, &ints, &displs);
  std::vector<char> out(static_cast<size_t>(displs.back()) + ints.back());
  // MPI wants a non-null send buffer even for 0 bytes.
  char empty = 0;
  Check(MPI_Allgatherv(mine.empty() ? &empty : mine.data(),
                       static_cast<int>(mine.size()), MPI_BYTE,
                       out.empty() ? &empty : out.data(), ints.data(),
                       displs.data(), MPI_BYTE, MPI_COMM_WORLD),
        "MPI_Allgatherv");
  return out;
}

std::vector<char> MpiGroup::AllGatherBytes(absl::Span<const char> mine,
                                           std::vector<int64_t>* counts) {
  std::vector<int64_t> sizes(size_, 0);
  sizes[rank_] = static_cast<int64_t>(mine.size());
  if (uses_mpi_) {
    long long n = static_cast<long long>(mine.size());
    std::vector<long long> all(size_);
    Check(MPI_Allgather(&n, 1, MPI_LONG_LONG, all.data(), 1, MPI_LONG_LONG,
                        MPI_COMM_WORLD),
          "MPI_Allgather");
    for (int r = 0; r < size_; ++r) sizes[r] = all[r];
  }
  std::vector<char> out = AllGatherBytesKnown(mine, sizes);
  if (counts != nullptr) *counts = std::move(sizes);
  return out;
}

void MpiGroup::BroadcastBytes(std::string* bytes, int root) {
  if (!uses_mpi_) return;
  CHECK(root >= 0 && root < size_);
  long long n = static_cast<long long>(bytes->size());
  Check(MPI_Bcast(&n, 1, MPI_LONG_LONG, root, MPI_COMM_WORLD), "MPI_Bcast");
  CHECK_LE(n, INT_MAX) << "a broadcast of more than 2 GiB is not supported";
  bytes->resize(static_cast<size_t>(n));
  if (n == 0) return;
  Check(MPI_Bcast(&(*bytes)[0], static_cast<int>(n), MPI_BYTE, root,
                  MPI_COMM_WORLD),
        "MPI_Bcast");
}

std::vector<std::string> MpiGroup::GatherToRoot(absl::string_view mine,
                                                int root) {
  if (!uses_mpi_) return {std::string(mine)};
  CHECK(root >= 0 && root < size_);
  long long n = static_cast<long long>(mine.size());
  std::vector<long long> sizes(rank_ == root ? size_ : 0);
  Check(MPI_Gather(&n, 1, MPI_LONG_LONG, sizes.data(), 1, MPI_LONG_LONG, root,
                   MPI_COMM_WORLD),
        "MPI_Gather");
  std::vector<int> ints, displs;
  std::vector<char> all;
  if (rank_ == root) {
    std::vector<int64_t> counts(sizes.begin(), sizes.end());
    IntCountsAndDisplacements(counts, &ints, &displs);
    all.resize(static_cast<size_t>(displs.back()) + ints.back());
  }
  char empty = 0;
  Check(MPI_Gatherv(mine.empty() ? &empty : mine.data(),
                    static_cast<int>(mine.size()), MPI_BYTE,
                    all.empty() ? &empty : all.data(), ints.data(),
                    displs.data(), MPI_BYTE, root, MPI_COMM_WORLD),
        "MPI_Gatherv");
  std::vector<std::string> out;
  if (rank_ != root) return out;
  for (int r = 0; r < size_; ++r) {
    out.emplace_back(all.data() + displs[r], ints[r]);
  }
  return out;
}

void MpiGroup::SendBytes(int to, int tag, absl::string_view bytes) {
  CHECK(uses_mpi_) << "SendBytes needs mpirun";
  CHECK(to >= 0 && to < size_ && tag >= 0);
  CHECK_LE(bytes.size(), static_cast<size_t>(INT_MAX));
  char empty = 0;
  Check(MPI_Send(bytes.empty() ? &empty : bytes.data(),
                 static_cast<int>(bytes.size()), MPI_BYTE, to, tag,
                 MPI_COMM_WORLD),
        "MPI_Send");
}

std::string MpiGroup::ReceiveBytes(int from, int tag, int* sender) {
  CHECK(uses_mpi_) << "ReceiveBytes needs mpirun";
  CHECK((from == kAnyRank || (from >= 0 && from < size_)) && tag >= 0);
  MPI_Status status;
  Check(MPI_Probe(from == kAnyRank ? MPI_ANY_SOURCE : from, tag, MPI_COMM_WORLD,
                  &status),
        "MPI_Probe");
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  std::string bytes(static_cast<size_t>(count), '\0');
  char empty = 0;
  Check(MPI_Recv(count == 0 ? &empty : &bytes[0], count, MPI_BYTE,
                 status.MPI_SOURCE, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
        "MPI_Recv");
  if (sender != nullptr) *sender = status.MPI_SOURCE;
  return bytes;
}

bool MpiGroup::TryReceiveBytes(int from, int tag, std::string* bytes,
                               int* sender) {
  CHECK(uses_mpi_) << "TryReceiveBytes needs mpirun";
  CHECK((from == kAnyRank || (from >= 0 && from < size_)) && tag >= 0);
  int arrived = 0;
  MPI_Status status;
  Check(MPI_Iprobe(from == kAnyRank ? MPI_ANY_SOURCE : from, tag,
                   MPI_COMM_WORLD, &arrived, &status),
        "MPI_Iprobe");
  if (!arrived) return false;
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  bytes->assign(static_cast<size_t>(count), '\0');
  char empty = 0;
  Check(MPI_Recv(count == 0 ? &empty : &(*bytes)[0], count, MPI_BYTE,
                 status.MPI_SOURCE, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
        "MPI_Recv");
  if (sender != nullptr) *sender = status.MPI_SOURCE;
  return true;
}

std::string MpiGroup::ReceiveBytesSleeping(int from, int tag,
                                           absl::Duration poll, int* sender) {
  std::string bytes;
  while (!TryReceiveBytes(from, tag, &bytes, sender)) absl::SleepFor(poll);
  return bytes;
}

void MpiGroup::BarrierSleeping(absl::Duration poll) {
  if (!uses_mpi_) return;
  MPI_Request request;
  Check(MPI_Ibarrier(MPI_COMM_WORLD, &request), "MPI_Ibarrier");
  while (true) {
    int done = 0;
    Check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) return;
    absl::SleepFor(poll);
  }
}

void MpiGroup::Abort(absl::string_view message, int code) {
  std::fprintf(stderr, "%.*s\n", static_cast<int>(message.size()),
               message.data());
  std::fflush(stderr);
  if (uses_mpi_) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

}  // namespace elm
