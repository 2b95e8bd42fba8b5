// Differentiable primitive ops on the tape. Each runs its kernel (kernels.h) on
// arena buffers and, when any input needs a gradient, records the matching
// backward kernel. Instantiated for float (training) and double (gradient
// checks).
//
// Shapes are [rows, cols]; a sequence batch [B, T, D] is [B·T, D] (see
// tensor.h). Broadcasting for Add/Sub/Mul/Div: each operand has 1 or R rows and
// 1 or C columns.
//
// Example: a two-layer MLP with a BCE loss (w1 [16, 8], b1 [1, 16], w2 [1, 16],
// b2 [1, 1] are parameter Vars, e.g. from ParamSet::OnTape in params.h).
//   Tape<float> tape;
//   Var<float> x = tape.Constant(batch.data(), B, 8);    // [B, 8]
//   Var<float> h = Tanh(tape, Linear(tape, x, w1, b1));  // [B, 16]
//   Var<float> logit = Linear(tape, h, w2, b2);          // [B, 1]
//   Var<float> loss = BceWithLogits(tape, logit, tape.Constant(y, B, 1));
//   tape.Backward(loss);                           // adds into w1.grad, ...
#ifndef ELM_AUTODIFF_OPS_H_
#define ELM_AUTODIFF_OPS_H_

#include <cstdint>

#include "absl/types/span.h"
#include "autodiff/kernels.h"
#include "autodiff/tape.h"
#include "base/rng.h"

namespace elm {

// op(a) · op(b), op = transpose when asked. [M, K] · [K, N] → [M, N].
template <typename T>
Var<T> MatMul(Tape<T>& tape, Var<T> a, Var<T> b, bool transpose_a = false,
              bool transpose_b = false);

// x · Wᵀ + bias with PyTorch's Linear layout: x [N, in], weight [out, in], bias
// [1, out] (bias may be a Var with no elements for no bias). → [N, out].
template <typename T>
Var<T> Linear(Tape<T>& tape, Var<T> x, Var<T> weight, Var<T> bias);

// Broadcasting elementwise a ∘ b (see file comment). → [max rows, max cols].
template <typename T>
Var<T> Add(Tape<T>& tape, Var<T> a, Var<T> b);
template <typename T>
Var<T> Sub(Tape<T>& tape, Var<T> a, Var<T> b);
template <typename T>
Var<T> Mul(Tape<T>& tape, Var<T> a, Var<T> b);
template <typename T>
Var<T> Div(Tape<T>& tape, Var<T> a, Var<T> b);

// alpha · x + beta, for constants alpha, beta. Scale(x, a) = Affine(x, a, 0).
template <typename T>
Var<T> Affine(Tape<T>& tape, Var<T> x, T alpha, T beta);
template <typename T>
Var<T> Scale(Tape<T>& tape, Var<T> x, T alpha);

// Elementwise functions (derivatives in kernels.h).
template <typename T>
Var<T> Exp(Tape<T>& tape, Var<T> x);
template <typename T>
Var<T> Log(Tape<T>& tape, Var<T> x);
template <typename T>
Var<T> Tanh(Tape<T>& tape, Var<T> x);
template <typename T>
Var<T> Sigmoid(Tape<T>& tape, Var<T> x);
template <typename T>
Var<T> Relu(Tape<T>& tape, Var<T> x);
template <typename T>
Var<T> Silu(Tape<T>& tape, Var<T> x);
template <typename T>
Var<T> Softplus(Tape<T>& tape, Var<T> x);
template <typename T>
Var<T> Unary(Tape<T>& tape, UnaryOp op, Var<T> x);
// min(max(x, lo), hi).
template <typename T>
Var<T> Clamp(Tape<T>& tape, Var<T> x, T lo, T hi);

// Feature-axis (column) concatenation of parts with equal rows. → [R, Σ cols].
template <typename T>
Var<T> Concat(Tape<T>& tape, absl::Span<const Var<T>> parts);
// Columns [begin, end) of x. → [R, end − begin].
template <typename T>
Var<T> SliceCols(Tape<T>& tape, Var<T> x, int64_t begin, int64_t end);
// y[:, j] = x[:, index[j]] (index-select of columns; repeats allowed). → [R,
// index.size()].
template <typename T>
Var<T> GatherCols(Tape<T>& tape, Var<T> x, absl::Span<const int64_t> index);

// Sum or mean over axis 0 (→ [1, C]) or axis 1 (→ [R, 1]); SumAll/MeanAll → [1,
// 1].
template <typename T>
Var<T> Sum(Tape<T>& tape, Var<T> x, int axis);
template <typename T>
Var<T> Mean(Tape<T>& tape, Var<T> x, int axis);
template <typename T>
Var<T> SumAll(Tape<T>& tape, Var<T> x);
template <typename T>
Var<T> MeanAll(Tape<T>& tape, Var<T> x);

// Losses, mean over elements (rows for cross-entropy). → [1, 1].
template <typename T>
Var<T> BceWithLogits(Tape<T>& tape, Var<T> logits, Var<T> targets);
template <typename T>
Var<T> Mse(Tape<T>& tape, Var<T> prediction, Var<T> target);
// logits [N, C], labels N integers in [0, C).
template <typename T>
Var<T> SoftmaxCrossEntropy(Tape<T>& tape, Var<T> logits,
                           absl::Span<const int64_t> labels);

// Inverted dropout: in training, each element is zeroed with probability p and
// the rest scaled by 1/(1 − p), with the mask drawn from `rng` (seeded:
// reproducible). Identity when not training or p = 0.
template <typename T>
Var<T> Dropout(Tape<T>& tape, Var<T> x, double p, Rng& rng, bool training);

// The same buffers seen as [rows, cols] (rows·cols must equal x.size()). No
// copy, no record.
template <typename T>
Var<T> Reshape(Var<T> x, int64_t rows, int64_t cols) {
  CHECK_EQ(rows * cols, x.size()) << "Reshape [" << x.rows << ", " << x.cols
                                  << "] to [" << rows << ", " << cols << "]";
  x.rows = rows;
  x.cols = cols;
  return x;
}

}  // namespace elm

#endif  // ELM_AUTODIFF_OPS_H_
