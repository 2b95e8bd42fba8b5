// Reads a NeuronIO file from disk: the simulation pickles of the released
// dataset (plain or gzipped, Python 2 cPickle or Python 3 protocol 2) or the
// compact form of io/neuronio_compact.h, into a NeuronioFile
// (io/neuronio_file.h). The large voltage traces (`dendriticVoltagesLowRes`,
// the high-resolution traces) are stepped over in the file and never held in
// memory. Every file problem is an absl::Status naming the file, the
// simulation and the key.
#ifndef ELM_IO_NEURONIO_READER_H_
#define ELM_IO_NEURONIO_READER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "io/neuronio_compact.h"
#include "io/neuronio_file.h"

namespace elm {

// Reads a NeuronIO pickle (Python 2 cPickle or Python 3 protocol 2), or a
// compact file (io/neuronio_compact.h, recognised by its magic "ELMNIO1\n",
// read with ReadNeuronioCompact and its errors). For a pickle, a path
// ending in ".gz" is gunzipped first into an unlinked temporary file under
// $TMPDIR (or /tmp), so neither encoding holds the skipped traces in memory.
// Nothing is taken from the file name. Requires Params.allSegmentsType,
// Params.totalSimDurationInSec and Results.listOfSingleSimulationDicts, and per
// simulation exInputSpikeTimes and inhInputSpikeTimes (dicts of segment index
// → list or integer array of ms), outputSpikeTimes (array or list of ms) and
// somaVoltageLowRes (one sample per ms). Errors (InvalidArgument, naming the
// file, the simulation index and the key): a missing key or a value of the
// wrong kind, a segment index outside [0, num_segments) or listed twice, an
// input spike time outside [0, duration), an output spike time that is
// negative, not finite or whose step int(t − 0.5) is not below the duration,
// a soma trace whose length is not the duration or with a non-finite sample;
// and the pickle reader's errors (truncation, corruption), which name the file
// and the byte.
//
// A pickle is read once, front to back, stepping over the skipped traces
// without reading them; the simulations are converted as soon as each is
// parsed and their parsed values dropped (UnpickleOptions::stream_item), so
// memory holds the result and about one simulation's values (a 128-simulation
// Kaggle file with its dendritic traces: well under 300 MB; README). With
// NeuronioPickleParse::kValueTree the whole value tree is built first and
// then converted (the reader before streaming, ~0.8 GB for such a file): the
// result and the errors are the same (io/neuronio_reader_test.cc checks it).
// A compact file is read with ReadNeuronioCompact(path, checksum).
enum class NeuronioPickleParse { kStreaming, kValueTree };
absl::StatusOr<NeuronioFile> ReadNeuronioFile(
    const std::string& path,
    NeuronioPickleParse parse = NeuronioPickleParse::kStreaming,
    NeuronioChecksum checksum = NeuronioChecksum::kEveryRead);

// Whether the file starts with the compact magic (false when unreadable).
bool StartsNeuronioCompact(const std::string& path);

// The same file as views for the training sampler (io/neuronio_file.h): a
// compact file through ReadNeuronioCompactView (a version-2 file's spans
// point into its mapping), a pickle read with ReadNeuronioFile (streaming)
// and viewed. The same errors as ReadNeuronioFile.
absl::StatusOr<std::shared_ptr<const NeuronioFileView>> ReadNeuronioFileView(
    const std::string& path,
    NeuronioChecksum checksum = NeuronioChecksum::kEveryRead);

}  // namespace elm

#endif  // ELM_IO_NEURONIO_READER_H_
