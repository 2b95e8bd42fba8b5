// `bazel run //data:generate_neuronio -- --out_dir=<dir> --files=N
// --simulations=S --duration_ms=D --teacher=branched|lif|alif --seed=K
// [--format=elmnio|pickle] [--dendritic_traces]`: generates N NeuronIO-style
// files (data/neuronio_generator.h) and writes them as compact files
// (io/neuronio_compact.h) `<dir>/generated_<i>.elmnio` or, with
// --format=pickle, as pickles in the layout of the released Kaggle files
// (io/neuronio_pickle_writer.h) `<dir>/generated_<i>.p`, with
// --dendritic_traces also holding dummy dendritic and high-resolution traces
// of the Kaggle sizes (~8 MB per 6 s simulation, which the readers step
// over), i = 0 .. N − 1, file i generated with seed
// NeuronioGeneratedFileSeed(K, train, i) (the file a `generate` spec with the
// same seed, simulations, duration and teacher builds as its training file i).
// ReadNeuronioFile, the NeuronIO dataset and //data:inspect read the written
// files. A relative
// --out_dir is taken from the directory `bazel run` was started in; it is
// created if missing. Exit status: 0 on success, 1 on a failure (the message
// names the file), 2 on a usage error.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "base/user_path.h"
#include "data/dataset.h"
#include "data/neuronio.h"
#include "data/neuronio_generator.h"
#include "gflags/gflags.h"
#include "io/neuronio_compact.h"
#include "io/neuronio_pickle_writer.h"

DEFINE_string(out_dir, "", "folder to write generated_<i>.elmnio into");
DEFINE_int32(files, 1, "number of files (> 0)");
DEFINE_int32(simulations, 128, "simulations per file (> 0)");
DEFINE_int64(duration_ms, 6000, "duration of every simulation in ms (> 0)");
DEFINE_string(teacher, "branched", "teacher neuron: branched, lif or alif");
DEFINE_uint64(seed, 0, "dataset seed; file i uses a seed mixed from it");
DEFINE_string(format, "elmnio",
              "elmnio (compact files) or pickle (the Kaggle layout)");
DEFINE_bool(dendritic_traces, false,
            "with --format=pickle: also write dummy dendritic and "
            "high-resolution traces of the Kaggle sizes");

namespace {

int Usage(const std::string& message) {
  std::fprintf(stderr, "generate_neuronio: %s\nusage: %s\n", message.c_str(),
               gflags::ProgramUsage());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "--out_dir=<dir> [--files=N] [--simulations=S] [--duration_ms=D] "
      "[--teacher=branched|lif|alif] [--seed=K] [--format=elmnio|pickle] "
      "[--dendritic_traces]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (argc != 1) return Usage("unexpected positional arguments");
  if (FLAGS_out_dir.empty()) return Usage("--out_dir is required");
  if (FLAGS_files <= 0) {
    return Usage(absl::StrCat("--files must be > 0, got ", FLAGS_files));
  }
  const bool pickle = FLAGS_format == "pickle";
  if (!pickle && FLAGS_format != "elmnio") {
    return Usage(absl::StrCat("--format must be elmnio or pickle, got '",
                              FLAGS_format, "'"));
  }
  if (FLAGS_dendritic_traces && !pickle) {
    return Usage("--dendritic_traces needs --format=pickle");
  }
  elm::NeuronioGeneratorOptions options;
  options.num_simulations = FLAGS_simulations;
  options.duration_ms = FLAGS_duration_ms;
  if (FLAGS_teacher == "branched") {
    options.teacher = elm::NeuronioTeacher::kBranched;
  } else if (FLAGS_teacher == "lif") {
    options.teacher = elm::NeuronioTeacher::kLif;
  } else if (FLAGS_teacher == "alif") {
    options.teacher = elm::NeuronioTeacher::kAlif;
  } else {
    return Usage(absl::StrCat("--teacher must be branched, lif or alif, got '",
                              FLAGS_teacher, "'"));
  }
  if (const absl::Status st = elm::ValidateNeuronioGeneratorOptions(options);
      !st.ok()) {
    return Usage(std::string(st.message()));
  }
  const std::string dir = elm::ResolveUserPath(FLAGS_out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "generate_neuronio: cannot create '%s': %s\n",
                 dir.c_str(), ec.message().c_str());
    return 1;
  }
  for (int i = 0; i < FLAGS_files; ++i) {
    const std::string path = absl::StrCat(
        dir, "/generated_", i, pickle ? ".p" : elm::kNeuronioCompactExtension);
    absl::StatusOr<elm::NeuronioFile> file = elm::GenerateNeuronioFile(
        options,
        elm::NeuronioGeneratedFileSeed(FLAGS_seed, elm::Split::kTrain, i));
    absl::Status st = file.status();
    if (st.ok() && pickle) {
      elm::NeuronioPickleOptions pickle_options;
      pickle_options.dendritic_traces = FLAGS_dendritic_traces;
      st = elm::WriteNeuronioPickle(*file, path, pickle_options);
    } else if (st.ok()) {
      st = elm::WriteNeuronioCompact(*file, path);
    }
    if (!st.ok()) {
      std::fprintf(stderr, "generate_neuronio: %s: %s\n", path.c_str(),
                   std::string(st.message()).c_str());
      return 1;
    }
    std::printf("wrote %s (%d simulations, %lld ms)\n", path.c_str(),
                FLAGS_simulations, static_cast<long long>(FLAGS_duration_ms));
  }
  return 0;
}
