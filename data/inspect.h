// What `bazel run //data:inspect -- <path>` reports: the numbers a user checks
// first in a NeuronIO simulation file (pickle, optionally .gz, or the compact
// .elmnio form of io/neuronio_compact.h), an SHD HDF5 file, a ListOps TSV
// file (LRA layout), a Fashion-MNIST IDX file (images or labels, optionally
// .gz), or a dataset spec (elm.DatasetSpec in protobuf text format). The kind
// is decided from the content (gzip, pickle, compact NeuronIO, IDX and HDF5
// signatures, the ListOps `Source\tTarget` header, else text parsed as a
// DatasetSpec), with the extension only sharpening the error when the content
// is none of them. Each kind has a struct of the numbers (for
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
#include "data/listops.h"
#include "data/neuronio.h"

namespace elm {

enum class InspectKind {
  kNeuronioFile,
  kShdFile,
  kDatasetSpec,
  kListOpsFile,
  kIdxFile,
};
const char* InspectKindName(InspectKind kind);

// Decides what the file at `path` is. Errors: the path does not exist, is a
// directory or cannot be read; the file is empty; it is gzip-compressed but
// neither a pickle nor an IDX file inside, or it is a pickle whose name and
// compression disagree (the NeuronIO reader gunzips exactly the files whose
// name ends in ".gz"); it is binary and none of the kinds (the message lists
// them and the first bytes).
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

// ---- ListOps TSV files ----

struct ListOpsFileStats {
  std::string path;
  int64_t num_examples = 0;
  // Tokens per expression (the LRA tokenisation: parentheses dropped, `]`
  // kept); 0 when there are no examples.
  int64_t min_length = 0, max_length = 0;
  double mean_length = 0;
  std::vector<int64_t> label_counts;  // [kListOpsNumClasses]
  // The deepest leaf over all examples, the root operator at depth 1 (the
  // generator's max_depth convention: `[MAX 2 9 ]` has depth 2, a bare digit
  // depth 1).
  int max_depth = 0;
};

ListOpsFileStats ComputeListOpsStats(const std::string& path,
                                     const std::vector<ListOpsExample>& ex);
// ReadListOpsTsv (with its errors naming the file and line), then
// ComputeListOpsStats.
absl::StatusOr<ListOpsFileStats> InspectListOpsFile(const std::string& path);
std::string FormatListOpsStats(const ListOpsFileStats& stats);

// ---- IDX files (Fashion-MNIST) ----

struct IdxFileStats {
  std::string path;
  std::vector<int64_t> dims;
  int64_t count = 0;  // dims[0]
  // A 1-D file is a labels file: the histogram of values 0..9 and the count
  // of values outside them.
  bool is_labels = false;
  std::vector<int64_t> label_counts;  // [kFashionMnistNumClasses] for labels
  int64_t labels_out_of_range = 0;
  // Otherwise an images file: the mean byte value over all pixels.
  double mean_pixel = 0;
};

// ReadIdxFile (gzipped or not; its errors name the file), then the numbers.
absl::StatusOr<IdxFileStats> InspectIdxFile(const std::string& path);
std::string FormatIdxStats(const IdxFileStats& stats);

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
  // SHD: samples in the split; ListOps: examples (read or to be generated);
  // Fashion-MNIST: images. -1 otherwise.
  int64_t num_samples = -1;
  // Generated NeuronIO: files that would be generated; else -1.
  int64_t generated_files = -1;
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
  std::vector<ListOpsFileStats> listops_files;
  std::vector<IdxFileStats> idx_files;
  std::string files_report;  // their formatted reports
  // For data generated in memory (NeuronIO `generate`, ListOps without
  // data_dir): what would be generated, one line each; empty otherwise.
  std::string generated;
};

// Reads the spec and summarizes what it would use. Kinds read from files:
// builds the dataset with MakeDataset (which expands globs, resolving
// relative paths against the user's directory, reads ListOps TSVs and
// Fashion-MNIST IDX files, and for SHD reads and bins the files), then
// summarizes the first options.max_files files of each split (Fashion-MNIST:
// images and labels files). Generated kinds (NeuronIO `generate`, ListOps
// without data_dir) are validated but not generated: the summary lists the
// counts and parameters. Errors are prefixed with the spec's path.
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
  std::optional<ListOpsFileStats> listops;
  std::optional<IdxFileStats> idx;
  std::string text;  // the report printed
};

// DetectInspectKind, then the kind's Inspect and Format. `path` is used as
// given (the tool resolves it with ResolveUserPath first).
absl::StatusOr<InspectReport> Inspect(const std::string& path,
                                      const InspectOptions& options);

}  // namespace elm

#endif  // ELM_DATA_INSPECT_H_
