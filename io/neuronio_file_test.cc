// Tests io/neuronio_file.h: the reference's target conventions (the step of
// an output spike, int(t − 0.5) truncated toward zero, and the float32 soma
// target (min(v, −55) + 67.7) · 0.1), the step index IndexNeuronioSteps builds
// from the per-channel spike times (repeats dropped, channels ascending), the
// accessors, the views (NeuronioFileView), and the keys the reader skips.
#include "io/neuronio_file.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "gmock/gmock.h"
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

std::vector<int32_t> Vec(absl::Span<const int32_t> s) {
  return std::vector<int32_t>(s.begin(), s.end());
}

TEST(NeuronioFileTest, IndexNeuronioStepsDropsRepeatsAndSortsChannels) {
  // 3 segments (6 channels), 5 steps; times as a file lists them: unsorted,
  // channel 1 lists t = 2 twice.
  NeuronioSimulation sim;
  sim.num_segments = 3;
  sim.duration_ms = 5;
  const std::vector<std::vector<int32_t>> times = {{4, 0}, {2, 2, 1}, {},
                                                   {2},    {},        {0, 4}};
  sim.channel_begin = {0};
  for (const auto& t : times) {
    sim.channel_times.insert(sim.channel_times.end(), t.begin(), t.end());
    sim.channel_begin.push_back(sim.channel_times.size());
  }
  IndexNeuronioSteps(&sim);
  ASSERT_EQ(sim.step_begin.size(), 6u);
  EXPECT_EQ(sim.step_begin.front(), 0);
  EXPECT_EQ(Vec(sim.StepChannels(0)), (std::vector<int32_t>{0, 5}));
  EXPECT_EQ(Vec(sim.StepChannels(1)), (std::vector<int32_t>{1}));
  EXPECT_EQ(Vec(sim.StepChannels(2)), (std::vector<int32_t>{1, 3}));
  EXPECT_TRUE(sim.StepChannels(3).empty());
  EXPECT_EQ(Vec(sim.StepChannels(4)), (std::vector<int32_t>{0, 5}));
  EXPECT_EQ(sim.step_begin.back(), 7);  // 8 listed times, 1 repeat
  EXPECT_EQ(sim.step_channels.size(), 7u);
  // The per-channel times stay as listed.
  EXPECT_EQ(Vec(sim.InputSpikeTimes(1)), (std::vector<int32_t>{2, 2, 1}));
  EXPECT_TRUE(sim.InputSpikeTimes(4).empty());
  EXPECT_EQ(sim.input_dim(), 6);
  EXPECT_EQ(sim.InputSign(2), 1.0f);
  EXPECT_EQ(sim.InputSign(3), -1.0f);
}

// The index of times as `times` lists them (one list per channel, 3
// segments, 5 steps): the channels of each step.
std::vector<std::vector<int32_t>> StepsOf(
    const std::vector<std::vector<int32_t>>& times) {
  NeuronioSimulation sim;
  sim.num_segments = 3;
  sim.duration_ms = 5;
  sim.channel_begin = {0};
  for (const auto& t : times) {
    sim.channel_times.insert(sim.channel_times.end(), t.begin(), t.end());
    sim.channel_begin.push_back(sim.channel_times.size());
  }
  IndexNeuronioSteps(&sim);
  std::vector<std::vector<int32_t>> steps;
  for (int t = 0; t < 5; ++t) steps.push_back(Vec(sim.StepChannels(t)));
  EXPECT_EQ(sim.step_begin.back(),
            static_cast<int64_t>(sim.step_channels.size()));
  return steps;
}

TEST(NeuronioFileTest, IndexNeuronioStepsIncreasingOrNotTheSame) {
  // Increasing times (the fast case), the same times unsorted, and with a
  // repeat in the last channel only: the same index.
  const std::vector<std::vector<int32_t>> want = {
      {0, 5}, {1, 5}, {1, 3}, {}, {0, 5}};
  EXPECT_EQ(StepsOf({{0, 4}, {1, 2}, {}, {2}, {}, {0, 1, 4}}), want);
  EXPECT_EQ(StepsOf({{4, 0}, {2, 1}, {}, {2}, {}, {1, 4, 0}}), want);
  EXPECT_EQ(StepsOf({{0, 4}, {1, 2}, {}, {2}, {}, {0, 1, 4, 4}}), want);
}

TEST(NeuronioFileTest, ParamsAndSkippedKeys) {
  NeuronioParams p;
  p.segment_types = {"basal", "apical", "basal"};
  EXPECT_EQ(p.num_segments(), 3);
  EXPECT_EQ(p.CountSegments("basal"), 2);
  EXPECT_EQ(p.CountSegments("apical"), 1);
  EXPECT_EQ(p.CountSegments("soma"), 0);
  EXPECT_EQ(kNeuronioInputDim, 2 * kNeuronioNumSegments);
  EXPECT_THAT(
      NeuronioSkippedKeys(),
      ::testing::IsSupersetOf({"dendriticVoltagesLowRes", "somaVoltageHighRes",
                               "recordingTimeLowRes"}));
  // The reader needs these; they must never be skipped.
  for (const char* key : {"exInputSpikeTimes", "inhInputSpikeTimes",
                          "outputSpikeTimes", "somaVoltageLowRes"}) {
    EXPECT_THAT(NeuronioSkippedKeys(),
                ::testing::Not(::testing::Contains(key)));
  }
}

TEST(NeuronioFileTest, ViewsShowTheSimulationsArraysAndKeepThemAlive) {
  auto file = std::make_shared<NeuronioFile>();
  file->path = "x.elmnio";
  file->params.segment_types = {"basal"};
  file->params.duration_ms = 3;
  NeuronioSimulation sim;
  sim.num_segments = 1;
  sim.duration_ms = 3;
  sim.channel_begin = {0, 2, 3};
  sim.channel_times = {0, 2, 2};
  IndexNeuronioSteps(&sim);
  sim.output_spike_steps = {1};
  sim.soma_mv = {-70, -60, -50};
  file->simulations.push_back(sim);
  std::weak_ptr<NeuronioFile> weak = file;
  std::shared_ptr<const NeuronioFileView> view =
      ViewNeuronioFile(std::move(file));
  EXPECT_FALSE(weak.expired());  // held by the view
  EXPECT_EQ(view->path, "x.elmnio");
  EXPECT_EQ(view->params.duration_ms, 3);
  ASSERT_EQ(view->simulations.size(), 1u);
  const NeuronioSimulationView& v = view->simulations[0];
  EXPECT_EQ(v.input_dim(), 2);
  EXPECT_TRUE(v.StepChannels(0) == sim.StepChannels(0));
  EXPECT_TRUE(v.StepChannels(1).empty());
  ASSERT_EQ(v.StepChannels(2).size(), 2u);
  EXPECT_EQ(v.StepChannels(2)[0], 0);
  EXPECT_EQ(v.StepChannels(2)[1], 1);
  EXPECT_EQ(v.InputSign(0), 1.0f);
  EXPECT_EQ(v.InputSign(1), -1.0f);
  EXPECT_EQ(v.output_spike_steps[0], 1);
  EXPECT_EQ(v.soma_mv[2], -50.0f);
  view.reset();
  EXPECT_TRUE(weak.expired());
}

}  // namespace
}  // namespace elm
