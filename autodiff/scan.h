// The linear scan: a fused sequence op for first-order linear recurrences over
// time, which is exactly what ELM's synaptic and branch traces are.
//
// Forward, for a batch [B, T, D] stored as [B·T, D] (row b·T + t), decay a [1,
// D]:
//     y_t = a ⊙ y_{t−1} + u_t,     y_{−1} = y_init [B, D] (or 0).
// Adjoint (reverse scan; nothing is saved but the output y):
//     g_t = ȳ_t + a ⊙ g_{t+1},    g_T = 0
//     ū_t += g_t,   ā += Σ_{b,t} g_t ⊙ y_{t−1},   ȳ_init += a ⊙ g_0.
// The kernels run one batch row at a time, with a scratch vector of D for g.
#ifndef ELM_AUTODIFF_SCAN_H_
#define ELM_AUTODIFF_SCAN_H_

#include <cstdint>

#include "autodiff/tape.h"
#include "autodiff/tensor.h"

namespace elm {

// u, y: [B·T, D]; a: D values; init: [B, D] or null (zeros).
template <typename T>
void LinearScanForward(const T* a, View<const T> u, const T* init,
                       int64_t steps, View<T> y);
// Accumulates into du, da, dinit where non-null. scratch: D values.
template <typename T>
void LinearScanBackward(const T* a, View<const T> y, const T* init,
                        View<const T> dy, int64_t steps, T* scratch, T* da,
                        T* du, T* dinit);

// Tape op: y = scan(a, u) as above. a [1, D], u [B·T, D] with T = `steps`, init
// [B, D] or a Var with no elements (zero initial state). → [B·T, D].
template <typename T>
Var<T> LinearScan(Tape<T>& tape, Var<T> a, Var<T> u, int64_t steps,
                  Var<T> init = {});

}  // namespace elm

#endif  // ELM_AUTODIFF_SCAN_H_
