// Tests StateDictReader's lookups and checks and LoadParams, including that a
// failed load leaves the parameters unchanged.
#include "autodiff/state_dict.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

NamedTensor Floats(std::string name, std::vector<int64_t> shape,
                   std::vector<double> values) {
  NamedTensor t;
  t.name = std::move(name);
  t.dtype = "f32";
  t.shape = std::move(shape);
  t.values = std::move(values);
  return t;
}

// Biases are stored as vectors, weights as matrices.
std::vector<int64_t> TorchShape(const ParamInfo& p) {
  return absl::StrContains(p.name, "bias")
             ? std::vector<int64_t>{p.cols}
             : std::vector<int64_t>{p.rows, p.cols};
}

ParamSet<float> TwoParams() {
  ParamSet<float> params;
  params.Add("w.weight", 2, 2);
  params.Add("w.bias", 1, 2);
  return params;
}

std::vector<NamedTensor> Good(const std::string& prefix = "") {
  return {Floats(prefix + "w.weight", {2, 2}, {1, 2, 3, 4}),
          Floats(prefix + "w.bias", {2}, {5, 6})};
}

absl::Status Load(const std::vector<NamedTensor>& tensors,
                  ParamSet<float>* params, const std::string& prefix = "") {
  StateDictReader reader(tensors, prefix, "m.pt");
  if (absl::Status st = LoadParams(reader, params, TorchShape); !st.ok()) {
    return st;
  }
  return reader.CheckAllUsed(" for this model");
}

TEST(StateDictTest, LoadsEveryParameter) {
  ParamSet<float> params = TwoParams();
  ASSERT_TRUE(Load(Good(), &params).ok());
  const std::vector<float> want = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ(std::vector<float>(params.data(), params.data() + 6), want);
}

TEST(StateDictTest, PrefixSelectsAndOthersAreIgnored) {
  std::vector<NamedTensor> tensors = Good("model.");
  tensors.push_back(Floats("optimizer.step", {}, {3}));  // not under model.
  ParamSet<float> params = TwoParams();
  EXPECT_TRUE(Load(tensors, &params, "model.").ok());
  tensors.push_back(Floats("model.extra", {1}, {0}));
  const absl::Status st = Load(tensors, &params, "model.");
  EXPECT_EQ(st.message(),
            "m.pt: unexpected tensor 'model.extra' for this model");
}

TEST(StateDictTest, ErrorsNameTheTensorAndLeaveTheParamsUnchanged) {
  struct Case {
    std::vector<NamedTensor> tensors;
    std::string message;
  };
  std::vector<Case> cases;
  cases.push_back({{Good()[0]}, "m.pt: missing tensor 'w.bias'"});
  {
    std::vector<NamedTensor> t = Good();
    t[1].shape = {1, 2};
    cases.push_back(
        {t, "m.pt: tensor 'w.bias' has shape (1, 2); expected (2,)"});
  }
  {
    std::vector<NamedTensor> t = Good();
    t[1].values.pop_back();
    cases.push_back({t, "m.pt: tensor 'w.bias' holds 1 values for shape (2,)"});
  }
  {
    std::vector<NamedTensor> t = Good();
    t[1].dtype = "i64";
    t[1].int_values = {5, 6};
    t[1].values.clear();
    cases.push_back(
        {t, "m.pt: tensor 'w.bias' has dtype i64; expected f32 or f64"});
  }
  for (const Case& c : cases) {
    ParamSet<float> params = TwoParams();
    const absl::Status st = Load(c.tensors, &params);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(st.message(), c.message);
    for (int64_t i = 0; i < params.num_elements(); ++i) {
      EXPECT_EQ(params.data()[i], 0.0f) << c.message;
    }
  }
}

TEST(StateDictTest, ReaderPieces) {
  const std::vector<NamedTensor> tensors = Good("p.");
  StateDictReader reader(tensors, "p.", "src");
  EXPECT_EQ(reader.Find("nothing"), nullptr);
  EXPECT_EQ(reader.Require("tau", " (the config needs it)").status().message(),
            "src: missing tensor 'p.tau' (the config needs it)");
  absl::StatusOr<const NamedTensor*> w =
      reader.RequireFloating("w.weight", {2, 2});
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ((*w)->values[3], 4);
  EXPECT_EQ(reader.CheckAllUsed().message(),
            "src: unexpected tensor 'p.w.bias'");
  ASSERT_NE(reader.Find("w.bias"), nullptr);
  EXPECT_TRUE(reader.CheckAllUsed().ok());
  EXPECT_EQ(reader.Error("p.w.bias", "is odd").message(),
            "src: tensor 'p.w.bias' is odd");
}

}  // namespace
}  // namespace elm
