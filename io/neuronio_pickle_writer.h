// WriteNeuronioPickle: writes a NeuronioFile (io/neuronio_file.h) as a NeuronIO
// simulation pickle in the layout and encoding of the released Kaggle files
// (Python 2 cPickle, protocol 2; notes/datasets.md §1.2), streaming, through
// an AtomicFileWriter: Params (allSegmentsType, totalSimDurationInSec,
// allSegments_DistFromSoma, randomSeed, the synapse types, numSimulations,
// collectAndSaveDVTs) and Results.listOfSingleSimulationDicts, whose
// simulations hold exInputSpikeTimes / inhInputSpikeTimes (dicts of
// numpy.int64 segment → list of numpy.int64 ms, segments without spikes left
// out), outputSpikeTimes (float64: the Kaggle files' float16 would round the
// times), somaVoltageLowRes (float32) and recordingTimeLowRes; with
// `dendritic_traces`, also the large traces the reader steps over, at their
// Kaggle sizes and filled with a constant: dendriticVoltagesLowRes float16
// [segments, duration_ms], nexusVoltageLowRes float16 [duration_ms],
// somaVoltageHighRes and nexusVoltageHighRes float16 [8 · duration_ms],
// recordingTimeHighRes float32 [8 · duration_ms]. ReadNeuronioFile
// (io/neuronio_reader.h) reads the written file back to the same NeuronioFile
// (every kept field equal). Used by //data:generate_neuronio --format=pickle
// and the reader's tests and benchmark.
#ifndef ELM_IO_NEURONIO_PICKLE_WRITER_H_
#define ELM_IO_NEURONIO_PICKLE_WRITER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "io/neuronio_file.h"

namespace elm {

struct NeuronioPickleOptions {
  // Write the dendritic and high-resolution traces (about 8 MB per simulation
  // of 6 s; a 128-simulation file becomes ~1.4 GB instead of ~0.35 GB).
  bool dendritic_traces = false;
};

// Writes `file` at `path` (atomically: a failure leaves `path` as it was).
// Errors name the path.
absl::Status WriteNeuronioPickle(
    const NeuronioFile& file, const std::string& path,
    const NeuronioPickleOptions& options = NeuronioPickleOptions());

// The same, streaming: simulation i (of `num_simulations`, each with the
// segments and duration of `params`) is made by `simulation(i)` when it is
// written, so that only one is in memory.
absl::Status WriteNeuronioPickle(
    const NeuronioParams& params, int num_simulations,
    const std::function<NeuronioSimulation(int i)>& simulation,
    const std::string& path,
    const NeuronioPickleOptions& options = NeuronioPickleOptions());

}  // namespace elm

#endif  // ELM_IO_NEURONIO_PICKLE_WRITER_H_
