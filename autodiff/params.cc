// ParamSet, GradBlock and gradient clipping: see params.h.
#include "autodiff/params.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace elm {

template <typename T>
int ParamSet<T>::Add(std::string name, int64_t rows, int64_t cols,
                     bool trainable) {
  CHECK(rows >= 0 && cols >= 0)
      << "parameter " << name << " has a negative dimension";
  CHECK(!Find(name).ok()) << "duplicate parameter name " << name;
  CHECK(!trainable ||
        num_trainable_elements_ == static_cast<int64_t>(data_.size()))
      << "trainable parameter " << name << " added after a frozen one";
  ParamInfo p;
  p.name = std::move(name);
  p.offset = static_cast<int64_t>(data_.size());
  p.rows = rows;
  p.cols = cols;
  p.trainable = trainable;
  if (trainable) num_trainable_elements_ += rows * cols;
  data_.resize(data_.size() + rows * cols, T(0));
  infos_.push_back(std::move(p));
  return static_cast<int>(infos_.size()) - 1;
}

template <typename T>
absl::StatusOr<int> ParamSet<T>::Find(absl::string_view name) const {
  for (size_t i = 0; i < infos_.size(); ++i) {
    if (infos_[i].name == name) return static_cast<int>(i);
  }
  return absl::NotFoundError(absl::StrCat("no parameter named '", name, "'"));
}

template <typename T>
View<T> ParamSet<T>::value(int id) {
  const ParamInfo& p = infos_.at(id);
  return {data_.data() + p.offset, p.rows, p.cols};
}

template <typename T>
View<const T> ParamSet<T>::value(int id) const {
  const ParamInfo& p = infos_.at(id);
  return {data_.data() + p.offset, p.rows, p.cols};
}

template <typename T>
Var<T> ParamSet<T>::OnTape(Tape<T>& tape, int id, GradBlock<T>* grads) {
  const ParamInfo& p = infos_.at(id);
  T* grad = nullptr;
  if (grads != nullptr) {
    CHECK_EQ(grads->size(), num_elements())
        << "GradBlock does not match the ParamSet";
    if (p.trainable) grad = grads->data() + p.offset;
  }
  return tape.External(data_.data() + p.offset, grad, p.rows, p.cols);
}

template <typename T>
void GradBlock<T>::Zero() {
  std::fill(data_.begin(), data_.end(), T(0));
}

template <typename T>
void GradBlock<T>::Add(const GradBlock& other) {
  CHECK_EQ(other.data_.size(), data_.size())
      << "GradBlock::Add of a different layout";
  for (size_t i = 0; i < data_.size(); ++i) data_[i] += other.data_[i];
}

template <typename T>
double GradBlock<T>::SquaredNorm() const {
  double total = 0;
  for (T g : data_) total += static_cast<double>(g) * static_cast<double>(g);
  return total;
}

template <typename T>
double ClipGradNorm(GradBlock<T>& grads, double max_norm) {
  CHECK_GT(max_norm, 0.0);
  const double norm = std::sqrt(grads.SquaredNorm());
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    const T c = static_cast<T>(coef);
    T* g = grads.data();
    for (int64_t i = 0; i < grads.size(); ++i) g[i] *= c;
  }
  return norm;
}

template <typename T>
void FillUniform(View<T> v, double lo, double hi, Rng& rng) {
  for (int64_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<T>(rng.Uniform(lo, hi));
}

template class ParamSet<float>;
template class ParamSet<double>;
template class GradBlock<float>;
template class GradBlock<double>;
template double ClipGradNorm<float>(GradBlock<float>&, double);
template double ClipGradNorm<double>(GradBlock<double>&, double);
template void FillUniform<float>(View<float>, double, double, Rng&);
template void FillUniform<double>(View<double>, double, double, Rng&);

}  // namespace elm
