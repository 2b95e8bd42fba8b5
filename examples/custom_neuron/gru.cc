#include "gru.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "autodiff/ops.h"
#include "base/rng.h"

namespace mylab {

using elm::Var;

template <typename T>
absl::StatusOr<GruModel<T>> GruModel<T>::Create(const GruConfig& config,
                                                int num_input, int num_output,
                                                uint64_t seed) {
  if (config.hidden() < 1 || num_input < 1 || num_output < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "gru: hidden = ", config.hidden(), ", num_input = ", num_input,
        ", num_output = ", num_output, "; expected >= 1 each"));
  }
  GruModel m;
  const int H = m.hidden_ = config.hidden();
  m.w_ih_ = m.params_.Add("weight_ih", 3 * H, num_input);
  m.w_hh_ = m.params_.Add("weight_hh", 3 * H, H);
  m.b_ih_ = m.params_.Add("bias_ih", 1, 3 * H);
  m.b_hh_ = m.params_.Add("bias_hh", 1, 3 * H);
  m.w_out_ = m.params_.Add("readout.weight", num_output, H);
  m.b_out_ = m.params_.Add("readout.bias", 1, num_output);
  elm::Rng rng(seed);
  const double bound = 1 / std::sqrt(static_cast<double>(H));
  m.params_.ForEach([&](const elm::ParamInfo&, elm::View<T> v) {
    elm::FillUniform(v, -bound, bound, rng);
  });
  for (int j = H; j < 2 * H; ++j) {
    m.params_.value(m.b_hh_)(0, j) += config.update_gate_bias();
  }
  return m;
}

template <typename T>
Var<T> GruModel<T>::Forward(elm::Tape<T>& tape, Var<T> x, int64_t steps,
                            elm::GradBlock<T>* grads) {
  const int64_t H = hidden_, B = x.rows / steps;
  auto param = [&](int id) { return params_.OnTape(tape, id, grads); };
  const Var<T> w_hh = param(w_hh_), b_hh = param(b_hh_);
  // The input projections of all B·T rows in one product, seen as [B, T·3H]:
  // column block t is step t.
  const Var<T> xp = elm::Reshape(
      elm::Linear(tape, x, param(w_ih_), param(b_ih_)), B, steps * 3 * H);
  Var<T> h =
      tape.Constant(tape.arena().template AllocateZeroed<T>(B * H), B, H);
  // Gate k (r, z, n) of a [B, 3H] pre-activation.
  auto gate = [&](Var<T> a, int k) {
    return elm::SliceCols(tape, a, k * H, (k + 1) * H);
  };
  std::vector<Var<T>> hs;
  hs.reserve(steps);
  for (int64_t t = 0; t < steps; ++t) {
    const Var<T> xt = elm::SliceCols(tape, xp, t * 3 * H, (t + 1) * 3 * H);
    const Var<T> hp = elm::Linear(tape, h, w_hh, b_hh);  // [B, 3H]
    const Var<T> r =
        elm::Sigmoid(tape, elm::Add(tape, gate(xt, 0), gate(hp, 0)));
    const Var<T> z =
        elm::Sigmoid(tape, elm::Add(tape, gate(xt, 1), gate(hp, 1)));
    const Var<T> n = elm::Tanh(
        tape, elm::Add(tape, gate(xt, 2), elm::Mul(tape, r, gate(hp, 2))));
    h = elm::Add(tape, n,
                 elm::Mul(tape, z, elm::Sub(tape, h, n)));  // (1−z)n + zh
    hs.push_back(h);
  }
  const Var<T> hidden = elm::Reshape(elm::Concat<T>(tape, hs), B * steps, H);
  return elm::Linear(tape, hidden, param(w_out_), param(b_out_));
}

template class GruModel<float>;   // training
template class GruModel<double>;  // gradient checks

}  // namespace mylab
