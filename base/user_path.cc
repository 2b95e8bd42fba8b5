// ResolveUserPath: see user_path.h.
#include "base/user_path.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace elm {

std::string ResolveUserPath(absl::string_view path) {
  if (path.empty() || path[0] == '/') return std::string(path);
  const char* dir = std::getenv("BUILD_WORKING_DIRECTORY");
  if (dir == nullptr || dir[0] == '\0') return std::string(path);
  const absl::string_view d(dir);
  // Started from "/": "/x", not "//x".
  return absl::StrCat(d, d.back() == '/' ? "" : "/", path);
}

}  // namespace elm
