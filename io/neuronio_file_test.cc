// Tests the reference's target conventions of io/neuronio_file.h: the step of
// an output spike, int(t − 0.5) truncated toward zero, and the float32 soma
// target (min(v, −55) + 67.7) · 0.1.
#include "io/neuronio_file.h"

#include "gtest/gtest.h"

namespace elm {
namespace {

TEST(NeuronioFileTest, TargetConventions) {
  EXPECT_EQ(NeuronioSpikeStep(1358.0), 1357);
  EXPECT_EQ(NeuronioSpikeStep(10.75), 10);
  EXPECT_EQ(NeuronioSpikeStep(10.5), 10);
  EXPECT_EQ(NeuronioSpikeStep(10.25), 9);
  EXPECT_EQ(NeuronioSpikeStep(1.4), 0);
  EXPECT_EQ(NeuronioSpikeStep(0.25), 0);  // int(-0.25) = 0, not floor
  EXPECT_EQ(NeuronioSpikeStep(0.0), 0);
  // float32 arithmetic, as torch does it.
  EXPECT_EQ(NeuronioSomaTarget(-50.0f), (-55.0f + 67.7f) * 0.1f);
  EXPECT_EQ(NeuronioSomaTarget(24.3f), (-55.0f + 67.7f) * 0.1f);
  EXPECT_EQ(NeuronioSomaTarget(-76.375f), (-76.375f + 67.7f) * 0.1f);
  EXPECT_NEAR(NeuronioSomaTarget(-67.7f), 0.0f, 1e-7);
}

}  // namespace
}  // namespace elm
