#include "base/named_tensor.h"

#include "gtest/gtest.h"

namespace elm {
namespace {

TEST(NamedTensorTest, ElementsAreTheProductOfTheDims) {
  NamedTensor t;
  EXPECT_EQ(t.num_elements(), 1);  // a scalar
  t.shape = {2, 3, 4};
  EXPECT_EQ(t.num_elements(), 24);
  t.shape = {5, 0};
  EXPECT_EQ(t.num_elements(), 0);
}

TEST(NamedTensorTest, FloatingDtypes) {
  NamedTensor t;
  for (const char* dtype : {"f32", "f64"}) {
    t.dtype = dtype;
    EXPECT_TRUE(t.is_floating()) << dtype;
  }
  for (const char* dtype : {"i64", "bool", ""}) {
    t.dtype = dtype;
    EXPECT_FALSE(t.is_floating()) << dtype;
  }
}

}  // namespace
}  // namespace elm
