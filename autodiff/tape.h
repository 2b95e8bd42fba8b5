// The tape: reverse-mode automatic differentiation over matrix-valued
// variables.
//
// Forward: every differentiable op f computes y = f(x_1, ..., x_k) on arena
// buffers and appends one record to a flat list. Creation order is a
// topological order, so backward is one reverse loop over the records, each
// applying the adjoint (vector-Jacobian) rule
//     x̄_i += (∂f/∂x_i)^T ȳ          for every input i that needs a gradient,
// after the loss adjoint is seeded with L̄ = 1. Adjoints accumulate (+=), so a
// variable used twice gets the sum of both contributions. There is no graph
// walk, no reference counting and no heap allocation per op: values, adjoints
// and record contexts live in the tape's arena, and `Reset()` rewinds it while
// keeping its memory.
//
// A `Var<T>` is a trivially copyable handle {value, adjoint, shape}. Its
// adjoint is null when no gradient is needed (inputs, constants, anything
// computed only from them); ops then record nothing and backward skips the
// work. A parameter's Var aliases a persistent gradient block, so backward
// accumulates straight into it (see params.h).
//
// User-defined (fused) ops: compute the forward yourself on `tape.NewVar(...)`
// outputs, then `tape.Record(lambda)` with a lambda that applies your
// hand-written adjoint. The lambda is copied into the arena and must be
// trivially copyable and destructible (capture Vars, pointers and numbers by
// value; put arrays in `tape.arena()`). Example, y = x ⊙ x:
//
//   Var<T> Square(Tape<T>& tape, Var<T> x) {
//     Var<T> y = tape.NewVar(x.rows, x.cols, /*needs_grad=*/x.needs_grad());
//     for (int64_t i = 0; i < x.size(); ++i)
//       y.value[i] = x.value[i] * x.value[i];
//     if (y.needs_grad()) {
//       tape.Record([x, y] {
//         for (int64_t i = 0; i < x.size(); ++i)
//           x.grad[i] += 2 * x.value[i] * y.grad[i];
//       });
//     }
//     return y;
//   }
//
// One tape per thread; a tape is not thread-safe. In debug builds every op
// checks that its Vars belong to the current epoch of the tape (a Var kept
// across `Reset()` is stale).
#ifndef ELM_AUTODIFF_TAPE_H_
#define ELM_AUTODIFF_TAPE_H_

#include <algorithm>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "autodiff/arena.h"
#include "autodiff/tensor.h"
#include "glog/logging.h"

namespace elm {

// A handle on a tape variable: value and adjoint buffers of a row-major [rows,
// cols] matrix.
template <typename T>
struct Var {
  T* value = nullptr;  // [rows, cols]
  T* grad = nullptr;   // [rows, cols], or null when no gradient is needed
  int64_t rows = 0;
  int64_t cols = 0;
  uint32_t epoch = 0;  // the tape epoch this Var was made in (stale-use check)

  int64_t size() const { return rows * cols; }
  bool needs_grad() const { return grad != nullptr; }
  View<T> value_view() const { return {value, rows, cols}; }
  View<T> grad_view() const { return {grad, rows, cols}; }
  T scalar() const {
    CHECK_EQ(size(), 1) << "scalar() of a [" << rows << ", " << cols << "] Var";
    return value[0];
  }
};

static_assert(std::is_trivially_copyable_v<Var<float>>);

template <typename T>
class Tape {
 public:
  // Position on the tape: records and arena contents made after it can be
  // dropped.
  struct Mark {
    size_t num_records = 0;
    Arena::Mark arena;
  };

  explicit Tape(size_t first_block_bytes = size_t{1} << 20)
      : arena_(first_block_bytes) {}
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  // A new variable with uninitialised value; its adjoint is zeroed when
  // `needs_grad`.
  Var<T> NewVar(int64_t rows, int64_t cols, bool needs_grad) {
    CHECK_GE(rows, 0);
    CHECK_GE(cols, 0);
    Var<T> v;
    v.rows = rows;
    v.cols = cols;
    v.epoch = epoch_;
    v.value = arena_.AllocateArray<T>(rows * cols);
    if (needs_grad) v.grad = arena_.AllocateZeroed<T>(rows * cols);
    return v;
  }

  // A gradient-free variable over external memory (batch inputs, constants).
  // Nothing is copied; the data must outlive the tape's use of it. Ops never
  // write to it.
  Var<T> Constant(const T* data, int64_t rows, int64_t cols) {
    Var<T> v;
    v.value = const_cast<T*>(data);
    v.rows = rows;
    v.cols = cols;
    v.epoch = epoch_;
    return v;
  }
  Var<T> Constant(View<const T> view) {
    return Constant(view.data, view.rows, view.cols);
  }

  // A leaf that needs a gradient, with a copy of `data` as value and a zeroed
  // adjoint in the arena. Read its gradient from `.grad` after Backward.
  Var<T> Leaf(const T* data, int64_t rows, int64_t cols) {
    Var<T> v = NewVar(rows, cols, /*needs_grad=*/true);
    std::copy(data, data + rows * cols, v.value);
    return v;
  }

  // A leaf over external value and adjoint storage (parameters: the adjoint
  // aliases a gradient block, and backward accumulates into it).
  Var<T> External(T* value, T* grad, int64_t rows, int64_t cols) {
    Var<T> v;
    v.value = value;
    v.grad = grad;
    v.rows = rows;
    v.cols = cols;
    v.epoch = epoch_;
    return v;
  }

  // Appends a backward closure (see the file comment). `fn` is copied into the
  // arena.
  template <typename F>
  void Record(F fn) {
    static_assert(std::is_trivially_copyable_v<F>,
                  "tape records must be trivially copyable: capture by value, "
                  "no std::vector");
    static_assert(std::is_trivially_destructible_v<F>,
                  "tape records are never destroyed");
    void* ctx = arena_.Allocate(sizeof(F), alignof(F) < 8 ? 8 : alignof(F));
    new (ctx) F(fn);
    records_.push_back({&Thunk<F>, ctx});
  }

  // Seeds `loss` (a [1, 1] Var) with adjoint 1 and runs every record in
  // reverse.
  void Backward(Var<T> loss) {
    CheckLive(loss);
    CHECK_EQ(loss.size(), 1) << "Backward needs a scalar loss, got ["
                             << loss.rows << ", " << loss.cols << "]";
    CHECK(loss.needs_grad())
        << "Backward: the loss does not depend on anything that "
           "needs a gradient";
    loss.grad[0] += T(1);
    RunBackward();
  }

  // Runs every record in reverse with adjoints seeded by the caller.
  void RunBackward() { BackwardTo(Mark{}); }

  // Runs the records made after `mark` in reverse (nested scopes,
  // checkpointing).
  void BackwardTo(const Mark& mark) {
    CHECK_LE(mark.num_records, records_.size());
    for (size_t i = records_.size(); i > mark.num_records; --i) {
      const RecordEntry& r = records_[i - 1];
      r.fn(r.ctx);
    }
  }

  Mark GetMark() const { return {records_.size(), arena_.GetMark()}; }

  // Drops the records and arena contents made after `mark`. Vars made after it
  // must not be used again (this is not detected).
  void RewindTo(const Mark& mark) {
    CHECK_LE(mark.num_records, records_.size());
    records_.resize(mark.num_records);
    arena_.RewindTo(mark.arena);
  }

  // Drops everything, keeps capacity, and starts a new epoch: Vars made before
  // are stale.
  void Reset() {
    records_.clear();
    arena_.Reset();
    ++epoch_;
  }

  // Debug-build check that `v` was made since the last Reset().
  void CheckLive(const Var<T>& v) const {
#ifndef NDEBUG
    CHECK_EQ(v.epoch, epoch_) << "stale Var: made before Tape::Reset() (epoch "
                              << v.epoch << ", tape epoch " << epoch_ << ")";
#else
    (void)v;
#endif
  }

  Arena& arena() { return arena_; }
  const Arena& arena() const { return arena_; }
  size_t num_records() const { return records_.size(); }
  size_t record_capacity() const { return records_.capacity(); }
  uint32_t epoch() const { return epoch_; }

 private:
  struct RecordEntry {
    void (*fn)(void*);
    void* ctx;
  };

  template <typename F>
  static void Thunk(void* ctx) {
    (*static_cast<F*>(ctx))();
  }

  Arena arena_;
  std::vector<RecordEntry> records_;
  uint32_t epoch_ = 1;
};

}  // namespace elm

#endif  // ELM_AUTODIFF_TAPE_H_
