// The libFuzzer entry points over the readers of io/reader_fuzz.h. Built only
// with --config=fuzz (clang-14, libFuzzer, ASan and UBSan; docs/reliability.md "Fuzzing").
// Compiled with -DELM_FUZZED_READER=<FuzzedReader enumerator> (the
// //io:<reader>_fuzzer targets) the whole input goes to that one reader;
// without it (//io:reader_fuzzer) the first byte of an input picks the reader
// (modulo kNumFuzzedReaders) and the rest is what it reads. E.g.
//   bazel build --config=fuzz //io:pickle_fuzzer
//   bazel-bin/io/pickle_fuzzer -rss_limit_mb=2048 -max_len=65536 corpus/
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "io/reader_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string* const scratch = new std::string(
      absl::StrCat("/tmp/elm_reader_fuzzer.", ::getpid(), ".bin"));
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
#ifdef ELM_FUZZED_READER
  const elm::FuzzedReader reader = elm::FuzzedReader::ELM_FUZZED_READER;
#else
  if (size == 0) return 0;
  const auto reader =
      static_cast<elm::FuzzedReader>(data[0] % elm::kNumFuzzedReaders);
  bytes.remove_prefix(1);
#endif
  elm::FuzzReader(reader, bytes, *scratch).IgnoreError();
  return 0;
}
