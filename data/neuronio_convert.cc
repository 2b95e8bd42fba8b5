// Conversion of NeuronIO files to the compact form, and the conversion cache:
// see neuronio_convert.h.
#include "data/neuronio_convert.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "base/checksum.h"
#include "base/status_macros.h"
#include "io/neuronio_compact.h"
#include "io/neuronio_reader.h"

namespace elm {
namespace {

// Equal sizes and equal bytes (floats bit for bit); the first differing index
// in *at.
template <typename T>
bool SameArray(const std::vector<T>& a, const std::vector<T>& b,
               absl::string_view name, std::string* difference) {
  if (a.size() != b.size()) {
    if (difference != nullptr) {
      *difference =
          absl::StrCat(name, " has ", a.size(), " vs ", b.size(), " entries");
    }
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0) {
      if (difference != nullptr) *difference = absl::StrCat(name, "[", i, "]");
      return false;
    }
  }
  return true;
}

bool SameStrings(const std::vector<std::string>& a,
                 const std::vector<std::string>& b, absl::string_view name,
                 std::string* difference) {
  if (a == b) return true;
  if (difference != nullptr) *difference = absl::StrCat(name, " differs");
  return false;
}

struct SourceState {
  int64_t size = 0;
  int64_t mtime_ns = 0;
};

absl::StatusOr<SourceState> StatFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot stat: ", std::strerror(errno)));
  }
  return SourceState{static_cast<int64_t>(st.st_size),
                     static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                         st.st_mtim.tv_nsec};
}

// Writes `file` to `out` and checks that `out` reads back to the same
// contents; removes `out` when it does not.
absl::Status WriteChecked(const NeuronioFile& file, const std::string& out) {
  RETURN_IF_ERROR(WriteNeuronioCompact(file, out));
  absl::StatusOr<NeuronioFile> back = ReadNeuronioCompact(out);
  std::string difference;
  if (back.ok() && SameNeuronioContents(file, *back, &difference)) {
    return absl::OkStatus();
  }
  std::remove(out.c_str());
  return absl::DataLossError(absl::StrCat(
      out,
      ": the written compact file does not read back to the simulations "
      "of '",
      file.path, "' (",
      back.ok() ? difference : std::string(back.status().message()),
      "); removed it"));
}

}  // namespace

bool SameNeuronioContents(const NeuronioFile& a, const NeuronioFile& b,
                          std::string* difference) {
  const NeuronioParams &p = a.params, &q = b.params;
  if (!SameStrings(p.segment_types, q.segment_types, "Params.allSegmentsType",
                   difference) ||
      !SameArray(p.segment_dist_from_soma, q.segment_dist_from_soma,
                 "Params.allSegments_DistFromSoma", difference)) {
    return false;
  }
  if (p.duration_ms != q.duration_ms || p.random_seed != q.random_seed ||
      p.excitatory_synapse_type != q.excitatory_synapse_type ||
      p.inhibitory_synapse_type != q.inhibitory_synapse_type) {
    if (difference != nullptr) {
      *difference = "Params (duration, random seed or synapse types) differ";
    }
    return false;
  }
  if (a.simulations.size() != b.simulations.size()) {
    if (difference != nullptr) {
      *difference = absl::StrCat(a.simulations.size(), " vs ",
                                 b.simulations.size(), " simulations");
    }
    return false;
  }
  for (size_t i = 0; i < a.simulations.size(); ++i) {
    const NeuronioSimulation &s = a.simulations[i], &t = b.simulations[i];
    std::string what;
    const bool same =
        s.num_segments == t.num_segments && s.duration_ms == t.duration_ms &&
        SameArray(s.channel_begin, t.channel_begin, "channel_begin", &what) &&
        SameArray(s.channel_times, t.channel_times, "channel_times", &what) &&
        SameArray(s.step_begin, t.step_begin, "step_begin", &what) &&
        SameArray(s.step_channels, t.step_channels, "step_channels", &what) &&
        SameArray(s.output_spike_times_ms, t.output_spike_times_ms,
                  "output_spike_times_ms", &what) &&
        SameArray(s.output_spike_steps, t.output_spike_steps,
                  "output_spike_steps", &what) &&
        SameArray(s.soma_mv, t.soma_mv, "soma_mv", &what);
    if (!same) {
      if (difference != nullptr) {
        *difference = absl::StrCat(
            "simulation ", i, ": ",
            what.empty() ? "segments or duration differ" : what + " differs");
      }
      return false;
    }
  }
  return true;
}

std::string NeuronioCompactName(const std::string& source) {
  const size_t slash = source.find_last_of('/');
  absl::string_view name = source;
  if (slash != std::string::npos) name.remove_prefix(slash + 1);
  absl::ConsumeSuffix(&name, ".gz");
  for (absl::string_view ext :
       {absl::string_view(".p"), absl::string_view(".pkl"),
        absl::string_view(".pickle"),
        absl::string_view(kNeuronioCompactExtension)}) {
    if (absl::ConsumeSuffix(&name, ext)) break;
  }
  return absl::StrCat(name, kNeuronioCompactExtension);
}

absl::StatusOr<NeuronioConversion> ConvertNeuronioFile(const std::string& in,
                                                       const std::string& out) {
  NeuronioConversion result;
  ASSIGN_OR_RETURN(const SourceState source, StatFile(in));
  result.in_bytes = source.size;
  // An output of an older format version is converted again.
  if (absl::StatusOr<SourceState> existing = StatFile(out);
      existing.ok() && existing->mtime_ns >= source.mtime_ns &&
      NeuronioCompactFileVersion(out) == kNeuronioCompactVersion) {
    if (absl::StatusOr<NeuronioFile> done = ReadNeuronioCompact(out);
        done.ok()) {
      result.skipped = true;
      result.simulations = static_cast<int64_t>(done->simulations.size());
      result.out_bytes = existing->size;
      return result;
    }
  }
  ASSIGN_OR_RETURN(const NeuronioFile file, ReadNeuronioFile(in));
  RETURN_IF_ERROR(WriteChecked(file, out));
  ASSIGN_OR_RETURN(const SourceState written, StatFile(out));
  result.simulations = static_cast<int64_t>(file.simulations.size());
  result.out_bytes = written.size;
  return result;
}

absl::StatusOr<std::string> NeuronioCachePath(const std::string& source,
                                              const std::string& cache_dir) {
  ASSIGN_OR_RETURN(const SourceState state, StatFile(source));
  std::string canonical = source;
  if (char* real = ::realpath(source.c_str(), nullptr); real != nullptr) {
    canonical = real;
    std::free(real);
  }
  const uint64_t key =
      Fnv1a64(absl::StrCat(canonical, std::string(1, '\0'), state.size,
                           std::string(1, '\0'), state.mtime_ns));
  std::string stem = NeuronioCompactName(source);
  stem.resize(stem.size() - std::strlen(kNeuronioCompactExtension));
  return absl::StrFormat("%s/%s.%016x%s", cache_dir, stem, key,
                         kNeuronioCompactExtension);
}

namespace {

// A cache entry of an older format version (written by an earlier build) is
// re-created, so that later visits read the current version: an error saying
// so for such an entry, OK otherwise.
absl::Status CheckEntryVersion(const std::string& entry) {
  const int version = NeuronioCompactFileVersion(entry);
  if (version > 0 && version < kNeuronioCompactVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("format version ", version, "; re-written in version ",
                     kNeuronioCompactVersion));
  }
  return absl::OkStatus();
}

// Reads `source` and writes its cache entry `entry`, which could not be read
// (`why`), with a note when the entry exists; a failed write is a warning.
absl::StatusOr<NeuronioFile> RecreateEntry(const std::string& source,
                                           const std::string& entry,
                                           const absl::Status& why) {
  if (!absl::IsNotFound(StatFile(entry).status())) {
    std::fprintf(stderr,
                 "elm: NeuronIO cache entry %s is not used (%s); "
                 "re-creating it from %s\n",
                 entry.c_str(), std::string(why.message()).c_str(),
                 source.c_str());
  }
  ASSIGN_OR_RETURN(NeuronioFile file, ReadNeuronioFile(source));
  if (const absl::Status st = WriteChecked(file, entry); !st.ok()) {
    std::fprintf(stderr,
                 "elm: warning: cannot write the NeuronIO cache entry of %s "
                 "(%s); reading it from the source\n",
                 source.c_str(), std::string(st.message()).c_str());
  }
  return file;
}

}  // namespace

absl::StatusOr<NeuronioFile> ReadNeuronioFileCached(
    const std::string& source, const std::string& cache_dir,
    NeuronioChecksum checksum) {
  absl::StatusOr<std::string> entry = NeuronioCachePath(source, cache_dir);
  // A missing source gives the reader's error; a compact one needs no cache.
  if (!entry.ok() || StartsNeuronioCompact(source)) {
    return ReadNeuronioFile(source, NeuronioPickleParse::kStreaming, checksum);
  }
  const absl::Status version = CheckEntryVersion(*entry);
  absl::StatusOr<NeuronioFile> cached =
      version.ok() ? ReadNeuronioCompact(*entry, checksum)
                   : absl::StatusOr<NeuronioFile>(version);
  if (cached.ok()) {
    cached->path = source;
    return cached;
  }
  return RecreateEntry(source, *entry, cached.status());
}

absl::StatusOr<std::shared_ptr<const NeuronioFileView>>
ReadNeuronioFileCachedView(const std::string& source,
                           const std::string& cache_dir,
                           NeuronioChecksum checksum) {
  absl::StatusOr<std::string> entry = NeuronioCachePath(source, cache_dir);
  if (!entry.ok() || StartsNeuronioCompact(source)) {
    return ReadNeuronioFileView(source, checksum);
  }
  const absl::Status version = CheckEntryVersion(*entry);
  absl::StatusOr<std::shared_ptr<const NeuronioFileView>> cached =
      version.ok()
          ? ReadNeuronioCompactView(*entry, checksum)
          : absl::StatusOr<std::shared_ptr<const NeuronioFileView>>(version);
  if (cached.ok()) {
    auto named = std::make_shared<NeuronioFileView>(**cached);
    named->path = source;
    return std::shared_ptr<const NeuronioFileView>(std::move(named));
  }
  ASSIGN_OR_RETURN(NeuronioFile file,
                   RecreateEntry(source, *entry, cached.status()));
  return ViewNeuronioFile(
      std::make_shared<const NeuronioFile>(std::move(file)));
}

}  // namespace elm
