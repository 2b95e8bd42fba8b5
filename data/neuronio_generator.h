// A NeuronIO-style data generator, the embedded default for users without the
// 115 GB NeuronIO release: input spike trains with the statistics of the
// NeuronIO input generator (Beniaguev et al. 2021) over 639 segments (262
// basal, 377 apical), one excitatory and one inhibitory synapse each, and a
// teacher neuron that turns them into output spikes and a 1 ms soma voltage
// trace. The teacher is either a nonlinear branched neuron (AMPA/NMDA/GABA_A
// conductances per dendritic branch, Mg-block NMDA, adaptive spiking soma; the
// equations are at the top of neuronio_generator.cc) or a LIF / ALIF point
// neuron. The result is the reader's in-memory form (`NeuronioFile`), so
// `Densify`, `NeuronioTargets` and `GeneratedNeuronioDataset` (the reader's
// training sampler, NeuronioSampler, over in-memory files) work on it
// unchanged; `MakeGeneratedNeuronioDataset` builds that dataset from a
// NeuronioSpec with `generate` set (DatasetSpec's generated NeuronIO).
// Everything is deterministic per seed (elm::Rng). Bad options are
// absl::Status errors naming the field.
#ifndef ELM_DATA_NEURONIO_GENERATOR_H_
#define ELM_DATA_NEURONIO_GENERATOR_H_

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/rng.h"
#include "data/dataset.h"
#include "data/dataset_spec.pb.h"
#include "data/neuronio.h"

namespace elm {

enum class NeuronioTeacher { kBranched, kLif, kAlif };

// The input generator's numbers (the NeuronIO defaults).
struct NeuronioInputOptions {
  int num_basal = 262;
  int num_apical = 377;
  // Rate pieces: each simulation draws an interval U[min, max] + U[-j, j] ms
  // (at least 1 ms); every tree redraws its rates at each interval boundary.
  double interval_min_ms = 25, interval_max_ms = 450, interval_jitter_ms = 20;
  // Excitatory total rate per tree, spikes per 100 ms: U[0, max].
  double exc_max_per_100ms = 800;
  // Inhibitory = excitatory + U[delta_min, delta_max], at least 0.
  double inh_delta_min_per_100ms = -600, inh_delta_max_per_100ms = 200;
  // Per-segment multiplicative factor U[lo, hi] (fixed per simulation).
  double segment_factor_lo = 0.5, segment_factor_hi = 1.5;
  // Gaussian smoothing: sigma U[min, max] + U[-j, j] ms per simulation.
  double sigma_min_ms = 25, sigma_max_ms = 600, sigma_jitter_ms = 20;
};

// The branched teacher's parameters (see neuronio_generator.cc for the
// equations). Conductances are in units of the branch / soma leak conductance.
struct BranchedTeacherOptions {
  int segments_per_branch = 20;
  double e_leak_mv = -75, e_exc_mv = 0, e_inh_mv = -80, e_k_mv = -85;
  double tau_branch_ms = 10, tau_soma_ms = 15;
  double tau_ampa_ms = 2, tau_nmda_ms = 60, tau_gaba_ms = 8;
  double w_ampa = 0.1, w_nmda = 0.35, w_gaba = 0.12;  // per input spike
  double mg_mm = 1.0;
  double branch_to_soma = 0.03;  // coupling per branch, soma side
  double soma_to_branch = 0.3;   // coupling, branch side
  double v_threshold_mv = -55, v_reset_mv = -62, v_peak_mv = 20;
  double refractory_ms = 3;
  double tau_adapt_ms = 150, adapt_increment = 0.3;  // K conductance
  int substeps_per_ms = 2;
};

// The LIF / ALIF teachers: tau_m dV/dt = -(V - E_L) + R I(t), I a sum of
// exponentially filtered weighted input spikes, threshold/reset; ALIF's
// threshold rises by `adapt_increment_mv` per spike and decays with tau_adapt.
// With the default inputs: LIF 0.89 Hz, ALIF 0.28 Hz over 128 simulations.
struct PointTeacherOptions {
  double e_leak_mv = -72, tau_m_ms = 20, tau_syn_ms = 5;
  // Jump of I (mV) per excitatory / inhibitory input spike.
  double w_exc_mv = 0.7, w_inh_mv = 1.0;
  double v_threshold_mv = -55, v_reset_mv = -65, v_peak_mv = 20;
  double refractory_ms = 2;
  double tau_adapt_ms = 500, adapt_increment_mv = 3.0;  // ALIF only
};

struct NeuronioGeneratorOptions {
  int num_simulations = 128;
  int64_t duration_ms = 6000;
  NeuronioInputOptions input;
  NeuronioTeacher teacher = NeuronioTeacher::kBranched;
  BranchedTeacherOptions branched;
  PointTeacherOptions point;
};

// Bounds on generated data, which is held in memory (about 250 bytes per
// simulated millisecond while generating: the peak RSS of
// //data:generate_neuronio grows by 46 MB from 8 to 40 simulations of 6 s):
// per file, at most kMaxGeneratedSimulations simulations of at most
// kMaxGeneratedDurationMs each and kMaxGeneratedFileMs simulated milliseconds
// in all (a reference file is 128 · 6000 = 768,000); per data set (all
// files), at most kMaxGeneratedDataMs (about 5 GB; the specs in
// experiments/specs/ use 3.84 million).
inline constexpr int kMaxGeneratedSimulations = 100000;
inline constexpr int64_t kMaxGeneratedDurationMs = 1000000;
inline constexpr int64_t kMaxGeneratedFileMs = 10000000;
inline constexpr int64_t kMaxGeneratedDataMs = 20000000;

// The field-naming checks of all options (the bounds above included).
absl::Status ValidateNeuronioGeneratorOptions(const NeuronioGeneratorOptions&);

// The bounds above for a data set of `files` files of `simulations` of
// `duration_ms` each; errors name the fields with `prefix` (e.g.
// "data.neuronio.generate.").
absl::Status CheckGeneratedDataSize(int64_t files, int64_t simulations,
                                    int64_t duration_ms,
                                    absl::string_view prefix);

// The fixed segment lengths (µm): deterministic log-normal lengths, median
// 20 µm, log-sd 0.5, clipped to [2, 120] µm, from a fixed seed (the same for
// every call). Size num_basal + num_apical.
std::vector<double> NeuronioSegmentLengths(const NeuronioInputOptions& input);

// The total rates of one tree (spikes per 100 ms) before smoothing, as pieces:
// piece k holds rate_exc[k], rate_inh[k] on [begin_ms[k], begin_ms[k + 1]).
struct RatePieces {
  std::vector<double> begin_ms;  // [pieces + 1], begins before 0 (padding)
  std::vector<double> rate_exc, rate_inh;
};
// The drawn inputs of one simulation, for inspection and tests.
struct NeuronioInputDraw {
  double interval_ms = 0, sigma_ms = 0;
  RatePieces trees[2];                 // basal, apical
  std::vector<double> segment_factor;  // [num_segments]
  // Smoothed per-channel rate = tree rate(t) · weight[c] / 100 spikes per ms.
  std::vector<double> smoothed_exc[2], smoothed_inh[2];  // [tree][duration]
};

// One simulation's input spikes (channel_* and step_* filled, no outputs).
// `opt` must be valid (ValidateNeuronioGeneratorOptions).
NeuronioSimulation GenerateNeuronioInputs(const NeuronioGeneratorOptions& opt,
                                          Rng& rng,
                                          NeuronioInputDraw* draw = nullptr);

// Runs the selected teacher on sim's inputs (its step_begin/step_channels),
// filling soma_mv, output_spike_times_ms (sample index + 0.5 where the trace
// holds the spike peak) and output_spike_steps.
void RunNeuronioTeacher(const NeuronioGeneratorOptions& opt,
                        NeuronioSimulation* sim);

// A simulation whose inputs are the given (step, channel) spikes (any order;
// repeats kept once), for driving a teacher by hand.
NeuronioSimulation MakeNeuronioInputSimulation(
    int num_segments, int64_t duration_ms,
    std::vector<std::pair<int64_t, int32_t>> spikes);

// A whole file: params (segment types, duration, seed, synapse type names)
// and num_simulations simulations.
absl::StatusOr<NeuronioFile> GenerateNeuronioFile(
    const NeuronioGeneratorOptions& options, uint64_t seed);

// The reader's training sampler (NeuronioSampler, data/neuronio.h) over
// in-memory files, with the same seed mixing as NeuronioDataset
// (NeuronioSamplerSeed), so equal files give equal batches. Samplers share the
// files with the dataset and may outlive it.
class GeneratedNeuronioDataset : public Dataset {
 public:
  // spec supplies window_ms, ignore_start_ms and file_load_fraction (the file
  // lists and `generate` are ignored). A split may have no files. Every file
  // must have 639 segments, at least one simulation and window + ignore <
  // duration.
  static absl::StatusOr<std::unique_ptr<GeneratedNeuronioDataset>> Create(
      const NeuronioSpec& spec, std::vector<NeuronioFile> train,
      std::vector<NeuronioFile> valid, std::vector<NeuronioFile> test,
      uint64_t seed);

  const DatasetInfo& info() const override { return info_; }
  // Errors: batch_size <= 0 or above a file's simulation count, no files in
  // the split, zero batches per load (from Next()).
  absl::StatusOr<std::unique_ptr<BatchSampler>> MakeSampler(
      Split split, int batch_size, uint64_t seed) const override;
  const std::vector<NeuronioFile>& files(Split split) const {
    return *files_[static_cast<int>(split)];
  }

 private:
  GeneratedNeuronioDataset() = default;
  DatasetInfo info_;
  NeuronioSpec spec_;
  uint64_t seed_ = 0;
  std::shared_ptr<const std::vector<NeuronioFile>> files_[3];
};

// The generator options of a NeuronioGeneratorSpec (simulations, duration,
// teacher; the rest default).
NeuronioGeneratorOptions NeuronioGeneratorOptionsFromSpec(
    const NeuronioGeneratorSpec& spec);

// The dataset of a NeuronioSpec with `generate` set: spec.generate()'s file
// counts per split, file i of split s generated with the seed
// NeuronioGeneratedFileSeed(seed, s, i), sampled as GeneratedNeuronioDataset
// with dataset seed `seed`. Errors (InvalidArgument, naming the field):
// `generate` not set, any of train_files / valid_files / test_files set, a
// negative file count, simulations_per_file or duration_ms <= 0, window_ms +
// ignore_start_ms not below duration_ms, and ValidateNeuronioSpec's errors.
absl::StatusOr<std::unique_ptr<GeneratedNeuronioDataset>>
MakeGeneratedNeuronioDataset(const NeuronioSpec& spec, uint64_t seed);

// The seed of generated file `index` of `split` for dataset seed `seed`.
uint64_t NeuronioGeneratedFileSeed(uint64_t seed, Split split, int index);

}  // namespace elm

#endif  // ELM_DATA_NEURONIO_GENERATOR_H_
