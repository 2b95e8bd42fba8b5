// SimulateSurrogateNetwork on a NeuronIO-shaped ELM at its seeded random
// initialisation (no ../shared needed): spike rule, recurrent delivery with
// its delays, determinism across thread counts, and config errors.
#include "experiments/surrogate_network.h"

#include <numeric>

#include "gtest/gtest.h"

namespace elm {
namespace {

ElmModel<float> NeuronioModel(int num_input = 1278) {
  ElmConfig c;
  c.set_num_input(num_input);
  c.set_num_output(2);
  c.set_num_memory(4);
  c.set_num_branch(45);
  c.set_num_synapse_per_branch(100);
  c.set_input_to_synapse_routing("neuronio_routing");
  c.set_memory_tau_max(150);
  absl::StatusOr<ElmModel<float>> m = ElmModel<float>::Create(c, 3);
  CHECK(m.ok()) << m.status();
  return std::move(*m);
}

SurrogateNetworkConfig Small() {
  SurrogateNetworkConfig c;
  c.neurons = 40;
  c.seconds = 0.05;  // 50 steps
  c.in_degree = 10;
  c.threads = 1;
  return c;
}

// With θ tiny every neuron crosses at step 0 and never falls below: one
// spike each, delivered in_degree times per neuron within the delays.
TEST(SurrogateNetworkTest, EveryNeuronSpikesOnceAndIsDelivered) {
  const ElmModel<float> model = NeuronioModel();
  SurrogateNetworkConfig c = Small();
  c.spike_threshold = 1e-30;
  c.delay_min_ms = 2;
  c.delay_max_ms = 4;
  absl::StatusOr<SurrogateNetworkResult> r = SimulateSurrogateNetwork(model, c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->steps, 50);
  EXPECT_EQ(r->num_excitatory, 32);
  ASSERT_EQ(r->spikes.size(), 40u);
  for (const auto& [step, neuron] : r->spikes) EXPECT_EQ(step, 0);
  for (int64_t n : r->spike_count) EXPECT_EQ(n, 1);
  int64_t delivered = 0;
  for (int64_t t = 0; t < r->steps; ++t) {
    if (t < 2 || t > 4) EXPECT_EQ(r->recurrent_inputs[t], 0) << t;
    delivered += r->recurrent_inputs[t];
  }
  EXPECT_EQ(delivered, 40 * 10);
  EXPECT_EQ(r->soma_mv.size(), 50u);
  EXPECT_EQ(r->spike_prob.size(), 50u);
}

TEST(SurrogateNetworkTest, HighThresholdNoSpikes) {
  SurrogateNetworkConfig c = Small();
  c.spike_threshold = 1.5;
  absl::StatusOr<SurrogateNetworkResult> r =
      SimulateSurrogateNetwork(NeuronioModel(), c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->spikes.empty());
  EXPECT_EQ(std::accumulate(r->recurrent_inputs.begin(),
                            r->recurrent_inputs.end(), int64_t{0}),
            0);
}

// The recorded neuron's trace with and without connections: the same until
// the first recurrent spikes arrive (step 3), different from then on.
TEST(SurrogateNetworkTest, RecurrentInputArrivesAfterTheDelay) {
  const ElmModel<float> model = NeuronioModel();
  SurrogateNetworkConfig c = Small();
  c.spike_threshold = 1e-30;
  c.delay_min_ms = c.delay_max_ms = 3;
  c.in_degree = 20;
  absl::StatusOr<SurrogateNetworkResult> with =
      SimulateSurrogateNetwork(model, c);
  c.in_degree = 0;
  absl::StatusOr<SurrogateNetworkResult> without =
      SimulateSurrogateNetwork(model, c);
  ASSERT_TRUE(with.ok() && without.ok());
  for (int t = 0; t < 3; ++t) EXPECT_EQ(with->soma_mv[t], without->soma_mv[t]);
  EXPECT_NE(with->soma_mv[3], without->soma_mv[3]);
  EXPECT_EQ(with->recurrent_inputs[3], 40 * 20);
}

TEST(SurrogateNetworkTest, SameResultOnOneAndTwoThreads) {
  const ElmModel<float> model = NeuronioModel();
  SurrogateNetworkConfig c = Small();
  c.neurons = 100;  // several tiles
  c.spike_threshold = 0.3;
  absl::StatusOr<SurrogateNetworkResult> one =
      SimulateSurrogateNetwork(model, c);
  c.threads = 2;
  absl::StatusOr<SurrogateNetworkResult> two =
      SimulateSurrogateNetwork(model, c);
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_EQ(one->spikes, two->spikes);
  EXPECT_EQ(one->soma_mv, two->soma_mv);
}

// No spike is emitted during the warm-up; afterwards the first step whose
// probability is above θ counts as a crossing only if it rose there.
TEST(SurrogateNetworkTest, WarmupSuppressesSpikes) {
  SurrogateNetworkConfig c = Small();
  c.spike_threshold = 1e-30;
  c.warmup_ms = 10;
  c.modulation_ms = 5;
  absl::StatusOr<SurrogateNetworkResult> r =
      SimulateSurrogateNetwork(NeuronioModel(), c);
  ASSERT_TRUE(r.ok()) << r.status();
  // p stayed above θ from step 0 on: no upward crossing after the warm-up.
  EXPECT_TRUE(r->spikes.empty());
}

TEST(SurrogateNetworkTest, Errors) {
  SurrogateNetworkConfig c = Small();
  EXPECT_FALSE(SimulateSurrogateNetwork(NeuronioModel(100), c).ok());
  c.delay_min_ms = 0;
  const absl::Status s = SimulateSurrogateNetwork(NeuronioModel(), c).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("delay"), std::string::npos) << s;
  c = Small();
  c.neurons = 1;
  EXPECT_FALSE(SimulateSurrogateNetwork(NeuronioModel(), c).ok());
}

}  // namespace
}  // namespace elm
