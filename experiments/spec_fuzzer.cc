// The libFuzzer entry point over the spec parser and validator
// (experiments/spec.h): the input is parsed as a text-format ExperimentSpec;
// a spec that parses is validated, and one that validates must print
// (SpecToText) to text that parses and validates again, or the fuzzer stops
// (a crash). Built only with --config=fuzz (docs/reliability.md "Fuzzing"), e.g.
//   bazel build --config=fuzz //experiments:spec_fuzzer
//   bazel-bin/experiments/spec_fuzzer -rss_limit_mb=2048 corpus/
#include <cstddef>
#include <cstdint>
#include <string>

#include "experiments/spec_fuzz.h"
#include "google/protobuf/stubs/logging.h"

// Protobuf's log lines (e.g. invalid UTF-8 in a string field) would flood
// the fuzzer's output; the statuses carry what matters.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  elm::FuzzSpec(absl::string_view(reinterpret_cast<const char*>(data), size))
      .IgnoreError();
  return 0;
}
