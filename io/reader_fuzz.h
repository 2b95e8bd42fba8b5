// Fuzzing of the readers in io/: FuzzReader hands bytes to one reader (pickle,
// .pt, ELMTENSOR, .npy, compact NeuronIO, NeuronIO pickle) and returns its
// status; every input must give a status (OK or an error), never a crash, a
// hang or an out-of-memory abort. MutateBytes makes the deterministic
// variants that io/reader_fuzz_test.cc runs in `bazel test //...`;
// io/reader_fuzzer.cc is the libFuzzer entry point for longer coverage-guided
// runs (`bazel build --config=fuzz //io:reader_fuzzer`, docs/reliability.md "Fuzzing").
//
// Example:
//   Rng rng(1);
//   std::string input = seed;
//   MutateBytes(&rng, &input);
//   absl::Status s = FuzzReader(FuzzedReader::kNpy, input, scratch_path);
#ifndef ELM_IO_READER_FUZZ_H_
#define ELM_IO_READER_FUZZ_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "base/rng.h"

namespace elm {

enum class FuzzedReader {
  kPickle,     // ParsePickle, plain and streaming (the statuses must agree)
  kPt,         // ParsePtStateDict
  kElmTensor,  // ParseElmTensorText
  kNpy,        // ReadNpy (through `scratch_path`)
  kCompact,    // ReadNeuronioCompact and ReadNeuronioCompactView (through
               // `scratch_path`, checked to agree); the last 4 bytes are
               // replaced by the CRC-32 of the rest, so that mutations get
               // past the checksum to the parse
  kNeuronio,   // ReadNeuronioFile (through `scratch_path`)
};
inline constexpr int kNumFuzzedReaders = 6;

const char* FuzzedReaderName(FuzzedReader reader);

// The reader's status for `bytes`; the file readers read them from
// `scratch_path`, which is overwritten.
absl::Status FuzzReader(FuzzedReader reader, absl::string_view bytes,
                        const std::string& scratch_path);

// Writes `bytes` as the file at `path` (truncating it; no fsync: fuzzers
// write one per input). False when it cannot.
bool WriteFuzzScratch(const std::string& path, absl::string_view bytes);

// Changes `bytes` in place by one to four random edits: a byte set to a
// random or boundary value (0x00, 0x10, 0x7f, 0x80, 0xff), a bit flipped, a
// little-endian 32- or 64-bit field set to a boundary value, a cut at a random
// length, a range duplicated, or a range removed.
void MutateBytes(Rng* rng, std::string* bytes);

// A seed for the ELMTENSOR reader: the text of a file with a dense f32 [2, 3]
// tensor "w" and a sparse f64 [4, 2] tensor "x" (the fuzz test's and the
// seed corpus's).
std::string ElmTensorFuzzSeed();

}  // namespace elm

#endif  // ELM_IO_READER_FUZZ_H_
