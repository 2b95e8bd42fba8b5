#include "experiments/spec.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "experiments/test_specs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::HasSubstr;

// A valid spec: an ELM on tiny generated NeuronIO data.
ExperimentSpec Valid() {
  absl::StatusOr<ExperimentSpec> spec = ParseExperimentSpecText(
      absl::StrCat(R"pb(
                     name: "t"
                     model { elm { num_memory: 4 } }
                     train { batch_size: 4 batches_per_epoch: 2 epochs: 1 }
                   )pb",
                   "data { ", TinyNeuronioData(8, 1000), " }"),
      "t");
  EXPECT_TRUE(spec.ok()) << spec.status();
  return *spec;
}

// The message of ValidateSpec after applying `override` to the valid spec.
std::string ErrorAfter(const std::string& override) {
  ExperimentSpec spec = Valid();
  const absl::Status set = ApplySpecOverride(override, &spec);
  if (!set.ok()) return absl::StrCat("override failed: ", set.message());
  const absl::Status s = ValidateSpec(spec);
  return s.ok() ? "OK" : std::string(s.message());
}

TEST(SpecTest, ValidSpecPasses) { EXPECT_TRUE(ValidateSpec(Valid()).ok()); }

TEST(SpecTest, ParseErrorNamesSourceLineAndColumn) {
  absl::StatusOr<ExperimentSpec> spec = ParseExperimentSpecText(
      "name: \"x\"\ntrain { bogus: 1 }", "my.textproto");
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(spec.status().message(), HasSubstr("my.textproto"));
  EXPECT_THAT(spec.status().message(), HasSubstr("line 2"));
  EXPECT_THAT(spec.status().message(), HasSubstr("bogus"));
}

TEST(SpecTest, MissingFileIsNotFound) {
  absl::StatusOr<ExperimentSpec> spec =
      ReadExperimentSpecFile("/nonexistent/spec.textproto");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(spec.status().message(),
              HasSubstr("/nonexistent/spec.textproto"));
}

TEST(SpecTest, BadFieldsAreNamed) {
  EXPECT_THAT(ErrorAfter("train.batch_size=0"),
              HasSubstr("train.batch_size = 0; expected >= 1"));
  EXPECT_THAT(ErrorAfter("train.lr=-1"), HasSubstr("train.lr = -1"));
  EXPECT_THAT(ErrorAfter("train.lr=nan"), HasSubstr("train.lr = nan"));
  EXPECT_THAT(ErrorAfter("train.epochs=0"), HasSubstr("train.epochs = 0"));
  EXPECT_THAT(ErrorAfter("train.input_dropout=1"),
              HasSubstr("train.input_dropout = 1; expected a value in [0, 1)"));
  EXPECT_THAT(ErrorAfter("train.threads=0"), HasSubstr("train.threads = 0"));
  EXPECT_THAT(ErrorAfter("train.shards=-1"), HasSubstr("train.shards = -1"));
  EXPECT_THAT(ErrorAfter("train.min_lr=1"), HasSubstr("train.min_lr = 1"));
  EXPECT_THAT(ErrorAfter("eval.burn_in_ms=500"),
              HasSubstr("eval.burn_in_ms = 500; expected a value in [0, "
                        "eval.window_ms = 500)"));
  EXPECT_THAT(ErrorAfter("eval.batch_size=0"), HasSubstr("eval.batch_size"));
  EXPECT_THAT(ErrorAfter("name=\"a b\""), HasSubstr("name = 'a b'"));
  EXPECT_THAT(ErrorAfter("name=\"\""), HasSubstr("name is empty"));
}

TEST(SpecTest, ModelErrorsNameTheModelField) {
  EXPECT_THAT(ErrorAfter("model.elm.num_memory=0"),
              HasSubstr("model.elm: model config field 'num_memory'"));
  EXPECT_THAT(ErrorAfter("model.elm.num_input=10"),
              HasSubstr("model.elm.num_input = 10; the data has 1278 inputs"));
  EXPECT_THAT(ErrorAfter("model.elm.num_output=3"),
              HasSubstr("model.elm.num_output = 3; the data needs 2"));
  EXPECT_THAT(ErrorAfter("model.lstm.hidden=0"),
              HasSubstr("model.lstm.hidden = 0"));
  EXPECT_THAT(ErrorAfter("model.lif.tau_mem_init=500"),
              HasSubstr("tau_mem_init"));
  EXPECT_THAT(
      ErrorAfter("model.custom.name=\"nope\""),
      HasSubstr("model.custom.name = 'nope' is not a registered model"));
  ExperimentSpec spec = Valid();
  spec.clear_model();
  EXPECT_THAT(std::string(ValidateSpec(spec).message()),
              HasSubstr("model: no model set"));
}

TEST(SpecTest, DataErrorsNameTheDataField) {
  EXPECT_THAT(ErrorAfter("data.neuronio.generate.num_valid_files=0"),
              HasSubstr("data.neuronio.generate.num_valid_files = 0"));
  EXPECT_THAT(ErrorAfter("data.neuronio.window_ms=950"),
              HasSubstr("window_ms + ignore_start_ms = 1050"));
  EXPECT_THAT(ErrorAfter("train.batch_size=9"),
              HasSubstr("simulations_per_file = 8"));
  EXPECT_THAT(ErrorAfter("data.neuronio.train_files=\"/x/*\""),
              HasSubstr("both `generate` and file lists"));
  EXPECT_THAT(ErrorAfter("data.shd.train_file=\"\""),
              HasSubstr("data.shd.train_file is empty"));
  // LIF needs NeuronIO data.
  ExperimentSpec spec = Valid();
  spec.mutable_model()->mutable_lif();
  spec.mutable_data()->mutable_fashion_mnist();
  EXPECT_THAT(std::string(ValidateSpec(spec).message()),
              HasSubstr("need data.neuronio"));
  spec.clear_data();
  EXPECT_THAT(std::string(ValidateSpec(spec).message()),
              HasSubstr("data: no dataset set"));
}

TEST(SpecTest, ChronoTMaxIsChecked) {
  // Issue 16: b_f = log(U(1, T_max - 1)) needs T_max > 2; 0 is off.
  const std::string lstm = "model={ lstm { hidden: 4 chrono_t_max: ";
  EXPECT_EQ(ErrorAfter(lstm + "0 } }"), "OK");
  EXPECT_EQ(ErrorAfter(lstm + "2000 } }"), "OK");
  EXPECT_EQ(ErrorAfter(lstm + "2.5 } }"), "OK");
  for (const char* bad : {"2", "1", "-5", "nan", "inf"}) {
    EXPECT_THAT(ErrorAfter(absl::StrCat(lstm, bad, " } }")),
                HasSubstr(absl::StrCat("model.lstm.chrono_t_max = ", bad,
                                       "; expected 0 (off) or a finite "
                                       "value > 2")))
        << bad;
  }
}

TEST(SpecTest, LraDataFieldsAreChecked) {
  // Issue 16: each of these was accepted and failed only when the data was
  // built (or generated for minutes first).
  const std::string pf =
      "data={ pathfinder { num_train: 8 num_valid: 4 "
      "num_test: 4 ";
  EXPECT_EQ(ErrorAfter(pf + "} }"), "OK");
  EXPECT_EQ(ErrorAfter(pf + "size: 128 grey_bins: 8 contour_length: 6 "
                            "num_distractors: 0 } }"),
            "OK");
  EXPECT_THAT(ErrorAfter(pf + "size: 4 } }"),
              HasSubstr("data.pathfinder.size = 4; expected a value in [8, "));
  EXPECT_THAT(ErrorAfter(pf + "grey_bins: 1 } }"),
              HasSubstr("data.pathfinder.grey_bins = 1"));
  EXPECT_THAT(ErrorAfter(pf + "num_distractors: -2 } }"),
              HasSubstr("data.pathfinder.num_distractors = -2"));
  EXPECT_THAT(ErrorAfter(pf + "line_contrast: 1.5 } }"),
              HasSubstr("data.pathfinder.line_contrast = 1.5"));
  EXPECT_THAT(ErrorAfter(pf + "line_contrast: nan } }"),
              HasSubstr("data.pathfinder.line_contrast = nan"));
  EXPECT_EQ(ErrorAfter(pf + "line_contrast: 0.5 } }"), "OK");
  EXPECT_THAT(ErrorAfter(pf + "contour_length: -1 } }"),
              HasSubstr("data.pathfinder.contour_length = -1"));
  EXPECT_THAT(ErrorAfter("data={ pathfinder { num_valid: 0 } }"),
              HasSubstr("data.pathfinder.num_valid = 0; expected a value in "
                        "[1, 100000000]"));
  EXPECT_THAT(ErrorAfter("data={ pathfinder { num_train: 1000000000 } }"),
              HasSubstr("data.pathfinder.num_train = 1000000000"));

  EXPECT_EQ(ErrorAfter("data={ listops { num_train: 8 } }"), "OK");
  EXPECT_THAT(ErrorAfter("data={ listops { num_test: 0 } }"),
              HasSubstr("data.listops.num_test = 0"));
  EXPECT_THAT(ErrorAfter("data={ listops { steps: 500 } }"),
              HasSubstr("data.listops.steps = 500; expected >= 1999"));
  EXPECT_THAT(ErrorAfter("data={ listops { steps: 0 } }"),
              HasSubstr("data.listops.steps = 0; expected a value in [1, "));
  // Short expressions: steps must hold the longest of either length range.
  EXPECT_EQ(ErrorAfter("data={ listops { min_length: 9 max_length: 51 "
                       "max_depth: 3 steps: 50 padding: START } }"),
            "OK");
  EXPECT_THAT(ErrorAfter("data={ listops { min_length: 9 max_length: 51 "
                         "steps: 49 } }"),
              HasSubstr("data.listops.steps = 49; expected >= 50"));
  EXPECT_THAT(ErrorAfter("data={ listops { min_length: 9 max_length: 51 "
                         "train_max_length: 101 steps: 50 } }"),
              HasSubstr("data.listops.steps = 50; expected >= 100"));
  EXPECT_EQ(ErrorAfter("data={ listops { train_min_length: 9 "
                       "train_max_length: 501 } }"),
            "OK");
  EXPECT_THAT(ErrorAfter("data={ listops { train_max_length: 501 } }"),
              HasSubstr("data.listops.train_max_length = 501; expected > "
                        "train_min_length + 1 = 501"));
  EXPECT_THAT(
      ErrorAfter("data={ listops { min_length: 600 max_length: 601 } }"),
      HasSubstr("data.listops.max_length = 601"));
  EXPECT_THAT(ErrorAfter("data={ listops { min_length: -1 } }"),
              HasSubstr("data.listops.min_length = -1"));
  EXPECT_THAT(ErrorAfter("data={ listops { max_depth: 11 } }"),
              HasSubstr("data.listops.max_depth = 11; expected a value in "
                        "[1, 10]"));
  // Read from files, the counts and the generator's lengths do not apply.
  EXPECT_EQ(ErrorAfter("data={ listops { data_dir: \"x\" steps: 40 "
                       "num_test: 0 } }"),
            "OK");

  EXPECT_EQ(ErrorAfter("data={ fashion_mnist { num_valid: 100 } }"), "OK");
  EXPECT_THAT(ErrorAfter("data={ fashion_mnist { num_valid: 0 } }"),
              HasSubstr("data.fashion_mnist.num_valid = 0; expected a value "
                        "in [1, 59999]"));
  EXPECT_THAT(ErrorAfter("data={ fashion_mnist { num_valid: 60000 } }"),
              HasSubstr("data.fashion_mnist.num_valid = 60000"));
  EXPECT_THAT(ErrorAfter("data={ fashion_mnist { dir: \"\" } }"),
              HasSubstr("data.fashion_mnist.dir is empty"));
}

TEST(SpecTest, SizesAreBounded) {
  // Issue 18: each of these aborted (bad_alloc) or grew until killed.
  EXPECT_THAT(
      ErrorAfter("model.elm.num_memory=100000000"),
      HasSubstr("model.elm: model config field 'num_memory': 100000000 is "
                "too large"));
  EXPECT_THAT(ErrorAfter("model.elm.num_memory=20000"),
              HasSubstr("trainable parameters; expected at most 100000000"));
  EXPECT_THAT(ErrorAfter("model={ lstm { hidden: 100000 } }"),
              HasSubstr("model.lstm.hidden = 100000"));
  EXPECT_THAT(ErrorAfter("data.neuronio.generate.simulations_per_file="
                         "100000000"),
              HasSubstr("data.neuronio.generate.simulations_per_file = "
                        "100000000; expected at most 100000"));
  EXPECT_THAT(ErrorAfter("data.neuronio.generate.duration_ms=2000000000"),
              HasSubstr("data.neuronio.generate.duration_ms = 2000000000; "
                        "expected at most 1000000"));
  EXPECT_THAT(ErrorAfter("data.neuronio.generate.num_train_files=3000"),
              HasSubstr("files · simulations_per_file · duration_ms"));
  // At the bounds' scale, but below them: accepted.
  EXPECT_EQ(ErrorAfter("model.elm.num_memory=2000"), "OK");
}

TEST(SpecTest, GeneratedListOpsIsBounded) {
  auto error = [](const std::string& listops) {
    ExperimentSpec spec = Valid();
    spec.mutable_data()->Clear();
    spec.mutable_data()->mutable_listops();
    const absl::Status set =
        ApplySpecOverride(absl::StrCat("data.listops=", listops), &spec);
    if (!set.ok()) return std::string(set.message());
    const absl::Status s = ValidateSpec(spec);
    return s.ok() ? std::string("OK") : std::string(s.message());
  };
  EXPECT_EQ(error("{ num_train: 96000 }"), "OK");
  EXPECT_THAT(error("{ num_train: 2000000000 }"),
              HasSubstr("num_train + num_valid + num_test = 2000004000; "
                        "expected at most 1000000"));
  EXPECT_THAT(error("{ num_test: -1 }"), HasSubstr("data.listops.num_test"));
  EXPECT_THAT(error("{ steps: 0 }"), HasSubstr("data.listops.steps = 0"));
  EXPECT_THAT(error("{ steps: 1000001 }"),
              HasSubstr("data.listops.steps = 1000001"));
  // Read from files: the counts are the files'.
  EXPECT_EQ(error("{ data_dir: \"/x\" num_train: 2000000000 }"), "OK");
}

TEST(SpecTest, EvalFieldsAreCheckedAgainstTheGeneratedData) {
  // Issue 18: found only after an epoch of training.
  EXPECT_THAT(ErrorAfter("eval.ignore_start_ms=6000"),
              HasSubstr("eval.ignore_start_ms = 6000; expected below the "
                        "simulation length, 1000 ms"));
  EXPECT_THAT(ErrorAfter("eval.ignore_start_ms=1000"),
              HasSubstr("eval.ignore_start_ms = 1000"));
  EXPECT_EQ(ErrorAfter("eval.ignore_start_ms=999"), "OK");
}

TEST(SpecTest, OverridesSetNestedFieldsEnumsAndStrings) {
  ExperimentSpec spec = Valid();
  ASSERT_TRUE(ApplySpecOverride("train.batch_size=2", &spec).ok());
  ASSERT_TRUE(ApplySpecOverride("train.optimizer=ADAMAX", &spec).ok());
  ASSERT_TRUE(ApplySpecOverride("output_dir=/tmp/a b", &spec).ok());
  ASSERT_TRUE(ApplySpecOverride("model.elm.mlp_activation=silu", &spec).ok());
  ASSERT_TRUE(ApplySpecOverride("eval={ window_ms: 200 }", &spec).ok());
  EXPECT_EQ(spec.train().batch_size(), 2);
  EXPECT_EQ(spec.train().optimizer(), TrainSpec::ADAMAX);
  EXPECT_EQ(spec.output_dir(), "/tmp/a b");
  EXPECT_EQ(spec.model().elm().mlp_activation(), "silu");
  EXPECT_EQ(spec.model().elm().num_memory(), 4);  // untouched
  EXPECT_EQ(spec.eval().window_ms(), 200);
  // A oneof member switches the kind.
  ASSERT_TRUE(ApplySpecOverride("model.lstm.hidden=7", &spec).ok());
  EXPECT_TRUE(spec.model().has_lstm());
  EXPECT_FALSE(spec.model().has_elm());
}

TEST(SpecTest, BadOverridesAreNamed) {
  ExperimentSpec spec = Valid();
  absl::Status s = ApplySpecOverride("train.batchsize=2", &spec);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("TrainSpec has no field 'batchsize'"));
  s = ApplySpecOverride("train.batch_size=two", &spec);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("bad value for TrainSpec.batch_size"));
  s = ApplySpecOverride("train.optimizer=ADAMQ", &spec);
  EXPECT_FALSE(s.ok());
  s = ApplySpecOverride("train.lr.x=1", &spec);
  EXPECT_THAT(std::string(s.message()), HasSubstr("not a message field"));
  s = ApplySpecOverride("no_equals_sign", &spec);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("expected path.to.field=value"));
  EXPECT_EQ(spec.train().batch_size(), 4);  // unchanged by the failures
}

// Valid() on Pathfinder data with 2 epochs, for curriculum stages.
ExperimentSpec PathfinderValid() {
  ExperimentSpec spec = Valid();
  EXPECT_TRUE(ApplySpecOverride("data={ pathfinder { size: 16 num_train: 8 "
                                "num_valid: 4 num_test: 4 } }",
                                &spec)
                  .ok());
  spec.mutable_train()->set_epochs(3);
  return spec;
}

// ValidateSpec's message for PathfinderValid() with one curriculum stage of
// `epochs` epochs and the assignment `set`.
std::string StageError(int epochs, const std::string& set) {
  ExperimentSpec spec = PathfinderValid();
  CurriculumStage* stage = spec.mutable_train()->add_curriculum();
  stage->set_epochs(epochs);
  stage->add_set(set);
  const absl::Status s = ValidateSpec(spec);
  return s.ok() ? "OK" : std::string(s.message());
}

TEST(SpecTest, CurriculumStagesAreChecked) {
  EXPECT_EQ(StageError(2, "data.pathfinder.contour_length=4"), "OK");
  EXPECT_EQ(StageError(3, "data.seed=4"), "OK");
  EXPECT_THAT(StageError(0, "data.seed=4"),
              HasSubstr("train.curriculum[0].epochs = 0; expected >= 1"));
  EXPECT_THAT(StageError(4, "data.seed=4"),
              HasSubstr("train.curriculum[0].epochs = 4; expected stages of 3 "
                        "epochs at most in all (train.epochs)"));
  EXPECT_THAT(StageError(1, "train.lr=0.1"),
              HasSubstr("train.curriculum[0].set[0] = 'train.lr=0.1'; "
                        "expected an assignment to the data section"));
  EXPECT_THAT(StageError(1, "data.pathfinder.bogus=1"),
              HasSubstr("train.curriculum[0].set[0]: "));
  EXPECT_THAT(StageError(1, "data.pathfinder.bogus=1"), HasSubstr("bogus"));
  EXPECT_THAT(StageError(1, "data.pathfinder.size=4"),
              HasSubstr("train.curriculum[0]: data.pathfinder.size = 4; "
                        "expected a value in [8, "));
  EXPECT_THAT(StageError(1, "data.listops.num_train=8"),
              HasSubstr("the stage trains on listops data, the run on "
                        "pathfinder; a stage may change the data's fields, "
                        "not its kind"));
  // The sum over the stages is bounded too, and a later stage is named.
  ExperimentSpec spec = PathfinderValid();
  for (int i = 0; i < 2; ++i) {
    CurriculumStage* stage = spec.mutable_train()->add_curriculum();
    stage->set_epochs(2);
    stage->add_set("data.seed=4");
  }
  EXPECT_THAT(ValidateSpec(spec).message(),
              HasSubstr("train.curriculum[1].epochs = 2; expected stages of 3 "
                        "epochs at most"));
}

TEST(SpecTest, CurriculumStageDataAndEpochs) {
  ExperimentSpec spec = PathfinderValid();
  spec.mutable_train()->set_epochs(10);
  CurriculumStage* a = spec.mutable_train()->add_curriculum();
  a->set_epochs(2);
  a->add_set("data.pathfinder.contour_length=4");
  a->add_set("data.pathfinder.num_distractors=0");
  CurriculumStage* b = spec.mutable_train()->add_curriculum();
  b->set_epochs(3);
  b->add_set("data.pathfinder.line_contrast=0.5");
  ASSERT_TRUE(ValidateSpec(spec).ok());
  absl::StatusOr<DatasetSpec> da = CurriculumStageData(spec, 0);
  absl::StatusOr<DatasetSpec> db = CurriculumStageData(spec, 1);
  ASSERT_TRUE(da.ok() && db.ok());
  EXPECT_EQ(da->pathfinder().contour_length(), 4);
  EXPECT_EQ(da->pathfinder().num_distractors(), 0);
  EXPECT_EQ(da->pathfinder().size(), 16);  // kept from spec.data
  EXPECT_EQ(da->pathfinder().num_train(), 8);
  EXPECT_FALSE(da->pathfinder().has_line_contrast());
  EXPECT_EQ(db->pathfinder().line_contrast(), 0.5);
  EXPECT_FALSE(db->pathfinder().has_contour_length());
  // The stages leave spec.data as it was.
  EXPECT_FALSE(spec.data().pathfinder().has_contour_length());
  const std::vector<int> expected = {0, 0, 1, 1, 1, -1, -1, -1, -1, -1};
  for (int e = 0; e < 10; ++e) {
    EXPECT_EQ(CurriculumStageOfEpoch(spec.train(), e), expected[e]) << e;
  }
  EXPECT_EQ(CurriculumStageOfEpoch(Valid().train(), 0), -1);
}

TEST(SpecTest, SpecToTextRoundTrips) {
  const ExperimentSpec spec = Valid();
  absl::StatusOr<ExperimentSpec> back =
      ParseExperimentSpecText(SpecToText(spec), "round trip");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->SerializeAsString(), spec.SerializeAsString());
}

// Both --set spellings come out in order; everything else stays for gflags.
TEST(SpecTest, TakeSetOverridesKeepsTheRest) {
  std::string args[] = {
      "run",      "--spec=a.textproto",           "--set", "train.lr=0.1",
      "--resume", "--set=model.elm.num_memory=4", "--set"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  std::vector<char*> rest;
  const std::vector<std::string> overrides =
      TakeSetOverrides(static_cast<int>(argv.size()), argv.data(), &rest);
  EXPECT_EQ(overrides, (std::vector<std::string>{"train.lr=0.1",
                                                 "model.elm.num_memory=4"}));
  // A trailing --set without a value is left for gflags to reject.
  std::vector<std::string> kept(rest.begin(), rest.end());
  EXPECT_EQ(kept, (std::vector<std::string>{"run", "--spec=a.textproto",
                                            "--resume", "--set"}));
}

}  // namespace
}  // namespace elm
