// Tests the Batch helpers: densifying the CSR inputs and the consistency
// checks.
#include "data/dataset.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace elm {
namespace {

Batch Small() {
  Batch b;
  b.batch = 2;
  b.steps = 2;
  b.inputs.rows = 4;
  b.inputs.cols = 3;
  b.inputs.row_begin = {0, 1, 1, 3, 4};
  b.inputs.col = {2, 0, 1, 0};
  b.inputs.value = {1, -1, 1, 2};
  b.labels = {4, 7};
  return b;
}

TEST(BatchTest, ToDense) {
  const Batch b = Small();
  std::string why;
  ASSERT_TRUE(b.IsConsistent(&why)) << why;
  std::vector<float> dense(12, 9.0f);
  b.ToDense(dense.data());
  EXPECT_EQ(dense, (std::vector<float>{0, 0, 1, 0, 0, 0, -1, 1, 0, 2, 0, 0}));
}

TEST(BatchTest, InconsistenciesAreNamed) {
  std::string why;
  Batch b = Small();
  b.inputs.col[1] = 3;
  EXPECT_FALSE(b.IsConsistent(&why));
  EXPECT_NE(why.find("col 3"), std::string::npos) << why;
  b = Small();
  b.inputs.row_begin.pop_back();
  EXPECT_FALSE(b.IsConsistent(&why));
  b = Small();
  b.labels.push_back(1);
  EXPECT_FALSE(b.IsConsistent(&why));
  b = Small();
  b.spike = {0, 1, 0};
  b.soma = {0, 1, 0};
  EXPECT_FALSE(b.IsConsistent(&why));
  EXPECT_STREQ(SplitName(Split::kValid), "valid");
}

}  // namespace
}  // namespace elm
