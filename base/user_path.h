// Resolves a path given on a command line. Under `bazel run` a binary runs in
// its runfiles tree, so a relative path the user typed must be taken relative
// to the directory they ran `bazel run` from, which Bazel passes as
// BUILD_WORKING_DIRECTORY. Outside `bazel run` the path is returned unchanged
// (relative to the current directory).
#ifndef ELM_BASE_USER_PATH_H_
#define ELM_BASE_USER_PATH_H_

#include <string>

#include "absl/strings/string_view.h"

namespace elm {

std::string ResolveUserPath(absl::string_view path);

}  // namespace elm

#endif  // ELM_BASE_USER_PATH_H_
