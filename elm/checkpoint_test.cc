// Tests of elm/checkpoint.h: a model trained with each optimizer, saved,
// loaded and restored into fresh objects continues bit for bit (losses and
// parameters), also when saved before the first step; double models are kept
// exactly; the atomic write leaves no temporary file and replaces an old
// checkpoint; garbage, empty, every truncation, a flipped bit, a missing file,
// an unknown format version, a wrong tensor shape or value count, a config that
// does not fit the tensors and mismatched optimizer state are all Status
// errors naming the path (and the tensor); writing into a missing directory
// fails clearly; tensor conversion round trips every dtype.
#include "elm/checkpoint.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "autodiff/ops.h"
#include "autodiff/optimizer.h"
#include "autodiff/params.h"
#include "autodiff/tape.h"
#include "base/test_files.h"
#include "elm/model.h"
#include "glog/logging.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// v1 with NeuronIO routing (so i64 and bool tensors are stored too), a
// learnable τ_m, one hidden layer.
ElmConfig TinyConfig() {
  ElmConfig c;
  c.set_num_input(5);
  c.set_num_output(2);
  c.set_num_memory(4);
  c.set_mlp_hidden_size(6);
  c.set_memory_tau_max(50);
  c.set_learn_memory_tau(true);
  c.set_num_branch(2);
  c.set_num_synapse_per_branch(4);
  c.set_input_to_synapse_routing("neuronio_routing");
  return c;
}

template <typename T>
ElmModel<T> TinyModel(uint64_t seed) {
  absl::StatusOr<ElmModel<T>> m = ElmModel<T>::Create(TinyConfig(), seed);
  CHECK(m.ok()) << m.status();
  // In float the reference init makes the last τ_m proto +inf, which weight
  // decay turns into NaN; keep everything finite so that bit-identical
  // losses mean something.
  View<T> tau = m->params().value(m->ids().proto_tau_m);
  for (int64_t i = 0; i < tau.size(); ++i) {
    if (!std::isfinite(tau[i])) tau[i] = T(8);
  }
  return *std::move(m);
}

// One training step on a deterministic batch that depends on `step`; returns
// the loss before the update.
template <typename T>
T TrainStep(ElmModel<T>& model, Optimizer<T>& optimizer, int step) {
  const int batch = 2, steps = 6;
  const int n_in = model.shape().num_input, n_out = model.shape().num_output;
  std::vector<T> x(batch * steps * n_in), y(batch * steps * n_out);
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = std::sin(1.7 * step + 0.9 * i) > 0.3 ? T(1) : T(0);
  }
  for (size_t i = 0; i < y.size(); ++i) {
    y[i] = static_cast<T>(std::cos(0.4 * step + 1.1 * i));
  }
  Tape<T> tape;
  GradBlock<T> grads(model.params());
  Var<T> xv = tape.Constant(x.data(), batch * steps, n_in);
  Var<T> out = model.Unroll(tape, xv, steps, &grads).y;
  Var<T> loss = Mse(tape, out, tape.Constant(y.data(), batch * steps, n_out));
  tape.Backward(loss);
  optimizer.Step(model.params().data(), grads.data(),
                 model.params().num_trainable_elements());
  return loss.scalar();
}

template <typename T>
std::vector<T> Params(const ElmModel<T>& model) {
  const T* p = model.params().data();
  return std::vector<T>(p, p + model.params().num_elements());
}

template <typename T>
bool BitEqual(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

template <typename T>
std::unique_ptr<Optimizer<T>> MakeOpt(const OptimizerConfig& config) {
  absl::StatusOr<std::unique_ptr<Optimizer<T>>> opt = MakeOptimizer<T>(config);
  CHECK(opt.ok()) << opt.status();
  return *std::move(opt);
}

OptimizerConfig AdamConfig() {
  OptimizerConfig c;
  c.kind = OptimizerKind::kAdam;
  c.lr = 0.02;
  c.weight_decay = 0.01;
  return c;
}

// ---------------------------------------------------------------------------
// Round trips

struct RoundTripCase {
  std::string name;
  OptimizerKind kind;
  int steps_before;
};

void PrintTo(const RoundTripCase& c, std::ostream* os) { *os << c.name; }

class CheckpointRoundTripTest : public ::testing::TestWithParam<RoundTripCase> {
};

TEST_P(CheckpointRoundTripTest, RestoredTrainingContinuesBitIdentically) {
  const RoundTripCase& tc = GetParam();
  OptimizerConfig config;
  config.kind = tc.kind;
  config.lr = tc.kind == OptimizerKind::kSgd ? 0.05 : 0.02;
  config.weight_decay = 0.01;
  config.momentum = 0.9;  // SGD only
  config.dampening = 0.2;
  const std::string path = absl::StrCat(
      MakeTestDir(absl::StrCat("round_trip_", tc.name)), "/ckpt.pb");

  ElmModel<float> a = TinyModel<float>(1);
  std::unique_ptr<Optimizer<float>> opt_a = MakeOpt<float>(config);
  for (int s = 0; s < tc.steps_before; ++s) TrainStep(a, *opt_a, s);
  const Checkpoint saved = MakeModelCheckpoint(a, opt_a.get(), tc.steps_before);
  ASSERT_TRUE(SaveCheckpoint(path, saved).ok());

  absl::StatusOr<Checkpoint> loaded = LoadCheckpoint(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(*loaded, saved));
  EXPECT_EQ(loaded->step(), tc.steps_before);
  EXPECT_EQ(loaded->optimizer().kind(), OptimizerKindName(tc.kind));
  EXPECT_EQ(loaded->optimizer().step_count(), tc.steps_before);

  // Fresh objects: a model with other weights and an optimizer that has
  // already stepped elsewhere.
  ElmModel<float> b = TinyModel<float>(99);
  std::unique_ptr<Optimizer<float>> opt_b = MakeOpt<float>(config);
  TrainStep(b, *opt_b, 17);
  opt_b->set_lr(1.0);
  const absl::Status restored =
      RestoreModelCheckpoint(*loaded, &b, opt_b.get(), path);
  ASSERT_TRUE(restored.ok()) << restored;
  EXPECT_TRUE(BitEqual(Params(a), Params(b)));
  EXPECT_EQ(opt_b->step_count(), tc.steps_before);
  EXPECT_EQ(opt_b->lr(), opt_a->lr());

  // And a model built from the file alone, with a third optimizer.
  absl::StatusOr<ElmModel<float>> c = LoadModelFromCheckpoint<float>(path);
  ASSERT_TRUE(c.ok()) << c.status();
  std::unique_ptr<Optimizer<float>> opt_c = MakeOpt<float>(config);
  ASSERT_TRUE(RestoreModelCheckpoint(*loaded, &*c, opt_c.get(), path).ok());
  EXPECT_EQ(c->routing().index, a.routing().index);

  const std::vector<float> at_save = Params(a);
  for (int s = tc.steps_before; s < tc.steps_before + 4; ++s) {
    const float loss_a = TrainStep(a, *opt_a, s);
    const float loss_b = TrainStep(b, *opt_b, s);
    const float loss_c = TrainStep(*c, *opt_c, s);
    EXPECT_EQ(std::memcmp(&loss_a, &loss_b, sizeof(float)), 0)
        << "step " << s << ": " << loss_a << " vs " << loss_b;
    EXPECT_EQ(std::memcmp(&loss_a, &loss_c, sizeof(float)), 0) << "step " << s;
    ASSERT_TRUE(BitEqual(Params(a), Params(b))) << "step " << s;
    ASSERT_TRUE(BitEqual(Params(a), Params(*c))) << "step " << s;
    ASSERT_TRUE(std::isfinite(loss_a)) << "step " << s;
  }
  for (float v : Params(a)) ASSERT_TRUE(std::isfinite(v));
  EXPECT_FALSE(BitEqual(Params(a), at_save)) << "training changed nothing";
}

INSTANTIATE_TEST_SUITE_P(
    Optimizers, CheckpointRoundTripTest,
    ::testing::Values(
        RoundTripCase{"adam_3", OptimizerKind::kAdam, 3},
        RoundTripCase{"adam_before_any_step", OptimizerKind::kAdam, 0},
        RoundTripCase{"adamw_2", OptimizerKind::kAdamW, 2},
        RoundTripCase{"adamax_2", OptimizerKind::kAdamax, 2},
        RoundTripCase{"sgd_momentum_1", OptimizerKind::kSgd, 1},
        RoundTripCase{"sgd_momentum_3", OptimizerKind::kSgd, 3},
        RoundTripCase{"sgd_momentum_before_any_step", OptimizerKind::kSgd, 0}),
    [](const auto& info) { return info.param.name; });

TEST(CheckpointTest, DoubleModelIsKeptExactly) {
  const std::string path =
      absl::StrCat(MakeTestDir("double_model"), "/ckpt.pb");
  ElmModel<double> a = TinyModel<double>(5);
  double* p = a.params().data();
  for (int64_t i = 0; i < a.params().num_elements(); ++i) {
    p[i] += 1e-12 * (i + 1);  // not representable as float
  }
  std::unique_ptr<Optimizer<double>> opt = MakeOpt<double>(AdamConfig());
  TrainStep(a, *opt, 0);
  const Checkpoint ckpt = MakeModelCheckpoint(a, opt.get(), 1);
  for (const CheckpointTensor& t : ckpt.tensors()) {
    EXPECT_NE(t.dtype(), CheckpointTensor::F32) << t.name();
  }
  ASSERT_TRUE(SaveCheckpoint(path, ckpt).ok());
  absl::StatusOr<ElmModel<double>> b = LoadModelFromCheckpoint<double>(path);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(BitEqual(Params(a), Params(*b)));
  EXPECT_EQ(a.synapse_tau(), b->synapse_tau());
}

TEST(CheckpointTest, WeightsOnlyCheckpointAndExtraField) {
  const std::string path =
      absl::StrCat(MakeTestDir("weights_only"), "/ckpt.pb");
  ElmModel<float> a = TinyModel<float>(3);
  Checkpoint ckpt = MakeModelCheckpoint<float>(a, nullptr, 42);
  EXPECT_FALSE(ckpt.has_optimizer());
  ElmConfig note;
  note.set_num_input(1234);
  ckpt.mutable_extra()->PackFrom(note);
  ASSERT_TRUE(SaveCheckpoint(path, ckpt).ok());
  absl::StatusOr<Checkpoint> loaded = LoadCheckpoint(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->step(), 42);
  ElmConfig unpacked;
  ASSERT_TRUE(loaded->extra().UnpackTo(&unpacked));
  EXPECT_EQ(unpacked.num_input(), 1234);
  // A model restores from it; an optimizer cannot.
  ElmModel<float> b = TinyModel<float>(4);
  EXPECT_TRUE(RestoreModelCheckpoint<float>(*loaded, &b, nullptr, path).ok());
  EXPECT_TRUE(BitEqual(Params(a), Params(b)));
  std::unique_ptr<Optimizer<float>> opt = MakeOpt<float>(AdamConfig());
  const absl::Status st = RestoreModelCheckpoint(*loaded, &b, opt.get(), path);
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.message()), HasSubstr(path));
  EXPECT_THAT(std::string(st.message()), HasSubstr("no optimizer state"));
}

// ---------------------------------------------------------------------------
// Writing

std::vector<std::string> DirEntries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(SaveCheckpointTest, AtomicWriteLeavesNoTempFileAndOverwrites) {
  const std::string dir = MakeTestDir("atomic");
  const std::string path = absl::StrCat(dir, "/model.ckpt");
  // An older, larger file at the path is replaced whole.
  WriteTestFile(path, std::string(100000, 'x'));
  ElmModel<float> a = TinyModel<float>(1);
  ASSERT_TRUE(
      SaveCheckpoint(path, MakeModelCheckpoint<float>(a, nullptr, 1)).ok());
  EXPECT_EQ(DirEntries(dir), std::vector<std::string>{"model.ckpt"});
  ElmModel<float> b = TinyModel<float>(2);
  ASSERT_TRUE(
      SaveCheckpoint(path, MakeModelCheckpoint<float>(b, nullptr, 2)).ok());
  EXPECT_EQ(DirEntries(dir), std::vector<std::string>{"model.ckpt"});
  absl::StatusOr<Checkpoint> loaded = LoadCheckpoint(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->step(), 2);
  absl::StatusOr<ElmModel<float>> c = LoadModelFromCheckpoint<float>(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(BitEqual(Params(b), Params(*c)));
  EXPECT_LT(ReadTestFile(path).size(), 100000u);
}

TEST(SaveCheckpointTest, MissingDirectoryIsAClearError) {
  const std::string dir = MakeTestDir("missing_dir");
  const std::string path = absl::StrCat(dir, "/no/such/dir/ckpt.pb");
  ElmModel<float> a = TinyModel<float>(1);
  const absl::Status st =
      SaveCheckpoint(path, MakeModelCheckpoint<float>(a, nullptr, 0));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr(path));
  EXPECT_THAT(std::string(st.message()),
              HasSubstr(absl::StrCat("directory '", dir,
                                     "/no/such/dir' does not exist")));
  EXPECT_TRUE(DirEntries(dir).empty());
}

TEST(SaveCheckpointTest, TargetThatIsADirectoryFailsAndCleansUp) {
  const std::string dir = MakeTestDir("target_is_dir");
  const std::string path = absl::StrCat(dir, "/ckpt");
  std::filesystem::create_directories(path + "/inside");
  ElmModel<float> a = TinyModel<float>(1);
  const absl::Status st =
      SaveCheckpoint(path, MakeModelCheckpoint<float>(a, nullptr, 0));
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.message()), HasSubstr(path));
  EXPECT_EQ(DirEntries(dir), std::vector<std::string>{"ckpt"});  // no .tmp
}

TEST(SaveCheckpointTest, RejectsUnsetVersionAndTrailer) {
  const std::string path = absl::StrCat(MakeTestDir("bad_save"), "/ckpt.pb");
  Checkpoint c;
  absl::Status st = SaveCheckpoint(path, c);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr(path));
  EXPECT_THAT(std::string(st.message()), HasSubstr("format_version 0"));
  c.set_format_version(kCheckpointFormatVersion);
  c.mutable_trailer()->set_body_size(3);
  st = SaveCheckpoint(path, c);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("trailer"));
  EXPECT_FALSE(std::filesystem::exists(path));
}

// ---------------------------------------------------------------------------
// Reading bad files

void ExpectLoadError(const std::string& path, absl::StatusCode code,
                     absl::string_view part) {
  absl::StatusOr<Checkpoint> c = LoadCheckpoint(path);
  ASSERT_FALSE(c.ok()) << path;
  EXPECT_EQ(c.status().code(), code) << c.status();
  EXPECT_THAT(std::string(c.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr(std::string(part)));
  absl::StatusOr<ElmModel<float>> m = LoadModelFromCheckpoint<float>(path);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()), HasSubstr(path));
}

TEST(LoadCheckpointTest, MissingFile) {
  const std::string path =
      absl::StrCat(MakeTestDir("missing_file"), "/absent.ckpt");
  ExpectLoadError(path, absl::StatusCode::kNotFound, "cannot open checkpoint");
}

TEST(LoadCheckpointTest, GarbageAndEmptyFiles) {
  const std::string dir = MakeTestDir("garbage");
  std::string random_bytes;
  uint64_t x = 12345;
  for (int i = 0; i < 4096; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    random_bytes.push_back(static_cast<char>(x >> 56));
  }
  const std::vector<std::string> contents = {
      "", "this is not a checkpoint\n", std::string(64, '\xff'), random_bytes,
      std::string(1, '\x08') + std::string(1, '\x01')};  // format_version 1
  for (size_t i = 0; i < contents.size(); ++i) {
    const std::string path = absl::StrCat(dir, "/garbage", i);
    WriteTestFile(path, contents[i]);
    ExpectLoadError(path, absl::StatusCode::kDataLoss, "checkpoint");
  }
}

TEST(LoadCheckpointTest, EveryTruncationAndABitFlipAreDetected) {
  const std::string dir = MakeTestDir("truncated");
  const std::string good = absl::StrCat(dir, "/good.ckpt");
  ElmModel<float> a = TinyModel<float>(1);
  std::unique_ptr<Optimizer<float>> opt = MakeOpt<float>(AdamConfig());
  TrainStep(a, *opt, 0);
  ASSERT_TRUE(SaveCheckpoint(good, MakeModelCheckpoint(a, opt.get(), 1)).ok());
  const std::string bytes = ReadTestFile(good);
  ASSERT_GT(bytes.size(), 1000u);
  const std::string path = absl::StrCat(dir, "/cut.ckpt");
  for (size_t size = 0; size < bytes.size(); ++size) {
    WriteTestFile(path, bytes.substr(0, size));
    absl::StatusOr<Checkpoint> c = LoadCheckpoint(path);
    ASSERT_FALSE(c.ok()) << "truncated to " << size << " of " << bytes.size();
    EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss) << c.status();
    ASSERT_THAT(std::string(c.status().message()), HasSubstr(path));
  }
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x10;
  WriteTestFile(path, flipped);
  ExpectLoadError(path, absl::StatusCode::kDataLoss, "");
  std::string appended = bytes + std::string(1, '\x28') + '\x05';  // step = 5
  WriteTestFile(path, appended);
  ExpectLoadError(path, absl::StatusCode::kDataLoss, "appended");
  WriteTestFile(path, bytes);
  EXPECT_TRUE(LoadCheckpoint(path).ok());
}

TEST(LoadCheckpointTest, UnknownFormatVersion) {
  const std::string path = absl::StrCat(MakeTestDir("version"), "/v2.ckpt");
  Checkpoint c = MakeModelCheckpoint<float>(TinyModel<float>(1), nullptr, 0);
  c.set_format_version(2);
  std::string bytes;
  ASSERT_TRUE(c.SerializeToString(&bytes));
  WriteTestFile(path, bytes);
  ExpectLoadError(path, absl::StatusCode::kInvalidArgument,
                  "unknown checkpoint format version 2; this build reads "
                  "version 1");
}

// Saves `c` (which SaveCheckpoint accepts whatever its tensors hold).
std::string SaveTo(absl::string_view dir_name, const Checkpoint& c) {
  const std::string path = absl::StrCat(MakeTestDir(dir_name), "/ckpt.pb");
  const absl::Status st = SaveCheckpoint(path, c);
  CHECK(st.ok()) << st;
  return path;
}

CheckpointTensor* FindTensor(Checkpoint* c, absl::string_view name) {
  for (CheckpointTensor& t : *c->mutable_tensors()) {
    if (t.name() == name) return &t;
  }
  LOG(FATAL) << "no tensor " << name;
}

TEST(LoadCheckpointTest, WrongTensorShapeNamesTensorAndExpectedShape) {
  Checkpoint c = MakeModelCheckpoint<float>(TinyModel<float>(1), nullptr, 0);
  CheckpointTensor* w = FindTensor(&c, "mlp.network.0.weight");  // (6, 6)
  w->set_shape(1, 9);
  w->mutable_f32_values()->Resize(54, 0.5f);
  const std::string path = SaveTo("wrong_shape", c);
  ASSERT_TRUE(LoadCheckpoint(path).ok());  // a valid file ...
  absl::StatusOr<ElmModel<float>> m = LoadModelFromCheckpoint<float>(path);
  ASSERT_FALSE(m.ok());  // ... that does not fit its config
  EXPECT_THAT(std::string(m.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(m.status().message()),
              HasSubstr("'mlp.network.0.weight' has shape (6, 9); expected "
                        "(6, 6)"));
}

// A corrupt size in the stored config (an edit the checkpoint fuzzer makes
// all the time) built a model of up to 100 million parameters (400 MB) from a
// file of a few KB before its tensors were compared.
TEST(LoadCheckpointTest, ConfigLargerThanTheTensorsIsRefusedBeforeBuilding) {
  Checkpoint c = MakeModelCheckpoint<float>(TinyModel<float>(1), nullptr, 0);
  c.mutable_model_config()->set_num_memory(1 << 20);
  const std::string path = SaveTo("huge_config", c);
  ASSERT_TRUE(LoadCheckpoint(path).ok());
  absl::StatusOr<ElmModel<float>> m = LoadModelFromCheckpoint<float>(path);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()),
              AllOf(HasSubstr(path), HasSubstr("tensor values, fewer than the"),
                    HasSubstr("trainable parameters its model config needs")));
}

TEST(LoadCheckpointTest, ValueCountNotMatchingShapeNamesTheTensor) {
  Checkpoint c = MakeModelCheckpoint<float>(TinyModel<float>(1), nullptr, 0);
  FindTensor(&c, "w_y.weight")->mutable_f32_values()->RemoveLast();
  const std::string path = SaveTo("value_count", c);
  ExpectLoadError(path, absl::StatusCode::kInvalidArgument,
                  "tensor 'w_y.weight' has 7 values; its shape (2, 4) needs 8");
}

TEST(LoadCheckpointTest, ConfigNotMatchingTensors) {
  ElmModel<float> a = TinyModel<float>(1);
  Checkpoint c = MakeModelCheckpoint<float>(a, nullptr, 0);
  c.mutable_model_config()->set_num_memory(5);
  const std::string path = SaveTo("config_mismatch", c);
  absl::StatusOr<ElmModel<float>> m = LoadModelFromCheckpoint<float>(path);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(m.status().message()),
              HasSubstr("'_proto_tau_m' has shape (4,); expected (5,)"));

  // An invalid stored config.
  c.mutable_model_config()->set_num_input(0);
  const std::string bad = SaveTo("config_invalid", c);
  m = LoadModelFromCheckpoint<float>(bad);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()), HasSubstr(bad));
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("num_input"));

  // No stored config.
  c.clear_model_config();
  const std::string none = SaveTo("config_none", c);
  m = LoadModelFromCheckpoint<float>(none);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("no model_config"));
}

// ---------------------------------------------------------------------------
// Restore errors

TEST(RestoreModelCheckpointTest, ModelConfigMustMatchAndErrorsChangeNothing) {
  ElmModel<float> a = TinyModel<float>(1);
  const Checkpoint c = MakeModelCheckpoint<float>(a, nullptr, 0);
  ElmConfig other = TinyConfig();
  other.set_lambda_value(3.0);  // same shapes, different model
  absl::StatusOr<ElmModel<float>> b = ElmModel<float>::Create(other, 2);
  ASSERT_TRUE(b.ok());
  const std::vector<float> before = Params(*b);
  const absl::Status st =
      RestoreModelCheckpoint<float>(c, &*b, nullptr, "ckpt.pb");
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("ckpt.pb: the checkpoint's model_config differs"));
  EXPECT_THAT(std::string(st.message()), HasSubstr("lambda_value: 3 -> 5"));
  EXPECT_TRUE(BitEqual(before, Params(*b)));

  // A tensor that fails late (the last one) leaves the model untouched.
  Checkpoint bad = c;
  FindTensor(&bad, "w_y.bias")->set_shape(0, 3);
  FindTensor(&bad, "w_y.bias")->add_f32_values(1.0f);
  ElmModel<float> d = TinyModel<float>(2);
  const std::vector<float> d_before = Params(d);
  const absl::Status st2 =
      RestoreModelCheckpoint<float>(bad, &d, nullptr, "ckpt.pb");
  ASSERT_FALSE(st2.ok());
  EXPECT_THAT(std::string(st2.message()),
              HasSubstr("'w_y.bias' has shape (3,); expected (2,)"));
  EXPECT_TRUE(BitEqual(d_before, Params(d)));
}

TEST(RestoreModelCheckpointTest, OptimizerStateMustFit) {
  ElmModel<float> a = TinyModel<float>(1);
  std::unique_ptr<Optimizer<float>> adam = MakeOpt<float>(AdamConfig());
  TrainStep(a, *adam, 0);
  TrainStep(a, *adam, 1);
  const Checkpoint good = MakeModelCheckpoint(a, adam.get(), 2);
  const int64_t n = a.params().num_elements();

  // The restore target: an optimizer that has stepped once.
  ElmModel<float> b = TinyModel<float>(2);
  std::unique_ptr<Optimizer<float>> target = MakeOpt<float>(AdamConfig());
  TrainStep(b, *target, 5);
  const std::vector<float> b_before = Params(b);
  const std::vector<double> m_before = *target->State()[0].values;
  auto expect_error = [&](const Checkpoint& c, Optimizer<float>* opt,
                          const std::string& part) {
    const absl::Status st = RestoreModelCheckpoint(c, &b, opt, "ckpt.pb");
    ASSERT_FALSE(st.ok()) << part;
    EXPECT_THAT(std::string(st.message()), HasSubstr("ckpt.pb: "));
    EXPECT_THAT(std::string(st.message()), HasSubstr(part));
    EXPECT_TRUE(BitEqual(b_before, Params(b))) << part;
    EXPECT_EQ(target->step_count(), 1) << part;
    EXPECT_EQ(*target->State()[0].values, m_before) << part;
  };

  Checkpoint c = good;
  CheckpointTensor* m = c.mutable_optimizer()->mutable_state(0);
  m->set_shape(0, n - 1);
  m->mutable_f64_values()->RemoveLast();
  expect_error(
      c, target.get(),
      absl::StrCat(
          "optimizer state 'exp_avg' has shape (", n - 1, ",); expected (", n,
          ",): one value per trainable model parameter (the model has ", n,
          ")"));

  c = good;
  c.mutable_optimizer()->mutable_state()->RemoveLast();
  expect_error(c, target.get(), "missing optimizer state 'exp_avg_sq'");

  c = good;
  c.mutable_optimizer()->mutable_state(1)->set_name("exp_inf");
  expect_error(c, target.get(),
               "unexpected optimizer state 'exp_inf' for this adam optimizer "
               "(it keeps exp_avg, exp_avg_sq)");

  c = good;
  c.mutable_optimizer()->mutable_state(0)->set_dtype(CheckpointTensor::F32);
  c.mutable_optimizer()->mutable_state(0)->mutable_f64_values()->Clear();
  c.mutable_optimizer()->mutable_state(0)->mutable_f32_values()->Resize(n, 0);
  expect_error(c, target.get(), "'exp_avg' has dtype f32; expected f64");

  c = good;
  c.mutable_optimizer()->set_step_count(0);
  expect_error(c, target.get(),
               "expected (0,): empty, as the optimizer had not stepped");

  c = good;
  c.mutable_optimizer()->set_lr(-1);
  expect_error(c, target.get(), "optimizer lr = -1");

  OptimizerConfig adamw = AdamConfig();
  adamw.kind = OptimizerKind::kAdamW;
  std::unique_ptr<Optimizer<float>> wrong_kind = MakeOpt<float>(adamw);
  expect_error(good, wrong_kind.get(),
               "optimizer state is for 'adam'; the optimizer is 'adamw'");

  ASSERT_TRUE(RestoreModelCheckpoint(good, &b, target.get(), "ckpt.pb").ok());
  EXPECT_EQ(target->step_count(), 2);
}

// ---------------------------------------------------------------------------
// Tensor conversion

TEST(TensorConversionTest, EveryDtypeRoundTrips) {
  std::vector<NamedTensor> tensors(5);
  tensors[0] = {"a", "f32", {2, 3}, {0.5, -1.25, 3.0, 1e-3f, 7.0, -0.0}, {}};
  tensors[1] = {"b", "f64", {}, {0.1}, {}};  // scalar
  tensors[2] = {"c", "i64", {3}, {}, {-5, 0, 1LL << 40}};
  tensors[3] = {"d", "bool", {2, 2}, {}, {1, 0, 0, 1}};
  tensors[4] = {"e", "f32", {0, 4}, {}, {}};
  for (const NamedTensor& t : tensors) {
    absl::StatusOr<CheckpointTensor> p = TensorToProto(t);
    ASSERT_TRUE(p.ok()) << p.status();
    absl::StatusOr<NamedTensor> back = TensorFromProto(*p, "x");
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->name, t.name);
    EXPECT_EQ(back->dtype, t.dtype);
    EXPECT_EQ(back->shape, t.shape);
    EXPECT_TRUE(BitEqual(back->values, t.values)) << t.name;
    EXPECT_EQ(back->int_values, t.int_values);
  }
}

TEST(TensorConversionTest, ErrorsNameTheTensor) {
  auto to_error = [](NamedTensor t) {
    absl::StatusOr<CheckpointTensor> p = TensorToProto(t);
    EXPECT_FALSE(p.ok()) << t.name;
    return p.ok() ? std::string() : std::string(p.status().message());
  };
  EXPECT_EQ(to_error({"w", "f16", {1}, {1.0}, {}}),
            "tensor 'w' has unknown dtype 'f16'; expected f32, f64, i64 or "
            "bool");
  EXPECT_EQ(to_error({"w", "f32", {2, 2}, {1, 2, 3}, {}}),
            "tensor 'w' has 3 values; its shape (2, 2) needs 4");
  EXPECT_EQ(to_error({"w", "i64", {2}, {1.0}, {1, 2}}),
            "tensor 'w' has dtype i64 but also holds 1 floating-point values");
  EXPECT_THAT(to_error({"w", "f64", {2, -1}, {}, {}}),
              HasSubstr("tensor 'w' has a negative dim in its shape (2, -1)"));
  EXPECT_EQ(to_error({"m", "bool", {2}, {}, {1, 2}}),
            "tensor 'm' holds 2 at 1; a bool must be 0 or 1");
  EXPECT_THAT(to_error({"big", "f32", {1LL << 40, 1LL << 40}, {}, {}}),
              HasSubstr("tensor 'big' has a shape too large to hold"));

  auto from_error = [](const CheckpointTensor& p) {
    absl::StatusOr<NamedTensor> t = TensorFromProto(p, "ckpt.pb");
    EXPECT_FALSE(t.ok()) << p.name();
    return t.ok() ? std::string() : std::string(t.status().message());
  };
  CheckpointTensor p;
  p.set_name("w");
  p.add_shape(2);
  p.add_f32_values(1);
  p.add_f32_values(2);
  EXPECT_EQ(from_error(p),
            "ckpt.pb: tensor 'w' has no dtype; expected f32, f64, i64 or bool");
  p.set_dtype(CheckpointTensor::F64);
  EXPECT_EQ(from_error(p),
            "ckpt.pb: tensor 'w' has dtype f64 but holds 2 f32 values");
  p.clear_f32_values();
  p.add_f64_values(1);
  EXPECT_EQ(from_error(p),
            "ckpt.pb: tensor 'w' has 1 values; its shape (2,) needs 2");
  p.set_dtype(CheckpointTensor::DTYPE_UNSPECIFIED);
  EXPECT_EQ(from_error(p),
            "ckpt.pb: tensor 'w' has no dtype; expected f32, f64, i64 or bool");
}

}  // namespace
}  // namespace elm
