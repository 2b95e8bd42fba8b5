// Parameters: named tensors backed by one contiguous block, with gradient
// blocks of the same layout. Trainable parameters come first and frozen ones
// (kept and saved, never updated) after them, so optimizers (optimizer.h) step
// the trainable prefix of the block at once; a model keeps the ids that `Add`
// returns and makes tape Vars with `OnTape`, whose adjoints alias a GradBlock
// so that backward accumulates straight into it. With several threads, each
// thread has its own tape and GradBlock; `GradBlock::Add` sums them before the
// optimizer step.
//
// Example:
//   ParamSet<float> params;
//   const int w = params.Add("layer0.weight", 16, 8);   // [out, in]
//   const int b = params.Add("layer0.bias", 1, 16);
//   GradBlock<float> grads(params);
//   ... Var<float> wv = params.OnTape(tape, w, &grads); ...;
//   tape.Backward(loss); ClipGradNorm(grads, 1.0);
//   optimizer.Step(params.data(), grads.data(),
//   params.num_trainable_elements()); grads.Zero();
#ifndef ELM_AUTODIFF_PARAMS_H_
#define ELM_AUTODIFF_PARAMS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "autodiff/tape.h"
#include "autodiff/tensor.h"
#include "base/rng.h"

namespace elm {

// Where a parameter lives in the block.
struct ParamInfo {
  std::string name;
  int64_t offset = 0;  // in elements
  int64_t rows = 0;
  int64_t cols = 0;
  bool trainable = true;  // frozen parameters get no gradient and no update
  int64_t size() const { return rows * cols; }
};

template <typename T>
class GradBlock;

template <typename T>
class ParamSet {
 public:
  // Adds a zero-initialised [rows, cols] parameter and returns its id. Names
  // are unique. Frozen parameters (trainable = false) must come after every
  // trainable one. Add every parameter before taking views or Vars: adding
  // moves the block.
  int Add(std::string name, int64_t rows, int64_t cols, bool trainable = true);

  int num_params() const { return static_cast<int>(infos_.size()); }
  int64_t num_elements() const { return static_cast<int64_t>(data_.size()); }
  // The trainable parameters are elements [0, num_trainable_elements()).
  int64_t num_trainable_elements() const { return num_trainable_elements_; }
  const ParamInfo& info(int id) const { return infos_.at(id); }
  const std::vector<ParamInfo>& infos() const { return infos_; }
  // The id of the parameter called `name`, or NotFound naming it.
  absl::StatusOr<int> Find(absl::string_view name) const;

  View<T> value(int id);
  View<const T> value(int id) const;
  T* data() { return data_.data(); }
  const T* data() const { return data_.data(); }

  // A tape Var over parameter `id`; its adjoint aliases `grads` (no gradient
  // when `grads` is null or the parameter is frozen).
  Var<T> OnTape(Tape<T>& tape, int id, GradBlock<T>* grads);

  // Calls fn(const ParamInfo&, View<T> value) for every parameter in order.
  template <typename F>
  void ForEach(F fn) {
    for (const ParamInfo& p : infos_)
      fn(p, View<T>{data_.data() + p.offset, p.rows, p.cols});
  }

 private:
  std::vector<ParamInfo> infos_;
  std::vector<T> data_;
  int64_t num_trainable_elements_ = 0;
};

// Gradients (or any per-parameter state) with the layout of a ParamSet.
template <typename T>
class GradBlock {
 public:
  GradBlock() = default;
  explicit GradBlock(const ParamSet<T>& params)
      : infos_(params.infos()), data_(params.num_elements(), T(0)) {}

  T* data() { return data_.data(); }
  const T* data() const { return data_.data(); }
  int64_t size() const { return static_cast<int64_t>(data_.size()); }
  View<T> view(int id) {
    const ParamInfo& p = infos_.at(id);
    return {data_.data() + p.offset, p.rows, p.cols};
  }
  void Zero();
  // this += other (same layout): sums per-thread gradient blocks.
  void Add(const GradBlock& other);
  // Squared L2 norm of the whole block.
  double SquaredNorm() const;

 private:
  std::vector<ParamInfo> infos_;
  std::vector<T> data_;
};

// Global-norm clipping as torch.nn.utils.clip_grad_norm_ (norm 2): with n =
// ‖g‖₂, scales g by min(1, max_norm / (n + 1e-6)). Returns n (before clipping).
template <typename T>
double ClipGradNorm(GradBlock<T>& grads, double max_norm);

// Fills `v` with values uniform in [lo, hi) from `rng`.
template <typename T>
void FillUniform(View<T> v, double lo, double hi, Rng& rng);

}  // namespace elm

#endif  // ELM_AUTODIFF_PARAMS_H_
