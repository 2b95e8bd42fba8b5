// JSON objects through protobuf's JSON printer (see json_output.h).
#include "experiments/json_output.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/type_resolver.h"
#include "google/protobuf/util/type_resolver_util.h"

namespace elm {

google::protobuf::Value JsonNumber(double v) {
  google::protobuf::Value value;
  if (std::isfinite(v)) {
    value.set_number_value(v);
  } else {
    value.set_null_value(google::protobuf::NULL_VALUE);
  }
  return value;
}

google::protobuf::Value JsonString(absl::string_view s) {
  google::protobuf::Value value;
  value.set_string_value(std::string(s));
  return value;
}

absl::StatusOr<std::string> JsonText(const google::protobuf::Struct& object) {
  // Serialized deterministically (map entries sorted by key), so that the
  // printer writes the names in sorted order.
  std::string binary;
  {
    google::protobuf::io::StringOutputStream stream(&binary);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    object.SerializeToCodedStream(&coded);
  }
  static constexpr char kUrlPrefix[] = "type.googleapis.com";
  static google::protobuf::util::TypeResolver* const resolver =
      google::protobuf::util::NewTypeResolverForDescriptorPool(
          kUrlPrefix, google::protobuf::DescriptorPool::generated_pool());
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  std::string text;
  const auto status = google::protobuf::util::BinaryToJsonString(
      resolver, absl::StrCat(kUrlPrefix, "/", object.GetTypeName()), binary,
      &text, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot print JSON: ", status.ToString()));
  }
  if (text.empty() || text.back() != '\n') text += '\n';
  return text;
}

}  // namespace elm
