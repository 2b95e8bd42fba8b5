// Tests of the classification metrics on hand-computed cases.
#include "experiments/eval/classification_metrics.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace elm {
namespace {

// By hand, C = 4 (class 3 never occurs):
//   labels    0 0 0 1 1 2 2 2 2
//   predicted 0 1 0 1 2 2 2 0 2
// Confusion (row = true, column = predicted):
//   true 0: 2 1 0 0
//   true 1: 0 1 1 0
//   true 2: 1 0 3 0
//   true 3: 0 0 0 0
// Correct 2 + 1 + 3 = 6 of 9: accuracy 2/3. Per class 2/3, 1/2, 3/4, NaN;
// balanced (2/3 + 1/2 + 3/4) / 3 = 23/36.
TEST(ClassificationMetricsTest, HandComputedConfusionMatrix) {
  const std::vector<int64_t> labels = {0, 0, 0, 1, 1, 2, 2, 2, 2};
  const std::vector<int64_t> predicted = {0, 1, 0, 1, 2, 2, 2, 0, 2};
  absl::StatusOr<ClassificationMetrics> m =
      ClassificationMetricsOf(labels, predicted, 4);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->num_classes, 4);
  EXPECT_EQ(m->num_samples, 9);
  EXPECT_EQ(m->num_correct, 6);
  EXPECT_DOUBLE_EQ(m->accuracy, 2.0 / 3.0);
  EXPECT_EQ(m->confusion, (std::vector<int64_t>{2, 1, 0, 0,  //
                                                0, 1, 1, 0,  //
                                                1, 0, 3, 0,  //
                                                0, 0, 0, 0}));
  EXPECT_EQ(m->Confusion(2, 0), 1);
  EXPECT_EQ(m->Confusion(0, 2), 0);
  EXPECT_EQ(m->class_count, (std::vector<int64_t>{3, 2, 4, 0}));
  ASSERT_EQ(m->per_class_accuracy.size(), 4u);
  EXPECT_DOUBLE_EQ(m->per_class_accuracy[0], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m->per_class_accuracy[1], 0.5);
  EXPECT_DOUBLE_EQ(m->per_class_accuracy[2], 0.75);
  EXPECT_TRUE(std::isnan(m->per_class_accuracy[3]));
  EXPECT_DOUBLE_EQ(m->balanced_accuracy, 23.0 / 36.0);
}

TEST(ArgmaxRowsTest, FirstMaximumAndNaNAsNumpy) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> logits = {1,   3,   3,    // tie: the first, 1
                                     nan, 5,   1,    // NaN wins: 0
                                     0,   nan, nan,  // the first NaN: 1
                                     -1,  -2,  -3,   // 0
                                     2,   2,   2};   // 0
  EXPECT_EQ(ArgmaxRows(logits, 3), (std::vector<int64_t>{1, 0, 1, 0, 0}));
  EXPECT_TRUE(ArgmaxRows({}, 3).empty());
}

TEST(ClassificationMetricsTest, FromLogits) {
  // Rows argmax to 1, 0, 2, 2 against labels 1, 0, 1, 2: 3 of 4 correct.
  const std::vector<float> logits = {0.1f, 0.9f, 0.0f,  //
                                     2.0f, 1.0f, 1.0f,  //
                                     0.0f, 0.4f, 0.5f,  //
                                     -3.f, -2.f, -1.f};
  absl::StatusOr<ClassificationMetrics> m =
      ClassificationMetricsFromLogits({1, 0, 1, 2}, logits, 3);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_DOUBLE_EQ(m->accuracy, 0.75);
  EXPECT_EQ(m->Confusion(1, 2), 1);
  EXPECT_EQ(m->Confusion(1, 1), 1);
  EXPECT_DOUBLE_EQ(m->per_class_accuracy[1], 0.5);
  EXPECT_DOUBLE_EQ(m->balanced_accuracy, (1.0 + 0.5 + 1.0) / 3.0);
}

void ExpectError(const absl::StatusOr<ClassificationMetrics>& m,
                 const std::string& fragment) {
  ASSERT_FALSE(m.ok()) << fragment;
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find(fragment), std::string::npos)
      << m.status();
}

TEST(ClassificationMetricsTest, Errors) {
  ExpectError(ClassificationMetricsOf({0, 1}, {0}, 2),
              "2 labels but 1 predictions");
  ExpectError(ClassificationMetricsOf({}, {}, 2), "no samples");
  ExpectError(ClassificationMetricsOf({0, 2}, {0, 1}, 2),
              "labels[1] = 2 is outside [0, 2)");
  ExpectError(ClassificationMetricsOf({0, 1}, {-1, 1}, 2),
              "predicted[0] = -1 is outside [0, 2)");
  ExpectError(ClassificationMetricsOf({0}, {0}, 0), "num_classes must be > 0");
  ExpectError(ClassificationMetricsFromLogits({0, 1}, {0.f, 1.f, 2.f}, 2),
              "3 logits for 2 labels of 2 classes");
}

}  // namespace
}  // namespace elm
