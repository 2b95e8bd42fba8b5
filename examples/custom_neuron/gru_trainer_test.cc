// End to end: elm's trainer (RunExperiment) trains the registered GRU from a
// spec that selects it by name, on tiny generated NeuronIO-style data; and the
// shipped spec, gru_embedded.textproto, parses and validates.
#include <cmath>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "experiments/spec.h"
#include "experiments/test_specs.h"
#include "experiments/trainer.h"
#include "gtest/gtest.h"

namespace mylab {
namespace {

// A tiny run of the GRU on generated NeuronIO data.
std::string TinySpec() {
  return absl::StrCat(
      R"pb(
        name: "gru_tiny"
        model {
          custom {
            name: "gru"
            config {
              [type.googleapis.com/mylab.GruConfig] { hidden: 4 }
            }
          }
        }
        train {
          lr: 0.01
          batch_size: 4
          batches_per_epoch: 4
          epochs: 2
          threads: 2
        }
        eval { window_ms: 200 burn_in_ms: 50 ignore_start_ms: 100 }
      )pb",
      "data { ", elm::TinyNeuronioData(8, 1200), " }");
}

TEST(GruTrainerTest, TrainsTheRegisteredModelFromASpec) {
  absl::StatusOr<elm::ExperimentSpec> spec =
      elm::ParseExperimentSpecText(TinySpec(), "tiny");
  ASSERT_TRUE(spec.ok()) << spec.status();
  elm::RunOptions options;
  options.output_dir = std::string(std::getenv("TEST_TMPDIR")) + "/gru_tiny";
  options.quiet = true;
  absl::StatusOr<elm::RunResult> r = elm::RunExperiment(*spec, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->finished);
  EXPECT_EQ(r->steps, 8);
  // 3H(D + H + 2) + n_out(H + 1): H = 4, D = 1278 NeuronIO inputs, 2 outputs.
  EXPECT_EQ(r->num_parameters, 3 * 4 * (1278 + 4 + 2) + 2 * 5);
  ASSERT_FALSE(r->test_metrics.empty());
  for (const auto& [name, value] : r->test_metrics) {
    EXPECT_TRUE(std::isfinite(value)) << name << " = " << value;
  }
  EXPECT_TRUE(r->test_metrics.count("auc"));
}

TEST(GruTrainerTest, ShippedSpecIsValid) {
  absl::StatusOr<elm::ExperimentSpec> spec =
      elm::ReadExperimentSpecFile("gru_embedded.textproto");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(elm::ValidateSpec(*spec).ok()) << elm::ValidateSpec(*spec);
  EXPECT_EQ(spec->model().custom().name(), "gru");
}

}  // namespace
}  // namespace mylab
