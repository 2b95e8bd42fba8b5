// Classification metrics: see classification_metrics.h.
#include "experiments/eval/classification_metrics.h"

#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"
#include "glog/logging.h"

namespace elm {
namespace {

absl::Status CheckClasses(absl::Span<const int64_t> v, absl::string_view name,
                          int num_classes) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] < 0 || v[i] >= num_classes) {
      return absl::InvalidArgumentError(
          absl::StrCat("classification metrics: ", name, "[", i, "] = ", v[i],
                       " is outside [0, ", num_classes, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ClassificationMetrics> ClassificationMetricsOf(
    absl::Span<const int64_t> labels, absl::Span<const int64_t> predicted,
    int num_classes) {
  if (num_classes <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "classification metrics: num_classes must be > 0, got ", num_classes));
  }
  if (labels.size() != predicted.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("classification metrics: ", labels.size(), " labels but ",
                     predicted.size(), " predictions"));
  }
  if (labels.empty()) {
    return absl::InvalidArgumentError("classification metrics: no samples");
  }
  RETURN_IF_ERROR(CheckClasses(labels, "labels", num_classes));
  RETURN_IF_ERROR(CheckClasses(predicted, "predicted", num_classes));

  ClassificationMetrics m;
  m.num_classes = num_classes;
  m.num_samples = static_cast<int64_t>(labels.size());
  m.class_count.assign(num_classes, 0);
  m.confusion.assign(static_cast<int64_t>(num_classes) * num_classes, 0);
  for (size_t i = 0; i < labels.size(); ++i) {
    ++m.class_count[labels[i]];
    ++m.confusion[labels[i] * num_classes + predicted[i]];
    if (labels[i] == predicted[i]) ++m.num_correct;
  }
  m.accuracy =
      static_cast<double>(m.num_correct) / static_cast<double>(m.num_samples);
  m.per_class_accuracy.assign(num_classes,
                              std::numeric_limits<double>::quiet_NaN());
  double sum = 0.0;
  int present = 0;
  for (int c = 0; c < num_classes; ++c) {
    if (m.class_count[c] == 0) continue;
    m.per_class_accuracy[c] = static_cast<double>(m.Confusion(c, c)) /
                              static_cast<double>(m.class_count[c]);
    sum += m.per_class_accuracy[c];
    ++present;
  }
  m.balanced_accuracy = sum / present;  // present >= 1 since N > 0
  return m;
}

std::vector<int64_t> ArgmaxRows(absl::Span<const float> logits,
                                int num_classes) {
  CHECK_GT(num_classes, 0);
  CHECK_EQ(logits.size() % num_classes, 0u)
      << "ArgmaxRows: " << logits.size() << " logits for " << num_classes
      << " classes";
  const int64_t rows = static_cast<int64_t>(logits.size()) / num_classes;
  std::vector<int64_t> out(rows);
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = logits.data() + r * num_classes;
    int best = 0;
    for (int c = 1; c < num_classes && !std::isnan(row[best]); ++c) {
      if (std::isnan(row[c]) || row[c] > row[best]) best = c;
    }
    out[r] = best;
  }
  return out;
}

absl::StatusOr<ClassificationMetrics> ClassificationMetricsFromLogits(
    absl::Span<const int64_t> labels, absl::Span<const float> logits,
    int num_classes) {
  if (num_classes <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "classification metrics: num_classes must be > 0, got ", num_classes));
  }
  if (logits.size() != labels.size() * num_classes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "classification metrics: ", logits.size(), " logits for ",
        labels.size(), " labels of ", num_classes, " classes; expected [",
        labels.size(), ", ", num_classes, "]"));
  }
  return ClassificationMetricsOf(labels, ArgmaxRows(logits, num_classes),
                                 num_classes);
}

}  // namespace elm
