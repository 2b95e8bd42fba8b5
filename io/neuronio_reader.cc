// The NeuronIO pickle reader: see neuronio_reader.h.
#include "io/neuronio_reader.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/types/span.h"
#include "base/status_macros.h"
#include "glog/logging.h"
#include "io/neuronio_compact.h"
#include "io/pickle.h"

namespace elm {
namespace {

constexpr char kSimsKey[] = "Results.listOfSingleSimulationDicts";

absl::Status Invalid(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

// ---- Reading (and gunzipping) the pickle ----

// A file descriptor closed on destruction.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Gunzips `path` into an unlinked temporary file, returned open in *fd.
absl::Status GunzipToTempFile(const std::string& path,
                              std::unique_ptr<Fd>* fd) {
  gzFile gz = gzopen(path.c_str(), "rb");
  if (gz == nullptr) {
    const int err = errno;
    const std::string message =
        absl::StrCat("cannot open ", path, ": ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(message)
                         : absl::PermissionDeniedError(message);
  }
  const char* tmpdir = std::getenv("TMPDIR");
  std::string name =
      absl::StrCat(tmpdir != nullptr && tmpdir[0] != '\0' ? tmpdir : "/tmp",
                   "/elm_neuronio_XXXXXX");
  const int raw_fd = mkstemp(name.data());
  if (raw_fd < 0) {
    const int err = errno;
    gzclose(gz);
    return absl::InternalError(
        absl::StrCat(path, ": cannot create ", name,
                     " to gunzip into: ", std::strerror(err)));
  }
  unlink(name.c_str());
  auto out = std::make_unique<Fd>(raw_fd);
  constexpr int kChunk = 1 << 20;
  std::unique_ptr<char[]> buffer(new char[kChunk]);
  while (true) {
    const int n = gzread(gz, buffer.get(), kChunk);
    if (n < 0) break;
    for (int done = 0; done < n;) {
      const ssize_t w = write(out->get(), buffer.get() + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        const int err = errno;
        gzclose(gz);
        return absl::InternalError(
            absl::StrCat(path, ": cannot write the gunzipped data to ", name,
                         ": ", std::strerror(err)));
      }
      done += static_cast<int>(w);
    }
    if (n == 0) break;
  }
  int errnum = Z_OK;
  const char* message = gzerror(gz, &errnum);
  const std::string error = errnum == Z_OK ? "" : message;
  gzclose(gz);
  if (errnum == Z_BUF_ERROR) {
    return Invalid(path, "gzip data truncated (unexpected end of file)");
  }
  if (errnum != Z_OK) return Invalid(path, absl::StrCat("gunzip: ", error));
  *fd = std::move(out);
  return absl::OkStatus();
}

// Unpickles `path`, through a temporary file when it ends in ".gz".
absl::StatusOr<Pickle> ReadPickle(const std::string& path,
                                  UnpickleOptions options) {
  options.skip_keys = NeuronioSkippedKeys();
  if (!absl::EndsWith(path, ".gz")) return ReadPickleFile(path, options);
  std::unique_ptr<Fd> fd;
  RETURN_IF_ERROR(GunzipToTempFile(path, &fd));
  const std::string proc = absl::StrCat("/proc/self/fd/", fd->get());
  absl::StatusOr<Pickle> pickle = ReadPickleFile(proc, options);
  if (!pickle.ok()) {
    // Name the user's file, not the temporary one.
    return absl::Status(
        pickle.status().code(),
        absl::StrReplaceAll(pickle.status().message(),
                            {{proc, absl::StrCat(path, " (gunzipped)")}}));
  }
  return pickle;
}

// ---- Converting the value tree ----

// Numbers of a numeric array or of a list/tuple of ints and floats.
absl::StatusOr<std::vector<double>> Numbers(const PickleValue& v) {
  std::vector<double> out;
  if (v.is_array()) {
    const NdArray& a = v.array();
    if (a.data_skipped()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the data of ", a.Description(), " were not read"));
    }
    if (a.shape().size() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected a 1-D array, got ", a.Description()));
    }
    return a.ToDoubles();
  }
  if (v.is_list() || v.is_tuple()) {
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      const PickleValue item = v.item(i);
      if (!item.is_int() && !item.is_float()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "item ", i, " is a ", item.TypeName(), ", not a number"));
      }
      out.push_back(item.AsNumber());
    }
    return out;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "expected an array or a list of numbers, got ", v.TypeName()));
}

// Integers of an integer array or of a list/tuple of ints.
absl::StatusOr<std::vector<int64_t>> Integers(const PickleValue& v) {
  if (v.is_array()) {
    const NdArray& a = v.array();
    if (a.data_skipped() || a.shape().size() != 1 ||
        a.type() == NumpyType::kFloat16 || a.type() == NumpyType::kFloat32 ||
        a.type() == NumpyType::kFloat64 || a.type() == NumpyType::kBool) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected a 1-D integer array, got ", a.Description()));
    }
    return a.ToInt64s();
  }
  if (v.is_list() || v.is_tuple()) {
    std::vector<int64_t> out;
    const size_t i = v.AppendLeadingInts(&out);
    if (i < v.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "item ", i, " is a ", v.item(i).TypeName(), ", not an int"));
    }
    return out;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("expected a list or array of ints, got ", v.TypeName()));
}

// Names the place of a problem in one file: "<path>: <prefix><key>: <what>".
class Context {
 public:
  Context(const std::string& path, std::string prefix)
      : path_(path), prefix_(std::move(prefix)) {}

  absl::Status Error(absl::string_view key, absl::string_view what) const {
    if (key.empty()) return Invalid(path_, absl::StrCat(prefix_, what));
    return Invalid(path_, absl::StrCat(prefix_, key, ": ", what));
  }
  absl::Status Error(absl::string_view key, const absl::Status& s) const {
    return Error(key, s.message());
  }
  // The value of `key` in `dict`, which must be present.
  absl::StatusOr<PickleValue> Require(const PickleValue& dict,
                                      absl::string_view key) const {
    std::optional<PickleValue> v = dict.Find(key);
    if (!v.has_value()) return Error(key, "missing key");
    return *v;
  }
  absl::StatusOr<PickleValue> RequireDict(const PickleValue& dict,
                                          absl::string_view key) const {
    ASSIGN_OR_RETURN(PickleValue v, Require(dict, key));
    if (!v.is_dict()) {
      return Error(key, absl::StrCat("expected a dict, got ", v.TypeName()));
    }
    return v;
  }

 private:
  const std::string& path_;
  const std::string prefix_;
};

// The Params dict.
absl::StatusOr<NeuronioParams> ConvertParamsDict(const PickleValue& params,
                                                 const std::string& path) {
  const Context ctx(path, "Params.");
  NeuronioParams out;

  ASSIGN_OR_RETURN(const PickleValue types,
                   ctx.Require(params, "allSegmentsType"));
  if (!types.is_list() && !types.is_tuple()) {
    return ctx.Error("allSegmentsType",
                     absl::StrCat("expected a list, got ", types.TypeName()));
  }
  if (types.size() == 0) return ctx.Error("allSegmentsType", "empty");
  for (size_t i = 0; i < types.size(); ++i) {
    const PickleValue t = types.item(i);
    if (!t.is_string() || t.is_skipped()) {
      return ctx.Error(
          "allSegmentsType",
          absl::StrCat("item ", i, " is a ", t.TypeName(), ", not a string"));
    }
    out.segment_types.emplace_back(t.AsString());
  }

  ASSIGN_OR_RETURN(const PickleValue seconds,
                   ctx.Require(params, "totalSimDurationInSec"));
  if (!seconds.is_int() && !seconds.is_float()) {
    return ctx.Error(
        "totalSimDurationInSec",
        absl::StrCat("expected a number, got ", seconds.TypeName()));
  }
  // An int in the released files; a float is taken when it is a whole number
  // of ms up to rounding (0.4 s · 1000 = 400.00000000000006).
  const double ms = seconds.AsNumber() * 1000.0;
  const double whole = std::round(ms);
  if (!(whole >= 1 && whole <= 1e9) || std::abs(ms - whole) > 1e-6) {
    return ctx.Error("totalSimDurationInSec",
                     absl::StrCat(seconds.DebugString(),
                                  " s is not a positive whole number of ms"));
  }
  out.duration_ms = static_cast<int64_t>(whole);

  if (std::optional<PickleValue> d = params.Find("allSegments_DistFromSoma")) {
    absl::StatusOr<std::vector<double>> dist = Numbers(*d);
    if (!dist.ok()) return ctx.Error("allSegments_DistFromSoma", dist.status());
    if (dist->size() != out.segment_types.size()) {
      return ctx.Error(
          "allSegments_DistFromSoma",
          absl::StrCat(dist->size(), " entries; allSegmentsType has ",
                       out.segment_types.size()));
    }
    out.segment_dist_from_soma = std::move(*dist);
  }
  if (std::optional<PickleValue> s = params.Find("randomSeed")) {
    if (s->is_int()) out.random_seed = s->AsInt();
  }
  if (std::optional<PickleValue> s = params.Find("excitatorySynapseType")) {
    if (s->is_string() && !s->is_skipped()) {
      out.excitatory_synapse_type = std::string(s->AsString());
    }
  }
  if (std::optional<PickleValue> s = params.Find("inhibitorySynapseType")) {
    if (s->is_string() && !s->is_skipped()) {
      out.inhibitory_synapse_type = std::string(s->AsString());
    }
  }
  return out;
}

absl::StatusOr<NeuronioParams> ConvertParams(const PickleValue& root,
                                             const std::string& path) {
  const Context file(path, "");
  ASSIGN_OR_RETURN(const PickleValue params, file.RequireDict(root, "Params"));
  return ConvertParamsDict(params, path);
}

bool SameParams(const NeuronioParams& a, const NeuronioParams& b) {
  return a.segment_types == b.segment_types && a.duration_ms == b.duration_ms &&
         a.segment_dist_from_soma == b.segment_dist_from_soma &&
         a.random_seed == b.random_seed &&
         a.excitatory_synapse_type == b.excitatory_synapse_type &&
         a.inhibitory_synapse_type == b.inhibitory_synapse_type;
}

// The spike times of each input channel of a simulation while it is
// converted: views of the parse's packed ints (PickleValue::PackedInts) or of
// converted lists and arrays (kept in `owned`), checked, not yet copied.
struct ChannelTimes {
  std::vector<absl::Span<const int64_t>> times;
  std::vector<std::vector<int64_t>> owned;
};

// Checks the spikes of one spike-time dict (segment → times) and points
// channels offset + segment of *channels at them.
absl::Status ConvertSpikeDict(const PickleValue& sim, absl::string_view key,
                              int offset, const NeuronioParams& params,
                              const Context& ctx, ChannelTimes* channels) {
  ASSIGN_OR_RETURN(const PickleValue dict, ctx.RequireDict(sim, key));
  const int segments = params.num_segments();
  std::vector<bool> seen(segments, false);
  for (size_t i = 0; i < dict.size(); ++i) {
    const PickleValue k = dict.key(i);
    if (!k.is_int()) {
      return ctx.Error(key, absl::StrCat("key ", i, " is a ", k.TypeName(),
                                         ", not a segment index"));
    }
    const int64_t segment = k.AsInt();
    if (segment < 0 || segment >= segments) {
      return ctx.Error(key, absl::StrCat("segment index ", segment,
                                         " outside [0, ", segments, ")"));
    }
    if (seen[segment]) {
      return ctx.Error(key, absl::StrCat("segment ", segment, " listed twice"));
    }
    seen[segment] = true;
    const PickleValue value = dict.value(i);
    absl::Span<const int64_t> times;
    if (std::optional<absl::Span<const int64_t>> packed = value.PackedInts()) {
      times = *packed;
    } else {
      absl::StatusOr<std::vector<int64_t>> converted = Integers(value);
      if (!converted.ok()) {
        return ctx.Error(key, absl::StrCat("segment ", segment, ": ",
                                           converted.status().message()));
      }
      channels->owned.push_back(*std::move(converted));
      times = channels->owned.back();
    }
    // Every time in [0, duration): one unsigned comparison each.
    const uint64_t duration = static_cast<uint64_t>(params.duration_ms);
    bool outside = false;
    for (int64_t t : times) outside |= static_cast<uint64_t>(t) >= duration;
    if (outside) {
      for (int64_t t : times) {
        if (t < 0 || t >= params.duration_ms) {
          return ctx.Error(key,
                           absl::StrCat("segment ", segment, ": spike time ", t,
                                        " ms outside [0, ", params.duration_ms,
                                        ") (Params.totalSimDurationInSec)"));
        }
      }
    }
    channels->times[offset + segment] = times;
  }
  return absl::OkStatus();
}

absl::StatusOr<NeuronioSimulation> ConvertSimulation(
    const PickleValue& sim, int index, const NeuronioParams& params,
    const std::string& path) {
  const Context ctx(path, absl::StrCat("simulation ", index, " (", kSimsKey,
                                       "[", index, "]): "));
  if (!sim.is_dict()) {
    return ctx.Error("", absl::StrCat("expected a dict, got ", sim.TypeName()));
  }
  NeuronioSimulation out;
  out.num_segments = params.num_segments();
  out.duration_ms = params.duration_ms;

  ChannelTimes channels;
  channels.times.resize(out.input_dim());
  RETURN_IF_ERROR(
      ConvertSpikeDict(sim, "exInputSpikeTimes", 0, params, ctx, &channels));
  RETURN_IF_ERROR(ConvertSpikeDict(sim, "inhInputSpikeTimes", out.num_segments,
                                   params, ctx, &channels));
  out.channel_begin.resize(out.input_dim() + 1);
  int64_t total = 0;
  for (int c = 0; c < out.input_dim(); ++c) {
    out.channel_begin[c] = total;
    total += channels.times[c].size();
  }
  out.channel_begin[out.input_dim()] = total;
  // Copied straight into place (checked above: each fits an int32).
  out.channel_times.resize(total);
  int32_t* to = out.channel_times.data();
  for (const absl::Span<const int64_t> times : channels.times) {
    for (size_t k = 0; k < times.size(); ++k) {
      to[k] = static_cast<int32_t>(times[k]);
    }
    to += times.size();
  }
  IndexNeuronioSteps(&out);

  ASSIGN_OR_RETURN(const PickleValue spikes,
                   ctx.Require(sim, "outputSpikeTimes"));
  absl::StatusOr<std::vector<double>> times = Numbers(spikes);
  if (!times.ok()) return ctx.Error("outputSpikeTimes", times.status());
  for (size_t i = 0; i < times->size(); ++i) {
    const double t = (*times)[i];
    if (!std::isfinite(t) || t < 0 ||
        !(t - 0.5 < static_cast<double>(out.duration_ms))) {
      return ctx.Error("outputSpikeTimes",
                       absl::StrCat("spike ", i, " at ", t,
                                    " ms: its step int(t - 0.5) "
                                    "is outside [0, ",
                                    out.duration_ms, ")"));
    }
    out.output_spike_steps.push_back(NeuronioSpikeStep(t));
  }
  out.output_spike_times_ms = std::move(*times);

  ASSIGN_OR_RETURN(const PickleValue soma,
                   ctx.Require(sim, "somaVoltageLowRes"));
  absl::StatusOr<std::vector<double>> volts = Numbers(soma);
  if (!volts.ok()) return ctx.Error("somaVoltageLowRes", volts.status());
  if (static_cast<int64_t>(volts->size()) != out.duration_ms) {
    return ctx.Error(
        "somaVoltageLowRes",
        absl::StrCat(volts->size(), " samples; expected ", out.duration_ms,
                     " (one per ms of Params.totalSimDurationInSec)"));
  }
  out.soma_mv.resize(volts->size());
  for (size_t t = 0; t < volts->size(); ++t) {
    if (!std::isfinite((*volts)[t])) {
      return ctx.Error("somaVoltageLowRes",
                       absl::StrCat("sample ", t, " is ", (*volts)[t]));
    }
    out.soma_mv[t] = static_cast<float>((*volts)[t]);
  }
  return out;
}

// The simulations converted while the pickle is parsed
// (UnpickleOptions::stream_item): the Params dict is found on the parse stack
// (in the released files Params is written before Results); a simulation
// that does not convert is left in the tree, where the final pass meets it
// and gives its error, in file order.
struct Streamed {
  std::optional<NeuronioParams> params;
  bool stop = false;
  std::vector<std::optional<NeuronioSimulation>> sims;
};

UnpickleOptions StreamingOptions(const std::string& path, Streamed* streamed) {
  UnpickleOptions options;
  options.stream_list_key = "listOfSingleSimulationDicts";
  options.stream_restart = [streamed] { *streamed = Streamed(); };
  options.stream_item =
      [&path, streamed](
          size_t index, const PickleValue& item,
          const std::function<std::optional<PickleValue>(absl::string_view)>&
              stack_value) {
        if (streamed->stop) return false;
        if (!streamed->params.has_value()) {
          std::optional<PickleValue> params = stack_value("Params");
          if (!params.has_value() || !params->is_dict()) return false;
          absl::StatusOr<NeuronioParams> p = ConvertParamsDict(*params, path);
          if (!p.ok()) {
            streamed->stop = true;
            return false;
          }
          streamed->params = *std::move(p);
        }
        absl::StatusOr<NeuronioSimulation> sim = ConvertSimulation(
            item, static_cast<int>(index), *streamed->params, path);
        if (!sim.ok()) {
          streamed->stop = true;
          return false;
        }
        if (streamed->sims.size() <= index) streamed->sims.resize(index + 1);
        streamed->sims[index] = *std::move(sim);
        return true;
      };
  return options;
}

}  // namespace

bool StartsNeuronioCompact(const std::string& path) {
  char head[8] = {};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  const size_t n = std::fread(head, 1, sizeof(head), f);
  std::fclose(f);
  return IsNeuronioCompact(absl::string_view(head, n));
}

absl::StatusOr<std::shared_ptr<const NeuronioFileView>> ReadNeuronioFileView(
    const std::string& path, NeuronioChecksum checksum) {
  if (StartsNeuronioCompact(path)) {
    return ReadNeuronioCompactView(path, checksum);
  }
  ASSIGN_OR_RETURN(NeuronioFile file,
                   ReadNeuronioFile(path, NeuronioPickleParse::kStreaming));
  return ViewNeuronioFile(
      std::make_shared<const NeuronioFile>(std::move(file)));
}

absl::StatusOr<NeuronioFile> ReadNeuronioFile(const std::string& path,
                                              NeuronioPickleParse parse,
                                              NeuronioChecksum checksum) {
  // A compact file (io/neuronio_compact.h), recognised by its magic.
  if (StartsNeuronioCompact(path)) return ReadNeuronioCompact(path, checksum);
  Streamed streamed;
  const bool streaming = parse == NeuronioPickleParse::kStreaming;
  ASSIGN_OR_RETURN(
      const Pickle pickle,
      ReadPickle(path, streaming ? StreamingOptions(path, &streamed)
                                 : UnpickleOptions()));
  const PickleValue root = pickle.root();
  if (!root.is_dict()) {
    return Invalid(path, absl::StrCat("expected a dict at the top, got ",
                                      root.TypeName()));
  }
  NeuronioFile out;
  out.path = path;
  ASSIGN_OR_RETURN(out.params, ConvertParams(root, path));
  if (streamed.params.has_value() &&
      !SameParams(*streamed.params, out.params)) {
    // The Params found on the stack were not the file's (never so in the
    // released files): read again without streaming.
    return ReadNeuronioFile(path, NeuronioPickleParse::kValueTree);
  }
  const Context file(path, "");
  ASSIGN_OR_RETURN(const PickleValue results,
                   file.RequireDict(root, "Results"));
  const Context in_results(path, "Results.");
  ASSIGN_OR_RETURN(const PickleValue sims,
                   in_results.Require(results, "listOfSingleSimulationDicts"));
  if (!sims.is_list() && !sims.is_tuple()) {
    return in_results.Error(
        "listOfSingleSimulationDicts",
        absl::StrCat("expected a list, got ", sims.TypeName()));
  }
  if (streamed.sims.size() > sims.size()) {
    return ReadNeuronioFile(path, NeuronioPickleParse::kValueTree);
  }
  out.simulations.reserve(sims.size());
  for (size_t i = 0; i < sims.size(); ++i) {
    if (i < streamed.sims.size() && streamed.sims[i].has_value()) {
      if (!sims.item(i).is_none()) {
        return ReadNeuronioFile(path, NeuronioPickleParse::kValueTree);
      }
      out.simulations.push_back(*std::move(streamed.sims[i]));
      streamed.sims[i].reset();
      continue;
    }
    ASSIGN_OR_RETURN(
        NeuronioSimulation sim,
        ConvertSimulation(sims.item(i), static_cast<int>(i), out.params, path));
    out.simulations.push_back(std::move(sim));
  }
  return out;
}

}  // namespace elm
