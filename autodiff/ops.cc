// Tape wrappers of the primitive kernels: see ops.h.
#include "autodiff/ops.h"

#include <algorithm>

#include "glog/logging.h"

namespace elm {
namespace {

template <typename T>
View<const T> CV(const Var<T>& v) {
  return {v.value, v.rows, v.cols};
}
template <typename T>
View<const T> CG(const Var<T>& v) {
  return {v.grad, v.rows, v.cols};
}
template <typename T>
View<T> G(const Var<T>& v) {
  return {v.grad, v.rows, v.cols};
}

template <typename T>
int64_t BroadcastDim(int64_t a, int64_t b, const char* what, const Var<T>& x,
                     const Var<T>& y) {
  CHECK(a == b || a == 1 || b == 1)
      << what << ": shapes [" << x.rows << ", " << x.cols << "] and [" << y.rows
      << ", " << y.cols << "] do not broadcast";
  return std::max(a, b);
}

template <typename T>
Var<T> Binary(Tape<T>& tape, BinaryOp op, Var<T> a, Var<T> b) {
  tape.CheckLive(a);
  tape.CheckLive(b);
  const int64_t rows = BroadcastDim(a.rows, b.rows, "binary op rows", a, b);
  const int64_t cols = BroadcastDim(a.cols, b.cols, "binary op cols", a, b);
  Var<T> out = tape.NewVar(rows, cols, a.needs_grad() || b.needs_grad());
  BinaryForward<T>(op, CV(a), CV(b), out.value_view());
  if (out.needs_grad()) {
    tape.Record([op, a, b, out] {
      BinaryBackward<T>(op, CV(a), CV(b), CG(out), G(a), G(b));
    });
  }
  return out;
}

}  // namespace

template <typename T>
Var<T> MatMul(Tape<T>& tape, Var<T> a, Var<T> b, bool transpose_a,
              bool transpose_b) {
  tape.CheckLive(a);
  tape.CheckLive(b);
  const int64_t m = transpose_a ? a.cols : a.rows;
  const int64_t ka = transpose_a ? a.rows : a.cols;
  const int64_t kb = transpose_b ? b.cols : b.rows;
  const int64_t n = transpose_b ? b.rows : b.cols;
  CHECK_EQ(ka, kb) << "MatMul: inner dimensions differ: [" << a.rows << ", "
                   << a.cols << "]" << (transpose_a ? "ᵀ" : "") << " · ["
                   << b.rows << ", " << b.cols << "]"
                   << (transpose_b ? "ᵀ" : "");
  Var<T> c = tape.NewVar(m, n, a.needs_grad() || b.needs_grad());
  MatMulForward<T>(CV(a), CV(b), c.value_view(), transpose_a, transpose_b);
  if (c.needs_grad()) {
    tape.Record([a, b, c, transpose_a, transpose_b] {
      MatMulBackward<T>(CV(a), CV(b), CG(c), G(a), G(b), transpose_a,
                        transpose_b);
    });
  }
  return c;
}

template <typename T>
Var<T> Linear(Tape<T>& tape, Var<T> x, Var<T> weight, Var<T> bias) {
  Var<T> y =
      MatMul(tape, x, weight, /*transpose_a=*/false, /*transpose_b=*/true);
  if (bias.size() == 0) return y;
  CHECK(bias.rows == 1 && bias.cols == weight.rows)
      << "Linear: bias must be [1, " << weight.rows << "], got [" << bias.rows
      << ", " << bias.cols << "]";
  return Add(tape, y, bias);
}

template <typename T>
Var<T> Add(Tape<T>& tape, Var<T> a, Var<T> b) {
  return Binary(tape, BinaryOp::kAdd, a, b);
}
template <typename T>
Var<T> Sub(Tape<T>& tape, Var<T> a, Var<T> b) {
  return Binary(tape, BinaryOp::kSub, a, b);
}
template <typename T>
Var<T> Mul(Tape<T>& tape, Var<T> a, Var<T> b) {
  return Binary(tape, BinaryOp::kMul, a, b);
}
template <typename T>
Var<T> Div(Tape<T>& tape, Var<T> a, Var<T> b) {
  return Binary(tape, BinaryOp::kDiv, a, b);
}

template <typename T>
Var<T> Affine(Tape<T>& tape, Var<T> x, T alpha, T beta) {
  tape.CheckLive(x);
  Var<T> y = tape.NewVar(x.rows, x.cols, x.needs_grad());
  AffineForward<T>(x.value, alpha, beta, y.value, x.size());
  if (y.needs_grad()) {
    tape.Record(
        [x, y, alpha] { AffineBackward<T>(y.grad, alpha, x.grad, x.size()); });
  }
  return y;
}

template <typename T>
Var<T> Scale(Tape<T>& tape, Var<T> x, T alpha) {
  return Affine(tape, x, alpha, T(0));
}

template <typename T>
Var<T> Unary(Tape<T>& tape, UnaryOp op, Var<T> x) {
  tape.CheckLive(x);
  Var<T> y = tape.NewVar(x.rows, x.cols, x.needs_grad());
  UnaryForward<T>(op, x.value, y.value, x.size());
  if (y.needs_grad()) {
    tape.Record([op, x, y] {
      UnaryBackward<T>(op, x.value, y.value, y.grad, x.grad, x.size());
    });
  }
  return y;
}

template <typename T>
Var<T> Exp(Tape<T>& tape, Var<T> x) {
  return Unary(tape, UnaryOp::kExp, x);
}
template <typename T>
Var<T> Log(Tape<T>& tape, Var<T> x) {
  return Unary(tape, UnaryOp::kLog, x);
}
template <typename T>
Var<T> Tanh(Tape<T>& tape, Var<T> x) {
  return Unary(tape, UnaryOp::kTanh, x);
}
template <typename T>
Var<T> Sigmoid(Tape<T>& tape, Var<T> x) {
  return Unary(tape, UnaryOp::kSigmoid, x);
}
template <typename T>
Var<T> Relu(Tape<T>& tape, Var<T> x) {
  return Unary(tape, UnaryOp::kRelu, x);
}
template <typename T>
Var<T> Silu(Tape<T>& tape, Var<T> x) {
  return Unary(tape, UnaryOp::kSilu, x);
}
template <typename T>
Var<T> Softplus(Tape<T>& tape, Var<T> x) {
  return Unary(tape, UnaryOp::kSoftplus, x);
}

template <typename T>
Var<T> Clamp(Tape<T>& tape, Var<T> x, T lo, T hi) {
  tape.CheckLive(x);
  CHECK_LE(lo, hi) << "Clamp: lo > hi";
  Var<T> y = tape.NewVar(x.rows, x.cols, x.needs_grad());
  ClampForward<T>(x.value, lo, hi, y.value, x.size());
  if (y.needs_grad()) {
    tape.Record([x, y, lo, hi] {
      ClampBackward<T>(x.value, lo, hi, y.grad, x.grad, x.size());
    });
  }
  return y;
}

template <typename T>
Var<T> Concat(Tape<T>& tape, absl::Span<const Var<T>> parts) {
  CHECK(!parts.empty()) << "Concat of no parts";
  const int64_t rows = parts[0].rows;
  int64_t cols = 0;
  bool needs_grad = false;
  for (const Var<T>& p : parts) {
    tape.CheckLive(p);
    CHECK_EQ(p.rows, rows) << "Concat: parts have different row counts";
    cols += p.cols;
    needs_grad = needs_grad || p.needs_grad();
  }
  Var<T> y = tape.NewVar(rows, cols, needs_grad);
  int64_t offset = 0;
  for (const Var<T>& p : parts) {
    for (int64_t r = 0; r < rows; ++r) {
      std::copy(p.value + r * p.cols, p.value + (r + 1) * p.cols,
                y.value + r * cols + offset);
    }
    offset += p.cols;
  }
  if (needs_grad) {
    const size_t n = parts.size();
    Var<T>* saved = tape.arena().template AllocateArray<Var<T>>(n);
    std::copy(parts.begin(), parts.end(), saved);
    tape.Record([saved, n, y] {
      int64_t begin = 0;
      for (size_t i = 0; i < n; ++i) {
        const Var<T>& part = saved[i];
        if (part.needs_grad()) {
          for (int64_t r = 0; r < y.rows; ++r) {
            const T* src = y.grad + r * y.cols + begin;
            T* dst = part.grad + r * part.cols;
            for (int64_t c = 0; c < part.cols; ++c) dst[c] += src[c];
          }
        }
        begin += part.cols;
      }
    });
  }
  return y;
}

template <typename T>
Var<T> SliceCols(Tape<T>& tape, Var<T> x, int64_t begin, int64_t end) {
  tape.CheckLive(x);
  CHECK(0 <= begin && begin <= end && end <= x.cols)
      << "SliceCols [" << begin << ", " << end << ") of " << x.cols
      << " columns";
  Var<T> y = tape.NewVar(x.rows, end - begin, x.needs_grad());
  SliceColsForward<T>(CV(x), begin, y.value_view());
  if (y.needs_grad()) {
    tape.Record([x, y, begin] { SliceColsBackward<T>(CG(y), begin, G(x)); });
  }
  return y;
}

template <typename T>
Var<T> GatherCols(Tape<T>& tape, Var<T> x, absl::Span<const int64_t> index) {
  tape.CheckLive(x);
  const int64_t n = static_cast<int64_t>(index.size());
  for (int64_t j = 0; j < n; ++j) {
    CHECK(index[j] >= 0 && index[j] < x.cols)
        << "GatherCols: index[" << j << "] = " << index[j] << " outside [0, "
        << x.cols << ")";
  }
  Var<T> y = tape.NewVar(x.rows, n, x.needs_grad());
  GatherColsForward<T>(CV(x), index.data(), y.value_view());
  if (y.needs_grad()) {
    int64_t* saved = tape.arena().template AllocateArray<int64_t>(n);
    std::copy(index.begin(), index.end(), saved);
    tape.Record([x, y, saved] { GatherColsBackward<T>(CG(y), saved, G(x)); });
  }
  return y;
}

namespace {

template <typename T>
Var<T> Reduce(Tape<T>& tape, Var<T> x, int axis, bool mean) {
  tape.CheckLive(x);
  CHECK(axis == 0 || axis == 1)
      << "reduction axis must be 0 or 1, got " << axis;
  const int64_t n = axis == 0 ? x.rows : x.cols;
  const T scale = mean ? T(1) / static_cast<T>(n) : T(1);
  Var<T> y = axis == 0 ? tape.NewVar(1, x.cols, x.needs_grad())
                       : tape.NewVar(x.rows, 1, x.needs_grad());
  SumForward<T>(CV(x), axis, scale, y.value_view());
  if (y.needs_grad()) {
    tape.Record(
        [x, y, axis, scale] { SumBackward<T>(CG(y), axis, scale, G(x)); });
  }
  return y;
}

}  // namespace

template <typename T>
Var<T> Sum(Tape<T>& tape, Var<T> x, int axis) {
  return Reduce(tape, x, axis, /*mean=*/false);
}
template <typename T>
Var<T> Mean(Tape<T>& tape, Var<T> x, int axis) {
  return Reduce(tape, x, axis, /*mean=*/true);
}
template <typename T>
Var<T> SumAll(Tape<T>& tape, Var<T> x) {
  return Reduce(tape, Reshape(x, 1, x.size()), 1, /*mean=*/false);
}
template <typename T>
Var<T> MeanAll(Tape<T>& tape, Var<T> x) {
  return Reduce(tape, Reshape(x, 1, x.size()), 1, /*mean=*/true);
}

template <typename T>
Var<T> BceWithLogits(Tape<T>& tape, Var<T> logits, Var<T> targets) {
  tape.CheckLive(logits);
  tape.CheckLive(targets);
  CHECK(logits.rows == targets.rows && logits.cols == targets.cols)
      << "BceWithLogits: logits and targets differ in shape";
  Var<T> loss = tape.NewVar(1, 1, logits.needs_grad() || targets.needs_grad());
  loss.value[0] =
      BceWithLogitsForward<T>(logits.value, targets.value, logits.size());
  if (loss.needs_grad()) {
    tape.Record([logits, targets, loss] {
      BceWithLogitsBackward<T>(logits.value, targets.value, logits.size(),
                               loss.grad[0], logits.grad, targets.grad);
    });
  }
  return loss;
}

template <typename T>
Var<T> Mse(Tape<T>& tape, Var<T> prediction, Var<T> target) {
  tape.CheckLive(prediction);
  tape.CheckLive(target);
  CHECK(prediction.rows == target.rows && prediction.cols == target.cols)
      << "Mse: prediction and target differ in shape";
  Var<T> loss =
      tape.NewVar(1, 1, prediction.needs_grad() || target.needs_grad());
  loss.value[0] =
      MseForward<T>(prediction.value, target.value, prediction.size());
  if (loss.needs_grad()) {
    tape.Record([prediction, target, loss] {
      MseBackward<T>(prediction.value, target.value, prediction.size(),
                     loss.grad[0], prediction.grad, target.grad);
    });
  }
  return loss;
}

template <typename T>
Var<T> SoftmaxCrossEntropy(Tape<T>& tape, Var<T> logits,
                           absl::Span<const int64_t> labels) {
  tape.CheckLive(logits);
  CHECK_EQ(static_cast<int64_t>(labels.size()), logits.rows)
      << "SoftmaxCrossEntropy: one label per row";
  Var<T> loss = tape.NewVar(1, 1, logits.needs_grad());
  T* probs = tape.arena().template AllocateArray<T>(logits.size());
  const View<T> pv{probs, logits.rows, logits.cols};
  loss.value[0] = SoftmaxCrossEntropyForward<T>(CV(logits), labels.data(), pv);
  if (loss.needs_grad()) {
    int64_t* saved =
        tape.arena().template AllocateArray<int64_t>(labels.size());
    std::copy(labels.begin(), labels.end(), saved);
    tape.Record([logits, loss, pv, saved] {
      SoftmaxCrossEntropyBackward<T>(pv, saved, loss.grad[0], G(logits));
    });
  }
  return loss;
}

template <typename T>
Var<T> Dropout(Tape<T>& tape, Var<T> x, double p, Rng& rng, bool training) {
  tape.CheckLive(x);
  CHECK(p >= 0.0 && p < 1.0)
      << "Dropout probability must be in [0, 1), got " << p;
  if (!training || p == 0.0) return x;
  const T keep_scale = static_cast<T>(1.0 / (1.0 - p));
  T* mask = tape.arena().template AllocateArray<T>(x.size());
  for (int64_t i = 0; i < x.size(); ++i)
    mask[i] = rng.Uniform() < p ? T(0) : keep_scale;
  Var<T> y = tape.NewVar(x.rows, x.cols, x.needs_grad());
  for (int64_t i = 0; i < x.size(); ++i) y.value[i] = x.value[i] * mask[i];
  if (y.needs_grad()) {
    tape.Record([x, y, mask] {
      for (int64_t i = 0; i < x.size(); ++i) x.grad[i] += y.grad[i] * mask[i];
    });
  }
  return y;
}

#define ELM_INSTANTIATE_OPS(T)                                                \
  template Var<T> MatMul<T>(Tape<T>&, Var<T>, Var<T>, bool, bool);            \
  template Var<T> Linear<T>(Tape<T>&, Var<T>, Var<T>, Var<T>);                \
  template Var<T> Add<T>(Tape<T>&, Var<T>, Var<T>);                           \
  template Var<T> Sub<T>(Tape<T>&, Var<T>, Var<T>);                           \
  template Var<T> Mul<T>(Tape<T>&, Var<T>, Var<T>);                           \
  template Var<T> Div<T>(Tape<T>&, Var<T>, Var<T>);                           \
  template Var<T> Affine<T>(Tape<T>&, Var<T>, T, T);                          \
  template Var<T> Scale<T>(Tape<T>&, Var<T>, T);                              \
  template Var<T> Unary<T>(Tape<T>&, UnaryOp, Var<T>);                        \
  template Var<T> Exp<T>(Tape<T>&, Var<T>);                                   \
  template Var<T> Log<T>(Tape<T>&, Var<T>);                                   \
  template Var<T> Tanh<T>(Tape<T>&, Var<T>);                                  \
  template Var<T> Sigmoid<T>(Tape<T>&, Var<T>);                               \
  template Var<T> Relu<T>(Tape<T>&, Var<T>);                                  \
  template Var<T> Silu<T>(Tape<T>&, Var<T>);                                  \
  template Var<T> Softplus<T>(Tape<T>&, Var<T>);                              \
  template Var<T> Clamp<T>(Tape<T>&, Var<T>, T, T);                           \
  template Var<T> Concat<T>(Tape<T>&, absl::Span<const Var<T>>);              \
  template Var<T> SliceCols<T>(Tape<T>&, Var<T>, int64_t, int64_t);           \
  template Var<T> GatherCols<T>(Tape<T>&, Var<T>, absl::Span<const int64_t>); \
  template Var<T> Sum<T>(Tape<T>&, Var<T>, int);                              \
  template Var<T> Mean<T>(Tape<T>&, Var<T>, int);                             \
  template Var<T> SumAll<T>(Tape<T>&, Var<T>);                                \
  template Var<T> MeanAll<T>(Tape<T>&, Var<T>);                               \
  template Var<T> BceWithLogits<T>(Tape<T>&, Var<T>, Var<T>);                 \
  template Var<T> Mse<T>(Tape<T>&, Var<T>, Var<T>);                           \
  template Var<T> SoftmaxCrossEntropy<T>(Tape<T>&, Var<T>,                    \
                                         absl::Span<const int64_t>);          \
  template Var<T> Dropout<T>(Tape<T>&, Var<T>, double, Rng&, bool);

ELM_INSTANTIATE_OPS(float)
ELM_INSTANTIATE_OPS(double)

#undef ELM_INSTANTIATE_OPS

}  // namespace elm
