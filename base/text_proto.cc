// Text-format protobuf parsing: see text_proto.h.
#include "base/text_proto.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace elm {
namespace {

// Collects the parser's errors and warnings as "line L, column C: message".
class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    errors_.push_back(absl::StrCat("line ", line + 1, ", column ", column + 1,
                                   ": ", message));
  }
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  std::vector<std::string> errors_;
};

}  // namespace

absl::Status ParseTextProto(absl::string_view text,
                            google::protobuf::Message* out,
                            bool allow_partial) {
  google::protobuf::TextFormat::Parser parser;
  CollectErrors errors;
  parser.RecordErrorsTo(&errors);
  parser.AllowPartialMessage(allow_partial);
  if (!parser.ParseFromString(std::string(text), out)) {
    return absl::InvalidArgumentError(
        errors.errors().empty() ? "parse error"
                                : absl::StrJoin(errors.errors(), "; "));
  }
  return absl::OkStatus();
}

}  // namespace elm
