// Tests TinyNeuronioData: its text parses as a DatasetSpec with the given
// simulations and duration (the defaults 8 and 1200 ms), and inside an
// ExperimentSpec's data block beside other fields.
#include "experiments/test_specs.h"

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "data/dataset_spec.pb.h"
#include "experiments/proto/experiment.pb.h"
#include "experiments/spec.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

DatasetSpec ParseDataset(const std::string& text) {
  DatasetSpec spec;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &spec))
      << text;
  return spec;
}

TEST(TinyNeuronioDataTest, DefaultsParseAsADatasetSpec) {
  const DatasetSpec spec = ParseDataset(TinyNeuronioData());
  ASSERT_TRUE(spec.has_neuronio());
  const auto& n = spec.neuronio();
  EXPECT_EQ(n.window_ms(), 100);
  EXPECT_EQ(n.ignore_start_ms(), 100);
  EXPECT_EQ(n.generate().num_train_files(), 1);
  EXPECT_EQ(n.generate().num_valid_files(), 1);
  EXPECT_EQ(n.generate().num_test_files(), 1);
  EXPECT_EQ(n.generate().simulations_per_file(), 8);
  EXPECT_EQ(n.generate().duration_ms(), 1200);
}

TEST(TinyNeuronioDataTest, SimulationsAndDurationAsGiven) {
  const DatasetSpec spec = ParseDataset(TinyNeuronioData(4, 1000));
  EXPECT_EQ(spec.neuronio().generate().simulations_per_file(), 4);
  EXPECT_EQ(spec.neuronio().generate().duration_ms(), 1000);
}

TEST(TinyNeuronioDataTest, InsideAnExperimentSpec) {
  absl::StatusOr<ExperimentSpec> spec = ParseExperimentSpecText(
      absl::StrCat("name: \"t\" model { elm { num_memory: 4 } } data { ",
                   TinyNeuronioData(4), " seed: 3 }"),
      "t");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->data().seed(), 3);
  EXPECT_EQ(spec->data().neuronio().generate().simulations_per_file(), 4);
  EXPECT_EQ(spec->data().neuronio().generate().duration_ms(), 1200);
}

TEST(TinyNeuronioDataDeathTest, NonPositiveValues) {
  EXPECT_DEATH(TinyNeuronioData(0), "simulations_per_file");
  EXPECT_DEATH(TinyNeuronioData(8, -1), "duration_ms");
}

}  // namespace
}  // namespace elm
