// The NeuronIO pickle writer of io/neuronio_pickle_writer.h.
#include "io/neuronio_pickle_writer.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "io/pickle_writer.h"

namespace elm {
namespace {

// float16 −65 (mV) and float32 0, little-endian: the dummy trace samples.
const std::string& Half65() {
  static const std::string* s = new std::string("\x10\xd4", 2);
  return *s;
}
const std::string& FloatZero() {
  static const std::string* s = new std::string(4, '\0');
  return *s;
}

void WriteParams(const NeuronioParams& p, int num_simulations,
                 const NeuronioPickleOptions& options, PickleWriter& w) {
  w.Str("Params");
  w.DictBegin();
  w.Str("allSegmentsType");
  w.ListBegin();
  for (const std::string& type : p.segment_types) w.Str(type);
  w.ListEnd();
  w.Str("totalSimDurationInSec");
  if (p.duration_ms % 1000 == 0) {
    w.Int(p.duration_ms / 1000);
  } else {
    w.Float(static_cast<double>(p.duration_ms) / 1000.0);
  }
  if (!p.segment_dist_from_soma.empty()) {
    w.Str("allSegments_DistFromSoma");
    w.ListBegin();
    for (double d : p.segment_dist_from_soma) w.Float(d);
    w.ListEnd();
  }
  if (p.random_seed >= 0) {
    w.Str("randomSeed");
    w.Int(p.random_seed);
  }
  if (!p.excitatory_synapse_type.empty()) {
    w.Str("excitatorySynapseType");
    w.Str(p.excitatory_synapse_type);
  }
  if (!p.inhibitory_synapse_type.empty()) {
    w.Str("inhibitorySynapseType");
    w.Str(p.inhibitory_synapse_type);
  }
  w.Str("numSimulations");
  w.Int(num_simulations);
  w.Str("collectAndSaveDVTs");
  w.Bool(options.dendritic_traces);
  w.DictEnd();
}

// segment → times of the channels [first, first + segments).
void WriteSpikeDict(const NeuronioSimulation& sim, int first, PickleWriter& w) {
  w.DictBegin();
  for (int s = 0; s < sim.num_segments; ++s) {
    const int c = first + s;
    if (sim.channel_begin[c] == sim.channel_begin[c + 1]) continue;
    w.NumpyInt64(s);
    w.ListBegin();
    for (int64_t i = sim.channel_begin[c]; i < sim.channel_begin[c + 1]; ++i) {
      w.NumpyInt64(sim.channel_times[i]);
    }
    w.ListEnd();
  }
  w.DictEnd();
}

void WriteSimulation(const NeuronioSimulation& sim,
                     const NeuronioPickleOptions& options, PickleWriter& w) {
  const int64_t t = sim.duration_ms;
  w.DictBegin();
  w.Str("exInputSpikeTimes");
  WriteSpikeDict(sim, 0, w);
  w.Str("inhInputSpikeTimes");
  WriteSpikeDict(sim, sim.num_segments, w);
  w.Str("outputSpikeTimes");
  w.Array("f8", sim.output_spike_times_ms);
  w.Str("somaVoltageLowRes");
  w.Array("f4", sim.soma_mv);
  w.Str("recordingTimeLowRes");
  std::vector<float> times(t);
  for (int64_t i = 0; i < t; ++i) times[i] = static_cast<float>(i);
  w.Array("f4", times);
  if (options.dendritic_traces) {
    w.Str("nexusVoltageLowRes");
    w.PatternArray("f2", {t}, 2, Half65());
    w.Str("somaVoltageHighRes");
    w.PatternArray("f2", {8 * t}, 2, Half65());
    w.Str("nexusVoltageHighRes");
    w.PatternArray("f2", {8 * t}, 2, Half65());
    w.Str("recordingTimeHighRes");
    w.PatternArray("f4", {8 * t}, 4, FloatZero());
    w.Str("dendriticVoltagesLowRes");
    w.PatternArray("f2", {sim.num_segments, t}, 2, Half65());
  }
  w.DictEnd();
}

}  // namespace

absl::Status WriteNeuronioPickle(const NeuronioFile& file,
                                 const std::string& path,
                                 const NeuronioPickleOptions& options) {
  return WriteNeuronioPickle(
      file.params, static_cast<int>(file.simulations.size()),
      [&file](int i) { return file.simulations[i]; }, path, options);
}

absl::Status WriteNeuronioPickle(
    const NeuronioParams& params, int num_simulations,
    const std::function<NeuronioSimulation(int i)>& simulation,
    const std::string& path, const NeuronioPickleOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<AtomicFileWriter> out,
                   AtomicFileWriter::Create(path, "NeuronIO pickle"));
  {
    PickleWriter w(out.get());
    w.Proto2();
    w.DictBegin();
    WriteParams(params, num_simulations, options, w);
    w.Str("Results");
    w.DictBegin();
    w.Str("listOfSingleSimulationDicts");
    w.ListBegin();
    for (int i = 0; i < num_simulations && w.status().ok(); ++i) {
      WriteSimulation(simulation(i), options, w);
    }
    w.ListEnd();
    w.DictEnd();
    w.DictEnd();
    w.Stop();
    w.Flush();
    if (!w.status().ok()) {
      out->Abandon();
      return w.status();
    }
  }
  return out->Commit();
}

}  // namespace elm
