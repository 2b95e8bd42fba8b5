// Classification metrics for the sequence-classification experiments (SHD,
// SHD-Adding, ListOps, sequential Fashion-MNIST): from true labels and
// predicted classes, or from logits through a row-wise argmax (the first
// maximum on ties, as np.argmax / torch.argmax): the accuracy, the per-class
// accuracy (recall of each true class; NaN for a class with no samples), the
// balanced accuracy over the classes present, and the confusion matrix (row =
// true class, column = predicted class).
#ifndef ELM_EXPERIMENTS_EVAL_CLASSIFICATION_METRICS_H_
#define ELM_EXPERIMENTS_EVAL_CLASSIFICATION_METRICS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace elm {

struct ClassificationMetrics {
  int num_classes = 0;      // C
  int64_t num_samples = 0;  // N
  int64_t num_correct = 0;
  double accuracy = 0.0;  // num_correct / N
  // Samples of each true class. [C]
  std::vector<int64_t> class_count;
  // Correct / class_count[c] for each true class c; NaN (quiet) where
  // class_count[c] = 0, so a missing class is never mistaken for 0 % or 100 %.
  // [C]
  std::vector<double> per_class_accuracy;
  // The mean of per_class_accuracy over the classes with samples (sklearn's
  // balanced_accuracy_score).
  double balanced_accuracy = 0.0;
  // Counts, row-major: confusion[t · C + p] = samples of true class t
  // predicted as p. [C, C]
  std::vector<int64_t> confusion;

  int64_t Confusion(int true_class, int predicted_class) const {
    return confusion[static_cast<int64_t>(true_class) * num_classes +
                     predicted_class];
  }
};

// The metrics of `predicted` classes against `labels` ([N] each, N > 0, all
// in [0, num_classes)). Errors (InvalidArgument): num_classes <= 0, sizes that
// differ, no samples, a label or prediction out of range (naming the array
// and the index).
absl::StatusOr<ClassificationMetrics> ClassificationMetricsOf(
    absl::Span<const int64_t> labels, absl::Span<const int64_t> predicted,
    int num_classes);

// The predicted class of each row of `logits` ([N, C] row-major, C =
// num_classes > 0, size a multiple of C): the index of the first maximum; a
// NaN counts as larger than any number (the first NaN wins), as in NumPy and
// PyTorch. CHECK-fails on a size that is not a multiple of C. [N]
std::vector<int64_t> ArgmaxRows(absl::Span<const float> logits,
                                int num_classes);

// ClassificationMetricsOf(labels, ArgmaxRows(logits)). Errors: those above,
// and logits.size() != labels.size() · num_classes.
absl::StatusOr<ClassificationMetrics> ClassificationMetricsFromLogits(
    absl::Span<const int64_t> labels, absl::Span<const float> logits,
    int num_classes);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_EVAL_CLASSIFICATION_METRICS_H_
