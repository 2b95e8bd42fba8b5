// The NeuronIO dataset (Beniaguev et al. 2021) as the ELM reference samples
// it, over files read by io/neuronio_reader.h (the simulation pickles or
// their compact form) into io/neuronio_file.h's NeuronioFile: dense windows
// for evaluators (`Densify`, `NeuronioTargets`), the spec checks, and the
// reference's training sampler (`NeuronioSampler`, over any file source:
// files on disk here, in-memory generated files in data/neuronio_generator.h)
// as a `Dataset` (`MakeNeuronioDataset`): per loaded file int(fraction · sims
// · duration / (batch · window)) batches of windows from simulations drawn
// without replacement, then the next file picked uniformly with replacement,
// all from a seeded Rng. Every file and spec problem is an absl::Status
// naming the file, the simulation and the key, or the spec field.
#ifndef ELM_DATA_NEURONIO_H_
#define ELM_DATA_NEURONIO_H_

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/rng.h"
#include "data/dataset.h"
#include "data/dataset_spec.pb.h"
#include "io/neuronio_file.h"
#include "io/neuronio_reader.h"

namespace elm {

// Writes the model input of steps [start, start + length) of `sim` to `out`
// ([length, sim.input_dim()], row-major): +1 at excitatory spikes, −1 at
// inhibitory ones, 0 elsewhere and at steps at or past the end (the
// reference's zero padding of the last evaluation window). start >= 0.
void Densify(const NeuronioSimulation& sim, int64_t start, int64_t length,
             float* out);
void Densify(const NeuronioSimulationView& sim, int64_t start, int64_t length,
             float* out);

// Writes the training targets of steps [start, start + length), which must lie
// in [0, duration): spike[t] in {0, 1} and soma[t] = NeuronioSomaTarget(v).
// Either pointer may be null. (Evaluation uses sim.soma_mv directly: the
// reference clips it at −55 mV but does not scale it.)
void NeuronioTargets(const NeuronioSimulation& sim, int64_t start,
                     int64_t length, float* spike, float* soma);
void NeuronioTargets(const NeuronioSimulationView& sim, int64_t start,
                     int64_t length, float* spike, float* soma);

// Checks the spec's numbers: window_ms > 0, ignore_start_ms >= 0,
// file_load_fraction in (0, 1]; and no cache_dir with `generate`. Errors name
// the field. (window + ignore <
// duration is checked against each file as it is loaded.)
absl::Status ValidateNeuronioSpec(const NeuronioSpec& spec);

// Expands files or glob patterns (glob(3); relative paths resolved with
// ResolveUserPath): the matches of each pattern sorted, in pattern order. A
// '[', '*', '?' or '\' that is part of a file name is escaped with a backslash
// ("run\\[1\\].p" in a textproto string); as in a shell, a pattern that
// matches nothing but is the name of a regular file names that file ("run[1].p"
// when no "run1.p" exists). A pattern matching nothing is an error naming
// `field` (e.g. "NeuronioSpec.train_files[2]") and the pattern.
absl::StatusOr<std::vector<std::string>> ExpandNeuronioFiles(
    const std::vector<std::string>& patterns, absl::string_view field);

// Where row b of a sampled batch comes from.
struct NeuronioWindow {
  int file = 0;        // index into the sampler's files (files(split))
  int simulation = 0;  // index into the file's simulations
  int64_t start = 0;   // first step
  int64_t load = 0;    // which file load (0, 1, ...) of the sampler
};

// Loads file `index` (in [0, num_files)) of a sampler's file source: from
// disk (ReadNeuronioFile) for NeuronioDataset, or an in-memory file
// (GeneratedNeuronioDataset in data/neuronio_generator.h).
using NeuronioFileLoader =
    std::function<absl::StatusOr<std::shared_ptr<const NeuronioFile>>(
        int index)>;
// The same as views (io/neuronio_file.h): what NeuronioSampler cuts its
// batches from. NeuronioDataset's loader reads compact version-2 files as
// spans into their mapping (ReadNeuronioFileView), so a load copies nothing.
using NeuronioViewLoader =
    std::function<absl::StatusOr<std::shared_ptr<const NeuronioFileView>>(
        int index)>;

// The reference's training sampler (`NeuronIO` + `worker_fn` +
// `generate_batch`, one worker), from two seeded streams: file picks and
// batch draws. Per file load: pick a file uniformly with replacement, load it
// through the file source (a file picked twice in a row is kept, not
// reloaded), then draw int(fraction · sims · duration / (batch · window))
// batches; per batch, B simulations without replacement (partial
// Fisher–Yates), then B starts uniform in {ignore, …, duration − window − 1}.
// Batches are CSR over rows b·T + t, channels ascending in a row, values ±1,
// with `spike` and `soma` targets. Next() fails when a file cannot be loaded
// or does not fit the spec (not 639 segments, fewer simulations than the
// batch, window + ignore >= duration, zero batches per file); errors name the
// file's `path`. The spec's file lists are not used.
//
// Prefetch: the file picks have their own stream, so the pick after the
// current one is drawn as soon as a file is in use, and (when it is another
// file) loaded on a background thread while batches are cut from the current
// one. The batches, and the Next() call at which a load error surfaces and
// its message, are exactly those without prefetch; at most two files are in
// memory (the current one and the next). Only the loader runs on the
// background thread, never concurrently with another call of it from this
// sampler. Destroying the sampler waits for a load in flight (one file's
// load at most) and frees what it loaded.
class NeuronioSampler : public BatchSampler {
 public:
  // Samples files 0 .. num_files − 1 of `loader` (num_files > 0), with the
  // next file loaded in the background when `prefetch` is set.
  NeuronioSampler(int num_files, NeuronioFileLoader loader,
                  const NeuronioSpec& spec, int batch_size, uint64_t seed,
                  bool prefetch = false);
  // Samples the files at `files`, read as views with ReadNeuronioFileView (or
  // through the spec's cache_dir: ReadNeuronioFileCachedView in
  // data/neuronio_convert.h), prefetching when spec.prefetch() (the
  // default); a compact file's CRC and checks per spike entry on its first
  // load in the process only (NeuronioChecksum::kOncePerFileVersion). The first
  // one made in a process sets glibc to keep freed memory in the heap (mallopt:
  // no mmap below 32 MiB, no trim below 1 GiB), so that a load reuses the pages
  // of the file freed before it instead of faulting in fresh ones (6x less CPU
  // per version-1 compact file load; a version-2 file is mapped, not
  // allocated); the resident size stays at its high-water mark.
  NeuronioSampler(std::vector<std::string> files, const NeuronioSpec& spec,
                  int batch_size, uint64_t seed);
  ~NeuronioSampler() override;
  NeuronioSampler(const NeuronioSampler&) = delete;
  NeuronioSampler& operator=(const NeuronioSampler&) = delete;

  absl::StatusOr<Batch> Next() override;

  // The windows of the batch Next() returned last, one per row.
  const std::vector<NeuronioWindow>& last_windows() const {
    return last_windows_;
  }
  // The file now loaded (null before the first batch).
  const NeuronioFileView* loaded_file() const { return loaded_.get(); }
  bool prefetch() const { return prefetch_; }

 private:
  using LoadResult = absl::StatusOr<std::shared_ptr<const NeuronioFileView>>;
  struct ViewTag {};
  NeuronioSampler(ViewTag, int num_files, NeuronioViewLoader loader,
                  const NeuronioSpec& spec, int batch_size, uint64_t seed,
                  bool prefetch);

  absl::Status LoadNextFile();
  // The next file pick: the one drawn ahead (prefetch), else a new draw.
  int TakePick();
  // File `index` through the loader: the prefetched result when that load is
  // in flight or done, else loaded now.
  LoadResult Load(int index);
  // Prefetch: draws the pick after the current file and starts loading it
  // when it is another file.
  void PrefetchNext();

  const int num_files_;
  const NeuronioViewLoader loader_;
  const NeuronioSpec spec_;
  const int batch_;
  const bool prefetch_;
  Rng file_rng_;
  Rng batch_rng_;
  std::shared_ptr<const NeuronioFileView> loaded_;
  int loaded_index_ = -1;
  // Prefetch: the pick drawn ahead (-1: none), and the load in flight (of
  // file pending_index_; valid() when there is one).
  int next_pick_ = -1;
  int pending_index_ = -1;
  std::future<LoadResult> pending_;
  int64_t loads_ = 0;
  int64_t batches_left_ = 0;
  std::vector<int> order_;  // simulation indices, for drawing without
                            // replacement
  std::vector<NeuronioWindow> last_windows_;
};

// The seed of the samplers of a NeuronIO dataset built with `dataset_seed`,
// for MakeSampler(…, seed): both NeuronioDataset and GeneratedNeuronioDataset
// use it, so equal files give equal batches.
uint64_t NeuronioSamplerSeed(uint64_t dataset_seed, uint64_t seed);

// The NeuronIO dataset: info() is input_dim 1278, steps = window_ms,
// num_classes 0, delta_t_ms 1. Every split samples as the training sampler
// does (the reference evaluates whole simulations instead: see Densify).
class NeuronioDataset : public Dataset {
 public:
  // Validates the spec, expands the file lists of every split (a split with
  // no patterns stays empty) and creates the cache_dir when set and missing
  // (resolved with ResolveUserPath; an error naming the field when it cannot
  // be). A spec with `generate` set is an error (GeneratedNeuronioDataset
  // builds those: see MakeDataset). Its samplers prefetch when spec.prefetch()
  // and read through the cache when cache_dir is set.
  static absl::StatusOr<std::unique_ptr<NeuronioDataset>> Create(
      const NeuronioSpec& spec, uint64_t seed);

  const DatasetInfo& info() const override { return info_; }
  // Errors: batch_size <= 0, no files for the split (naming the field).
  absl::StatusOr<std::unique_ptr<BatchSampler>> MakeSampler(
      Split split, int batch_size, uint64_t seed) const override;
  // The same, typed. The sampler's streams depend on the dataset's seed and
  // on `seed`.
  absl::StatusOr<std::unique_ptr<NeuronioSampler>> MakeNeuronioSampler(
      Split split, int batch_size, uint64_t seed) const;

  // The expanded files of a split.
  const std::vector<std::string>& files(Split split) const;
  const NeuronioSpec& spec() const { return spec_; }

 private:
  NeuronioDataset() = default;

  DatasetInfo info_;
  NeuronioSpec spec_;
  uint64_t seed_ = 0;
  std::vector<std::string> files_[3];
};

// NeuronioDataset::Create as a Dataset.
absl::StatusOr<std::unique_ptr<Dataset>> MakeNeuronioDataset(
    const NeuronioSpec& spec, uint64_t seed);

}  // namespace elm

#endif  // ELM_DATA_NEURONIO_H_
