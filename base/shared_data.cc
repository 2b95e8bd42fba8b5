// FindSharedPath: see shared_data.h.
#include "base/shared_data.h"

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace elm {

std::string FindSharedPath(absl::string_view relative, std::string* missing) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const std::string base = srcdir != nullptr ? srcdir : ".";
  const std::string primary =
      absl::StrCat(base, "/elm/external/shared/", relative);
  for (const std::string& path :
       {primary, absl::StrCat("external/shared/", relative),
        absl::StrCat(base, "/shared/", relative)}) {
    if (std::filesystem::exists(path)) return path;
  }
  *missing = primary;
  return "";
}

}  // namespace elm
