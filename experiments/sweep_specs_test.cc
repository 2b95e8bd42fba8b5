// Every sweep in experiments/specs/sweeps/ reads, plans (every variant passes
// ValidateSpec), is named after its file, says what it reproduces and has its
// `sweep()` target in experiments/BUILD; the two NeuronIO d_m sweeps have the
// grid of the paper's Fig. 2 (Branch-ELM and ELM, 3 seeds).

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/test_files.h"
#include "experiments/sweep_plan.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::ElementsAre;

constexpr char kSuffix[] = ".textproto";

std::string SweepsDir() { return RunfilesPath("experiments/specs/sweeps"); }

std::vector<std::string> SweepNames() {
  return ListTestFiles(SweepsDir(), kSuffix);
}

SweepPlan Plan(const std::string& name) {
  absl::StatusOr<SweepSpec> sweep =
      ReadSweepSpecFile(absl::StrCat(SweepsDir(), "/", name, kSuffix));
  EXPECT_TRUE(sweep.ok()) << sweep.status();
  if (!sweep.ok()) return SweepPlan();
  absl::StatusOr<SweepPlan> plan = PlanSweep(*sweep, "/tmp/unused");
  EXPECT_TRUE(plan.ok()) << plan.status();
  return plan.ok() ? *plan : SweepPlan();
}

TEST(SweepSpecsTest, EverySweepPlansAndHasATarget) {
  const std::vector<std::string> names = SweepNames();
  EXPECT_THAT(names,
              ElementsAre("neuronio_dm_sweep", "neuronio_dm_sweep_embedded"));
  const std::string build = ReadTestFile(SweepsDir() + "/../../BUILD");
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const SweepPlan plan = Plan(name);
    EXPECT_EQ(plan.sweep.name(), name);
    EXPECT_TRUE(absl::StrContains(plan.sweep.description(), "Fig."))
        << plan.sweep.description();
    EXPECT_TRUE(
        absl::StrContains(build, absl::StrCat("name = \"", name, "\",")));
    EXPECT_TRUE(absl::StrContains(
        build, absl::StrCat("sweep = \"specs/sweeps/", name, kSuffix, "\"")));
  }
}

TEST(SweepSpecsTest, DmSweepsAreFig2sGrid) {
  const SweepPlan full = Plan("neuronio_dm_sweep");
  ASSERT_EQ(full.axes.size(), 3u);
  EXPECT_THAT(full.axes[0].values, ElementsAre("branch_elm", "elm"));
  EXPECT_THAT(full.axes[1].values,
              ElementsAre("1", "2", "3", "5", "7", "10", "15", "20", "25", "30",
                          "40", "50", "75", "100"));
  EXPECT_THAT(full.axes[2].values, ElementsAre("0", "1", "2"));
  EXPECT_EQ(full.variants.size(), 84u);
  // The families: the released Branch-ELM, and ELM without branches.
  const ExperimentSpec& branch = full.variants[0].spec;
  EXPECT_EQ(branch.model().elm().num_branch(), 45);
  EXPECT_EQ(branch.model().elm().input_to_synapse_routing(),
            "neuronio_routing");
  EXPECT_EQ(branch.train().batches_per_epoch(), 10000);
  EXPECT_EQ(branch.train().epochs(), 35);
  const ExperimentSpec& elm = full.variants[83].spec;
  EXPECT_EQ(elm.model().elm().num_branch(), 0);
  EXPECT_EQ(elm.model().elm().num_synapse_per_branch(), 1);
  EXPECT_EQ(elm.model().elm().input_to_synapse_routing(), "");
  EXPECT_EQ(elm.model().elm().num_memory(), 100);
  EXPECT_EQ(elm.train().seed(), 2);

  const SweepPlan small = Plan("neuronio_dm_sweep_embedded");
  ASSERT_EQ(small.axes.size(), 3u);
  EXPECT_THAT(small.axes[0].values, ElementsAre("branch_elm", "elm"));
  EXPECT_EQ(small.axes[2].field, "train.seed");
  EXPECT_EQ(small.axes[2].values.size(), 3u);
  EXPECT_TRUE(small.variants[0].spec.data().neuronio().has_generate());
  EXPECT_EQ(small.variants[0].spec.model().elm().num_branch(), 45);
  EXPECT_EQ(small.variants.back().spec.model().elm().num_branch(), 0);
}

}  // namespace
}  // namespace elm
