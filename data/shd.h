// Spiking Heidelberg Digits (SHD) and SHD-Adding, as the ELM reference uses
// them. This provides a reader of the published SHD HDF5 layout
// (`spikes/times`: per-sample variable-length float spike times in seconds,
// `spikes/units`: per-sample variable-length integer channels 0..699, `labels`,
// optional `extra/speaker`) through the HDF5 C API with native type conversion,
// whatever widths the file stores (float16 times convert exactly); the
// reference's binning of spike times into per-bin spike counts
// (`np.arange` edges, `digitize − 1`, last bin dropped); its Bernoulli
// train/valid split (from our seeded Rng, not numpy's stream); and a `Dataset`
// for SHD (20 classes) and SHD-Adding (two digits concatenated in time, label
// a%10 + b%10, 19 classes), built from a `ShdSpec` by `MakeShdDataset`. Every
// file and spec error is an absl::Status naming the file and the HDF5 dataset
// path, or the spec field.
#ifndef ELM_DATA_SHD_H_
#define ELM_DATA_SHD_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "data/dataset.h"
#include "data/dataset_spec.pb.h"

namespace elm {

inline constexpr int kShdNumUnits = 700;   // input channels
inline constexpr int kShdNumClasses = 20;  // 0-9 English, 10-19 German digits
inline constexpr int kShdAddingNumClasses = 19;  // a%10 + b%10 in 0..18

// -----------------------------------------------------------------------------
// Reading the HDF5 files.

// One sample of an SHD file.
struct ShdSample {
  // Spike times in seconds: the stored values (float16, float32 or float64)
  // widened to double, which is exact, as numpy's digitize widens them. Finite
  // and >= 0.
  std::vector<double> times_s;
  // The channel of each spike, in [0, kShdNumUnits); same length as times_s.
  std::vector<int32_t> units;
  int64_t label = 0;     // in [0, kShdNumClasses)
  int64_t speaker = -1;  // extra/speaker, or -1 where the file has none
};

// Calls `visit(index, sample)` for every sample of the SHD file at `path`, in
// file order. The spikes are read in chunks of samples, so only one chunk of
// the file is in memory at a time. Checks the layout (datasets present and 1-D,
// one entry per sample in each, the element types), and per sample: as many
// units as times, units in [0, 700), times finite and >= 0, the label in
// [0, 20). Returns the first error, or visit's first error. HDF5's own error
// printing is off while reading, and every handle is closed on every path. HDF5
// (Debian's serial build) is not thread-safe: all SHD reads are serialized by
// one mutex, so `visit` must not read SHD files itself.
//
// HDF5 runs in a child process that streams the samples back: a corrupt file
// that crashes libhdf5 (a bad global-heap reference crashes its
// variable-length read) is a DataLoss error naming the file, and one that
// makes it send nothing for `stall_seconds` (loop) is a DeadlineExceeded
// error; either way this process goes on. The child may grow its address
// space by at most kShdReaderMemoryBytes over what it inherits (not in
// sanitizer builds, whose shadow memory an address-space limit breaks): a
// corrupt file that makes libhdf5 ask for more (one 17 KB file made it touch
// 4.5 GB) fails the read instead of exhausting the machine's memory.
inline constexpr double kShdReaderStallSeconds = 30;
inline constexpr int64_t kShdReaderMemoryBytes = int64_t{2} << 30;
absl::Status ForEachShdSample(
    const std::string& path,
    const std::function<absl::Status(int64_t index, const ShdSample& sample)>&
        visit,
    double stall_seconds = kShdReaderStallSeconds);

// All samples of the SHD file at `path` (ForEachShdSample collected).
absl::StatusOr<std::vector<ShdSample>> ReadShdFile(
    const std::string& path, double stall_seconds = kShdReaderStallSeconds);

// -----------------------------------------------------------------------------
// Binning (elm_reference.md §5.3).

// The bin edges in seconds exactly as the reference computes them:
// np.arange(0, max_time_s + bin_size_ms / 1000, bin_size_ms / 1000), that is
// ceil((max_time_s + step) / step) edges k·step with step = bin_size_ms / 1000,
// all in double. The number of kept bins (time steps) is edges.size() − 1:
// 1000, 250, 167, 100, 10 for 1, 4, 6, 10, 100 ms at max_time_s = 1 (the last
// kept edge is 1.002 s for 6 ms). Requires bin_size_ms > 0 and max_time_s > 0,
// finite (CHECKed; ValidateShdSpec reports them as errors).
std::vector<double> ShdBinEdges(double bin_size_ms, double max_time_s);

// One sample binned into spike counts per (bin, unit), CSR over the bins.
struct ShdFrames {
  int64_t label = 0;
  // [T + 1]: the nonzeros of bin t are k in [bin_begin[t], bin_begin[t + 1]).
  std::vector<int32_t> bin_begin;
  std::vector<uint16_t> unit;  // ascending within a bin
  std::vector<float> count;    // spikes of (bin, unit), >= 1

  int64_t num_bins() const {
    return static_cast<int64_t>(bin_begin.size()) - 1;
  }
  // Sum of the counts: the spikes the binning kept.
  int64_t num_kept() const;
};

// Bins `sample` as the reference does: a spike at time t goes to bin
// (upper_bound(edges, t) − edges.begin()) − 1, which is
// np.digitize(t, edges) − 1, so a spike exactly on an edge starts the later
// bin; counts of the same (bin, unit) are summed; the last bin, index
// edges.size() − 1 (every spike at or after the last edge), is dropped. The
// sample must satisfy what ForEachShdSample checks (CHECKed).
ShdFrames BinShdSample(const ShdSample& sample,
                       const std::vector<double>& edges);

// -----------------------------------------------------------------------------
// Split (elm_reference.md §5.2).

// Per training sample, true (validation) with probability valid_fraction, from
// Rng(seed) through a fixed salt, so the split does not correlate with a
// sampler seeded with the same seed. Deterministic per seed.
std::vector<bool> ShdValidMask(int64_t num_samples, double valid_fraction,
                               uint64_t seed);

// -----------------------------------------------------------------------------
// The dataset.

// Checks the numeric fields of `spec` (bin_size_ms > 0 and finite,
// max_time_s > 0 and finite, at least one and at most 10^7 bins, valid_fraction
// in [0, 1)), and with `require_files` that train_file and test_file are set.
// The error names the field.
absl::Status ValidateShdSpec(const ShdSpec& spec, bool require_files);

// SHD or SHD-Adding over binned samples held in memory.
//
// Splits: train and valid partition the training file by ShdValidMask(seed);
// test is the test file. info(): input_dim 700, steps T = edges − 1 (2T for
// Adding), num_classes 20 (19 for Adding), delta_t_ms = bin_size_ms.
//
// Samplers (infinite streams; the dataset must outlive them):
// - SHD, train: consecutive batches over an order that Fisher-Yates with
//   Rng(seed) reshuffles at the start of every epoch; an epoch is
//   num_samples / B batches, the trailing partial batch is dropped.
// - SHD, valid and test: the same in file order, unshuffled (seed unused).
// - SHD-Adding, any split: per batch, 2B indices uniform with replacement
//   from Rng(seed); sequence b is sample idx[b] followed in time by sample
//   idx[B + b] (2T steps), label label[idx[b]] % 10 + label[idx[B + b]] % 10.
//   Re-create a sampler with the same seed to get the same batches again (the
//   reference re-seeds valid and test every epoch).
// Batches hold counts as values, channels ascending within each step, and
// `labels`.
class ShdDataset : public Dataset {
 public:
  // `train_file` and `test_file` are the binned samples of the two files,
  // binned with ShdBinEdges(spec.bin_size_ms(), spec.max_time_s()). Validates
  // the spec's numeric fields and that every sample has that many bins and a
  // label in [0, 20).
  static absl::StatusOr<std::unique_ptr<ShdDataset>> Create(
      const ShdSpec& spec, uint64_t seed, std::vector<ShdFrames> train_file,
      std::vector<ShdFrames> test_file);

  const DatasetInfo& info() const override { return info_; }
  // Errors: batch_size <= 0; for SHD a split with fewer than batch_size
  // samples; for SHD-Adding an empty split.
  absl::StatusOr<std::unique_ptr<BatchSampler>> MakeSampler(
      Split split, int batch_size, uint64_t seed) const override;

  bool adding() const { return adding_; }
  // SHD: num_samples(split); SHD-Adding: 0 (pairs are sampled).
  int64_t num_sequences(Split split) const override {
    return adding_ ? 0 : num_samples(split);
  }
  int64_t num_samples(Split split) const;
  // Sample i of `split` (train and valid in training-file order).
  const ShdFrames& frames(Split split, int64_t i) const;
  // For train and valid: the sample's index in the training file; for test: i.
  int64_t file_index(Split split, int64_t i) const;

 private:
  ShdDataset() = default;
  const std::vector<int64_t>& indices(Split split) const;
  const std::vector<ShdFrames>& file(Split split) const;

  DatasetInfo info_;
  bool adding_ = false;
  int64_t bins_ = 0;  // T of one sample
  std::vector<ShdFrames> train_file_, test_file_;
  std::vector<int64_t> train_, valid_, test_;  // indices into the files
};

// Reads and bins spec.train_file and spec.test_file (relative paths are
// resolved from the directory `bazel run` was started in) and builds the
// dataset with the split of `seed`. Validates the spec first (ValidateShdSpec
// with files required).
absl::StatusOr<std::unique_ptr<Dataset>> MakeShdDataset(const ShdSpec& spec,
                                                        uint64_t seed);

}  // namespace elm

#endif  // ELM_DATA_SHD_H_
