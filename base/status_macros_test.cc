// Tests RETURN_IF_ERROR and ASSIGN_OR_RETURN.
#include "base/status_macros.h"

#include "gtest/gtest.h"

namespace elm {
namespace {

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::Status CheckEven(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return absl::OkStatus();
}

absl::StatusOr<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

absl::Status BothEven(int a, int b) {
  RETURN_IF_ERROR(CheckEven(a));
  RETURN_IF_ERROR(CheckEven(b));
  return absl::OkStatus();
}

TEST(StatusMacrosTest, AssignOrReturnPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Quarter(3).status().message(), "odd");
}

TEST(StatusMacrosTest, ReturnIfErrorPropagates) {
  EXPECT_TRUE(BothEven(2, 4).ok());
  EXPECT_FALSE(BothEven(2, 5).ok());
  EXPECT_FALSE(BothEven(1, 4).ok());
}

}  // namespace
}  // namespace elm
