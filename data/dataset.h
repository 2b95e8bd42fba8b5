// The interface every dataset implements and the trainer consumes. A dataset
// hands out batches of sequences per split through a BatchSampler: a
// deterministic stream for a given seed (same seed → same batches, whatever the
// thread count, since one thread samples). Inputs are kept sparse (spike data
// is ~1% dense) in a CSR layout over the B·T rows of the [B, T, D] batch, and
// densified on demand. Targets are per step (NeuronIO: spike 0/1 and scaled
// soma) or one class label per sequence.
//
// A process that runs only some sequences of each batch (one MPI rank of a
// data-parallel run) asks its sampler to hold only those (HoldOnly): the
// sampler draws every batch exactly as before (the same picks, windows and
// random streams), but copies inputs and targets for the held sequences only;
// the other sequences' rows are empty and their targets zero. Labels are
// always held (one integer per sequence).
#ifndef ELM_DATA_DATASET_H_
#define ELM_DATA_DATASET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/csr.h"

namespace elm {

enum class Split { kTrain, kValid, kTest };
const char* SplitName(Split split);

// A batch of B sequences of T steps over D input channels.
struct Batch {
  int64_t batch = 0;  // B
  int64_t steps = 0;  // T
  // Sparse inputs [B·T, D] (base/csr.h), rows r = b·T + t.
  CsrMatrix inputs;
  // Per-step targets [B·T] (NeuronIO): spike in {0, 1} and the scaled soma
  // (min(v, −55) + 67.7)·0.1. Empty for classification.
  std::vector<float> spike;
  std::vector<float> soma;
  // One label per sequence [B] (classification). Empty for per-step targets.
  std::vector<int64_t> labels;
  // The sequences whose inputs and spike/soma targets the batch holds:
  // [held_begin, HeldEnd()); all B by default (held_end = -1).
  int64_t held_begin = 0;
  int64_t held_end = -1;
  // The inputs' nonzeros of sequences [0, held_begin) in the whole batch, so
  // that a stream drawn once per nonzero in row order (input dropout) can skip
  // them and stay the same whatever is held.
  int64_t nonzeros_before = 0;

  int64_t HeldEnd() const { return held_end < 0 ? batch : held_end; }
  bool HoldsAll() const { return held_begin == 0 && HeldEnd() == batch; }
  int64_t input_dim() const { return inputs.cols; }  // D
  // Writes the dense inputs [B·T, D] (zeros elsewhere) to `out`.
  void ToDense(float* out) const { inputs.ToDense(out); }
  // Checks the invariants (inputs of B·T rows and consistent, target sizes,
  // 0 <= held_begin <= HeldEnd() <= B, the rows of sequences not held
  // empty); for tests and readers.
  bool IsConsistent(std::string* why) const;
};

// Equal shapes, inputs, targets, labels and held sequences.
bool operator==(const Batch& a, const Batch& b);
inline bool operator!=(const Batch& a, const Batch& b) { return !(a == b); }

// Whether `part` is `whole` (a batch holding every sequence) with only
// sequences [part.held_begin, part.HeldEnd()) held: the same shape and
// labels, the held sequences' rows and targets equal, the others' rows empty
// and targets zero, and nonzeros_before the whole batch's nonzeros before the
// held sequences. For tests of samplers' HoldOnly.
bool IsHeldPartOf(const Batch& part, const Batch& whole, std::string* why);

// What a model needs to know about a dataset.
struct DatasetInfo {
  std::string name;
  int64_t input_dim = 0;    // D
  int64_t steps = 0;        // T of every batch
  int num_classes = 0;      // > 0: classification; 0: NeuronIO per-step targets
  double delta_t_ms = 1.0;  // time per step
};

class BatchSampler {
 public:
  virtual ~BatchSampler() = default;
  // The next batch of the stream.
  virtual absl::StatusOr<Batch> Next() = 0;

  // From the next batch on, hold only sequences [begin, end) of each batch
  // (clamped to [0, B]; see above): the same draws, less copying. Samplers
  // that do not support it (Holds() unused) keep returning whole batches,
  // which is also correct (their held range is all B).
  void HoldOnly(int64_t begin, int64_t end) {
    hold_begin_ = begin;
    hold_end_ = end;
  }

 protected:
  // For implementations: whether sequence `s` is held, and the held range
  // [first, end) of a batch of `batch` sequences (clamped).
  bool Holds(int64_t s) const { return s >= hold_begin_ && s < hold_end_; }
  int64_t HeldBegin(int64_t batch) const;
  int64_t HeldEnd(int64_t batch) const;

 private:
  int64_t hold_begin_ = 0;
  int64_t hold_end_ = INT64_MAX;
};

class Dataset;
// For tests of a dataset's samplers: draws `num_batches` batches of
// `batch_size` from `split` with `seed` once whole and once split into 3
// held parts ([0, B/3), [B/3, B/3) (empty), [B/3, B)), and checks that each
// part IsHeldPartOf the whole batch and that the parts together hold every
// nonzero exactly once (the copying is shared, not repeated). An error
// names the batch and the part.
absl::Status CheckHeldParts(const Dataset& dataset, Split split, int batch_size,
                            uint64_t seed, int num_batches);

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual const DatasetInfo& info() const = 0;
  // A fresh, seeded stream of batches of `batch_size` sequences from `split`.
  virtual absl::StatusOr<std::unique_ptr<BatchSampler>> MakeSampler(
      Split split, int batch_size, uint64_t seed) const = 0;
  // The number of sequences of a split that is a fixed set of sequences (its
  // sampler goes through them in order for valid and test), or 0 when the
  // split is sampled (NeuronIO windows, SHD-Adding pairs).
  virtual int64_t num_sequences(Split split) const { return 0; }
};

}  // namespace elm

#endif  // ELM_DATA_DATASET_H_
