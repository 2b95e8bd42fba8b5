// What `bazel run //data:inspect -- <path>` reports: the numbers a user checks
// first in a NeuronIO simulation file (pickle, optionally .gz), an SHD HDF5
// file, or a dataset spec (elm.DatasetSpec in protobuf text format). The kind
// is decided from the content (gzip, pickle and HDF5 signatures, else text
// parsed as a DatasetSpec), with the extension only sharpening the error when
// the content is none of them. Each kind has a struct of the numbers (for
// tests and callers), a function computing it, and a formatter of the report
// (counts as plain integers); `Inspect` does all three for a path. Errors are
// absl::Status values naming the file and the problem.
#ifndef ELM_DATA_INSPECT_H_
#define ELM_DATA_INSPECT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/dataset.h"
#include "data/neuronio.h"

namespace elm {

enum class InspectKind { kNeuronioFile, kShdFile, kDatasetSpec };
const char* InspectKindName(InspectKind kind);

// Decides what the file at `path` is. Errors: the path does not exist, is a
// directory or cannot be read; the file is empty; it is gzip-compressed but
// not a pickle inside, or its name and compression disagree (the NeuronIO
// reader gunzips exactly the files whose name ends in ".gz"); it is binary
// and none of the three kinds (the message lists them and the first bytes).
absl::StatusOr<InspectKind> DetectInspectKind(const std::string& path);

// ---- NeuronIO files ----

struct NeuronioSimulationStats {
  int64_t excitatory_spikes = 0;  // input spikes as the file lists them
  int64_t inhibitory_spikes = 0;
  double excitatory_per_ms = 0;  // spikes / duration_ms
  double inhibitory_per_ms = 0;
  int64_t output_spikes = 0;
  double soma_min_mv = 0, soma_max_mv = 0, soma_mean_mv = 0;
};

struct NeuronioFileStats {
  std::string path;
  int64_t num_simulations = 0;
  int64_t num_segments = 0;
  int64_t num_basal_segments = 0;
  int64_t num_apical_segments = 0;  // other types: segments − basal − apical
  int64_t duration_ms = 0;
  int64_t random_seed = -1;
  std::string excitatory_synapse_type, inhibitory_synapse_type;
  // Totals over all simulations.
  int64_t excitatory_spikes = 0;
  int64_t inhibitory_spikes = 0;
  // Mean input spikes per ms over all simulations: total / (sims · duration).
  double excitatory_per_ms = 0;
  double inhibitory_per_ms = 0;
  int64_t output_spikes = 0;
  double output_rate_hz = 0;  // output spikes / (sims · duration in s)
  // Over every soma sample of every simulation.
  double soma_min_mv = 0, soma_max_mv = 0, soma_mean_mv = 0;
  std::vector<NeuronioSimulationStats> simulations;
};

NeuronioFileStats ComputeNeuronioStats(const NeuronioFile& file);
// ReadNeuronioFile, then ComputeNeuronioStats.
absl::StatusOr<NeuronioFileStats> InspectNeuronioFile(const std::string& path);
// The report; per-simulation lines for the first `max_simulations` only.
std::string FormatNeuronioStats(const NeuronioFileStats& stats,
                                int max_simulations = 10);

// ---- SHD files ----

struct ShdFileStats {
  std::string path;
  int64_t num_samples = 0;
  int64_t num_empty_samples = 0;  // samples without spikes
  int64_t total_spikes = 0;
  double spikes_per_sample = 0;  // mean over all samples
  int64_t channels_used = 0;     // distinct units with at least one spike
  int64_t max_unit = -1;         // largest unit seen (-1: no spikes)
  // Duration of a sample = its last spike time; min and max over the samples
  // with spikes (0 when none has any).
  double min_duration_s = 0, max_duration_s = 0;
  // Spikes at or after 1 s, which the default binning (max_time_s 1) drops.
  int64_t spikes_after_1s = 0;
  std::vector<int64_t> label_counts;  // [kShdNumClasses]: samples per label
  bool has_speakers = false;
  int64_t num_speakers = 0;  // distinct extra/speaker values
};

// Streams the file with ForEachShdSample.
absl::StatusOr<ShdFileStats> InspectShdFile(const std::string& path);
std::string FormatShdStats(const ShdFileStats& stats);

// ---- Dataset specs ----

struct InspectOptions {
  // Files summarized per split of a dataset spec (a file shared by splits is
  // summarized once).
  int max_files = 1;
  // File names listed per split.
  int max_listed_files = 3;
};

struct SplitSummary {
  Split split = Split::kTrain;
  std::vector<std::string> files;  // after glob expansion
  int64_t num_samples = -1;        // SHD: samples in the split; else -1
};

struct DatasetSpecStats {
  std::string path;
  std::string kind;  // DatasetKindName
  uint64_t seed = 0;
  DatasetInfo info;
  std::vector<SplitSummary> splits;  // train, valid, test
  // The per-file summaries made, in order.
  std::vector<NeuronioFileStats> neuronio_files;
  std::vector<ShdFileStats> shd_files;
  std::string files_report;  // their formatted reports
};

// Reads the spec, builds its dataset with MakeDataset (which expands globs,
// resolving relative paths against the user's directory, and for SHD reads
// and bins the files), and summarizes the first options.max_files files of
// each split. Errors are prefixed with the spec's path.
absl::StatusOr<DatasetSpecStats> InspectDatasetSpec(
    const std::string& path, const InspectOptions& options);
std::string FormatDatasetSpecStats(const DatasetSpecStats& stats,
                                   const InspectOptions& options);

// ---- Any of them ----

struct InspectReport {
  InspectKind kind = InspectKind::kNeuronioFile;
  std::optional<NeuronioFileStats> neuronio;
  std::optional<ShdFileStats> shd;
  std::optional<DatasetSpecStats> spec;
  std::string text;  // the report printed
};

// DetectInspectKind, then the kind's Inspect and Format. `path` is used as
// given (the tool resolves it with ResolveUserPath first).
absl::StatusOr<InspectReport> Inspect(const std::string& path,
                                      const InspectOptions& options);

}  // namespace elm

#endif  // ELM_DATA_INSPECT_H_
