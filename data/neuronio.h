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

// Writes the training targets of steps [start, start + length), which must lie
// in [0, duration): spike[t] in {0, 1} and soma[t] = NeuronioSomaTarget(v).
// Either pointer may be null. (Evaluation uses sim.soma_mv directly: the
// reference clips it at −55 mV but does not scale it.)
void NeuronioTargets(const NeuronioSimulation& sim, int64_t start,
                     int64_t length, float* spike, float* soma);

// Checks the spec's numbers: window_ms > 0, ignore_start_ms >= 0,
// file_load_fraction in (0, 1]. Errors name the field. (window + ignore <
// duration is checked against each file as it is loaded.)
absl::Status ValidateNeuronioSpec(const NeuronioSpec& spec);

// Expands files or glob patterns (glob(3); relative paths resolved with
// ResolveUserPath): the matches of each pattern sorted, in pattern order. A
// pattern matching nothing is an error naming `field` (e.g.
// "NeuronioSpec.train_files[2]") and the pattern.
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
class NeuronioSampler : public BatchSampler {
 public:
  // Samples files 0 .. num_files − 1 of `loader` (num_files > 0).
  NeuronioSampler(int num_files, NeuronioFileLoader loader,
                  const NeuronioSpec& spec, int batch_size, uint64_t seed);
  // Samples the files at `files`, read with ReadNeuronioFile.
  NeuronioSampler(std::vector<std::string> files, const NeuronioSpec& spec,
                  int batch_size, uint64_t seed);

  absl::StatusOr<Batch> Next() override;

  // The windows of the batch Next() returned last, one per row.
  const std::vector<NeuronioWindow>& last_windows() const {
    return last_windows_;
  }
  // The file now loaded (null before the first batch).
  const NeuronioFile* loaded_file() const { return loaded_.get(); }

 private:
  absl::Status LoadNextFile();

  const int num_files_;
  const NeuronioFileLoader loader_;
  const NeuronioSpec spec_;
  const int batch_;
  Rng file_rng_;
  Rng batch_rng_;
  std::shared_ptr<const NeuronioFile> loaded_;
  int loaded_index_ = -1;
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
  // Validates the spec and expands the file lists of every split (a split
  // with no patterns stays empty). A spec with `generate` set is an error
  // (GeneratedNeuronioDataset builds those: see MakeDataset).
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
