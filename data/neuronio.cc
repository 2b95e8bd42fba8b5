// NeuronIO dense windows, targets, spec checks and the training sampler: see
// neuronio.h.
#include "data/neuronio.h"

#include <fcntl.h>
#include <glob.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "base/rng.h"
#include "base/status_macros.h"
#include "base/user_path.h"
#include "data/neuronio_convert.h"
#include "glog/logging.h"

namespace elm {
namespace {
absl::Status Invalid(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

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

// Keeps the memory of freed files in the heap for the next load (once per
// process): by default glibc returns a freed file's ~100 MB to the kernel,
// and the next load then pays a page fault per 4 KiB page, which costs more
// than reading a compact file (measured: 0.40 s of CPU per 128-simulation
// .elmnio load, 0.07 s with the memory kept). Allocations below 32 MiB come
// from the heap, and freed heap memory is not trimmed below 1 GiB; the
// process's resident size then stays at its high-water mark.
void KeepFreedMemoryForLoads() {
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  });
}

// value[k] = InputSign(channels[k]) (+1 below `segments`, else −1) for k in
// [0, n): 8 at a time as bits (1.0f with the sign bit set where not below;
// vector extensions, as -O2 leaves the plain loop scalar).
void FillInputSigns(const int32_t* channels, int64_t n, int32_t segments,
                    float* value) {
  typedef int32_t Vec __attribute__((vector_size(32)));
  constexpr int32_t kOne = 0x3f800000;  // the bits of 1.0f
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) {
    Vec c;
    std::memcpy(&c, channels + k, sizeof(Vec));
    const Vec bits = kOne | ((c >= segments) & INT32_MIN);  // true lanes: -1
    std::memcpy(value + k, &bits, sizeof(Vec));
  }
  for (; k < n; ++k) value[k] = channels[k] < segments ? 1.0f : -1.0f;
}

}  // namespace

void Densify(const NeuronioSimulation& sim, int64_t start, int64_t length,
             float* out) {
  Densify(ViewOf(sim), start, length, out);
}

void Densify(const NeuronioSimulationView& sim, int64_t start, int64_t length,
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
  NeuronioTargets(ViewOf(sim), start, length, spike, soma);
}

void NeuronioTargets(const NeuronioSimulationView& sim, int64_t start,
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
  if (spec.has_generate() && !spec.cache_dir().empty()) {
    return absl::InvalidArgumentError(
        "NeuronioSpec.cache_dir is set with `generate`: generated data has no "
        "files to cache (clear cache_dir)");
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
      // As a shell does: a pattern that matches nothing but is itself the
      // name of a file (a '[' in the name) names that file.
      struct stat st;
      if (::stat(pattern.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        out.push_back(pattern);
        continue;
      }
      return absl::NotFoundError(absl::StrCat(
          where, ": '", pattern,
          "' matches no file (a glob: escape a '[', '*', '?' or '\\' that is "
          "part of a file name with a backslash)"));
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

NeuronioSampler::NeuronioSampler(ViewTag, int num_files,
                                 NeuronioViewLoader loader,
                                 const NeuronioSpec& spec, int batch_size,
                                 uint64_t seed, bool prefetch)
    : num_files_(num_files),
      loader_(std::move(loader)),
      spec_(spec),
      batch_(batch_size),
      prefetch_(prefetch),
      file_rng_(MixSeeds(seed, 1)),
      batch_rng_(MixSeeds(seed, 2)) {
  CHECK_GT(num_files_, 0);
  CHECK(loader_ != nullptr);
  CHECK_GT(batch_, 0);
}

NeuronioSampler::NeuronioSampler(int num_files, NeuronioFileLoader loader,
                                 const NeuronioSpec& spec, int batch_size,
                                 uint64_t seed, bool prefetch)
    : NeuronioSampler(
          ViewTag(), num_files,
          [loader = std::move(loader)](int index) -> LoadResult {
            CHECK(loader != nullptr);
            ASSIGN_OR_RETURN(std::shared_ptr<const NeuronioFile> file,
                             loader(index));
            CHECK(file != nullptr);
            return ViewNeuronioFile(std::move(file));
          },
          spec, batch_size, seed, prefetch) {}

// The loader copies `files`: a move could happen before files.size() is read.
NeuronioSampler::NeuronioSampler(std::vector<std::string> files,
                                 const NeuronioSpec& spec, int batch_size,
                                 uint64_t seed)
    : NeuronioSampler(
          ViewTag(), static_cast<int>(files.size()),
          [files, cache_dir = spec.cache_dir()](int index) -> LoadResult {
            // A compact file's CRC is checked on its first load only.
            constexpr NeuronioChecksum kOnce =
                NeuronioChecksum::kOncePerFileVersion;
            return cache_dir.empty() ? ReadNeuronioFileView(files[index], kOnce)
                                     : ReadNeuronioFileCachedView(
                                           files[index], cache_dir, kOnce);
          },
          spec, batch_size, seed, spec.prefetch()) {
  KeepFreedMemoryForLoads();
}

// The load in flight reads loader_ and writes only its own result: wait for
// it before the members go.
NeuronioSampler::~NeuronioSampler() {
  if (pending_.valid()) pending_.wait();
}

int NeuronioSampler::TakePick() {
  if (next_pick_ >= 0) return std::exchange(next_pick_, -1);
  return static_cast<int>(file_rng_.UniformInt(num_files_));
}

NeuronioSampler::LoadResult NeuronioSampler::Load(int index) {
  if (pending_.valid()) {
    // Only the drawn-ahead pick is ever prefetched, and it is taken next.
    CHECK_EQ(pending_index_, index);
    pending_index_ = -1;
    return pending_.get();
  }
  return loader_(index);
}

void NeuronioSampler::PrefetchNext() {
  if (!prefetch_ || pending_.valid()) return;
  if (next_pick_ < 0) {
    next_pick_ = static_cast<int>(file_rng_.UniformInt(num_files_));
  }
  if (next_pick_ == loaded_index_ && loaded_ != nullptr) return;  // kept
  pending_index_ = next_pick_;
  pending_ = std::async(std::launch::async,
                        [this, index = next_pick_] { return loader_(index); });
}

absl::Status NeuronioSampler::LoadNextFile() {
  const int index = TakePick();
  if (index != loaded_index_ || loaded_ == nullptr) {
    loaded_.reset();  // at most the next file besides it in memory
    loaded_index_ = -1;
    ASSIGN_OR_RETURN(std::shared_ptr<const NeuronioFileView> file, Load(index));
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
  PrefetchNext();
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
  const NeuronioFileView& file = *loaded_;
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
  out.inputs.rows = out.batch * out.steps;
  out.inputs.cols = kNeuronioInputDim;
  out.held_begin = HeldBegin(batch_);
  out.held_end = HeldEnd(batch_);
  int64_t nonzeros = 0;
  for (int b = 0; b < batch_; ++b) {
    const NeuronioWindow& w = last_windows_[b];
    const NeuronioSimulationView& sim = file.simulations[w.simulation];
    const int64_t n =
        sim.step_begin[w.start + window] - sim.step_begin[w.start];
    if (b < out.held_begin) out.nonzeros_before += n;
    if (Holds(b)) nonzeros += n;
  }
  // A window's channels are one run of the step index (steps in order,
  // channels ascending within a step): copied at once, its row ends the
  // step offsets shifted.
  out.inputs.row_begin.resize(batch_ * window + 1);
  out.inputs.col.reserve(nonzeros);  // appended: not zero-filled first
  out.inputs.value.resize(nonzeros);
  out.spike.resize(batch_ * window);
  out.soma.resize(batch_ * window);
  int64_t* row_end = out.inputs.row_begin.data() + 1;
  out.inputs.row_begin[0] = 0;
  int64_t filled = 0;  // nonzeros written
  for (int b = 0; b < batch_; ++b) {
    if (!Holds(b)) {  // empty rows, zero targets
      std::fill(row_end, row_end + window, filled);
      row_end += window;
      continue;
    }
    const NeuronioWindow& w = last_windows_[b];
    const NeuronioSimulationView& sim = file.simulations[w.simulation];
    const int64_t first = sim.step_begin[w.start];
    const int64_t n = sim.step_begin[w.start + window] - first;
    const int64_t shift = filled - first;
    for (int64_t t = 0; t < window; ++t) {
      row_end[t] = sim.step_begin[w.start + t + 1] + shift;
    }
    row_end += window;
    const int32_t* channels = sim.step_channels.data() + first;
    out.inputs.col.insert(out.inputs.col.end(), channels, channels + n);
    FillInputSigns(channels, n, sim.num_segments,
                   out.inputs.value.data() + filled);
    filled += n;
    NeuronioTargets(sim, w.start, window, &out.spike[b * window],
                    &out.soma[b * window]);
  }
  CHECK_EQ(filled, nonzeros);
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
  if (!spec.cache_dir().empty()) {
    const std::string dir = ResolveUserPath(spec.cache_dir());
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir, ec)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "NeuronioSpec.cache_dir: cannot create the folder '", dir,
          "': ", ec ? ec.message() : "a file of that name exists"));
    }
    d->spec_.set_cache_dir(dir);
  }
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
