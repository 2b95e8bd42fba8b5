// Tests of sweep plans: grid expansion order and variant names, overlays,
// the base spec from a file, bad axes (errors naming the axis and value),
// whole-grid validation before running, and the variant states.
#include "experiments/sweep_plan.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/test_files.h"
#include "experiments/spec.h"
#include "experiments/test_specs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A tiny base spec's text (without name).
std::string BaseText() {
  return absl::StrCat(
      "model { elm { num_memory: 2 mlp_hidden_size: 4 } }\n"
      "train { batch_size: 4 batches_per_epoch: 2 epochs: 1 threads: 1 }\n"
      "eval { window_ms: 200 burn_in_ms: 50 ignore_start_ms: 100 }\n"
      "data { ",
      TinyNeuronioData(4, 1200), " }\n");
}

SweepSpec Parse(const std::string& text) {
  SweepSpec sweep;
  const std::string path = TestTempPath("sweep.textproto");
  WriteTestFile(path, text);
  absl::StatusOr<SweepSpec> read = ReadSweepSpecFile(path);
  EXPECT_TRUE(read.ok()) << read.status();
  return read.ok() ? *read : sweep;
}

SweepSpec Grid(const std::string& axes) {
  return Parse(absl::StrCat("name: \"g\" spec { name: \"base\" ", BaseText(),
                            " } ", axes));
}

std::string PlanError(const SweepSpec& sweep) {
  absl::StatusOr<SweepPlan> plan = PlanSweep(sweep, TestTempPath("out"));
  EXPECT_FALSE(plan.ok());
  return plan.ok() ? "" : std::string(plan.status().message());
}

TEST(SweepPlanTest, GridOrderNamesAndValues) {
  const SweepSpec sweep = Grid(R"pb(
    axes {
      name: "family"
      overlays { name: "elm" }
      overlays {
        name: "wide"
        set: "model.elm.mlp_hidden_size=8"
        set: "model.elm.lambda_value=3"
      }
    }
    axes {
      field: "model.elm.num_memory"
      values: [ "1", "3" ]
    }
    axes {
      field: "train.lr"
      values: [ "0.5", "5e-4" ]
    }
    axes {
      field: "train.seed"
      values: [ "0", "1" ]
    }
  )pb");
  absl::StatusOr<SweepPlan> plan = PlanSweep(sweep, "/tmp/out");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->output_dir, "/tmp/out");
  ASSERT_EQ(plan->axes.size(), 4u);
  EXPECT_EQ(plan->axes[0].name, "family");
  EXPECT_EQ(plan->axes[1].name, "num_memory");
  EXPECT_EQ(plan->axes[3].name, "seed");
  EXPECT_EQ(plan->seed_axis, 3);
  EXPECT_EQ(plan->x_axis, 1);  // the first field axis but the seed
  ASSERT_EQ(plan->variants.size(), 16u);
  // The first axis slowest, the last fastest.
  EXPECT_EQ(plan->variants[0].name, "elm-num_memory_1-lr_0p5-seed_0");
  EXPECT_EQ(plan->variants[1].name, "elm-num_memory_1-lr_0p5-seed_1");
  EXPECT_EQ(plan->variants[2].name, "elm-num_memory_1-lr_5e-4-seed_0");
  EXPECT_EQ(plan->variants[15].name, "wide-num_memory_3-lr_5e-4-seed_1");
  EXPECT_EQ(VariantDir(*plan, 15), "/tmp/out/wide-num_memory_3-lr_5e-4-seed_1");
  EXPECT_EQ(plan->Value(15, 0), "wide");
  EXPECT_EQ(plan->Value(15, 2), "5e-4");
  // The values are in the specs, through --set.
  const ExperimentSpec& first = plan->variants[0].spec;
  EXPECT_EQ(first.name(), "g-elm-num_memory_1-lr_0p5-seed_0");
  EXPECT_EQ(first.model().elm().num_memory(), 1);
  EXPECT_EQ(first.model().elm().mlp_hidden_size(), 4);
  EXPECT_DOUBLE_EQ(first.train().lr(), 0.5);
  EXPECT_EQ(first.train().seed(), 0);
  const ExperimentSpec& last = plan->variants[15].spec;
  EXPECT_EQ(last.model().elm().num_memory(), 3);
  EXPECT_EQ(last.model().elm().mlp_hidden_size(), 8);
  EXPECT_DOUBLE_EQ(last.model().elm().lambda_value(), 3);
  EXPECT_DOUBLE_EQ(last.train().lr(), 5e-4);
  EXPECT_EQ(last.train().seed(), 1);
  // Everything else is the base's.
  ExperimentSpec expected = sweep.spec();
  ASSERT_TRUE(ApplySpecOverride("model.elm.num_memory=1", &expected).ok());
  ASSERT_TRUE(ApplySpecOverride("train.lr=0.5", &expected).ok());
  ASSERT_TRUE(ApplySpecOverride("train.seed=0", &expected).ok());
  expected.set_name(first.name());
  EXPECT_EQ(SpecToText(first), SpecToText(expected));
}

TEST(SweepPlanTest, NoAxesIsTheBaseAndAxesMayBeNamed) {
  absl::StatusOr<SweepPlan> plan = PlanSweep(Grid(""), "/tmp/o");
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->variants.size(), 1u);
  EXPECT_EQ(plan->variants[0].name, "base");
  EXPECT_EQ(plan->seed_axis, -1);
  EXPECT_EQ(plan->x_axis, -1);
  plan =
      PlanSweep(Grid(R"pb(
                  axes { field: "train.seed" name: "s" values: "7" }
                  axes { field: "model.elm.num_memory" name: "dm" values: "2" }
                  x_axis: "dm"
                )pb"),
                "/tmp/o");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->variants[0].name, "s_7-dm_2");
  EXPECT_EQ(plan->seed_axis, 0);  // its field is train.seed
  EXPECT_EQ(plan->x_axis, 1);
}

TEST(SweepPlanTest, BaseSpecFileIsReadRelativeToTheSweep) {
  const std::string dir = MakeTestDir("relative");
  WriteTestFile(dir + "/base.textproto",
                absl::StrCat("name: \"b\" ", BaseText()));
  WriteTestFile(dir + "/s.textproto",
                "name: \"s\" spec_file: \"base.textproto\" "
                "axes { field: \"train.seed\" values: [\"1\", \"2\"] }");
  absl::StatusOr<SweepSpec> sweep = ReadSweepSpecFile(dir + "/s.textproto");
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  EXPECT_TRUE(sweep->has_spec());
  EXPECT_EQ(sweep->spec().model().elm().num_memory(), 2);
  absl::StatusOr<SweepPlan> plan = PlanSweep(*sweep, "");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->variants.size(), 2u);
  // A missing base file is named.
  WriteTestFile(dir + "/bad.textproto",
                "name: \"s\" spec_file: \"missing.textproto\"");
  absl::StatusOr<SweepSpec> bad = ReadSweepSpecFile(dir + "/bad.textproto");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("missing.textproto"));
  // A sweep that is not a SweepSpec.
  WriteTestFile(dir + "/garbage.textproto", "name: \"s\" axes { nope: 1 }");
  absl::StatusOr<SweepSpec> garbage =
      ReadSweepSpecFile(dir + "/garbage.textproto");
  ASSERT_FALSE(garbage.ok());
  EXPECT_THAT(std::string(garbage.status().message()), HasSubstr("nope"));
}

TEST(SweepPlanTest, BadAxesNameTheAxisAndValue) {
  // An unknown field.
  std::string e = PlanError(Grid(R"pb(axes {
                                        field: "model.elm.num_memries"
                                        values: [ "1", "2" ]
                                      })pb"));
  EXPECT_THAT(e, HasSubstr("axis 'num_memries' value '1'"));
  EXPECT_THAT(e, HasSubstr("no field 'num_memries'"));
  // A value the field cannot take.
  e = PlanError(Grid(R"pb(axes {
                            field: "model.elm.num_memory"
                            values: [ "1", "x2" ]
                          })pb"));
  EXPECT_THAT(e, HasSubstr("axis 'num_memory' value 'x2'"));
  // A bad assignment in an overlay.
  e = PlanError(Grid(R"pb(axes {
                            overlays { name: "a" }
                            overlays { name: "b" set: "train.nope=1" }
                          })pb"));
  EXPECT_THAT(e, HasSubstr("axis 'variant' value 'b'"));
  // A value that parses but fails validation: every variant is validated
  // before any runs, and the error names the variant and its values.
  e = PlanError(Grid(R"pb(axes {
                            field: "model.elm.num_memory"
                            values: [ "2", "0" ]
                          }
                          axes {
                            field: "train.seed"
                            values: [ "3" ]
                          })pb"));
  EXPECT_THAT(e, HasSubstr("variant 'num_memory_0-seed_3' (num_memory = 0, "
                           "seed = 3): model.elm"));
  // No values; both field and overlays; duplicates.
  EXPECT_THAT(PlanError(Grid(R"pb(axes { field: "train.seed" })pb")),
              HasSubstr("axes[0] (train.seed): field 'train.seed' has no "
                        "values"));
  EXPECT_THAT(PlanError(Grid(R"pb(axes { values: "1" })pb")),
              HasSubstr("axes[0]: no field"));
  EXPECT_THAT(PlanError(Grid(R"pb(axes {
                                    field: "train.seed"
                                    overlays { name: "a" }
                                  })pb")),
              HasSubstr("either field and values, or overlays"));
  EXPECT_THAT(PlanError(Grid(R"pb(axes {
                                    field: "train.seed"
                                    values: [ "1", "1" ]
                                  })pb")),
              HasSubstr("value '1' appears twice"));
  EXPECT_THAT(
      PlanError(Grid(R"pb(axes { field: "train.seed" values: "1" }
                          axes { field: "data.seed" values: "1" })pb")),
      HasSubstr("axis name 'seed' is used twice"));
  EXPECT_THAT(PlanError(Grid(R"pb(axes {
                                    overlays { name: "a" }
                                    overlays { name: "a" }
                                  })pb")),
              HasSubstr("overlay 'a' twice"));
  EXPECT_THAT(PlanError(Grid(R"pb(axes { overlays { name: "a-b" } })pb")),
              HasSubstr("overlay name = 'a-b'"));
  EXPECT_THAT(PlanError(Grid(R"pb(axes {
                                    field: "train.seed"
                                    values: [ "1" ]
                                  }
                                  seed_axis: "nope")pb")),
              HasSubstr("seed_axis = 'nope'"));
  // Values whose names collide after replacing characters.
  EXPECT_THAT(PlanError(Grid(R"pb(axes {
                                    field: "train.lr"
                                    values: [ "0.5", "0p5" ]
                                  })pb")),
              HasSubstr("appears twice (as '0p5'"));
  // The sweep's own name, and a missing base.
  SweepSpec unnamed = Grid("");
  unnamed.set_name("a b");
  EXPECT_THAT(PlanError(unnamed), HasSubstr("name = 'a b'"));
  SweepSpec no_base = Grid("");
  no_base.clear_spec();
  EXPECT_THAT(PlanError(no_base), HasSubstr("no base spec"));
}

TEST(SweepPlanTest, VariantStates) {
  absl::StatusOr<SweepPlan> plan = PlanSweep(Grid(R"pb(axes {
                                                         field: "train.seed"
                                                         values: [ "1", "2" ]
                                                       })pb"),
                                             MakeTestDir("states"));
  ASSERT_TRUE(plan.ok()) << plan.status();
  const std::string dir = VariantDir(*plan, 0);
  const ExperimentSpec& spec = plan->variants[0].spec;
  EXPECT_EQ(GetVariantState(dir, spec), VariantState::kNew);
  MakeTestDir("states/seed_1/checkpoints");
  WriteTestFile(dir + "/checkpoints/latest.ckpt", "x");
  // A checkpoint without the spec file (or of another spec) is not ours.
  EXPECT_EQ(GetVariantState(dir, spec), VariantState::kNew);
  WriteTestFile(dir + "/spec.textproto", SpecToText(plan->variants[1].spec));
  EXPECT_EQ(GetVariantState(dir, spec), VariantState::kNew);
  ExperimentSpec with_dir = spec;
  with_dir.set_output_dir("/elsewhere");  // output_dir aside
  WriteTestFile(dir + "/spec.textproto", SpecToText(with_dir));
  EXPECT_EQ(GetVariantState(dir, spec), VariantState::kPartial);
  WriteTestFile(dir + "/summary.json",
                R"({"num_parameters": 12, "train_seconds": 1.5,
                    "test": {"auc": 0.75, "soma_rmse_mv": 2}})");
  EXPECT_EQ(GetVariantState(dir, spec), VariantState::kFinished);
  absl::StatusOr<VariantSummary> s = ReadVariantSummary(dir);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->finished);
  EXPECT_EQ(s->num_parameters, 12);
  EXPECT_DOUBLE_EQ(s->train_seconds, 1.5);
  EXPECT_EQ(s->wall_seconds, -1);
  EXPECT_THAT(
      s->test_metrics,
      ElementsAre(std::pair<const std::string, double>("auc", 0.75),
                  std::pair<const std::string, double>("soma_rmse_mv", 2)));
  ASSERT_TRUE(WriteVariantWallSeconds(dir, 3.25).ok());
  s = ReadVariantSummary(dir);
  ASSERT_TRUE(s.ok());
  EXPECT_DOUBLE_EQ(s->wall_seconds, 3.25);
  EXPECT_EQ(ReadVariantSummary(VariantDir(*plan, 1)).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace elm
