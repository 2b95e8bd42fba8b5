// Test helpers for the NeuronIO readers and samplers (testonly): synthetic
// NeuronIO pickles, well-formed or not, written with io/pickle_writer.h
// (streaming, so a ~120 MB dendriticVoltagesLowRes never sits in memory),
// random simulations to fill them, a check that a read simulation holds what
// was written, and gzip / gunzip of test files (temporary paths and whole-file
// reads and writes are base/test_files.h's). Used by io/neuronio_file_test.cc,
// io/neuronio_reader_test.cc and data/neuronio_test.cc.
#ifndef ELM_IO_NEURONIO_TEST_FILES_H_
#define ELM_IO_NEURONIO_TEST_FILES_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "io/neuronio_file.h"

namespace elm {
namespace neuronio_testing {

// Seconds since `start`.
double Seconds(std::chrono::steady_clock::time_point start);

// Gzips (level 1) `from` into `to`; gunzips `from` into `to`. Failures are
// gtest failures.
void Gzip(const std::string& from, const std::string& to);
void Gunzip(const std::string& from, const std::string& to);

// A synthetic NeuronIO simulation.
struct SynthSim {
  std::map<int64_t, std::vector<int64_t>> ex, inh;  // segment → times
  std::vector<double> output_spikes;                // written as float64
  std::vector<float> soma;                          // written as float32
};

// A synthetic NeuronIO file.
struct SynthFile {
  int segments = kNeuronioNumSegments;
  int64_t duration_ms = 1000;
  std::vector<SynthSim> sims;
  // Keys left out (anywhere they occur).
  std::set<std::string> omit;
  // How segment keys and spike times are written: lists of ints (false,
  // false), int64 arrays, or numpy.int64 scalars as in the Kaggle files.
  bool times_as_arrays = false;
  bool numpy_scalars = false;
  // Columns of each simulation's float16 dendriticVoltagesLowRes
  // [segments, dvt_columns]; 0: none.
  int64_t dvt_columns = 0;
};

// Random content: each channel spikes about `rate` times per ms, one
// excitatory channel lists a time twice, soma crosses −55 mV.
SynthFile MakeSynth(int sims, int64_t duration_ms, uint64_t seed,
                    double rate = 0.002);

// Writes `f` as a NeuronIO pickle at `path`.
void WriteSynth(const SynthFile& f, const std::string& path);

// The simulation `sim` should hold what `want` was written with (as part of
// `f`).
void ExpectSimulationIs(const NeuronioSimulation& sim, const SynthSim& want,
                        const SynthFile& f);

// Kaggle-size synthetic files: the 639 segments, 6 s and the input rate of
// the released files (~85,000 input spikes per simulation, as in the shared
// fixtures; the spike times as numpy.int64 scalars), with the dendritic and
// high-resolution traces (WriteNeuronioPickle with dendritic_traces), written
// one simulation at a time: ~9 MB per simulation, 1.2 GB for 128.
NeuronioParams KaggleSizeParams();
NeuronioSimulation KaggleSizeSimulation(int i, uint64_t seed);
absl::Status WriteKaggleSizePickle(const std::string& path, int sims,
                                   uint64_t seed);

// Expects every kept Params entry and every array of every simulation of `a`
// and `b` to be equal.
void ExpectSameFile(const NeuronioFile& a, const NeuronioFile& b);

}  // namespace neuronio_testing
}  // namespace elm

#endif  // ELM_IO_NEURONIO_TEST_FILES_H_
