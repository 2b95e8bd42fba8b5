// Text-format protobuf parsing with the parser's errors in the status: the one
// place that turns a spec's text (an experiment, a dataset, a `--set`
// override) into a message and says where it is wrong, as editors count
// ("line 3, column 7: Expected integer, got: abc").
//
// Example:
//   DatasetSpec spec;
//   absl::Status s = ParseTextProto(text, &spec);
//   if (!s.ok()) return Annotate(s, "dataset spec 'x.textproto': ");
#ifndef ELM_BASE_TEXT_PROTO_H_
#define ELM_BASE_TEXT_PROTO_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace elm {

// Parses `text` into `out` (cleared first). Errors (InvalidArgument): the
// parser's messages as "line L, column C: message" (one-based), joined by "; ",
// or "parse error" when it gave none. With `allow_partial`, missing required
// fields are accepted (proto2 messages only; proto3 has none).
absl::Status ParseTextProto(absl::string_view text,
                            google::protobuf::Message* out,
                            bool allow_partial = false);

}  // namespace elm

#endif  // ELM_BASE_TEXT_PROTO_H_
