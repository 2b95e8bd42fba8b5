// The communication of a data-parallel training step alone: ReduceShards
// (experiments/data_parallel.h) over the ranks of `mpirun -np N`, for gradient
// blocks of the sizes of the embedded Branch-ELM (6,827 parameters) and
// Branch-ELM d_m 100 (54,002), one shard per rank. After a barrier, each rank
// times --iterations reductions; rank 0 prints one JSON line per size with the
// median and the 10th/90th percentile of the per-reduction time in µs.
//
//   bazel build --config=opt //experiments:data_parallel_benchmark
//   mpirun <options of the README> -np 2
//       bazel-bin/experiments/data_parallel_benchmark --iterations=2000
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "autodiff/params.h"
#include "base/mpi_group.h"
#include "experiments/data_parallel.h"
#include "gflags/gflags.h"

DEFINE_int32(iterations, 2000, "reductions timed per size");

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  elm::MpiGroup& world = elm::MpiGroup::World();
  for (const int64_t size : {int64_t{6827}, int64_t{54002}}) {
    elm::ParamSet<float> params;
    params.Add("w", 1, size);
    const int shards = world.size();
    const elm::ShardLayout layout = elm::ShardLayout::Make(shards, world);
    std::vector<elm::GradBlock<float>> grads(shards,
                                             elm::GradBlock<float>(params));
    std::vector<elm::TrainMetrics> parts(shards);
    std::vector<double> micros;
    for (int i = 0; i < FLAGS_iterations + 50; ++i) {
      for (int s = layout.first; s < layout.end; ++s) {
        grads[s].data()[i % size] = static_cast<float>(i);
      }
      world.Barrier();
      const auto start = std::chrono::steady_clock::now();
      elm::ReduceShards(world, layout, shards, size, &grads, &parts);
      const double us = std::chrono::duration<double, std::micro>(
                            std::chrono::steady_clock::now() - start)
                            .count();
      if (i >= 50) micros.push_back(us);  // after a warm-up
    }
    std::sort(micros.begin(), micros.end());
    if (world.is_root()) {
      std::printf(
          "{\"ranks\": %d, \"parameters\": %lld, \"median_us\": %.1f, "
          "\"p10_us\": %.1f, \"p90_us\": %.1f}\n",
          world.size(), static_cast<long long>(size), micros[micros.size() / 2],
          micros[micros.size() / 10], micros[micros.size() * 9 / 10]);
    }
  }
  return 0;
}
