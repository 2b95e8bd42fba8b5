// Tests of running sweeps on the tiny generated NeuronIO data: an interrupted
// sweep resumes its variants and then matches an uninterrupted one, finished
// variants are skipped and a changed spec starts afresh; sweep.csv and
// sweep.html from a finished sweep; the //experiments:sweep binary's errors;
// and a 2-rank mpirun run giving the same sweep.csv metrics as a local run.
#include "experiments/sweep.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/test_binary.h"
#include "base/test_files.h"
#include "experiments/sweep_plan.h"
#include "experiments/sweep_report.h"
#include "experiments/test_specs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A sweep of 2 x 2 tiny variants (d_m 1 and 2, seeds 0 and 1), 4 steps each.
std::string TinySweepText(const std::string& lr = "0.01") {
  return absl::StrCat(
      "name: \"tiny_sweep\"\n"
      "spec {\n"
      "  name: \"tiny\"\n"
      "  model { elm { num_memory: 2 mlp_hidden_size: 4 } }\n"
      "  train { batch_size: 4 batches_per_epoch: 2 epochs: 2 threads: 1 "
      "lr: ",
      lr,
      " }\n"
      "  eval { window_ms: 200 burn_in_ms: 50 ignore_start_ms: 100 }\n"
      "  data { ",
      TinyNeuronioData(4, 1200),
      " }\n"
      "}\n"
      "axes { field: \"model.elm.num_memory\" values: [\"1\", \"2\"] }\n"
      "axes { field: \"train.seed\" values: [\"0\", \"1\"] }\n");
}

SweepPlan TinyPlan(const std::string& dir, const std::string& lr = "0.01") {
  const std::string path = TestTempPath(absl::StrCat("sweep_", lr, ".txt"));
  WriteTestFile(path, TinySweepText(lr));
  absl::StatusOr<SweepSpec> sweep = ReadSweepSpecFile(path);
  EXPECT_TRUE(sweep.ok()) << sweep.status();
  absl::StatusOr<SweepPlan> plan = PlanSweep(*sweep, dir);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return *plan;
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// The CSV without its timing columns (the last two).
std::vector<std::string> CsvWithoutTimes(const std::string& csv) {
  std::vector<std::string> rows;
  for (absl::string_view line : absl::StrSplit(csv, '\n', absl::SkipEmpty())) {
    std::vector<std::string> cells = absl::StrSplit(line, ',');
    cells.resize(cells.size() - 2);
    rows.push_back(absl::StrJoin(cells, ","));
  }
  return rows;
}

TEST(SweepTest, InterruptedVariantsResumeAndFinishedOnesAreSkipped) {
  SweepRunOptions options;
  options.quiet_runs = true;
  const SweepPlan plan = TinyPlan(MakeTestDir("resumed"));
  // Interrupted after 1 step of each variant's 4.
  options.stop_after_steps = 1;
  ASSERT_TRUE(RunSweep(plan, options).ok());
  for (size_t i = 0; i < plan.variants.size(); ++i) {
    EXPECT_EQ(GetVariantState(VariantDir(plan, i), plan.variants[i].spec),
              VariantState::kPartial);
  }
  // The report lists them as unfinished.
  const std::string partial_csv = ReadTestFile(plan.output_dir + "/sweep.csv");
  EXPECT_THAT(partial_csv,
              HasSubstr("num_memory_1-seed_0,1,0,unfinished,,,\n"));
  // The next run resumes them and finishes.
  options.stop_after_steps = -1;
  absl::StatusOr<VariantOutcome> first = RunSweepVariant(plan, 0, options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->before, VariantState::kPartial);
  EXPECT_TRUE(first->finished);
  EXPECT_THAT(VariantLine(plan, 0, first),
              HasSubstr("[1/4] num_memory_1-seed_0: resumed and done in "));
  ASSERT_TRUE(RunSweep(plan, options).ok());
  for (size_t i = 0; i < plan.variants.size(); ++i) {
    EXPECT_EQ(GetVariantState(VariantDir(plan, i), plan.variants[i].spec),
              VariantState::kFinished);
  }
  // Resuming is exact: an uninterrupted sweep has the same results.
  const SweepPlan fresh = TinyPlan(MakeTestDir("fresh"));
  ASSERT_TRUE(RunSweep(fresh, options).ok());
  const std::string csv = ReadTestFile(plan.output_dir + "/sweep.csv");
  EXPECT_EQ(CsvWithoutTimes(csv),
            CsvWithoutTimes(ReadTestFile(fresh.output_dir + "/sweep.csv")));
  // Finished variants are skipped: nothing is trained again (a removed
  // checkpoint stays removed).
  const std::string ckpt = VariantDir(plan, 3) + "/checkpoints/latest.ckpt";
  ASSERT_TRUE(Exists(ckpt));
  ASSERT_EQ(std::remove(ckpt.c_str()), 0);
  absl::StatusOr<VariantOutcome> skipped = RunSweepVariant(plan, 3, options);
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(skipped->before, VariantState::kFinished);
  EXPECT_THAT(VariantLine(plan, 3, skipped),
              HasSubstr("finished before (skipped)"));
  EXPECT_THAT(VariantLine(plan, 3, skipped), HasSubstr("test auc "));
  ASSERT_TRUE(RunSweep(plan, options).ok());
  EXPECT_FALSE(Exists(ckpt));
  EXPECT_EQ(CsvWithoutTimes(ReadTestFile(plan.output_dir + "/sweep.csv")),
            CsvWithoutTimes(csv));
  // A changed spec (another lr) is not the finished run: it starts afresh,
  // and its old summary.json is not taken for its own.
  const SweepPlan changed = TinyPlan(plan.output_dir, "0.02");
  EXPECT_EQ(GetVariantState(VariantDir(changed, 0), changed.variants[0].spec),
            VariantState::kNew);
  options.stop_after_steps = 1;
  ASSERT_TRUE(RunSweepVariant(changed, 0, options).ok());
  EXPECT_FALSE(Exists(VariantDir(changed, 0) + "/summary.json"));
  EXPECT_EQ(GetVariantState(VariantDir(changed, 0), changed.variants[0].spec),
            VariantState::kPartial);
}

TEST(SweepTest, CsvAndHtmlOfAFinishedSweep) {
  SweepRunOptions options;
  options.quiet_runs = true;
  const SweepPlan plan = TinyPlan(MakeTestDir("report"));
  ASSERT_TRUE(RunSweep(plan, options).ok());
  const std::string csv = ReadTestFile(plan.output_dir + "/sweep.csv");
  const std::vector<std::string> lines =
      absl::StrSplit(csv, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 5u) << csv;
  EXPECT_THAT(lines[0],
              HasSubstr("variant,num_memory,seed,state,num_parameters,"));
  EXPECT_THAT(lines[0], HasSubstr(",test_auc,"));
  EXPECT_THAT(lines[0], HasSubstr(",test_soma_rmse_mv,"));
  EXPECT_TRUE(absl::EndsWith(lines[0], ",train_seconds,wall_seconds"));
  const std::vector<std::string> header = absl::StrSplit(lines[0], ',');
  const int auc =
      std::find(header.begin(), header.end(), "test_auc") - header.begin();
  const int rmse =
      std::find(header.begin(), header.end(), "test_soma_rmse_mv") -
      header.begin();
  const char* names[] = {"num_memory_1-seed_0", "num_memory_1-seed_1",
                         "num_memory_2-seed_0", "num_memory_2-seed_1"};
  for (int v = 0; v < 4; ++v) {
    SCOPED_TRACE(names[v]);
    const std::vector<std::string> cells = absl::StrSplit(lines[v + 1], ',');
    ASSERT_EQ(cells.size(), header.size());
    EXPECT_EQ(cells[0], names[v]);
    EXPECT_EQ(cells[1], v < 2 ? "1" : "2");
    EXPECT_EQ(cells[2], v % 2 == 0 ? "0" : "1");
    EXPECT_EQ(cells[3], "finished");
    // The row holds what the variant's summary.json says.
    absl::StatusOr<VariantSummary> s = ReadVariantSummary(VariantDir(plan, v));
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(cells[4], absl::StrCat(s->num_parameters));
    double value = 0;
    ASSERT_TRUE(absl::SimpleAtod(cells[auc], &value)) << cells[auc];
    EXPECT_EQ(value, s->test_metrics.at("auc"));
    ASSERT_TRUE(absl::SimpleAtod(cells[rmse], &value)) << cells[rmse];
    EXPECT_EQ(value, s->test_metrics.at("soma_rmse_mv"));
    ASSERT_TRUE(absl::SimpleAtod(cells[header.size() - 1], &value));
    EXPECT_GT(value, 0);  // the wall time
  }
  // A larger d_m has more parameters.
  const std::vector<std::string> d1 = absl::StrSplit(lines[1], ',');
  const std::vector<std::string> d2 = absl::StrSplit(lines[3], ',');
  EXPECT_LT(std::stoi(d1[4]), std::stoi(d2[4]));
  const std::string html = ReadTestFile(plan.output_dir + "/sweep.html");
  EXPECT_THAT(html, HasSubstr("<title>Sweep tiny_sweep</title>"));
  EXPECT_THAT(html, HasSubstr("test auc (mean ± std over seed)"));
  EXPECT_THAT(html, HasSubstr("trainable parameters (log scale)"));
  EXPECT_THAT(html,
              HasSubstr("Test soma_rmse_mv against model.elm.num_memory"));
  EXPECT_THAT(html, HasSubstr("mean ± standard deviation over seed"));
  EXPECT_THAT(html, HasSubstr(">num_memory_2-seed_1<"));
  EXPECT_THAT(html, HasSubstr("2 of 2"));  // runs per group
  EXPECT_THAT(html, Not(HasSubstr("<script")));
}

TEST(SweepBinaryTest, ErrorsNameTheSweepAndTheAxis) {
  CommandResult r = RunTestBinary("experiments/sweep", "");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("--sweep is required"));
  const std::string path = TestTempPath("bad_sweep.textproto");
  WriteTestFile(path, absl::StrCat(TinySweepText(),
                                   "axes { field: \"train.lr\" values: "
                                   "[\"0.1\", \"fast\"] }\n"));
  r = RunTestBinary("experiments/sweep", "--sweep=" + path);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr(path + ": axis 'lr' value 'fast'"));
  // --list runs nothing.
  WriteTestFile(path, TinySweepText());
  const std::string dir = MakeTestDir("listed");
  r = RunTestBinary(
      "experiments/sweep",
      absl::StrCat("--sweep=", path, " --output_dir=", dir, " --list"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("[4/4] num_memory_2-seed_1: to run"));
  EXPECT_FALSE(Exists(dir + "/sweep.csv"));
}

TEST(SweepBinaryTest, TwoRanksGiveTheSameCsvAsOneProcess) {
  const std::string path = TestTempPath("mpi_sweep.textproto");
  WriteTestFile(path, TinySweepText());
  const std::string local = MakeTestDir("local_run");
  CommandResult r = RunTestBinary(
      "experiments/sweep",
      absl::StrCat("--sweep=", path, " --output_dir=", local, " --quiet"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("[4/4] num_memory_2-seed_1: done in"));
  const std::string ranks = MakeTestDir("mpi_run");
  r = RunTestBinaryOnRanks(
      "experiments/sweep", 2,
      absl::StrCat("--sweep=", path, " --output_dir=", ranks));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("on 2 ranks"));
  EXPECT_THAT(r.output, HasSubstr(" on rank 0: done in "));
  EXPECT_THAT(r.output, HasSubstr(" on rank 1: done in "));
  EXPECT_THAT(r.output, HasSubstr("(4 of 4 done)"));
  EXPECT_EQ(CsvWithoutTimes(ReadTestFile(ranks + "/sweep.csv")),
            CsvWithoutTimes(ReadTestFile(local + "/sweep.csv")));
  EXPECT_TRUE(Exists(ranks + "/sweep.html"));
  // Run again: everything is skipped.
  r = RunTestBinaryOnRanks(
      "experiments/sweep", 2,
      absl::StrCat("--sweep=", path, " --output_dir=", ranks));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("4 variants (4 finished before"));
  EXPECT_THAT(r.output, Not(HasSubstr(": done in")));
}

// A sweep() target's built script started directly under mpirun, as
// `mpirun ... bazel-bin/experiments/<target>`: laid out as bazel-bin lays it
// out (the script beside its <script>.runfiles tree) and started from another
// directory, it finds its sweep and spec files in its runfiles, runs on both
// ranks, and takes a relative --output_dir from the directory mpirun started
// in, also when that directory is a source checkout holding the sweep file.
TEST(SweepBinaryTest, ASweepTargetRunsUnderMpirunOutsideBazelRun) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  ASSERT_NE(srcdir, nullptr);
  const std::string bin = MakeTestDir("bazel-bin-like");
  const std::string script = bin + "/tiny_sweep_for_test";
  ASSERT_EQ(
      std::system(absl::StrCat(
                      "cp '", srcdir, "/elm/experiments/tiny_sweep_for_test' '",
                      script, "' && mkdir '", script, ".runfiles' && ln -s '",
                      srcdir, "/elm' '", script, ".runfiles/elm'")
                      .c_str()),
      0);
  // Started from a source checkout (the README's command runs from the
  // workspace root): the sweep file's path exists there, the runner does not.
  const std::string work = MakeTestDir("started_here");
  ASSERT_EQ(std::system(absl::StrCat("mkdir -p '", work,
                                     "/experiments/testdata' && cp '", srcdir,
                                     "/elm/experiments/testdata/"
                                     "tiny_sweep.textproto' '",
                                     work, "/experiments/testdata/'")
                            .c_str()),
            0);
  const CommandResult r =
      RunTestBinaryOnRanks(script, 2, "--output_dir=out", "", work);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("on 2 ranks"));
  EXPECT_THAT(r.output, HasSubstr("(2 of 2 done)"));
  const std::string csv = ReadTestFile(work + "/out/sweep.csv");
  EXPECT_THAT(csv, HasSubstr("seed_1"));
  EXPECT_TRUE(Exists(work + "/out/sweep.html"));
}

}  // namespace
}  // namespace elm
