// The compact NeuronIO file format: see neuronio_compact.h.
#include "io/neuronio_compact.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
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

}  // namespace

bool IsNeuronioCompact(absl::string_view head) {
  return head.size() >= kMagicBytes &&
         head.substr(0, kMagicBytes) ==
             absl::string_view(kNeuronioCompactMagic, kMagicBytes);
}

absl::Status WriteNeuronioCompact(const NeuronioFile& file,
                                  const std::string& path) {
  const NeuronioParams& p = file.params;
  Writer w;
  w.Bytes(kNeuronioCompactMagic, kMagicBytes);
  w.Put<uint32_t>(kNeuronioCompactVersion);
  w.Put<uint32_t>(static_cast<uint32_t>(p.num_segments()));
  w.Put<int64_t>(p.duration_ms);
  w.Put<uint64_t>(file.simulations.size());
  w.Put<int64_t>(p.random_seed);
  w.Str(p.excitatory_synapse_type);
  w.Str(p.inhibitory_synapse_type);
  for (const std::string& type : p.segment_types) w.Str(type);
  w.Put<uint64_t>(p.segment_dist_from_soma.size());
  w.Array(p.segment_dist_from_soma);
  for (size_t i = 0; i < file.simulations.size(); ++i) {
    const NeuronioSimulation& sim = file.simulations[i];
    if (sim.num_segments < 0 ||
        sim.channel_begin.size() !=
            static_cast<size_t>(2 * sim.num_segments + 1) ||
        sim.channel_begin.back() !=
            static_cast<int64_t>(sim.channel_times.size()) ||
        sim.soma_mv.size() != static_cast<size_t>(sim.duration_ms)) {
      return Invalid(
          path, absl::StrCat("cannot write simulation ", i,
                             ": channel_begin has ", sim.channel_begin.size(),
                             " entries for ", sim.num_segments,
                             " segments and ", sim.channel_times.size(),
                             " spike times, soma_mv has ", sim.soma_mv.size(),
                             " samples for ", sim.duration_ms, " ms"));
    }
    w.Put<uint32_t>(static_cast<uint32_t>(sim.num_segments));
    w.Put<int64_t>(sim.duration_ms);
    w.Put<uint64_t>(sim.channel_times.size());
    w.Put<uint64_t>(sim.output_spike_times_ms.size());
    w.Array(sim.channel_begin);
    w.Array(sim.channel_times);
    w.Array(sim.output_spike_times_ms);
    w.Array(sim.soma_mv);
  }
  w.Put<uint32_t>(Crc32(w.buf()));

  return WriteFileAtomically(path, w.buf(), "compact NeuronIO file");
}

absl::StatusOr<NeuronioFile> ReadNeuronioCompact(const std::string& path,
                                                 NeuronioChecksum checksum) {
  ASSIGN_OR_RETURN(const MappedFile mapped, MappedFile::Open(path));
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
    if (version != kNeuronioCompactVersion) {
      return Invalid(path, absl::StrCat("unsupported version ", version,
                                        " (this reader reads version ",
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
  NeuronioFile out;
  out.path = path;
  NeuronioParams& p = out.params;
  char magic[kMagicBytes];
  uint32_t version = 0, num_segments = 0;
  uint64_t num_sims = 0, num_dist = 0;
  bool ok = r.Get(&magic, "the magic") && r.Get(&version, "the version") &&
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
       r.Array(&p.segment_dist_from_soma, num_dist, "the segment distances");
  if (!ok) return r.status();
  if (num_sims > body.size() - r.pos()) {
    return Invalid(
        path, absl::StrCat("truncated: ", num_sims, " simulations do not fit"));
  }
  out.simulations.resize(num_sims);
  for (uint64_t i = 0; i < num_sims; ++i) {
    NeuronioSimulation& sim = out.simulations[i];
    const std::string where = absl::StrCat("simulation ", i);
    uint32_t n = 0;
    uint64_t num_in = 0, num_out = 0;
    ok = r.Get(&n, where) && r.Get(&sim.duration_ms, where) &&
         r.Get(&num_in, where) && r.Get(&num_out, where);
    if (!ok) return r.status();
    if (n > (1u << 24) || sim.duration_ms < 0) {
      return Invalid(path,
                     absl::StrCat(where, ": bad header (", n, " segments, ",
                                  sim.duration_ms, " ms)"));
    }
    sim.num_segments = static_cast<int>(n);
    ok = r.Array(&sim.channel_begin, 2 * uint64_t{n} + 1,
                 absl::StrCat(where, " channel_begin")) &&
         r.Array(&sim.channel_times, num_in,
                 absl::StrCat(where, " channel_times")) &&
         r.Array(&sim.output_spike_times_ms, num_out,
                 absl::StrCat(where, " output spike times")) &&
         r.Array(&sim.soma_mv, static_cast<uint64_t>(sim.duration_ms),
                 absl::StrCat(where, " soma_mv"));
    if (!ok) return r.status();
    if (sim.channel_begin[0] != 0 ||
        sim.channel_begin.back() != static_cast<int64_t>(num_in)) {
      return Invalid(path, absl::StrCat(where,
                                        ": channel_begin does not run from 0 "
                                        "to the spike count ",
                                        num_in));
    }
    for (size_t c = 0; c + 1 < sim.channel_begin.size(); ++c) {
      if (sim.channel_begin[c + 1] < sim.channel_begin[c]) {
        return Invalid(path, absl::StrCat(where, ": channel_begin[", c + 1,
                                          "] is below channel_begin[", c, "]"));
      }
    }
    for (size_t k = 0; k < sim.channel_times.size(); ++k) {
      const int32_t t = sim.channel_times[k];
      if (t < 0 || t >= sim.duration_ms) {
        return Invalid(path,
                       absl::StrCat(where, ": input spike time ", t,
                                    " is outside [0, ", sim.duration_ms, ")"));
      }
    }
    sim.output_spike_steps.reserve(num_out);
    for (double t : sim.output_spike_times_ms) {
      const int64_t step =
          std::isfinite(t) && t >= 0 ? NeuronioSpikeStep(t) : -1;
      if (step < 0 || step >= sim.duration_ms) {
        return Invalid(path, absl::StrCat(where, ": output spike time ", t,
                                          " ms has no step in [0, ",
                                          sim.duration_ms, ")"));
      }
      sim.output_spike_steps.push_back(step);
    }
    for (int64_t t = 0; t < sim.duration_ms; ++t) {
      if (!std::isfinite(sim.soma_mv[t])) {
        return Invalid(
            path, absl::StrCat(where, ": soma sample ", t, " is not finite"));
      }
    }
    IndexNeuronioSteps(&sim);
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

}  // namespace elm
