// `bazel run //data:convert_neuronio -- --in='<glob>' --out_dir=<dir>
// [--threads=N]`: converts NeuronIO files (the Kaggle pickles, plain or
// gzipped: anything ReadNeuronioFile reads) to the compact form
// (io/neuronio_compact.h) as `<dir>/<stem>.elmnio` (NeuronioCompactName:
// `sim__1.p` -> `sim__1.elmnio`, so a spec's `*sim__*` globs still match), N
// files at a time (default: the number of cores). Each file is written
// atomically and read back to check that it holds exactly the simulations of
// its source (ConvertNeuronioFile in data/neuronio_convert.h); a file whose
// valid conversion is already there (not older than its source) is skipped,
// so an interrupted run is finished by running it again. Prints one progress
// line per file ("[k/n] converted|skipped|FAILED ...") and a total on stderr.
// --in takes one or more files or globs separated by commas. Relative paths
// are taken from the directory `bazel run` was started in; --out_dir is
// created if missing. Exit status: 0 when every file is converted or skipped,
// 1 when a file fails (its error, naming the file, is printed; the other
// files are still converted) or the inputs cannot be listed, 2 on a usage
// error.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "base/thread_pool.h"
#include "base/user_path.h"
#include "data/neuronio.h"
#include "data/neuronio_convert.h"
#include "gflags/gflags.h"

DEFINE_string(in, "",
              "NeuronIO files or globs to convert, separated by commas (e.g. "
              "'neuronio/full_ergodic_train_batch_2/*sim__*')");
DEFINE_string(out_dir, "", "folder to write <stem>.elmnio into");
DEFINE_int32(threads, 0,
             "files converted at a time (> 0; 0: the number of cores)");

namespace {

using Clock = std::chrono::steady_clock;

int Usage(const std::string& message) {
  std::fprintf(stderr, "convert_neuronio: %s\nusage: %s\n", message.c_str(),
               gflags::ProgramUsage());
  return 2;
}

std::string Megabytes(int64_t bytes) {
  return absl::StrFormat("%.1f MB", bytes / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "--in='<files or globs, comma-separated>' --out_dir=<dir> "
      "[--threads=N]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (argc != 1) return Usage("unexpected positional arguments");
  if (FLAGS_in.empty()) return Usage("--in is required");
  if (FLAGS_out_dir.empty()) return Usage("--out_dir is required");
  // The range of train.threads and evaluate --threads (issue 18: 100000
  // threads aborted evaluate).
  if (FLAGS_threads < 0 || FLAGS_threads > 256) {
    return Usage(
        absl::StrCat("--threads must be in [0, 256], got ", FLAGS_threads));
  }
  const std::vector<std::string> patterns =
      absl::StrSplit(FLAGS_in, ',', absl::SkipEmpty());
  absl::StatusOr<std::vector<std::string>> inputs =
      elm::ExpandNeuronioFiles(patterns, "--in");
  if (!inputs.ok()) {
    std::fprintf(stderr, "convert_neuronio: %s\n",
                 std::string(inputs.status().message()).c_str());
    return 1;
  }
  const std::string dir = elm::ResolveUserPath(FLAGS_out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "convert_neuronio: cannot create '%s': %s\n",
                 dir.c_str(), ec.message().c_str());
    return 1;
  }
  // Outputs, one per distinct input; two inputs of the same name would
  // overwrite each other.
  std::sort(inputs->begin(), inputs->end());
  inputs->erase(std::unique(inputs->begin(), inputs->end()), inputs->end());
  std::vector<std::string> outputs;
  std::map<std::string, std::string> source_of;
  for (const std::string& in : *inputs) {
    const std::string out =
        absl::StrCat(dir, "/", elm::NeuronioCompactName(in));
    const auto [it, fresh] = source_of.emplace(out, in);
    if (!fresh) {
      std::fprintf(stderr,
                   "convert_neuronio: '%s' and '%s' would both be written to "
                   "'%s'; convert them into different --out_dir folders\n",
                   it->second.c_str(), in.c_str(), out.c_str());
      return 1;
    }
    if (std::filesystem::equivalent(in, out, ec)) {
      std::fprintf(stderr,
                   "convert_neuronio: '%s' would be converted onto itself; "
                   "choose another --out_dir\n",
                   in.c_str());
      return 1;
    }
    outputs.push_back(out);
  }
  const int n = static_cast<int>(inputs->size());
  int threads = FLAGS_threads > 0
                    ? FLAGS_threads
                    : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(1, std::min(threads, n));
  std::fprintf(stderr, "convert_neuronio: %d files -> %s (%d at a time)\n", n,
               dir.c_str(), threads);

  const auto start = Clock::now();
  std::mutex mu;  // guards the counts and the output
  int done = 0, converted = 0, skipped = 0, failed = 0;
  int64_t in_bytes = 0, out_bytes = 0;
  std::atomic<int> next{0};
  elm::ThreadPool pool(threads);
  pool.Run(threads, [&](int) {
    for (int i = next++; i < n; i = next++) {
      const auto file_start = Clock::now();
      absl::StatusOr<elm::NeuronioConversion> r =
          elm::ConvertNeuronioFile((*inputs)[i], outputs[i]);
      const double secs =
          std::chrono::duration<double>(Clock::now() - file_start).count();
      std::lock_guard<std::mutex> lock(mu);
      ++done;
      if (!r.ok()) {
        ++failed;
        std::fprintf(stderr, "[%d/%d] FAILED %s: %s\n", done, n,
                     (*inputs)[i].c_str(),
                     std::string(r.status().message()).c_str());
        continue;
      }
      in_bytes += r->in_bytes;
      out_bytes += r->out_bytes;
      if (r->skipped) {
        ++skipped;
        std::fprintf(stderr, "[%d/%d] skipped %s (already converted: %s)\n",
                     done, n, (*inputs)[i].c_str(), outputs[i].c_str());
      } else {
        ++converted;
        std::fprintf(stderr,
                     "[%d/%d] converted %s -> %s (%lld simulations, %s -> "
                     "%s, %.1f s)\n",
                     done, n, (*inputs)[i].c_str(), outputs[i].c_str(),
                     static_cast<long long>(r->simulations),
                     Megabytes(r->in_bytes).c_str(),
                     Megabytes(r->out_bytes).c_str(), secs);
      }
    }
  });
  const double secs =
      std::chrono::duration<double>(Clock::now() - start).count();
  std::fprintf(stderr,
               "convert_neuronio: %d converted, %d skipped, %d failed in "
               "%.1f s (%s -> %s)\n",
               converted, skipped, failed, secs, Megabytes(in_bytes).c_str(),
               Megabytes(out_bytes).c_str());
  return failed > 0 ? 1 : 0;
}
