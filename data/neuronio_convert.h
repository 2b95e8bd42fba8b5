// NeuronIO files converted once to the compact form (io/neuronio_compact.h,
// `.elmnio`), which reads many times faster than a pickle: the conversion of
// one file with a read-back check (`ConvertNeuronioFile`, used by `bazel run
// //data:convert_neuronio`), and a conversion cache that does the same on the
// fly (`ReadNeuronioFileCached`, used by the NeuronIO sampler when
// NeuronioSpec.cache_dir is set): a file is written in compact form the first
// time it is read and read from there on its later visits.
//
// A cache entry is named by the source file and its state:
// `<cache_dir>/<stem>.<key>.elmnio`, where <stem> is the source's base name
// less `.gz` and `.p` / `.pkl` / `.pickle`, and <key> 16 hex digits of the
// FNV-1a 64 hash of the source's canonical absolute path, size in bytes and
// modification time in nanoseconds. A source that is replaced or touched
// therefore gets a new entry (the stale one stays until removed by hand);
// reading an entry needs one stat() of the source and no byte of it.
#ifndef ELM_DATA_NEURONIO_CONVERT_H_
#define ELM_DATA_NEURONIO_CONVERT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/neuronio_compact.h"
#include "io/neuronio_file.h"

namespace elm {

// Whether `a` and `b` hold the same Params entries and the same simulations
// (every array equal element by element, floats compared bit for bit; `path`
// is not compared). When not and `difference` is not null, it says where
// ("simulation 3: soma_mv[17] differs").
bool SameNeuronioContents(const NeuronioFile& a, const NeuronioFile& b,
                          std::string* difference = nullptr);

// The name of a source's compact file: its base name less a trailing ".gz",
// then less ".p", ".pkl" or ".pickle", plus ".elmnio"
// ("x/sim__1.p.gz" -> "sim__1.elmnio"; "x/a.elmnio" -> "a.elmnio").
std::string NeuronioCompactName(const std::string& source);

// What ConvertNeuronioFile did.
struct NeuronioConversion {
  bool skipped = false;  // `out` already held a valid, newer conversion
  int64_t simulations = 0;
  int64_t in_bytes = 0;   // size of the source
  int64_t out_bytes = 0;  // size of the compact file
};

// Converts the NeuronIO file `in` (anything ReadNeuronioFile reads) to the
// compact file `out` (written atomically: `out` is either absent, as it was,
// or whole), then reads `out` back and checks that it holds exactly the same
// simulations as `in` (SameNeuronioContents). Skipped, without reading `in`,
// when `out` is already a valid compact file (magic, checksum, contents) of
// the current format version (kNeuronioCompactVersion: an older version's
// output is converted again) not older than `in`. Errors name the file: `in`'s
// reader errors, write errors of `out`, and a read-back mismatch (then `out` is
// removed).
absl::StatusOr<NeuronioConversion> ConvertNeuronioFile(const std::string& in,
                                                       const std::string& out);

// The cache entry of `source` under `cache_dir` (see the top of this file).
// Errors: `source` cannot be stat()ed (naming it).
absl::StatusOr<std::string> NeuronioCachePath(const std::string& source,
                                              const std::string& cache_dir);

// ReadNeuronioFile(source) through the cache in `cache_dir` (an existing
// directory): a compact `source` is read directly; otherwise a valid cache
// entry is read (its `path` set to `source`, so errors and the sampler name
// the source), and a missing or invalid one (truncated, corrupt, or of an
// older format version) is re-created from `source` (checked as
// ConvertNeuronioFile does). The result
// is the same as ReadNeuronioFile(source) in every case. A cache entry that
// cannot be written (disk full, no permission) is a warning on stderr, not an
// error: the file read from the source is returned. Compact files (the
// source or the entry) are read with ReadNeuronioCompact(…, checksum).
absl::StatusOr<NeuronioFile> ReadNeuronioFileCached(
    const std::string& source, const std::string& cache_dir,
    NeuronioChecksum checksum = NeuronioChecksum::kEveryRead);

// The same as views (ReadNeuronioFileView, io/neuronio_reader.h), for the
// sampler: a version-2 entry or compact source is viewed in its mapping.
absl::StatusOr<std::shared_ptr<const NeuronioFileView>>
ReadNeuronioFileCachedView(
    const std::string& source, const std::string& cache_dir,
    NeuronioChecksum checksum = NeuronioChecksum::kEveryRead);

}  // namespace elm

#endif  // ELM_DATA_NEURONIO_CONVERT_H_
