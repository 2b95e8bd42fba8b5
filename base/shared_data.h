// Locates the project's shared test data (../shared beside the checkout: golden
// vectors, fixtures) in a test's runfiles, where the @shared repository puts
// it. Tests that need it list `@shared//:golden` or `@shared//:data` in `data`
// and skip when it is absent:
//
//   std::string missing;
//   const std::string dir = FindSharedPath("golden/tiny", &missing);
//   if (dir.empty()) GTEST_SKIP() << "missing " << missing;
#ifndef ELM_BASE_SHARED_DATA_H_
#define ELM_BASE_SHARED_DATA_H_

#include <string>

#include "absl/strings/string_view.h"

namespace elm {

// The path of `relative` (a file or folder under ../shared) in the runfiles, or
// "" when it does not exist; then *missing names the path that was looked for.
std::string FindSharedPath(absl::string_view relative, std::string* missing);

}  // namespace elm

#endif  // ELM_BASE_SHARED_DATA_H_
