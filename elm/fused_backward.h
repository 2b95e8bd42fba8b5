// The backward of the fused ELM unroll (fused_unroll.h), recorded on the tape
// by FusedElmUnroll: the adjoint of every block, in reverse, with the
// checkpointed segments recomputed by ForwardBlock (fused_forward.h).
#ifndef ELM_ELM_FUSED_BACKWARD_H_
#define ELM_ELM_FUSED_BACKWARD_H_

#include "elm/fused_plan.h"

namespace elm {

// Adds the gradients of every parameter Var of the plan that needs one (and
// of the dense input x), from ȳ = plan.y.grad [B·T, n_out].
template <typename T>
void Backward(const FusedPlan<T>& plan);

}  // namespace elm

#endif  // ELM_ELM_FUSED_BACKWARD_H_
