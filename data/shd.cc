// SHD reader, binning, split and datasets: see shd.h.
#include "data/shd.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "base/rng.h"
#include "base/status_macros.h"
#include "base/user_path.h"
#include "data/epoch_order.h"
#include "glog/logging.h"
#include "hdf5.h"

namespace elm {
namespace {

constexpr char kTimes[] = "spikes/times";
constexpr char kUnits[] = "spikes/units";
constexpr char kLabels[] = "labels";
constexpr char kSpeaker[] = "extra/speaker";

// Samples per H5Dread of the spike datasets: bounds the memory of one chunk.
constexpr hsize_t kChunkSamples = 1024;

// More bins than this is a spec mistake (and would take gigabytes per sample).
constexpr int64_t kMaxBins = 10000000;

// Salt of the split's Rng stream (ASCII "SHDSPLIT").
constexpr uint64_t kSplitSalt = 0x53484453504C4954ull;

// Debian's serial HDF5 is not thread-safe.
ABSL_CONST_INIT absl::Mutex hdf5_mutex(absl::kConstInit);

// Owns one HDF5 identifier and closes it with the matching H5?close.
class Hid {
 public:
  using Closer = herr_t (*)(hid_t);
  Hid() = default;
  Hid(hid_t id, Closer close) : id_(id), close_(close) {}
  Hid(Hid&& other) noexcept : id_(other.id_), close_(other.close_) {
    other.id_ = -1;
  }
  Hid& operator=(Hid&& other) noexcept {
    if (this != &other) {
      Reset();
      id_ = other.id_;
      close_ = other.close_;
      other.id_ = -1;
    }
    return *this;
  }
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  ~Hid() { Reset(); }

  void Reset() {
    if (id_ >= 0) close_(id_);
    id_ = -1;
  }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

// Turns HDF5's automatic error printing off for its lifetime and restores it
// after.
class SilenceHdf5Errors {
 public:
  SilenceHdf5Errors() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~SilenceHdf5Errors() {
    H5Eclear2(H5E_DEFAULT);
    H5Eset_auto2(H5E_DEFAULT, func_, data_);
  }
  SilenceHdf5Errors(const SilenceHdf5Errors&) = delete;
  SilenceHdf5Errors& operator=(const SilenceHdf5Errors&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

herr_t InnermostError(unsigned n, const H5E_error2_t* err, void* data) {
  if (n == 0 && err->desc != nullptr) {
    *static_cast<std::string*>(data) = err->desc;
  }
  return 0;
}

// The most specific message on HDF5's error stack (then cleared), as " (HDF5:
// ...)".
std::string Hdf5Detail() {
  std::string desc;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, InnermostError, &desc);
  H5Eclear2(H5E_DEFAULT);
  if (desc.empty()) return "";
  return absl::StrCat(" (HDF5: ", desc, ")");
}

const char* ClassName(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER:
      return "integer";
    case H5T_FLOAT:
      return "float";
    case H5T_STRING:
      return "string";
    case H5T_BITFIELD:
      return "bitfield";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_COMPOUND:
      return "compound";
    case H5T_REFERENCE:
      return "reference";
    case H5T_ENUM:
      return "enum";
    case H5T_VLEN:
      return "variable-length";
    case H5T_ARRAY:
      return "array";
    default:
      return "unknown";
  }
}

// Holds a variable-length read and gives HDF5's element memory back.
struct VlenBuffer {
  Hid mem_type;
  Hid mem_space;
  std::vector<hvl_t> data;

  VlenBuffer() = default;
  VlenBuffer(const VlenBuffer&) = delete;
  VlenBuffer& operator=(const VlenBuffer&) = delete;
  ~VlenBuffer() { Release(); }

  void Release() {
    if (mem_type.valid() && mem_space.valid() && !data.empty()) {
      H5Dvlen_reclaim(mem_type.get(), mem_space.get(), H5P_DEFAULT,
                      data.data());
    }
    data.clear();
  }
};

// One SHD file being read; all methods run under hdf5_mutex with errors
// silenced.
class ShdFileReader {
 public:
  explicit ShdFileReader(std::string path) : path_(std::move(path)) {}

  absl::Status Run(
      const std::function<absl::Status(int64_t, const ShdSample&)>& visit) {
    RETURN_IF_ERROR(Open());
    ASSIGN_OR_RETURN(Hid times, OpenDataset(kTimes));
    ASSIGN_OR_RETURN(Hid units, OpenDataset(kUnits));
    ASSIGN_OR_RETURN(Hid labels, OpenDataset(kLabels));
    RETURN_IF_ERROR(CheckVlen(times, kTimes, H5T_FLOAT));
    RETURN_IF_ERROR(CheckVlen(units, kUnits, H5T_INTEGER));
    ASSIGN_OR_RETURN(const int64_t n, Length(times, kTimes));
    ASSIGN_OR_RETURN(const int64_t n_units, Length(units, kUnits));
    ASSIGN_OR_RETURN(const int64_t n_labels, Length(labels, kLabels));
    if (n_units != n) return LengthMismatch(kUnits, n_units, n);
    if (n_labels != n) return LengthMismatch(kLabels, n_labels, n);
    ASSIGN_OR_RETURN(std::vector<int64_t> label, ReadIntegers(labels, kLabels));
    for (int64_t i = 0; i < n; ++i) {
      if (label[i] < 0 || label[i] >= kShdNumClasses) {
        return Error(kLabels,
                     absl::StrCat("label ", label[i], " of sample ", i,
                                  " is outside [0, ", kShdNumClasses, ")"));
      }
    }
    std::vector<int64_t> speaker;
    ASSIGN_OR_RETURN(const bool has_speaker, Exists(kSpeaker));
    if (has_speaker) {
      ASSIGN_OR_RETURN(Hid speakers, OpenDataset(kSpeaker));
      ASSIGN_OR_RETURN(const int64_t n_speakers, Length(speakers, kSpeaker));
      if (n_speakers != n) return LengthMismatch(kSpeaker, n_speakers, n);
      ASSIGN_OR_RETURN(speaker, ReadIntegers(speakers, kSpeaker));
    }

    ShdSample sample;
    for (int64_t start = 0; start < n; start += kChunkSamples) {
      const hsize_t count = std::min<hsize_t>(kChunkSamples, n - start);
      VlenBuffer t, u;
      RETURN_IF_ERROR(
          ReadVlenChunk(times, kTimes, H5T_NATIVE_DOUBLE, start, count, &t));
      RETURN_IF_ERROR(
          ReadVlenChunk(units, kUnits, H5T_NATIVE_INT64, start, count, &u));
      for (hsize_t j = 0; j < count; ++j) {
        const int64_t i = start + j;
        if (t.data[j].len != u.data[j].len) {
          return Error(
              kUnits,
              absl::StrCat("sample ", i, " has ", u.data[j].len, " units but ",
                           t.data[j].len, " times in ", kTimes));
        }
        const size_t len = t.data[j].len;
        const double* tp = static_cast<const double*>(t.data[j].p);
        const int64_t* up = static_cast<const int64_t*>(u.data[j].p);
        sample.times_s.assign(tp, tp + len);
        sample.units.resize(len);
        for (size_t k = 0; k < len; ++k) {
          const double time = tp[k];
          if (std::isnan(time)) {
            return Error(kTimes, absl::StrCat("sample ", i, " spike ", k,
                                              ": time is NaN"));
          }
          if (time < 0.0) {
            return Error(kTimes,
                         absl::StrCat("sample ", i, " spike ", k, ": time ",
                                      time, " s is negative"));
          }
          if (std::isinf(time)) {
            return Error(kTimes, absl::StrCat("sample ", i, " spike ", k,
                                              ": time is infinite"));
          }
          if (up[k] < 0 || up[k] >= kShdNumUnits) {
            return Error(
                kUnits,
                absl::StrCat("sample ", i, " spike ", k, ": unit ", up[k],
                             " is outside [0, ", kShdNumUnits, ")"));
          }
          sample.units[k] = static_cast<int32_t>(up[k]);
        }
        sample.label = label[i];
        sample.speaker = has_speaker ? speaker[i] : -1;
        RETURN_IF_ERROR(visit(i, sample));
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Error(absl::string_view dataset,
                     absl::string_view problem) const {
    return absl::InvalidArgumentError(absl::StrCat(
        "SHD file '", path_, "', dataset '", dataset, "': ", problem));
  }

  absl::Status LengthMismatch(absl::string_view dataset, int64_t n,
                              int64_t expected) const {
    return Error(dataset,
                 absl::StrCat("has ", n, " entries but ", kTimes, " has ",
                              expected, " (one per sample expected)"));
  }

  absl::Status Open() {
    std::FILE* probe = std::fopen(path_.c_str(), "rb");
    if (probe == nullptr) {
      const int err = errno;
      return absl::NotFoundError(absl::StrCat(
          "SHD file '", path_, "': cannot open: ", std::strerror(err)));
    }
    std::fclose(probe);
    if (H5Fis_hdf5(path_.c_str()) <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "SHD file '", path_, "': not an HDF5 file", Hdf5Detail()));
    }
    file_ = Hid(H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file_.valid()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "SHD file '", path_, "': HDF5 cannot open it", Hdf5Detail()));
    }
    return absl::OkStatus();
  }

  // Whether the link `name` (each of its groups in turn) exists.
  absl::StatusOr<bool> Exists(const std::string& name) const {
    for (size_t slash = name.find('/');; slash = name.find('/', slash + 1)) {
      const std::string prefix = name.substr(0, slash);
      const htri_t e = H5Lexists(file_.get(), prefix.c_str(), H5P_DEFAULT);
      if (e < 0) {
        return Error(
            name, absl::StrCat("cannot look up '", prefix, "'", Hdf5Detail()));
      }
      if (e == 0) return false;
      if (slash == std::string::npos) return true;
    }
  }

  absl::StatusOr<Hid> OpenDataset(const std::string& name) const {
    ASSIGN_OR_RETURN(const bool exists, Exists(name));
    if (!exists) return Error(name, "missing");
    Hid d(H5Dopen2(file_.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!d.valid()) {
      return Error(name, absl::StrCat("is not a dataset", Hdf5Detail()));
    }
    return d;
  }

  absl::StatusOr<int64_t> Length(const Hid& d, absl::string_view name) const {
    Hid space(H5Dget_space(d.get()), H5Sclose);
    if (!space.valid()) {
      return Error(name, absl::StrCat("no dataspace", Hdf5Detail()));
    }
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank != 1) {
      return Error(
          name, absl::StrCat("has rank ", rank,
                             "; expected a 1-D dataset, one entry per sample"));
    }
    hsize_t dim = 0;
    H5Sget_simple_extent_dims(space.get(), &dim, nullptr);
    return static_cast<int64_t>(dim);
  }

  // The dataset's element type must be a vlen sequence of `base` elements.
  absl::Status CheckVlen(const Hid& d, absl::string_view name,
                         H5T_class_t base) const {
    Hid type(H5Dget_type(d.get()), H5Tclose);
    if (!type.valid()) {
      return Error(name, absl::StrCat("no datatype", Hdf5Detail()));
    }
    const H5T_class_t c = H5Tget_class(type.get());
    if (c != H5T_VLEN) {
      return Error(name,
                   absl::StrCat("stores ", ClassName(c), " elements; expected ",
                                "variable-length arrays of ", ClassName(base)));
    }
    Hid super(H5Tget_super(type.get()), H5Tclose);
    const H5T_class_t sc =
        super.valid() ? H5Tget_class(super.get()) : H5T_NO_CLASS;
    if (sc != base) {
      return Error(
          name, absl::StrCat("stores variable-length arrays of ", ClassName(sc),
                             "; expected ", ClassName(base)));
    }
    return absl::OkStatus();
  }

  // The whole 1-D integer dataset as int64 (HDF5 converts from any stored
  // width).
  absl::StatusOr<std::vector<int64_t>> ReadIntegers(
      const Hid& d, absl::string_view name) const {
    Hid type(H5Dget_type(d.get()), H5Tclose);
    const H5T_class_t c =
        type.valid() ? H5Tget_class(type.get()) : H5T_NO_CLASS;
    if (c != H5T_INTEGER) {
      return Error(name, absl::StrCat("stores ", ClassName(c),
                                      " elements; expected integers"));
    }
    ASSIGN_OR_RETURN(const int64_t n, Length(d, name));
    std::vector<int64_t> out(n);
    if (n > 0 && H5Dread(d.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL,
                         H5P_DEFAULT, out.data()) < 0) {
      return Error(name, absl::StrCat("cannot read as int64", Hdf5Detail()));
    }
    return out;
  }

  // Elements [start, start + count) of a 1-D vlen dataset, converted to
  // `mem_base`.
  absl::Status ReadVlenChunk(const Hid& d, absl::string_view name,
                             hid_t mem_base, hsize_t start, hsize_t count,
                             VlenBuffer* out) const {
    Hid file_space(H5Dget_space(d.get()), H5Sclose);
    if (!file_space.valid() ||
        H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, nullptr,
                            &count, nullptr) < 0) {
      return Error(name, absl::StrCat("cannot select samples ", start, "..",
                                      start + count - 1, Hdf5Detail()));
    }
    out->mem_type = Hid(H5Tvlen_create(mem_base), H5Tclose);
    out->mem_space = Hid(H5Screate_simple(1, &count, nullptr), H5Sclose);
    if (!out->mem_type.valid() || !out->mem_space.valid()) {
      return Error(name,
                   absl::StrCat("cannot create the memory type", Hdf5Detail()));
    }
    out->data.assign(count, hvl_t{0, nullptr});
    if (H5Dread(d.get(), out->mem_type.get(), out->mem_space.get(),
                file_space.get(), H5P_DEFAULT, out->data.data()) < 0) {
      // What a failed conversion left in the buffer is unspecified: leak rather
      // than free pointers HDF5 may have freed itself.
      out->data.clear();
      Hid type(H5Dget_type(d.get()), H5Tclose);
      Hid super(type.valid() ? H5Tget_super(type.get()) : -1, H5Tclose);
      const size_t bytes = super.valid() ? H5Tget_size(super.get()) : 0;
      return Error(
          name,
          absl::StrCat("cannot read samples ", start, "..", start + count - 1,
                       " converting the stored ", bytes, "-byte elements to ",
                       mem_base == H5T_NATIVE_DOUBLE ? "double" : "int64",
                       Hdf5Detail()));
    }
    return absl::OkStatus();
  }

  const std::string path_;
  Hid file_;
};

// A sampler over one split's binned samples.
class ShdSampler : public BatchSampler {
 public:
  ShdSampler(std::vector<const ShdFrames*> pool, int batch, int64_t bins,
             bool adding, bool shuffle, uint64_t seed)
      : pool_(std::move(pool)),
        batch_(batch),
        bins_(bins),
        adding_(adding),
        pair_rng_(seed),
        order_(0, static_cast<int64_t>(pool_.size()), !adding && shuffle,
               seed) {}

  absl::StatusOr<Batch> Next() override {
    Batch b;
    b.batch = batch_;
    b.steps = adding_ ? 2 * bins_ : bins_;
    b.inputs.rows = b.batch * b.steps;
    b.inputs.cols = kShdNumUnits;
    b.inputs.row_begin.reserve(b.batch * b.steps + 1);
    b.inputs.row_begin.push_back(0);
    b.labels.resize(batch_);
    b.held_begin = HeldBegin(batch_);
    b.held_end = HeldEnd(batch_);
    if (adding_) {
      std::vector<uint64_t> idx(2 * batch_);
      for (uint64_t& i : idx) i = pair_rng_.UniformInt(pool_.size());
      for (int s = 0; s < batch_; ++s) {
        const ShdFrames& first = *pool_[idx[s]];
        const ShdFrames& second = *pool_[idx[batch_ + s]];
        AppendOrSkip(s, first, &b);
        AppendOrSkip(s, second, &b);
        b.labels[s] = first.label % 10 + second.label % 10;
      }
    } else {
      const absl::Span<const int64_t> picks = order_.Next(batch_);
      for (int s = 0; s < batch_; ++s) {
        const ShdFrames& f = *pool_[picks[s]];
        AppendOrSkip(s, f, &b);
        b.labels[s] = f.label;
      }
    }
    return b;
  }

 private:
  // Sequence s's frames `f` when it is held; else empty rows (and their
  // nonzeros counted when s is before the held ones).
  void AppendOrSkip(int s, const ShdFrames& f, Batch* b) const {
    if (Holds(s)) {
      Append(f, b);
      return;
    }
    if (s < b->held_begin) {
      b->nonzeros_before += f.bin_begin.back() - f.bin_begin[0];
    }
    b->inputs.row_begin.insert(b->inputs.row_begin.end(),
                               f.bin_begin.size() - 1,
                               b->inputs.row_begin.back());
  }

  static void Append(const ShdFrames& f, Batch* b) {
    const int64_t base =
        static_cast<int64_t>(b->inputs.col.size()) - f.bin_begin[0];
    b->inputs.col.insert(b->inputs.col.end(), f.unit.begin(), f.unit.end());
    b->inputs.value.insert(b->inputs.value.end(), f.count.begin(),
                           f.count.end());
    for (size_t t = 1; t < f.bin_begin.size(); ++t) {
      b->inputs.row_begin.push_back(base + f.bin_begin[t]);
    }
  }

  const std::vector<const ShdFrames*> pool_;
  const int batch_;
  const int64_t bins_;
  const bool adding_;
  // SHD-Adding: both digits of a pair drawn uniformly with replacement. (The
  // order below is then unused, so this stream is the one seed's alone.)
  Rng pair_rng_;
  EpochOrder order_;  // SHD
};

absl::Status SpecError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("SHD spec field '", field, "': ", problem));
}

// The stream from the reader child: per sample, kSampleTag, index, label,
// speaker, n, n times (double), n units (int32); at the end, kEndTag, the
// status code (int32), the message length (uint64) and the message.
constexpr uint8_t kSampleTag = 1;
constexpr uint8_t kEndTag = 2;
// A sample has at most this many spikes (far above SHD's, which has at most
// a few thousand): a bound on what the parent allocates.
constexpr uint64_t kMaxStreamSpikes = uint64_t{1} << 28;

bool WriteAllTo(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Reads from the reader child, giving up when it sends nothing for
// `stall_ms` (a corrupt file can also make libhdf5 loop forever).
class ChildStream {
 public:
  ChildStream(int fd, int stall_ms) : fd_(fd), stall_ms_(stall_ms) {}

  // False at the end of the stream, on an error, or when stalled().
  bool Read(void* data, size_t size) {
    char* p = static_cast<char*>(data);
    while (size > 0) {
      pollfd pfd = {fd_, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, stall_ms_);
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) stalled_ = true;
      if (ready <= 0) return false;
      const ssize_t n = ::read(fd_, p, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      p += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }
  bool stalled() const { return stalled_; }

 private:
  const int fd_;
  const int stall_ms_;
  bool stalled_ = false;
};

template <typename T>
void Put(std::string* out, T value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(value));
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || \
    __has_feature(thread_sanitizer)
#define ELM_SHD_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ELM_SHD_SANITIZED 1
#endif

// Limits this process's address space to its current size plus
// kShdReaderMemoryBytes (see shd.h); a no-op in sanitizer builds.
void LimitReaderMemory() {
#ifndef ELM_SHD_SANITIZED
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0;
  if (!(statm >> pages)) return;
  const uint64_t limit =
      pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) +
      static_cast<uint64_t>(kShdReaderMemoryBytes);
  struct rlimit rl;
  if (::getrlimit(RLIMIT_AS, &rl) != 0) return;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur <= limit) return;
  rl.rlim_cur = limit;
  ::setrlimit(RLIMIT_AS, &rl);
#endif
}

// Reads the file with HDF5 and streams it to `fd`; exits the process.
[[noreturn]] void ReaderChild(const std::string& path, int fd) {
  LimitReaderMemory();
  // Everything goes through `fd`; what a crashing libhdf5 or glibc prints
  // ("free(): invalid pointer") would only be noise.
  const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null >= 0) ::dup2(null, STDERR_FILENO);
  std::string buffer;
  absl::Status status;
  {
    SilenceHdf5Errors silence;
    ShdFileReader reader(path);
    status = reader.Run([&](int64_t index, const ShdSample& sample) {
      buffer.clear();
      Put<uint8_t>(&buffer, kSampleTag);
      Put<int64_t>(&buffer, index);
      Put<int64_t>(&buffer, sample.label);
      Put<int64_t>(&buffer, sample.speaker);
      Put<uint64_t>(&buffer, sample.times_s.size());
      buffer.append(reinterpret_cast<const char*>(sample.times_s.data()),
                    sample.times_s.size() * sizeof(double));
      buffer.append(reinterpret_cast<const char*>(sample.units.data()),
                    sample.units.size() * sizeof(int32_t));
      if (!WriteAllTo(fd, buffer.data(), buffer.size())) {
        return absl::AbortedError("the parent stopped reading");
      }
      return absl::OkStatus();
    });
  }
  buffer.clear();
  Put<uint8_t>(&buffer, kEndTag);
  Put<int32_t>(&buffer, static_cast<int32_t>(status.code()));
  Put<uint64_t>(&buffer, status.message().size());
  buffer.append(status.message().data(), status.message().size());
  const bool sent = WriteAllTo(fd, buffer.data(), buffer.size());
  ::_exit(sent ? 0 : 1);
}

// The reader's own final status travels inside this wrapper, so that it is
// told apart from errors of the stream and of `visit`.
constexpr char kReaderEndPayload[] = "elm.shd.reader_end";

bool IsReaderEnd(const absl::Status& s) {
  return s.GetPayload(kReaderEndPayload).has_value();
}

absl::Status ReaderResult(const absl::Status& wrapped) {
  const absl::StatusCode code = static_cast<absl::StatusCode>(
      std::stoi(std::string(*wrapped.GetPayload(kReaderEndPayload))));
  if (code == absl::StatusCode::kOk) return absl::OkStatus();
  return absl::Status(code, wrapped.message());
}

// Receives the child's stream and calls `visit`; OK at an end of the
// stream without an end record (the child died: see ChildFailure), the
// reader's status wrapped (IsReaderEnd) at the end record, DeadlineExceeded
// when the child stalls, else the error of `visit`.
absl::Status ReceiveSamples(
    int fd, const std::string& path, double stall_seconds,
    const std::function<absl::Status(int64_t, const ShdSample&)>& visit) {
  ChildStream in(fd, static_cast<int>(std::min(stall_seconds, 1e6) * 1000));
  auto stop = [&]() {
    if (!in.stalled()) return absl::OkStatus();
    return absl::DeadlineExceededError(absl::StrCat(
        "SHD file '", path,
        "': the HDF5 library made no progress reading it "
        "for ",
        stall_seconds, " s: the file is corrupt, or the disk stalls"));
  };
  ShdSample sample;
  while (true) {
    uint8_t tag = 0;
    if (!in.Read(&tag, 1)) return stop();
    if (tag == kEndTag) {
      int32_t code = 0;
      uint64_t size = 0;
      if (!in.Read(&code, sizeof(code)) || !in.Read(&size, sizeof(size)) ||
          size > (1 << 20)) {
        return stop();
      }
      std::string message(size, '\0');
      if (!in.Read(message.data(), size)) return stop();
      absl::Status end(absl::StatusCode::kUnknown, message);
      end.SetPayload(kReaderEndPayload, absl::Cord(absl::StrCat(code)));
      return end;
    }
    int64_t index = 0;
    uint64_t n = 0;
    if (tag != kSampleTag || !in.Read(&index, sizeof(index)) ||
        !in.Read(&sample.label, sizeof(sample.label)) ||
        !in.Read(&sample.speaker, sizeof(sample.speaker)) ||
        !in.Read(&n, sizeof(n)) || n > kMaxStreamSpikes) {
      return stop();
    }
    sample.times_s.resize(n);
    sample.units.resize(n);
    if (!in.Read(sample.times_s.data(), n * sizeof(double)) ||
        !in.Read(sample.units.data(), n * sizeof(int32_t))) {
      return stop();
    }
    RETURN_IF_ERROR(visit(index, sample));
  }
}

// The error for a reader child that ended without its end record.
absl::Status ChildFailure(const std::string& path, int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    return absl::DataLossError(absl::StrCat(
        "SHD file '", path, "': the HDF5 library crashed reading it (signal ",
        sig, ", ", strsignal(sig),
        "): the file is corrupt; download it again"));
  }
  return absl::DataLossError(absl::StrCat(
      "SHD file '", path, "': the reader ended without finishing (exit status ",
      WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1,
      "); is the file corrupt?"));
}

}  // namespace

absl::Status ForEachShdSample(
    const std::string& path,
    const std::function<absl::Status(int64_t index, const ShdSample& sample)>&
        visit,
    double stall_seconds) {
  absl::MutexLock lock(&hdf5_mutex);
  // HDF5 trusts the file: a corrupt global-heap reference can crash it inside
  // the variable-length read (H5HG_read), before it returns an error. So the
  // file is read in a child process that streams the samples back; a crash
  // there is an error here. (Nothing else in this process calls HDF5, so its
  // state is never shared across the fork.)
  // Initialized here once, so that each child starts with it.
  H5open();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("SHD file '", path, "': cannot create a pipe"));
  }
  const pid_t child = ::fork();
  if (child < 0) {
    const int error = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return absl::ErrnoToStatus(
        error, absl::StrCat("SHD file '", path, "': cannot fork the reader"));
  }
  if (child == 0) {
    ::close(fds[0]);
    ReaderChild(path, fds[1]);  // does not return
  }
  ::close(fds[1]);
  absl::Status status = ReceiveSamples(fds[0], path, stall_seconds, visit);
  ::close(fds[0]);
  if (!status.ok() && !IsReaderEnd(status)) {
    ::kill(child, SIGKILL);  // visit (or the stream) failed: stop the reader
  }
  int wait_status = 0;
  while (::waitpid(child, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (IsReaderEnd(status)) return ReaderResult(status);
  if (!status.ok()) return status;
  return ChildFailure(path, wait_status);
}

absl::StatusOr<std::vector<ShdSample>> ReadShdFile(const std::string& path,
                                                   double stall_seconds) {
  std::vector<ShdSample> samples;
  RETURN_IF_ERROR(ForEachShdSample(
      path,
      [&](int64_t, const ShdSample& s) {
        samples.push_back(s);
        return absl::OkStatus();
      },
      stall_seconds));
  return samples;
}

std::vector<double> ShdBinEdges(double bin_size_ms, double max_time_s) {
  CHECK(std::isfinite(bin_size_ms) && bin_size_ms > 0)
      << "bin_size_ms " << bin_size_ms;
  CHECK(std::isfinite(max_time_s) && max_time_s > 0)
      << "max_time_s " << max_time_s;
  // np.arange(start=0, stop, step): length ceil((stop - start) / step), values
  // start + i·(first step), all in double; with start 0 the values are i·step.
  const double step = bin_size_ms / 1000.0;
  const double stop = max_time_s + step;
  const double length = std::ceil(stop / step);
  CHECK_LE(length, static_cast<double>(kMaxBins) + 1) << "too many bins";
  const int64_t n = static_cast<int64_t>(length);
  std::vector<double> edges(n);
  for (int64_t i = 0; i < n; ++i) edges[i] = static_cast<double>(i) * step;
  return edges;
}

int64_t ShdFrames::num_kept() const {
  double total = 0;
  for (float c : count) total += c;
  return static_cast<int64_t>(total);
}

ShdFrames BinShdSample(const ShdSample& sample,
                       const std::vector<double>& edges) {
  CHECK_GE(edges.size(), 2u);
  CHECK_EQ(sample.times_s.size(), sample.units.size());
  const int64_t bins = static_cast<int64_t>(edges.size()) - 1;  // kept bins
  // (bin, unit) keys of the kept spikes.
  std::vector<uint64_t> keys;
  keys.reserve(sample.times_s.size());
  for (size_t k = 0; k < sample.times_s.size(); ++k) {
    const double t = sample.times_s[k];
    const int32_t unit = sample.units[k];
    CHECK(t >= 0) << "spike time " << t;
    CHECK(unit >= 0 && unit < kShdNumUnits) << "unit " << unit;
    const int64_t bin =
        (std::upper_bound(edges.begin(), edges.end(), t) - edges.begin()) - 1;
    if (bin >= bins) continue;  // the dropped last bin: t >= edges.back()
    keys.push_back((static_cast<uint64_t>(bin) << 16) |
                   static_cast<uint64_t>(unit));
  }
  std::sort(keys.begin(), keys.end());
  size_t distinct = 0;
  for (size_t k = 0; k < keys.size(); ++k) {
    distinct += k == 0 || keys[k] != keys[k - 1];
  }

  ShdFrames f;
  f.label = sample.label;
  f.bin_begin.assign(bins + 1, 0);
  f.unit.reserve(distinct);  // exact: a dataset holds many of these
  f.count.reserve(distinct);
  for (size_t k = 0; k < keys.size();) {
    size_t end = k + 1;
    while (end < keys.size() && keys[end] == keys[k]) ++end;
    const int64_t bin = static_cast<int64_t>(keys[k] >> 16);
    f.unit.push_back(static_cast<uint16_t>(keys[k] & 0xFFFF));
    f.count.push_back(static_cast<float>(end - k));
    ++f.bin_begin[bin + 1];
    k = end;
  }
  for (int64_t t = 0; t < bins; ++t) f.bin_begin[t + 1] += f.bin_begin[t];
  return f;
}

std::vector<bool> ShdValidMask(int64_t num_samples, double valid_fraction,
                               uint64_t seed) {
  CHECK_GE(num_samples, 0);
  Rng rng(seed ^ kSplitSalt);
  std::vector<bool> valid(num_samples);
  for (int64_t i = 0; i < num_samples; ++i) {
    valid[i] = rng.Bernoulli(valid_fraction);
  }
  return valid;
}

absl::Status ValidateShdSpec(const ShdSpec& spec, bool require_files) {
  if (require_files) {
    if (spec.train_file().empty()) {
      return SpecError("train_file", "must be set");
    }
    if (spec.test_file().empty()) return SpecError("test_file", "must be set");
  }
  const double bin = spec.bin_size_ms();
  if (!std::isfinite(bin) || bin <= 0) {
    return SpecError("bin_size_ms",
                     absl::StrCat("must be finite and > 0, got ", bin));
  }
  const double max_time = spec.max_time_s();
  if (!std::isfinite(max_time) || max_time <= 0) {
    return SpecError("max_time_s",
                     absl::StrCat("must be finite and > 0, got ", max_time));
  }
  const double edges = std::ceil((max_time + bin / 1000.0) / (bin / 1000.0));
  if (!(edges >= 2) || edges > static_cast<double>(kMaxBins) + 1) {
    return SpecError(
        "bin_size_ms",
        absl::StrCat(bin, " ms over max_time_s ", max_time, " s gives ",
                     edges - 1, " bins; expected 1 to ", kMaxBins));
  }
  const double vf = spec.valid_fraction();
  if (!(vf >= 0 && vf < 1)) {
    return SpecError("valid_fraction",
                     absl::StrCat("must be in [0, 1), got ", vf));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ShdDataset>> ShdDataset::Create(
    const ShdSpec& spec, uint64_t seed, std::vector<ShdFrames> train_file,
    std::vector<ShdFrames> test_file) {
  RETURN_IF_ERROR(ValidateShdSpec(spec, /*require_files=*/false));
  const int64_t bins =
      static_cast<int64_t>(
          ShdBinEdges(spec.bin_size_ms(), spec.max_time_s()).size()) -
      1;
  for (const auto* file : {&train_file, &test_file}) {
    const char* which = file == &train_file ? "train" : "test";
    for (size_t i = 0; i < file->size(); ++i) {
      const ShdFrames& f = (*file)[i];
      if (f.num_bins() != bins) {
        return absl::InvalidArgumentError(
            absl::StrCat("SHD ", which, " sample ", i, " has ", f.num_bins(),
                         " bins; the spec's binning (", spec.bin_size_ms(),
                         " ms up to ", spec.max_time_s(), " s) gives ", bins));
      }
      if (f.label < 0 || f.label >= kShdNumClasses) {
        return absl::InvalidArgumentError(
            absl::StrCat("SHD ", which, " sample ", i, " has label ", f.label,
                         " outside [0, ", kShdNumClasses, ")"));
      }
    }
  }
  std::unique_ptr<ShdDataset> d(new ShdDataset());
  d->adding_ = spec.adding();
  d->bins_ = bins;
  d->info_.name = d->adding_ ? "shd_adding" : "shd";
  d->info_.input_dim = kShdNumUnits;
  d->info_.steps = d->adding_ ? 2 * bins : bins;
  d->info_.num_classes = d->adding_ ? kShdAddingNumClasses : kShdNumClasses;
  d->info_.delta_t_ms = spec.bin_size_ms();
  const std::vector<bool> valid = ShdValidMask(
      static_cast<int64_t>(train_file.size()), spec.valid_fraction(), seed);
  for (size_t i = 0; i < valid.size(); ++i) {
    (valid[i] ? d->valid_ : d->train_).push_back(i);
  }
  d->test_.resize(test_file.size());
  for (size_t i = 0; i < test_file.size(); ++i) d->test_[i] = i;
  d->train_file_ = std::move(train_file);
  d->test_file_ = std::move(test_file);
  return d;
}

const std::vector<int64_t>& ShdDataset::indices(Split split) const {
  if (split == Split::kValid) return valid_;
  if (split == Split::kTest) return test_;
  return train_;
}

const std::vector<ShdFrames>& ShdDataset::file(Split split) const {
  return split == Split::kTest ? test_file_ : train_file_;
}

int64_t ShdDataset::num_samples(Split split) const {
  return static_cast<int64_t>(indices(split).size());
}

int64_t ShdDataset::file_index(Split split, int64_t i) const {
  const std::vector<int64_t>& idx = indices(split);
  CHECK(i >= 0 && i < static_cast<int64_t>(idx.size())) << "sample " << i;
  return idx[i];
}

const ShdFrames& ShdDataset::frames(Split split, int64_t i) const {
  return file(split)[file_index(split, i)];
}

absl::StatusOr<std::unique_ptr<BatchSampler>> ShdDataset::MakeSampler(
    Split split, int batch_size, uint64_t seed) const {
  if (batch_size <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("SHD sampler: batch_size must be > 0, got ", batch_size));
  }
  const int64_t n = num_samples(split);
  if (adding_ ? n == 0 : n < batch_size) {
    return absl::FailedPreconditionError(absl::StrCat(
        "SHD", adding_ ? "-Adding" : "", " split '", SplitName(split), "' has ",
        n, " samples, too few for a batch of ", batch_size));
  }
  std::vector<const ShdFrames*> pool(n);
  for (int64_t i = 0; i < n; ++i) pool[i] = &frames(split, i);
  return std::unique_ptr<BatchSampler>(
      new ShdSampler(std::move(pool), batch_size, bins_, adding_,
                     /*shuffle=*/split == Split::kTrain, seed));
}

absl::StatusOr<std::unique_ptr<Dataset>> MakeShdDataset(const ShdSpec& spec,
                                                        uint64_t seed) {
  RETURN_IF_ERROR(ValidateShdSpec(spec, /*require_files=*/true));
  const std::vector<double> edges =
      ShdBinEdges(spec.bin_size_ms(), spec.max_time_s());
  std::vector<ShdFrames> files[2];
  const std::string paths[2] = {ResolveUserPath(spec.train_file()),
                                ResolveUserPath(spec.test_file())};
  for (int f = 0; f < 2; ++f) {
    RETURN_IF_ERROR(
        ForEachShdSample(paths[f], [&](int64_t, const ShdSample& s) {
          files[f].push_back(BinShdSample(s, edges));
          return absl::OkStatus();
        }));
  }
  ASSIGN_OR_RETURN(
      std::unique_ptr<ShdDataset> d,
      ShdDataset::Create(spec, seed, std::move(files[0]), std::move(files[1])));
  return std::unique_ptr<Dataset>(std::move(d));
}

}  // namespace elm
