// Reader and writer for the ELMTENSOR v1 text format of the golden test
// vectors (../shared/golden/README.md): a `#ELMTENSOR v1` first line, `#`
// comment lines, then `tensor` (dense, row-major) and `sparse` (coordinate
// list) blocks of dtype f32, f64, i64 or bool, and a final `end` line.
// Floating-point values are kept exactly (an f32 value is the float that strtof
// parsed, widened to double); integer and bool values are kept as int64. Every
// problem in a file (missing file, bad header, wrong value count, unknown
// dtype, truncation, missing `end`) comes back as an absl::Status naming the
// file, the line and what was expected.
//
// Example:
//   ASSIGN_OR_RETURN(ElmTensorFile file, ReadElmTensorFile(path));
//   ASSIGN_OR_RETURN(const NamedTensor* w, file.Find("param.w_y.weight"));
//   // w->shape == {2, 4}; w->values holds 8 doubles in row-major order.
#ifndef ELM_IO_ELMTENSOR_H_
#define ELM_IO_ELMTENSOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/named_tensor.h"

namespace elm {

// The contents of one ELMTENSOR file.
struct ElmTensorFile {
  // The text after '#' of every comment line except the `#ELMTENSOR v1` first
  // line, verbatim and in file order (usually starting with a space).
  std::vector<std::string> comments;
  // The tensors in file order. Names are unique within a file that was read.
  std::vector<NamedTensor> tensors;

  // The tensor called `name`, or nullptr.
  const NamedTensor* FindOrNull(absl::string_view name) const;
  // The tensor called `name`, or a NotFound error naming it.
  absl::StatusOr<const NamedTensor*> Find(absl::string_view name) const;
};

// True for "f32", "f64", "i64" and "bool".
bool IsValidElmDtype(absl::string_view dtype);

// Parses the text of an ELMTENSOR v1 file. `source_name` (usually the path) is
// used in error messages, which read "<source_name>:<line>: <problem>".
absl::StatusOr<ElmTensorFile> ParseElmTensorText(absl::string_view text,
                                                 absl::string_view source_name);

// Reads and parses the ELMTENSOR v1 file at `path`.
absl::StatusOr<ElmTensorFile> ReadElmTensorFile(const std::string& path);

// Formats `file` as ELMTENSOR v1 text: f32 values with %.9g (of the value
// rounded to float), f64 with %.17g, 8 values per line; `sparse` tensors as
// coordinate lists of every element that is not +0. Returns InvalidArgument
// when a tensor is inconsistent (unknown dtype, a name with whitespace, a value
// count that does not match the shape, a bool that is not 0 or 1).
absl::StatusOr<std::string> FormatElmTensorText(const ElmTensorFile& file);

// Formats `file` (as FormatElmTensorText) and writes it to `path`, replacing
// any file there atomically (WriteFileAtomically, base/files.h).
absl::Status WriteElmTensorFile(const std::string& path,
                                const ElmTensorFile& file);

}  // namespace elm

#endif  // ELM_IO_ELMTENSOR_H_
