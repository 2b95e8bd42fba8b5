// A compact binary form of NeuronIO-style files (`NeuronioFile`), so that
// generated data can be written once and read back fast: no pickle, no
// skipped traces, just the arrays the reader keeps. `ReadNeuronioFile`
// (data/neuronio.h) recognises these files by their magic, so the NeuronIO
// dataset, its sampler and //data:inspect read them unchanged.
//
// Layout (every number little-endian):
//   "ELMNIO1\n"                      magic, 8 bytes
//   u32 version (1)
//   u32 num_segments, i64 duration_ms, u64 num_simulations, i64 random_seed
//   str excitatory_synapse_type, str inhibitory_synapse_type
//   str segment_types[num_segments]
//   u64 n, f64 segment_dist_from_soma[n]
//   per simulation:
//     u32 num_segments, i64 duration_ms, u64 num_input_spikes,
//     u64 num_output_spikes,
//     i64 channel_begin[2 · num_segments + 1],
//     i32 channel_times[num_input_spikes],
//     f64 output_spike_times_ms[num_output_spikes],
//     f32 soma_mv[duration_ms]
//   u32 CRC-32 (zlib) of every byte before it
// where `str` is a u32 byte count then the bytes. The step index
// (step_begin / step_channels) and output_spike_steps are rebuilt on reading.
#ifndef ELM_IO_NEURONIO_COMPACT_H_
#define ELM_IO_NEURONIO_COMPACT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "io/neuronio_file.h"

namespace elm {

inline constexpr char kNeuronioCompactMagic[] = "ELMNIO1\n";  // 8 bytes
inline constexpr int kNeuronioCompactVersion = 1;
// The extension the generator tool gives its files (not required to read).
inline constexpr char kNeuronioCompactExtension[] = ".elmnio";

// Whether `head` (the first bytes of a file) starts with the magic.
bool IsNeuronioCompact(absl::string_view head);

// Writes `file` to `path` atomically: into `<path>.tmp.<pid>` first, then
// renamed over `path`. `file.path` is not stored. Errors (naming the file):
// a simulation whose arrays are inconsistent (channel_begin size, soma length),
// an I/O failure.
absl::Status WriteNeuronioCompact(const NeuronioFile& file,
                                  const std::string& path);

// When ReadNeuronioCompact computes the CRC-32 of the file.
enum class NeuronioChecksum {
  kEveryRead,
  // On the first read in this process of each version of a file: a file
  // whose path, device, inode, size, and modification and status-change times
  // are those of a file that passed the check in this process is not
  // checksummed again (every other check is still made). For the NeuronIO
  // sampler, which reads each file about seven times in a run; any write to a
  // file changes its status-change time, and a replaced file (rename) its
  // inode.
  kOncePerFileVersion,
};

// Reads a compact file; the result's `path` is `path`. Errors
// (InvalidArgument, naming the file and the problem): cannot open, bad magic,
// an unknown version, truncation, a checksum mismatch, trailing bytes, and
// inconsistent contents (channel_begin not ascending from 0, an input spike
// time outside [0, duration), an output spike whose step is not in
// [0, duration), a non-finite soma sample).
absl::StatusOr<NeuronioFile> ReadNeuronioCompact(
    const std::string& path,
    NeuronioChecksum checksum = NeuronioChecksum::kEveryRead);

}  // namespace elm

#endif  // ELM_IO_NEURONIO_COMPACT_H_
