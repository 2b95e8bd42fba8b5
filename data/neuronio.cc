// NeuronIO reader, targets, dense windows and the training sampler: see
// neuronio.h.
#include "data/neuronio.h"

#include <fcntl.h>
#include <glob.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "autodiff/status_macros.h"
#include "autodiff/user_path.h"
#include "data/neuronio_compact.h"
#include "data/pickle.h"
#include "glog/logging.h"

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
absl::StatusOr<Pickle> ReadPickle(const std::string& path) {
  UnpickleOptions options;
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
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      const PickleValue item = v.item(i);
      if (!item.is_int()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "item ", i, " is a ", item.TypeName(), ", not an int"));
      }
      out.push_back(item.AsInt());
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

absl::StatusOr<NeuronioParams> ConvertParams(const PickleValue& root,
                                             const std::string& path) {
  const Context file(path, "");
  ASSIGN_OR_RETURN(const PickleValue params, file.RequireDict(root, "Params"));
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

// Adds the spikes of one spike-time dict (segment → times) to `lists`, at
// channel offset + segment.
absl::Status ConvertSpikeDict(const PickleValue& sim, absl::string_view key,
                              int offset, const NeuronioParams& params,
                              const Context& ctx,
                              std::vector<std::vector<int32_t>>* lists) {
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
    absl::StatusOr<std::vector<int64_t>> times = Integers(dict.value(i));
    if (!times.ok()) {
      return ctx.Error(key, absl::StrCat("segment ", segment, ": ",
                                         times.status().message()));
    }
    std::vector<int32_t>& list = (*lists)[offset + segment];
    list.reserve(times->size());
    for (int64_t t : *times) {
      if (t < 0 || t >= params.duration_ms) {
        return ctx.Error(key,
                         absl::StrCat("segment ", segment, ": spike time ", t,
                                      " ms outside [0, ", params.duration_ms,
                                      ") (Params.totalSimDurationInSec)"));
      }
      list.push_back(static_cast<int32_t>(t));
    }
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

  std::vector<std::vector<int32_t>> lists(out.input_dim());
  RETURN_IF_ERROR(
      ConvertSpikeDict(sim, "exInputSpikeTimes", 0, params, ctx, &lists));
  RETURN_IF_ERROR(ConvertSpikeDict(sim, "inhInputSpikeTimes", out.num_segments,
                                   params, ctx, &lists));
  out.channel_begin.resize(out.input_dim() + 1);
  int64_t total = 0;
  for (int c = 0; c < out.input_dim(); ++c) {
    out.channel_begin[c] = total;
    total += lists[c].size();
  }
  out.channel_begin[out.input_dim()] = total;
  out.channel_times.reserve(total);
  for (std::vector<int32_t>& list : lists) {
    out.channel_times.insert(out.channel_times.end(), list.begin(), list.end());
    std::vector<int32_t>().swap(list);
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

// ---- Sampling ----

uint64_t SplitMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t MixSeeds(uint64_t a, uint64_t b) { return SplitMix(a ^ SplitMix(b)); }

const char* FilesField(Split split) {
  switch (split) {
    case Split::kTrain:
      return "NeuronioSpec.train_files";
    case Split::kValid:
      return "NeuronioSpec.valid_files";
    case Split::kTest:
      return "NeuronioSpec.test_files";
  }
  return "?";
}

}  // namespace

void IndexNeuronioSteps(NeuronioSimulation* sim) {
  const int64_t steps = sim->duration_ms;
  std::vector<int64_t>& begin = sim->step_begin;
  begin.assign(steps + 1, 0);
  for (int32_t t : sim->channel_times) ++begin[t + 1];
  for (int64_t t = 0; t < steps; ++t) begin[t + 1] += begin[t];
  std::vector<int32_t>& channels = sim->step_channels;
  channels.resize(sim->channel_times.size());
  std::vector<int64_t> fill(begin.begin(), begin.end() - 1);
  for (int c = 0; c < sim->input_dim(); ++c) {  // channels ascending per step
    for (int32_t t : sim->InputSpikeTimes(c)) channels[fill[t]++] = c;
  }
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

const std::vector<std::string>& NeuronioSkippedKeys() {
  static const auto* const kKeys = new std::vector<std::string>{
      "dendriticVoltagesLowRes", "somaVoltageHighRes", "nexusVoltageHighRes",
      "recordingTimeHighRes",    "nexusVoltageLowRes", "recordingTimeLowRes",
  };
  return *kKeys;
}

absl::StatusOr<NeuronioFile> ReadNeuronioFile(const std::string& path) {
  {
    // A compact file (data/neuronio_compact.h), recognised by its magic.
    char head[8] = {};
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f != nullptr) {
      const size_t n = std::fread(head, 1, sizeof(head), f);
      std::fclose(f);
      if (IsNeuronioCompact(absl::string_view(head, n))) {
        return ReadNeuronioCompact(path);
      }
    }
  }
  ASSIGN_OR_RETURN(const Pickle pickle, ReadPickle(path));
  const PickleValue root = pickle.root();
  if (!root.is_dict()) {
    return Invalid(path, absl::StrCat("expected a dict at the top, got ",
                                      root.TypeName()));
  }
  NeuronioFile out;
  out.path = path;
  ASSIGN_OR_RETURN(out.params, ConvertParams(root, path));
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
  out.simulations.reserve(sims.size());
  for (size_t i = 0; i < sims.size(); ++i) {
    ASSIGN_OR_RETURN(
        NeuronioSimulation sim,
        ConvertSimulation(sims.item(i), static_cast<int>(i), out.params, path));
    out.simulations.push_back(std::move(sim));
  }
  return out;
}

void Densify(const NeuronioSimulation& sim, int64_t start, int64_t length,
             float* out) {
  CHECK_GE(start, 0);
  CHECK_GE(length, 0);
  const int64_t dim = sim.input_dim();
  std::fill(out, out + length * dim, 0.0f);
  const int64_t end = std::min(start + length, sim.duration_ms);
  for (int64_t t = start; t < end; ++t) {
    float* row = out + (t - start) * dim;
    for (int32_t c : sim.StepChannels(t)) row[c] = sim.InputSign(c);
  }
}

void NeuronioTargets(const NeuronioSimulation& sim, int64_t start,
                     int64_t length, float* spike, float* soma) {
  CHECK_GE(start, 0);
  CHECK_GE(length, 0);
  CHECK_LE(start + length, sim.duration_ms);
  if (spike != nullptr) {
    std::fill(spike, spike + length, 0.0f);
    for (int64_t step : sim.output_spike_steps) {
      if (step >= start && step < start + length) spike[step - start] = 1.0f;
    }
  }
  if (soma != nullptr) {
    for (int64_t t = 0; t < length; ++t) {
      soma[t] = NeuronioSomaTarget(sim.soma_mv[start + t]);
    }
  }
}

absl::Status ValidateNeuronioSpec(const NeuronioSpec& spec) {
  if (spec.window_ms() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "NeuronioSpec.window_ms must be > 0, got ", spec.window_ms()));
  }
  if (spec.ignore_start_ms() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("NeuronioSpec.ignore_start_ms must be >= 0, got ",
                     spec.ignore_start_ms()));
  }
  if (!(spec.file_load_fraction() > 0 && spec.file_load_fraction() <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("NeuronioSpec.file_load_fraction must be in (0, 1], got ",
                     spec.file_load_fraction()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ExpandNeuronioFiles(
    const std::vector<std::string>& patterns, absl::string_view field) {
  std::vector<std::string> out;
  for (size_t i = 0; i < patterns.size(); ++i) {
    const std::string pattern = ResolveUserPath(patterns[i]);
    const std::string where = absl::StrCat(field, "[", i, "]");
    if (pattern.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(where, " is empty"));
    }
    glob_t g;
    const int rc = glob(pattern.c_str(), 0, nullptr, &g);
    if (rc == GLOB_NOMATCH) {
      globfree(&g);
      return absl::NotFoundError(
          absl::StrCat(where, ": '", pattern, "' matches no file"));
    }
    if (rc != 0) {
      globfree(&g);
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": cannot expand '", pattern, "' (glob error ", rc, ")"));
    }
    std::vector<std::string> matches(g.gl_pathv, g.gl_pathv + g.gl_pathc);
    globfree(&g);
    std::sort(matches.begin(), matches.end());
    out.insert(out.end(), matches.begin(), matches.end());
  }
  return out;
}

// ---- NeuronioSampler ----

NeuronioSampler::NeuronioSampler(int num_files, NeuronioFileLoader loader,
                                 const NeuronioSpec& spec, int batch_size,
                                 uint64_t seed)
    : num_files_(num_files),
      loader_(std::move(loader)),
      spec_(spec),
      batch_(batch_size),
      file_rng_(MixSeeds(seed, 1)),
      batch_rng_(MixSeeds(seed, 2)) {
  CHECK_GT(num_files_, 0);
  CHECK(loader_ != nullptr);
  CHECK_GT(batch_, 0);
}

// The loader copies `files`: a move could happen before files.size() is read.
NeuronioSampler::NeuronioSampler(std::vector<std::string> files,
                                 const NeuronioSpec& spec, int batch_size,
                                 uint64_t seed)
    : NeuronioSampler(
          static_cast<int>(files.size()),
          [files](int index)
              -> absl::StatusOr<std::shared_ptr<const NeuronioFile>> {
            ASSIGN_OR_RETURN(NeuronioFile file, ReadNeuronioFile(files[index]));
            return std::make_shared<const NeuronioFile>(std::move(file));
          },
          spec, batch_size, seed) {}

absl::Status NeuronioSampler::LoadNextFile() {
  const int index = static_cast<int>(file_rng_.UniformInt(num_files_));
  if (index != loaded_index_ || loaded_ == nullptr) {
    loaded_.reset();  // never two files in memory
    loaded_index_ = -1;
    ASSIGN_OR_RETURN(std::shared_ptr<const NeuronioFile> file, loader_(index));
    CHECK(file != nullptr);
    const std::string& path = file->path;
    if (file->params.num_segments() != kNeuronioNumSegments) {
      return Invalid(path, absl::StrCat("Params.allSegmentsType has ",
                                        file->params.num_segments(),
                                        " segments; NeuronIO inputs need ",
                                        kNeuronioNumSegments, " (input_dim ",
                                        kNeuronioInputDim, ")"));
    }
    const int64_t sims = file->simulations.size();
    if (sims < batch_) {
      return Invalid(path,
                     absl::StrCat(sims,
                                  " simulations, fewer than the "
                                  "batch size ",
                                  batch_, " (drawn without replacement)"));
    }
    const int64_t duration = file->params.duration_ms;
    if (int64_t{spec_.window_ms()} + spec_.ignore_start_ms() >= duration) {
      return Invalid(
          path, absl::StrCat("NeuronioSpec.window_ms (", spec_.window_ms(),
                             ") + ignore_start_ms (", spec_.ignore_start_ms(),
                             ") must be below the simulation duration ",
                             duration, " ms"));
    }
    loaded_ = std::move(file);
    loaded_index_ = index;
    order_.resize(sims);
  }
  // As the reference: int(fraction · (sims · duration) / (batch · window)).
  const int64_t sims = loaded_->simulations.size();
  const double max_batches =
      static_cast<double>(sims * loaded_->params.duration_ms) /
      static_cast<double>(int64_t{batch_} * spec_.window_ms());
  batches_left_ =
      static_cast<int64_t>(spec_.file_load_fraction() * max_batches);
  if (batches_left_ <= 0) {
    return Invalid(
        loaded_->path,
        absl::StrCat("NeuronioSpec.file_load_fraction ",
                     spec_.file_load_fraction(), " gives 0 batches per load (",
                     sims, " simulations of ", loaded_->params.duration_ms,
                     " ms, batch ", batch_, ", window_ms ", spec_.window_ms(),
                     ")"));
  }
  ++loads_;
  return absl::OkStatus();
}

absl::StatusOr<Batch> NeuronioSampler::Next() {
  if (batches_left_ == 0) RETURN_IF_ERROR(LoadNextFile());
  --batches_left_;
  const NeuronioFile& file = *loaded_;
  const int64_t window = spec_.window_ms();
  const int64_t ignore = spec_.ignore_start_ms();
  const int64_t duration = file.params.duration_ms;

  // As generate_batch: first the simulations, then the starts.
  for (size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<int>(i);
  last_windows_.resize(batch_);
  for (int b = 0; b < batch_; ++b) {
    const size_t j = b + batch_rng_.UniformInt(order_.size() - b);
    std::swap(order_[b], order_[j]);
    last_windows_[b] = {loaded_index_, order_[b], 0, loads_ - 1};
  }
  for (int b = 0; b < batch_; ++b) {
    last_windows_[b].start =
        ignore +
        static_cast<int64_t>(batch_rng_.UniformInt(duration - window - ignore));
  }

  Batch out;
  out.batch = batch_;
  out.steps = window;
  out.input_dim = kNeuronioInputDim;
  int64_t nonzeros = 0;
  for (const NeuronioWindow& w : last_windows_) {
    const NeuronioSimulation& sim = file.simulations[w.simulation];
    nonzeros += sim.step_begin[w.start + window] - sim.step_begin[w.start];
  }
  out.row_begin.reserve(batch_ * window + 1);
  out.row_begin.push_back(0);
  out.channel.reserve(nonzeros);
  out.value.reserve(nonzeros);
  out.spike.resize(batch_ * window);
  out.soma.resize(batch_ * window);
  for (int b = 0; b < batch_; ++b) {
    const NeuronioWindow& w = last_windows_[b];
    const NeuronioSimulation& sim = file.simulations[w.simulation];
    for (int64_t t = w.start; t < w.start + window; ++t) {
      for (int32_t c : sim.StepChannels(t)) {
        out.channel.push_back(c);
        out.value.push_back(sim.InputSign(c));
      }
      out.row_begin.push_back(static_cast<int64_t>(out.channel.size()));
    }
    NeuronioTargets(sim, w.start, window, &out.spike[b * window],
                    &out.soma[b * window]);
  }
  return out;
}

// ---- NeuronioDataset ----

uint64_t NeuronioSamplerSeed(uint64_t dataset_seed, uint64_t seed) {
  return MixSeeds(dataset_seed, seed);
}

absl::StatusOr<std::unique_ptr<NeuronioDataset>> NeuronioDataset::Create(
    const NeuronioSpec& spec, uint64_t seed) {
  RETURN_IF_ERROR(ValidateNeuronioSpec(spec));
  if (spec.has_generate()) {
    return absl::InvalidArgumentError(
        "NeuronioSpec.generate is set: generated NeuronIO data is built by "
        "MakeDataset (data/dataset_factory.h), not from files");
  }
  std::unique_ptr<NeuronioDataset> d(new NeuronioDataset());
  d->spec_ = spec;
  d->seed_ = seed;
  d->info_.name = "neuronio";
  d->info_.input_dim = kNeuronioInputDim;
  d->info_.steps = spec.window_ms();
  d->info_.num_classes = 0;
  d->info_.delta_t_ms = 1.0;
  const google::protobuf::RepeatedPtrField<std::string>* lists[3] = {
      &spec.train_files(), &spec.valid_files(), &spec.test_files()};
  for (int s = 0; s < 3; ++s) {
    const std::vector<std::string> patterns(lists[s]->begin(), lists[s]->end());
    ASSIGN_OR_RETURN(
        d->files_[s],
        ExpandNeuronioFiles(patterns, FilesField(static_cast<Split>(s))));
  }
  return d;
}

const std::vector<std::string>& NeuronioDataset::files(Split split) const {
  return files_[static_cast<int>(split)];
}

absl::StatusOr<std::unique_ptr<NeuronioSampler>>
NeuronioDataset::MakeNeuronioSampler(Split split, int batch_size,
                                     uint64_t seed) const {
  if (batch_size <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("NeuronIO batch_size must be > 0, got ", batch_size));
  }
  if (files(split).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(FilesField(split), " is empty: no files for split '",
                     SplitName(split), "'"));
  }
  return std::make_unique<NeuronioSampler>(files(split), spec_, batch_size,
                                           NeuronioSamplerSeed(seed_, seed));
}

absl::StatusOr<std::unique_ptr<BatchSampler>> NeuronioDataset::MakeSampler(
    Split split, int batch_size, uint64_t seed) const {
  ASSIGN_OR_RETURN(std::unique_ptr<NeuronioSampler> s,
                   MakeNeuronioSampler(split, batch_size, seed));
  return std::unique_ptr<BatchSampler>(std::move(s));
}

absl::StatusOr<std::unique_ptr<Dataset>> MakeNeuronioDataset(
    const NeuronioSpec& spec, uint64_t seed) {
  ASSIGN_OR_RETURN(std::unique_ptr<NeuronioDataset> d,
                   NeuronioDataset::Create(spec, seed));
  return std::unique_ptr<Dataset>(std::move(d));
}

}  // namespace elm
