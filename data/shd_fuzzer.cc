// The libFuzzer entry point over the SHD reader (data/shd.h): the input is
// written to a scratch .h5 file, read with ForEachShdSample (HDF5 runs in the
// reader's child process, as in every run) and each sample binned at 4 ms.
// Built only with --config=fuzz (docs/reliability.md "Fuzzing"), e.g.
//   bazel build --config=fuzz //data:shd_fuzzer
//   bazel-bin/data/shd_fuzzer -rss_limit_mb=2048 -timeout=60 corpus/
//
// libFuzzer sees the coverage of this process only (the HDF5 read and the
// child's checks run in the forked child, whose counters it does not see), so
// for the child's side this is mutation fuzzing without coverage guidance. A
// sanitizer report in the child ends the child with exit status 77 (the
// default options below); that comes back as the reader's DataLoss error
// "exit status 77", which this fuzzer turns into a crash, so that a memory
// error in our child code is a finding and not a swallowed error.
//
// libhdf5 is not instrumented, but it is not out of the sanitizers' sight:
// on a corrupt global heap its H5HG_read copies past a heap object with
// memcpy, which ASan's interceptor reports (session 7: memcpy-param-overlap,
// then a SEGV in the same memcpy), and ASan's SEGV handler turns the crash
// into exit status 77 too. These are libhdf5's bugs, contained by the child
// as in a normal build (where they are the child's signal and come back as
// the documented DataLoss error). So each child writes its sanitizer reports
// to its own file (a pthread_atfork child handler sets the report path), and
// a report whose innermost frame that is in libhdf5 or in our sources
// (compiled here, so named by source path) is in libhdf5 counts as the
// library's; any other report is a finding. The reports are deleted after
// the check.
#include <glob.h>
#include <pthread.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "data/shd.h"
#include "io/reader_fuzz.h"
#include "sanitizer/common_interface_defs.h"

extern "C" const char* __asan_default_options() { return "exitcode=77"; }
extern "C" const char* __ubsan_default_options() { return "exitcode=77"; }

namespace {

// Where the reader's children write their sanitizer reports:
// <prefix>.<child pid>.
const std::string& ChildReportPrefix() {
  static const std::string* const prefix = new std::string(
      absl::StrCat("/tmp/elm_shd_fuzzer.", ::getpid(), ".child_report"));
  return *prefix;
}

void InChild() { __sanitizer_set_report_path(ChildReportPrefix().c_str()); }

// The children's report files, each read and removed.
std::vector<std::string> TakeChildReports() {
  std::vector<std::string> reports;
  glob_t matches;
  const std::string pattern = ChildReportPrefix() + ".*";
  if (::glob(pattern.c_str(), 0, nullptr, &matches) == 0) {
    for (size_t i = 0; i < matches.gl_pathc; ++i) {
      std::ifstream in(matches.gl_pathv[i]);
      std::stringstream text;
      text << in.rdbuf();
      reports.push_back(text.str());
      ::unlink(matches.gl_pathv[i]);
    }
  }
  ::globfree(&matches);
  return reports;
}

// Whether the innermost stack frame of `report` that is in libhdf5 or in our
// sources (the frames of our code name their source files under the build's
// /proc/self/cwd/) is libhdf5's.
bool IsLibhdf5Report(const std::string& report) {
  std::istringstream lines(report);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("    #") != 0) continue;  // not a stack frame
    if (absl::StrContains(line, "libhdf5")) return true;
    if (absl::StrContains(line, "/proc/self/cwd/")) return false;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ChildReportPrefix();  // the parent's pid, fixed before any fork
  ::pthread_atfork(nullptr, nullptr, InChild);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string* const scratch =
      new std::string(absl::StrCat("/tmp/elm_shd_fuzzer.", ::getpid(), ".h5"));
  if (!elm::WriteFuzzScratch(
          *scratch,
          absl::string_view(reinterpret_cast<const char*>(data), size))) {
    std::abort();
  }
  static const std::vector<double>* const edges =
      new std::vector<double>(elm::ShdBinEdges(4, 1.0));
  const absl::Status s = elm::ForEachShdSample(
      *scratch,
      [](int64_t, const elm::ShdSample& sample) {
        elm::BinShdSample(sample, *edges);
        return absl::OkStatus();
      },
      /*stall_seconds=*/20);
  const std::vector<std::string> reports = TakeChildReports();
  if (absl::StrContains(s.message(), "exit status 77")) {
    bool ours = reports.empty();  // a report we cannot see: a finding
    for (const std::string& report : reports) {
      if (!IsLibhdf5Report(report)) ours = true;
    }
    if (ours) {
      for (const std::string& report : reports) {
        std::fputs(report.c_str(), stderr);
      }
      std::fprintf(stderr, "a sanitizer stopped the SHD reader's child: %s\n",
                   std::string(s.message()).c_str());
      std::abort();
    }
  }
  return 0;
}
