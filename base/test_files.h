// Files in tests: paths under the test's temporary directory ($TEST_TMPDIR,
// /tmp outside Bazel), a fresh directory there, whole-file reads and writes
// whose failures are gtest failures naming the path (non-fatal: the test goes
// on with "" read, so every assertion still runs and reports), the workspace's
// files in the runfiles, and the files of a directory by suffix.
//
//   const std::string dir = MakeTestDir("report");      // empty, created
//   WriteTestFile(TestTempPath("in.txt"), "bytes");
//   EXPECT_EQ(ReadTestFile(dir + "/out.txt"), "want");
#ifndef ELM_BASE_TEST_FILES_H_
#define ELM_BASE_TEST_FILES_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace elm {

// "$TEST_TMPDIR/<name>", or "/tmp/<name>" when TEST_TMPDIR is unset; the
// directory itself for an empty name. Creates nothing.
std::string TestTempPath(absl::string_view name);

// TestTempPath(name) as a new empty directory (with its parents): whatever
// was there is removed first. Failures are gtest failures.
std::string MakeTestDir(absl::string_view name);

// The whole file at `path` (base/files.h's ReadFileToString); "" and a gtest
// failure with the error (which names the path) when it cannot be read.
std::string ReadTestFile(const std::string& path);

// Writes `bytes` as the file at `path`, replacing it (plainly, not through a
// temporary file: tests write many small files and truncate them on purpose).
// A gtest failure naming the path when it cannot be written.
void WriteTestFile(const std::string& path, absl::string_view bytes);

// A file or folder of the workspace in the test's runfiles:
// "$TEST_SRCDIR/$TEST_WORKSPACE/<path>" (workspace "elm" when unset), or `path`
// itself outside Bazel (run by hand from the workspace root).
std::string RunfilesPath(absl::string_view path);

// The names of the entries of `dir` that end in `suffix`, without the suffix,
// sorted; a gtest failure naming `dir` when it cannot be listed.
std::vector<std::string> ListTestFiles(const std::string& dir,
                                       absl::string_view suffix);

}  // namespace elm

#endif  // ELM_BASE_TEST_FILES_H_
