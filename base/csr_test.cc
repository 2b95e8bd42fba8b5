#include "base/csr.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace elm {
namespace {

// [[0, 1, 0], [-1, 0, 2], [0, 0, 0]], with a repeated entry in row 1.
CsrMatrix Example() {
  CsrMatrix m;
  m.rows = 3;
  m.cols = 3;
  m.row_begin = {0, 1, 4, 4};
  m.col = {1, 0, 2, 2};
  m.value = {1.0f, -1.0f, 1.5f, 0.5f};
  return m;
}

TEST(CsrTest, ToDenseSumsRepeats) {
  std::vector<float> dense(9, 7.0f);
  Example().ToDense(dense.data());
  EXPECT_EQ(dense, (std::vector<float>{0, 1, 0, -1, 0, 2, 0, 0, 0}));
}

TEST(CsrTest, RowsIsASliceOfTheSameArrays) {
  const CsrMatrix m = Example();
  const CsrView rows = m.view().Rows(1, 2);
  EXPECT_EQ(rows.rows, 2);
  EXPECT_EQ(rows.cols, 3);
  EXPECT_EQ(rows.col, m.col.data());
  std::vector<float> dense(6);
  rows.ToDense(dense.data());
  EXPECT_EQ(dense, (std::vector<float>{-1, 0, 2, 0, 0, 0}));
}

TEST(CsrTest, ConsistencyNamesTheProblem) {
  std::string why;
  EXPECT_TRUE(Example().IsConsistent(&why)) << why;

  CsrMatrix m = Example();
  m.row_begin.pop_back();
  EXPECT_FALSE(m.IsConsistent(&why));
  EXPECT_EQ(why, "row_begin has 3 entries; expected 4");

  m = Example();
  m.row_begin = {0, 2, 1, 4};
  EXPECT_FALSE(m.IsConsistent(&why));
  EXPECT_EQ(why, "row_begin decreases at row 1");

  m = Example();
  m.col[2] = 3;
  EXPECT_FALSE(m.IsConsistent(&why));
  EXPECT_EQ(why, "col 3 at nonzero 2 outside [0, 3)");

  m = Example();
  m.value.pop_back();
  EXPECT_FALSE(m.IsConsistent(&why));
}

TEST(CsrTest, EqualityComparesShapeAndEveryArray) {
  EXPECT_TRUE(Example() == Example());
  CsrMatrix m = Example();
  m.value[3] = 0.25f;
  EXPECT_TRUE(m != Example());
  m = Example();
  m.cols = 4;
  EXPECT_FALSE(m == Example());
  m = Example();
  m.row_begin = {0, 2, 4, 4};  // same nonzeros, other rows
  EXPECT_FALSE(m == Example());
}

TEST(CsrDeathTest, RowsOutOfRangeIsAProgrammerError) {
  const CsrMatrix m = Example();
  EXPECT_DEATH(m.view().Rows(2, 2), "");
}

}  // namespace
}  // namespace elm
