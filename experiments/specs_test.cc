// Every spec in experiments/specs/ parses, passes ValidateSpec, says what it
// reproduces, has its `experiment()` target in experiments/BUILD, and (for the
// NeuronIO *_embedded specs) uses the same data, training budget and
// evaluation as neuronio_branch_elm_embedded, apart from the learning rate.

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/test_files.h"
#include "data/pathfinder.h"
#include "experiments/proto/experiment.pb.h"
#include "experiments/spec.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

constexpr char kSuffix[] = ".textproto";
constexpr char kReferenceEmbedded[] = "neuronio_branch_elm_embedded";

// The experiments/ folder in the test's runfiles.
std::string ExperimentsDir() { return RunfilesPath("experiments"); }

// The spec names (file names without .textproto) in experiments/specs/.
std::vector<std::string> SpecNames() {
  return ListTestFiles(ExperimentsDir() + "/specs", kSuffix);
}

// Every spec, parsed, by name.
std::map<std::string, ExperimentSpec> ReadAllSpecs() {
  std::map<std::string, ExperimentSpec> specs;
  for (const std::string& name : SpecNames()) {
    const std::string path =
        absl::StrCat(ExperimentsDir(), "/specs/", name, kSuffix);
    absl::StatusOr<ExperimentSpec> spec = ReadExperimentSpecFile(path);
    EXPECT_TRUE(spec.ok()) << spec.status();
    if (spec.ok()) specs[name] = *spec;
  }
  return specs;
}

TEST(SpecsTest, FindsTheSpecs) {
  const std::vector<std::string> names = SpecNames();
  EXPECT_THAT(names, ::testing::Contains(kReferenceEmbedded));
  EXPECT_GE(names.size(), 16u);
}

TEST(SpecsTest, EverySpecParsesAndValidates) {
  for (const auto& [name, spec] : ReadAllSpecs()) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(ValidateSpec(spec).ok()) << ValidateSpec(spec);
    EXPECT_EQ(spec.name(), name) << "the spec's name is its file name";
  }
}

TEST(SpecsTest, EverySpecSaysWhatItReproduces) {
  for (const auto& [name, spec] : ReadAllSpecs()) {
    SCOPED_TRACE(name);
    EXPECT_FALSE(spec.description().empty());
    // It names the paper figure or table it reproduces.
    EXPECT_TRUE(absl::StrContains(spec.description(), "Table") ||
                absl::StrContains(spec.description(), "Fig."))
        << spec.description();
    // The file starts with a comment about it (after the proto-file lines).
    const std::string text =
        ReadTestFile(absl::StrCat(ExperimentsDir(), "/specs/", name, kSuffix));
    const size_t name_line = text.find("\nname:");
    ASSERT_NE(name_line, std::string::npos);
    const std::string header = text.substr(0, name_line);
    int comment_lines = 0;
    for (size_t at = 0; (at = header.find("\n#", at)) != std::string::npos;
         ++at) {
      ++comment_lines;
    }
    EXPECT_GE(comment_lines, 4) << "a top comment on what the spec reproduces";
  }
}

TEST(SpecsTest, EverySpecHasAnExperimentTarget) {
  const std::string build = ReadTestFile(ExperimentsDir() + "/BUILD");
  for (const std::string& name : SpecNames()) {
    SCOPED_TRACE(name);
    const std::string target = absl::StrCat("name = \"", name, "\",");
    const std::string file =
        absl::StrCat("spec = \"specs/", name, kSuffix, "\"");
    EXPECT_TRUE(absl::StrContains(build, target) &&
                absl::StrContains(build, file))
        << "experiments/BUILD needs experiment(" << target << " " << file
        << ")";
  }
}

TEST(SpecsTest, EmbeddedNeuronioSpecsShareDataAndBudget) {
  const std::map<std::string, ExperimentSpec> specs = ReadAllSpecs();
  const auto ref = specs.find(kReferenceEmbedded);
  ASSERT_NE(ref, specs.end());
  const google::protobuf::FieldDescriptor* lr =
      TrainSpec::descriptor()->FindFieldByName("lr");
  ASSERT_NE(lr, nullptr);
  int compared = 0;
  for (const auto& [name, spec] : specs) {
    if (!absl::StartsWith(name, "neuronio_") ||
        !absl::EndsWith(name, "_embedded") || name == kReferenceEmbedded) {
      continue;
    }
    SCOPED_TRACE(name);
    ++compared;
    ASSERT_TRUE(spec.data().neuronio().has_generate());
    std::string diff;
    google::protobuf::util::MessageDifferencer data_differ;
    data_differ.ReportDifferencesToString(&diff);
    EXPECT_TRUE(data_differ.Compare(ref->second.data(), spec.data()))
        << "data differs from " << kReferenceEmbedded << ":\n"
        << diff;
    diff.clear();
    google::protobuf::util::MessageDifferencer train_differ;
    train_differ.ReportDifferencesToString(&diff);
    train_differ.IgnoreField(lr);  // a model may need its own rate
    EXPECT_TRUE(train_differ.Compare(ref->second.train(), spec.train()))
        << "train differs from " << kReferenceEmbedded << ":\n"
        << diff;
    diff.clear();
    google::protobuf::util::MessageDifferencer eval_differ;
    eval_differ.ReportDifferencesToString(&diff);
    EXPECT_TRUE(eval_differ.Compare(ref->second.eval(), spec.eval()))
        << "eval differs from " << kReferenceEmbedded << ":\n"
        << diff;
  }
  EXPECT_GE(compared, 5) << "best_elm, elm, lstm, lif and alif at least";
}

// The LRA paper-setup specs follow App. B / Table S2 (elm_reference.md
// §7.3): d_m 150, Adam 2e-4, cross-entropy on the last step, 300 epochs of
// LRA's 160,000 training images, and per task the batch, tau_s, tau_m range
// and grey bins (Pathfinder: 384, 5 ms, 1..1e3, 16; Path-X: 768, 150 ms,
// 1..2e4, 8).
TEST(SpecsTest, PathfinderPaperSpecsFollowTableS2) {
  struct Setup {
    const char* name;
    int size, bins, batch;
    double tau_s, tau_m_max;
  };
  const std::map<std::string, ExperimentSpec> specs = ReadAllSpecs();
  for (const Setup& s : {Setup{"pathfinder", 32, 16, 384, 5, 1000},
                         Setup{"path_x", 128, 8, 768, 150, 20000}}) {
    SCOPED_TRACE(s.name);
    const auto it = specs.find(s.name);
    ASSERT_NE(it, specs.end());
    const ExperimentSpec& spec = it->second;
    ASSERT_TRUE(spec.model().has_elm());
    const ElmConfig& elm = spec.model().elm();
    EXPECT_EQ(elm.num_memory(), 150);
    EXPECT_EQ(elm.tau_s_value(), s.tau_s);
    EXPECT_EQ(elm.memory_tau_min(), 1);
    EXPECT_EQ(elm.memory_tau_max(), s.tau_m_max);
    EXPECT_EQ(spec.model().readout(), ModelSpec::LAST_STEP);
    ASSERT_TRUE(spec.data().has_pathfinder());
    const PathfinderSpec& p = spec.data().pathfinder();
    EXPECT_EQ(p.size(), s.size);
    EXPECT_TRUE(p.grey_bins() == s.bins || p.grey_bins() == 0);
    EXPECT_EQ(PathfinderPreset(s.size).grey_bins, s.bins);
    // The preset's difficulty: no easier settings.
    EXPECT_FALSE(p.has_contour_length() || p.has_num_distractors() ||
                 p.has_line_contrast());
    EXPECT_EQ(p.num_train(), 160000);
    const TrainSpec& t = spec.train();
    EXPECT_EQ(t.optimizer(), TrainSpec::ADAM);
    EXPECT_EQ(t.lr(), 2e-4);
    EXPECT_EQ(t.batch_size(), s.batch);
    EXPECT_EQ(t.epochs(), 300);
    EXPECT_EQ(t.batches_per_epoch(), p.num_train() / s.batch);
    EXPECT_EQ(t.curriculum_size(), 0);
  }
}

// A curriculum's stages may train on easier Pathfinder images, but what the
// run reports (validation, test: spec.data) is the preset.
TEST(SpecsTest, PathfinderCurriculumIsScoredOnThePreset) {
  const std::map<std::string, ExperimentSpec> specs = ReadAllSpecs();
  const auto it = specs.find("pathfinder_curriculum_embedded");
  ASSERT_NE(it, specs.end());
  const ExperimentSpec& spec = it->second;
  const PathfinderSpec& p = spec.data().pathfinder();
  EXPECT_EQ(p.size(), 32);
  EXPECT_FALSE(p.has_contour_length() || p.has_num_distractors() ||
               p.has_line_contrast() || p.has_grey_bins());
  EXPECT_EQ(spec.model().elm().num_memory(), 25);
  ASSERT_GE(spec.train().curriculum_size(), 1);
  int staged = 0;
  for (int i = 0; i < spec.train().curriculum_size(); ++i) {
    staged += spec.train().curriculum(i).epochs();
    absl::StatusOr<DatasetSpec> data = CurriculumStageData(spec, i);
    ASSERT_TRUE(data.ok()) << data.status();
    EXPECT_EQ(data->pathfinder().size(), 32) << i;
  }
  EXPECT_LT(staged, spec.train().epochs()) << "it ends on the preset";
}

}  // namespace
}  // namespace elm
