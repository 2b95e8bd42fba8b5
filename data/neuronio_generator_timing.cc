// Times GenerateNeuronioFile and reports the teacher's output statistics:
// `neuronio_generator_timing [sims [teacher [w_ampa w_nmda w_gaba c_s c_b]]]`
// (teacher 0 branched, 1 LIF, 2 ALIF). Build with -c opt for the speed claim.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "data/neuronio_generator.h"

int main(int argc, char** argv) {
  elm::NeuronioGeneratorOptions o;
  o.num_simulations = argc > 1 ? std::atoi(argv[1]) : 128;
  if (argc > 2)
    o.teacher = static_cast<elm::NeuronioTeacher>(std::atoi(argv[2]));
  if (argc > 7) {
    o.branched.w_ampa = std::atof(argv[3]);
    o.branched.w_nmda = std::atof(argv[4]);
    o.branched.w_gaba = std::atof(argv[5]);
    o.branched.branch_to_soma = std::atof(argv[6]);
    o.branched.soma_to_branch = std::atof(argv[7]);
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto file = elm::GenerateNeuronioFile(o, 1);
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  if (!file.ok()) {
    std::fprintf(stderr, "%s\n", file.status().ToString().c_str());
    return 1;
  }
  double spikes = 0, in_e = 0, in_i = 0, vsum = 0, vmin = 1e9, vmax = -1e9;
  int silent = 0;
  for (const auto& sim : file->simulations) {
    spikes += sim.output_spike_times_ms.size();
    if (sim.output_spike_times_ms.empty()) ++silent;
    in_e += sim.channel_begin[sim.num_segments];
    in_i += sim.channel_times.size() - sim.channel_begin[sim.num_segments];
    for (float v : sim.soma_mv) {
      vsum += v;
      vmin = v < vmin ? v : vmin;
      vmax = v > vmax ? v : vmax;
    }
  }
  const double secs = o.num_simulations * o.duration_ms / 1000.0;
  std::printf(
      "%d sims x %lld ms in %.2f s (%.2f s per 128); output %.3f Hz, silent "
      "sims %d; input exc %.2f Hz, inh %.2f Hz per synapse; soma mean %.2f "
      "min %.2f max %.2f mV\n",
      o.num_simulations, static_cast<long long>(o.duration_ms), s,
      s * 128 / o.num_simulations, spikes / secs, silent, in_e / secs / 639,
      in_i / secs / 639, vsum / (secs * 1000), vmin, vmax);
  return 0;
}
