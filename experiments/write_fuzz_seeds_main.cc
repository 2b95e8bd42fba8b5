// Writes the seed corpora of the fuzzers (docs/reliability.md "Fuzzing") into
// <dir>/<fuzzer>/: small generated files for the io/ readers and the
// checkpoint reader, and the fixtures of ../shared that are
// small enough (the pretrained num_memory_1 .pt, the SHD mock file) when
// present.
//
//   bazel run //experiments:write_fuzz_seeds -- /tmp/elm_fuzz
//   bazel-bin/io/pickle_fuzzer ... /tmp/elm_fuzz/pickle
// (The spec fuzzer's seeds are the shipped specs, experiments/specs.)
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/shared_data.h"
#include "base/user_path.h"
#include "elm/checkpoint_fuzz.h"
#include "io/neuronio_compact.h"
#include "io/neuronio_reader.h"
#include "io/neuronio_test_files.h"
#include "io/npy.h"
#include "io/reader_fuzz.h"

namespace elm {
namespace {

void Check(const absl::Status& s) {
  if (s.ok()) return;
  std::fprintf(stderr, "write_fuzz_seeds: %s\n", s.ToString().c_str());
  std::exit(1);
}

std::string Dir(const std::string& root, const std::string& fuzzer) {
  const std::string dir = absl::StrCat(root, "/", fuzzer);
  ::mkdir(root.c_str(), 0755);
  ::mkdir(dir.c_str(), 0755);
  return dir;
}

void Copy(const std::string& from, const std::string& to) {
  absl::StatusOr<std::string> bytes = ReadFileToString(from);
  Check(bytes.status());
  Check(WriteFileAtomically(to, *bytes));
}

void CopyShared(const std::string& relative, const std::string& to) {
  std::string missing;
  const std::string path = FindSharedPath(relative, &missing);
  if (path.empty()) {
    std::printf("skipped (absent): %s\n", missing.c_str());
    return;
  }
  Copy(path, to);
}

int Main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_fuzz_seeds <dir>\n");
    return 2;
  }
  const std::string root = ResolveUserPath(argv[1]);
  // NeuronIO pickles (pickle and NeuronIO readers) and their compact form.
  for (int i = 0; i < 2; ++i) {
    const std::string name = absl::StrCat("synth", i, ".pkl");
    const std::string pkl = absl::StrCat(Dir(root, "pickle"), "/", name);
    neuronio_testing::WriteSynth(
        neuronio_testing::MakeSynth(/*sims=*/1 + i, /*duration_ms=*/20 + 20 * i,
                                    /*seed=*/7 + i),
        pkl);
    Copy(pkl, absl::StrCat(Dir(root, "neuronio"), "/", name));
    absl::StatusOr<NeuronioFile> file = ReadNeuronioFile(pkl);
    Check(file.status());
    Check(WriteNeuronioCompact(
        *file,
        absl::StrCat(Dir(root, "neuronio_compact"), "/synth", i, ".elmnio")));
    // A version-1 file too (still read).
    Check(WriteNeuronioCompact(
        *file,
        absl::StrCat(Dir(root, "neuronio_compact"), "/synth", i, "_v1.elmnio"),
        1));
  }
  // ELMTENSOR: a dense and a sparse tensor.
  Check(WriteFileAtomically(Dir(root, "elmtensor") + "/two.txt",
                            ElmTensorFuzzSeed()));
  // .npy: f32 and i64.
  const std::vector<float> f = {1, 2, 3, 4, 5, 6};
  Check(WriteNpy<float>(Dir(root, "npy") + "/f32.npy", {2, 3}, f));
  const std::vector<int64_t> q = {-1, 0, 7};
  Check(WriteNpy<int64_t>(Dir(root, "npy") + "/i64.npy", {3}, q));
  // A checkpoint body (model and Adam state).
  Check(WriteFileAtomically(Dir(root, "checkpoint") + "/adam.body",
                            CheckpointFuzzSeed()));
  // The fixtures of ../shared.
  CopyShared("golden/pretrained/num_memory_1/neuronio_best_model_state.pt",
             Dir(root, "pt") + "/num_memory_1.pt");
  CopyShared("data/shd_mock/shd_mock_8.h5", Dir(root, "shd") + "/mock_8.h5");
  std::printf("seeds written under %s\n", root.c_str());
  return 0;
}

}  // namespace
}  // namespace elm

int main(int argc, char** argv) { return elm::Main(argc, argv); }
