// The compact NeuronIO file format: see neuronio_compact.h.
#include "io/neuronio_compact.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>  // NOLINT
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/checksum.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "glog/logging.h"
#include "io/neuronio_file.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "neuronio_compact.cc assumes a little-endian host"
#endif

namespace elm {
namespace {

constexpr size_t kMagicBytes = 8;

absl::Status Invalid(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("compact NeuronIO file '", path, "': ", what));
}

// Appends raw little-endian values.
class Writer {
 public:
  template <typename T>
  void Put(T v) {
    Bytes(&v, sizeof(T));
  }
  template <typename T>
  void Array(const std::vector<T>& v) {
    if (!v.empty()) Bytes(v.data(), v.size() * sizeof(T));
  }
  void Str(const std::string& s) {
    Put<uint32_t>(static_cast<uint32_t>(s.size()));
    Bytes(s.data(), s.size());
  }
  void Bytes(const void* p, size_t n) {
    buf_.append(static_cast<const char*>(p), n);
  }
  // Zero bytes up to a multiple of 8.
  void Pad8() { buf_.append((8 - buf_.size() % 8) % 8, '\0'); }
  std::string& buf() { return buf_; }

 private:
  std::string buf_;
};

// Reads raw little-endian values with bounds checks; the first failure sticks.
class Reader {
 public:
  Reader(absl::string_view data, const std::string& path)
      : data_(data), path_(path) {}

  template <typename T>
  bool Get(T* v, absl::string_view what) {
    return Bytes(v, sizeof(T), what);
  }
  template <typename T>
  bool Array(std::vector<T>* v, uint64_t n, absl::string_view what) {
    if (n > (data_.size() - pos_) / sizeof(T)) return Truncated(what);
    v->resize(n);
    return n == 0 || Bytes(v->data(), n * sizeof(T), what);
  }
  // n values of T in place (the data must be aligned for T there: version 2
  // lays its arrays out so, and its base is a mapping).
  template <typename T>
  bool Span(absl::Span<const T>* v, uint64_t n, absl::string_view what) {
    if (n > (data_.size() - pos_) / sizeof(T)) return Truncated(what);
    const char* p = data_.data() + pos_;
    CHECK_EQ(reinterpret_cast<uintptr_t>(p) % alignof(T), 0u) << path_;
    *v = absl::Span<const T>(reinterpret_cast<const T*>(p), n);
    pos_ += n * sizeof(T);
    return true;
  }
  // The zero bytes up to a multiple of 8; false (status() says why) when they
  // are missing or not zero.
  bool Pad8(absl::string_view what) {
    const size_t n = (8 - pos_ % 8) % 8;
    if (n > data_.size() - pos_) return Truncated(what);
    for (size_t i = 0; i < n; ++i) {
      if (data_[pos_ + i] != '\0') {
        status_ = Invalid(path_, absl::StrCat(what, ": padding byte ", pos_ + i,
                                              " is not zero"));
        return false;
      }
    }
    pos_ += n;
    return true;
  }
  bool Str(std::string* s, absl::string_view what) {
    uint32_t n = 0;
    if (!Get(&n, what)) return false;
    if (n > data_.size() - pos_) return Truncated(what);
    s->assign(data_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  size_t pos() const { return pos_; }
  const absl::Status& status() const { return status_; }

 private:
  bool Bytes(void* p, size_t n, absl::string_view what) {
    if (n > data_.size() - pos_) return Truncated(what);
    std::memcpy(p, data_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool Truncated(absl::string_view what) {
    status_ = Invalid(
        path_, absl::StrCat("truncated: the file ends at byte ", data_.size(),
                            " while reading ", what, " at byte ", pos_));
    return false;
  }

  absl::string_view data_;
  const std::string& path_;
  size_t pos_ = 0;
  absl::Status status_;
};

// A file mapped read-only with its pages populated from the page cache: no
// copy into a fresh buffer and no fault per page (a read into a buffer of a
// file's size costs more in page faults than the parse). A file truncated in
// place while mapped would fault (SIGBUS); every writer here replaces files
// by renaming (base/files.h), which leaves a mapped file whole.
class MappedFile {
 public:
  static absl::StatusOr<MappedFile> Open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return absl::ErrnoToStatus(
          errno, absl::StrCat(path, ": cannot open compact NeuronIO file"));
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      const int error = errno;
      ::close(fd);
      return absl::ErrnoToStatus(
          error, absl::StrCat(path, ": cannot read compact NeuronIO file"));
    }
    MappedFile m;
    m.size_ = static_cast<size_t>(st.st_size);
    m.version_ =
        absl::StrCat(path, "\n", st.st_dev, ":", st.st_ino, ":", st.st_size,
                     ":", st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, ":",
                     st.st_ctim.tv_sec, ".", st.st_ctim.tv_nsec);
    if (m.size_ > 0) {
      void* p = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
                       fd, 0);
      if (p == MAP_FAILED) {
        const int error = errno;
        ::close(fd);
        return absl::ErrnoToStatus(
            error, absl::StrCat(path, ": cannot read compact NeuronIO file"));
      }
      m.data_ = static_cast<const char*>(p);
    }
    ::close(fd);
    return m;
  }
  MappedFile(MappedFile&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        version_(std::move(o.version_)) {}
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile& operator=(MappedFile&&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
  }
  absl::string_view data() const { return absl::string_view(data_, size_); }
  // The path and the stat() fields that change when the file does.
  const std::string& version() const { return version_; }

 private:
  MappedFile() = default;
  const char* data_ = nullptr;
  size_t size_ = 0;
  std::string version_;
};

// The versions of files (MappedFile::version) whose CRC-32 matched in this
// process (NeuronioChecksum::kOncePerFileVersion).
class CheckedVersions {
 public:
  static CheckedVersions& Get() {
    static CheckedVersions* versions = new CheckedVersions;
    return *versions;
  }
  bool Contains(const std::string& version) {
    std::lock_guard<std::mutex> lock(mu_);
    return versions_.count(version) > 0;
  }
  void Add(const std::string& version) {
    std::lock_guard<std::mutex> lock(mu_);
    versions_.insert(version);
  }

 private:
  std::mutex mu_;
  std::unordered_set<std::string> versions_;
};

// NeuronioSpikeStep(t) when t is finite, >= 0 and its step lies in
// [0, duration); -1 otherwise (no float-to-integer overflow).
int64_t OutputStep(double t, int64_t duration) {
  if (!(std::isfinite(t) && t >= 0 &&
        t - 0.5 < static_cast<double>(duration))) {
    return -1;
  }
  const int64_t step = NeuronioSpikeStep(t);
  return step < duration ? step : -1;
}

// Checks what a writer needs of a simulation's channel lists and soma.
absl::Status CheckWritable(const NeuronioSimulation& sim, size_t i,
                           const std::string& path) {
  if (sim.num_segments < 0 ||
      sim.channel_begin.size() !=
          static_cast<size_t>(2 * sim.num_segments + 1) ||
      sim.channel_begin.back() !=
          static_cast<int64_t>(sim.channel_times.size()) ||
      sim.soma_mv.size() != static_cast<size_t>(sim.duration_ms)) {
    return Invalid(
        path, absl::StrCat("cannot write simulation ", i,
                           ": channel_begin has ", sim.channel_begin.size(),
                           " entries for ", sim.num_segments, " segments and ",
                           sim.channel_times.size(),
                           " spike times, soma_mv has ", sim.soma_mv.size(),
                           " samples for ", sim.duration_ms, " ms"));
  }
  return absl::OkStatus();
}

// Version 2's step index needs channel lists that make sense.
absl::Status CheckIndexable(const NeuronioSimulation& sim, size_t i,
                            const std::string& path) {
  bool ok = sim.channel_begin[0] == 0;
  for (size_t c = 0; ok && c + 1 < sim.channel_begin.size(); ++c) {
    ok = sim.channel_begin[c + 1] >= sim.channel_begin[c];
  }
  for (size_t k = 0; ok && k < sim.channel_times.size(); ++k) {
    ok = sim.channel_times[k] >= 0 && sim.channel_times[k] < sim.duration_ms;
  }
  if (ok) return absl::OkStatus();
  return Invalid(path, absl::StrCat("cannot write simulation ", i,
                                    ": channel_begin is not ascending from 0 "
                                    "or an input spike time is outside [0, ",
                                    sim.duration_ms, ")"));
}

void WriteV1Simulation(const NeuronioSimulation& sim, Writer* w) {
  w->Put<uint32_t>(static_cast<uint32_t>(sim.num_segments));
  w->Put<int64_t>(sim.duration_ms);
  w->Put<uint64_t>(sim.channel_times.size());
  w->Put<uint64_t>(sim.output_spike_times_ms.size());
  w->Array(sim.channel_begin);
  w->Array(sim.channel_times);
  w->Array(sim.output_spike_times_ms);
  w->Array(sim.soma_mv);
}

void WriteV2Simulation(const NeuronioSimulation& sim, Writer* w) {
  // The index from the channel lists, not from `sim`'s own step arrays.
  NeuronioSimulation index;
  index.num_segments = sim.num_segments;
  index.duration_ms = sim.duration_ms;
  index.channel_begin = sim.channel_begin;
  index.channel_times = sim.channel_times;
  IndexNeuronioSteps(&index);
  bool increasing = true;  // every channel's times: then not stored
  for (int c = 0; increasing && c < sim.input_dim(); ++c) {
    for (int64_t k = sim.channel_begin[c] + 1; k < sim.channel_begin[c + 1];
         ++k) {
      if (sim.channel_times[k] <= sim.channel_times[k - 1]) {
        increasing = false;
        break;
      }
    }
  }
  std::vector<int64_t> output_steps;
  output_steps.reserve(sim.output_spike_times_ms.size());
  for (double t : sim.output_spike_times_ms) {
    output_steps.push_back(OutputStep(t, sim.duration_ms));
  }
  w->Put<uint32_t>(static_cast<uint32_t>(sim.num_segments));
  w->Put<uint32_t>(increasing ? 0 : 1);
  w->Put<int64_t>(sim.duration_ms);
  w->Put<uint64_t>(index.step_channels.size());
  w->Put<uint64_t>(sim.output_spike_times_ms.size());
  w->Put<uint64_t>(sim.channel_times.size());
  w->Array(index.step_begin);
  w->Array(output_steps);
  w->Array(sim.output_spike_times_ms);
  if (!increasing) w->Array(sim.channel_begin);
  w->Array(sim.soma_mv);
  w->Array(index.step_channels);
  if (!increasing) w->Array(sim.channel_times);
  w->Pad8();
}

// A version-2 simulation as it lies in the file.
struct V2Simulation {
  NeuronioSimulationView view;
  absl::Span<const double> output_spike_times_ms;
  bool lists = false;  // channel_begin / channel_times stored
  absl::Span<const int64_t> channel_begin;
  absl::Span<const int32_t> channel_times;
};

// Everything a read of either version produces before it is handed out.
struct Parsed {
  std::shared_ptr<const MappedFile> mapped;
  uint32_t version = 0;
  NeuronioFile file;               // path, params; version 1: simulations
  std::vector<V2Simulation> sims;  // version 2
};

// The checks of a version-1 simulation, and its output spike steps and step
// index built.
absl::Status CheckV1Simulation(const std::string& path,
                               const std::string& where,
                               NeuronioSimulation* sim) {
  const uint64_t num_in = sim->channel_times.size();
  if (sim->channel_begin[0] != 0 ||
      sim->channel_begin.back() != static_cast<int64_t>(num_in)) {
    return Invalid(path, absl::StrCat(where,
                                      ": channel_begin does not run from 0 "
                                      "to the spike count ",
                                      num_in));
  }
  for (size_t c = 0; c + 1 < sim->channel_begin.size(); ++c) {
    if (sim->channel_begin[c + 1] < sim->channel_begin[c]) {
      return Invalid(path, absl::StrCat(where, ": channel_begin[", c + 1,
                                        "] is below channel_begin[", c, "]"));
    }
  }
  for (size_t k = 0; k < sim->channel_times.size(); ++k) {
    const int32_t t = sim->channel_times[k];
    if (t < 0 || t >= sim->duration_ms) {
      return Invalid(path,
                     absl::StrCat(where, ": input spike time ", t,
                                  " is outside [0, ", sim->duration_ms, ")"));
    }
  }
  sim->output_spike_steps.reserve(sim->output_spike_times_ms.size());
  for (double t : sim->output_spike_times_ms) {
    const int64_t step = OutputStep(t, sim->duration_ms);
    if (step < 0) {
      return Invalid(
          path, absl::StrCat(where, ": output spike time ", t,
                             " ms has no step in [0, ", sim->duration_ms, ")"));
    }
    sim->output_spike_steps.push_back(step);
  }
  for (int64_t t = 0; t < sim->duration_ms; ++t) {
    if (!std::isfinite(sim->soma_mv[t])) {
      return Invalid(
          path, absl::StrCat(where, ": soma sample ", t, " is not finite"));
    }
  }
  IndexNeuronioSteps(sim);
  return absl::OkStatus();
}

absl::Status ReadV1Simulation(Reader& r, const std::string& path,
                              const std::string& where,
                              NeuronioSimulation* sim) {
  uint32_t n = 0;
  uint64_t num_in = 0, num_out = 0;
  if (!(r.Get(&n, where) && r.Get(&sim->duration_ms, where) &&
        r.Get(&num_in, where) && r.Get(&num_out, where))) {
    return r.status();
  }
  if (n > (1u << 24) || sim->duration_ms < 0) {
    return Invalid(path, absl::StrCat(where, ": bad header (", n, " segments, ",
                                      sim->duration_ms, " ms)"));
  }
  sim->num_segments = static_cast<int>(n);
  if (!(r.Array(&sim->channel_begin, 2 * uint64_t{n} + 1,
                absl::StrCat(where, " channel_begin")) &&
        r.Array(&sim->channel_times, num_in,
                absl::StrCat(where, " channel_times")) &&
        r.Array(&sim->output_spike_times_ms, num_out,
                absl::StrCat(where, " output spike times")) &&
        r.Array(&sim->soma_mv, static_cast<uint64_t>(sim->duration_ms),
                absl::StrCat(where, " soma_mv")))) {
    return r.status();
  }
  return CheckV1Simulation(path, where, sim);
}

// The number of k in [1, n) with v[k] <= v[k − 1] (or < with `strict`), 32
// bytes at a time (GCC and Clang vector extensions: -O2 does not vectorise
// the plain loop, which then costs 4x more).
template <typename T, bool kStrict>
int64_t CountNotAbove(const T* v, size_t n) {
  typedef T Vec __attribute__((vector_size(32)));
  constexpr size_t kLanes = 32 / sizeof(T);
  int64_t count = 0;
  size_t k = 1;
  while (k + kLanes <= n) {
    Vec acc = {};
    // At most 2^24 rounds per lane total, so no lane overflows.
    const size_t end = std::min(n - kLanes + 1, k + (size_t{1} << 24) * kLanes);
    for (; k < end; k += kLanes) {
      Vec a, b;
      std::memcpy(&a, v + k, sizeof(Vec));
      std::memcpy(&b, v + k - 1, sizeof(Vec));
      if constexpr (kStrict) {
        acc -= (Vec)(a < b);  // true lanes are -1
      } else {
        acc -= (Vec)(a <= b);
      }
    }
    for (size_t lane = 0; lane < kLanes; ++lane) count += acc[lane];
  }
  for (; k < n; ++k) count += kStrict ? v[k] < v[k - 1] : v[k] <= v[k - 1];
  return count;
}

// step_begin from 0 to the entry count, never decreasing: every step's
// channels lie inside step_channels.
absl::Status CheckStepBegin(const std::string& path, const std::string& where,
                            const NeuronioSimulationView& v) {
  const absl::Span<const int64_t> begin = v.step_begin;
  const int64_t steps = v.duration_ms;
  if (begin[0] == 0 &&
      begin[steps] == static_cast<int64_t>(v.step_channels.size()) &&
      CountNotAbove<int64_t, /*kStrict=*/true>(begin.data(), begin.size()) ==
          0) {
    return absl::OkStatus();
  }
  return Invalid(path,
                 absl::StrCat(where,
                              ": step_begin does not run from 0 to "
                              "the step entry count ",
                              v.step_channels.size(), " without decreasing"));
}

// Within a step, channels increasing from >= 0 to < input_dim (step_begin
// checked). One pass over the entries counts the places where a channel is
// not above the one before; all of them must be the first entries of steps.
absl::Status CheckStepChannels(const std::string& path,
                               const std::string& where,
                               const NeuronioSimulationView& v) {
  const absl::Span<const int64_t> begin = v.step_begin;
  const absl::Span<const int32_t> ch = v.step_channels;
  const int64_t steps = v.duration_ms;
  const int64_t not_above =
      CountNotAbove<int32_t, /*kStrict=*/false>(ch.data(), ch.size());
  int64_t at_starts = 0;
  bool in_range = true;
  for (int64_t t = 0; t < steps; ++t) {
    if (begin[t] == begin[t + 1]) continue;
    at_starts += begin[t] > 0 && ch[begin[t]] <= ch[begin[t] - 1];
    in_range &= ch[begin[t]] >= 0 && ch[begin[t + 1] - 1] < v.input_dim();
  }
  if (not_above == at_starts && in_range) return absl::OkStatus();
  for (int64_t t = 0; t < steps; ++t) {  // say where
    int32_t previous = -1;
    for (int32_t c : v.StepChannels(t)) {
      if (c <= previous || c >= v.input_dim()) {
        return Invalid(path,
                       absl::StrCat(where, ": step ", t, " lists channel ", c,
                                    " after ", previous,
                                    " (channels must increase within a "
                                    "step, in [0, ",
                                    v.input_dim(), "))"));
      }
      previous = c;
    }
  }
  return Invalid(path, absl::StrCat(where, ": bad step index"));  // not reached
}

// Reads and checks a version-2 simulation; the checks that cost a pass over
// the spike entries only with `full_check` (see the header).
absl::Status ReadV2Simulation(Reader& r, const std::string& path,
                              const std::string& where, bool full_check,
                              V2Simulation* sim) {
  NeuronioSimulationView& v = sim->view;
  uint32_t n = 0, lists = 0;
  uint64_t num_entries = 0, num_out = 0, num_in = 0;
  if (!(r.Get(&n, where) && r.Get(&lists, where) &&
        r.Get(&v.duration_ms, where) && r.Get(&num_entries, where) &&
        r.Get(&num_out, where) && r.Get(&num_in, where))) {
    return r.status();
  }
  if (n > (1u << 24) || v.duration_ms < 0 || lists > 1) {
    return Invalid(path,
                   absl::StrCat(where, ": bad header (", n, " segments, ",
                                v.duration_ms, " ms, lists ", lists, ")"));
  }
  if (lists == 0 && num_in != num_entries) {
    return Invalid(
        path, absl::StrCat(where, ": ", num_in, " input spikes but ",
                           num_entries, " step entries and no channel lists"));
  }
  v.num_segments = static_cast<int>(n);
  sim->lists = lists == 1;
  const uint64_t steps = static_cast<uint64_t>(v.duration_ms);
  bool ok =
      r.Span(&v.step_begin, steps + 1, absl::StrCat(where, " step_begin")) &&
      r.Span(&v.output_spike_steps, num_out,
             absl::StrCat(where, " output spike steps")) &&
      r.Span(&sim->output_spike_times_ms, num_out,
             absl::StrCat(where, " output spike times")) &&
      (!sim->lists || r.Span(&sim->channel_begin, 2 * uint64_t{n} + 1,
                             absl::StrCat(where, " channel_begin"))) &&
      r.Span(&v.soma_mv, steps, absl::StrCat(where, " soma_mv")) &&
      r.Span(&v.step_channels, num_entries,
             absl::StrCat(where, " step_channels")) &&
      (!sim->lists || r.Span(&sim->channel_times, num_in,
                             absl::StrCat(where, " channel_times"))) &&
      r.Pad8(where);
  if (!ok) return r.status();
  RETURN_IF_ERROR(CheckStepBegin(path, where, v));
  if (full_check) RETURN_IF_ERROR(CheckStepChannels(path, where, v));
  for (uint64_t k = 0; k < num_out; ++k) {
    const double t = sim->output_spike_times_ms[k];
    const int64_t step = OutputStep(t, v.duration_ms);
    if (step < 0) {
      return Invalid(
          path, absl::StrCat(where, ": output spike time ", t,
                             " ms has no step in [0, ", v.duration_ms, ")"));
    }
    if (v.output_spike_steps[k] != step) {
      return Invalid(path, absl::StrCat(where, ": output spike step ",
                                        v.output_spike_steps[k], " of time ", t,
                                        " ms is not ", step));
    }
  }
  bool finite = true;
  for (float x : v.soma_mv) finite &= std::isfinite(x);
  if (!finite) {
    for (int64_t t = 0; t < v.duration_ms; ++t) {
      if (!std::isfinite(v.soma_mv[t])) {
        return Invalid(
            path, absl::StrCat(where, ": soma sample ", t, " is not finite"));
      }
    }
  }
  if (!sim->lists || !full_check) return absl::OkStatus();
  // The stored lists: v1's checks, and the index built from them.
  NeuronioSimulation full;
  full.num_segments = v.num_segments;
  full.duration_ms = v.duration_ms;
  full.channel_begin.assign(sim->channel_begin.begin(),
                            sim->channel_begin.end());
  full.channel_times.assign(sim->channel_times.begin(),
                            sim->channel_times.end());
  full.output_spike_times_ms.assign(sim->output_spike_times_ms.begin(),
                                    sim->output_spike_times_ms.end());
  full.soma_mv.assign(v.soma_mv.begin(), v.soma_mv.end());
  RETURN_IF_ERROR(CheckV1Simulation(path, where, &full));
  if (absl::Span<const int64_t>(full.step_begin) != v.step_begin ||
      absl::Span<const int32_t>(full.step_channels) != v.step_channels) {
    return Invalid(path, absl::StrCat(where,
                                      ": the stored step index is not the one "
                                      "of the stored channel lists"));
  }
  return absl::OkStatus();
}

// Version 2's simulation in the in-memory form: the arrays copied, the
// channel lists copied or read off the step index by channel.
NeuronioSimulation Materialize(const V2Simulation& s) {
  const NeuronioSimulationView& v = s.view;
  NeuronioSimulation sim;
  sim.num_segments = v.num_segments;
  sim.duration_ms = v.duration_ms;
  sim.step_begin.assign(v.step_begin.begin(), v.step_begin.end());
  sim.step_channels.assign(v.step_channels.begin(), v.step_channels.end());
  sim.output_spike_steps.assign(v.output_spike_steps.begin(),
                                v.output_spike_steps.end());
  sim.output_spike_times_ms.assign(s.output_spike_times_ms.begin(),
                                   s.output_spike_times_ms.end());
  sim.soma_mv.assign(v.soma_mv.begin(), v.soma_mv.end());
  if (s.lists) {
    sim.channel_begin.assign(s.channel_begin.begin(), s.channel_begin.end());
    sim.channel_times.assign(s.channel_times.begin(), s.channel_times.end());
    return sim;
  }
  std::vector<int64_t>& begin = sim.channel_begin;
  begin.assign(v.input_dim() + 1, 0);
  for (int32_t c : v.step_channels) ++begin[c + 1];
  for (int c = 0; c < v.input_dim(); ++c) begin[c + 1] += begin[c];
  std::vector<int64_t> fill(begin.begin(), begin.end() - 1);
  sim.channel_times.resize(v.step_channels.size());
  for (int64_t t = 0; t < v.duration_ms; ++t) {
    for (int64_t k = v.step_begin[t]; k < v.step_begin[t + 1]; ++k) {
      sim.channel_times[fill[v.step_channels[k]]++] = static_cast<int32_t>(t);
    }
  }
  return sim;
}

// Maps, checks and parses a compact file of either version.
absl::StatusOr<Parsed> ParseCompact(const std::string& path,
                                    NeuronioChecksum checksum) {
  ASSIGN_OR_RETURN(MappedFile mapped_file, MappedFile::Open(path));
  Parsed out;
  out.mapped = std::make_shared<const MappedFile>(std::move(mapped_file));
  const MappedFile& mapped = *out.mapped;
  const bool check_crc = checksum == NeuronioChecksum::kEveryRead ||
                         !CheckedVersions::Get().Contains(mapped.version());
  const absl::string_view data = mapped.data();
  if (!IsNeuronioCompact(data)) {
    return Invalid(path, absl::StrCat("bad magic: expected \"ELMNIO1\\n\" in "
                                      "the first 8 bytes (file has ",
                                      data.size(), " bytes)"));
  }
  // The version before the checksum, so a newer file says so.
  if (data.size() >= kMagicBytes + 4) {
    uint32_t version = 0;
    std::memcpy(&version, data.data() + kMagicBytes, 4);
    if (version != 1 && version != 2) {
      return Invalid(path, absl::StrCat("unsupported version ", version,
                                        " (this reader reads versions 1 and ",
                                        kNeuronioCompactVersion, ")"));
    }
  }
  if (data.size() < kMagicBytes + 4 + 4) {
    return Invalid(path, absl::StrCat("truncated: ", data.size(),
                                      " bytes is shorter than the header"));
  }
  const absl::string_view body(data.data(), data.size() - 4);
  uint32_t stored_crc = 0;
  std::memcpy(&stored_crc, data.data() + body.size(), 4);

  Reader r(body, path);
  NeuronioFile& file = out.file;
  file.path = path;
  NeuronioParams& p = file.params;
  char magic[kMagicBytes];
  uint32_t num_segments = 0;
  uint64_t num_sims = 0, num_dist = 0;
  bool ok = r.Get(&magic, "the magic") && r.Get(&out.version, "the version") &&
            r.Get(&num_segments, "the segment count") &&
            r.Get(&p.duration_ms, "the duration") &&
            r.Get(&num_sims, "the simulation count") &&
            r.Get(&p.random_seed, "the random seed") &&
            r.Str(&p.excitatory_synapse_type, "the excitatory synapse type") &&
            r.Str(&p.inhibitory_synapse_type, "the inhibitory synapse type");
  // A checksum mismatch explains truncation and corruption alike; report it
  // first unless the file is cut inside the fixed header.
  if (check_crc) {
    const uint32_t crc = Crc32(body);
    if (ok && crc != stored_crc) {
      return Invalid(path, absl::StrCat("checksum mismatch (stored ",
                                        stored_crc, ", computed ", crc,
                                        "): the file is corrupt or truncated"));
    }
  }
  if (!ok) return r.status();
  if (p.duration_ms < 0) {
    return Invalid(path, absl::StrCat("negative duration ", p.duration_ms));
  }
  if (num_segments > (body.size() - r.pos()) / 4) {
    return Invalid(path, absl::StrCat("truncated: ", num_segments,
                                      " segment types do not fit"));
  }
  p.segment_types.resize(num_segments);
  for (uint32_t s = 0; ok && s < num_segments; ++s) {
    ok = r.Str(&p.segment_types[s], absl::StrCat("segment type ", s));
  }
  ok = ok && r.Get(&num_dist, "the segment distance count") &&
       r.Array(&p.segment_dist_from_soma, num_dist, "the segment distances") &&
       (out.version == 1 || r.Pad8("the header"));
  if (!ok) return r.status();
  if (num_sims > body.size() - r.pos()) {
    return Invalid(
        path, absl::StrCat("truncated: ", num_sims, " simulations do not fit"));
  }
  if (out.version == 1) {
    file.simulations.resize(num_sims);
    for (uint64_t i = 0; i < num_sims; ++i) {
      RETURN_IF_ERROR(ReadV1Simulation(r, path, absl::StrCat("simulation ", i),
                                       &file.simulations[i]));
    }
  } else {
    out.sims.resize(num_sims);
    for (uint64_t i = 0; i < num_sims; ++i) {
      RETURN_IF_ERROR(ReadV2Simulation(r, path, absl::StrCat("simulation ", i),
                                       check_crc, &out.sims[i]));
    }
  }
  if (r.pos() != body.size()) {
    return Invalid(path, absl::StrCat(body.size() - r.pos(),
                                      " trailing bytes before the checksum"));
  }
  if (check_crc && checksum == NeuronioChecksum::kOncePerFileVersion) {
    CheckedVersions::Get().Add(mapped.version());
  }
  return out;
}

}  // namespace

bool IsNeuronioCompact(absl::string_view head) {
  return head.size() >= kMagicBytes &&
         head.substr(0, kMagicBytes) ==
             absl::string_view(kNeuronioCompactMagic, kMagicBytes);
}

int NeuronioCompactVersionOf(absl::string_view head) {
  if (!IsNeuronioCompact(head) || head.size() < kMagicBytes + 4) return 0;
  uint32_t version = 0;
  std::memcpy(&version, head.data() + kMagicBytes, 4);
  return version > 0x7fffffff ? 0 : static_cast<int>(version);
}

int NeuronioCompactFileVersion(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return 0;
  char head[kMagicBytes + 4];
  const size_t n = std::fread(head, 1, sizeof(head), f);
  std::fclose(f);
  return NeuronioCompactVersionOf(absl::string_view(head, n));
}

absl::Status WriteNeuronioCompact(const NeuronioFile& file,
                                  const std::string& path, int version) {
  CHECK(version == 1 || version == 2) << version;
  const NeuronioParams& p = file.params;
  Writer w;
  w.Bytes(kNeuronioCompactMagic, kMagicBytes);
  w.Put<uint32_t>(static_cast<uint32_t>(version));
  w.Put<uint32_t>(static_cast<uint32_t>(p.num_segments()));
  w.Put<int64_t>(p.duration_ms);
  w.Put<uint64_t>(file.simulations.size());
  w.Put<int64_t>(p.random_seed);
  w.Str(p.excitatory_synapse_type);
  w.Str(p.inhibitory_synapse_type);
  for (const std::string& type : p.segment_types) w.Str(type);
  w.Put<uint64_t>(p.segment_dist_from_soma.size());
  w.Array(p.segment_dist_from_soma);
  if (version == 2) w.Pad8();
  for (size_t i = 0; i < file.simulations.size(); ++i) {
    const NeuronioSimulation& sim = file.simulations[i];
    RETURN_IF_ERROR(CheckWritable(sim, i, path));
    if (version == 1) {
      WriteV1Simulation(sim, &w);
    } else {
      RETURN_IF_ERROR(CheckIndexable(sim, i, path));
      WriteV2Simulation(sim, &w);
    }
  }
  w.Put<uint32_t>(Crc32(w.buf()));

  return WriteFileAtomically(path, w.buf(), "compact NeuronIO file");
}

absl::StatusOr<NeuronioFile> ReadNeuronioCompact(const std::string& path,
                                                 NeuronioChecksum checksum) {
  ASSIGN_OR_RETURN(Parsed parsed, ParseCompact(path, checksum));
  if (parsed.version == 2) {
    parsed.file.simulations.reserve(parsed.sims.size());
    for (const V2Simulation& sim : parsed.sims) {
      parsed.file.simulations.push_back(Materialize(sim));
    }
  }
  return std::move(parsed.file);
}

absl::StatusOr<std::shared_ptr<const NeuronioFileView>> ReadNeuronioCompactView(
    const std::string& path, NeuronioChecksum checksum) {
  ASSIGN_OR_RETURN(Parsed parsed, ParseCompact(path, checksum));
  if (parsed.version == 1) {
    return ViewNeuronioFile(
        std::make_shared<const NeuronioFile>(std::move(parsed.file)));
  }
  auto view = std::make_shared<NeuronioFileView>();
  view->path = path;
  view->params = std::move(parsed.file.params);
  view->simulations.reserve(parsed.sims.size());
  for (const V2Simulation& sim : parsed.sims) {
    view->simulations.push_back(sim.view);
  }
  view->storage = std::move(parsed.mapped);
  return view;
}

}  // namespace elm
