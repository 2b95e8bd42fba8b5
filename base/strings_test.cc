// Tests ShapeString's two styles and that Num is the shortest exact form.
#include "base/strings.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace elm {
namespace {

TEST(ShapeStringTest, TupleIsPythons) {
  EXPECT_EQ(ShapeString({}), "()");
  EXPECT_EQ(ShapeString({5}), "(5,)");
  EXPECT_EQ(ShapeString({2, 3}), "(2, 3)");
  EXPECT_EQ(ShapeString({4, 500, 1278}), "(4, 500, 1278)");
  EXPECT_EQ(ShapeString({-1, 0}), "(-1, 0)");
  const std::vector<int64_t> v = {7, 8};
  EXPECT_EQ(ShapeString(v), "(7, 8)");
}

TEST(ShapeStringTest, List) {
  EXPECT_EQ(ShapeString({}, ShapeStyle::kList), "[]");
  EXPECT_EQ(ShapeString({5}, ShapeStyle::kList), "[5]");
  EXPECT_EQ(ShapeString({3, 4}, ShapeStyle::kList), "[3, 4]");
}

TEST(NumTest, ShortestForm) {
  EXPECT_EQ(Num(0), "0");
  EXPECT_EQ(Num(-0.0), "-0");
  EXPECT_EQ(Num(3), "3");
  EXPECT_EQ(Num(0.1), "0.1");
  EXPECT_EQ(Num(-2.5), "-2.5");
  EXPECT_EQ(Num(1e20), "1e+20");
  EXPECT_EQ(Num(2.5e-7), "2.5e-07");
  EXPECT_EQ(Num(1.0 / 3), "0.3333333333333333");
  // A float widened to double keeps the digits of the double.
  EXPECT_EQ(Num(0.1f), "0.10000000149011612");
}

TEST(NumTest, NotFinite) {
  EXPECT_EQ(Num(std::nan("")), "nan");
  EXPECT_EQ(Num(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(Num(-std::numeric_limits<double>::infinity()), "-inf");
}

TEST(NumTest, ReadsBackExactly) {
  for (double v : {0.1, 1.0 / 3, 123456.789, 5e-324, 1.7976931348623157e308,
                   -9.87654321e-123, 2.0 / 7}) {
    EXPECT_EQ(std::strtod(Num(v).c_str(), nullptr), v) << Num(v);
  }
}

TEST(NumTest, SignificantDigitsAsPrintfG) {
  EXPECT_EQ(Num(0.1234567891234, 9), "0.123456789");
  EXPECT_EQ(Num(1.0 / 3.0, 3), "0.333");
  EXPECT_EQ(Num(1.5e-7, 9), "1.5e-07");
  EXPECT_EQ(Num(250000.0, 2), "2.5e+05");
  EXPECT_EQ(Num(42.0, 9), "42");
  EXPECT_EQ(Num(std::nan(""), 9), "nan");
  EXPECT_EQ(Num(-std::numeric_limits<double>::infinity(), 9), "-inf");
}

}  // namespace
}  // namespace elm
