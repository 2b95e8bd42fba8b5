// The interface every dataset implements and the trainer consumes. A dataset
// hands out batches of sequences per split through a BatchSampler: a
// deterministic stream for a given seed (same seed → same batches, whatever the
// thread count, since one thread samples). Inputs are kept sparse (spike data
// is ~1% dense) in a CSR layout over the B·T rows of the [B, T, D] batch, and
// densified on demand. Targets are per step (NeuronIO: spike 0/1 and scaled
// soma) or one class label per sequence.
#ifndef ELM_DATA_DATASET_H_
#define ELM_DATA_DATASET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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

  int64_t input_dim() const { return inputs.cols; }  // D
  // Writes the dense inputs [B·T, D] (zeros elsewhere) to `out`.
  void ToDense(float* out) const { inputs.ToDense(out); }
  // Checks the invariants (inputs of B·T rows and consistent, target sizes);
  // for tests and readers.
  bool IsConsistent(std::string* why) const;
};

// Equal shapes, inputs, targets and labels.
bool operator==(const Batch& a, const Batch& b);
inline bool operator!=(const Batch& a, const Batch& b) { return !(a == b); }

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
};

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
