// The forward of one block of the fused ELM unroll (fused_unroll.h), run by
// the unroll's forward pass and by the checkpointed backward's recomputation.
#ifndef ELM_ELM_FUSED_FORWARD_H_
#define ELM_ELM_FUSED_FORWARD_H_

#include <cstdint>

#include "elm/fused_plan.h"

namespace elm {

// Runs the forward of block j (steps [t0, t1) = [j·G, min(T, (j + 1)·G)))
// into `slot`, chunk by chunk (plan.chunk_steps steps: the branch drive and
// trace, A₁'s time-parallel part, the sequential cell, and, when y is not
// null, the readout into y [B·T, n_out] and the memory record [B·T, d_m]
// (when not null) for the chunk's rows), so that each chunk's rows are still
// in cache from one stage to the next. m_prev = m_{t0−1} [B, d_m] (null for
// the first block); carry [B, plan.carry_width] holds the trace at t0 − 1 on
// entry and at t1 − 1 on return.
template <typename T>
void ForwardBlock(const FusedPlan<T>& plan, int64_t j, const T* m_prev,
                  T* carry, const Slot<T>& slot, T* y = nullptr,
                  T* memory = nullptr);

}  // namespace elm

#endif  // ELM_ELM_FUSED_FORWARD_H_
