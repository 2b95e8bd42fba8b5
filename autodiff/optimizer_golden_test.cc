// Replays the PyTorch 1.13 float64 optimizer traces in testdata/optim/ (a copy
// of
// ../shared/golden/optim/)
// (ELMTENSOR files: param.initial, then per step K the lr, the gradient and the
// parameters after the step) with our optimizers and our cosine schedule. The
// optimizer settings and the schedule are read from the files' comment lines.
// Checks the lr to 1e-12 relative and the parameters to max|a-b| <= 1e-12 *
// max(1, max|ref|) in double, and the float instantiation to 1e-6.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "autodiff/lr_schedule.h"
#include "autodiff/optimizer.h"
#include "gtest/gtest.h"
#include "io/elmtensor.h"

namespace elm {
namespace {

constexpr int kSteps = 6;

// The golden folder in the runfiles, or "" (with the path looked at in
// *missing).

// The number after `key` in `text` (e.g. key "'lr': "), or NaN.
double NumberAfter(const std::string& text, const std::string& key) {
  const size_t at = text.find(key);
  if (at == std::string::npos) return std::nan("");
  const char* start = text.c_str() + at + key.size();
  char* end = nullptr;
  const double value = std::strtod(start, &end);
  return end == start ? std::nan("") : value;
}

// Builds the optimizer config from the settings comment, e.g.
// " torch 1.13.0a0, float64; Adam {'lr': 0.0005, 'betas': (0.9, 0.999), ...}".
absl::StatusOr<OptimizerConfig> ConfigFromComment(const std::string& comment) {
  const size_t semicolon = comment.find("; ");
  const size_t brace = comment.find(" {");
  if (semicolon == std::string::npos || brace == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("no optimizer settings in comment '", comment, "'"));
  }
  const std::string name = comment.substr(semicolon + 2, brace - semicolon - 2);
  OptimizerConfig config;
  if (name == "SGD") {
    config.kind = OptimizerKind::kSgd;
    config.momentum = NumberAfter(comment, "'momentum': ");
    config.dampening = NumberAfter(comment, "'dampening': ");
    config.nesterov = absl::StrContains(comment, "'nesterov': True");
  } else if (name == "Adam" || name == "AdamW" || name == "Adamax") {
    config.kind = name == "Adam"    ? OptimizerKind::kAdam
                  : name == "AdamW" ? OptimizerKind::kAdamW
                                    : OptimizerKind::kAdamax;
    // 'betas': (beta1, beta2)
    config.beta1 = NumberAfter(comment, "'betas': (");
    const size_t betas = comment.find("'betas': (");
    config.beta2 = betas == std::string::npos
                       ? std::nan("")
                       : NumberAfter(comment.substr(betas), ", ");
    config.eps = NumberAfter(comment, "'eps': ");
    if (absl::StrContains(comment, "'amsgrad': True")) {
      return absl::UnimplementedError("amsgrad is not supported");
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown optimizer '", name, "'"));
  }
  if (absl::StrContains(comment, "'maximize': True")) {
    return absl::UnimplementedError("maximize is not supported");
  }
  config.lr = NumberAfter(comment, "'lr': ");
  config.weight_decay = NumberAfter(comment, "'weight_decay': ");
  if (absl::Status status = ValidateOptimizerConfig(config); !status.ok()) {
    return status;
  }
  return config;
}

// Builds the schedule from " CosineAnnealingLR(T_max=4, eta_min=1e-5) ...".
absl::StatusOr<LrSchedule> ScheduleFromComment(const std::string& comment,
                                               double base_lr) {
  if (!absl::StrContains(comment, "CosineAnnealingLR(")) {
    return absl::InvalidArgumentError(
        absl::StrCat("no CosineAnnealingLR in comment '", comment, "'"));
  }
  LrScheduleConfig config;
  config.kind = LrScheduleKind::kCosine;
  config.base_lr = base_lr;
  const double t_max = NumberAfter(comment, "T_max=");
  config.t_max = std::isnan(t_max) ? 0 : static_cast<int64_t>(t_max);
  config.eta_min = NumberAfter(comment, "eta_min=");
  return LrSchedule::Create(config);
}

double MaxAbs(const std::vector<double>& v) {
  double m = 0.0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

double MaxAbsDiff(const std::vector<double>& a, const std::vector<double>& b) {
  double m = 0.0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

struct Trace {
  OptimizerConfig config;
  std::string schedule_comment;
  std::vector<double> initial;
  std::vector<double> lr[kSteps];
  std::vector<double> grad[kSteps];
  std::vector<double> param_after[kSteps];
};

class OptimizerGoldenTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    // testdata/optim is a copy of ../shared/golden/optim, so this runs
    // everywhere.
    dir_ = absl::StrCat(std::getenv("TEST_SRCDIR"), "/elm/autodiff/testdata");
  }

  // Loads optim/<name>.txt into *trace.
  void Load(Trace* trace) {
    const std::string path = absl::StrCat(dir_, "/optim/", GetParam(), ".txt");
    absl::StatusOr<ElmTensorFile> file = ReadElmTensorFile(path);
    ASSERT_TRUE(file.ok()) << file.status();
    ASSERT_GE(file->comments.size(), 2) << path;
    absl::StatusOr<OptimizerConfig> config =
        ConfigFromComment(file->comments[0]);
    ASSERT_TRUE(config.ok()) << path << ": " << config.status();
    trace->config = *config;
    trace->schedule_comment = file->comments[1];
    const auto get = [&](const std::string& name, std::vector<double>* out) {
      absl::StatusOr<const NamedTensor*> t = file->Find(name);
      ASSERT_TRUE(t.ok()) << path << ": " << t.status();
      ASSERT_EQ((*t)->dtype, "f64") << name;
      *out = (*t)->values;
    };
    get("param.initial", &trace->initial);
    for (int k = 0; k < kSteps; ++k) {
      get(absl::StrCat("step", k, ".lr"), &trace->lr[k]);
      get(absl::StrCat("step", k, ".grad"), &trace->grad[k]);
      get(absl::StrCat("step", k, ".param_after"), &trace->param_after[k]);
      ASSERT_EQ(trace->lr[k].size(), 1);
      ASSERT_EQ(trace->grad[k].size(), trace->initial.size());
      ASSERT_EQ(trace->param_after[k].size(), trace->initial.size());
    }
  }

  std::string dir_;
};

TEST_P(OptimizerGoldenTest, MatchesTorchInDouble) {
  Trace trace;
  ASSERT_NO_FATAL_FAILURE(Load(&trace));
  absl::StatusOr<std::unique_ptr<Optimizer<double>>> optimizer =
      MakeOptimizer<double>(trace.config);
  ASSERT_TRUE(optimizer.ok()) << optimizer.status();
  absl::StatusOr<LrSchedule> schedule =
      ScheduleFromComment(trace.schedule_comment, trace.config.lr);
  ASSERT_TRUE(schedule.ok()) << schedule.status();
  EXPECT_EQ(schedule->config().t_max, 4);
  EXPECT_EQ(schedule->config().eta_min, 1e-5);

  std::vector<double> params = trace.initial;
  for (int k = 0; k < kSteps; ++k) {
    SCOPED_TRACE(absl::StrCat(GetParam(), " step ", k));
    const double lr = schedule->lr();
    const double ref_lr = trace.lr[k][0];
    EXPECT_LE(std::fabs(lr - ref_lr), 1e-12 * std::fabs(ref_lr))
        << "lr " << lr << " vs " << ref_lr;
    (*optimizer)->set_lr(lr);
    (*optimizer)->Step(params.data(), trace.grad[k].data(), params.size());
    const std::vector<double>& ref = trace.param_after[k];
    const double err = MaxAbsDiff(params, ref);
    EXPECT_LE(err, 1e-12 * std::max(1.0, MaxAbs(ref))) << "max|a-b| = " << err;
    // Keep following the reference, so that one bad step is reported once.
    schedule->Step();
  }
}

TEST_P(OptimizerGoldenTest, MatchesTorchInFloat) {
  Trace trace;
  ASSERT_NO_FATAL_FAILURE(Load(&trace));
  absl::StatusOr<std::unique_ptr<Optimizer<float>>> optimizer =
      MakeOptimizer<float>(trace.config);
  ASSERT_TRUE(optimizer.ok()) << optimizer.status();
  absl::StatusOr<LrSchedule> schedule =
      ScheduleFromComment(trace.schedule_comment, trace.config.lr);
  ASSERT_TRUE(schedule.ok()) << schedule.status();
  std::vector<float> params(trace.initial.begin(), trace.initial.end());
  for (int k = 0; k < kSteps; ++k) {
    SCOPED_TRACE(absl::StrCat(GetParam(), " step ", k));
    const std::vector<float> grad(trace.grad[k].begin(), trace.grad[k].end());
    (*optimizer)->set_lr(schedule->lr());
    (*optimizer)->Step(params.data(), grad.data(), params.size());
    const std::vector<double> got(params.begin(), params.end());
    const std::vector<double>& ref = trace.param_after[k];
    EXPECT_LE(MaxAbsDiff(got, ref), 1e-6 * std::max(1.0, MaxAbs(ref)));
    schedule->Step();
  }
}

INSTANTIATE_TEST_SUITE_P(Traces, OptimizerGoldenTest,
                         ::testing::Values("adam", "adam_wd", "adamw", "adamax",
                                           "sgd_momentum"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

TEST(OptimizerGoldenCommentTest, ParsesSettings) {
  absl::StatusOr<OptimizerConfig> adam = ConfigFromComment(
      " torch 1.13.0a0, float64; Adam {'lr': 0.01, 'betas': (0.8, 0.95), "
      "'eps': 1e-06, 'weight_decay': 0.1, 'amsgrad': False, 'maximize': "
      "False}");
  ASSERT_TRUE(adam.ok()) << adam.status();
  EXPECT_EQ(adam->kind, OptimizerKind::kAdam);
  EXPECT_EQ(adam->lr, 0.01);
  EXPECT_EQ(adam->beta1, 0.8);
  EXPECT_EQ(adam->beta2, 0.95);
  EXPECT_EQ(adam->eps, 1e-6);
  EXPECT_EQ(adam->weight_decay, 0.1);
  absl::StatusOr<OptimizerConfig> sgd = ConfigFromComment(
      " x; SGD {'lr': 0.1, 'momentum': 0.9, 'dampening': 0, "
      "'weight_decay': 0, 'nesterov': True, 'maximize': False}");
  ASSERT_TRUE(sgd.ok()) << sgd.status();
  EXPECT_EQ(sgd->kind, OptimizerKind::kSgd);
  EXPECT_EQ(sgd->momentum, 0.9);
  EXPECT_TRUE(sgd->nesterov);
  EXPECT_FALSE(ConfigFromComment(" x; RMSprop {'lr': 0.1}").ok());
}

}  // namespace
}  // namespace elm
