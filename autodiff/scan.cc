// Linear scan kernels and tape op: see scan.h for the equations.
#include "autodiff/scan.h"

#include <algorithm>

#include "glog/logging.h"

namespace elm {

template <typename T>
void LinearScanForward(const T* a, View<const T> u, const T* init,
                       int64_t steps, View<T> y) {
  const int64_t d = u.cols;
  const int64_t batch = u.rows / steps;
  for (int64_t b = 0; b < batch; ++b) {
    const T* prev = init != nullptr ? init + b * d : nullptr;
    for (int64_t t = 0; t < steps; ++t) {
      const T* ut = u.row(b * steps + t);
      T* yt = y.row(b * steps + t);
      if (prev == nullptr) {
        std::copy(ut, ut + d, yt);
      } else {
        for (int64_t i = 0; i < d; ++i) yt[i] = a[i] * prev[i] + ut[i];
      }
      prev = yt;
    }
  }
}

template <typename T>
void LinearScanBackward(const T* a, View<const T> y, const T* init,
                        View<const T> dy, int64_t steps, T* scratch, T* da,
                        T* du, T* dinit) {
  const int64_t d = y.cols;
  const int64_t batch = y.rows / steps;
  T* g = scratch;
  for (int64_t b = 0; b < batch; ++b) {
    std::fill(g, g + d, T(0));
    for (int64_t t = steps - 1; t >= 0; --t) {
      const int64_t row = b * steps + t;
      const T* dyt = dy.row(row);
      for (int64_t i = 0; i < d; ++i) g[i] = dyt[i] + a[i] * g[i];
      if (du != nullptr) {
        T* dut = du + row * d;
        for (int64_t i = 0; i < d; ++i) dut[i] += g[i];
      }
      if (da != nullptr) {
        const T* prev =
            t > 0 ? y.row(row - 1) : (init != nullptr ? init + b * d : nullptr);
        if (prev != nullptr) {
          for (int64_t i = 0; i < d; ++i) da[i] += g[i] * prev[i];
        }
      }
    }
    if (dinit != nullptr) {
      for (int64_t i = 0; i < d; ++i) dinit[b * d + i] += a[i] * g[i];
    }
  }
}

template <typename T>
Var<T> LinearScan(Tape<T>& tape, Var<T> a, Var<T> u, int64_t steps,
                  Var<T> init) {
  tape.CheckLive(a);
  tape.CheckLive(u);
  CHECK_GT(steps, 0);
  CHECK_EQ(u.rows % steps, 0)
      << "LinearScan: " << u.rows << " rows are not B·" << steps;
  CHECK(a.rows == 1 && a.cols == u.cols)
      << "LinearScan: decay must be [1, " << u.cols << "], got [" << a.rows
      << ", " << a.cols << "]";
  const int64_t batch = u.rows / steps;
  const bool has_init = init.size() > 0;
  if (has_init) {
    tape.CheckLive(init);
    CHECK(init.rows == batch && init.cols == u.cols)
        << "LinearScan: init must be [" << batch << ", " << u.cols << "]";
  }
  const bool needs_grad = a.needs_grad() || u.needs_grad() || init.needs_grad();
  Var<T> y = tape.NewVar(u.rows, u.cols, needs_grad);
  const T* init_value = has_init ? init.value : nullptr;
  LinearScanForward<T>(a.value, {u.value, u.rows, u.cols}, init_value, steps,
                       y.value_view());
  if (needs_grad) {
    T* scratch = tape.arena().template AllocateArray<T>(u.cols);
    tape.Record([a, u, init, y, steps, scratch, init_value] {
      LinearScanBackward<T>(a.value, {y.value, y.rows, y.cols}, init_value,
                            {y.grad, y.rows, y.cols}, steps, scratch, a.grad,
                            u.grad, init.grad);
    });
  }
  return y;
}

#define ELM_INSTANTIATE_SCAN(T)                                                \
  template void LinearScanForward<T>(const T*, View<const T>, const T*,        \
                                     int64_t, View<T>);                        \
  template void LinearScanBackward<T>(const T*, View<const T>, const T*,       \
                                      View<const T>, int64_t, T*, T*, T*, T*); \
  template Var<T> LinearScan<T>(Tape<T>&, Var<T>, Var<T>, int64_t, Var<T>);

ELM_INSTANTIATE_SCAN(float)
ELM_INSTANTIATE_SCAN(double)

#undef ELM_INSTANTIATE_SCAN

}  // namespace elm
