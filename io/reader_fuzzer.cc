// The libFuzzer entry point over the readers of io/reader_fuzz.h: the first
// byte of an input picks the reader (modulo kNumFuzzedReaders), the rest is
// what it reads. Built only with --config=fuzz (clang-14, libFuzzer, ASan and
// UBSan; README "Fuzzing"), e.g.
//   bazel build --config=fuzz //io:reader_fuzzer
//   bazel-bin/io/reader_fuzzer -rss_limit_mb=4096 -max_len=65536 corpus/
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "io/reader_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const std::string* const scratch = new std::string(
      absl::StrCat("/tmp/elm_reader_fuzzer.", ::getpid(), ".bin"));
  const auto reader =
      static_cast<elm::FuzzedReader>(data[0] % elm::kNumFuzzedReaders);
  elm::FuzzReader(
      reader,
      absl::string_view(reinterpret_cast<const char*>(data) + 1, size - 1),
      *scratch)
      .IgnoreError();
  return 0;
}
