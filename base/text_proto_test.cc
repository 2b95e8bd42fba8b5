#include "base/text_proto.h"

#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::HasSubstr;

TEST(TextProtoTest, ParsesAMessage) {
  google::protobuf::Value value;
  ASSERT_TRUE(ParseTextProto("number_value: 2.5", &value).ok());
  EXPECT_EQ(value.number_value(), 2.5);
}

TEST(TextProtoTest, ErrorsSayWhereAsEditorsCount) {
  google::protobuf::Value value;
  const absl::Status s =
      ParseTextProto("number_value: 1\n  bogus_field: 3\n", &value);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("line 2, column 14: "));
  EXPECT_THAT(s.message(), HasSubstr("bogus_field"));
}

TEST(TextProtoTest, EveryErrorIsKept) {
  google::protobuf::Value value;
  const absl::Status s = ParseTextProto("number_value: abc", &value);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("line 1, column 15"));
}

}  // namespace
}  // namespace elm
