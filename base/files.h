// Whole files: WriteFileAtomically replaces a file so that readers, and the
// file after a crash, see either the old contents or the new ones, never a
// part (checkpoints, reports, compact NeuronIO files); ReadFileToString reads
// one into memory with errors that name it.
//
// Example:
//   RETURN_IF_ERROR(WriteFileAtomically(path, bytes, "checkpoint"));
//   ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path, "checkpoint"));
#ifndef ELM_BASE_FILES_H_
#define ELM_BASE_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace elm {

// Writes `contents` to a new temporary file beside `path` (named
// "<path>.tmp.<pid>.<n>", created exclusively with mode 0666 less the umask),
// fsyncs it, renames it over `path` and fsyncs the directory (best effort:
// some file systems refuse). On failure the temporary file is removed, a
// previous file at `path` is left as it was, and the status (its code from
// errno: NotFound for a missing directory, PermissionDenied, ...) reads
// "<path>: cannot write <what>[ (directory '<dir>' does not exist)]: <step>
// '<tmp>': <errno text>".
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view contents,
                                 absl::string_view what = "file");

// The whole file at `path`. Errors (their code from errno: NotFound for a
// missing file, PermissionDenied, ...) read "<path>: cannot open <what>:
// <errno text>" or "<path>: cannot read <what>: <errno text>".
absl::StatusOr<std::string> ReadFileToString(const std::string& path,
                                             absl::string_view what = "file");

// The directory part of `path`: "a/b" for "a/b/c", "/" for "/c", "." for "c".
std::string DirectoryOf(const std::string& path);

}  // namespace elm

#endif  // ELM_BASE_FILES_H_
