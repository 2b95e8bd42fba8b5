// Fuzzing of the spec parser and validator (experiments/spec.h): FuzzSpec
// parses text as an ExperimentSpec, validates what parses, and checks that a
// valid spec survives printing and reading back. Every input must give a
// status, never a crash, a hang or an out-of-memory abort.
// experiments/spec_fuzzer.cc is the libFuzzer entry point (`bazel build
// --config=fuzz //experiments:spec_fuzzer`, docs/reliability.md "Fuzzing");
// experiments/spec_fuzz_test.cc runs mutations and the kept regression inputs
// in `bazel test //...`.
//
// Example:
//   absl::Status s = FuzzSpec("name: \"x\" train { epochs: -1 }");
#ifndef ELM_EXPERIMENTS_SPEC_FUZZ_H_
#define ELM_EXPERIMENTS_SPEC_FUZZ_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace elm {

// The parse or validation error of `text`, or OK. CHECKs (a crash, which is
// what a fuzzer reports) that a valid spec printed with SpecToText parses and
// validates again.
absl::Status FuzzSpec(absl::string_view text);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_SPEC_FUZZ_H_
