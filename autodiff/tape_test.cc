// Tape tests: backward order and accumulation, user-defined records, marks and
// nested backward, and hygiene (Reset empties, the arena stops growing after
// two steps, stale Vars are caught in debug builds).
#include "autodiff/tape.h"

#include <vector>

#include "autodiff/grad_check.h"
#include "autodiff/ops.h"
#include "autodiff/params.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

// The user-defined op of the tape.h example: y = x ⊙ x with a hand-written
// backward.
template <typename T>
Var<T> Square(Tape<T>& tape, Var<T> x) {
  Var<T> y = tape.NewVar(x.rows, x.cols, x.needs_grad());
  for (int64_t i = 0; i < x.size(); ++i) y.value[i] = x.value[i] * x.value[i];
  if (y.needs_grad()) {
    tape.Record([x, y] {
      for (int64_t i = 0; i < x.size(); ++i)
        x.grad[i] += 2 * x.value[i] * y.grad[i];
    });
  }
  return y;
}

TEST(TapeTest, UserDefinedRecordGradient) {
  Rng rng(1);
  std::vector<Tensor<double>> in = {RandomTensor(3, 3, rng)};
  GradCheckResult r = CheckOpGradients(
      [](Tape<double>& t, absl::Span<const Var<double>> x) {
        return Tanh(t, Square(t, x[0]));
      },
      in);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(TapeTest, VariableUsedTwiceAccumulates) {
  Tape<double> tape;
  const double x0 = 1.5;
  Var<double> x = tape.Leaf(&x0, 1, 1);
  // L = x·x + 3x → dL/dx = 2x + 3.
  Var<double> loss = Add(tape, Mul(tape, x, x), Scale(tape, x, 3.0));
  tape.Backward(loss);
  EXPECT_DOUBLE_EQ(loss.scalar(), x0 * x0 + 3 * x0);
  EXPECT_DOUBLE_EQ(x.grad[0], 2 * x0 + 3);
}

TEST(TapeTest, BackwardToMarkRunsOnlyLaterRecords) {
  Tape<double> tape;
  const double v = 2.0;
  Var<double> x = tape.Leaf(&v, 1, 1);
  Var<double> y = Scale(tape, x, 3.0);  // before the mark
  const Tape<double>::Mark mark = tape.GetMark();
  Var<double> z = Mul(tape, y, y);  // after the mark: z = y²
  EXPECT_EQ(tape.num_records(), 2u);
  z.grad[0] = 1.0;
  tape.BackwardTo(mark);
  EXPECT_DOUBLE_EQ(y.grad[0], 2 * 6.0);  // dz/dy
  EXPECT_DOUBLE_EQ(x.grad[0], 0.0);      // the earlier record did not run
  tape.RewindTo(mark);
  EXPECT_EQ(tape.num_records(), 1u);
  tape.RunBackward();
  EXPECT_DOUBLE_EQ(x.grad[0], 3 * 12.0);
}

TEST(TapeTest, RewindToMarkRestoresArena) {
  Tape<float> tape;
  tape.NewVar(10, 10, true);
  const Tape<float>::Mark mark = tape.GetMark();
  const size_t used = tape.arena().bytes_in_use();
  Var<float> a = tape.NewVar(100, 100, true);
  Exp(tape, a);
  EXPECT_GT(tape.arena().bytes_in_use(), used);
  tape.RewindTo(mark);
  EXPECT_EQ(tape.arena().bytes_in_use(), used);
  EXPECT_EQ(tape.num_records(), 0u);
}

// One step of a small MLP on a fresh tape state.
void MlpStep(Tape<float>& tape, ParamSet<float>& params,
             GradBlock<float>& grads, const std::vector<float>& x,
             const std::vector<float>& y) {
  tape.Reset();
  Var<float> in = tape.Constant(x.data(), 8, 4);
  Var<float> h = Tanh(tape, Linear(tape, in, params.OnTape(tape, 0, &grads),
                                   params.OnTape(tape, 1, &grads)));
  Var<float> out = Linear(tape, h, params.OnTape(tape, 2, &grads),
                          params.OnTape(tape, 3, &grads));
  tape.Backward(Mse(tape, out, tape.Constant(y.data(), 8, 1)));
}

TEST(TapeTest, ArenaHighWaterStableFromSecondStepAndResetEmpties) {
  ParamSet<float> params;
  params.Add("w1", 16, 4);
  params.Add("b1", 1, 16);
  params.Add("w2", 1, 16);
  params.Add("b2", 1, 1);
  Rng rng(3);
  params.ForEach(
      [&](const ParamInfo&, View<float> v) { FillUniform(v, -0.5, 0.5, rng); });
  GradBlock<float> grads(params);
  std::vector<float> x(32), y(8);
  for (float& v : x) v = static_cast<float>(rng.Uniform(-1, 1));
  for (float& v : y) v = static_cast<float>(rng.Uniform(-1, 1));
  Tape<float> tape(4096);

  MlpStep(tape, params, grads, x, y);
  EXPECT_GT(tape.num_records(), 0u);
  MlpStep(tape, params, grads, x, y);
  const size_t high = tape.arena().high_water_mark();
  const size_t reserved = tape.arena().bytes_reserved();
  const size_t capacity = tape.record_capacity();
  for (int step = 0; step < 5; ++step) MlpStep(tape, params, grads, x, y);
  EXPECT_EQ(tape.arena().high_water_mark(), high);
  EXPECT_EQ(tape.arena().bytes_reserved(), reserved);
  EXPECT_EQ(tape.record_capacity(), capacity);

  tape.Reset();
  EXPECT_EQ(tape.num_records(), 0u);
  EXPECT_EQ(tape.arena().bytes_in_use(), 0u);
}

#ifndef NDEBUG
TEST(TapeDeathTest, StaleVarIsCaughtInDebugBuilds) {
  Tape<float> tape;
  Var<float> x = tape.NewVar(2, 2, true);
  tape.Reset();
  EXPECT_DEATH(Exp(tape, x), "stale Var");
}
#endif

TEST(TapeDeathTest, BackwardNeedsAScalarLoss) {
  Tape<float> tape;
  Var<float> x = tape.NewVar(2, 2, true);
  EXPECT_DEATH(tape.Backward(x), "scalar loss");
}

}  // namespace
}  // namespace elm
