// Streaming inference for a population of ELM neurons: N neurons (one trained
// model shared by all, or groups of neurons with a model each) stepped one Δt
// at a time, as a network simulator uses a neuron model. The state of every
// neuron (branch traces u [B_r] and memory m [d_m]) is held inside; a step
// takes this step's input of every neuron and returns every neuron's output
// y [n_out] (for NeuronIO models also the spike probability σ(y₀) and the
// soma voltage 10·y₁ in mV relative to −67.7 mV, as `neuronio_eval_forward`).
// Any neuron can be reset to the zero state (a new sequence) at any step.
//
// Per step, for every neuron (notation of fused_unroll.h; one row per neuron):
//   a_t = Σ_{active inputs c} x_c · chan_w[c]     (branch drive)    [B_r]
//   u_t = a_t + κ_u ⊙ u_{t−1}                     (branch traces)   [B_r]
//   k_t = κ_m ⊙ m_{t−1}
//   A₁ = b₁ + u_t·W₁ᵤᵀ + k_t·W₁ₘᵀ;  h_l = act(A_l);
//   z_t = A_{L+1} = h_L·W_{L+1}ᵀ + b_{L+1}
//   m_t = k_t + g ⊙ 1.7159·tanh(2z_t/3);  y_t = m_t·W_yᵀ + b_y
// These are the fused unroll's own kernels (branch_drive.h and the packed
// products of autodiff/simd/gemm.h) applied to a tile of neurons at one step
// instead of a chunk of steps: every product is one GEMM over the tile's rows
// (tiles of kPopulationTile neurons, so that a tile's activations stay in L1),
// the tiles of each model group split over the threads. Since those kernels'
// results depend neither on the number of rows nor on the blocking, with
// PopulationOptions::project_first_layer = false a neuron's outputs are bit
// for bit those of the batch forward (ElmModel::FusedUnroll, //elm:forward's
// fused path) on the same inputs, except for models whose fused unroll takes
// the projected first layer (B_r ≥ 2·H₁, e.g. NeuronIO d_m ≤ 11), which sums
// in another order. By default (project_first_layer = true) the trace is kept
// projected through the first layer, p_t = u_t·W₁ᵤᵀ (see there), which
// halves the work of the NeuronIO models and changes the rounding only.
// Either way the outputs agree with the batch forward and the reference's
// golden outputs to the golden tolerances (population_test).
//
// Nothing is allocated per step (the thread pool's task is built once; the
// one exception: a sparse step without values that has more nonzeros than
// any step before grows a buffer of ones). Not thread-safe: one caller steps a
// population at a time.
//
// Example, N neurons of one model with spike inputs:
//   ASSIGN_OR_RETURN(ElmModel<float> model, LoadElmModelFile<float>(path));
//   ASSIGN_OR_RETURN(ElmPopulation<float> pop,
//                    ElmPopulation<float>::Create(model, N, {.threads = 2}));
//   for (each step) {
//     // row_begin [N + 1], channels: the active inputs of neuron i are
//     // channels[row_begin[i] .. row_begin[i + 1]).
//     pop.StepSparse(row_begin.data(), channels.data(), /*values=*/nullptr);
//     absl::Span<const float> p = pop.spike_probability();  // [N]
//   }
#ifndef ELM_ELM_POPULATION_H_
#define ELM_ELM_POPULATION_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "elm/model.h"

namespace elm {

// Neurons per tile of the per-step products.
constexpr int64_t kPopulationTile = 32;

struct PopulationOptions {
  int threads = 1;  // worker threads, the caller's included (≥ 1)
  // Keep the branch trace projected through the first layer, p = U·W₁ᵤᵀ
  // [H₁] instead of U [B_r] (exact algebra since p_t = κ·p_{t−1} +
  // a_t·W₁ᵤᵀ when all branches share κ): each input spike adds a
  // precomputed row of H₁ (chan_w·W₁ᵤᵀ) and the product U·W₁ᵤᵀ disappears
  // (NeuronIO d_m = 15: 2,910 → ~1,400 multiply-adds per neuron-step). Taken
  // when every branch has the same κ and H₁ fits the dense drive (≤ 64
  // floats, 32 doubles); outputs then agree with the batch forward to
  // rounding instead of bit for bit. false: the batch forward's exact order.
  bool project_first_layer = true;
};

template <typename T>
class ElmPopulation {
 public:
  // A group of `count` neurons sharing `model`.
  struct Group {
    const ElmModel<T>* model = nullptr;
    int64_t count = 0;
  };

  // N neurons of one model. Errors: InvalidArgument when N < 1, threads < 1,
  // or the model cannot run fused (a v1 model whose τ_s differ within a
  // branch).
  static absl::StatusOr<ElmPopulation> Create(const ElmModel<T>& model,
                                              int64_t num_neurons,
                                              const PopulationOptions& options);
  // Groups of neurons with a model each, numbered group by group (group 0's
  // neurons first). All models must have the same num_input and num_output.
  static absl::StatusOr<ElmPopulation> Create(const std::vector<Group>& groups,
                                              const PopulationOptions& options);

  ElmPopulation(ElmPopulation&&) noexcept;
  ElmPopulation& operator=(ElmPopulation&&) noexcept;
  ~ElmPopulation();

  int64_t size() const;
  int64_t num_input() const;
  int64_t num_output() const;
  int threads() const;

  // One step with sparse input: neuron i's nonzero inputs are
  // (channels[q], values[q]) for q in [row_begin[i], row_begin[i + 1]) (a CSR
  // over neurons, row_begin [N + 1]; values null: every value 1, spikes).
  // Channels must be in [0, num_input) (CHECKed).
  void StepSparse(const int64_t* row_begin, const int32_t* channels,
                  const T* values);
  // One step with dense input x [N, num_input] (zeros skipped).
  void StepDense(const T* x);

  // Resets neuron i (or all) to the zero state: its next step is the first
  // step of a new sequence.
  void Reset(int64_t neuron);
  void ResetAll();

  // The outputs of the last step: y [N, n_out] row-major; for 2-output
  // (NeuronIO) models the spike probability σ(y₀) [N] and the soma voltage
  // y₁/0.1 [N] (mV relative to −67.7 mV); empty for other models.
  absl::Span<const T> output() const;
  absl::Span<const T> spike_probability() const;
  absl::Span<const T> soma_voltage() const;
  // Neuron i's memory m [d_m] (the state after the last step).
  absl::Span<const T> memory(int64_t neuron) const;

 private:
  struct Impl;  // the models' packed weights, the state and the threads
  explicit ElmPopulation(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

extern template class ElmPopulation<float>;
extern template class ElmPopulation<double>;

}  // namespace elm

#endif  // ELM_ELM_POPULATION_H_
