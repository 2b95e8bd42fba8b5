// Tests of //experiments:run as a library: the printed result, the flag and
// spec errors (naming the spec), and a run stopped early.
#include "experiments/run_command.h"

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/test_files.h"
#include "experiments/test_specs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(ResultLinesTest, FinishedAndStopped) {
  RunResult r;
  r.output_dir = "/runs/x";
  r.steps = 5;
  EXPECT_EQ(ResultLines("x", r),
            "x: stopped after 5 steps; rerun with --resume to go on\n");
  r.finished = true;
  r.train_seconds = 12.34;
  r.test_metrics = {{"auc", 0.91234567}, {"soma_rmse_mv", 1.5}};
  EXPECT_EQ(ResultLines("x", r),
            "x: done in 12.3 s; results in /runs/x\n"
            "  test auc = 0.912346\n"
            "  test soma_rmse_mv = 1.5\n"
            "  report: /runs/x/report.html\n");
}

// A tiny NeuronIO run on generated data.
std::string TinySpecFile() {
  const std::string path = TestTempPath("tiny.textproto");
  std::ofstream(path) << R"pb(
        name: "tiny"
        model { elm { num_memory: 2 mlp_hidden_size: 4 } }
        train { batch_size: 4 batches_per_epoch: 4 epochs: 1 threads: 1 }
        eval { window_ms: 200 burn_in_ms: 50 ignore_start_ms: 100 }
      )pb"
                      << "data { " << TinyNeuronioData(4, 1200) << " }\n";
  return path;
}

TEST(RunCommandTest, Errors) {
  RunCommandOptions options;
  EXPECT_THAT(std::string(RunCommand(options).message()),
              HasSubstr("--spec is required"));
  options.spec = TinySpecFile();
  options.output_dir = TestTempPath("errors");
  options.overrides = {"train.no_such_field=1"};
  EXPECT_THAT(std::string(RunCommand(options).message()),
              HasSubstr("no_such_field"));
  // A bad value: the error names the spec file and the field.
  options.overrides = {"train.batch_size=0"};
  const absl::Status bad = RunCommand(options);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), StartsWith(options.spec + ": "));
  EXPECT_THAT(std::string(bad.message()), HasSubstr("train.batch_size"));
  // Issue 18: a directory or /dev/zero as --spec (an uncaught exception and
  // a bad_alloc before).
  options.overrides.clear();
  options.spec = MakeTestDir("spec_is_a_directory");
  EXPECT_EQ(std::string(RunCommand(options).message()),
            options.spec + ": cannot read experiment spec: it is a directory");
  options.spec = "/dev/zero";
  EXPECT_THAT(std::string(RunCommand(options).message()),
              HasSubstr("/dev/zero: cannot read experiment spec: not a "
                        "regular file"));
  options.spec = TinySpecFile();
  options.resume = true;
  options.overwrite = true;
  EXPECT_THAT(std::string(RunCommand(options).message()),
              HasSubstr("give one of them"));
}

TEST(RunCommandTest, StopsAfterStepsWithACheckpoint) {
  RunCommandOptions options;
  options.spec = TinySpecFile();
  options.output_dir = TestTempPath("stopped");
  options.overrides = {"train.lr=0.005"};
  options.quiet = true;
  options.stop_after_steps = 2;
  ASSERT_TRUE(RunCommand(options).ok());
  EXPECT_TRUE(
      std::ifstream(options.output_dir + "/checkpoints/latest.ckpt").good());
  // The override is in the run's spec.
  const std::string text = ReadTestFile(options.output_dir + "/spec.textproto");
  EXPECT_THAT(text, HasSubstr("lr: 0.005"));
}

}  // namespace
}  // namespace elm
