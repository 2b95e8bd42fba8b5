// The libFuzzer entry point over the checkpoint reader (checkpoint_fuzz.h):
// the input is a checkpoint body, to which a valid trailer is appended. Built
// only with --config=fuzz (docs/reliability.md "Fuzzing"), e.g.
//   bazel build --config=fuzz //elm:checkpoint_fuzzer
//   bazel-bin/elm/checkpoint_fuzzer -rss_limit_mb=2048 corpus/
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "elm/checkpoint_fuzz.h"
#include "google/protobuf/stubs/logging.h"

// Protobuf's log lines (e.g. invalid UTF-8 in a string field) would flood
// the fuzzer's output; the statuses carry what matters.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string* const scratch = new std::string(
      absl::StrCat("/tmp/elm_checkpoint_fuzzer.", ::getpid(), ".ckpt"));
  elm::FuzzCheckpoint(
      absl::string_view(reinterpret_cast<const char*>(data), size), *scratch)
      .IgnoreError();
  return 0;
}
