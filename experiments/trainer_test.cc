// End-to-end tests of the experiment runner on tiny generated NeuronIO data:
// a whole run's outputs, exact resume, determinism, the NaN stop, and
// classification on sequential Fashion-MNIST when Debian's copy is installed.
#include "experiments/trainer.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/shared_data.h"
#include "base/status_macros.h"
#include "base/test_files.h"
#include "base/test_mount.h"
#include "data/dataset_spec.pb.h"
#include "data/neuronio_generator.h"
#include "elm/checkpoint.h"
#include "experiments/model_registry.h"
#include "experiments/spec.h"
#include "experiments/test_specs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/neuronio_compact.h"

namespace elm {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// A tiny run on generated NeuronIO data.
ExperimentSpec TinySpec() {
  absl::StatusOr<ExperimentSpec> spec = ParseExperimentSpecText(
      absl::StrCat(
          R"pb(
            name: "tiny"
            model {
              elm { num_memory: 4 mlp_hidden_size: 8 memory_tau_max: 50 }
            }
            train {
              lr: 0.01
              batch_size: 4
              batches_per_epoch: 6
              epochs: 2
              log_every_steps: 2
              checkpoint_every_steps: 4
              threads: 2
              seed: 5
            }
            eval { window_ms: 200 burn_in_ms: 50 ignore_start_ms: 100 }
          )pb",
          "data { ", TinyNeuronioData(8, 1200), " seed: 3 }"),
      "");
  CHECK(spec.ok()) << spec.status();
  return *spec;
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// The rows of metrics.csv without the throughput and data wait columns
// (indices 8 and 9), which depend on timing.
std::vector<std::string> LossRows(const std::string& dir) {
  std::vector<std::string> rows;
  for (absl::string_view line : absl::StrSplit(
           ReadTestFile(dir + "/metrics.csv"), '\n', absl::SkipEmpty())) {
    std::vector<std::string> cols = absl::StrSplit(line, ',');
    for (size_t c : {8, 9}) {
      if (cols.size() > c) cols[c] = "";
    }
    rows.push_back(absl::StrJoin(cols, ","));
  }
  return rows;
}

RunResult RunTiny(const ExperimentSpec& spec, const std::string& dir,
                  bool resume = false, int64_t stop = -1) {
  RunOptions options;
  options.output_dir = dir;
  options.quiet = true;
  options.resume = resume;
  options.stop_after_steps = stop;
  absl::StatusOr<RunResult> result = RunExperiment(spec, options);
  CHECK(result.ok()) << result.status();
  return *result;
}

TEST(TrainerTest, RunWritesEveryOutput) {
  const std::string dir = TestTempPath("whole");
  const RunResult r = RunTiny(TinySpec(), dir);
  EXPECT_TRUE(r.finished);
  EXPECT_EQ(r.steps, 12);
  EXPECT_GT(r.num_parameters, 0);
  ASSERT_TRUE(r.test_metrics.count("auc"));
  EXPECT_GT(r.test_metrics.at("auc"), 0.0);
  EXPECT_LE(r.test_metrics.at("auc"), 1.0);
  EXPECT_GT(r.test_metrics.at("soma_rmse_mv"), 0.0);
  // Epochs are numbered from 1 in the result, the log, metrics.csv and
  // summary.json.
  EXPECT_TRUE(r.best_epoch == 1 || r.best_epoch == 2) << r.best_epoch;
  for (const char* f :
       {"/spec.textproto", "/metrics.csv", "/best.ckpt",
        "/checkpoints/latest.ckpt", "/summary.json", "/report.html"}) {
    EXPECT_TRUE(Exists(dir + f)) << f;
  }
  // metrics.csv: a header, 3 train rows per epoch (every 2 of 6 steps) and one
  // valid row per epoch.
  const std::vector<std::string> rows = LossRows(dir);
  ASSERT_EQ(rows.size(), 1u + 2 * 3 + 2);
  EXPECT_THAT(rows[0], HasSubstr("step,epoch,phase,loss"));
  EXPECT_THAT(rows[4], HasSubstr("6,1,valid"));
  EXPECT_THAT(rows[8], HasSubstr("12,2,valid"));
  EXPECT_THAT(rows[1], HasSubstr(",1,train"));
  const std::string summary = ReadTestFile(dir + "/summary.json");
  EXPECT_THAT(summary,
              HasSubstr(absl::StrCat("\"best_epoch\": ", r.best_epoch)));
  EXPECT_THAT(summary, HasSubstr("\"num_parameters\": "));
  EXPECT_THAT(summary, HasSubstr("\"auc\": "));
  const std::string html = ReadTestFile(dir + "/report.html");
  EXPECT_THAT(html, HasSubstr("<svg"));
  EXPECT_THAT(html, HasSubstr("ROC"));
  EXPECT_THAT(html, HasSubstr("name: &quot;tiny&quot;"));
  // The kept checkpoint is a model checkpoint //elm:forward can load.
  absl::StatusOr<ElmModel<float>> model =
      LoadModelFromCheckpoint<float>(dir + "/best.ckpt");
  EXPECT_TRUE(model.ok()) << model.status();
}

TEST(TrainerTest, ResumeReproducesTheUninterruptedRun) {
  const ExperimentSpec spec = TinySpec();
  const std::string a = TestTempPath("straight"),
                    b = TestTempPath("interrupted");
  const RunResult straight = RunTiny(spec, a);
  // Stop mid-epoch and mid-logging-interval (step 5 of 6), then resume.
  const RunResult part = RunTiny(spec, b, /*resume=*/false, /*stop=*/5);
  EXPECT_FALSE(part.finished);
  EXPECT_EQ(part.steps, 5);
  const RunResult resumed = RunTiny(spec, b, /*resume=*/true);
  EXPECT_TRUE(resumed.finished);
  EXPECT_EQ(LossRows(a), LossRows(b));
  EXPECT_EQ(straight.test_metrics, resumed.test_metrics);
  absl::StatusOr<Checkpoint> ca = LoadCheckpoint(a + "/best.ckpt");
  absl::StatusOr<Checkpoint> cb = LoadCheckpoint(b + "/best.ckpt");
  ASSERT_TRUE(ca.ok() && cb.ok());
  ASSERT_EQ(ca->tensors_size(), cb->tensors_size());
  for (int i = 0; i < ca->tensors_size(); ++i) {
    EXPECT_EQ(ca->tensors(i).SerializeAsString(),
              cb->tensors(i).SerializeAsString())
        << ca->tensors(i).name();
  }
}

TEST(TrainerTest, SameSeedSameRunOtherSeedOtherRun) {
  ExperimentSpec spec = TinySpec();
  spec.mutable_train()->set_epochs(1);
  const std::string a = TestTempPath("seed_a"), b = TestTempPath("seed_b"),
                    c = TestTempPath("seed_c");
  RunTiny(spec, a);
  RunTiny(spec, b);
  EXPECT_EQ(LossRows(a), LossRows(b));
  spec.mutable_train()->set_seed(6);
  RunTiny(spec, c);
  EXPECT_NE(LossRows(a), LossRows(c));
}

TEST(TrainerTest, AFreshRunRefusesAFinishedRunUnlessToldToOverwrite) {
  ExperimentSpec spec = TinySpec();
  spec.mutable_train()->set_epochs(1);
  const std::string dir = TestTempPath("refuse_overwrite");
  RunTiny(spec, dir);
  const std::string summary = ReadTestFile(dir + "/summary.json");
  RunOptions options;
  options.output_dir = dir;
  options.quiet = true;
  absl::StatusOr<RunResult> r = RunExperiment(spec, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("holds an earlier run"));
  EXPECT_THAT(r.status().message(), HasSubstr("--overwrite"));
  // Refused: the finished run is whole.
  EXPECT_EQ(ReadTestFile(dir + "/summary.json"), summary);
  EXPECT_TRUE(Exists(dir + "/checkpoints/latest.ckpt"));

  // With overwrite, a run that stops early leaves only its own files: no
  // summary or report of the run it replaced.
  options.overwrite = true;
  options.stop_after_steps = 2;
  r = RunExperiment(spec, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->finished);
  EXPECT_FALSE(Exists(dir + "/summary.json"));
  EXPECT_FALSE(Exists(dir + "/report.html"));
  EXPECT_FALSE(Exists(dir + "/best.ckpt"));
  EXPECT_TRUE(Exists(dir + "/checkpoints/latest.ckpt"));
  EXPECT_EQ(LossRows(dir).size(), 2u);  // the header and one train row
}

TEST(TrainerTest, ResumeChecksTheSpecAndTheCheckpoint) {
  ExperimentSpec spec = TinySpec();
  const std::string dir = TestTempPath("resume_checks");
  RunOptions options;
  options.output_dir = dir;
  options.quiet = true;
  options.resume = true;
  absl::StatusOr<RunResult> r = RunExperiment(spec, options);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("no checkpoint"));
  RunTiny(spec, dir, /*resume=*/false, /*stop=*/2);
  spec.mutable_train()->set_lr(0.02);
  r = RunExperiment(spec, options);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("spec differs"));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("lr"));
}

TEST(TrainerTest, BadSpecFailsBeforeAnythingRuns) {
  ExperimentSpec spec = TinySpec();
  spec.mutable_train()->set_batch_size(0);
  RunOptions options;
  options.output_dir = TestTempPath("never_created");
  options.quiet = true;
  absl::StatusOr<RunResult> r = RunExperiment(spec, options);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("train.batch_size"));
  EXPECT_FALSE(Exists(options.output_dir));
}

// A model that wraps an ELM and returns NaN outputs from its 4th forward
// call on: registered under a custom name, it also tests the registry path.
class NanAfterModel : public SequenceModel {
 public:
  explicit NanAfterModel(std::unique_ptr<SequenceModel> inner)
      : inner_(std::move(inner)) {}
  ParamSet<float>& params() override { return inner_->params(); }
  const ParamSet<float>& params() const override { return inner_->params(); }
  Var<float> Forward(Tape<float>& tape, const CsrView& x, int64_t steps,
                     GradBlock<float>* grads) override {
    Var<float> y = inner_->Forward(tape, x, steps, grads);
    if (calls_.fetch_add(1) >= 6) y.value[0] = std::nanf("");
    return y;
  }
  std::vector<NamedTensor> StateDict() const override {
    return inner_->StateDict();
  }
  absl::Status LoadStateDict(absl::Span<const NamedTensor> t,
                             absl::string_view source) override {
    return inner_->LoadStateDict(t, source);
  }

 private:
  std::unique_ptr<SequenceModel> inner_;
  std::atomic<int> calls_{0};
};

const bool kRegistered = RegisterModel(
    "nan_after_three_steps",
    [](const ModelSpec&, const DatasetInfo& info,
       uint64_t seed) -> absl::StatusOr<std::unique_ptr<SequenceModel>> {
      ModelSpec elm;
      elm.mutable_elm()->set_num_memory(2);
      ASSIGN_OR_RETURN(std::unique_ptr<SequenceModel> inner,
                       MakeModel(elm, info, seed));
      return std::unique_ptr<SequenceModel>(
          new NanAfterModel(std::move(inner)));
    });

TEST(TrainerTest, NanLossStopsTheRunNamingTheStep) {
  ASSERT_TRUE(kRegistered);
  ExperimentSpec spec = TinySpec();
  spec.mutable_model()->mutable_custom()->set_name("nan_after_three_steps");
  spec.mutable_train()->set_checkpoint_every_steps(2);
  const std::string dir = TestTempPath("nan");
  RunOptions options;
  options.output_dir = dir;
  options.quiet = true;
  absl::StatusOr<RunResult> r = RunExperiment(spec, options);
  // Two threads, two forwards per step: the 7th forward is in step 4.
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("step 4: the training loss is nan"));
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("the last good checkpoint is kept: " + dir +
                        "/checkpoints/latest.ckpt"));
  absl::StatusOr<Checkpoint> last =
      LoadCheckpoint(dir + "/checkpoints/latest.ckpt");
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->step(), 2);

  // Before the first checkpoint, the message does not promise one.
  spec.mutable_train()->set_checkpoint_every_steps(100);
  options.output_dir = TestTempPath("nan_before_checkpoint");
  r = RunExperiment(spec, options);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("no checkpoint was written before it"));
}

// TinySpec on generated files written as .elmnio (three train files, one
// valid, one test), a new file every 2 batches.
ExperimentSpec TinyFileSpec(bool prefetch, const std::string& cache_dir) {
  static const std::string* const kDir = [] {
    auto* dir = new std::string(MakeTestDir("tiny_files"));
    NeuronioGeneratorOptions options;
    options.num_simulations = 8;
    options.duration_ms = 1200;
    uint64_t seed = 20;
    for (const char* name :
         {"train_0", "train_1", "train_2", "valid", "test"}) {
      absl::StatusOr<NeuronioFile> f = GenerateNeuronioFile(options, ++seed);
      CHECK(f.ok()) << f.status();
      const absl::Status written =
          WriteNeuronioCompact(*f, absl::StrCat(*dir, "/", name, ".elmnio"));
      CHECK(written.ok()) << written;
    }
    return dir;
  }();
  ExperimentSpec spec = TinySpec();
  NeuronioSpec& n = *spec.mutable_data()->mutable_neuronio();
  n.clear_generate();
  n.add_train_files(*kDir + "/train_*");
  n.add_valid_files(*kDir + "/valid.elmnio");
  n.add_test_files(*kDir + "/test.elmnio");
  // int(0.1 · 8 · 1200 / (4 · 100)) = 2 batches per file.
  n.set_file_load_fraction(0.1);
  n.set_prefetch(prefetch);
  if (!cache_dir.empty()) n.set_cache_dir(cache_dir);
  return spec;
}

TEST(TrainerTest, PrefetchAndCacheGiveTheSameRunAndTheDataWaitIsReported) {
  const std::string plain = TestTempPath("files_plain"),
                    prefetched = TestTempPath("files_prefetched"),
                    cached = TestTempPath("files_cached");
  const RunResult a = RunTiny(TinyFileSpec(false, ""), plain);
  const RunResult b = RunTiny(TinyFileSpec(true, ""), prefetched);
  const RunResult c =
      RunTiny(TinyFileSpec(true, TestTempPath("files_cache")), cached);
  EXPECT_EQ(LossRows(plain), LossRows(prefetched));
  EXPECT_EQ(LossRows(plain), LossRows(cached));
  EXPECT_EQ(a.test_metrics, b.test_metrics);
  EXPECT_EQ(a.test_metrics, c.test_metrics);
  // The wait: in RunResult, summary.json and every train row of metrics.csv.
  for (const RunResult* r : {&a, &b, &c}) {
    EXPECT_GT(r->data_wait_seconds, 0);
    EXPECT_LT(r->data_wait_seconds, r->train_seconds);
  }
  EXPECT_THAT(ReadTestFile(plain + "/summary.json"),
              HasSubstr("\"data_wait_seconds\": "));
  const std::vector<std::string> rows = absl::StrSplit(
      ReadTestFile(plain + "/metrics.csv"), '\n', absl::SkipEmpty());
  ASSERT_FALSE(rows.empty());
  const std::vector<std::string> header = absl::StrSplit(rows[0], ',');
  ASSERT_EQ(header[9], "data_wait_s");
  for (size_t i = 1; i < rows.size(); ++i) {
    const std::vector<std::string> cols = absl::StrSplit(rows[i], ',');
    double wait = -1;
    if (cols[2] == "train") {
      EXPECT_TRUE(absl::SimpleAtod(cols[9], &wait)) << rows[i];
      EXPECT_GE(wait, 0) << rows[i];
    } else {
      EXPECT_EQ(cols[9], "") << rows[i];
    }
  }
}

// A tiny classification run on 16x16 Pathfinder images (T 256), 2 epochs.
ExperimentSpec TinyPathfinderSpec() {
  absl::StatusOr<ExperimentSpec> spec = ParseExperimentSpecText(
      R"pb(
        name: "tiny_pathfinder"
        model { elm { num_memory: 4 mlp_hidden_size: 8 memory_tau_max: 50 } }
        data {
          pathfinder {
            size: 16
            num_train: 16
            num_valid: 8
            num_test: 8
            contour_length: 4
            num_distractors: 0
          }
        }
        train {
          lr: 0.01
          batch_size: 4
          batches_per_epoch: 2
          epochs: 2
          log_every_steps: 1
          threads: 1
        }
        eval { batch_size: 8 }
      )pb",
      "");
  CHECK(spec.ok()) << spec.status();
  return *spec;
}

// The train rows of LossRows (the columns step ... loss), in order.
std::vector<std::string> TrainRows(const std::string& dir) {
  std::vector<std::string> rows;
  for (const std::string& row : LossRows(dir)) {
    if (absl::StrContains(row, ",train,")) rows.push_back(row);
  }
  return rows;
}

// A curriculum stage trains on its own data for its epochs, then the run goes
// on with spec.data: the stage's train rows are those of a run on the stage's
// data, the later ones are not; validation and the test use spec.data.
TEST(TrainerTest, CurriculumStagesTrainOnTheirDataForTheirEpochs) {
  const ExperimentSpec plain = TinyPathfinderSpec();
  ExperimentSpec staged = plain;
  CurriculumStage* stage = staged.mutable_train()->add_curriculum();
  stage->set_epochs(1);
  stage->add_set("data.seed=7");  // other images
  ExperimentSpec other = plain;
  other.mutable_data()->set_seed(7);
  const std::string p = TestTempPath("cur_plain"),
                    s = TestTempPath("cur_stage"),
                    o = TestTempPath("cur_other");
  RunTiny(plain, p);
  RunTiny(staged, s);
  RunTiny(other, o);
  const std::vector<std::string> rp = TrainRows(p), rs = TrainRows(s),
                                 ro = TrainRows(o);
  ASSERT_EQ(rs.size(), 4u);  // 2 steps per epoch, a row each
  ASSERT_EQ(ro.size(), 4u);
  ASSERT_EQ(rp.size(), 4u);
  // Epoch 1 (steps 1, 2): the stage's images, not spec.data's.
  EXPECT_EQ(rs[0], ro[0]);
  EXPECT_EQ(rs[1], ro[1]);
  EXPECT_NE(rs[0], rp[0]);
  // Epoch 2 trains on spec.data: the same batches as the plain run's epoch 2
  // but from another model, so neither run's rows.
  EXPECT_NE(rs[2], ro[2]);
  EXPECT_NE(rs[2], rp[2]);
  // A stage that changes nothing is the plain run.
  ExperimentSpec noop = plain;
  CurriculumStage* same = noop.mutable_train()->add_curriculum();
  same->set_epochs(2);
  same->add_set("data.seed=0");
  const std::string n = TestTempPath("cur_noop");
  const RunResult rn = RunTiny(noop, n);
  EXPECT_EQ(LossRows(n), LossRows(p));
  // Resuming inside the stage reproduces the uninterrupted staged run.
  const std::string r = TestTempPath("cur_resumed");
  RunTiny(staged, r, /*resume=*/false, /*stop=*/1);
  RunTiny(staged, r, /*resume=*/true);
  EXPECT_EQ(LossRows(r), LossRows(s));
  EXPECT_EQ(rn.steps, 4);
}

// The float tensors of a checkpoint file, by name.
std::map<std::string, std::vector<double>> CheckpointValues(
    const std::string& path) {
  absl::StatusOr<Checkpoint> c = LoadCheckpoint(path);
  CHECK(c.ok()) << c.status();
  std::map<std::string, std::vector<double>> values;
  for (const CheckpointTensor& t : c->tensors()) {
    absl::StatusOr<NamedTensor> named = TensorFromProto(t, path);
    CHECK(named.ok()) << named.status();
    values[named->name] = named->values;
  }
  return values;
}

// --init_from: a fresh run starts from a checkpoint's weights, with a fresh
// optimizer; a checkpoint of another model shape, a missing file and
// --resume with it are refused.
TEST(TrainerTest, InitFromStartsFromTheCheckpointsWeights) {
  const ExperimentSpec spec = TinyPathfinderSpec();
  const std::string a = TestTempPath("init_a"), b = TestTempPath("init_b"),
                    c = TestTempPath("init_c");
  RunTiny(spec, a);
  const std::string from = a + "/checkpoints/latest.ckpt";
  // b: a's final weights, trained with a rate too small to move them (Adam's
  // step is about lr): b ends where a ended, not where a began.
  ExperimentSpec still = spec;
  still.mutable_train()->set_lr(1e-12);
  RunOptions options;
  options.output_dir = b;
  options.quiet = true;
  options.init_from = from;
  absl::StatusOr<RunResult> rb = RunExperiment(still, options);
  ASSERT_TRUE(rb.ok()) << rb.status();
  EXPECT_EQ(rb->steps, 4);
  const auto va = CheckpointValues(from);
  const auto vb = CheckpointValues(b + "/checkpoints/latest.ckpt");
  ASSERT_EQ(va.size(), vb.size());
  // c: the same tiny rate from the seed's initialisation: far from a's end.
  RunTiny(still, c);
  const auto vc = CheckpointValues(c + "/checkpoints/latest.ckpt");
  double from_a = 0, from_seed = 0;
  for (const auto& [name, values] : va) {
    ASSERT_TRUE(vb.count(name)) << name;
    ASSERT_EQ(vb.at(name).size(), values.size()) << name;
    for (size_t i = 0; i < values.size(); ++i) {
      from_a = std::max(from_a, std::abs(vb.at(name)[i] - values[i]));
      from_seed = std::max(from_seed, std::abs(vc.at(name)[i] - values[i]));
    }
  }
  EXPECT_LT(from_a, 1e-6);
  EXPECT_GT(from_seed, 1e-3);  // a's 4 steps at lr 0.01 moved the weights
  // A checkpoint of another shape (d_m 5) is refused, naming the file.
  ExperimentSpec other = spec;
  other.mutable_model()->mutable_elm()->set_num_memory(5);
  options.output_dir = TestTempPath("init_d");
  absl::StatusOr<RunResult> rd = RunExperiment(other, options);
  ASSERT_FALSE(rd.ok());
  EXPECT_THAT(rd.status().message(), HasSubstr("--init_from: "));
  EXPECT_THAT(rd.status().message(), HasSubstr(from));
  options.init_from = TestTempPath("no_such.ckpt");
  options.output_dir = TestTempPath("init_e");
  rd = RunExperiment(spec, options);
  ASSERT_FALSE(rd.ok());
  EXPECT_THAT(rd.status().message(),
              HasSubstr("--init_from: no checkpoint at '"));
  options.init_from = from;
  options.resume = true;
  options.output_dir = a;
  rd = RunExperiment(spec, options);
  ASSERT_FALSE(rd.ok());
  EXPECT_THAT(rd.status().message(), HasSubstr("give one of them"));
}

// A stage whose data builds but does not fit the model (another grey-bin
// count: another input dimension) fails before training, naming the stage.
TEST(TrainerTest, CurriculumStageWithAnotherInputDimensionFails) {
  ExperimentSpec spec = TinyPathfinderSpec();
  CurriculumStage* stage = spec.mutable_train()->add_curriculum();
  stage->set_epochs(1);
  stage->add_set("data.pathfinder.grey_bins=8");
  RunOptions options;
  options.output_dir = TestTempPath("cur_bins");
  options.quiet = true;
  absl::StatusOr<RunResult> result = RunExperiment(spec, options);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(),
              HasSubstr("train.curriculum[0]: the stage's data has input "
                        "dimension 8 and 2 classes, the run's 16 and 2"));
  EXPECT_FALSE(Exists(options.output_dir + "/metrics.csv"));
}

// Issue 18 item 3: --set eval.ignore_start_ms=6000 on files of 6 s trained a
// whole epoch, then failed with no checkpoint written. Now the run fails
// before its first step.
TEST(TrainerTest, IgnoreStartAboveTheFilesLengthFailsBeforeTheFirstStep) {
  const std::string dir = MakeTestDir("ignore_start_files");
  ExperimentSpec spec = TinyFileSpec(true, "");
  spec.mutable_eval()->set_ignore_start_ms(1200);  // the files last 1200 ms
  RunOptions options;
  options.output_dir = dir;
  options.quiet = true;
  const absl::StatusOr<RunResult> r = RunExperiment(spec, options);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              AllOf(HasSubstr("eval.ignore_start_ms = 1200"),
                    HasSubstr("valid.elmnio"), HasSubstr("1200 ms")));
  EXPECT_FALSE(Exists(dir + "/checkpoints/latest.ckpt"));
  EXPECT_FALSE(Exists(dir + "/metrics.csv"));
}

// Issue 18 item 3: an SHD eval.batch_size above the validation split's size
// was found after an epoch. The mock file's 8 samples split about in half.
TEST(TrainerTest, ShdEvalBatchAboveTheValidationSplitFailsBeforeTraining) {
  std::string missing;
  const std::string mock =
      FindSharedPath("data/shd_mock/shd_mock_8.h5", &missing);
  if (mock.empty()) GTEST_SKIP() << "missing " << missing;
  absl::StatusOr<ExperimentSpec> spec = ParseExperimentSpecText(
      absl::StrCat(R"pb(
                     name: "shd_tiny"
                     model {
                       elm { num_memory: 4 mlp_hidden_size: 8 }
                       readout: LAST_STEP
                     }
                     train { batch_size: 2 batches_per_epoch: 2 epochs: 1 }
                     eval { batch_size: 8 }
                     data {
                       shd { bin_size_ms: 100 max_time_s: 1 valid_fraction: 0.5
                             train_file: ")pb",
                   mock, "\" test_file: \"", mock, "\" } }"),
      "shd_tiny");
  ASSERT_TRUE(spec.ok()) << spec.status();
  const std::string dir = MakeTestDir("shd_eval_batch");
  RunOptions options;
  options.output_dir = dir;
  options.quiet = true;
  const absl::StatusOr<RunResult> r = RunExperiment(*spec, options);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("eval.batch_size = 8"));
  EXPECT_FALSE(Exists(dir + "/metrics.csv"));
  // A train.batch_size above the training split: refused before training too.
  spec->mutable_eval()->set_batch_size(1);
  spec->mutable_train()->set_batch_size(8);
  const absl::StatusOr<RunResult> r2 = RunExperiment(*spec, options);
  ASSERT_FALSE(r2.ok());
  EXPECT_THAT(r2.status().message(), HasSubstr("train.batch_size = 8"));
  EXPECT_FALSE(Exists(dir + "/metrics.csv"));
  // The same spec with batches that fit runs.
  spec->mutable_train()->set_batch_size(2);
  EXPECT_TRUE(RunExperiment(*spec, options).ok());
}

// The entries of `dir`, sorted, space-separated.
std::string ListDir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return absl::StrJoin(names, " ");
}

// Issue 18 item 9: a full disk while writing the spec left a 0-byte
// spec.textproto.tmp.<pid> and a message without the reason. (The first file
// a fresh run writes is metrics.csv's header, then spec.textproto; both go
// through the atomic writer.)
TEST(TrainerTest, FullDiskAtTheStartNamesTheReasonAndLeavesNoTemporary) {
  const std::string mnt = MakeTestDir("full_disk");
  const std::string dir = mnt + "/run";
  absl::StatusOr<std::string> out = RunOnTmpfs(mnt, 256 << 10, [&] {
    const absl::Status filled = FillFileSystem(mnt);
    if (!filled.ok()) return filled.ToString();
    RunOptions options;
    options.output_dir = dir + "/";  // a trailing slash is dropped
    options.quiet = true;
    const absl::StatusOr<RunResult> r = RunExperiment(TinySpec(), options);
    return absl::StrCat(r.status().ToString(), "\n", ListDir(dir));
  });
  if (absl::IsUnavailable(out.status())) GTEST_SKIP() << out.status();
  ASSERT_TRUE(out.ok()) << out.status();
  const std::vector<std::string> lines = absl::StrSplit(*out, '\n');
  ASSERT_EQ(lines.size(), 2u) << *out;
  EXPECT_THAT(lines[0], Not(HasSubstr("//"))) << *out;
  EXPECT_THAT(lines[0], HasSubstr(dir + "/metrics.csv: cannot write"));
  EXPECT_THAT(lines[0], HasSubstr("No space left on device"));
  // Neither a metrics.csv.tmp.* nor a spec.textproto.tmp.* is left.
  EXPECT_EQ(lines[1], ".lock checkpoints");
}

// Issue 18 item 9: --resume on a read-only directory gave no reason.
TEST(TrainerTest, ResumeOnAReadOnlyDirectoryNamesTheReason) {
  const std::string mnt = MakeTestDir("read_only");
  const std::string dir = mnt + "/run";
  absl::StatusOr<std::string> out = RunOnTmpfs(mnt, 16 << 20, [&] {
    RunOptions options;
    options.output_dir = dir;
    options.quiet = true;
    options.stop_after_steps = 3;
    const absl::StatusOr<RunResult> first = RunExperiment(TinySpec(), options);
    if (!first.ok()) return first.status().ToString();
    const absl::Status ro = RemountReadOnly(mnt);
    if (!ro.ok()) return ro.ToString();
    options.resume = true;
    options.stop_after_steps = -1;
    return RunExperiment(TinySpec(), options).status().ToString();
  });
  if (absl::IsUnavailable(out.status())) GTEST_SKIP() << out.status();
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(*out, HasSubstr(dir));
  EXPECT_THAT(*out, HasSubstr("Read-only file system"));
}

}  // namespace
}  // namespace elm
