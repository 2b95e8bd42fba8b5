// The processes of a run, and the MPI collectives the trainer and the
// evaluator use. `MpiGroup::World()` is the world: when the program runs under
// Open MPI's `mpirun` (OMPI_COMM_WORLD_SIZE is set) the first call initialises
// MPI (MPI_THREAD_FUNNELED: only the thread that called World() talks MPI) and
// MPI is finalised at exit; otherwise it is a group of one process that makes
// no MPI call at all, so single-process runs and tests never pay MPI_Init. (A
// program that initialised MPI itself gets its world, and finalises it.)
//
//   MpiGroup& world = MpiGroup::World();
//   const auto [b0, b1] = MpiGroup::Part(batch, world.size(), world.rank());
//   std::vector<float> mine = ...;                       // rows [b0, b1)
//   std::vector<float> all = world.AllGather<float>(mine);  // in rank order
//
// Collectives are called by every rank in the same order. A failure of
// any call (a rank
// died, the job is being torn down) does not return: the rank prints what
// happened with the hint set by set_failure_hint (e.g. how to resume) and
// aborts the job (MPI_Abort), and mpirun reports the ranks it ended.
#ifndef ELM_BASE_MPI_GROUP_H_
#define ELM_BASE_MPI_GROUP_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace elm {

class MpiGroup {
 public:
  // The world (see above). Not thread-safe on its first call: call it from
  // main's thread before starting threads that use it.
  static MpiGroup& World();

  // A group of one process that makes no MPI call (what World() is outside
  // mpirun), for callers and tests that want no MPI.
  static MpiGroup& Single();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }
  // Whether MPI is in use (the program runs under mpirun, even with 1 rank).
  bool uses_mpi() const { return uses_mpi_; }

  // Part `r` of [0, n) split into `parts` contiguous parts:
  // [n·r/parts, n·(r+1)/parts). Parts differ by at most one in size.
  static std::pair<int64_t, int64_t> Part(int64_t n, int parts, int r);

  void Barrier();

  // Every rank's `mine` (of any length), concatenated in rank order, on every
  // rank; `counts`, when not null, receives each rank's length.
  std::vector<char> AllGatherBytes(absl::Span<const char> mine,
                                   std::vector<int64_t>* counts = nullptr);
  template <typename T>
  std::vector<T> AllGather(absl::Span<const T> mine,
                           std::vector<int64_t>* counts = nullptr);

  // The same when every rank knows every rank's length already (`counts`,
  // [size()], in bytes or elements, equal on all ranks; mine.size() ==
  // counts[rank()]): one collective instead of two.
  std::vector<char> AllGatherBytesKnown(absl::Span<const char> mine,
                                        absl::Span<const int64_t> counts);
  template <typename T>
  std::vector<T> AllGatherKnown(absl::Span<const T> mine,
                                absl::Span<const int64_t> counts);

  // Root's `*bytes` on every rank (resized to it).
  void BroadcastBytes(std::string* bytes, int root = 0);

  // Every rank's `mine` on `root`, in rank order; other ranks get {}.
  std::vector<std::string> GatherToRoot(absl::string_view mine, int root = 0);

  // Point to point, for work queues (e.g. a root handing out tasks): sends
  // `bytes` to rank `to` with `tag` (>= 0; blocks until the message is on its
  // way), and receives the next message with `tag` from rank `from`
  // (kAnyRank: any), setting `*sender` when not null. Not for one process.
  static constexpr int kAnyRank = -1;
  void SendBytes(int to, int tag, absl::string_view bytes);
  std::string ReceiveBytes(int from, int tag, int* sender = nullptr);
  // Without waiting: receives a message with `tag` from `from` (kAnyRank:
  // any) into `*bytes` and returns true when one has arrived, else returns
  // false at once (a manager polls its workers this way between its own
  // work).
  bool TryReceiveBytes(int from, int tag, std::string* bytes,
                       int* sender = nullptr);

  // Waiting without taking a core: MPI's blocking calls poll in a busy loop
  // (unless mpi_yield_when_idle), which starves a working thread or rank on
  // shared cores. These sleep `poll` between checks instead, for waits that
  // may last minutes (a sweep's workers waiting for a variant or the end).
  // Like ReceiveBytes and Barrier otherwise.
  std::string ReceiveBytesSleeping(int from, int tag, absl::Duration poll,
                                   int* sender = nullptr);
  void BarrierSleeping(absl::Duration poll);

  // A line printed after the message of a failed collective, e.g. how to
  // continue the run ("rerun with --resume: ...").
  void set_failure_hint(std::string hint) { hint_ = std::move(hint); }

  // Ends the whole job after printing `message` to stderr: MPI_Abort with
  // `code` under mpirun (every rank stops, mpirun exits with `code`), else
  // exit(code).
  [[noreturn]] void Abort(absl::string_view message, int code = 1);

 private:
  MpiGroup() = default;
  void InitMpi();
  // Aborts the job when an MPI call returned `error`, naming `what`.
  void Check(int error, const char* what);

  int rank_ = 0;
  int size_ = 1;
  bool uses_mpi_ = false;
  std::string hint_;
};

template <typename T>
std::vector<T> MpiGroup::AllGather(absl::Span<const T> mine,
                                   std::vector<int64_t>* counts) {
  static_assert(std::is_trivially_copyable<T>::value, "plain data only");
  const std::vector<char> bytes = AllGatherBytes(
      absl::Span<const char>(reinterpret_cast<const char*>(mine.data()),
                             mine.size() * sizeof(T)),
      counts);
  std::vector<T> out(bytes.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
  if (counts != nullptr) {
    for (int64_t& c : *counts) c /= static_cast<int64_t>(sizeof(T));
  }
  return out;
}

template <typename T>
std::vector<T> MpiGroup::AllGatherKnown(absl::Span<const T> mine,
                                        absl::Span<const int64_t> counts) {
  static_assert(std::is_trivially_copyable<T>::value, "plain data only");
  std::vector<int64_t> bytes_per_rank(counts.begin(), counts.end());
  for (int64_t& c : bytes_per_rank) c *= static_cast<int64_t>(sizeof(T));
  const std::vector<char> bytes = AllGatherBytesKnown(
      absl::Span<const char>(reinterpret_cast<const char*>(mine.data()),
                             mine.size() * sizeof(T)),
      bytes_per_rank);
  std::vector<T> out(bytes.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

}  // namespace elm

#endif  // ELM_BASE_MPI_GROUP_H_
