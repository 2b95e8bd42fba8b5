// TestTempPath, MakeTestDir, ReadTestFile, WriteTestFile, RunfilesPath,
// ListTestFiles: see test_files.h.
#include "base/test_files.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "gtest/gtest.h"

namespace elm {

std::string TestTempPath(absl::string_view name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const absl::string_view dir = tmp != nullptr ? tmp : "/tmp";
  return name.empty() ? std::string(dir) : absl::StrCat(dir, "/", name);
}

std::string MakeTestDir(absl::string_view name) {
  const std::string dir = TestTempPath(name);
  std::error_code error;
  std::filesystem::remove_all(dir, error);
  EXPECT_FALSE(error) << dir << ": cannot remove: " << error.message();
  std::filesystem::create_directories(dir, error);
  EXPECT_FALSE(error) << dir << ": cannot create: " << error.message();
  return dir;
}

std::string ReadTestFile(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFileToString(path);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *std::move(bytes) : "";
}

void WriteTestFile(const std::string& path, absl::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), bytes.size());
  out.close();
  EXPECT_TRUE(out.good()) << path << ": cannot write";
}

std::string RunfilesPath(absl::string_view path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  if (srcdir == nullptr) return std::string(path);
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir, "/", workspace == nullptr ? "elm" : workspace,
                      "/", path);
}

std::vector<std::string> ListTestFiles(const std::string& dir,
                                       absl::string_view suffix) {
  std::vector<std::string> names;
  std::error_code error;
  for (std::filesystem::directory_iterator it(dir, error), end;
       !error && it != end; it.increment(error)) {
    const std::string file = it->path().filename().string();
    if (absl::EndsWith(file, suffix)) {
      names.push_back(file.substr(0, file.size() - suffix.size()));
    }
  }
  EXPECT_FALSE(error) << dir << ": cannot list: " << error.message();
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace elm
