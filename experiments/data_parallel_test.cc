// Data-parallel training and distributed evaluation: ShardLayout and the
// shard-order reduction in this process, then whole runs of //experiments:run
// under mpirun (base/test_binary.h RunTestBinaryOnRanks: as root, in a
// container, without a network). The tiny Branch-ELM (the embedded spec's
// model on TinyNeuronioData) over 4 shards as 1 rank × 2 threads, 2 ranks × 1
// thread and 4 ranks × 1 thread (oversubscribed) gives bit-identical
// metrics.csv losses, validation and test metrics (evaluation split across
// ranks) and weights; a run stopped on 2 ranks resumes on 1, then on 4, to
// the same end; rank 0 alone writes; a killed rank ends the job and --resume
// finishes it; a 2-rank classification run (generated ListOps) equals the
// 1-rank run.
#include "experiments/data_parallel.h"

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/mpi_group.h"
#include "base/test_binary.h"
#include "base/test_files.h"
#include "elm/checkpoint.h"
#include "experiments/test_specs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::HasSubstr;

TEST(ShardLayoutTest, SpreadsShardsOverRanks) {
  MpiGroup& one = MpiGroup::Single();
  const ShardLayout all = ShardLayout::Make(4, one);
  EXPECT_EQ(all.shards, 4);
  EXPECT_EQ(all.first, 0);
  EXPECT_EQ(all.end, 4);
  // Batch 10 over 4 shards: 2, 3, 2, 3 sequences.
  EXPECT_EQ(all.Begin(10, 1), 2);
  EXPECT_EQ(all.End(10, 1), 5);
  EXPECT_EQ(all.End(10, 3), 10);
}

TEST(SpecShardsTest, DefaultsToThreads) {
  TrainSpec t;
  t.set_threads(3);
  EXPECT_EQ(SpecShards(t), 3);
  t.set_shards(4);
  EXPECT_EQ(SpecShards(t), 4);
}

TEST(ReduceShardsTest, SumsInShardOrderAndWeightsMetricsByShare) {
  ParamSet<float> params;
  params.Add("w", 1, 3);
  std::vector<GradBlock<float>> grads(3, GradBlock<float>(params));
  // Values whose float sum depends on the order: (1e8 + 1) - 1e8 = 0 in
  // float, 1e8 + (1 - 1e8) = 0 too, but (1e8 - 1e8) + 1 = 1.
  const float v[3][3] = {{1e8f, 1, 2}, {1, 2, 3}, {-1e8f, 4, 5}};
  for (int s = 0; s < 3; ++s) {
    for (int i = 0; i < 3; ++i) grads[s].data()[i] = v[s][i];
  }
  std::vector<TrainMetrics> parts(3);
  for (int s = 0; s < 3; ++s) {
    parts[s].loss = s + 1;
    parts[s].sequences = 1 + s % 2;
  }
  const ShardLayout layout = ShardLayout::Make(3, MpiGroup::Single());
  double comm = -1;
  const TrainMetrics m =
      ReduceShards(MpiGroup::Single(), layout, 5, 3, &grads, &parts, &comm);
  EXPECT_EQ(comm, 0);
  EXPECT_EQ(grads[0].data()[0], (1e8f + 1.0f) + -1e8f);
  EXPECT_EQ(grads[0].data()[1], 7.0f);
  EXPECT_EQ(grads[0].data()[2], 10.0f);
  // Shares of 5 over 3 shards: 1/5, 2/5, 2/5.
  EXPECT_DOUBLE_EQ(m.loss, 1 * 0.2 + 2 * 0.4 + 3 * 0.4);
  EXPECT_EQ(m.sequences, 4);
}

// The embedded Branch-ELM spec's model on the tiny generated data, 4 shards,
// with input dropout (drawn per nonzero over the whole batch: a rank holding
// only its sequences skips the draws of the others', see data/dataset.h).
std::string BranchElmSpec() {
  return absl::StrCat(R"pb(
                        name: "tiny_branch_elm"
                        model {
                          elm {
                            num_memory: 15
                            num_branch: 45
                            num_synapse_per_branch: 100
                            input_to_synapse_routing: "neuronio_routing"
                            memory_tau_min: 1
                            memory_tau_max: 150
                          }
                        }
                        train {
                          lr: 5e-3
                          batch_size: 8
                          batches_per_epoch: 3
                          epochs: 2
                          log_every_steps: 1
                          checkpoint_every_steps: 1
                          seed: 7
                          shards: 4
                          input_dropout: 0.1
                        }
                        eval {
                          window_ms: 200
                          burn_in_ms: 50
                          ignore_start_ms: 100
                          batch_size: 5
                        }
                      )pb",
                      "data { ", TinyNeuronioData(8, 1000), " seed: 3 }");
}

// The rows of metrics.csv without the columns that depend on timing
// (steps_per_s, and any *_seconds / *wait* column).
std::string LossRows(const std::string& dir) {
  std::vector<std::string> rows;
  std::vector<bool> timing;
  for (absl::string_view line : absl::StrSplit(
           ReadTestFile(dir + "/metrics.csv"), '\n', absl::SkipEmpty())) {
    std::vector<std::string> cols = absl::StrSplit(line, ',');
    if (timing.empty()) {
      for (const std::string& c : cols) {
        timing.push_back(c == "steps_per_s" ||
                         c.find("second") != std::string::npos ||
                         c.find("wait") != std::string::npos);
      }
    }
    for (size_t c = 0; c < cols.size() && c < timing.size(); ++c) {
      if (timing[c]) cols[c] = "";
    }
    rows.push_back(absl::StrJoin(cols, ","));
  }
  return absl::StrJoin(rows, "\n");
}

// The weights and optimizer state of a checkpoint, as bytes.
std::string State(const std::string& path) {
  absl::StatusOr<Checkpoint> c = LoadCheckpoint(path);
  EXPECT_TRUE(c.ok()) << c.status();
  if (!c.ok()) return "";
  std::string out;
  for (const CheckpointTensor& t : c->tensors()) {
    absl::StrAppend(&out, t.SerializeAsString());
  }
  absl::StrAppend(&out, c->optimizer().SerializeAsString());
  return out;
}

// The "test" object of summary.json.
std::string TestMetrics(const std::string& dir) {
  const std::string summary = ReadTestFile(dir + "/summary.json");
  const size_t at = summary.find("\"test\"");
  EXPECT_NE(at, std::string::npos) << summary;
  if (at == std::string::npos) return "";
  return summary.substr(at, summary.find('}', at) - at);
}

// Runs //experiments:run on `ranks` ranks (0: without mpirun) with `threads`
// threads each into `dir`; `extra` is more flags.
CommandResult RunSpec(const std::string& spec, int ranks, int threads,
                      const std::string& dir, const std::string& extra = "") {
  const std::string args =
      absl::StrCat("--spec=", spec, " --set train.threads=", threads,
                   " --output_dir=", dir, " --quiet ", extra);
  return ranks == 0 ? RunTestBinary("experiments/run", args)
                    : RunTestBinaryOnRanks("experiments/run", ranks, args);
}

TEST(DataParallelRunTest, LayoutsOfFourShardsAreBitIdentical) {
  const std::string spec = TestTempPath("branch_elm.textproto");
  WriteTestFile(spec, BranchElmSpec());
  struct Layout {
    int ranks, threads;
  };
  std::vector<std::string> dirs;
  for (const Layout l : {Layout{0, 2}, Layout{2, 1}, Layout{4, 1}}) {
    const std::string dir =
        TestTempPath(absl::StrCat("layout_", l.ranks, "x", l.threads));
    const CommandResult r = RunSpec(spec, l.ranks, l.threads, dir);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // Rank 0 alone reports.
    const std::vector<std::string> parts = absl::StrSplit(r.output, "done in");
    EXPECT_EQ(parts.size(), 2u) << r.output;
    dirs.push_back(dir);
  }
  const std::string rows = LossRows(dirs[0]);
  EXPECT_THAT(rows, HasSubstr("6,2,valid"));
  for (size_t i = 1; i < dirs.size(); ++i) {
    EXPECT_EQ(LossRows(dirs[i]), rows) << dirs[i];
    EXPECT_EQ(State(dirs[i] + "/checkpoints/latest.ckpt"),
              State(dirs[0] + "/checkpoints/latest.ckpt"))
        << dirs[i];
    EXPECT_EQ(State(dirs[i] + "/best.ckpt"), State(dirs[0] + "/best.ckpt"));
    EXPECT_EQ(TestMetrics(dirs[i]), TestMetrics(dirs[0]));
  }
  EXPECT_THAT(ReadTestFile(dirs[1] + "/summary.json"),
              HasSubstr("\"ranks\": 2"));
  // The comparison can fail: another shard count is another run.
  const std::string two_shards = TestTempPath("layout_two_shards");
  ASSERT_EQ(RunSpec(spec, 0, 2, two_shards, "--set train.shards=2").exit_code,
            0);
  EXPECT_NE(LossRows(two_shards), rows);
}

TEST(DataParallelRunTest, CheckpointsResumeOnAnyNumberOfRanks) {
  const std::string spec = TestTempPath("branch_elm_resume.textproto");
  WriteTestFile(spec, BranchElmSpec());
  const std::string straight = TestTempPath("resume_straight"),
                    split = TestTempPath("resume_split");
  ASSERT_EQ(RunSpec(spec, 0, 2, straight).exit_code, 0);
  // Stop mid-epoch on 2 ranks, go on alone with 1 thread to another stop,
  // then finish on 4 ranks: 2 -> 1 -> 4.
  const CommandResult part = RunSpec(spec, 2, 1, split, "--stop_after_steps=2");
  ASSERT_EQ(part.exit_code, 0) << part.output;
  EXPECT_THAT(part.output, HasSubstr("stopped after 2 steps"));
  const CommandResult more =
      RunSpec(spec, 0, 1, split, "--resume --stop_after_steps=4");
  ASSERT_EQ(more.exit_code, 0) << more.output;
  EXPECT_THAT(more.output, HasSubstr("stopped after 4 steps"));
  const CommandResult rest = RunSpec(spec, 4, 1, split, "--resume");
  ASSERT_EQ(rest.exit_code, 0) << rest.output;
  EXPECT_EQ(LossRows(split), LossRows(straight));
  EXPECT_EQ(State(split + "/best.ckpt"), State(straight + "/best.ckpt"));
  EXPECT_EQ(TestMetrics(split), TestMetrics(straight));
}

TEST(DataParallelRunTest, ClassificationOnTwoRanksEqualsOne) {
  const std::string spec = TestTempPath("listops.textproto");
  WriteTestFile(spec, R"pb(
    name: "tiny_listops"
    model {
      elm { num_memory: 6 mlp_hidden_size: 8 }
      readout: LAST_STEP
    }
    data {
      listops { num_train: 48 num_valid: 10 num_test: 9 steps: 2000 }
      seed: 2
    }
    train {
      lr: 0.01
      batch_size: 6
      batches_per_epoch: 4
      epochs: 2
      log_every_steps: 2
      seed: 1
      shards: 2
    }
    eval { batch_size: 3 }
  )pb");
  const std::string one = TestTempPath("listops_1"),
                    two = TestTempPath("listops_2");
  const CommandResult a = RunSpec(spec, 0, 2, one);
  ASSERT_EQ(a.exit_code, 0) << a.output;
  const CommandResult b = RunSpec(spec, 2, 1, two);
  ASSERT_EQ(b.exit_code, 0) << b.output;
  EXPECT_THAT(LossRows(one), HasSubstr("valid"));
  EXPECT_EQ(LossRows(two), LossRows(one));
  EXPECT_EQ(State(two + "/best.ckpt"), State(one + "/best.ckpt"));
  EXPECT_THAT(TestMetrics(one), HasSubstr("accuracy"));
  EXPECT_EQ(TestMetrics(two), TestMetrics(one));
}

// Rank 0 alone writes the run directory: the two ranks start in different
// directories (mpirun's multiple-program form, one -wdir each) with the same
// relative --output_dir, so anything rank 1 wrote would appear under its own
// directory.
TEST(DataParallelRunTest, OnlyRankZeroWritesTheRunDirectory) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  ASSERT_NE(srcdir, nullptr);
  const std::string spec = TestTempPath("branch_elm_writer.textproto");
  WriteTestFile(spec, BranchElmSpec());
  const std::string zero = MakeTestDir("rank0_cwd"),
                    one = MakeTestDir("rank1_cwd");
  const std::string args = absl::StrCat(
      "--spec=", spec, " --set train.threads=1 --output_dir=out --quiet");
  const CommandResult r =
      RunTestBinaryOnRanks("experiments/run", 1,
                           absl::StrCat(args, " : -np 1 -wdir ", one, " ",
                                        srcdir, "/elm/experiments/run ", args),
                           "", zero);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* file : {"/metrics.csv", "/summary.json", "/report.html",
                           "/best.ckpt", "/checkpoints/latest.ckpt"}) {
    EXPECT_EQ(::access((zero + "/out" + file).c_str(), F_OK), 0) << file;
  }
  EXPECT_THAT(ReadTestFile(zero + "/out/summary.json"),
              HasSubstr("\"ranks\": 2"));
  EXPECT_NE(::access((one + "/out").c_str(), F_OK), 0)
      << "rank 1 wrote into its directory";
}

// Kills rank 0 (SIGKILL, as the out-of-memory killer would) once the run in
// `dir` has written a checkpoint, unless `*stop` is set first; gives up after
// 2 minutes. Rank 0's pid is the one in the run directory's lock file.
std::thread KillRankZeroAfterCheckpoint(const std::string& dir,
                                        std::atomic<bool>* stop,
                                        std::atomic<bool>* killed) {
  return std::thread([dir, stop, killed]() {
    for (int i = 0; i < 12000 && !*stop && !*killed; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (::access((dir + "/checkpoints/latest.ckpt").c_str(), F_OK) != 0) {
        continue;
      }
      std::ifstream lock(dir + "/.lock");
      pid_t pid = 0;
      if (lock >> pid && pid > 0 && ::kill(pid, SIGKILL) == 0) *killed = true;
    }
  });
}

TEST(DataParallelRunTest, AKilledRankEndsTheJobAndResumeFinishesIt) {
  const std::string spec = TestTempPath("branch_elm_killed.textproto");
  WriteTestFile(spec, BranchElmSpec());
  const std::string longer = "--set train.epochs=10";  // 30 steps
  const std::string straight = TestTempPath("killed_straight"),
                    dir = TestTempPath("killed");
  ASSERT_EQ(RunSpec(spec, 0, 2, straight, longer).exit_code, 0);
  std::atomic<bool> stop{false}, killed{false};
  std::thread killer = KillRankZeroAfterCheckpoint(dir, &stop, &killed);
  const CommandResult r = RunSpec(spec, 2, 1, dir, longer);
  stop = true;
  killer.join();
  ASSERT_TRUE(killed) << "the run ended before it was killed: " << r.output;
  // The job ended (no rank waits forever), with mpirun's report of the rank.
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("rank 0"));
  EXPECT_THAT(r.output, HasSubstr("signal 9"));
  EXPECT_NE(::access((dir + "/summary.json").c_str(), F_OK), 0);
  // --resume (here on 1 rank) finishes it as if nothing had happened.
  const CommandResult rest = RunSpec(spec, 0, 2, dir, longer + " --resume");
  ASSERT_EQ(rest.exit_code, 0) << rest.output;
  EXPECT_EQ(LossRows(dir), LossRows(straight));
  EXPECT_EQ(State(dir + "/best.ckpt"), State(straight + "/best.ckpt"));
  EXPECT_EQ(TestMetrics(dir), TestMetrics(straight));
}

TEST(DataParallelRunTest, AnErrorOnTheRanksEndsTheJob) {
  // --resume without a checkpoint: rank 0 finds none and every rank stops.
  const std::string spec = TestTempPath("branch_elm_error.textproto");
  WriteTestFile(spec, BranchElmSpec());
  const CommandResult r =
      RunSpec(spec, 2, 1, TestTempPath("no_such_run"), "--resume");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("ending the job"));
  EXPECT_THAT(r.output, HasSubstr("no checkpoint at"));
}

}  // namespace
}  // namespace elm
