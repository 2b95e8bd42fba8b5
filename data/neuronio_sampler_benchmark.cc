// `bazel run //data:neuronio_sampler_benchmark -- --files='<glob>'
// [--fraction=0.3] [--batches=2000] [--batch_size=8] [--window_ms=500]
// [--ignore_start_ms=500] [--prefetch=true] [--seed=0]`: the CPU the NeuronIO
// training sampler (data/neuronio.h) costs, without a model. It draws the
// batches as a training run does and prints the CPU seconds (getrusage) of
// the calling thread inside Next() — what a trainer's data wait is made of
// when no load is pending: cutting batches, and loads without prefetch —,
// the CPU of the whole process (adds the prefetch thread's loads), the
// loads, and the wall-clock time. For comparing builds or file formats (e.g.
// version-1 against version-2 `.elmnio` files) on a machine too busy for
// wall-clock timings.
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/dataset_spec.pb.h"
#include "data/neuronio.h"
#include "gflags/gflags.h"

DEFINE_string(files, "", "NeuronIO files or globs, comma-separated");
DEFINE_double(fraction, 0.3, "NeuronioSpec.file_load_fraction");
DEFINE_int32(batches, 2000, "batches to draw");
DEFINE_int32(batch_size, 8, "batch size");
DEFINE_int32(window_ms, 500, "NeuronioSpec.window_ms");
DEFINE_int32(ignore_start_ms, 500, "NeuronioSpec.ignore_start_ms");
DEFINE_bool(prefetch, true, "NeuronioSpec.prefetch");
DEFINE_uint64(seed, 0, "dataset seed");

namespace {

double CpuSeconds(int who) {
  struct rusage u;
  getrusage(who, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec +
         1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (FLAGS_files.empty()) {
    std::fprintf(stderr, "usage: neuronio_sampler_benchmark --files=<glob>\n");
    return 2;
  }
  elm::NeuronioSpec spec;
  size_t from = 0;
  while (from <= FLAGS_files.size()) {
    const size_t comma = FLAGS_files.find(',', from);
    const size_t to = comma == std::string::npos ? FLAGS_files.size() : comma;
    spec.add_train_files(FLAGS_files.substr(from, to - from));
    from = to + 1;
  }
  spec.set_file_load_fraction(FLAGS_fraction);
  spec.set_window_ms(FLAGS_window_ms);
  spec.set_ignore_start_ms(FLAGS_ignore_start_ms);
  spec.set_prefetch(FLAGS_prefetch);
  auto dataset = elm::NeuronioDataset::Create(spec, FLAGS_seed);
  if (!dataset.ok()) {
    std::fprintf(stderr, "%s\n", dataset.status().ToString().c_str());
    return 1;
  }
  auto sampler =
      (*dataset)->MakeNeuronioSampler(elm::Split::kTrain, FLAGS_batch_size, 0);
  if (!sampler.ok()) {
    std::fprintf(stderr, "%s\n", sampler.status().ToString().c_str());
    return 1;
  }
  const double process_start = CpuSeconds(RUSAGE_SELF);
  const auto wall_start = std::chrono::steady_clock::now();
  double next_cpu = 0;
  int64_t nonzeros = 0, loads = 0, last_load = -1;
  for (int i = 0; i < FLAGS_batches; ++i) {
    const double before = CpuSeconds(RUSAGE_THREAD);
    absl::StatusOr<elm::Batch> batch = (*sampler)->Next();
    next_cpu += CpuSeconds(RUSAGE_THREAD) - before;
    if (!batch.ok()) {
      std::fprintf(stderr, "%s\n", batch.status().ToString().c_str());
      return 1;
    }
    nonzeros += static_cast<int64_t>(batch->inputs.col.size());
    const int64_t load = (*sampler)->last_windows()[0].load;
    loads += load != last_load;
    last_load = load;
  }
  const double wall = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - wall_start)
                          .count();
  sampler->reset();  // waits for a load in flight
  std::printf(
      "batches=%d loads=%lld nonzeros=%lld next_cpu_s=%.4f "
      "process_cpu_s=%.4f wall_s=%.4f\n",
      FLAGS_batches, static_cast<long long>(loads),
      static_cast<long long>(nonzeros), next_cpu,
      CpuSeconds(RUSAGE_SELF) - process_start, wall);
  return 0;
}
