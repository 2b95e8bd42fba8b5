// One NeuronIO file in memory (Beniaguev et al. 2021, as the ELM reference
// uses it), independent of how it was stored: the `Params` entries kept, and
// per simulation the input spike times per synapse (639 excitatory then 639
// inhibitory channels, one of each per segment), also indexed by time step,
// the output spike times and the 1 ms soma voltage; and the reference's
// target conventions (spike step int(t − 0.5), soma clipped at −55 mV then
// (v + 67.7)·0.1). The pickle reader (io/neuronio_reader.h) and the compact
// format (io/neuronio_compact.h) produce it; data/neuronio.h samples it.
// `NeuronioFileView` is the read-only form the sampler cuts batches from: per
// simulation only the step index, output spike steps and soma trace, as spans
// into storage it keeps alive (a NeuronioFile, or a mapped compact file).
#ifndef ELM_IO_NEURONIO_FILE_H_
#define ELM_IO_NEURONIO_FILE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace elm {

// The L5PC model of the released data: 639 segments, one excitatory and one
// inhibitory synapse each.
inline constexpr int kNeuronioNumSegments = 639;
inline constexpr int kNeuronioInputDim = 2 * kNeuronioNumSegments;  // 1278

// The reference's target and input conventions.
inline constexpr float kNeuronioSomaThresholdMv = -55.0f;
inline constexpr float kNeuronioSomaBiasMv = -67.7f;
inline constexpr float kNeuronioSomaScale = 0.1f;

// The step of an output spike at `t_ms`: int(t − 0.5), truncated toward zero
// as Python's int() does (so t in [0, 1.5) gives step 0).
int64_t NeuronioSpikeStep(double t_ms);
// The training soma target of a voltage in mV, in float32 as the reference's
// torch code computes it: (min(v, −55) − (−67.7)) · 0.1.
float NeuronioSomaTarget(float v_mv);

// The `Params` entries the reader keeps.
struct NeuronioParams {
  // Params.allSegmentsType: "basal" / "apical" per segment; its length is the
  // number of segments.
  std::vector<std::string> segment_types;
  // Params.totalSimDurationInSec · 1000.
  int64_t duration_ms = 0;
  // Params.allSegments_DistFromSoma (µm per segment); empty when absent.
  std::vector<double> segment_dist_from_soma;
  // Params.randomSeed (-1 when absent) and the synapse type names ("" when
  // absent).
  int64_t random_seed = -1;
  std::string excitatory_synapse_type;
  std::string inhibitory_synapse_type;

  int num_segments() const { return static_cast<int>(segment_types.size()); }
  // Segments of the given type, e.g. "basal".
  int CountSegments(absl::string_view type) const;
};

// One simulation, sparse. Channel c < num_segments is the excitatory synapse
// of segment c; channel num_segments + s is the inhibitory synapse of segment
// s.
struct NeuronioSimulation {
  int num_segments = 0;
  int64_t duration_ms = 0;  // steps of 1 ms

  // Input spike times (ms, integers in [0, duration)) per channel, as the file
  // lists them (order and repeats kept): channel c's times are
  // channel_times[channel_begin[c], channel_begin[c + 1]).
  // [2 · num_segments + 1]
  std::vector<int64_t> channel_begin;
  std::vector<int32_t> channel_times;

  // The same spikes by step, each (step, channel) once, channels ascending
  // (the reference's boolean X): step t's channels are
  // step_channels[step_begin[t], step_begin[t + 1]). [duration + 1]
  std::vector<int64_t> step_begin;
  std::vector<int32_t> step_channels;

  // outputSpikeTimes (ms) as stored, widened to double (float16 is exact), and
  // their target steps NeuronioSpikeStep(t), each in [0, duration).
  std::vector<double> output_spike_times_ms;
  std::vector<int64_t> output_spike_steps;

  // somaVoltageLowRes in mV, one sample per ms, as float32 (the reference's
  // dtype after preprocessing; float16 values are exact). [duration]
  std::vector<float> soma_mv;

  int input_dim() const { return 2 * num_segments; }
  // The spike times of one channel, as in the file.
  absl::Span<const int32_t> InputSpikeTimes(int channel) const;
  // The channels spiking at step t (ascending, no repeats).
  absl::Span<const int32_t> StepChannels(int64_t t) const;
  // The model input of a channel: +1 excitatory, −1 inhibitory.
  float InputSign(int channel) const {
    return channel < num_segments ? 1.0f : -1.0f;
  }
};

// A whole file.
struct NeuronioFile {
  std::string path;
  NeuronioParams params;
  std::vector<NeuronioSimulation> simulations;
};

// What the training sampler and Densify read of one simulation, as spans
// into storage owned elsewhere (NeuronioFileView::storage): the fields of
// NeuronioSimulation of the same names. [duration + 1], [step entries],
// [output spikes], [duration]
struct NeuronioSimulationView {
  int num_segments = 0;
  int64_t duration_ms = 0;
  absl::Span<const int64_t> step_begin;
  absl::Span<const int32_t> step_channels;
  absl::Span<const int64_t> output_spike_steps;
  absl::Span<const float> soma_mv;

  int input_dim() const { return 2 * num_segments; }
  // The channels spiking at step t (ascending, no repeats).
  absl::Span<const int32_t> StepChannels(int64_t t) const;
  float InputSign(int channel) const {
    return channel < num_segments ? 1.0f : -1.0f;
  }
};

// The view of a simulation's arrays (valid while `sim` is unchanged).
NeuronioSimulationView ViewOf(const NeuronioSimulation& sim);

// A whole file as views, with what holds their arrays.
struct NeuronioFileView {
  std::string path;
  NeuronioParams params;
  std::vector<NeuronioSimulationView> simulations;
  // Keeps the arrays alive: the NeuronioFile (ViewNeuronioFile) or the
  // mapping of a compact file (ReadNeuronioCompactView).
  std::shared_ptr<const void> storage;
};

// The views of `file`'s simulations, holding `file` (not null).
std::shared_ptr<const NeuronioFileView> ViewNeuronioFile(
    std::shared_ptr<const NeuronioFile> file);

// The dict keys of a simulation the reader leaves out (data never read):
// dendriticVoltagesLowRes, the high-resolution traces, the nexus voltage and
// the recording times.
const std::vector<std::string>& NeuronioSkippedKeys();

// Builds sim->step_begin / step_channels (each (step, channel) once, channels
// ascending within a step, repeats dropped) from channel_begin / channel_times.
void IndexNeuronioSteps(NeuronioSimulation* sim);

}  // namespace elm

#endif  // ELM_IO_NEURONIO_FILE_H_
