// The LSTM baseline against PyTorch: testdata/lstm/lstm_golden.txt holds a
// torch 1.13 nn.LSTM(5, 7, batch_first=True) with an nn.Linear(7, 3) readout,
// an input [2, 9, 5], its outputs, L = Σ y² and every gradient, in float64
// (made by testdata/lstm/make_lstm_golden.py). The state_dict loads by
// nn.LSTM's names; the composed and the fused unroll must reproduce h, y, the
// last cell state and every gradient to 1e-12·max(1, max|ref|) in double, and
// the fused float unroll to 1e-5.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "autodiff/ops.h"
#include "autodiff/params.h"
#include "autodiff/tape.h"
#include "elm/lstm.h"
#include "gtest/gtest.h"
#include "io/elmtensor.h"

namespace elm {
namespace {

constexpr int kD = 5, kH = 7, kOut = 3, kB = 2, kT = 9;

class LstmGoldenTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    const std::string path = absl::StrCat(
        std::getenv("TEST_SRCDIR"), "/elm/elm/testdata/lstm/lstm_golden.txt");
    absl::StatusOr<ElmTensorFile> file = ReadElmTensorFile(path);
    ASSERT_TRUE(file.ok()) << file.status();
    file_ = *std::move(file);
  }

  const std::vector<double>& Values(const std::string& name,
                                    std::vector<int64_t> shape) {
    absl::StatusOr<const NamedTensor*> t = file_.Find(name);
    CHECK(t.ok()) << t.status();
    EXPECT_EQ((*t)->shape, shape) << name;
    return (*t)->values;
  }

  // Our model with the file's weights (the param.* tensors).
  template <typename T>
  LstmModel<T> Model() {
    absl::StatusOr<LstmModel<T>> model =
        LstmModel<T>::Create({kD, kH, kOut}, /*seed=*/1);
    CHECK(model.ok()) << model.status();
    std::vector<NamedTensor> params;
    for (const NamedTensor& t : file_.tensors) {
      if (absl::StartsWith(t.name, "param.")) params.push_back(t);
    }
    const absl::Status loaded =
        model->LoadStateDict(params, "param.", "lstm_golden.txt");
    CHECK(loaded.ok()) << loaded;
    return *std::move(model);
  }

  ElmTensorFile file_;
};

void ExpectClose(const std::vector<double>& got,
                 const std::vector<double>& want, double tol,
                 const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 1, worst = 0;
  for (double w : want) scale = std::max(scale, std::abs(w));
  for (size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst, std::abs(got[i] - want[i]));
  EXPECT_LE(worst, tol * scale) << what << ": max|ours − torch| = " << worst
                                << " (scale " << scale << ")";
}

template <typename T>
std::vector<double> Doubles(const T* p, int64_t n) {
  return std::vector<double>(p, p + n);
}

TEST_P(LstmGoldenTest, DoubleMatchesTorch) {
  const bool fused = GetParam();
  LstmModel<double> model = Model<double>();
  const int64_t R = kB * kT;
  std::vector<double> x = Values("input.X", {kB, kT, kD});
  std::vector<double> x_grad(x.size(), 0.0);
  GradBlock<double> grads(model.params());
  Tape<double> tape;
  Var<double> xv = tape.External(x.data(), x_grad.data(), R, kD);
  LstmModel<double>::Outputs out =
      fused ? model.FusedUnroll(tape, xv, kT, &grads, /*record=*/true)
            : model.Unroll(tape, xv, kT, &grads, /*record=*/true);
  Var<double> loss = SumAll(tape, Mul(tape, out.y, out.y));
  tape.Backward(loss);

  ExpectClose(Doubles(out.hidden.value, R * kH),
              Values("output.h", {kB, kT, kH}), 1e-12, "h");
  ExpectClose(Doubles(out.y.value, R * kOut),
              Values("output.y", {kB, kT, kOut}), 1e-12, "y");
  std::vector<double> c_last;  // c at t = T − 1 of each sequence
  for (int b = 0; b < kB; ++b) {
    const double* row = out.cell.value + ((b + 1) * kT - 1) * kH;
    c_last.insert(c_last.end(), row, row + kH);
  }
  ExpectClose(c_last, Values("output.c_last", {kB, kH}), 1e-12, "c_T");
  ExpectClose({loss.scalar()}, Values("loss", {}), 1e-12, "L");
  ExpectClose(x_grad, Values("grad.input.X", {kB, kT, kD}), 1e-12, "dL/dX");
  const char* names[] = {"weight_ih_l0", "weight_hh_l0",   "bias_ih_l0",
                         "bias_hh_l0",   "readout.weight", "readout.bias"};
  const int ids[] = {model.ids().weight_ih,      model.ids().weight_hh,
                     model.ids().bias_ih,        model.ids().bias_hh,
                     model.ids().readout_weight, model.ids().readout_bias};
  for (int i = 0; i < 6; ++i) {
    const ParamInfo& info = model.params().info(ids[i]);
    absl::StatusOr<const NamedTensor*> want =
        file_.Find(absl::StrCat("grad.", names[i]));
    ASSERT_TRUE(want.ok()) << want.status();
    ExpectClose(Doubles(grads.data() + info.offset, info.size()),
                (*want)->values, 1e-12, absl::StrCat("dL/d", names[i]));
  }
}

TEST_F(LstmGoldenTest, FusedFloatMatchesTorch) {
  LstmModel<float> model = Model<float>();
  const int64_t R = kB * kT;
  const std::vector<double>& x64 = Values("input.X", {kB, kT, kD});
  std::vector<float> x(x64.begin(), x64.end());
  Tape<float> tape;
  LstmModel<float>::Outputs out = model.FusedUnroll(
      tape, tape.Constant(x.data(), R, kD), kT, /*grads=*/nullptr);
  ExpectClose(Doubles(out.y.value, R * kOut),
              Values("output.y", {kB, kT, kOut}), 1e-5, "y (float)");
}

INSTANTIATE_TEST_SUITE_P(Unrolls, LstmGoldenTest, ::testing::Bool(),
                         [](const auto& info) {
                           return info.param ? "fused" : "composed";
                         });

}  // namespace
}  // namespace elm
