// The inspect reports: see inspect.h.
#include "data/inspect.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"
#include "base/user_path.h"
#include "data/dataset_factory.h"
#include "data/dataset_spec.pb.h"
#include "data/fashion_mnist.h"
#include "data/listops.h"
#include "data/neuronio.h"
#include "data/neuronio_generator.h"
#include "data/shd.h"
#include "io/neuronio_compact.h"

namespace elm {
namespace {

constexpr size_t kHeadBytes = 4096;
constexpr char kHdf5Signature[] = "\x89HDF\r\n\x1a\n";
constexpr char kKinds[] =
    "a NeuronIO simulation file (a pickle, optionally .gz), an SHD HDF5 file "
    "(.h5), a compact NeuronIO file (.elmnio), a ListOps TSV file, a "
    "Fashion-MNIST IDX file (optionally .gz) or a dataset spec "
    "(elm.DatasetSpec "
    "in protobuf text format)";
constexpr char kListOpsHeader[] = "Source\tTarget";

absl::Status Invalid(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("'", path, "' ", what));
}

// Whether `head` starts like a pickle of protocol 2 or later (PROTO opcode).
bool IsPickle(absl::string_view head) {
  return head.size() >= 2 && head[0] == '\x80' && head[1] >= 2 && head[1] <= 5;
}

// Whether `head` starts like an IDX file of unsigned bytes with 1 to 4
// dimensions (the only IDX type ReadIdxFile reads).
bool IsIdx(absl::string_view head) {
  return head.size() >= 4 && head[0] == 0 && head[1] == 0 &&
         head[2] == '\x08' && head[3] >= 1 && head[3] <= 4;
}

bool IsGzip(absl::string_view head) {
  return head.size() >= 2 && head[0] == '\x1f' && head[1] == '\x8b';
}

// The first bytes of the gunzipped content of `path` (empty on errors).
std::string GunzipHead(const std::string& path, int bytes) {
  gzFile gz = gzopen(path.c_str(), "rb");
  if (gz == nullptr) return "";
  std::string out(bytes, '\0');
  const int n = gzread(gz, out.data(), bytes);
  gzclose(gz);
  out.resize(std::max(n, 0));
  return out;
}

// The HDF5 superblock signature sits at offset 0, 512, 1024, 2048, ...
bool HasHdf5Signature(const std::string& path, uintmax_t size) {
  std::ifstream in(path, std::ios::binary);
  char sig[8];
  for (uintmax_t offset = 0; offset + 8 <= size;
       offset = offset == 0 ? 512 : 2 * offset) {
    in.seekg(static_cast<std::streamoff>(offset));
    if (!in.read(sig, 8)) return false;
    if (std::memcmp(sig, kHdf5Signature, 8) == 0) return true;
  }
  return false;
}

// Whether `head` reads as UTF-8 text without control characters other than
// whitespace. A multi-byte character cut by the end of a full buffer counts
// as text.
bool LooksLikeText(absl::string_view head, bool truncated) {
  for (size_t i = 0; i < head.size();) {
    const unsigned char c = head[i];
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' &&
          c != '\v') {
        return false;
      }
      if (c == 0x7f) return false;
      ++i;
      continue;
    }
    int more;
    if (c >= 0xc2 && c <= 0xdf) {
      more = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      more = 2;
    } else if (c >= 0xf0 && c <= 0xf4) {
      more = 3;
    } else {
      return false;
    }
    for (int k = 1; k <= more; ++k) {
      if (i + k >= head.size()) return truncated;
      if ((static_cast<unsigned char>(head[i + k]) & 0xc0) != 0x80) {
        return false;
      }
    }
    i += more + 1;
  }
  return true;
}

std::string HexBytes(absl::string_view bytes, size_t max) {
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < max; ++i) {
    absl::StrAppendFormat(&out, "%s%02x", i == 0 ? "" : " ",
                          static_cast<unsigned char>(bytes[i]));
  }
  return out;
}

// What the extension promised, for the "none of them" message.
std::string ExtensionHint(const std::string& path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".h5" || ext == ".hdf5" || ext == ".hdf") {
    return " (it is named like an HDF5 file but has no HDF5 signature)";
  }
  if (ext == ".p" || ext == ".pkl" || ext == ".pickle") {
    return " (it is named like a pickle but does not start with a pickle "
           "protocol 2+ header)";
  }
  return "";
}

}  // namespace

const char* InspectKindName(InspectKind kind) {
  switch (kind) {
    case InspectKind::kNeuronioFile:
      return "NeuronIO simulation file";
    case InspectKind::kShdFile:
      return "SHD file";
    case InspectKind::kDatasetSpec:
      return "dataset spec";
    case InspectKind::kListOpsFile:
      return "ListOps TSV file";
    case InspectKind::kIdxFile:
      return "IDX file";
  }
  return "?";
}

absl::StatusOr<InspectKind> DetectInspectKind(const std::string& path) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(st)) {
    return absl::NotFoundError(absl::StrCat("'", path, "' does not exist"));
  }
  if (std::filesystem::is_directory(st)) {
    return Invalid(path, absl::StrCat("is a directory; give ", kKinds));
  }
  if (!std::filesystem::is_regular_file(st)) {
    // A device such as /dev/zero, a pipe or a socket may never end.
    return Invalid(path,
                   absl::StrCat("is not a regular file (a device, pipe or "
                                "socket); give ",
                                kKinds));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Invalid(path,
                   absl::StrCat("cannot be opened: ", std::strerror(errno)));
  }
  std::string head(kHeadBytes, '\0');
  in.read(head.data(), head.size());
  head.resize(in.gcount());
  if (head.empty())
    return Invalid(path, absl::StrCat("is empty; give ", kKinds));
  const uintmax_t size = std::filesystem::file_size(path, ec);
  const bool named_gz = absl::EndsWith(path, ".gz");

  if (IsGzip(head)) {
    const std::string inner = GunzipHead(path, 16);
    // The IDX reader gunzips by content, so the name does not matter.
    if (IsIdx(inner)) return InspectKind::kIdxFile;
    if (!IsPickle(inner)) {
      return Invalid(
          path,
          absl::StrCat("is gzip-compressed but holds neither a pickle of "
                       "protocol 2 or later, as NeuronIO files are, nor an "
                       "IDX file (its gunzipped content starts with bytes ",
                       inner.empty() ? "(none)" : HexBytes(inner, 16), ")"));
    }
    if (!named_gz) {
      return Invalid(
          path,
          "is a gzip-compressed pickle but its name does not end in .gz; the "
          "NeuronIO reader gunzips exactly the files named *.gz: rename it");
    }
    return InspectKind::kNeuronioFile;
  }
  if (IsIdx(head)) return InspectKind::kIdxFile;
  if (named_gz) {
    return Invalid(
        path, absl::StrCat("ends in .gz but is not gzip-compressed",
                           IsPickle(head) ? " (it is a plain pickle: rename it "
                                            "without .gz)"
                                          : ""));
  }
  if (IsPickle(head) || IsNeuronioCompact(head)) {
    return InspectKind::kNeuronioFile;
  }
  if (HasHdf5Signature(path, size)) return InspectKind::kShdFile;
  if (LooksLikeText(head, head.size() == kHeadBytes)) {
    if (absl::StartsWith(head, kListOpsHeader)) {
      return InspectKind::kListOpsFile;
    }
    return InspectKind::kDatasetSpec;
  }
  return Invalid(path,
                 absl::StrCat("is not ", kKinds, ExtensionHint(path),
                              "; it starts with bytes ", HexBytes(head, 16)));
}

// ---- NeuronIO ----

NeuronioFileStats ComputeNeuronioStats(const NeuronioFile& file) {
  NeuronioFileStats s;
  s.path = file.path;
  s.num_simulations = static_cast<int64_t>(file.simulations.size());
  s.num_segments = file.params.num_segments();
  s.num_basal_segments = file.params.CountSegments("basal");
  s.num_apical_segments = file.params.CountSegments("apical");
  s.duration_ms = file.params.duration_ms;
  s.random_seed = file.params.random_seed;
  s.excitatory_synapse_type = file.params.excitatory_synapse_type;
  s.inhibitory_synapse_type = file.params.inhibitory_synapse_type;
  double soma_sum = 0;
  int64_t soma_count = 0, total_ms = 0;
  s.soma_min_mv = std::numeric_limits<double>::infinity();
  s.soma_max_mv = -std::numeric_limits<double>::infinity();
  for (const NeuronioSimulation& sim : file.simulations) {
    NeuronioSimulationStats ss;
    const int n = sim.num_segments;
    ss.excitatory_spikes = sim.channel_begin[n] - sim.channel_begin[0];
    ss.inhibitory_spikes = sim.channel_begin[2 * n] - sim.channel_begin[n];
    if (sim.duration_ms > 0) {
      ss.excitatory_per_ms =
          static_cast<double>(ss.excitatory_spikes) / sim.duration_ms;
      ss.inhibitory_per_ms =
          static_cast<double>(ss.inhibitory_spikes) / sim.duration_ms;
    }
    ss.output_spikes = static_cast<int64_t>(sim.output_spike_times_ms.size());
    double sum = 0;
    ss.soma_min_mv = std::numeric_limits<double>::infinity();
    ss.soma_max_mv = -std::numeric_limits<double>::infinity();
    for (float v : sim.soma_mv) {
      ss.soma_min_mv = std::min<double>(ss.soma_min_mv, v);
      ss.soma_max_mv = std::max<double>(ss.soma_max_mv, v);
      sum += v;
    }
    if (sim.soma_mv.empty()) {
      ss.soma_min_mv = ss.soma_max_mv = 0;
    } else {
      ss.soma_mean_mv = sum / sim.soma_mv.size();
      s.soma_min_mv = std::min(s.soma_min_mv, ss.soma_min_mv);
      s.soma_max_mv = std::max(s.soma_max_mv, ss.soma_max_mv);
    }
    soma_sum += sum;
    soma_count += static_cast<int64_t>(sim.soma_mv.size());
    total_ms += sim.duration_ms;
    s.excitatory_spikes += ss.excitatory_spikes;
    s.inhibitory_spikes += ss.inhibitory_spikes;
    s.output_spikes += ss.output_spikes;
    s.simulations.push_back(ss);
  }
  if (soma_count == 0) {
    s.soma_min_mv = s.soma_max_mv = 0;
  } else {
    s.soma_mean_mv = soma_sum / soma_count;
  }
  if (total_ms > 0) {
    s.excitatory_per_ms = static_cast<double>(s.excitatory_spikes) / total_ms;
    s.inhibitory_per_ms = static_cast<double>(s.inhibitory_spikes) / total_ms;
    s.output_rate_hz = s.output_spikes / (total_ms / 1000.0);
  }
  return s;
}

absl::StatusOr<NeuronioFileStats> InspectNeuronioFile(const std::string& path) {
  ASSIGN_OR_RETURN(NeuronioFile file, ReadNeuronioFile(path));
  return ComputeNeuronioStats(file);
}

std::string FormatNeuronioStats(const NeuronioFileStats& s,
                                int max_simulations) {
  std::string out = absl::StrCat(
      InspectKindName(InspectKind::kNeuronioFile), " ", s.path,
      "\n  simulations: ", s.num_simulations, "\n  segments: ", s.num_segments,
      " (basal ", s.num_basal_segments, ", apical ", s.num_apical_segments);
  const int64_t other =
      s.num_segments - s.num_basal_segments - s.num_apical_segments;
  if (other != 0) absl::StrAppend(&out, ", other ", other);
  absl::StrAppend(&out, ")\n  duration_ms: ", s.duration_ms, "\n");
  if (s.random_seed >= 0) {
    absl::StrAppend(&out, "  random_seed: ", s.random_seed, "\n");
  }
  if (!s.excitatory_synapse_type.empty() ||
      !s.inhibitory_synapse_type.empty()) {
    absl::StrAppend(&out, "  synapses: excitatory ", s.excitatory_synapse_type,
                    ", inhibitory ", s.inhibitory_synapse_type, "\n");
  }
  absl::StrAppend(&out, "  input spikes: excitatory ", s.excitatory_spikes,
                  ", inhibitory ", s.inhibitory_spikes, "\n");
  absl::StrAppendFormat(&out,
                        "  input spikes per ms (mean over all simulations): "
                        "excitatory %.3f, inhibitory %.3f\n",
                        s.excitatory_per_ms, s.inhibitory_per_ms);
  absl::StrAppendFormat(&out, "  output spikes: %d (%.3f Hz)\n",
                        s.output_spikes, s.output_rate_hz);
  absl::StrAppendFormat(&out, "  soma mV: min %.3f, max %.3f, mean %.3f\n",
                        s.soma_min_mv, s.soma_max_mv, s.soma_mean_mv);
  if (!s.simulations.empty()) {
    absl::StrAppend(&out, "  per simulation:\n");
  }
  const int64_t listed =
      std::min<int64_t>(std::max(max_simulations, 0), s.simulations.size());
  for (int64_t i = 0; i < listed; ++i) {
    const NeuronioSimulationStats& ss = s.simulations[i];
    absl::StrAppendFormat(
        &out,
        "    sim %d: input spikes per ms excitatory %.3f (%d), inhibitory "
        "%.3f (%d); output spikes %d; soma mV min %.3f, max %.3f, mean "
        "%.3f\n",
        i, ss.excitatory_per_ms, ss.excitatory_spikes, ss.inhibitory_per_ms,
        ss.inhibitory_spikes, ss.output_spikes, ss.soma_min_mv, ss.soma_max_mv,
        ss.soma_mean_mv);
  }
  if (listed < static_cast<int64_t>(s.simulations.size())) {
    absl::StrAppend(&out, "    ... ", s.simulations.size() - listed,
                    " more simulations\n");
  }
  return out;
}

// ---- SHD ----

absl::StatusOr<ShdFileStats> InspectShdFile(const std::string& path) {
  ShdFileStats s;
  s.path = path;
  s.label_counts.assign(kShdNumClasses, 0);
  std::vector<bool> unit_used(kShdNumUnits, false);
  std::set<int64_t> speakers;
  bool any_duration = false;
  RETURN_IF_ERROR(ForEachShdSample(path, [&](int64_t, const ShdSample& sample) {
    ++s.num_samples;
    ++s.label_counts[sample.label];
    if (sample.speaker >= 0) speakers.insert(sample.speaker);
    s.total_spikes += static_cast<int64_t>(sample.times_s.size());
    if (sample.times_s.empty()) {
      ++s.num_empty_samples;
      return absl::OkStatus();
    }
    double last = 0;
    for (size_t k = 0; k < sample.times_s.size(); ++k) {
      last = std::max(last, sample.times_s[k]);
      if (sample.times_s[k] >= 1.0) ++s.spikes_after_1s;
      unit_used[sample.units[k]] = true;
      s.max_unit = std::max<int64_t>(s.max_unit, sample.units[k]);
    }
    s.min_duration_s = any_duration ? std::min(s.min_duration_s, last) : last;
    s.max_duration_s = any_duration ? std::max(s.max_duration_s, last) : last;
    any_duration = true;
    return absl::OkStatus();
  }));
  s.channels_used = std::count(unit_used.begin(), unit_used.end(), true);
  if (s.num_samples > 0) {
    s.spikes_per_sample = static_cast<double>(s.total_spikes) / s.num_samples;
  }
  s.has_speakers = !speakers.empty();
  s.num_speakers = static_cast<int64_t>(speakers.size());
  return s;
}

std::string FormatShdStats(const ShdFileStats& s) {
  std::string out = absl::StrCat(InspectKindName(InspectKind::kShdFile), " ",
                                 s.path, "\n  samples: ", s.num_samples);
  if (s.num_empty_samples > 0) {
    absl::StrAppend(&out, " (", s.num_empty_samples, " without spikes)");
  }
  absl::StrAppend(&out, "\n  channels used: ", s.channels_used, " of ",
                  kShdNumUnits);
  if (s.max_unit >= 0)
    absl::StrAppend(&out, " (largest unit ", s.max_unit, ")");
  absl::StrAppendFormat(&out,
                        "\n  sample duration (last spike time): min %.3f s, "
                        "max %.3f s\n",
                        s.min_duration_s, s.max_duration_s);
  absl::StrAppendFormat(&out, "  spikes: %d total, %.1f per sample (mean)\n",
                        s.total_spikes, s.spikes_per_sample);
  absl::StrAppend(&out, "  spikes at or after 1 s (dropped at max_time_s 1): ",
                  s.spikes_after_1s, "\n");
  std::vector<std::string> hist;
  for (size_t label = 0; label < s.label_counts.size(); ++label) {
    if (s.label_counts[label] > 0) {
      hist.push_back(absl::StrCat(label, ": ", s.label_counts[label]));
    }
  }
  absl::StrAppend(&out, "  classes: ", hist.size(), " of ",
                  s.label_counts.size(), " present; samples per label: ",
                  hist.empty() ? "(none)" : absl::StrJoin(hist, ", "), "\n");
  if (s.has_speakers) {
    absl::StrAppend(&out, "  speakers: ", s.num_speakers, "\n");
  } else {
    absl::StrAppend(&out, "  speakers: (no extra/speaker in the file)\n");
  }
  return out;
}

// ---- ListOps ----

namespace {

// "0: 12, 3: 4" for the nonzero counts.
std::string Histogram(const std::vector<int64_t>& counts) {
  std::vector<std::string> parts;
  for (size_t label = 0; label < counts.size(); ++label) {
    if (counts[label] > 0) {
      parts.push_back(absl::StrCat(label, ": ", counts[label]));
    }
  }
  return parts.empty() ? "(none)" : absl::StrJoin(parts, ", ");
}

// The deepest leaf of a token sequence, the root operator at depth 1.
int ListOpsDepth(const std::vector<int32_t>& tokens) {
  int open = 0, deepest = 0;
  for (int32_t t : tokens) {
    if (t >= kListOpsMin && t <= kListOpsSm) {
      ++open;
    } else if (t == kListOpsClose) {
      --open;
    } else {
      deepest = std::max(deepest, open + 1);
    }
  }
  return deepest;
}

}  // namespace

ListOpsFileStats ComputeListOpsStats(const std::string& path,
                                     const std::vector<ListOpsExample>& ex) {
  ListOpsFileStats s;
  s.path = path;
  s.num_examples = static_cast<int64_t>(ex.size());
  s.label_counts.assign(kListOpsNumClasses, 0);
  int64_t total = 0;
  for (size_t i = 0; i < ex.size(); ++i) {
    const int64_t n = static_cast<int64_t>(ex[i].tokens.size());
    s.min_length = i == 0 ? n : std::min(s.min_length, n);
    s.max_length = std::max(s.max_length, n);
    total += n;
    if (ex[i].label >= 0 && ex[i].label < kListOpsNumClasses) {
      ++s.label_counts[ex[i].label];
    }
    s.max_depth = std::max(s.max_depth, ListOpsDepth(ex[i].tokens));
  }
  if (!ex.empty()) s.mean_length = static_cast<double>(total) / ex.size();
  return s;
}

absl::StatusOr<ListOpsFileStats> InspectListOpsFile(const std::string& path) {
  ASSIGN_OR_RETURN(const std::vector<ListOpsExample> examples,
                   ReadListOpsTsv(path));
  return ComputeListOpsStats(path, examples);
}

std::string FormatListOpsStats(const ListOpsFileStats& s) {
  std::string out =
      absl::StrCat(InspectKindName(InspectKind::kListOpsFile), " ", s.path,
                   "\n  examples: ", s.num_examples, "\n");
  absl::StrAppendFormat(&out, "  length (tokens): min %d, mean %.1f, max %d\n",
                        s.min_length, s.mean_length, s.max_length);
  absl::StrAppend(&out, "  max depth: ", s.max_depth,
                  "\n  labels: ", Histogram(s.label_counts), "\n");
  return out;
}

// ---- IDX ----

absl::StatusOr<IdxFileStats> InspectIdxFile(const std::string& path) {
  ASSIGN_OR_RETURN(const IdxArray array, ReadIdxFile(path));
  IdxFileStats s;
  s.path = path;
  s.dims = array.dims;
  s.count = array.dims.empty() ? 0 : array.dims[0];
  s.is_labels = array.dims.size() == 1;
  if (s.is_labels) {
    s.label_counts.assign(kFashionMnistNumClasses, 0);
    for (uint8_t v : array.data) {
      if (v < kFashionMnistNumClasses) {
        ++s.label_counts[v];
      } else {
        ++s.labels_out_of_range;
      }
    }
  } else if (!array.data.empty()) {
    double sum = 0;
    for (uint8_t v : array.data) sum += v;
    s.mean_pixel = sum / array.data.size();
  }
  return s;
}

std::string FormatIdxStats(const IdxFileStats& s) {
  std::string out = absl::StrCat(
      InspectKindName(InspectKind::kIdxFile), " ", s.path,
      s.is_labels ? " (labels)" : " (images)", "\n  count: ", s.count,
      "\n  dims: ", absl::StrJoin(s.dims, " x "), "\n");
  if (s.is_labels) {
    absl::StrAppend(&out, "  labels: ", Histogram(s.label_counts), "\n");
    if (s.labels_out_of_range > 0) {
      absl::StrAppend(&out, "  labels outside 0..", kFashionMnistNumClasses - 1,
                      ": ", s.labels_out_of_range, "\n");
    }
  } else {
    absl::StrAppendFormat(&out, "  mean pixel: %.3f (of 255)\n", s.mean_pixel);
  }
  return out;
}

// ---- Dataset specs ----

namespace {

// Whether a NeuronIO file fits the spec's sampler (what Next() would reject).
std::string NeuronioSpecCheck(const NeuronioFileStats& f,
                              const NeuronioSpec& spec) {
  std::vector<std::string> problems;
  if (f.num_segments != kNeuronioNumSegments) {
    problems.push_back(
        absl::StrCat(f.num_segments, " segments, not ", kNeuronioNumSegments));
  }
  if (spec.window_ms() + spec.ignore_start_ms() >= f.duration_ms) {
    problems.push_back(
        absl::StrCat("window_ms ", spec.window_ms(), " + ignore_start_ms ",
                     spec.ignore_start_ms(), " is not below the duration ",
                     f.duration_ms, " ms"));
  }
  if (f.num_simulations == 0) problems.push_back("no simulations");
  if (problems.empty()) {
    return absl::StrCat("  fits the spec: ", kNeuronioNumSegments,
                        " segments, window_ms ", spec.window_ms(),
                        " + ignore_start_ms ", spec.ignore_start_ms(), " < ",
                        f.duration_ms, " ms\n");
  }
  return absl::StrCat(
      "  DOES NOT FIT THE SPEC: ", absl::StrJoin(problems, "; "), "\n");
}

}  // namespace

namespace {

constexpr char kListOpsFiles[3][16] = {"basic_train.tsv", "basic_val.tsv",
                                       "basic_test.tsv"};

// Validates a NeuronIO `generate` spec as MakeGeneratedNeuronioDataset does,
// without generating anything, and describes it.
absl::Status DescribeGeneratedNeuronio(const NeuronioSpec& spec,
                                       DatasetSpecStats* s) {
  RETURN_IF_ERROR(ValidateNeuronioSpec(spec));
  const NeuronioGeneratorSpec& g = spec.generate();
  if (spec.train_files_size() + spec.valid_files_size() +
          spec.test_files_size() >
      0) {
    return absl::InvalidArgumentError(
        "NeuronioSpec: train_files, valid_files and test_files must be empty "
        "when `generate` is set");
  }
  const int64_t counts[3] = {g.num_train_files(), g.num_valid_files(),
                             g.num_test_files()};
  const char* fields[3] = {"num_train_files", "num_valid_files",
                           "num_test_files"};
  for (int i = 0; i < 3; ++i) {
    if (counts[i] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("NeuronioGeneratorSpec.", fields[i],
                       " must be >= 0, got ", counts[i]));
    }
    s->splits[i].generated_files = counts[i];
  }
  if (g.simulations_per_file() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("NeuronioGeneratorSpec.simulations_per_file must be > 0, "
                     "got ",
                     g.simulations_per_file()));
  }
  if (g.duration_ms() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("NeuronioGeneratorSpec.duration_ms must be > 0, got ",
                     g.duration_ms()));
  }
  if (spec.window_ms() + spec.ignore_start_ms() >= g.duration_ms()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "NeuronioSpec.window_ms ", spec.window_ms(), " + ignore_start_ms ",
        spec.ignore_start_ms(),
        " is not below NeuronioGeneratorSpec.duration_ms ", g.duration_ms()));
  }
  RETURN_IF_ERROR(
      ValidateNeuronioGeneratorOptions(NeuronioGeneratorOptionsFromSpec(g)));
  s->info.name = "neuronio";
  s->info.input_dim = kNeuronioInputDim;
  s->info.steps = spec.window_ms();
  s->info.num_classes = 0;
  s->info.delta_t_ms = 1;
  s->generated = absl::StrCat(
      "  generated in memory: ", g.simulations_per_file(),
      " simulations per file, ", g.duration_ms(), " ms each, teacher ",
      NeuronioGeneratorSpec::Teacher_Name(g.teacher()), ", ",
      kNeuronioNumSegments, " segments\n",
      "  (//data:generate_neuronio writes such files as .elmnio)\n");
  return absl::OkStatus();
}

// Validates a ListOps spec without data_dir as GenerateListOps and
// ListOpsDataset do, without generating anything, and describes it.
absl::Status DescribeGeneratedListOps(const DatasetSpec& spec,
                                      DatasetSpecStats* s) {
  const ListOpsSpec& l = spec.listops();
  ListOpsGeneratorOptions options;
  options.num_train = l.num_train();
  options.num_valid = l.num_valid();
  options.num_test = l.num_test();
  options.seed = spec.seed();
  RETURN_IF_ERROR(ValidateListOpsGeneratorOptions(options));
  if (l.steps() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ListOpsSpec.steps must be > 0, got ", l.steps()));
  }
  s->info.name = "listops";
  s->info.input_dim = kListOpsVocabSize;
  s->info.steps = l.steps();
  s->info.num_classes = kListOpsNumClasses;
  s->info.delta_t_ms = 1;
  s->splits[0].num_samples = l.num_train();
  s->splits[1].num_samples = l.num_valid();
  s->splits[2].num_samples = l.num_test();
  s->generated = absl::StrCat(
      "  generated in memory with the LRA algorithm (seed ", spec.seed(),
      "): lengths in (", options.min_length, ", ", options.max_length,
      ") tokens, max depth ", options.max_depth, ", 2 to ", options.max_args,
      " arguments\n");
  if (l.steps() < options.max_length - 1) {
    absl::StrAppend(&s->generated, "  WARNING: steps ", l.steps(),
                    " is below the longest possible expression (",
                    options.max_length - 1,
                    " tokens); a longer one is an error\n");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DatasetSpecStats> InspectDatasetSpec(
    const std::string& path, const InspectOptions& options) {
  DatasetSpecStats s;
  s.path = path;
  ASSIGN_OR_RETURN(DatasetSpec spec, ReadDatasetSpecFile(path));
  s.kind = DatasetKindName(spec);
  s.seed = spec.seed();
  auto prefixed = [&](const absl::Status& st) {
    return absl::Status(
        st.code(), absl::StrCat("dataset spec '", path, "': ", st.message()));
  };
  const Split splits[3] = {Split::kTrain, Split::kValid, Split::kTest};
  for (Split split : splits) {
    SplitSummary summary;
    summary.split = split;
    s.splits.push_back(std::move(summary));
  }

  const bool generated_neuronio =
      spec.has_neuronio() && spec.neuronio().has_generate();
  const bool generated_listops =
      spec.has_listops() && spec.listops().data_dir().empty();
  if (generated_neuronio || generated_listops) {
    const absl::Status st = generated_neuronio
                                ? DescribeGeneratedNeuronio(spec.neuronio(), &s)
                                : DescribeGeneratedListOps(spec, &s);
    if (!st.ok()) return prefixed(st);
    return s;
  }

  absl::StatusOr<std::unique_ptr<Dataset>> dataset = MakeDataset(spec);
  if (!dataset.ok()) return prefixed(dataset.status());
  s.info = (*dataset)->info();

  for (SplitSummary& summary : s.splits) {
    const Split split = summary.split;
    if (spec.has_neuronio()) {
      const auto* d = dynamic_cast<const NeuronioDataset*>(dataset->get());
      if (d != nullptr) summary.files = d->files(split);
    } else if (spec.has_shd()) {
      const auto* d = dynamic_cast<const ShdDataset*>(dataset->get());
      if (d != nullptr) summary.num_samples = d->num_samples(split);
      summary.files = {ResolveUserPath(split == Split::kTest
                                           ? spec.shd().test_file()
                                           : spec.shd().train_file())};
    } else if (spec.has_listops()) {
      const auto* d = dynamic_cast<const ListOpsDataset*>(dataset->get());
      if (d != nullptr) summary.num_samples = d->examples(split).size();
      summary.files = {absl::StrCat(ResolveUserPath(spec.listops().data_dir()),
                                    "/",
                                    kListOpsFiles[static_cast<int>(split)])};
    } else if (spec.has_fashion_mnist()) {
      const auto* d = dynamic_cast<const FashionMnistDataset*>(dataset->get());
      if (d != nullptr) summary.num_samples = d->size(split);
      const std::string dir = ResolveUserPath(spec.fashion_mnist().dir());
      const std::string prefix = split == Split::kTest ? "t10k" : "train";
      summary.files = {
          FashionMnistPath(dir, absl::StrCat(prefix, "-images-idx3-ubyte")),
          FashionMnistPath(dir, absl::StrCat(prefix, "-labels-idx1-ubyte"))};
    } else if (spec.has_pathfinder()) {
      summary.num_samples = (*dataset)->num_sequences(split);  // generated
    }
  }

  // The files to summarize, each once, with the splits that use it.
  std::vector<std::pair<std::string, std::vector<std::string>>> files;
  for (const SplitSummary& summary : s.splits) {
    const int n = std::min<int>(std::max(options.max_files, 0),
                                static_cast<int>(summary.files.size()));
    for (int i = 0; i < n; ++i) {
      auto it = std::find_if(files.begin(), files.end(), [&](const auto& f) {
        return f.first == summary.files[i];
      });
      if (it == files.end()) {
        files.push_back({summary.files[i], {}});
        it = files.end() - 1;
      }
      it->second.push_back(SplitName(summary.split));
    }
  }
  for (const auto& [file, split_names] : files) {
    absl::StrAppend(&s.files_report, "\n[", absl::StrJoin(split_names, ", "),
                    "] ");
    if (spec.has_neuronio()) {
      absl::StatusOr<NeuronioFileStats> f = InspectNeuronioFile(file);
      if (!f.ok()) return prefixed(f.status());
      absl::StrAppend(&s.files_report, FormatNeuronioStats(*f),
                      NeuronioSpecCheck(*f, spec.neuronio()));
      s.neuronio_files.push_back(*std::move(f));
    } else if (spec.has_shd()) {
      absl::StatusOr<ShdFileStats> f = InspectShdFile(file);
      if (!f.ok()) return prefixed(f.status());
      absl::StrAppend(&s.files_report, FormatShdStats(*f));
      s.shd_files.push_back(*std::move(f));
    } else if (spec.has_listops()) {
      absl::StatusOr<ListOpsFileStats> f = InspectListOpsFile(file);
      if (!f.ok()) return prefixed(f.status());
      absl::StrAppend(&s.files_report, FormatListOpsStats(*f));
      s.listops_files.push_back(*std::move(f));
    } else if (spec.has_fashion_mnist()) {
      absl::StatusOr<IdxFileStats> f = InspectIdxFile(file);
      if (!f.ok()) return prefixed(f.status());
      absl::StrAppend(&s.files_report, FormatIdxStats(*f));
      s.idx_files.push_back(*std::move(f));
    }
  }
  return s;
}

std::string FormatDatasetSpecStats(const DatasetSpecStats& s,
                                   const InspectOptions& options) {
  std::string out = absl::StrCat(
      InspectKindName(InspectKind::kDatasetSpec), " ", s.path,
      "\n  kind: ", s.kind, "\n  seed: ", s.seed, "\n  steps: ", s.info.steps);
  absl::StrAppendFormat(&out, " (%g ms each)", s.info.delta_t_ms);
  absl::StrAppend(&out, "\n  input_dim: ", s.info.input_dim,
                  "\n  classes: ", s.info.num_classes);
  if (s.info.num_classes == 0) {
    absl::StrAppend(&out, " (per-step spike and soma targets)");
  }
  absl::StrAppend(&out, "\n");
  absl::StrAppend(&out, s.generated);
  for (const SplitSummary& split : s.splits) {
    absl::StrAppend(&out, "  ", SplitName(split.split), ": ");
    if (split.files.empty()) {
      if (split.generated_files >= 0) {
        absl::StrAppend(&out, split.generated_files,
                        split.generated_files == 1 ? " file" : " files",
                        " to generate\n");
      } else if (split.num_samples >= 0) {
        absl::StrAppend(&out, split.num_samples,
                        split.num_samples == 1 ? " example" : " examples",
                        " to generate\n");
      } else {
        absl::StrAppend(&out, "no files\n");
      }
      continue;
    }
    absl::StrAppend(&out, split.files.size(),
                    split.files.size() == 1 ? " file" : " files");
    if (split.num_samples >= 0) {
      absl::StrAppend(&out, ", ", split.num_samples,
                      split.num_samples == 1 ? " sample" : " samples");
      if (s.kind == "listops") {
        // Each split has its own file.
      } else if (split.split == Split::kValid) {
        absl::StrAppend(&out, " held out of the train file");
      } else if (split.split == Split::kTrain) {
        absl::StrAppend(&out, " after the valid hold-out");
      }
    }
    const size_t listed = std::min<size_t>(
        std::max(options.max_listed_files, 0), split.files.size());
    std::vector<std::string> names(split.files.begin(),
                                   split.files.begin() + listed);
    absl::StrAppend(&out, ": ", absl::StrJoin(names, ", "));
    if (listed < split.files.size()) {
      absl::StrAppend(&out, ", ... (", split.files.size() - listed, " more)");
    }
    absl::StrAppend(&out, "\n");
  }
  if (!s.files_report.empty()) {
    absl::StrAppend(&out, "\nfirst ", options.max_files,
                    options.max_files == 1 ? " file" : " files",
                    " of each split (--max_files=N for more):\n",
                    s.files_report);
  }
  return out;
}

// ---- Any of them ----

absl::StatusOr<InspectReport> Inspect(const std::string& path,
                                      const InspectOptions& options) {
  InspectReport report;
  ASSIGN_OR_RETURN(report.kind, DetectInspectKind(path));
  switch (report.kind) {
    case InspectKind::kNeuronioFile: {
      ASSIGN_OR_RETURN(report.neuronio, InspectNeuronioFile(path));
      report.text = FormatNeuronioStats(*report.neuronio);
      break;
    }
    case InspectKind::kShdFile: {
      ASSIGN_OR_RETURN(report.shd, InspectShdFile(path));
      report.text = FormatShdStats(*report.shd);
      break;
    }
    case InspectKind::kListOpsFile: {
      ASSIGN_OR_RETURN(report.listops, InspectListOpsFile(path));
      report.text = FormatListOpsStats(*report.listops);
      break;
    }
    case InspectKind::kIdxFile: {
      ASSIGN_OR_RETURN(report.idx, InspectIdxFile(path));
      report.text = FormatIdxStats(*report.idx);
      break;
    }
    case InspectKind::kDatasetSpec: {
      absl::StatusOr<DatasetSpecStats> spec = InspectDatasetSpec(path, options);
      if (!spec.ok()) {
        if (absl::StrContains(spec.status().message(),
                              "is not a valid elm.DatasetSpec")) {
          // A text file: maybe not meant as a spec at all.
          return absl::Status(spec.status().code(),
                              absl::StrCat(spec.status().message(),
                                           " (inspect takes ", kKinds, ")"));
        }
        return spec.status();
      }
      report.text = FormatDatasetSpecStats(*spec, options);
      report.spec = *std::move(spec);
      break;
    }
  }
  return report;
}

}  // namespace elm
