// The composed ELM model: see model.h for the equations.
#include "elm/model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "autodiff/ops.h"
#include "autodiff/state_dict.h"
#include "base/rng.h"
#include "base/status_macros.h"
#include "glog/logging.h"

namespace elm {
namespace {

// inverse_scaled_sigmoid (elm_reference.md §1.3), in T as the reference does in
// float32.
template <typename T>
T InverseScaledSigmoid(T x, T lo, T hi) {
  x = std::min(std::max(x, static_cast<T>(lo + T(1e-6))),
               static_cast<T>(hi - T(1e-6)));
  return std::log((x - lo) / (hi - x));
}

}  // namespace

template <typename T>
ElmModel<T>::ElmModel(ElmConfig config, ElmShape shape)
    : config_(std::move(config)), shape_(shape) {}

template <typename T>
absl::StatusOr<ElmModel<T>> ElmModel<T>::Create(const ElmConfig& config,
                                                uint64_t seed) {
  absl::StatusOr<ElmShape> shape = ValidateElmConfig(config);
  if (!shape.ok()) return shape.status();
  ElmModel<T> m(config, *shape);
  const ElmShape& s = m.shape_;
  ParamSet<T>& p = m.params_;
  ParamIds& ids = m.ids_;
  ids.proto_w_s = p.Add("_proto_w_s", 1, s.num_synapse);
  if (config.learn_memory_tau())
    ids.proto_tau_m = p.Add("_proto_tau_m", 1, s.num_memory);
  int in = s.mlp_input_size;
  for (int layer = 0; layer <= s.mlp_num_layers; ++layer) {
    const int out = layer < s.mlp_num_layers ? s.mlp_hidden_size : s.num_memory;
    ids.mlp_weight.push_back(
        p.Add(absl::StrCat("mlp.network.", 2 * layer, ".weight"), out, in));
    ids.mlp_bias.push_back(
        p.Add(absl::StrCat("mlp.network.", 2 * layer, ".bias"), 1, out));
    in = out;
  }
  ids.w_y_weight = p.Add("w_y.weight", s.num_output, s.num_memory);
  ids.w_y_bias = p.Add("w_y.bias", 1, s.num_output);
  if (!config.learn_memory_tau()) {
    ids.proto_tau_m =
        p.Add("_proto_tau_m", 1, s.num_memory, /*trainable=*/false);
  }

  Rng rng(seed);
  View<T> w_s = p.value(ids.proto_w_s);
  std::fill(w_s.data, w_s.data + w_s.size(),
            static_cast<T>(config.w_s_value()));
  // τ_m protos: log-spaced from τmin to τmax (both ends), through the inverse
  // scaled sigmoid.
  View<T> tau_m = p.value(ids.proto_tau_m);
  const double lo = std::log10(s.memory_tau_min + 1e-6);
  const double hi = std::log10(s.memory_tau_max - 1e-6);
  for (int i = 0; i < s.num_memory; ++i) {
    const double e =
        s.num_memory == 1 ? lo : lo + (hi - lo) * i / (s.num_memory - 1);
    tau_m[i] = InverseScaledSigmoid(static_cast<T>(std::pow(10.0, e)),
                                    static_cast<T>(s.memory_tau_min),
                                    static_cast<T>(s.memory_tau_max));
  }
  // PyTorch's default Linear init.
  auto init_linear = [&](int weight, int bias) {
    const double bound =
        1.0 / std::sqrt(static_cast<double>(p.info(weight).cols));
    FillUniform(p.value(weight), -bound, bound, rng);
    FillUniform(p.value(bias), -bound, bound, rng);
  };
  for (size_t l = 0; l < ids.mlp_weight.size(); ++l)
    init_linear(ids.mlp_weight[l], ids.mlp_bias[l]);
  init_linear(ids.w_y_weight, ids.w_y_bias);

  const double tau = s.v2 ? config.tau_b_value() : config.tau_s_value();
  m.tau_.assign(s.v2 ? s.num_branch : s.num_synapse, static_cast<T>(tau));
  if (s.routing == Routing::kNeuronio) {
    m.routing_ =
        NeuronioRouting(s.num_input, s.num_branch, s.num_synapse_per_branch);
  } else if (s.routing == Routing::kRandom) {
    m.routing_ = RandomRouting(s.num_input, s.num_synapse, rng);
  }
  m.mask_.assign(m.routing_.mask.begin(), m.routing_.mask.end());
  m.RefreshFusedSpec();
  return m;
}

template <typename T>
absl::Status ElmModel<T>::LoadStateDictImpl(
    absl::Span<const NamedTensor> tensors, absl::string_view prefix,
    absl::string_view source) {
  StateDictReader reader(tensors, prefix, source);
  auto error = [&](absl::string_view name, absl::string_view problem) {
    return reader.Error(absl::StrCat(prefix, name), problem);
  };

  // Parameters: biases and the other [1, n] parameters as vectors.
  RETURN_IF_ERROR(LoadParams(reader, &params_, [](const ParamInfo& info) {
    return info.rows == 1 && info.name.find(".weight") == std::string::npos
               ? std::vector<int64_t>{info.cols}
               : std::vector<int64_t>{info.rows, info.cols};
  }));

  // Buffers.
  const char* tau_name = shape_.v2 ? "tau_b" : "tau_s";
  ASSIGN_OR_RETURN(
      const NamedTensor* tau,
      reader.RequireFloating(tau_name, {static_cast<int64_t>(tau_.size())}));
  for (size_t i = 0; i < tau_.size(); ++i) {
    tau_[i] = static_cast<T>(tau->values[i]);
    if (!(tau_[i] > 0))
      return error(tau_name, absl::StrCat("holds ", tau->values[i], " at ", i,
                                          "; expected τ > 0"));
  }

  const NamedTensor* index = reader.Find("input_to_synapse_indices");
  const NamedTensor* mask = reader.Find("valid_indices_mask");
  if (shape_.routing == Routing::kNone) {
    // The reference stores empty tensors here; accept them or nothing.
    for (const NamedTensor* t : {index, mask}) {
      if (t != nullptr && t->num_elements() != 0) {
        return reader.Error(
            t->name,
            "is not empty, but the config has no input_to_synapse_routing");
      }
    }
  } else {
    const int64_t S = shape_.num_synapse;
    if (index == nullptr || mask == nullptr) {
      return reader
          .Require(index == nullptr ? "input_to_synapse_indices"
                                    : "valid_indices_mask",
                   " (the config routes inputs to synapses)")
          .status();
    }
    RETURN_IF_ERROR(reader.CheckShape(*index, {S}));
    RETURN_IF_ERROR(reader.CheckShape(*mask, {S}));
    if (index->is_floating())
      return error("input_to_synapse_indices", "must hold integers");
    routing_.index.assign(index->int_values.begin(), index->int_values.end());
    for (int64_t k = 0; k < S; ++k) {
      if (routing_.index[k] < 0 || routing_.index[k] >= shape_.num_input) {
        return error("input_to_synapse_indices",
                     absl::StrCat("holds ", routing_.index[k], " at ", k,
                                  "; expected [0, ", shape_.num_input, ")"));
      }
    }
    routing_.mask.resize(S);
    for (int64_t k = 0; k < S; ++k) {
      routing_.mask[k] = static_cast<float>(
          mask->is_floating() ? mask->values[k] : mask->int_values[k]);
    }
    mask_.assign(routing_.mask.begin(), routing_.mask.end());
  }

  return reader.CheckAllUsed(" for this model config");
}

template <typename T>
absl::Status ElmModel<T>::LoadStateDict(absl::Span<const NamedTensor> tensors,
                                        absl::string_view prefix,
                                        absl::string_view source) {
  const absl::Status status = LoadStateDictImpl(tensors, prefix, source);
  RefreshFusedSpec();  // τ and the routing may have changed, also on a failed
                       // load
  return status;
}

template <typename T>
std::vector<NamedTensor> ElmModel<T>::StateDict() const {
  std::vector<NamedTensor> out;
  auto add_float = [&](std::string name, std::vector<int64_t> shape,
                       const T* data, int64_t n) {
    NamedTensor t;
    t.name = std::move(name);
    t.dtype = std::is_same_v<T, double> ? "f64" : "f32";
    t.shape = std::move(shape);
    t.values.assign(data, data + n);
    out.push_back(std::move(t));
  };
  auto add_param = [&](int id, bool vector) {
    const ParamInfo& info = params_.info(id);
    add_float(info.name,
              vector ? std::vector<int64_t>{info.cols}
                     : std::vector<int64_t>{info.rows, info.cols},
              params_.value(id).data, info.size());
  };
  add_param(ids_.proto_w_s, true);
  add_float(shape_.v2 ? "tau_b" : "tau_s", {static_cast<int64_t>(tau_.size())},
            tau_.data(), static_cast<int64_t>(tau_.size()));
  add_param(ids_.proto_tau_m, true);
  NamedTensor index, mask;
  index.name = "input_to_synapse_indices";
  mask.name = "valid_indices_mask";
  if (shape_.routing == Routing::kNone) {
    index.dtype = mask.dtype = "f32";
    index.shape = mask.shape = {0};
  } else {
    index.dtype = "i64";
    mask.dtype = shape_.routing == Routing::kNeuronio ? "bool" : "i64";
    index.shape = mask.shape = {static_cast<int64_t>(routing_.index.size())};
    index.int_values = routing_.index;
    for (float v : routing_.mask) mask.int_values.push_back(v != 0.0f ? 1 : 0);
  }
  out.push_back(std::move(index));
  out.push_back(std::move(mask));
  for (size_t l = 0; l < ids_.mlp_weight.size(); ++l) {
    add_param(ids_.mlp_weight[l], false);
    add_param(ids_.mlp_bias[l], true);
  }
  add_param(ids_.w_y_weight, false);
  add_param(ids_.w_y_bias, true);
  return out;
}

template <typename T>
typename ElmModel<T>::StepParams ElmModel<T>::MakeStepParams(
    Tape<T>& tape, GradBlock<T>* grads) {
  const ElmShape& s = shape_;
  auto param = [&](int id) { return params_.OnTape(tape, id, grads); };
  const T dt = static_cast<T>(config_.delta_t());
  const T lambda = static_cast<T>(config_.lambda_value());
  const T tau_lo = static_cast<T>(s.memory_tau_min);
  const T tau_hi = static_cast<T>(s.memory_tau_max);
  const T inf = std::numeric_limits<T>::infinity();
  StepParams p;
  p.w_s = Relu(tape, param(ids_.proto_w_s));  // [1, S]
  Var<T> tau_m = Affine(tape, Sigmoid(tape, param(ids_.proto_tau_m)),
                        tau_hi - tau_lo, tau_lo);
  Var<T> tau_m_clamped = Clamp(tape, tau_m, T(1e-6), inf);  // [1, d_m]
  T* neg_dt = tape.arena().template AllocateArray<T>(2);
  neg_dt[0] = -dt;
  neg_dt[1] = -dt * lambda;
  p.kappa_m = Exp(tape, Div(tape, tape.Constant(neg_dt, 1, 1), tau_m_clamped));
  Var<T> one_minus_kappa_m = Affine(tape, p.kappa_m, T(-1), T(1));
  p.gain = s.v2 ? Affine(tape,
                         Exp(tape, Div(tape, tape.Constant(neg_dt + 1, 1, 1),
                                       tau_m_clamped)),
                         T(-1), T(1))                      // 1 − κ_λ
                : Scale(tape, one_minus_kappa_m, lambda);  // λ·(1 − κ_m)
  for (size_t l = 0; l < ids_.mlp_weight.size(); ++l) {
    p.mlp_w.push_back(param(ids_.mlp_weight[l]));
    p.mlp_b.push_back(param(ids_.mlp_bias[l]));
  }
  p.w_y = param(ids_.w_y_weight);
  p.b_y = param(ids_.w_y_bias);
  return p;
}

template <typename T>
std::vector<double> ElmModel<T>::TraceDecay() const {
  std::vector<double> kappa(tau_.size());
  for (size_t i = 0; i < tau_.size(); ++i) {
    kappa[i] = std::exp(-static_cast<T>(config_.delta_t()) /
                        std::max(tau_[i], T(1e-6)));
  }
  return kappa;
}

template <typename T>
typename ElmModel<T>::Outputs ElmModel<T>::Unroll(Tape<T>& tape, Var<T> x,
                                                  int64_t steps,
                                                  GradBlock<T>* grads,
                                                  bool record) {
  const ElmShape& s = shape_;
  CHECK_EQ(x.cols, s.num_input) << "ElmModel::Unroll: input has " << x.cols
                                << " channels, the model " << s.num_input;
  CHECK_GT(steps, 0);
  CHECK_EQ(x.rows % steps, 0)
      << "ElmModel::Unroll: " << x.rows << " rows are not B·" << steps;
  const int64_t batch = x.rows / steps;
  const StepParams p = MakeStepParams(tape, grads);
  const Var<T> w_s = p.w_s, kappa_m = p.kappa_m, gain = p.gain;
  const int64_t trace_width = s.v2 ? s.num_branch : s.num_synapse;
  const std::vector<double> kappa = TraceDecay();
  T* kappa_trace_data = tape.arena().template AllocateArray<T>(trace_width);
  for (int64_t i = 0; i < trace_width; ++i)
    kappa_trace_data[i] = static_cast<T>(kappa[i]);
  Var<T> kappa_trace = tape.Constant(kappa_trace_data, 1, trace_width);

  // Route all steps at once: [B·T, N] → [B·T, S], then view as [B, T·S].
  Var<T> routed = x;
  if (s.routing != Routing::kNone) {
    routed = Mul(tape, GatherCols<T>(tape, x, routing_.index),
                 tape.Constant(mask_.data(), 1, s.num_synapse));
  }
  routed = Reshape(routed, batch, steps * s.num_synapse);

  const std::vector<Var<T>>& mlp_w = p.mlp_w;
  const std::vector<Var<T>>& mlp_b = p.mlp_b;
  const Var<T> w_y = p.w_y, b_y = p.b_y;
  T* three = tape.arena().template AllocateArray<T>(1);
  three[0] = T(3);
  Var<T> three_v = tape.Constant(three, 1, 1);

  auto branch_sum = [&](Var<T> v) {  // [B, S] → [B, B_r]
    if (s.num_synapse_per_branch == 1) return v;
    return Reshape(
        Sum(tape, Reshape(v, batch * s.num_branch, s.num_synapse_per_branch),
            1),
        batch, s.num_branch);
  };

  T* zeros = tape.arena().template AllocateZeroed<T>(batch * s.num_memory);
  Var<T> m = tape.Constant(zeros, batch, s.num_memory);
  Var<T> trace;  // s_t (v1) or b_t (v2)
  std::vector<Var<T>> ys, traces, memories;
  ys.reserve(steps);
  for (int64_t t = 0; t < steps; ++t) {
    Var<T> x_t = SliceCols(tape, routed, t * s.num_synapse,
                           (t + 1) * s.num_synapse);  // [B, S]
    Var<T> drive = Mul(tape, w_s, x_t);
    Var<T> u;
    if (s.v2) {
      Var<T> b_in = branch_sum(drive);
      trace = t == 0 ? b_in : Add(tape, Mul(tape, kappa_trace, trace), b_in);
      u = trace;
    } else {
      trace = t == 0 ? drive : Add(tape, Mul(tape, kappa_trace, trace), drive);
      u = branch_sum(trace);
    }
    Var<T> m_decayed = Mul(tape, kappa_m, m);    // [B, d_m]
    Var<T> h = Concat<T>(tape, {u, m_decayed});  // [B, B_r + d_m]
    for (size_t l = 0; l < mlp_w.size(); ++l) {
      h = Linear(tape, h, mlp_w[l], mlp_b[l]);
      if (l + 1 < mlp_w.size())
        h = s.activation == Activation::kRelu ? Relu(tape, h) : Silu(tape, h);
    }
    Var<T> delta = Scale(
        tape, Tanh(tape, Div(tape, Scale(tape, h, T(2)), three_v)), T(1.7159));
    m = Add(tape, m_decayed, Mul(tape, gain, delta));  // [B, d_m]
    ys.push_back(Linear(tape, m, w_y, b_y));           // [B, n_out]
    if (record) {
      traces.push_back(trace);
      memories.push_back(m);
    }
  }
  // [B, T·D] with column block t = step t is the [B·T, D] layout.
  Outputs out;
  out.y = Reshape(Concat<T>(tape, ys), batch * steps, s.num_output);
  if (record) {
    out.states = Reshape(Concat<T>(tape, traces), batch * steps, trace_width);
    out.memory =
        Reshape(Concat<T>(tape, memories), batch * steps, s.num_memory);
  }
  return out;
}

template <typename T>
void ElmModel<T>::RefreshFusedSpec() {
  can_fuse_ = ComputeCanFuse();
  fused_spec_ = can_fuse_ ? MakeFusedSpec() : FusedElmSpec{};
}

template <typename T>
bool ElmModel<T>::ComputeCanFuse() const {
  if (shape_.v2) return true;
  // v1 sums synaptic traces; the fused path needs one τ_s per branch.
  const int64_t per = shape_.num_synapse_per_branch;
  for (int64_t k = 0; k < shape_.num_synapse; ++k) {
    if (tau_[k] != tau_[(k / per) * per]) return false;
  }
  return true;
}

template <typename T>
FusedElmSpec ElmModel<T>::MakeFusedSpec() const {
  FusedElmSpec f;
  f.num_input = shape_.num_input;
  f.num_branch = shape_.num_branch;
  f.num_synapse_per_branch = shape_.num_synapse_per_branch;
  f.num_memory = shape_.num_memory;
  f.silu = shape_.activation == Activation::kSilu;
  if (shape_.routing != Routing::kNone) {
    f.index = routing_.index;
    f.mask.assign(routing_.mask.begin(), routing_.mask.end());
  }
  const std::vector<double> kappa = TraceDecay();
  f.kappa_branch.resize(shape_.num_branch);
  for (int j = 0; j < shape_.num_branch; ++j) {
    f.kappa_branch[j] =
        kappa[shape_.v2 ? j : j * shape_.num_synapse_per_branch];
  }
  return f;
}

template <typename T>
FusedElmParams<T> ElmModel<T>::ToFused(const StepParams& p) {
  FusedElmParams<T> f;
  f.w_s = p.w_s;
  f.kappa_m = p.kappa_m;
  f.gain = p.gain;
  f.mlp_w = p.mlp_w;
  f.mlp_b = p.mlp_b;
  f.w_y = p.w_y;
  f.b_y = p.b_y;
  return f;
}

template <typename T>
Var<T> ElmModel<T>::FusedUnroll(Tape<T>& tape, Var<T> x, int64_t steps,
                                GradBlock<T>* grads, Var<T>* memory) {
  if (!CanFuse()) {
    Outputs out = Unroll(tape, x, steps, grads, memory != nullptr);
    if (memory != nullptr) *memory = out.memory;
    return out.y;
  }
  const StepParams p = MakeStepParams(tape, grads);
  return FusedElmUnroll(tape, fused_spec_, ToFused(p), x, steps, memory,
                        fused_options_);
}

template <typename T>
Var<T> ElmModel<T>::FusedUnroll(Tape<T>& tape, const CsrView& x, int64_t steps,
                                GradBlock<T>* grads, Var<T>* memory) {
  CHECK(CanFuse())
      << "sparse inputs need the fused path (one tau_s per branch)";
  const StepParams p = MakeStepParams(tape, grads);
  return FusedElmUnroll(tape, fused_spec_, ToFused(p), x, steps, memory,
                        fused_options_);
}

template class ElmModel<float>;
template class ElmModel<double>;

}  // namespace elm
