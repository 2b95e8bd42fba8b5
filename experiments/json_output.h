// The JSON files the experiments write (a run's summary.json, the metrics of
// //experiments:evaluate --json): objects of named numbers and strings built
// as a google.protobuf.Struct and printed by protobuf's JSON printer
// (google/protobuf/util/json_util.h), indented, names in sorted order, names
// and strings escaped as JSON wants. A value that is not finite becomes null
// (JSON has no NaN or infinity).
#ifndef ELM_EXPERIMENTS_JSON_OUTPUT_H_
#define ELM_EXPERIMENTS_JSON_OUTPUT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace elm {

// A JSON number, or null when `v` is NaN or infinite.
google::protobuf::Value JsonNumber(double v);
google::protobuf::Value JsonString(absl::string_view s);

// `object` as indented JSON text, ending in a newline.
absl::StatusOr<std::string> JsonText(const google::protobuf::Struct& object);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_JSON_OUTPUT_H_
