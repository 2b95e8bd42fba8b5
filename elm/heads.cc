// Output heads and losses: see heads.h.
#include "elm/heads.h"

#include <algorithm>
#include <cmath>

#include "autodiff/ops.h"
#include "glog/logging.h"

namespace elm {

template <typename T>
void NeuronioEvalTransform(View<const T> y, View<T> out) {
  CHECK_EQ(y.cols, 2) << "the NeuronIO head needs 2 outputs per step";
  CHECK(out.rows == y.rows && out.cols == 2);
  const T inv_scale =
      static_cast<T>(1.0 / kSomaScale);  // 10, as the reference's 1/scale
  for (int64_t r = 0; r < y.rows; ++r) {
    const T logit = y(r, 0), soma = y(r, 1);
    out(r, 0) = T(1) / (T(1) + std::exp(-logit));
    out(r, 1) = inv_scale * soma;
  }
}

double ScaleSomaTarget(double soma_mv) {
  return (std::min(soma_mv, kSomaClipMv) - kSomaBiasMv) * kSomaScale;
}

template <typename T>
Var<T> NeuronioLoss(Tape<T>& tape, Var<T> y, Var<T> spike, Var<T> soma) {
  CHECK_EQ(y.cols, 2) << "the NeuronIO loss needs 2 outputs per step";
  Var<T> bce = BceWithLogits(tape, SliceCols(tape, y, 0, 1), spike);
  Var<T> mse = Mse(tape, SliceCols(tape, y, 1, 2), soma);
  return Scale(tape, Add(tape, bce, mse), T(0.5));
}

template <typename T>
Var<T> ClassReadout(Tape<T>& tape, Var<T> y, int64_t steps, Readout readout) {
  CHECK_GT(steps, 0);
  CHECK_EQ(y.rows % steps, 0)
      << "ClassReadout: " << y.rows << " rows are not B·" << steps;
  const int64_t batch = y.rows / steps, classes = y.cols;
  Var<T> per_sequence =
      Reshape(y, batch, steps * classes);  // row b: steps 0..T−1
  if (readout == Readout::kLastStep) {
    return SliceCols(tape, per_sequence, (steps - 1) * classes,
                     steps * classes);
  }
  // Mean over steps, with a hand-written backward: ȳ_{b,t,c} += out̄_{b,c} / T.
  Var<T> out = tape.NewVar(batch, classes, y.needs_grad());
  const T inv = T(1) / static_cast<T>(steps);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t c = 0; c < classes; ++c) {
      T sum = 0;
      for (int64_t t = 0; t < steps; ++t)
        sum += y.value[(b * steps + t) * classes + c];
      out.value[b * classes + c] = sum * inv;
    }
  }
  if (out.needs_grad()) {
    tape.Record([y, out, steps, inv] {
      const int64_t classes = out.cols;
      for (int64_t b = 0; b < out.rows; ++b) {
        for (int64_t t = 0; t < steps; ++t) {
          T* dy = y.grad + (b * steps + t) * classes;
          const T* dout = out.grad + b * classes;
          for (int64_t c = 0; c < classes; ++c) dy[c] += dout[c] * inv;
        }
      }
    });
  }
  return out;
}

template void NeuronioEvalTransform<float>(View<const float>, View<float>);
template void NeuronioEvalTransform<double>(View<const double>, View<double>);
template Var<float> NeuronioLoss<float>(Tape<float>&, Var<float>, Var<float>,
                                        Var<float>);
template Var<double> NeuronioLoss<double>(Tape<double>&, Var<double>,
                                          Var<double>, Var<double>);
template Var<float> ClassReadout<float>(Tape<float>&, Var<float>, int64_t,
                                        Readout);
template Var<double> ClassReadout<double>(Tape<double>&, Var<double>, int64_t,
                                          Readout);

}  // namespace elm
