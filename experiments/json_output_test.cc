// Tests of the JSON objects the experiments write.
#include "experiments/json_output.h"

#include <cmath>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::HasSubstr;

TEST(JsonOutputTest, NumbersStringsNullAndNesting) {
  google::protobuf::Struct object;
  auto& f = *object.mutable_fields();
  f["count"] = JsonNumber(4);
  f["ratio"] = JsonNumber(8.0 / 19.0);
  f["nan"] = JsonNumber(std::nan(""));
  f["inf"] = JsonNumber(std::numeric_limits<double>::infinity());
  f["name"] = JsonString("a \"quoted\" name");
  (*f["inner"].mutable_struct_value()->mutable_fields())["x"] = JsonNumber(0.5);
  absl::StatusOr<std::string> text = JsonText(object);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_THAT(*text, HasSubstr("\"count\": 4"));
  EXPECT_THAT(*text, HasSubstr("\"nan\": null"));
  EXPECT_THAT(*text, HasSubstr("\"inf\": null"));
  EXPECT_THAT(*text, HasSubstr("\"name\": \"a \\\"quoted\\\" name\""));
  EXPECT_THAT(*text, HasSubstr("\"x\": 0.5"));
  EXPECT_EQ(text->back(), '\n');
  // Names in sorted order.
  EXPECT_LT(text->find("\"count\""), text->find("\"inf\""));
  EXPECT_LT(text->find("\"inf\""), text->find("\"inner\""));
  EXPECT_LT(text->find("\"name\""), text->find("\"nan\""));
  EXPECT_LT(text->find("\"nan\""), text->find("\"ratio\""));

  // Reads back as the same values (the ratio exactly).
  google::protobuf::Struct back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*text, &back).ok());
  EXPECT_EQ(back.fields().at("ratio").number_value(), 8.0 / 19.0);
  EXPECT_EQ(back.fields().at("count").number_value(), 4);
  EXPECT_TRUE(back.fields().at("nan").has_null_value());
}

}  // namespace
}  // namespace elm
