// Numeric kernels of the primitive ops, in forward/backward pairs over
// row-major views, templated on the scalar type (instantiated for float and
// double). They know nothing of the tape: evaluation, benchmarks and checkpoint
// re-forwards call them directly; ops.h wraps them as tape ops. Forward kernels
// overwrite their outputs. Backward kernels ACCUMULATE (+=) into every input
// adjoint that is non-null and skip null ones.
//
// Shapes: every tensor is a matrix [rows, cols]. Broadcasting (binary ops) is
// per axis: an operand with 1 row (or 1 column) is repeated along that axis, so
// [R, C] op [1, C] broadcasts a row vector, [R, C] op [R, 1] a column vector,
// [R, C] op [1, 1] a scalar.
#ifndef ELM_AUTODIFF_KERNELS_H_
#define ELM_AUTODIFF_KERNELS_H_

#include <cstdint>

#include "autodiff/tensor.h"

namespace elm {

// ----- Matrix product: C = op(A) · op(B), op(X) = X or Xᵀ. -----
// Adjoints: with C = A·B, Ā += C̄·Bᵀ and B̄ += Aᵀ·C̄ (transposed accordingly).
template <typename T>
void MatMulForward(View<const T> a, View<const T> b, View<T> c,
                   bool transpose_a, bool transpose_b);
template <typename T>
void MatMulBackward(View<const T> a, View<const T> b, View<const T> dc,
                    View<T> da, View<T> db, bool transpose_a, bool transpose_b);

// ----- Elementwise unary functions y = f(x). -----
// exp: y' = y; log: 1/x; tanh: 1 - y²; sigmoid: y(1 - y); relu: 1[x > 0] (0 at
// the kink, as PyTorch); silu x·σ(x): σ(x)(1 + x(1 - σ(x))); softplus log(1 +
// eˣ): σ(x).
enum class UnaryOp { kExp, kLog, kTanh, kSigmoid, kRelu, kSilu, kSoftplus };

template <typename T>
void UnaryForward(UnaryOp op, const T* x, T* y, int64_t n);
// dx += f'(x) ⊙ dy; uses x or y, whichever the rule needs.
template <typename T>
void UnaryBackward(UnaryOp op, const T* x, const T* y, const T* dy, T* dx,
                   int64_t n);

// Numerically stable scalar helpers shared with fused kernels.
template <typename T>
T StableSigmoid(T x);
template <typename T>
T StableSoftplus(T x);

// ----- y = alpha · x + beta (scale and shift by constants). -----
template <typename T>
void AffineForward(const T* x, T alpha, T beta, T* y, int64_t n);
template <typename T>
void AffineBackward(const T* dy, T alpha, T* dx, int64_t n);

// ----- y = min(max(x, lo), hi); the gradient passes where lo ≤ x ≤ hi (as
// PyTorch). -----
template <typename T>
void ClampForward(const T* x, T lo, T hi, T* y, int64_t n);
template <typename T>
void ClampBackward(const T* x, T lo, T hi, const T* dy, T* dx, int64_t n);

// ----- Broadcasting binary ops: out = a ∘ b, out [R, C]. -----
// add: ā += ō, b̄ += ō; sub: ā += ō, b̄ −= ō; mul: ā += ō·b, b̄ += ō·a;
// div: ā += ō/b, b̄ −= ō·a/b². Broadcast operands receive the sum over repeated
// axes.
enum class BinaryOp { kAdd, kSub, kMul, kDiv };

template <typename T>
void BinaryForward(BinaryOp op, View<const T> a, View<const T> b, View<T> out);
template <typename T>
void BinaryBackward(BinaryOp op, View<const T> a, View<const T> b,
                    View<const T> dout, View<T> da, View<T> db);

// ----- Reductions over an axis. axis 0: [R, C] → [1, C]; axis 1: [R, C] → [R,
// 1]. ----- y = scale · Σ x over the axis (scale 1 for sum, 1/n for mean); x̄ +=
// scale · ȳ broadcast.
template <typename T>
void SumForward(View<const T> x, int axis, T scale, View<T> y);
template <typename T>
void SumBackward(View<const T> dy, int axis, T scale, View<T> dx);

// ----- Column slicing, gathering and concatenation. -----
// y[:, j] = x[:, begin + j] for j < y.cols.
template <typename T>
void SliceColsForward(View<const T> x, int64_t begin, View<T> y);
template <typename T>
void SliceColsBackward(View<const T> dy, int64_t begin, View<T> dx);
// y[:, j] = x[:, index[j]]; backward scatter-adds (repeated indices
// accumulate).
template <typename T>
void GatherColsForward(View<const T> x, const int64_t* index, View<T> y);
template <typename T>
void GatherColsBackward(View<const T> dy, const int64_t* index, View<T> dx);

// ----- Losses, mean over all elements (or rows), as PyTorch's default
// reduction. ----- BCE with logits x and targets z: ℓ = max(x,0) − x·z + log(1
// + e^{−|x|}); ∂ℓ/∂x = σ(x) − z, ∂ℓ/∂z = −x. Returns the mean over all n
// elements.
template <typename T>
T BceWithLogitsForward(const T* x, const T* z, int64_t n);
template <typename T>
void BceWithLogitsBackward(const T* x, const T* z, int64_t n, T dloss, T* dx,
                           T* dz);
// MSE: mean (p − q)²; p̄ += 2(p − q)/n, q̄ −= 2(p − q)/n.
template <typename T>
T MseForward(const T* p, const T* q, int64_t n);
template <typename T>
void MseBackward(const T* p, const T* q, int64_t n, T dloss, T* dp, T* dq);
// Softmax cross-entropy of logits [N, C] with integer labels in [0, C): mean
// over rows of logsumexp(x_i) − x_i[label_i]. Writes the softmax probabilities
// to `probs` [N, C]; backward uses them: x̄_i += (p_i − onehot(label_i)) · dloss
// / N.
template <typename T>
T SoftmaxCrossEntropyForward(View<const T> logits, const int64_t* labels,
                             View<T> probs);
template <typename T>
void SoftmaxCrossEntropyBackward(View<const T> probs, const int64_t* labels,
                                 T dloss, View<T> dlogits);

}  // namespace elm

#endif  // ELM_AUTODIFF_KERNELS_H_
