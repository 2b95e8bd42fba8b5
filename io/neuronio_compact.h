// A compact binary form of NeuronIO-style files (`NeuronioFile`), so that
// generated data can be written once and read back fast: no pickle, no
// skipped traces, just the arrays the reader keeps. `ReadNeuronioFile`
// (data/neuronio.h) recognises these files by their magic, so the NeuronIO
// dataset, its sampler and //data:inspect read them unchanged.
//
// Version 2 (written; every number little-endian) stores what the training
// sampler reads, so that a load does no rebuilding and no copying: the step
// index and the output spike steps are stored, every array starts at a
// multiple of its element size, and `ReadNeuronioCompactView` hands out
// spans into the mapped file.
//   "ELMNIO1\n"                      magic, 8 bytes
//   u32 version (2)
//   u32 num_segments, i64 duration_ms, u64 num_simulations, i64 random_seed
//   str excitatory_synapse_type, str inhibitory_synapse_type
//   str segment_types[num_segments]
//   u64 n, f64 segment_dist_from_soma[n]
//   zero bytes up to a multiple of 8 (counted from the start of the file)
//   per simulation (each starts at a multiple of 8):
//     u32 num_segments, u32 lists (0: the channel lists are not stored,
//       1: they are), i64 duration_ms, u64 num_step_entries,
//     u64 num_output_spikes, u64 num_input_spikes,
//     i64 step_begin[duration_ms + 1],
//     i64 output_spike_steps[num_output_spikes],
//     f64 output_spike_times_ms[num_output_spikes],
//     i64 channel_begin[2 · num_segments + 1]     (lists = 1 only)
//     f32 soma_mv[duration_ms],
//     i32 step_channels[num_step_entries],
//     i32 channel_times[num_input_spikes]         (lists = 1 only)
//     zero bytes up to a multiple of 8
//   u32 CRC-32 (zlib) of every byte before it
// where `str` is a u32 byte count then the bytes. The channel lists
// (channel_begin / channel_times, "as the file lists them") are stored only
// when some channel lists a time twice or out of order; otherwise (every
// channel's times increasing, as in the generated files and the real
// fixture) they are the step index read by channel, and a full read
// (ReadNeuronioCompact) rebuilds them from it (then num_input_spikes =
// num_step_entries). A file is thus 4 bytes per input spike (the step
// index) plus 8 per step and 4 per soma sample per simulation: 49.2–49.7 MB
// for the generator's 128-simulation × 6 s files of 44.4–44.8 MB in
// version 1 (README).
//
// What a read checks. Whenever the CRC-32 is checked (every read, or the
// first read of a file version in a process: NeuronioChecksum below), every
// check that guarantees what version 1's reader guarantees: the magic, the
// version, the header, truncation, trailing bytes, zero padding; every
// output spike step equal to int(t − 0.5) of its time and in [0, duration);
// every soma sample finite; step_begin running from 0 to num_step_entries
// without decreasing, and within each step the channels increasing from
// >= 0 to < 2 · num_segments (so each (step, channel) is listed once and in
// range: the inputs v1 checks to lie in [0, duration) and sorts and
// deduplicates on reading); where the lists are stored, channel_begin
// ascending from 0 to the spike count, every time in [0, duration), and the
// stored step index equal to the one IndexNeuronioSteps builds from them. A
// later read of a file version that passed them all (the sampler's reads:
// the same path, device, inode, size, modification and status-change times,
// so the same bytes) skips, with the CRC, the checks that cost a pass over
// the spike entries (the step channels, the stored lists) and makes the
// others, whose cost is per step (step_begin, which keeps every step's span
// inside the file, the soma samples, the output spikes).
//
// Version 1 (read, and written on request): the same header, then per
// simulation u32 num_segments, i64 duration_ms, u64 num_input_spikes,
// u64 num_output_spikes, i64 channel_begin[2 · num_segments + 1],
// i32 channel_times[num_input_spikes], f64 output_spike_times_ms[...],
// f32 soma_mv[duration_ms], with no padding; the step index and output spike
// steps are rebuilt on reading.
#ifndef ELM_IO_NEURONIO_COMPACT_H_
#define ELM_IO_NEURONIO_COMPACT_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "io/neuronio_file.h"

namespace elm {

inline constexpr char kNeuronioCompactMagic[] = "ELMNIO1\n";  // 8 bytes
inline constexpr int kNeuronioCompactVersion = 2;  // written by default
// The extension the generator tool gives its files (not required to read).
inline constexpr char kNeuronioCompactExtension[] = ".elmnio";

// Whether `head` (the first bytes of a file) starts with the magic.
bool IsNeuronioCompact(absl::string_view head);

// The format version stored in `head` (the first 12 bytes of a file or more)
// when it starts with the magic; 0 otherwise.
int NeuronioCompactVersionOf(absl::string_view head);

// The same for the file at `path` (0 when it cannot be read).
int NeuronioCompactFileVersion(const std::string& path);

// Writes `file` to `path` atomically: into `<path>.tmp.<pid>` first, then
// renamed over `path`, in format `version` (1 or 2). `file.path` is not
// stored. Version 2's step index and output spike steps are built from the
// channel lists and spike times (IndexNeuronioSteps, NeuronioSpikeStep), not
// taken from `file`. Errors (naming the file): a simulation whose arrays are
// inconsistent (channel_begin size, soma length), an I/O failure.
absl::Status WriteNeuronioCompact(const NeuronioFile& file,
                                  const std::string& path,
                                  int version = kNeuronioCompactVersion);

// When ReadNeuronioCompact computes the CRC-32 of the file.
enum class NeuronioChecksum {
  kEveryRead,
  // On the first read in this process of each version of a file: a file
  // whose path, device, inode, size, and modification and status-change times
  // are those of a file that passed the check in this process is not
  // checksummed again, nor are a version-2 file's checks per spike entry
  // made again (the rest are: see the top of this file). For the NeuronIO
  // sampler, which reads each file about seven times in a run; any write to a
  // file changes its status-change time, and a replaced file (rename) its
  // inode.
  kOncePerFileVersion,
};

// Reads a compact file of version 1 or 2; the result's `path` is `path`.
// Errors (InvalidArgument, naming the file and the problem): cannot open, bad
// magic, an unknown version, truncation, a checksum mismatch, trailing bytes,
// and inconsistent contents (the checks at the top of this file).
absl::StatusOr<NeuronioFile> ReadNeuronioCompact(
    const std::string& path,
    NeuronioChecksum checksum = NeuronioChecksum::kEveryRead);

// The same file as views (io/neuronio_file.h), with the same checks and
// errors. A version-2 file is mapped and its simulations' spans point into
// the mapping, which `storage` holds: no array is copied or rebuilt. A
// version-1 file is read with ReadNeuronioCompact and viewed. The mapping
// lives as long as the view: a file truncated in place meanwhile (not
// replaced by a rename, as every writer here does) makes a later access to
// its pages end the process with SIGBUS.
absl::StatusOr<std::shared_ptr<const NeuronioFileView>> ReadNeuronioCompactView(
    const std::string& path,
    NeuronioChecksum checksum = NeuronioChecksum::kEveryRead);

}  // namespace elm

#endif  // ELM_IO_NEURONIO_COMPACT_H_
