// Fuzzing of the checkpoint reader (elm/checkpoint.h). A fuzz input is a
// checkpoint's body, the serialized elm.Checkpoint without its trailer:
// FuzzCheckpoint appends the trailer that SaveCheckpoint would write (byte
// count and checksum), so that mutations get past the checksum to the
// protobuf parse, the tensor checks, the model's construction from the stored
// config (LoadModelFromCheckpoint) and the restore of the model and an Adam
// optimizer. Every input must
// give a status, never a crash, a hang or an out-of-memory abort.
// elm/checkpoint_fuzzer.cc is the libFuzzer entry point (`bazel build
// --config=fuzz //elm:checkpoint_fuzzer`, docs/reliability.md "Fuzzing");
// elm/checkpoint_fuzz_test.cc runs the seed, mutations of it and the kept
// regression inputs in `bazel test //...`.
//
// Example:
//   absl::Status s = FuzzCheckpoint(CheckpointFuzzSeed(), "/tmp/f.ckpt");
#ifndef ELM_ELM_CHECKPOINT_FUZZ_H_
#define ELM_ELM_CHECKPOINT_FUZZ_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace elm {

// Writes `body` plus a valid trailer to `scratch_path` (overwritten), loads
// the float model from it (LoadModelFromCheckpoint) and, when the checkpoint
// holds optimizer state, restores model and an Adam optimizer from it.
// Returns the first error.
absl::Status FuzzCheckpoint(absl::string_view body,
                            const std::string& scratch_path);

// A valid body: a small ELM (4 inputs, 2 outputs, d_m 2, MLP 4) with the state
// of an Adam optimizer after one step, at step 1.
std::string CheckpointFuzzSeed();

}  // namespace elm

#endif  // ELM_ELM_CHECKPOINT_FUZZ_H_
