// The libFuzzer entry point over the SHD reader (data/shd.h): the input is
// written to a scratch .h5 file, read with ForEachShdSample (HDF5 runs in the
// reader's child process, as in every run) and each sample binned at 4 ms.
// Built only with --config=fuzz (README "Fuzzing"), e.g.
//   bazel build --config=fuzz //data:shd_fuzzer
//   bazel-bin/data/shd_fuzzer -rss_limit_mb=2048 -timeout=60 corpus/
//
// libFuzzer sees the coverage of this process only (the HDF5 read and the
// child's checks run in the forked child, whose counters it does not see), so
// for the child's side this is mutation fuzzing without coverage guidance. A
// sanitizer report in the child ends the child with exit status 77 (the
// default options below); that comes back as the reader's DataLoss error
// "exit status 77", which this fuzzer turns into a crash, so that a memory
// error in our child code is a finding and not a swallowed error. (libhdf5
// itself is not instrumented; a crash inside it is the child's signal and
// comes back as the documented DataLoss error.)
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "data/shd.h"
#include "io/reader_fuzz.h"

extern "C" const char* __asan_default_options() { return "exitcode=77"; }
extern "C" const char* __ubsan_default_options() { return "exitcode=77"; }

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
  if (absl::StrContains(s.message(), "exit status 77")) {
    std::fprintf(stderr, "a sanitizer stopped the SHD reader's child: %s\n",
                 std::string(s.message()).c_str());
    std::abort();
  }
  return 0;
}
