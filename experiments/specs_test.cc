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

}  // namespace
}  // namespace elm
