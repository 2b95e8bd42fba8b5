// NeuronIO in-memory types: see neuronio_file.h.
#include "io/neuronio_file.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "glog/logging.h"

namespace elm {

void IndexNeuronioSteps(NeuronioSimulation* sim) {
  const int64_t steps = sim->duration_ms;
  std::vector<int64_t>& begin = sim->step_begin;
  begin.assign(steps + 1, 0);
  for (int32_t t : sim->channel_times) ++begin[t + 1];
  for (int64_t t = 0; t < steps; ++t) begin[t + 1] += begin[t];
  std::vector<int32_t>& channels = sim->step_channels;
  channels.resize(sim->channel_times.size());
  std::vector<int64_t> fill(begin.begin(), begin.end() - 1);
  bool increasing = true;  // every channel's times (no repeats possible)
  for (int c = 0; c < sim->input_dim(); ++c) {  // channels ascending per step
    int32_t previous = -1;
    for (int32_t t : sim->InputSpikeTimes(c)) {
      increasing &= t > previous;
      previous = t;
      channels[fill[t]++] = c;
    }
  }
  if (increasing) return;
  // A repeat (a channel listing a time twice) is a channel equal to the one
  // before it in its step.
  int64_t repeats = 0;
  for (int64_t t = 0; t < steps; ++t) {
    for (int64_t k = begin[t] + 1; k < begin[t + 1]; ++k) {
      repeats += channels[k] == channels[k - 1];
    }
  }
  if (repeats == 0) return;
  // Drop repeats (a channel listing a time twice), which are adjacent.
  int64_t w = 0;
  for (int64_t t = 0; t < steps; ++t) {
    const int64_t from = begin[t], to = begin[t + 1];
    begin[t] = w;
    for (int64_t k = from; k < to; ++k) {
      if (k == from || channels[k] != channels[k - 1]) {
        channels[w++] = channels[k];
      }
    }
  }
  begin[steps] = w;
  channels.resize(w);
  channels.shrink_to_fit();
}

int64_t NeuronioSpikeStep(double t_ms) {
  return static_cast<int64_t>(t_ms - 0.5);  // truncates toward zero
}

float NeuronioSomaTarget(float v_mv) {
  const float clipped =
      v_mv > kNeuronioSomaThresholdMv ? kNeuronioSomaThresholdMv : v_mv;
  const float centred = clipped - kNeuronioSomaBiasMv;
  return centred * kNeuronioSomaScale;
}

int NeuronioParams::CountSegments(absl::string_view type) const {
  return static_cast<int>(
      std::count(segment_types.begin(), segment_types.end(), type));
}

absl::Span<const int32_t> NeuronioSimulation::InputSpikeTimes(
    int channel) const {
  CHECK_GE(channel, 0);
  CHECK_LT(channel, input_dim());
  return absl::Span<const int32_t>(channel_times)
      .subspan(channel_begin[channel],
               channel_begin[channel + 1] - channel_begin[channel]);
}

absl::Span<const int32_t> NeuronioSimulation::StepChannels(int64_t t) const {
  CHECK_GE(t, 0);
  CHECK_LT(t, duration_ms);
  return absl::Span<const int32_t>(step_channels)
      .subspan(step_begin[t], step_begin[t + 1] - step_begin[t]);
}

absl::Span<const int32_t> NeuronioSimulationView::StepChannels(
    int64_t t) const {
  CHECK_GE(t, 0);
  CHECK_LT(t, duration_ms);
  return step_channels.subspan(step_begin[t],
                               step_begin[t + 1] - step_begin[t]);
}

NeuronioSimulationView ViewOf(const NeuronioSimulation& sim) {
  NeuronioSimulationView v;
  v.num_segments = sim.num_segments;
  v.duration_ms = sim.duration_ms;
  v.step_begin = sim.step_begin;
  v.step_channels = sim.step_channels;
  v.output_spike_steps = sim.output_spike_steps;
  v.soma_mv = sim.soma_mv;
  return v;
}

std::shared_ptr<const NeuronioFileView> ViewNeuronioFile(
    std::shared_ptr<const NeuronioFile> file) {
  CHECK(file != nullptr);
  auto view = std::make_shared<NeuronioFileView>();
  view->path = file->path;
  view->params = file->params;
  view->simulations.reserve(file->simulations.size());
  for (const NeuronioSimulation& sim : file->simulations) {
    view->simulations.push_back(ViewOf(sim));
  }
  view->storage = std::move(file);
  return view;
}

const std::vector<std::string>& NeuronioSkippedKeys() {
  static const auto* const kKeys = new std::vector<std::string>{
      "dendriticVoltagesLowRes", "somaVoltageHighRes", "nexusVoltageHighRes",
      "recordingTimeHighRes",    "nexusVoltageLowRes", "recordingTimeLowRes",
  };
  return *kKeys;
}

}  // namespace elm
