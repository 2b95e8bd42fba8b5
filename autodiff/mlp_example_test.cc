// End-to-end training test: the two-layer MLP example learns its nonlinear
// target (the held-out loss falls by at least 100× in 600 steps) and is
// deterministic for a seed.
#include "autodiff/mlp_example.h"

#include "gtest/gtest.h"

namespace elm {
namespace {

TEST(MlpExampleTest, LossFallsHundredfold) {
  MlpExampleResult r = TrainMlpExample({});
  ASSERT_EQ(r.losses.size(), 600u);
  EXPECT_GT(r.initial_test_loss, 0.1);
  EXPECT_LT(r.final_test_loss, r.initial_test_loss / 100)
      << "initial " << r.initial_test_loss << " final " << r.final_test_loss;
}

TEST(MlpExampleTest, DeterministicForASeed) {
  MlpExampleOptions options;
  options.steps = 50;
  MlpExampleResult a = TrainMlpExample(options);
  MlpExampleResult b = TrainMlpExample(options);
  EXPECT_EQ(a.losses, b.losses);
  options.seed = 2;
  MlpExampleResult c = TrainMlpExample(options);
  EXPECT_NE(a.losses, c.losses);
}

}  // namespace
}  // namespace elm
