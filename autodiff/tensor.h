// Tensor views and owning tensors. A `View<T>` is a non-owning pointer + shape
// of a row-major matrix; every tensor in the library is viewed as a matrix
// [rows, cols]. A sequence batch [B, T, D] is the matrix [B·T, D] with row b·T
// + t, so time-parallel work is one matrix product over B·T rows. `Tensor<T>`
// owns contiguous storage (parameters, optimizer state, test data); views over
// it never own anything. `EigenMap` gives Eigen's row-major Map over a view for
// the kernels.
#ifndef ELM_AUTODIFF_TENSOR_H_
#define ELM_AUTODIFF_TENSOR_H_

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "Eigen/Core"
#include "glog/logging.h"

namespace elm {

template <typename T>
using RowMatrix =
    Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A non-owning row-major view: element (r, c) is data[r * cols + c].
template <typename T>
struct View {
  T* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;

  int64_t size() const { return rows * cols; }
  T& operator()(int64_t r, int64_t c) const { return data[r * cols + c]; }
  T& operator[](int64_t i) const { return data[i]; }
  T* row(int64_t r) const { return data + r * cols; }
  bool empty() const { return data == nullptr; }

  // A mutable view converts to a read-only one.
  template <typename U = T, typename = std::enable_if_t<!std::is_const_v<U>>>
  operator View<const U>() const {  // NOLINT(google-explicit-constructor)
    return {data, rows, cols};
  }
};

// Eigen's row-major Map over a view (a const Map for View<const T>).
template <typename T>
using EigenMapOf = Eigen::Map<std::conditional_t<
    std::is_const_v<T>, const RowMatrix<std::remove_const_t<T>>, RowMatrix<T>>>;

template <typename T>
EigenMapOf<T> EigenMap(View<T> v) {
  return EigenMapOf<T>(v.data, v.rows, v.cols);
}

// An owning, zero-initialised row-major matrix.
template <typename T>
class Tensor {
 public:
  Tensor() = default;
  Tensor(int64_t rows, int64_t cols)
      : rows_(rows), cols_(cols), data_(rows * cols) {
    CHECK_GE(rows, 0);
    CHECK_GE(cols, 0);
  }
  Tensor(int64_t rows, int64_t cols, std::vector<T> values)
      : rows_(rows), cols_(cols), data_(std::move(values)) {
    CHECK_EQ(static_cast<int64_t>(data_.size()), rows * cols);
  }

  View<T> view() { return {data_.data(), rows_, cols_}; }
  View<const T> view() const { return {data_.data(), rows_, cols_}; }
  T* data() { return data_.data(); }
  const T* data() const { return data_.data(); }
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  int64_t size() const { return rows_ * cols_; }
  T& operator()(int64_t r, int64_t c) { return data_[r * cols_ + c]; }
  T operator()(int64_t r, int64_t c) const { return data_[r * cols_ + c]; }
  T& operator[](int64_t i) { return data_[i]; }
  T operator[](int64_t i) const { return data_[i]; }
  std::vector<T>& values() { return data_; }
  const std::vector<T>& values() const { return data_; }

 private:
  int64_t rows_ = 0;
  int64_t cols_ = 0;
  std::vector<T> data_;
};

}  // namespace elm

#endif  // ELM_AUTODIFF_TENSOR_H_
