// A GRU cell as a new neuron model, built only from elm's public autodiff ops
// (@elm//autodiff:ops): every op records its own adjoint on the tape, so the
// backward pass comes for free. The gates are PyTorch's nn.GRU (order r, z, n):
//   r = σ(x_t·W_irᵀ + b_ir + h_{t−1}·W_hrᵀ + b_hr)
//   z = σ(x_t·W_izᵀ + b_iz + h_{t−1}·W_hzᵀ + b_hz)
//   n = tanh(x_t·W_inᵀ + b_in + r ⊙ (h_{t−1}·W_hnᵀ + b_hn))
//   h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}              (h_{−1} = 0)
//   y_t = h_t·W_oᵀ + b_o                          (a linear readout per step)
// Sequences are [B·T, ·] matrices with row b·T + t (autodiff/tensor.h).
#ifndef MYLAB_GRU_H_
#define MYLAB_GRU_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "autodiff/params.h"
#include "autodiff/tape.h"
#include "gru_config.pb.h"

namespace mylab {

template <typename T>
class GruModel {
 public:
  // Parameters (PyTorch's names), initialised U(±1/√H) as nn.GRU does, with
  // config.update_gate_bias added to the z block of bias_hh:
  //   weight_ih [3H, D], weight_hh [3H, H], bias_ih, bias_hh [1, 3H],
  //   readout.weight [n_out, H], readout.bias [1, n_out].
  // InvalidArgument when hidden, num_input or num_output is < 1.
  static absl::StatusOr<GruModel> Create(const GruConfig& config, int num_input,
                                         int num_output, uint64_t seed);

  elm::ParamSet<T>& params() { return params_; }
  const elm::ParamSet<T>& params() const { return params_; }

  // y [B·T, n_out] for x [B·T, D] (T = steps). Parameter gradients accumulate
  // into `grads` on backward (null: none).
  elm::Var<T> Forward(elm::Tape<T>& tape, elm::Var<T> x, int64_t steps,
                      elm::GradBlock<T>* grads);

 private:
  int hidden_ = 0;
  elm::ParamSet<T> params_;
  int w_ih_ = -1, w_hh_ = -1, b_ih_ = -1, b_hh_ = -1, w_out_ = -1, b_out_ = -1;
};

}  // namespace mylab

#endif  // MYLAB_GRU_H_
