// The fused ELM unroll's entry points (fused_unroll.h): the plan
// (fused_plan.h), the forward over the blocks with the checkpoints, and the
// backward (fused_backward.h) recorded on the tape. Dense inputs are turned
// into CSR first.
#include "elm/fused_unroll.h"

#include <algorithm>
#include <type_traits>

#include "elm/fused_backward.h"
#include "elm/fused_forward.h"
#include "elm/fused_plan.h"
#include "glog/logging.h"

namespace elm {
namespace {

// Whether any parameter Var (or x) needs a gradient.
template <typename T>
bool NeedsGrad(const FusedElmParams<T>& p, Var<T> x) {
  auto needs = [](const Var<T>& v) { return v.needs_grad(); };
  return p.w_s.needs_grad() || p.kappa_m.needs_grad() || p.gain.needs_grad() ||
         p.w_y.needs_grad() || p.b_y.needs_grad() || x.needs_grad() ||
         std::any_of(p.mlp_w.begin(), p.mlp_w.end(), needs) ||
         std::any_of(p.mlp_b.begin(), p.mlp_b.end(), needs);
}

// y [B·T, n_out] for the CSR input (x: the dense input's Var, or empty).
template <typename T>
Var<T> Unroll(Tape<T>& tape, const FusedElmSpec& spec,
              const FusedElmParams<T>& p, Var<T> x, const int64_t* row_begin,
              const int32_t* col, const T* val, int64_t rows, int64_t steps,
              Var<T>* memory_record, const FusedElmOptions& options) {
  const bool needs_grad = NeedsGrad(p, x);
  FusedPlan<T> plan = BuildPlan(tape, spec, p, x, row_begin, col, val, rows,
                                steps, needs_grad, options);
  const int64_t B = plan.batch, dm = plan.d_m, width = plan.carry_width;
  const bool checkpointed = needs_grad && plan.num_segments > 1;
  Var<T> y = tape.NewVar(rows, plan.n_out, needs_grad);
  if (memory_record != nullptr) *memory_record = tape.NewVar(rows, dm, false);
  T* carry = ArenaArray<T>(tape.arena(), B * width, true);
  for (int64_t j = 0; j < plan.num_blocks; ++j) {
    const Slot<T>& slot = plan.slots[j % plan.num_slots];
    const bool segment_start = checkpointed && j % plan.segment_blocks == 0;
    const int64_t seg = j / plan.segment_blocks;
    if (segment_start) {
      std::copy(carry, carry + B * width, plan.ckpt_carry + seg * B * width);
    }
    ForwardBlock(plan, j, j == 0 ? nullptr : LastM(plan, j - 1), carry, slot,
                 y.value,
                 memory_record != nullptr ? memory_record->value : nullptr);
    if (segment_start) {
      std::copy(slot.m_in, slot.m_in + B * dm, plan.ckpt_m + seg * B * dm);
    }
  }
  if (needs_grad) {
    plan.y = y;
    tape.Record([plan] { Backward(plan); });
  }
  return y;
}

}  // namespace

template <typename T>
Var<T> FusedElmUnroll(Tape<T>& tape, const FusedElmSpec& spec,
                      const FusedElmParams<T>& p, Var<T> x, int64_t steps,
                      Var<T>* memory_record, const FusedElmOptions& options) {
  CHECK_EQ(x.cols, spec.num_input);
  // The nonzeros of the dense input, as CSR (the backward's x̄ still covers
  // every entry).
  const int64_t rows = x.rows;
  int64_t nnz = 0;
  for (int64_t i = 0; i < x.size(); ++i) nnz += x.value[i] != T(0);
  int64_t* row_begin = tape.arena().template AllocateArray<int64_t>(rows + 1);
  int32_t* col = tape.arena().template AllocateArray<int32_t>(nnz);
  T* val = tape.arena().template AllocateArray<T>(nnz);
  int64_t n = 0;
  for (int64_t r = 0; r < rows; ++r) {
    row_begin[r] = n;
    for (int64_t c = 0; c < x.cols; ++c) {
      const T v = x.value[r * x.cols + c];
      if (v != T(0)) {
        col[n] = static_cast<int32_t>(c);
        val[n++] = v;
      }
    }
  }
  row_begin[rows] = n;
  return Unroll(tape, spec, p, x, row_begin, col, val, rows, steps,
                memory_record, options);
}

template <typename T>
Var<T> FusedElmUnroll(Tape<T>& tape, const FusedElmSpec& spec,
                      const FusedElmParams<T>& p, const CsrView& x,
                      int64_t steps, Var<T>* memory_record,
                      const FusedElmOptions& options) {
  CHECK_EQ(x.cols, spec.num_input);
  const int64_t nnz = x.row_begin[x.rows];
  const T* val;
  if constexpr (std::is_same_v<T, float>) {
    val = x.value;
  } else {
    T* converted = tape.arena().template AllocateArray<T>(nnz);
    for (int64_t i = 0; i < nnz; ++i) converted[i] = static_cast<T>(x.value[i]);
    val = converted;
  }
  return Unroll(tape, spec, p, Var<T>{}, x.row_begin, x.col, val, x.rows, steps,
                memory_record, options);
}

template Var<float> FusedElmUnroll<float>(Tape<float>&, const FusedElmSpec&,
                                          const FusedElmParams<float>&,
                                          Var<float>, int64_t, Var<float>*,
                                          const FusedElmOptions&);
template Var<double> FusedElmUnroll<double>(Tape<double>&, const FusedElmSpec&,
                                            const FusedElmParams<double>&,
                                            Var<double>, int64_t, Var<double>*,
                                            const FusedElmOptions&);
template Var<float> FusedElmUnroll<float>(Tape<float>&, const FusedElmSpec&,
                                          const FusedElmParams<float>&,
                                          const CsrView&, int64_t, Var<float>*,
                                          const FusedElmOptions&);
template Var<double> FusedElmUnroll<double>(Tape<double>&, const FusedElmSpec&,
                                            const FusedElmParams<double>&,
                                            const CsrView&, int64_t,
                                            Var<double>*,
                                            const FusedElmOptions&);

}  // namespace elm
