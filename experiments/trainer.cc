// The experiment runner (see trainer.h).
#include "experiments/trainer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "autodiff/lr_schedule.h"
#include "autodiff/ops.h"
#include "autodiff/optimizer.h"
#include "autodiff/params.h"
#include "base/files.h"
#include "base/mpi_group.h"
#include "base/rng.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "base/thread_pool.h"
#include "base/user_path.h"
#include "data/dataset_factory.h"
#include "elm/checkpoint.h"
#include "experiments/data_parallel.h"
#include "experiments/evaluation.h"
#include "experiments/json_output.h"
#include "experiments/metrics_table.h"
#include "experiments/model_registry.h"
#include "experiments/run_dir.h"
#include "experiments/run_report.h"
#include "experiments/spec.h"
#include "experiments/task.h"
#include "experiments/tasks/task_factory.h"
#include "glog/logging.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/message_differencer.h"

namespace elm {
namespace {

using Clock = std::chrono::steady_clock;

// The progress line shows the data wait from this share of the time on.
constexpr double kShownDataWait = 0.02;

// Seeds of the run's random streams, mixed from the spec's seed.
enum SeedTag : uint64_t { kModelSeed = 1, kEpochSeed = 2, kDropoutSeed = 3 };

uint64_t DeriveSeed(uint64_t base, SeedTag tag, uint64_t index) {
  Rng rng(base * 0x9E3779B97F4A7C15ULL + tag * 0xBF58476D1CE4E5B9ULL +
          index * 0x94D049BB133111EBULL);
  return rng.Next();
}

bool FileExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) {
    return absl::StrFormat("%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  }
  return absl::StrFormat("%d:%02d", s / 60, s % 60);
}

// The header line of metrics.csv.
std::string MetricsHeader() {
  return absl::StrCat(absl::StrJoin(MetricsCsvColumns(), ","), "\n");
}

// A row of metrics.csv: step, epoch (numbered from 1, as the log numbers
// them), phase, then `values` by column (blank where a column has none).
// `epoch` is the 0-based index of the epoch in progress.
std::string MetricsRow(int64_t step, int epoch, absl::string_view phase,
                       const std::map<std::string, double>& values) {
  const std::vector<std::string>& columns = MetricsCsvColumns();
  std::vector<std::string> cells = {absl::StrCat(step), absl::StrCat(epoch + 1),
                                    std::string(phase)};
  for (size_t c = cells.size(); c < columns.size(); ++c) {
    const auto it = values.find(columns[c]);
    cells.push_back(it == values.end() || std::isnan(it->second)
                        ? std::string()
                        : Num(it->second, 9));
  }
  return absl::StrJoin(cells, ",");
}

// A number of summary.json, as written there: to 9 significant digits.
google::protobuf::Value SummaryNumber(double v) {
  double rounded = v;
  if (std::isfinite(v)) CHECK(absl::SimpleAtod(Num(v, 9), &rounded)) << v;
  return JsonNumber(rounded);
}

class Trainer {
 public:
  Trainer(ExperimentSpec spec, RunOptions options)
      : spec_(std::move(spec)), options_(std::move(options)) {}

  absl::StatusOr<RunResult> Run();

 private:
  absl::Status Setup();
  absl::Status TryResume();
  // One optimizer step on `batch` (step index `step`); adds the loss parts to
  // the interval sums.
  absl::Status TrainStep(const Batch& batch, int64_t step);
  // The end of a divergence message: what the run directory keeps and what
  // to change.
  std::string DivergenceAdvice() const;
  // sampler.Next(), its seconds added to the data wait.
  absl::StatusOr<Batch> NextBatch(BatchSampler& sampler);
  absl::Status EndEpoch(int epoch);
  absl::Status SaveLatest();
  absl::Status SaveBest();
  absl::Status WriteMetricsRow(const std::string& row);
  absl::Status FlushInterval(int epoch);
  void Progress(int epoch, int64_t step, bool force);
  double LrAt(int64_t step) const;
  // On several ranks: prints the time per step spent in the shards'
  // allgather (rank 0, unless quiet).
  void ReportComm() const;
  absl::Status Finish(RunResult* result);
  Checkpoint MakeCheckpoint(bool with_optimizer) const;
  // The checkpoint at `path` as rank 0 reads it, on every rank (or rank 0's
  // error); `missing` is the error when there is no file.
  absl::StatusOr<Checkpoint> LoadOnRoot(const std::string& path,
                                        absl::Status missing);

  ExperimentSpec spec_;
  RunOptions options_;
  std::string dir_;
  RunDirLock dir_lock_;  // held from Setup to the end of the run
  std::unique_ptr<Dataset> dataset_;
  // The training data of each train.curriculum stage, in order.
  std::vector<std::unique_ptr<Dataset>> stage_data_;
  std::unique_ptr<Task> task_;
  std::unique_ptr<SequenceModel> model_;
  std::unique_ptr<Optimizer<float>> optimizer_;
  std::unique_ptr<LrSchedule> schedule_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<Evaluator> evaluator_;
  // The processes of the run; rank 0 (root_) alone writes the run directory
  // and prints progress.
  MpiGroup* group_ = nullptr;
  bool root_ = true;
  ShardLayout layout_;
  std::vector<Tape<float>> tapes_;       // [threads used by this rank]
  std::vector<GradBlock<float>> grads_;  // [shards]
  double comm_seconds_ = 0;              // in ReduceShards' MPI calls
  int64_t total_steps_ = 0;
  int64_t step_ = 0;
  TrainerState state_;
  // Sums over the current logging interval, and its step count.
  TrainMetrics interval_;
  int64_t interval_steps_ = 0;
  Clock::time_point interval_start_;
  Clock::time_point run_start_;
  Clock::time_point last_print_;
  double train_seconds_before_ = 0;
  double data_wait_at_start_ = 0;  // data_wait_seconds_ when this run began
  // Seconds spent waiting for batches (in Next()): in total (before a resume
  // too) and in the current logging interval.
  double data_wait_seconds_ = 0;
  double interval_data_wait_ = 0;
  int64_t start_step_ = 0;
  double last_loss_ = 0;
  bool tty_ = false;
  bool live_line_ = false;
};

absl::Status Trainer::Setup() {
  RETURN_IF_ERROR(ValidateSpec(spec_));
  if (options_.resume && !options_.init_from.empty()) {
    return absl::InvalidArgumentError(
        "--init_from starts a run afresh from a checkpoint's weights and "
        "--resume continues the run in the output directory: give one of "
        "them");
  }
  group_ = options_.group != nullptr ? options_.group : &MpiGroup::Single();
  root_ = group_->is_root();
  if (!root_) options_.quiet = true;
  dir_ = !options_.output_dir.empty()
             ? options_.output_dir
             : ResolveUserPath(spec_.has_output_dir()
                                   ? spec_.output_dir()
                                   : absl::StrCat("runs/", spec_.name()));
  // "--output_dir=runs/x/" names runs/x: no "runs/x//metrics.csv" in messages.
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  if (root_) {
    if (absl::Status made = MakeDirectories(dir_ + "/checkpoints");
        !made.ok()) {
      return absl::Status(made.code(), absl::StrCat("output_dir '", dir_,
                                                    "': ", made.message()));
    }
    ASSIGN_OR_RETURN(dir_lock_, RunDirLock::Acquire(dir_));
    if (!options_.resume) {
      RETURN_IF_ERROR(PrepareFreshRunDir(dir_, options_.overwrite));
    }
  }
  group_->set_failure_hint(absl::StrCat(
      "The last checkpoint is in ", dir_,
      "/checkpoints: continue the run with the same command and --resume (on "
      "any number of ranks)."));
  tty_ = !options_.quiet && isatty(STDERR_FILENO);
  if (!options_.quiet) {
    std::fprintf(stderr, "elm: %s: building the %s data\n",
                 spec_.name().c_str(), DatasetKindName(spec_.data()).c_str());
  }
  const auto data_start = Clock::now();
  ASSIGN_OR_RETURN(dataset_, MakeDataset(spec_.data()));
  if (!options_.quiet) {
    std::fprintf(
        stderr, "elm: data ready in %.1f s\n",
        std::chrono::duration<double>(Clock::now() - data_start).count());
  }
  for (int i = 0; i < spec_.train().curriculum_size(); ++i) {
    ASSIGN_OR_RETURN(DatasetSpec data, CurriculumStageData(spec_, i));
    ASSIGN_OR_RETURN(std::unique_ptr<Dataset> stage, MakeDataset(data));
    const DatasetInfo& a = stage->info();
    const DatasetInfo& b = dataset_->info();
    if (a.input_dim != b.input_dim || a.num_classes != b.num_classes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "train.curriculum[", i, "]: the stage's data has input dimension ",
          a.input_dim, " and ", a.num_classes, " classes, the run's ",
          b.input_dim, " and ", b.num_classes, "; a stage must keep both"));
    }
    stage_data_.push_back(std::move(stage));
  }
  task_ = MakeTask(dataset_->info(), spec_);
  // Fail now, not after an epoch, on what evaluation would refuse.
  RETURN_IF_ERROR(task_->CheckEvaluation(*dataset_));
  const TrainSpec& t = spec_.train();
  ASSIGN_OR_RETURN(model_, MakeModel(spec_.model(), dataset_->info(),
                                     DeriveSeed(t.seed(), kModelSeed, 0)));
  OptimizerConfig oc;
  switch (t.optimizer()) {
    case TrainSpec::ADAM:
      oc.kind = OptimizerKind::kAdam;
      break;
    case TrainSpec::ADAMW:
      oc.kind = OptimizerKind::kAdamW;
      break;
    case TrainSpec::ADAMAX:
      oc.kind = OptimizerKind::kAdamax;
      break;
    case TrainSpec::SGD:
      oc.kind = OptimizerKind::kSgd;
      break;
  }
  oc.lr = t.lr();
  oc.beta1 = t.beta1();
  oc.beta2 = t.beta2();
  oc.eps = t.eps();
  oc.weight_decay = t.weight_decay();
  oc.momentum = t.momentum();
  ASSIGN_OR_RETURN(optimizer_, MakeOptimizer<float>(oc));
  total_steps_ = t.batches_per_epoch() * t.epochs();
  LrScheduleConfig sc;
  sc.kind = t.schedule() == TrainSpec::COSINE ? LrScheduleKind::kCosine
                                              : LrScheduleKind::kConstant;
  sc.base_lr = t.lr();
  sc.t_max = std::max<int64_t>(1, total_steps_);
  sc.eta_min = t.min_lr();
  sc.warmup_steps = t.warmup_steps();
  ASSIGN_OR_RETURN(LrSchedule schedule, LrSchedule::Create(sc));
  schedule_ = std::make_unique<LrSchedule>(schedule);
  layout_ = ShardLayout::Make(std::min(SpecShards(t), t.batch_size()), *group_);
  pool_ = std::make_unique<ThreadPool>(t.threads());
  tapes_ = std::vector<Tape<float>>(
      std::max(1, std::min(t.threads(), layout_.local())));
  grads_.assign(layout_.shards, GradBlock<float>(model_->params()));
  evaluator_ = std::make_unique<Evaluator>(*task_, *dataset_, model_.get(),
                                           pool_.get(), group_);
  state_.set_best_epoch(-1);
  return absl::OkStatus();
}

Checkpoint Trainer::MakeCheckpoint(bool with_optimizer) const {
  Checkpoint c;
  c.set_format_version(kCheckpointFormatVersion);
  if (model_->elm_config() != nullptr) {
    *c.mutable_model_config() = *model_->elm_config();
  }
  for (const NamedTensor& t : model_->StateDict()) {
    absl::StatusOr<CheckpointTensor> proto = TensorToProto(t);
    CHECK(proto.ok()) << proto.status();
    *c.add_tensors() = *std::move(proto);
  }
  if (with_optimizer) {
    *c.mutable_optimizer() = OptimizerStateToProto(
        *optimizer_, model_->params().num_trainable_elements());
  }
  c.set_step(step_);
  TrainerState state = state_;
  *state.mutable_spec() = spec_;
  state.set_step(step_);
  state.set_train_seconds(
      train_seconds_before_ +
      std::chrono::duration<double>(Clock::now() - run_start_).count());
  state.set_data_wait_seconds(data_wait_seconds_);
  state.clear_interval_sums();
  for (double v : interval_.ToSums()) state.add_interval_sums(v);
  state.set_interval_steps(interval_steps_);
  c.mutable_extra()->PackFrom(state);
  return c;
}

absl::Status Trainer::SaveLatest() {
  if (!root_) return absl::OkStatus();
  return SaveCheckpoint(dir_ + "/checkpoints/latest.ckpt",
                        MakeCheckpoint(/*with_optimizer=*/true));
}

absl::Status Trainer::SaveBest() {
  if (!root_) return absl::OkStatus();
  return SaveCheckpoint(dir_ + "/best.ckpt",
                        MakeCheckpoint(/*with_optimizer=*/false));
}

absl::StatusOr<Checkpoint> Trainer::LoadOnRoot(const std::string& path,
                                               absl::Status missing) {
  // Rank 0's outcome as bytes: "1" + the checkpoint, or "0" + code + ":" +
  // message.
  std::string bytes;
  if (root_) {
    absl::StatusOr<Checkpoint> c =
        FileExists(path) ? LoadCheckpoint(path) : missing;
    bytes = c.ok() ? absl::StrCat("1", c->SerializeAsString())
                   : absl::StrCat("0", static_cast<int>(c.status().code()), ":",
                                  c.status().message());
    if (!group_->uses_mpi()) return c;
  }
  group_->BroadcastBytes(&bytes);
  CHECK(!bytes.empty());
  if (bytes[0] == '0') {
    const size_t colon = bytes.find(':');
    int code = static_cast<int>(absl::StatusCode::kInternal);
    CHECK(absl::SimpleAtoi(bytes.substr(1, colon - 1), &code));
    return absl::Status(static_cast<absl::StatusCode>(code),
                        bytes.substr(colon + 1));
  }
  Checkpoint c;
  if (!c.ParseFromArray(bytes.data() + 1, static_cast<int>(bytes.size() - 1))) {
    return absl::DataLossError(
        absl::StrCat(path, ": rank 0's checkpoint did not parse"));
  }
  return c;
}

absl::Status Trainer::TryResume() {
  const std::string path = dir_ + "/checkpoints/latest.ckpt";
  if (!options_.resume) {
    if (!options_.init_from.empty()) {
      const std::string& from = options_.init_from;
      ASSIGN_OR_RETURN(
          Checkpoint c,
          LoadOnRoot(from, absl::NotFoundError(absl::StrCat(
                               "--init_from: no checkpoint at '", from, "'"))));
      std::vector<NamedTensor> tensors;
      for (const CheckpointTensor& t : c.tensors()) {
        ASSIGN_OR_RETURN(NamedTensor named, TensorFromProto(t, from));
        tensors.push_back(std::move(named));
      }
      if (absl::Status loaded = model_->LoadStateDict(tensors, from);
          !loaded.ok()) {
        return absl::Status(loaded.code(),
                            absl::StrCat("--init_from: ", loaded.message()));
      }
      if (!options_.quiet) {
        std::fprintf(stderr, "elm: model weights from %s (step %lld)\n",
                     from.c_str(), static_cast<long long>(c.step()));
      }
    }
    // Setup made sure no earlier run is left here (PrepareFreshRunDir).
    if (!root_) return absl::OkStatus();
    return WriteFileAtomically(dir_ + "/metrics.csv", MetricsHeader());
  }
  ASSIGN_OR_RETURN(
      Checkpoint c,
      LoadOnRoot(path, absl::NotFoundError(absl::StrCat(
                           "--resume: no checkpoint at '", path,
                           "'; run without --resume to start, or point "
                           "--output_dir at the run"))));
  TrainerState state;
  if (!c.has_extra() || !c.extra().UnpackTo(&state)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": not a checkpoint of an experiment run (no trainer state)"));
  }
  {
    google::protobuf::util::MessageDifferencer differ;
    std::string report;
    differ.ReportDifferencesToString(&report);
    ExperimentSpec saved = state.spec();
    ExperimentSpec now = spec_;
    // What the result does not depend on: where it is written, and how its
    // shards are spread over threads (and ranks).
    for (ExperimentSpec* s : {&saved, &now}) {
      s->clear_output_dir();
      s->mutable_train()->set_shards(SpecShards(s->train()));
      s->mutable_train()->clear_threads();
    }
    if (!differ.Compare(saved, now)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--resume: the spec differs from the one of the run in '", dir_,
          "' (run -> now): ", report,
          "resume with the same spec, or start a new run elsewhere"));
    }
  }
  std::vector<NamedTensor> tensors;
  for (const CheckpointTensor& t : c.tensors()) {
    ASSIGN_OR_RETURN(NamedTensor named, TensorFromProto(t, path));
    tensors.push_back(std::move(named));
  }
  RETURN_IF_ERROR(model_->LoadStateDict(tensors, path));
  RETURN_IF_ERROR(RestoreOptimizerState(
      c.optimizer(), model_->params().num_trainable_elements(),
      optimizer_.get(), path));
  step_ = c.step();
  state_ = state;
  state_.clear_spec();
  train_seconds_before_ = state.train_seconds();
  data_wait_seconds_ = state.data_wait_seconds();
  interval_ = TrainMetrics::FromSums(state.interval_sums());
  interval_steps_ = state.interval_steps();
  for (int64_t i = 0; i < step_; ++i) schedule_->Step();
  if (!root_) return absl::OkStatus();
  // Keep the metrics rows up to the checkpoint.
  absl::StatusOr<std::string> csv =
      ReadFileToString(dir_ + "/metrics.csv", "metrics file");
  if (!csv.ok() && !absl::IsNotFound(csv.status())) return csv.status();
  std::string kept = MetricsHeader();
  const int64_t epochs_done = step_ / spec_.train().batches_per_epoch();
  bool header = true;
  for (absl::string_view line : absl::StrSplit(csv.ok() ? *csv : std::string(),
                                               '\n', absl::SkipEmpty())) {
    if (header) {
      header = false;
      continue;
    }
    const std::vector<std::string> cols = absl::StrSplit(line, ',');
    if (cols.size() < 3) continue;
    int64_t row_step = 0, row_epoch = 0;
    if (!absl::SimpleAtoi(cols[0], &row_step) ||
        !absl::SimpleAtoi(cols[1], &row_epoch)) {
      continue;
    }
    const bool keep =
        cols[2] == "valid" ? row_epoch <= epochs_done : row_step <= step_;
    if (keep) absl::StrAppend(&kept, line, "\n");
  }
  RETURN_IF_ERROR(WriteFileAtomically(dir_ + "/metrics.csv", kept));
  if (!options_.quiet) {
    std::fprintf(stderr, "elm: resuming %s at step %lld of %lld\n",
                 dir_.c_str(), static_cast<long long>(step_),
                 static_cast<long long>(total_steps_));
  }
  return absl::OkStatus();
}

absl::Status Trainer::WriteMetricsRow(const std::string& row) {
  if (!root_) return absl::OkStatus();
  return AppendToFile(dir_ + "/metrics.csv", absl::StrCat(row, "\n"),
                      "metrics file");
}

absl::Status Trainer::FlushInterval(int epoch) {
  if (interval_steps_ == 0) return absl::OkStatus();
  const double n = static_cast<double>(interval_steps_);
  const double secs =
      std::chrono::duration<double>(Clock::now() - interval_start_).count();
  std::map<std::string, double> values =
      task_->IntervalColumns(interval_, interval_steps_);
  values["lr"] = optimizer_->lr();
  values["steps_per_s"] = secs > 0 ? n / secs : std::nan("");
  values["data_wait_s"] = interval_data_wait_;
  interval_data_wait_ = 0;
  const std::string row = MetricsRow(step_, epoch, "train", values);
  interval_ = TrainMetrics();
  interval_steps_ = 0;
  interval_start_ = Clock::now();
  return WriteMetricsRow(row);
}

std::string Trainer::DivergenceAdvice() const {
  const std::string latest = dir_ + "/checkpoints/latest.ckpt";
  return absl::StrCat(
      FileExists(latest)
          ? absl::StrCat("(the last good checkpoint is kept: ", latest, ")")
          : std::string("(no checkpoint was written before it)"),
      ". Lower train.lr or set train.clip_grad_norm");
}

absl::StatusOr<Batch> Trainer::NextBatch(BatchSampler& sampler) {
  const auto start = Clock::now();
  absl::StatusOr<Batch> batch = sampler.Next();
  const double secs =
      std::chrono::duration<double>(Clock::now() - start).count();
  data_wait_seconds_ += secs;
  interval_data_wait_ += secs;
  return batch;
}

absl::Status Trainer::TrainStep(const Batch& batch, int64_t step) {
  const TrainSpec& t = spec_.train();
  const int64_t B = batch.batch, T = batch.steps;
  // Input dropout: drop each nonzero with probability p (zeros stay zero).
  // One draw per nonzero in row order over the whole batch: a batch holding
  // only this rank's sequences skips the draws of the nonzeros before them,
  // so every layout drops the same nonzeros.
  Batch dropped;
  const Batch* in = &batch;
  if (t.input_dropout() > 0) {
    Rng rng(DeriveSeed(t.seed(), kDropoutSeed, static_cast<uint64_t>(step)));
    for (int64_t k = 0; k < batch.nonzeros_before; ++k) rng.Next();
    dropped.batch = B;
    dropped.steps = T;
    dropped.held_begin = batch.held_begin;
    dropped.held_end = batch.held_end;
    dropped.inputs.rows = B * T;
    dropped.inputs.cols = batch.input_dim();
    dropped.inputs.row_begin.assign(1, 0);
    for (int64_t r = 0; r < B * T; ++r) {
      for (int64_t k = batch.inputs.row_begin[r];
           k < batch.inputs.row_begin[r + 1]; ++k) {
        if (rng.Uniform() >= t.input_dropout()) {
          dropped.inputs.col.push_back(batch.inputs.col[k]);
          dropped.inputs.value.push_back(batch.inputs.value[k]);
        }
      }
      dropped.inputs.row_begin.push_back(
          static_cast<int64_t>(dropped.inputs.col.size()));
    }
    in = &dropped;
  }
  CHECK_EQ(B, t.batch_size());
  const int shards = layout_.shards;
  std::vector<TrainMetrics> parts(shards);
  auto run_shard = [&](int s, Tape<float>& tape) {
    const int64_t b0 = layout_.Begin(B, s), b1 = layout_.End(B, s);
    CHECK(b0 >= batch.held_begin && b1 <= batch.HeldEnd())
        << "shard " << s << " is not held by the batch";
    tape.Reset();
    const CsrView x = in->inputs.view().Rows(b0 * T, (b1 - b0) * T);
    Var<float> y = model_->Forward(tape, x, T, &grads_[s]);
    Var<float> loss = task_->Loss(tape, y, batch, b0, b1, &parts[s]);
    // The batch loss is the mean over the whole batch: weight each shard's
    // mean by its share.
    Var<float> weighted = Scale<float>(
        tape, loss, static_cast<float>(static_cast<double>(b1 - b0) / B));
    tape.Backward(weighted);
  };
  // This rank's shards, as many at a time as it has threads.
  const int width = static_cast<int>(tapes_.size());
  for (int first = layout_.first; first < layout_.end; first += width) {
    pool_->Run(std::min(width, layout_.end - first),
               [&](int i) { run_shard(first + i, tapes_[i]); });
  }
  double comm_seconds = 0;
  const TrainMetrics metrics = ReduceShards(
      *group_, layout_, B, model_->params().num_trainable_elements(), &grads_,
      &parts, &comm_seconds);
  comm_seconds_ += comm_seconds;
  const double loss = metrics.loss;
  if (!std::isfinite(loss)) {
    return absl::DataLossError(absl::StrCat("step ", step + 1,
                                            ": the training loss is ", loss,
                                            "; stopping ", DivergenceAdvice()));
  }
  const double norm2 = grads_[0].SquaredNorm();
  if (!std::isfinite(norm2)) {
    std::string name = "?";
    for (const ParamInfo& info : model_->params().infos()) {
      const float* g = grads_[0].data() + info.offset;
      if (!std::all_of(g, g + info.size(),
                       [](float v) { return std::isfinite(v); })) {
        name = info.name;
        break;
      }
    }
    return absl::DataLossError(
        absl::StrCat("step ", step + 1, ": the gradient of '", name,
                     "' is not finite; stopping ", DivergenceAdvice()));
  }
  if (t.clip_grad_norm() > 0) ClipGradNorm(grads_[0], t.clip_grad_norm());
  optimizer_->set_lr(schedule_->lr());
  optimizer_->Step(model_->params().data(), grads_[0].data(),
                   model_->params().num_trainable_elements());
  schedule_->Step();
  for (GradBlock<float>& g : grads_) g.Zero();
  interval_ += metrics;
  ++interval_steps_;
  return absl::OkStatus();
}

void Trainer::Progress(int epoch, int64_t step, bool force) {
  if (options_.quiet) return;
  const auto now = Clock::now();
  const double since_print =
      std::chrono::duration<double>(now - last_print_).count();
  if (!force && !tty_ && since_print < 10.0) return;
  last_print_ = now;
  const double elapsed =
      std::chrono::duration<double>(now - run_start_).count();
  const int64_t done = step - start_step_;
  const double rate = elapsed > 0 ? done / elapsed : 0;
  const double eta = rate > 0 ? (total_steps_ - step) / rate : NAN;
  const double loss =
      interval_steps_ > 0 ? interval_.loss / interval_steps_ : last_loss_;
  if (interval_steps_ > 0) last_loss_ = loss;
  std::string line = absl::StrFormat(
      "epoch %d/%d  step %lld/%lld  loss %.4f  %.1f steps/s  ETA %s", epoch + 1,
      spec_.train().epochs(), static_cast<long long>(step),
      static_cast<long long>(total_steps_), loss, rate,
      FormatDuration(eta).c_str());
  // The data wait, once it is a noticeable share of the time.
  const double waited = data_wait_seconds_ - data_wait_at_start_;
  if (elapsed > 0 && waited >= kShownDataWait * elapsed) {
    absl::StrAppendFormat(&line, "  waiting for data %.1f s (%.0f%%)", waited,
                          100 * waited / elapsed);
  }
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    live_line_ = true;
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

void Trainer::ReportComm() const {
  if (options_.quiet || group_->size() < 2 || step_ == start_step_) return;
  std::fprintf(stderr,
               "elm: gradient allgather over %d ranks: %.3f ms per step "
               "(rank 0's wait included)\n",
               group_->size(), 1e3 * comm_seconds_ / (step_ - start_step_));
}

absl::Status Trainer::EndEpoch(int epoch) {
  RETURN_IF_ERROR(FlushInterval(epoch));
  if (live_line_) {
    std::fprintf(stderr, "\n");
    live_line_ = false;
  }
  ASSIGN_OR_RETURN(EvalOutcome valid, evaluator_->Evaluate(Split::kValid));
  std::map<std::string, double> values = {{"lr", optimizer_->lr()}};
  for (const auto& [name, value] : valid.metrics) {
    values[absl::StrCat("valid_", name)] = value;
  }
  RETURN_IF_ERROR(WriteMetricsRow(MetricsRow(step_, epoch, "valid", values)));
  const bool better =
      state_.best_epoch() < 0 || valid.selection < state_.best_metric();
  if (better) {
    state_.set_best_epoch(epoch);
    state_.set_best_metric(valid.selection);
    RETURN_IF_ERROR(SaveBest());
  }
  if (!options_.quiet) {
    std::fprintf(stderr, "elm: epoch %d/%d  valid %s%s\n", epoch + 1,
                 spec_.train().epochs(), valid.summary.c_str(),
                 better ? "  (best so far: kept)" : "");
  }
  return absl::OkStatus();
}

absl::StatusOr<RunResult> Trainer::Run() {
  RETURN_IF_ERROR(Setup());
  RETURN_IF_ERROR(TryResume());
  if (root_) {
    RETURN_IF_ERROR(
        WriteFileAtomically(dir_ + "/spec.textproto", SpecToText(spec_)));
  }
  start_step_ = step_;
  data_wait_at_start_ = data_wait_seconds_;
  const TrainSpec& t = spec_.train();
  const int64_t per_epoch = t.batches_per_epoch();
  const int64_t checkpoint_every =
      t.checkpoint_every_steps() > 0 ? t.checkpoint_every_steps() : per_epoch;
  if (!options_.quiet) {
    std::fprintf(
        stderr,
        "elm: %s: %s model, %lld trainable parameters; %lld steps "
        "(%d epochs x %lld batches of %d) in %d shards on %d rank(s) x %d "
        "threads -> %s\n",
        spec_.name().c_str(), ModelKindName(spec_.model()).c_str(),
        static_cast<long long>(model_->params().num_trainable_elements()),
        static_cast<long long>(total_steps_), t.epochs(),
        static_cast<long long>(per_epoch), t.batch_size(), layout_.shards,
        group_->size(), t.threads(), dir_.c_str());
    if (group_->size() > 1) {
      std::fprintf(stderr,
                   "elm: rank 0 writes the run directory; if a rank stops, "
                   "mpirun ends the job: continue it with --resume from the "
                   "last checkpoint (any number of ranks)\n");
    }
  }
  run_start_ = Clock::now();
  interval_start_ = run_start_;
  last_print_ = run_start_;
  RunResult result;
  result.output_dir = dir_;
  result.num_parameters = model_->params().num_trainable_elements();
  while (step_ < total_steps_) {
    const int epoch = static_cast<int>(step_ / per_epoch);
    const int stage = CurriculumStageOfEpoch(t, epoch);
    const Dataset& train_data = stage < 0 ? *dataset_ : *stage_data_[stage];
    if (!options_.quiet &&
        stage != (epoch > 0 ? CurriculumStageOfEpoch(t, epoch - 1) : -1)) {
      std::fprintf(stderr, "elm: epoch %d: training on %s\n", epoch + 1,
                   stage < 0
                       ? "the run's data (curriculum done)"
                       : absl::StrCat("curriculum stage ", stage + 1).c_str());
    }
    ASSIGN_OR_RETURN(
        std::unique_ptr<BatchSampler> sampler,
        train_data.MakeSampler(Split::kTrain, t.batch_size(),
                               DeriveSeed(t.seed(), kEpochSeed, epoch)));
    // Only this rank's shards' sequences are copied into its batches.
    sampler->HoldOnly(layout_.Begin(t.batch_size(), layout_.first),
                      layout_.Begin(t.batch_size(), layout_.end));
    // On resume mid-epoch, skip the batches already trained on.
    for (int64_t i = epoch * per_epoch; i < step_; ++i) {
      RETURN_IF_ERROR(NextBatch(*sampler).status());
    }
    while (step_ < (epoch + 1) * per_epoch) {
      ASSIGN_OR_RETURN(Batch batch, NextBatch(*sampler));
      RETURN_IF_ERROR(TrainStep(batch, step_));
      ++step_;
      const bool epoch_end = step_ % per_epoch == 0;
      if (step_ % t.log_every_steps() == 0 && !epoch_end) {
        Progress(epoch, step_, /*force=*/false);
        RETURN_IF_ERROR(FlushInterval(epoch));
      }
      if (epoch_end) {
        Progress(epoch, step_, /*force=*/true);
        RETURN_IF_ERROR(EndEpoch(epoch));
      }
      const bool stop = step_ == options_.stop_after_steps;
      if (step_ % checkpoint_every == 0 || epoch_end || stop) {
        RETURN_IF_ERROR(SaveLatest());
      }
      if (stop) {
        ReportComm();
        result.steps = step_;
        result.train_seconds =
            train_seconds_before_ +
            std::chrono::duration<double>(Clock::now() - run_start_).count();
        result.data_wait_seconds = data_wait_seconds_;
        return result;
      }
    }
  }
  ReportComm();
  result.steps = step_;
  RETURN_IF_ERROR(Finish(&result));
  return result;
}

absl::Status Trainer::Finish(RunResult* result) {
  const double train_seconds =
      train_seconds_before_ +
      std::chrono::duration<double>(Clock::now() - run_start_).count();
  // Test the kept (best) weights.
  const std::string best = dir_ + "/best.ckpt";
  ASSIGN_OR_RETURN(Checkpoint c,
                   LoadOnRoot(best, absl::NotFoundError(absl::StrCat(
                                        "the best model's checkpoint '", best,
                                        "' is missing"))));
  std::vector<NamedTensor> tensors;
  for (const CheckpointTensor& t : c.tensors()) {
    ASSIGN_OR_RETURN(NamedTensor named, TensorFromProto(t, best));
    tensors.push_back(std::move(named));
  }
  RETURN_IF_ERROR(model_->LoadStateDict(tensors, best));
  if (!options_.quiet) {
    std::fprintf(stderr, "elm: testing the best model (epoch %d)\n",
                 state_.best_epoch() + 1);
  }
  ASSIGN_OR_RETURN(EvalOutcome test, evaluator_->Evaluate(Split::kTest));
  result->finished = true;
  result->train_seconds = train_seconds;
  result->data_wait_seconds = data_wait_seconds_;
  result->test_metrics = test.metrics;
  result->best_epoch = state_.best_epoch() + 1;
  result->best_metric = state_.best_metric();
  if (!root_) return absl::OkStatus();
  const double steps_per_s =
      train_seconds > 0
          ? (step_ - start_step_) /
                std::chrono::duration<double>(Clock::now() - run_start_).count()
          : 0;
  // summary.json
  google::protobuf::Struct summary;
  auto& fields = *summary.mutable_fields();
  fields["name"] = JsonString(spec_.name());
  fields["model"] = JsonString(ModelKindName(spec_.model()));
  fields["data"] = JsonString(DatasetKindName(spec_.data()));
  fields["num_parameters"] =
      JsonNumber(static_cast<double>(result->num_parameters));
  fields["steps"] = JsonNumber(static_cast<double>(step_));
  fields["threads"] = JsonNumber(static_cast<double>(tapes_.size()));
  fields["ranks"] = JsonNumber(static_cast<double>(group_->size()));
  fields["shards"] = JsonNumber(static_cast<double>(layout_.shards));
  // Time per step in the gradient and metrics allgather (0 on one rank).
  fields["allgather_ms_per_step"] = SummaryNumber(
      step_ > start_step_ ? 1e3 * comm_seconds_ / (step_ - start_step_) : 0);
  fields["train_seconds"] = SummaryNumber(train_seconds);
  fields["steps_per_s"] = SummaryNumber(steps_per_s);
  fields["data_wait_seconds"] = SummaryNumber(data_wait_seconds_);
  // Numbered from 1, as in the log and metrics.csv (0: none).
  fields["best_epoch"] = JsonNumber(state_.best_epoch() + 1);
  google::protobuf::Struct* test_fields = fields["test"].mutable_struct_value();
  for (const auto& [name, value] : test.metrics) {
    (*test_fields->mutable_fields())[name] = SummaryNumber(value);
  }
  ASSIGN_OR_RETURN(const std::string json, JsonText(summary));
  RETURN_IF_ERROR(WriteFileAtomically(dir_ + "/summary.json", json));
  RunReportInput report;
  report.spec = &spec_;
  report.task = task_.get();
  report.output_dir = dir_;
  report.num_parameters = result->num_parameters;
  report.train_seconds = train_seconds;
  report.steps = step_;
  report.test = &test;
  RETURN_IF_ERROR(WriteRunReport(report));
  if (!options_.quiet) {
    std::fprintf(stderr, "elm: test %s\nelm: report: %s/report.html\n",
                 test.summary.c_str(), dir_.c_str());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RunResult> RunExperiment(const ExperimentSpec& spec,
                                        const RunOptions& options) {
  Trainer trainer(spec, options);
  return trainer.Run();
}

}  // namespace elm
