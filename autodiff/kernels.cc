// Primitive-op kernels: see kernels.h for the forward and adjoint rules.
#include "autodiff/kernels.h"

#include <algorithm>
#include <cmath>

#include "glog/logging.h"

namespace elm {

template <typename T>
void MatMulForward(View<const T> a, View<const T> b, View<T> c,
                   bool transpose_a, bool transpose_b) {
  auto A = EigenMap(a);
  auto B = EigenMap(b);
  auto C = EigenMap(c);
  if (!transpose_a && !transpose_b) {
    C.noalias() = A * B;
  } else if (transpose_a && !transpose_b) {
    C.noalias() = A.transpose() * B;
  } else if (!transpose_a && transpose_b) {
    C.noalias() = A * B.transpose();
  } else {
    C.noalias() = A.transpose() * B.transpose();
  }
}

template <typename T>
void MatMulBackward(View<const T> a, View<const T> b, View<const T> dc,
                    View<T> da, View<T> db, bool transpose_a,
                    bool transpose_b) {
  auto A = EigenMap(a);
  auto B = EigenMap(b);
  auto dC = EigenMap(dc);
  if (da.data != nullptr) {
    auto dA = EigenMap(da);
    if (!transpose_a && !transpose_b) {
      dA.noalias() += dC * B.transpose();
    } else if (transpose_a && !transpose_b) {
      dA.noalias() += B * dC.transpose();
    } else if (!transpose_a && transpose_b) {
      dA.noalias() += dC * B;
    } else {
      dA.noalias() += B.transpose() * dC.transpose();
    }
  }
  if (db.data != nullptr) {
    auto dB = EigenMap(db);
    if (!transpose_a && !transpose_b) {
      dB.noalias() += A.transpose() * dC;
    } else if (transpose_a && !transpose_b) {
      dB.noalias() += A * dC;
    } else if (!transpose_a && transpose_b) {
      dB.noalias() += dC.transpose() * A;
    } else {
      dB.noalias() += dC.transpose() * A.transpose();
    }
  }
}

template <typename T>
T StableSigmoid(T x) {
  // 1/(1 + e^{-x}) saturates correctly at both ends (e^{-x} = inf gives 0) and
  // is the formula PyTorch uses.
  return T(1) / (T(1) + std::exp(-x));
}

template <typename T>
T StableSoftplus(T x) {
  // PyTorch's softplus (beta 1, threshold 20).
  return x > T(20) ? x : std::log1p(std::exp(x));
}

template <typename T>
void UnaryForward(UnaryOp op, const T* x, T* y, int64_t n) {
  switch (op) {
    case UnaryOp::kExp:
      for (int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
      break;
    case UnaryOp::kLog:
      for (int64_t i = 0; i < n; ++i) y[i] = std::log(x[i]);
      break;
    case UnaryOp::kTanh:
      for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
      break;
    case UnaryOp::kSigmoid:
      for (int64_t i = 0; i < n; ++i) y[i] = StableSigmoid(x[i]);
      break;
    case UnaryOp::kRelu:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
      break;
    case UnaryOp::kSilu:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] / (T(1) + std::exp(-x[i]));
      break;
    case UnaryOp::kSoftplus:
      for (int64_t i = 0; i < n; ++i) y[i] = StableSoftplus(x[i]);
      break;
  }
}

template <typename T>
void UnaryBackward(UnaryOp op, const T* x, const T* y, const T* dy, T* dx,
                   int64_t n) {
  switch (op) {
    case UnaryOp::kExp:
      for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * y[i];
      break;
    case UnaryOp::kLog:
      for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] / x[i];
      break;
    case UnaryOp::kTanh:
      for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * (T(1) - y[i] * y[i]);
      break;
    case UnaryOp::kSigmoid:
      for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * y[i] * (T(1) - y[i]);
      break;
    case UnaryOp::kRelu:
      for (int64_t i = 0; i < n; ++i) dx[i] += x[i] > T(0) ? dy[i] : T(0);
      break;
    case UnaryOp::kSilu:
      for (int64_t i = 0; i < n; ++i) {
        const T s = StableSigmoid(x[i]);
        dx[i] += dy[i] * s * (T(1) + x[i] * (T(1) - s));
      }
      break;
    case UnaryOp::kSoftplus:
      for (int64_t i = 0; i < n; ++i) {
        dx[i] += x[i] > T(20) ? dy[i] : dy[i] * StableSigmoid(x[i]);
      }
      break;
  }
}

template <typename T>
void AffineForward(const T* x, T alpha, T beta, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = alpha * x[i] + beta;
}

template <typename T>
void AffineBackward(const T* dy, T alpha, T* dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] += alpha * dy[i];
}

template <typename T>
void ClampForward(const T* x, T lo, T hi, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::min(std::max(x[i], lo), hi);
}

template <typename T>
void ClampBackward(const T* x, T lo, T hi, const T* dy, T* dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (x[i] >= lo && x[i] <= hi) dx[i] += dy[i];
  }
}

namespace {

// Flat offset strides of a broadcast operand inside an [R, C] result.
struct Strides {
  int64_t row;
  int64_t col;
};

template <typename T>
Strides BroadcastStrides(View<const T> v) {
  return {v.rows == 1 ? 0 : v.cols, v.cols == 1 ? 0 : 1};
}

template <typename T, typename F>
void ForEachBroadcast(View<const T> a, View<const T> b, int64_t rows,
                      int64_t cols, F f) {
  const Strides sa = BroadcastStrides(a);
  const Strides sb = BroadcastStrides(b);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      f(r * cols + c, r * sa.row + c * sa.col, r * sb.row + c * sb.col);
    }
  }
}

}  // namespace

template <typename T>
void BinaryForward(BinaryOp op, View<const T> a, View<const T> b, View<T> out) {
  const T* A = a.data;
  const T* B = b.data;
  T* O = out.data;
  switch (op) {
    case BinaryOp::kAdd:
      ForEachBroadcast(
          a, b, out.rows, out.cols,
          [&](int64_t o, int64_t i, int64_t j) { O[o] = A[i] + B[j]; });
      break;
    case BinaryOp::kSub:
      ForEachBroadcast(
          a, b, out.rows, out.cols,
          [&](int64_t o, int64_t i, int64_t j) { O[o] = A[i] - B[j]; });
      break;
    case BinaryOp::kMul:
      ForEachBroadcast(
          a, b, out.rows, out.cols,
          [&](int64_t o, int64_t i, int64_t j) { O[o] = A[i] * B[j]; });
      break;
    case BinaryOp::kDiv:
      ForEachBroadcast(
          a, b, out.rows, out.cols,
          [&](int64_t o, int64_t i, int64_t j) { O[o] = A[i] / B[j]; });
      break;
  }
}

template <typename T>
void BinaryBackward(BinaryOp op, View<const T> a, View<const T> b,
                    View<const T> dout, View<T> da, View<T> db) {
  const T* A = a.data;
  const T* B = b.data;
  const T* dO = dout.data;
  T* dA = da.data;
  T* dB = db.data;
  const int64_t R = dout.rows;
  const int64_t C = dout.cols;
  if (dA != nullptr) {
    switch (op) {
      case BinaryOp::kAdd:
      case BinaryOp::kSub:
        ForEachBroadcast(
            a, b, R, C, [&](int64_t o, int64_t i, int64_t) { dA[i] += dO[o]; });
        break;
      case BinaryOp::kMul:
        ForEachBroadcast(a, b, R, C, [&](int64_t o, int64_t i, int64_t j) {
          dA[i] += dO[o] * B[j];
        });
        break;
      case BinaryOp::kDiv:
        ForEachBroadcast(a, b, R, C, [&](int64_t o, int64_t i, int64_t j) {
          dA[i] += dO[o] / B[j];
        });
        break;
    }
  }
  if (dB != nullptr) {
    switch (op) {
      case BinaryOp::kAdd:
        ForEachBroadcast(
            a, b, R, C, [&](int64_t o, int64_t, int64_t j) { dB[j] += dO[o]; });
        break;
      case BinaryOp::kSub:
        ForEachBroadcast(
            a, b, R, C, [&](int64_t o, int64_t, int64_t j) { dB[j] -= dO[o]; });
        break;
      case BinaryOp::kMul:
        ForEachBroadcast(a, b, R, C, [&](int64_t o, int64_t i, int64_t j) {
          dB[j] += dO[o] * A[i];
        });
        break;
      case BinaryOp::kDiv:
        ForEachBroadcast(a, b, R, C, [&](int64_t o, int64_t i, int64_t j) {
          dB[j] -= dO[o] * A[i] / (B[j] * B[j]);
        });
        break;
    }
  }
}

template <typename T>
void SumForward(View<const T> x, int axis, T scale, View<T> y) {
  auto X = EigenMap(x);
  auto Y = EigenMap(y);
  if (axis == 0) {
    Y = X.colwise().sum() * scale;
  } else {
    Y = X.rowwise().sum() * scale;
  }
}

template <typename T>
void SumBackward(View<const T> dy, int axis, T scale, View<T> dx) {
  auto dY = EigenMap(dy);
  auto dX = EigenMap(dx);
  if (axis == 0) {
    dX.rowwise() += dY.row(0) * scale;
  } else {
    dX.colwise() += dY.col(0) * scale;
  }
}

template <typename T>
void SliceColsForward(View<const T> x, int64_t begin, View<T> y) {
  for (int64_t r = 0; r < y.rows; ++r) {
    std::copy(x.row(r) + begin, x.row(r) + begin + y.cols, y.row(r));
  }
}

template <typename T>
void SliceColsBackward(View<const T> dy, int64_t begin, View<T> dx) {
  for (int64_t r = 0; r < dy.rows; ++r) {
    const T* src = dy.row(r);
    T* dst = dx.row(r) + begin;
    for (int64_t c = 0; c < dy.cols; ++c) dst[c] += src[c];
  }
}

template <typename T>
void GatherColsForward(View<const T> x, const int64_t* index, View<T> y) {
  for (int64_t r = 0; r < y.rows; ++r) {
    const T* src = x.row(r);
    T* dst = y.row(r);
    for (int64_t c = 0; c < y.cols; ++c) dst[c] = src[index[c]];
  }
}

template <typename T>
void GatherColsBackward(View<const T> dy, const int64_t* index, View<T> dx) {
  for (int64_t r = 0; r < dy.rows; ++r) {
    const T* src = dy.row(r);
    T* dst = dx.row(r);
    for (int64_t c = 0; c < dy.cols; ++c) dst[index[c]] += src[c];
  }
}

template <typename T>
T BceWithLogitsForward(const T* x, const T* z, int64_t n) {
  T total = 0;
  for (int64_t i = 0; i < n; ++i) {
    total += std::max(x[i], T(0)) - x[i] * z[i] +
             std::log1p(std::exp(-std::abs(x[i])));
  }
  return total / static_cast<T>(n);
}

template <typename T>
void BceWithLogitsBackward(const T* x, const T* z, int64_t n, T dloss, T* dx,
                           T* dz) {
  const T g = dloss / static_cast<T>(n);
  if (dx != nullptr) {
    for (int64_t i = 0; i < n; ++i) dx[i] += g * (StableSigmoid(x[i]) - z[i]);
  }
  if (dz != nullptr) {
    for (int64_t i = 0; i < n; ++i) dz[i] -= g * x[i];
  }
}

template <typename T>
T MseForward(const T* p, const T* q, int64_t n) {
  T total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const T d = p[i] - q[i];
    total += d * d;
  }
  return total / static_cast<T>(n);
}

template <typename T>
void MseBackward(const T* p, const T* q, int64_t n, T dloss, T* dp, T* dq) {
  const T g = T(2) * dloss / static_cast<T>(n);
  for (int64_t i = 0; i < n; ++i) {
    const T d = g * (p[i] - q[i]);
    if (dp != nullptr) dp[i] += d;
    if (dq != nullptr) dq[i] -= d;
  }
}

template <typename T>
T SoftmaxCrossEntropyForward(View<const T> logits, const int64_t* labels,
                             View<T> probs) {
  T total = 0;
  for (int64_t r = 0; r < logits.rows; ++r) {
    const T* x = logits.row(r);
    T* p = probs.row(r);
    const int64_t label = labels[r];
    CHECK(label >= 0 && label < logits.cols)
        << "label " << label << " of row " << r << " is outside [0, "
        << logits.cols << ")";
    const T m = *std::max_element(x, x + logits.cols);
    T z = 0;
    for (int64_t c = 0; c < logits.cols; ++c) {
      p[c] = std::exp(x[c] - m);
      z += p[c];
    }
    for (int64_t c = 0; c < logits.cols; ++c) p[c] /= z;
    total += m + std::log(z) - x[label];
  }
  return total / static_cast<T>(logits.rows);
}

template <typename T>
void SoftmaxCrossEntropyBackward(View<const T> probs, const int64_t* labels,
                                 T dloss, View<T> dlogits) {
  const T g = dloss / static_cast<T>(probs.rows);
  for (int64_t r = 0; r < probs.rows; ++r) {
    const T* p = probs.row(r);
    T* d = dlogits.row(r);
    for (int64_t c = 0; c < probs.cols; ++c) d[c] += g * p[c];
    d[labels[r]] -= g;
  }
}

#define ELM_INSTANTIATE_KERNELS(T)                                             \
  template void MatMulForward<T>(View<const T>, View<const T>, View<T>, bool,  \
                                 bool);                                        \
  template void MatMulBackward<T>(View<const T>, View<const T>, View<const T>, \
                                  View<T>, View<T>, bool, bool);               \
  template T StableSigmoid<T>(T);                                              \
  template T StableSoftplus<T>(T);                                             \
  template void UnaryForward<T>(UnaryOp, const T*, T*, int64_t);               \
  template void UnaryBackward<T>(UnaryOp, const T*, const T*, const T*, T*,    \
                                 int64_t);                                     \
  template void AffineForward<T>(const T*, T, T, T*, int64_t);                 \
  template void AffineBackward<T>(const T*, T, T*, int64_t);                   \
  template void ClampForward<T>(const T*, T, T, T*, int64_t);                  \
  template void ClampBackward<T>(const T*, T, T, const T*, T*, int64_t);       \
  template void BinaryForward<T>(BinaryOp, View<const T>, View<const T>,       \
                                 View<T>);                                     \
  template void BinaryBackward<T>(BinaryOp, View<const T>, View<const T>,      \
                                  View<const T>, View<T>, View<T>);            \
  template void SumForward<T>(View<const T>, int, T, View<T>);                 \
  template void SumBackward<T>(View<const T>, int, T, View<T>);                \
  template void SliceColsForward<T>(View<const T>, int64_t, View<T>);          \
  template void SliceColsBackward<T>(View<const T>, int64_t, View<T>);         \
  template void GatherColsForward<T>(View<const T>, const int64_t*, View<T>);  \
  template void GatherColsBackward<T>(View<const T>, const int64_t*, View<T>); \
  template T BceWithLogitsForward<T>(const T*, const T*, int64_t);             \
  template void BceWithLogitsBackward<T>(const T*, const T*, int64_t, T, T*,   \
                                         T*);                                  \
  template T MseForward<T>(const T*, const T*, int64_t);                       \
  template void MseBackward<T>(const T*, const T*, int64_t, T, T*, T*);        \
  template T SoftmaxCrossEntropyForward<T>(View<const T>, const int64_t*,      \
                                           View<T>);                           \
  template void SoftmaxCrossEntropyBackward<T>(View<const T>, const int64_t*,  \
                                               T, View<T>);

ELM_INSTANTIATE_KERNELS(float)
ELM_INSTANTIATE_KERNELS(double)

#undef ELM_INSTANTIATE_KERNELS

}  // namespace elm
