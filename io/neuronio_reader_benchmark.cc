// `bazel run //io:neuronio_reader_benchmark -- [--sims=128] [--dir=<dir>]
// [--repeats=3]`: how fast ReadNeuronioFile reads a Kaggle-size NeuronIO
// pickle (128 simulations × 6 s with the dendritic and high-resolution traces,
// written by WriteKaggleSizePickle, io/neuronio_test_files.h), plain and
// gzipped, streaming (the default) and building the value tree first (the
// reader before streaming). Each read runs in a child process (this binary
// with --read), so that its peak resident memory (VmHWM) is the read's
// alone; the reads alternate (tree, streaming, tree, ...) and the medians are
// reported: MB/s of the (uncompressed) pickle, by wall-clock time and by the
// CPU time of the child (user + system: robust on a shared machine), and
// peak RSS.
//
// `--read=<path> --parse=streaming|tree` reads one file and prints
// "seconds=<s> peak_rss=<bytes> cpu_seconds=<s> sims=<n> input_spikes=<n>";
// the memory test
// (io/neuronio_reader_memory_test.cc) runs it that way.
//
// `--loads=<path>[,<path>...] [--load_repeats=20] [--load_as=file|view|both]`
// reads the files in turn in this process as the training sampler does (each
// file's CRC-32 on its first read only, NeuronioChecksum::kOncePerFileVersion),
// after one untimed read of each, with glibc keeping freed memory as the
// sampler sets it (mallopt), and prints the CPU seconds (user + system,
// getrusage) and the minor page faults per read, median over the repeats, for
// each file.
#include <malloc.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/peak_memory.h"
#include "gflags/gflags.h"
#include "io/neuronio_file.h"
#include "io/neuronio_reader.h"
#include "io/neuronio_test_files.h"

DEFINE_string(read, "", "read this file and print its statistics");
DEFINE_string(parse, "streaming", "with --read: streaming or tree");
DEFINE_int32(sims, 128, "simulations of the benchmark file");
DEFINE_string(dir, "", "where to write the benchmark files ($TMPDIR or /tmp)");
DEFINE_int32(repeats, 3, "reads of each kind");
DEFINE_bool(write_only, false, "write the benchmark files, keep them, stop");
DEFINE_string(loads, "",
              "comma-separated files: CPU seconds per repeated read");
DEFINE_int32(load_repeats, 20, "with --loads: timed reads of each file");
DEFINE_string(load_as, "file",
              "with --loads: file (ReadNeuronioFile, a NeuronioFile), view "
              "(ReadNeuronioFileView, as the sampler reads), or both "
              "(alternating, A B A B)");
DEFINE_bool(load_every_check, false,
            "with --loads: check the CRC and make every check on each read "
            "(NeuronioChecksum::kEveryRead) instead of on the first only");

namespace {

int ReadOne() {
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<elm::NeuronioFile> file = elm::ReadNeuronioFile(
      FLAGS_read, FLAGS_parse == "tree" ? elm::NeuronioPickleParse::kValueTree
                                        : elm::NeuronioPickleParse::kStreaming);
  const double seconds = elm::neuronio_testing::Seconds(start);
  if (!file.ok()) {
    std::fprintf(stderr, "%s\n", std::string(file.status().message()).c_str());
    return 1;
  }
  int64_t spikes = 0;
  for (const elm::NeuronioSimulation& s : file->simulations) {
    spikes += static_cast<int64_t>(s.channel_times.size());
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  const double cpu = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
                     1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
  std::printf(
      "seconds=%.4f peak_rss=%lld cpu_seconds=%.4f sims=%zu "
      "input_spikes=%lld\n",
      seconds, static_cast<long long>(elm::PeakRss()), cpu,
      file->simulations.size(), static_cast<long long>(spikes));
  return 0;
}

double CpuSeconds(const struct rusage& u) {
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec +
         1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double MedianOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// One read as ReadNeuronioFile (`view` false) or ReadNeuronioFileView, its
// result freed; false on an error.
bool LoadOnce(const std::string& path, bool view) {
  const elm::NeuronioChecksum kOnce =
      FLAGS_load_every_check ? elm::NeuronioChecksum::kEveryRead
                             : elm::NeuronioChecksum::kOncePerFileVersion;
  absl::Status status;
  if (view) {
    status = elm::ReadNeuronioFileView(path, kOnce).status();
  } else {
    status =
        elm::ReadNeuronioFile(path, elm::NeuronioPickleParse::kStreaming, kOnce)
            .status();
  }
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", std::string(status.message()).c_str());
  }
  return status.ok();
}

// --loads: repeated reads in this process, as the sampler reads files.
int RepeatedLoads() {
  // As the NeuronIO sampler (data/neuronio.cc): freed files' memory stays in
  // the heap for the next load.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  const std::vector<std::string> paths = absl::StrSplit(FLAGS_loads, ',');
  std::vector<bool> kinds;
  if (FLAGS_load_as != "view") kinds.push_back(false);
  if (FLAGS_load_as != "file") kinds.push_back(true);
  std::map<std::pair<std::string, bool>, std::vector<double>> cpu, faults;
  for (int r = -1; r < FLAGS_load_repeats; ++r) {
    for (const bool view : kinds) {
      for (const std::string& path : paths) {
        struct rusage before, after;
        getrusage(RUSAGE_SELF, &before);
        if (!LoadOnce(path, view)) return 1;
        getrusage(RUSAGE_SELF, &after);
        if (r < 0) continue;  // the first read checks the CRC
        cpu[{path, view}].push_back(CpuSeconds(after) - CpuSeconds(before));
        faults[{path, view}].push_back(after.ru_minflt - before.ru_minflt);
      }
    }
  }
  for (const bool view : kinds) {
    for (const std::string& path : paths) {
      std::printf(
          "%s (%s): %.4f CPU s per read, %.0f minor faults (median of %d)\n",
          path.c_str(), view ? "view" : "file", MedianOf(cpu[{path, view}]),
          MedianOf(faults[{path, view}]), FLAGS_load_repeats);
    }
  }
  return 0;
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

struct Result {
  double seconds = 0;
  double cpu_seconds = 0;
  double peak_mb = 0;
};

// Runs this binary with --read in a child process.
bool RunChild(const std::string& self, const std::string& path,
              const std::string& parse, Result* r) {
  const std::string cmd =
      absl::StrCat("'", self, "' --read='", path, "' --parse=", parse);
  std::FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return false;
  char line[512] = {};
  const bool got = std::fgets(line, sizeof(line), p) != nullptr;
  const int rc = pclose(p);
  long long rss = 0;
  if (!got || rc != 0 ||
      std::sscanf(line, "seconds=%lf peak_rss=%lld cpu_seconds=%lf",
                  &r->seconds, &rss, &r->cpu_seconds) != 3) {
    std::fprintf(stderr, "%s failed: %s\n", cmd.c_str(), line);
    return false;
  }
  r->peak_mb = rss / 1e6;
  return true;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (!FLAGS_read.empty()) return ReadOne();
  if (!FLAGS_loads.empty()) return RepeatedLoads();
  std::string dir = FLAGS_dir;
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    dir = tmp != nullptr && tmp[0] != '\0' ? tmp : "/tmp";
  }
  const std::string path =
      absl::StrCat(dir, "/elm_kaggle_size_", FLAGS_sims, ".p");
  std::printf("writing %s (%d simulations x 6 s, with the traces)...\n",
              path.c_str(), FLAGS_sims);
  std::fflush(stdout);
  auto start = std::chrono::steady_clock::now();
  if (absl::Status s =
          elm::neuronio_testing::WriteKaggleSizePickle(path, FLAGS_sims, 1);
      !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::printf("  %.1f MB in %.1f s; gzipping...\n", FileSize(path) / 1e6,
              elm::neuronio_testing::Seconds(start));
  if (FLAGS_write_only) return 0;
  std::fflush(stdout);
  start = std::chrono::steady_clock::now();
  elm::neuronio_testing::Gzip(path, path + ".gz");
  std::printf("  %.1f MB in %.1f s\n", FileSize(path + ".gz") / 1e6,
              elm::neuronio_testing::Seconds(start));
  const std::string self = "/proc/self/exe";
  char exe[4096] = {};
  const ssize_t n = readlink(self.c_str(), exe, sizeof(exe) - 1);
  if (n <= 0) return 1;
  const double mb = FileSize(path) / 1e6;
  std::printf("\n%-6s %-10s %8s %8s %8s %8s %12s\n", "file", "parse", "seconds",
              "MB/s", "CPU s", "MB/CPU s", "peak RSS MB");
  for (const std::string& p : {path, path + ".gz"}) {
    std::map<std::string, std::vector<double>> secs, cpu, peak;
    for (int r = 0; r < FLAGS_repeats; ++r) {
      for (const std::string parse : {"tree", "streaming"}) {
        Result res;
        if (!RunChild(exe, p, parse, &res)) return 1;
        secs[parse].push_back(res.seconds);
        cpu[parse].push_back(res.cpu_seconds);
        peak[parse].push_back(res.peak_mb);
      }
    }
    for (const std::string parse : {"tree", "streaming"}) {
      const double s = Median(secs[parse]);
      const double c = Median(cpu[parse]);
      std::printf("%-6s %-10s %8.2f %8.0f %8.2f %8.0f %12.0f\n",
                  p == path ? "plain" : ".gz", parse.c_str(), s, mb / s, c,
                  mb / c, Median(peak[parse]));
    }
  }
  std::remove(path.c_str());
  std::remove((path + ".gz").c_str());
  return 0;
}
