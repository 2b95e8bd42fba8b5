// Output heads and losses on top of a model's per-step outputs y [B·T, n_out]:
//  * NeuronIO (n_out = 2: spike logit, scaled soma): the evaluation transform
//    [σ(y₀), y₁ / 0.1] (spike probability; soma in mV above −67.7 mV), the
//    training targets' scaling v ↦ (min(v, −55) + 67.7)·0.1, and the reference
//    training loss 0.5·BCEWithLogits(y₀, spike) + 0.5·MSE(y₁, soma_scaled),
//    means over all B·T steps.
//  * Classification: a readout [B, C] from the last step or the mean over
//    steps, and the softmax cross-entropy on it.
#ifndef ELM_ELM_HEADS_H_
#define ELM_ELM_HEADS_H_

#include <cstdint>

#include "absl/types/span.h"
#include "autodiff/tape.h"
#include "autodiff/tensor.h"

namespace elm {

// The reference's NeuronIO constants (elm_reference.md §4).
inline constexpr double kSomaBiasMv = -67.7;
inline constexpr double kSomaScale = 0.1;
inline constexpr double kSomaClipMv = -55.0;

// out = [σ(y[:, 0]), y[:, 1] / 0.1]; y, out: [R, 2] (may alias).
template <typename T>
void NeuronioEvalTransform(View<const T> y, View<T> out);

// Training target of a soma voltage in mV: (min(v, −55) − (−67.7)) · 0.1.
double ScaleSomaTarget(double soma_mv);

// 0.5·BCEWithLogits(y[:, 0], spike) + 0.5·MSE(y[:, 1], soma); y [R, 2], spike
// and soma [R, 1] (soma already scaled). → [1, 1].
template <typename T>
Var<T> NeuronioLoss(Tape<T>& tape, Var<T> y, Var<T> spike, Var<T> soma);

enum class Readout { kLastStep, kMeanOverSteps };

// Per-sequence readout of y [B·T, C] (T = steps): the last step's row, or the
// mean over steps. → [B, C].
template <typename T>
Var<T> ClassReadout(Tape<T>& tape, Var<T> y, int64_t steps, Readout readout);

}  // namespace elm

#endif  // ELM_ELM_HEADS_H_
