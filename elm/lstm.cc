// The LSTM baseline: composed and fused unrolls, PyTorch initialisation and
// state_dict I/O. See lstm.h for the forward and adjoint equations.
#include "elm/lstm.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "autodiff/kernels.h"
#include "autodiff/ops.h"
#include "autodiff/state_dict.h"
#include "autodiff/tensor.h"
#include "base/rng.h"
#include "base/status_macros.h"
#include "glog/logging.h"

namespace elm {
namespace {

template <typename T>
using Mat = Eigen::Map<RowMatrix<T>>;
template <typename T>
using ConstMat = Eigen::Map<const RowMatrix<T>>;
// Rows b·T + t (b = 0..B−1) of a batch-major [B·T, cols] buffer: step t of
// every sequence, as a [B, cols] matrix with row stride T·cols.
template <typename T>
using StepMat = Eigen::Map<RowMatrix<T>, 0, Eigen::OuterStride<>>;

template <typename T>
StepMat<T> StepRows(T* data, int64_t t, int64_t batch, int64_t steps,
                    int64_t cols) {
  return StepMat<T>(data + t * cols, batch, cols,
                    Eigen::OuterStride<>(steps * cols));
}

// Everything the fused backward needs (trivially copyable, in the arena).
template <typename T>
struct LstmSaved {
  int64_t batch, steps, hidden;
  Var<T> x, w_ih, w_hh, b_ih, b_hh, h;
  const T* gates;   // i, f, g, o after their nonlinearities [B·T, 4H]
  const T* cell;    // c_t [B·T, H]
  const T* tanh_c;  // tanh(c_t) [B·T, H]
  Arena* arena;     // the tape's: backward scratch
};

template <typename T>
void LstmBackward(const LstmSaved<T>& s) {
  const int64_t B = s.batch, TT = s.steps, H = s.hidden, G = 4 * H;
  const int64_t R = B * TT;
  Arena& arena = *s.arena;
  T* a_bar = arena.AllocateArray<T>(R * G);  // Ā [B·T, 4H]
  T* dh = arena.AllocateZeroed<T>(B * H);    // h̄' from step t + 1
  T* dc = arena.AllocateZeroed<T>(B * H);    // c̄' from step t + 1
  ConstMat<T> w_hh(s.w_hh.value, G, H);
  for (int64_t t = TT - 1; t >= 0; --t) {
    for (int64_t b = 0; b < B; ++b) {
      const int64_t r = b * TT + t;
      const T* gate = s.gates + r * G;
      const T* tc = s.tanh_c + r * H;
      const T* c_prev = t > 0 ? s.cell + (r - 1) * H : nullptr;
      const T* hg = s.h.grad + r * H;
      T* ab = a_bar + r * G;
      T* dhb = dh + b * H;
      T* dcb = dc + b * H;
      for (int64_t j = 0; j < H; ++j) {
        const T i = gate[j], f = gate[H + j], g = gate[2 * H + j],
                o = gate[3 * H + j];
        const T h_bar = hg[j] + dhb[j];
        const T o_bar = h_bar * tc[j];
        const T c_bar = dcb[j] + h_bar * o * (T(1) - tc[j] * tc[j]);
        const T cp = c_prev != nullptr ? c_prev[j] : T(0);
        ab[j] = c_bar * g * i * (T(1) - i);
        ab[H + j] = c_bar * cp * f * (T(1) - f);
        ab[2 * H + j] = c_bar * i * (T(1) - g * g);
        ab[3 * H + j] = o_bar * o * (T(1) - o);
        dcb[j] = c_bar * f;
      }
    }
    if (t > 0) {
      Mat<T>(dh, B, H).noalias() = StepRows(a_bar, t, B, TT, G) * w_hh;
    }
  }

  // Weight, bias and input gradients: one GEMM each over the B·T rows.
  ConstMat<T> a(a_bar, R, G);
  if (s.w_ih.grad != nullptr) {
    Mat<T>(s.w_ih.grad, G, s.x.cols).noalias() +=
        a.transpose() * ConstMat<T>(s.x.value, R, s.x.cols);
  }
  if (s.w_hh.grad != nullptr) {
    // H₋: row b·T + t holds h_{t−1} (0 at t = 0).
    T* h_prev = arena.AllocateArray<T>(R * H);
    for (int64_t b = 0; b < B; ++b) {
      std::fill(h_prev + b * TT * H, h_prev + (b * TT + 1) * H, T(0));
      std::copy(s.h.value + b * TT * H, s.h.value + ((b + 1) * TT - 1) * H,
                h_prev + (b * TT + 1) * H);
    }
    Mat<T>(s.w_hh.grad, G, H).noalias() +=
        a.transpose() * ConstMat<T>(h_prev, R, H);
  }
  if (s.b_ih.grad != nullptr || s.b_hh.grad != nullptr) {
    const RowMatrix<T> col_sum = a.colwise().sum();
    if (s.b_ih.grad != nullptr) Mat<T>(s.b_ih.grad, 1, G) += col_sum;
    if (s.b_hh.grad != nullptr) Mat<T>(s.b_hh.grad, 1, G) += col_sum;
  }
  if (s.x.grad != nullptr) {
    Mat<T>(s.x.grad, R, s.x.cols).noalias() +=
        a * ConstMat<T>(s.w_ih.value, G, s.x.cols);
  }
}

}  // namespace

absl::Status ValidateLstmConfig(const LstmConfig& config) {
  auto positive = [](const char* field, int value) -> absl::Status {
    if (value >= 1) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("lstm config: ", field, " = ", value, "; expected >= 1"));
  };
  if (absl::Status st = positive("num_input", config.num_input); !st.ok())
    return st;
  if (absl::Status st = positive("hidden", config.hidden); !st.ok()) return st;
  if (absl::Status st = positive("num_output", config.num_output); !st.ok())
    return st;
  if (!(config.chrono_t_max == 0 || config.chrono_t_max > 2) ||
      !std::isfinite(config.chrono_t_max)) {
    return absl::InvalidArgumentError(
        absl::StrCat("lstm config: chrono_t_max = ", config.chrono_t_max,
                     "; expected 0 (off) or a finite value > 2"));
  }
  return absl::OkStatus();
}

int64_t LstmParamCount(const LstmConfig& config) {
  const int64_t d = config.num_input, h = config.hidden, n = config.num_output;
  return 4 * h * (d + h + 2) + n * (h + 1);
}

template <typename T>
Var<T> FusedLstmLayer(Tape<T>& tape, Var<T> x, Var<T> w_ih, Var<T> w_hh,
                      Var<T> b_ih, Var<T> b_hh, int64_t steps, Var<T>* cell) {
  for (const Var<T>& v : {x, w_ih, w_hh, b_ih, b_hh}) tape.CheckLive(v);
  const int64_t H = w_hh.cols, G = 4 * H, D = x.cols;
  CHECK_GT(H, 0);
  CHECK_EQ(w_hh.rows, G) << "weight_hh must be [4H, H]";
  CHECK(w_ih.rows == G && w_ih.cols == D)
      << "weight_ih is [" << w_ih.rows << ", " << w_ih.cols << "], expected ["
      << G << ", " << D << "]";
  CHECK(b_ih.rows == 1 && b_ih.cols == G) << "bias_ih must be [1, 4H]";
  CHECK(b_hh.rows == 1 && b_hh.cols == G) << "bias_hh must be [1, 4H]";
  CHECK_GT(steps, 0);
  CHECK_EQ(x.rows % steps, 0)
      << "FusedLstmLayer: " << x.rows << " rows are not B·" << steps;
  const int64_t B = x.rows / steps, TT = steps, R = x.rows;
  Arena& arena = tape.arena();

  // A = X·W_ihᵀ + b_ih + b_hh for every row at once; the gates overwrite it.
  T* gates = arena.AllocateArray<T>(R * G);
  Mat<T> a_all(gates, R, G);
  a_all.noalias() =
      ConstMat<T>(x.value, R, D) * ConstMat<T>(w_ih.value, G, D).transpose();
  a_all.rowwise() +=
      (ConstMat<T>(b_ih.value, 1, G) + ConstMat<T>(b_hh.value, 1, G)).row(0);

  const bool needs_grad = x.needs_grad() || w_ih.needs_grad() ||
                          w_hh.needs_grad() || b_ih.needs_grad() ||
                          b_hh.needs_grad();
  Var<T> h = tape.NewVar(R, H, needs_grad);
  T* c = arena.AllocateArray<T>(R * H);
  T* tanh_c = arena.AllocateArray<T>(R * H);
  ConstMat<T> w_hh_t(w_hh.value, G, H);
  for (int64_t t = 0; t < TT; ++t) {
    if (t > 0) {
      StepRows(gates, t, B, TT, G).noalias() +=
          StepRows(h.value, t - 1, B, TT, H) * w_hh_t.transpose();
    }
    for (int64_t b = 0; b < B; ++b) {
      const int64_t r = b * TT + t;
      T* gate = gates + r * G;
      const T* c_prev = t > 0 ? c + (r - 1) * H : nullptr;
      for (int64_t j = 0; j < H; ++j) {
        const T i = StableSigmoid(gate[j]), f = StableSigmoid(gate[H + j]),
                g = std::tanh(gate[2 * H + j]),
                o = StableSigmoid(gate[3 * H + j]);
        gate[j] = i;
        gate[H + j] = f;
        gate[2 * H + j] = g;
        gate[3 * H + j] = o;
        const T ct = (c_prev != nullptr ? f * c_prev[j] : T(0)) + i * g;
        c[r * H + j] = ct;
        tanh_c[r * H + j] = std::tanh(ct);
        h.value[r * H + j] = o * tanh_c[r * H + j];
      }
    }
  }
  if (cell != nullptr) *cell = tape.Constant(c, R, H);
  if (needs_grad) {
    LstmSaved<T> s{B,    TT, H,     x, w_ih,   w_hh,  b_ih,
                   b_hh, h,  gates, c, tanh_c, &arena};
    tape.Record([s] { LstmBackward(s); });
  }
  return h;
}

template <typename T>
absl::StatusOr<LstmModel<T>> LstmModel<T>::Create(const LstmConfig& config,
                                                  uint64_t seed) {
  if (absl::Status st = ValidateLstmConfig(config); !st.ok()) return st;
  LstmModel<T> m(config);
  const int64_t D = config.num_input, H = config.hidden,
                n_out = config.num_output;
  ParamSet<T>& p = m.params_;
  ParamIds& ids = m.ids_;
  ids.weight_ih = p.Add("weight_ih_l0", 4 * H, D);
  ids.weight_hh = p.Add("weight_hh_l0", 4 * H, H);
  ids.bias_ih = p.Add("bias_ih_l0", 1, 4 * H);
  ids.bias_hh = p.Add("bias_hh_l0", 1, 4 * H);
  ids.readout_weight = p.Add("readout.weight", n_out, H);
  ids.readout_bias = p.Add("readout.bias", 1, n_out);
  // nn.LSTM: every parameter U(±1/√H); nn.Linear(H, n_out): U(±1/√fan_in)
  // with fan_in = H for weight and bias.
  Rng rng(seed);
  const double bound = 1.0 / std::sqrt(static_cast<double>(H));
  for (int id : {ids.weight_ih, ids.weight_hh, ids.bias_ih, ids.bias_hh,
                 ids.readout_weight, ids.readout_bias}) {
    FillUniform(p.value(id), -bound, bound, rng);
  }
  if (config.chrono_t_max > 0) {
    // Gate blocks (i, f, g, o): i is columns [0, H), f is [H, 2H).
    Rng chrono(MixSeeds(seed, 0xC4170));
    View<T> b_ih = p.value(ids.bias_ih), b_hh = p.value(ids.bias_hh);
    for (int64_t j = 0; j < H; ++j) {
      const double b_f = std::log(chrono.Uniform(1.0, config.chrono_t_max - 1));
      b_ih(0, H + j) = static_cast<T>(b_f);
      b_ih(0, j) = static_cast<T>(-b_f);
      b_hh(0, H + j) = 0;
      b_hh(0, j) = 0;
    }
  }
  return m;
}

template <typename T>
absl::Status LstmModel<T>::LoadStateDict(absl::Span<const NamedTensor> tensors,
                                         absl::string_view prefix,
                                         absl::string_view source) {
  // LoadParams checks everything before writing anything: a failed load
  // leaves the model unchanged.
  StateDictReader reader(tensors, prefix, source);
  RETURN_IF_ERROR(LoadParams(reader, &params_, [](const ParamInfo& info) {
    return absl::StrContains(info.name, "bias")
               ? std::vector<int64_t>{info.cols}
               : std::vector<int64_t>{info.rows, info.cols};
  }));
  return reader.CheckAllUsed(" for an LSTM");
}

template <typename T>
std::vector<NamedTensor> LstmModel<T>::StateDict() const {
  std::vector<NamedTensor> out;
  for (int id = 0; id < params_.num_params(); ++id) {
    const ParamInfo& info = params_.info(id);
    NamedTensor t;
    t.name = info.name;
    t.dtype = std::is_same_v<T, double> ? "f64" : "f32";
    t.shape = absl::StrContains(info.name, "bias")
                  ? std::vector<int64_t>{info.cols}
                  : std::vector<int64_t>{info.rows, info.cols};
    const View<const T> v = params_.value(id);
    t.values.assign(v.data, v.data + v.size());
    out.push_back(std::move(t));
  }
  return out;
}

template <typename T>
typename LstmModel<T>::Outputs LstmModel<T>::Unroll(Tape<T>& tape, Var<T> x,
                                                    int64_t steps,
                                                    GradBlock<T>* grads,
                                                    bool record) {
  const int64_t D = config_.num_input, H = config_.hidden;
  CHECK_EQ(x.cols, D) << "LstmModel::Unroll: input has " << x.cols
                      << " channels, the model " << D;
  CHECK_GT(steps, 0);
  CHECK_EQ(x.rows % steps, 0)
      << "LstmModel::Unroll: " << x.rows << " rows are not B·" << steps;
  const int64_t B = x.rows / steps;
  auto param = [&](int id) { return params_.OnTape(tape, id, grads); };
  const Var<T> w_ih = param(ids_.weight_ih), w_hh = param(ids_.weight_hh);
  const Var<T> b_ih = param(ids_.bias_ih), b_hh = param(ids_.bias_hh);

  // [B·T, D] seen as [B, T·D]: column block t is step t.
  const Var<T> x_seq = Reshape(x, B, steps * D);
  T* zeros = tape.arena().template AllocateZeroed<T>(B * H);
  Var<T> h = tape.Constant(zeros, B, H);
  Var<T> c = tape.Constant(zeros, B, H);
  std::vector<Var<T>> hs, cs;
  hs.reserve(steps);
  for (int64_t t = 0; t < steps; ++t) {
    Var<T> x_t = SliceCols(tape, x_seq, t * D, (t + 1) * D);  // [B, D]
    Var<T> a = Add(tape, Linear(tape, x_t, w_ih, b_ih),
                   Linear(tape, h, w_hh, b_hh));  // [B, 4H]
    Var<T> i = Sigmoid(tape, SliceCols(tape, a, 0, H));
    Var<T> f = Sigmoid(tape, SliceCols(tape, a, H, 2 * H));
    Var<T> g = Tanh(tape, SliceCols(tape, a, 2 * H, 3 * H));
    Var<T> o = Sigmoid(tape, SliceCols(tape, a, 3 * H, 4 * H));
    c = Add(tape, Mul(tape, f, c), Mul(tape, i, g));
    h = Mul(tape, o, Tanh(tape, c));
    hs.push_back(h);
    if (record) cs.push_back(c);
  }
  Outputs out;
  out.hidden = Reshape(Concat<T>(tape, hs), B * steps, H);
  if (record) out.cell = Reshape(Concat<T>(tape, cs), B * steps, H);
  out.y = Linear(tape, out.hidden, param(ids_.readout_weight),
                 param(ids_.readout_bias));
  return out;
}

template <typename T>
typename LstmModel<T>::Outputs LstmModel<T>::FusedUnroll(
    Tape<T>& tape, Var<T> x, int64_t steps, GradBlock<T>* grads, bool record) {
  CHECK_EQ(x.cols, config_.num_input)
      << "LstmModel::FusedUnroll: input has " << x.cols
      << " channels, the model " << config_.num_input;
  auto param = [&](int id) { return params_.OnTape(tape, id, grads); };
  Outputs out;
  out.hidden =
      FusedLstmLayer(tape, x, param(ids_.weight_ih), param(ids_.weight_hh),
                     param(ids_.bias_ih), param(ids_.bias_hh), steps,
                     record ? &out.cell : nullptr);
  out.y = Linear(tape, out.hidden, param(ids_.readout_weight),
                 param(ids_.readout_bias));
  return out;
}

template Var<float> FusedLstmLayer<float>(Tape<float>&, Var<float>, Var<float>,
                                          Var<float>, Var<float>, Var<float>,
                                          int64_t, Var<float>*);
template Var<double> FusedLstmLayer<double>(Tape<double>&, Var<double>,
                                            Var<double>, Var<double>,
                                            Var<double>, Var<double>, int64_t,
                                            Var<double>*);
template class LstmModel<float>;
template class LstmModel<double>;

}  // namespace elm
