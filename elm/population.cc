// Streaming inference for a population of ELM neurons (population.h): per
// model group, the weights packed once (as BuildPlan packs them for the
// non-projected fused unroll), the per-neuron state, and per thread one
// tile's scratch; a step runs every tile through the fused unroll's kernels.
#include "elm/population.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "autodiff/arena.h"
#include "autodiff/simd/activations.h"
#include "autodiff/simd/gemm.h"
#include "base/status_macros.h"
#include "base/thread_pool.h"
#include "elm/branch_drive.h"
#include "elm/fused_plan.h"
#include "elm/heads.h"
#include "glog/logging.h"

namespace elm {

using simd::GemmInit;
using simd::PackedB;

// One model group: neurons [lo, lo + count) of the population.
template <typename T>
struct PopulationModel {
  int64_t lo = 0, count = 0;
  int64_t n_in = 0, n_branch = 0, dm = 0, n_out = 0, layers = 0;
  int64_t hidden = 0, h1 = 0;
  simd::Activation act = simd::Activation::kRelu;
  std::unique_ptr<Arena> arena;  // everything below that is a pointer
  ChannelSynapses<T> synapses;
  const T* chan_w = nullptr;  // the dense drive's [N, chan_ld], or null
  int64_t chan_ld = 0;
  const T *kappa_u = nullptr, *kappa_m = nullptr, *gain = nullptr;
  // Projected first layer (PopulationOptions::project_first_layer): the trace
  // is kept as p = U·W₁ᵤᵀ [H₁] and each input adds its channel's row of
  // proj_w = chan_w·W₁ᵤᵀ [N, proj_ld]; kappa_u then holds H₁ copies of κ.
  bool projected = false;
  const T* proj_w = nullptr;
  int64_t proj_ld = 0;
  int64_t trace_width = 0;  // of the state u: H₁ projected, else B_r
  const T* b_y = nullptr;
  std::vector<const T*> bias;  // b_{l+1}, l = 0..L
  PackedB<T> w1u_t, w1m_t, wy_t;
  std::vector<PackedB<T>> upper_w_t;  // index 0 unused
  // State: u [count, B_r], m [count, d_m].
  std::vector<T> u, m;
};

// One thread's scratch for a tile of up to kPopulationTile neurons.
template <typename T>
struct PopulationWorkspace {
  std::vector<T> a, k, a1, pre, h, z, th, eval;
  // A dense step's tile as CSR.
  std::vector<int64_t> row_begin;
  std::vector<int32_t> col;
  std::vector<T> val;
};

// A tile: neurons [lo, hi) of model group g.
struct PopulationTile {
  int g;
  int64_t lo, hi;
};

template <typename T>
struct ElmPopulation<T>::Impl {
  int64_t num_neurons = 0, num_input = 0, num_output = 0;
  std::vector<PopulationModel<T>> models;
  std::vector<PopulationTile> tiles;
  std::vector<PopulationWorkspace<T>> workspaces;  // one per thread
  std::unique_ptr<ThreadPool> pool;
  int tasks = 1;  // min(threads, tiles)
  std::function<void(int)> shard_fn;
  // This step's input.
  const int64_t* row_begin = nullptr;
  const int32_t* channels = nullptr;
  const T* values = nullptr;
  const T* dense = nullptr;
  std::vector<T> ones;
  std::vector<T> y, prob, soma;

  void RunStep() {
    if (tasks == 1) {
      Shard(0);
    } else {
      pool->Run(tasks, shard_fn);
    }
  }
  void Shard(int s) {
    const int64_t n = static_cast<int64_t>(tiles.size());
    const int64_t begin = n * s / tasks, end = n * (s + 1) / tasks;
    for (int64_t i = begin; i < end; ++i) Tile(tiles[i], workspaces[s]);
  }
  void Tile(const PopulationTile& tile, PopulationWorkspace<T>& ws);
};

namespace {

template <typename T>
const T* CopyToArena(Arena& arena, const T* src, int64_t n) {
  T* dst = arena.AllocateArray<T>(n);
  std::copy(src, src + n, dst);
  return dst;
}

// The model's packed weights, as BuildPlan packs them for a non-projected
// forward (fused_plan.cc), with the same choice of the dense or scattered
// drive, so that the kernels run the same operations in the same order.
template <typename T>
absl::Status PackModel(const ElmModel<T>& source, bool project,
                       PopulationModel<T>& g) {
  if (!source.CanFuse()) {
    return absl::InvalidArgumentError(
        "ElmPopulation: a v1 model whose tau_s differ within a branch cannot "
        "run streamed (the fused path needs one tau_s per branch)");
  }
  ElmModel<T> model = source;  // FusedParams puts the parameters on a tape
  Tape<T> tape;
  const FusedElmParams<T> p = model.FusedParams(tape);
  const FusedElmSpec& spec = model.fused_spec();
  g.arena = std::make_unique<Arena>();
  Arena& arena = *g.arena;
  const int64_t L = static_cast<int64_t>(p.mlp_w.size()) - 1;
  g.n_in = spec.num_input;
  g.n_branch = spec.num_branch;
  g.dm = spec.num_memory;
  g.n_out = p.w_y.rows;
  g.layers = L;
  g.hidden = L > 0 ? p.mlp_w[0].rows : 0;
  g.h1 = p.mlp_w[0].rows;
  g.act = spec.silu ? simd::Activation::kSilu : simd::Activation::kRelu;
  const int64_t n_syn = spec.num_branch * spec.num_synapse_per_branch;
  const bool routed = !spec.index.empty();
  g.synapses = InvertRouting<T>(
      arena, spec.num_input, n_syn, spec.num_synapse_per_branch,
      routed ? spec.index.data() : nullptr, routed ? spec.mask.data() : nullptr,
      p.w_s.value);
  // The dense drive when BuildPlan would take it (UseDenseDrive).
  g.chan_ld = simd::RoundUpToLanes<T>(g.n_branch);
  const int64_t vectors = g.chan_ld / simd::kLanes<T>;
  const int64_t n_live = g.synapses.chan_begin[g.n_in];
  if (vectors <= kMaxDenseVectors &&
      vectors <= 2 + 4 * n_live / std::max<int64_t>(1, g.n_in)) {
    T* chan_w = arena.AllocateArray<T>(g.n_in * g.chan_ld);
    DenseChannelWeights(g.n_in, g.synapses, g.chan_ld, chan_w);
    g.chan_w = chan_w;
  }
  T* kappa_u = arena.AllocateArray<T>(g.n_branch);
  for (int64_t j = 0; j < g.n_branch; ++j)
    kappa_u[j] = static_cast<T>(spec.kappa_branch[j]);
  g.kappa_u = kappa_u;
  g.kappa_m = CopyToArena(arena, p.kappa_m.value, g.dm);
  g.gain = CopyToArena(arena, p.gain.value, g.dm);
  g.b_y = CopyToArena(arena, p.b_y.value, g.n_out);
  const int64_t in1 = g.n_branch + g.dm;
  const T* w1 = p.mlp_w[0].value;
  g.w1u_t = PackB<T>(arena, w1, 1, in1, g.n_branch, g.h1);
  g.w1m_t = PackB<T>(arena, w1 + g.n_branch, 1, in1, g.dm, g.h1);
  g.wy_t = PackB<T>(arena, p.w_y.value, 1, g.dm, g.dm, g.n_out);
  g.upper_w_t.assign(L + 1, PackedB<T>{});
  g.bias.assign(L + 1, nullptr);
  for (int64_t l = 0; l <= L; ++l) {
    const int64_t out = l == L ? g.dm : g.hidden;
    g.bias[l] = CopyToArena(arena, p.mlp_b[l].value, l == 0 ? g.h1 : out);
    if (l > 0) {
      g.upper_w_t[l] =
          PackB<T>(arena, p.mlp_w[l].value, 1, g.hidden, g.hidden, out);
    }
  }
  // The projected first layer: one κ for every branch, and a row of H₁ that
  // the dense drive keeps in registers.
  const int64_t proj_ld = simd::RoundUpToLanes<T>(g.h1);
  bool one_kappa = true;
  for (int64_t j = 1; j < g.n_branch; ++j)
    one_kappa = one_kappa && spec.kappa_branch[j] == spec.kappa_branch[0];
  g.projected =
      project && one_kappa && proj_ld / simd::kLanes<T> <= kMaxDenseVectors;
  if (g.projected) {
    // proj_w[c, :] = Σ_k w[k]·mask[k]·W₁ᵤᵀ[br(k), :] over channel c's
    // synapses, summed in double.
    T* proj_w = arena.AllocateArray<T>(g.n_in * proj_ld);
    std::vector<double> row(g.h1);
    for (int64_t c = 0; c < g.n_in; ++c) {
      std::fill(row.begin(), row.end(), 0.0);
      for (int64_t q = g.synapses.chan_begin[c];
           q < g.synapses.chan_begin[c + 1]; ++q) {
        const Synapse<T>& syn = g.synapses.syn[q];
        for (int64_t h = 0; h < g.h1; ++h) {
          row[h] += static_cast<double>(syn.w) *
                    static_cast<double>(w1[h * in1 + syn.branch]);
        }
      }
      for (int64_t h = 0; h < proj_ld; ++h)
        proj_w[c * proj_ld + h] = h < g.h1 ? static_cast<T>(row[h]) : T(0);
    }
    g.proj_w = proj_w;
    g.proj_ld = proj_ld;
    T* kappa_p = arena.AllocateArray<T>(g.h1);
    std::fill(kappa_p, kappa_p + g.h1, static_cast<T>(spec.kappa_branch[0]));
    g.kappa_u = kappa_p;
  }
  g.trace_width = g.projected ? g.h1 : g.n_branch;
  g.u.assign(g.count * g.trace_width, T(0));
  g.m.assign(g.count * g.dm, T(0));
  return absl::OkStatus();
}

}  // namespace

template <typename T>
void ElmPopulation<T>::Impl::Tile(const PopulationTile& tile,
                                  PopulationWorkspace<T>& ws) {
  PopulationModel<T>& g = models[tile.g];
  const int64_t n = tile.hi - tile.lo;   // rows of this tile
  const int64_t first = g.lo + tile.lo;  // its first neuron
  const int64_t nb = g.n_branch, dm = g.dm, H1 = g.h1, hidden = g.hidden;
  // The tile's input as CSR rows 0..n−1 (BlockRows of one step).
  const int64_t* rb;
  const int32_t* col;
  const T* val;
  if (dense != nullptr) {
    int64_t e = 0;
    ws.row_begin[0] = 0;
    for (int64_t i = 0; i < n; ++i) {
      const T* x = dense + (first + i) * num_input;
      for (int64_t c = 0; c < num_input; ++c) {
        if (x[c] == T(0)) continue;
        ws.col[e] = static_cast<int32_t>(c);
        ws.val[e++] = x[c];
      }
      ws.row_begin[i + 1] = e;
    }
    rb = ws.row_begin.data();
    col = ws.col.data();
    val = ws.val.data();
  } else {
    rb = row_begin + first;
    col = channels;
    val = values;
    for (int64_t q = rb[0]; q < rb[n]; ++q) {
      CHECK(col[q] >= 0 && col[q] < num_input)
          << "ElmPopulation::StepSparse: channel " << col[q] << " of neuron "
          << first + std::upper_bound(rb, rb + n + 1, q) - rb - 1
          << " is outside [0, " << num_input << ")";
    }
  }
  const BlockRows one_step{n, 1, 0, 1};
  const int64_t tw = g.trace_width;
  T* a = ws.a.data();
  if (g.projected) {
    DenseBranchDrive(one_step, tw, g.proj_ld, rb, col, val, g.proj_w, a);
  } else if (g.chan_w != nullptr) {
    DenseBranchDrive(one_step, nb, g.chan_ld, rb, col, val, g.chan_w, a);
  } else {
    std::fill(a, a + n * nb, T(0));
    BranchDrive(one_step, nb, rb, col, val, g.synapses, a);
  }
  // u_t = a_t + κ_u ⊙ u_{t−1}: the scan's step t = 1 of a two-step block,
  // with the state as its carry (which then holds u_t; projected: U·W₁ᵤᵀ).
  T* u = g.u.data() + tile.lo * tw;
  BranchTraceScan(BlockRows{n, 2, 1, 2}, tw, g.kappa_u, u, a);
  // A₁ = b₁ + U·W₁ᵤᵀ + K·W₁ₘᵀ.
  T* a1 = ws.a1.data();
  if (g.projected) {
    const T* b1 = g.bias[0];
    for (int64_t b = 0; b < n; ++b) {
      for (int64_t h = 0; h < H1; ++h) a1[b * H1 + h] = b1[h] + a[b * H1 + h];
    }
  } else {
    simd::Gemm(n, a, nb, 1, g.w1u_t, a1, H1, GemmInit::kRow, g.bias[0]);
  }
  T* m = g.m.data() + tile.lo * dm;
  T* k = ws.k.data();
  DecayMemory(n, dm, g.kappa_m, m, k);
  simd::SmallGemm<T>(n, k, dm, g.w1m_t, a1, H1, GemmInit::kC);
  const T* z = a1;  // with no hidden layer
  for (int64_t l = 1; l <= g.layers; ++l) {
    const T* pre = l == 1 ? a1 : ws.pre.data();
    T* h = ws.h.data();
    simd::ActForward(pre, h, n * hidden, g.act);
    const int64_t out = l == g.layers ? dm : hidden;
    T* next = l == g.layers ? ws.z.data() : ws.pre.data();
    simd::SmallGemm<T>(n, h, hidden, g.upper_w_t[l], next, out, GemmInit::kRow,
                       g.bias[l]);
    z = next;
  }
  T* th = ws.th.data();
  simd::TanhOf2Thirds(z, th, n * dm);
  const T* gain = g.gain;
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t i = 0; i < dm; ++i) {
      const int64_t e = b * dm + i;
      m[e] = k[e] + gain[i] * (th[e] * T(1.7159));
    }
  }
  T* yt = y.data() + first * num_output;
  simd::Gemm(n, m, dm, 1, g.wy_t, yt, num_output, GemmInit::kRow, g.b_y);
  if (num_output == 2) {
    T* eval = ws.eval.data();
    NeuronioEvalTransform<T>({yt, n, 2}, {eval, n, 2});
    for (int64_t b = 0; b < n; ++b) {
      prob[first + b] = eval[2 * b];
      soma[first + b] = eval[2 * b + 1];
    }
  }
}

template <typename T>
ElmPopulation<T>::ElmPopulation(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
template <typename T>
ElmPopulation<T>::ElmPopulation(ElmPopulation&&) noexcept = default;
template <typename T>
ElmPopulation<T>& ElmPopulation<T>::operator=(ElmPopulation&&) noexcept =
    default;
template <typename T>
ElmPopulation<T>::~ElmPopulation() = default;

template <typename T>
absl::StatusOr<ElmPopulation<T>> ElmPopulation<T>::Create(
    const ElmModel<T>& model, int64_t num_neurons,
    const PopulationOptions& options) {
  return Create({Group{&model, num_neurons}}, options);
}

template <typename T>
absl::StatusOr<ElmPopulation<T>> ElmPopulation<T>::Create(
    const std::vector<Group>& groups, const PopulationOptions& options) {
  if (options.threads < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ElmPopulation: threads must be at least 1, got ", options.threads));
  }
  if (groups.empty()) {
    return absl::InvalidArgumentError("ElmPopulation: no neuron groups");
  }
  auto impl = std::make_unique<Impl>();
  int64_t max_nb = 0, max_dm = 0, max_h1 = 0, max_hidden = 0;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const Group& group = groups[gi];
    CHECK(group.model != nullptr) << "ElmPopulation: group " << gi;
    if (group.count < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("ElmPopulation: group ", gi, " has ", group.count,
                       " neurons; each group needs at least 1"));
    }
    const ElmShape& shape = group.model->shape();
    if (gi == 0) {
      impl->num_input = shape.num_input;
      impl->num_output = shape.num_output;
    } else if (shape.num_input != impl->num_input ||
               shape.num_output != impl->num_output) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ElmPopulation: group ", gi, " has ", shape.num_input, " inputs and ",
          shape.num_output, " outputs; group 0 has ", impl->num_input, " and ",
          impl->num_output, " (all models of a population must agree)"));
    }
    PopulationModel<T> g;
    g.lo = impl->num_neurons;
    g.count = group.count;
    RETURN_IF_ERROR(PackModel(*group.model, options.project_first_layer, g));
    max_nb = std::max({max_nb, g.n_branch, g.trace_width});
    max_dm = std::max(max_dm, g.dm);
    max_h1 = std::max(max_h1, g.h1);
    max_hidden = std::max(max_hidden, g.hidden);
    for (int64_t lo = 0; lo < g.count; lo += kPopulationTile) {
      impl->tiles.push_back(
          {static_cast<int>(gi), lo, std::min(g.count, lo + kPopulationTile)});
    }
    impl->num_neurons += g.count;
    impl->models.push_back(std::move(g));
  }
  const int64_t tile = kPopulationTile, n_in = impl->num_input;
  impl->tasks = static_cast<int>(std::min<int64_t>(
      options.threads, static_cast<int64_t>(impl->tiles.size())));
  impl->workspaces.resize(impl->tasks);
  for (PopulationWorkspace<T>& ws : impl->workspaces) {
    ws.a.resize(tile * max_nb);
    ws.k.resize(tile * max_dm);
    ws.a1.resize(tile * max_h1);
    ws.pre.resize(tile * max_hidden);
    ws.h.resize(tile * max_hidden);
    ws.z.resize(tile * max_dm);
    ws.th.resize(tile * max_dm);
    ws.eval.resize(tile * 2);
    ws.row_begin.resize(tile + 1);
    ws.col.resize(tile * n_in);
    ws.val.resize(tile * n_in);
  }
  if (impl->tasks > 1) {
    impl->pool = std::make_unique<ThreadPool>(impl->tasks);
    Impl* self = impl.get();
    impl->shard_fn = [self](int s) { self->Shard(s); };
  }
  impl->y.assign(impl->num_neurons * impl->num_output, T(0));
  if (impl->num_output == 2) {
    impl->prob.assign(impl->num_neurons, T(0));
    impl->soma.assign(impl->num_neurons, T(0));
  }
  return ElmPopulation(std::move(impl));
}

template <typename T>
int64_t ElmPopulation<T>::size() const {
  return impl_->num_neurons;
}
template <typename T>
int64_t ElmPopulation<T>::num_input() const {
  return impl_->num_input;
}
template <typename T>
int64_t ElmPopulation<T>::num_output() const {
  return impl_->num_output;
}
template <typename T>
int ElmPopulation<T>::threads() const {
  return impl_->tasks;
}

template <typename T>
void ElmPopulation<T>::StepSparse(const int64_t* row_begin,
                                  const int32_t* channels, const T* values) {
  Impl& s = *impl_;
  CHECK(row_begin != nullptr);
  CHECK_EQ(row_begin[0], 0) << "ElmPopulation::StepSparse: row_begin[0]";
  const int64_t nnz = row_begin[s.num_neurons];
  CHECK(nnz == 0 || channels != nullptr);
  if (values == nullptr) {
    if (static_cast<int64_t>(s.ones.size()) < nnz) s.ones.assign(nnz, T(1));
    values = s.ones.data();
  }
  s.row_begin = row_begin;
  s.channels = channels;
  s.values = values;
  s.dense = nullptr;
  s.RunStep();
}

template <typename T>
void ElmPopulation<T>::StepDense(const T* x) {
  CHECK(x != nullptr);
  impl_->dense = x;
  impl_->RunStep();
}

template <typename T>
void ElmPopulation<T>::Reset(int64_t neuron) {
  CHECK(neuron >= 0 && neuron < impl_->num_neurons)
      << "ElmPopulation::Reset: neuron " << neuron;
  for (PopulationModel<T>& g : impl_->models) {
    if (neuron < g.lo || neuron >= g.lo + g.count) continue;
    const int64_t i = neuron - g.lo;
    std::fill_n(g.u.begin() + i * g.trace_width, g.trace_width, T(0));
    std::fill_n(g.m.begin() + i * g.dm, g.dm, T(0));
  }
}

template <typename T>
void ElmPopulation<T>::ResetAll() {
  for (PopulationModel<T>& g : impl_->models) {
    std::fill(g.u.begin(), g.u.end(), T(0));
    std::fill(g.m.begin(), g.m.end(), T(0));
  }
}

template <typename T>
absl::Span<const T> ElmPopulation<T>::output() const {
  return impl_->y;
}
template <typename T>
absl::Span<const T> ElmPopulation<T>::spike_probability() const {
  return impl_->prob;
}
template <typename T>
absl::Span<const T> ElmPopulation<T>::soma_voltage() const {
  return impl_->soma;
}

template <typename T>
absl::Span<const T> ElmPopulation<T>::memory(int64_t neuron) const {
  CHECK(neuron >= 0 && neuron < impl_->num_neurons)
      << "ElmPopulation::memory: neuron " << neuron;
  for (const PopulationModel<T>& g : impl_->models) {
    if (neuron >= g.lo && neuron < g.lo + g.count)
      return absl::Span<const T>(g.m.data() + (neuron - g.lo) * g.dm, g.dm);
  }
  return {};
}

template class ElmPopulation<float>;
template class ElmPopulation<double>;

}  // namespace elm
