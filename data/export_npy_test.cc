// End-to-end tests of the `//data:export_npy` tool: it runs the built binary
// on dataset specs of the fixtures written to $TEST_TMPDIR and checks that
// the .npy files hold exactly the batches the dataset's sampler gives for the
// same spec, split and seed (dense inputs, labels or spike/soma targets), with
// the shapes and dtypes documented; that relative paths follow
// BUILD_WORKING_DIRECTORY; that a too-large export is refused with the size it
// would need and writes nothing; and that usage errors exit 2 and data errors
// exit 1 with a message naming the spec.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/shared_data.h"
#include "base/test_binary.h"
#include "base/test_files.h"
#include "data/dataset.h"
#include "data/dataset_factory.h"
#include "data/dataset_spec.pb.h"
#include "gtest/gtest.h"
#include "io/npy.h"

namespace elm {
namespace {

CommandResult RunExport(const std::string& args, const std::string& env = "") {
  return RunTestBinary("data/export_npy", args, env);
}

std::vector<std::string> Listing(const std::string& dir) {
  std::vector<std::string> names;
  if (!std::filesystem::is_directory(dir)) return names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The batches the dataset of `spec_path` gives, concatenated as the tool
// writes them.
struct Expected {
  std::vector<float> inputs, spike, soma;
  std::vector<int64_t> labels;
  DatasetInfo info;
};

Expected Sample(const std::string& spec_path, Split split, int batches,
                int batch_size, uint64_t seed) {
  Expected e;
  absl::StatusOr<DatasetSpec> spec = ReadDatasetSpecFile(spec_path);
  EXPECT_TRUE(spec.ok()) << spec.status();
  if (!spec.ok()) return e;
  absl::StatusOr<std::unique_ptr<Dataset>> d = MakeDataset(*spec);
  EXPECT_TRUE(d.ok()) << d.status();
  if (!d.ok()) return e;
  e.info = (*d)->info();
  auto sampler = (*d)->MakeSampler(split, batch_size, seed);
  EXPECT_TRUE(sampler.ok()) << sampler.status();
  if (!sampler.ok()) return e;
  for (int n = 0; n < batches; ++n) {
    absl::StatusOr<Batch> b = (*sampler)->Next();
    EXPECT_TRUE(b.ok()) << b.status();
    if (!b.ok()) return e;
    const size_t at = e.inputs.size();
    e.inputs.resize(at + b->batch * b->steps * b->input_dim());
    b->ToDense(e.inputs.data() + at);
    e.spike.insert(e.spike.end(), b->spike.begin(), b->spike.end());
    e.soma.insert(e.soma.end(), b->soma.begin(), b->soma.end());
    e.labels.insert(e.labels.end(), b->labels.begin(), b->labels.end());
  }
  return e;
}

NpyArray Load(const std::string& path, NpyDtype dtype,
              const std::vector<int64_t>& shape) {
  absl::StatusOr<NpyArray> a = ReadNpy(path);
  EXPECT_TRUE(a.ok()) << a.status();
  if (!a.ok()) return NpyArray();
  EXPECT_EQ(a->major_version, 1) << path;
  EXPECT_EQ(a->data_offset % 64, 0) << path;
  EXPECT_EQ(a->dtype, dtype) << path;
  EXPECT_EQ(a->shape, shape) << path;
  return *std::move(a);
}

class ExportShdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing;
    h5_ = FindSharedPath("data/shd_mock/shd_mock_8.h5", &missing);
    if (h5_.empty()) GTEST_SKIP() << "missing " << missing;
    spec_ = TestTempPath("shd.textproto");
    std::ofstream(spec_) << "shd {\n  train_file: \"" << h5_
                         << "\"\n  test_file: \"" << h5_
                         << "\"\n  valid_fraction: 0.25\n}\nseed: 2\n";
  }
  std::string h5_, spec_;
};

TEST_F(ExportShdTest, WritesTheSamplersBatches) {
  for (const std::string split : {"train", "test"}) {
    SCOPED_TRACE(split);
    const std::string out = TestTempPath("out_" + split);
    CommandResult r = RunExport(
        absl::StrCat("--spec=", spec_, " --split=", split,
                     " --batches=3 --batch_size=2 --seed=7 --out_dir=", out));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(absl::StrContains(r.output, "(6, 100, 700)")) << r.output;
    EXPECT_EQ(Listing(out),
              (std::vector<std::string>{"inputs.npy", "labels.npy"}));
    const Expected want =
        Sample(spec_, *ParseSplit(split), /*batches=*/3, /*batch_size=*/2, 7);
    NpyArray inputs =
        Load(out + "/inputs.npy", NpyDtype::kFloat32, {6, 100, 700});
    NpyArray labels = Load(out + "/labels.npy", NpyDtype::kInt64, {6});
    EXPECT_TRUE(inputs.values<float>() == want.inputs);
    EXPECT_EQ(labels.values<int64_t>(), want.labels);
    if (split == "test") {
      // Unshuffled: the file's first labels.
      EXPECT_EQ(labels.values<int64_t>(),
                (std::vector<int64_t>{0, 19, 5, 15, 9, 10}));
    }
  }
}

TEST_F(ExportShdTest, RelativePathsFollowBuildWorkingDirectory) {
  const std::string env =
      absl::StrCat("BUILD_WORKING_DIRECTORY=", TestTempPath(""));
  CommandResult r = RunExport(
      "--spec=shd.textproto --split=test --batches=2 --batch_size=4 "
      "--out_dir=rel_out/nested",
      env);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  NpyArray labels =
      Load(TestTempPath("rel_out/nested/labels.npy"), NpyDtype::kInt64, {8});
  EXPECT_EQ(labels.values<int64_t>(),
            (std::vector<int64_t>{0, 19, 5, 15, 9, 10, 3, 13}));
  // The dense inputs keep every spike before 1 s (1215 in the mock).
  NpyArray inputs = Load(TestTempPath("rel_out/nested/inputs.npy"),
                         NpyDtype::kFloat32, {8, 100, 700});
  double sum = 0;
  for (float v : inputs.values<float>()) sum += v;
  EXPECT_EQ(sum, 1215);
}

TEST_F(ExportShdTest, RefusesMoreThanMaxBytes) {
  const std::string out = TestTempPath("too_big");
  CommandResult r = RunExport(absl::StrCat(
      "--spec=", spec_,
      " --split=test --batches=2 --batch_size=4 --max_bytes=1000 --out_dir=",
      out));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  // inputs.npy 128 + 8·100·700·4, labels.npy 128 + 8·8 (128-byte headers).
  const int64_t need = 128 + 8 * 100 * 700 * 4 + 128 + 64;
  EXPECT_TRUE(absl::StrContains(r.output, absl::StrCat(need, " bytes")))
      << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "--max_bytes=1000")) << r.output;
  EXPECT_TRUE(Listing(out).empty());
  // Exactly enough is fine.
  r = RunExport(absl::StrCat("--spec=", spec_,
                             " --split=test --batches=2 --batch_size=4 "
                             "--max_bytes=",
                             need, " --out_dir=", out));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(ExportShdTest, UsageAndDataErrors) {
  const std::string out = TestTempPath("errors_out");
  CommandResult r = RunExport(absl::StrCat("--out_dir=", out));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "--spec and --out_dir are required"))
      << r.output;
  r = RunExport(
      absl::StrCat("--spec=", spec_, " --split=training --out_dir=", out));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "'training'")) << r.output;
  r = RunExport(absl::StrCat("--spec=", spec_, " --batches=0 --out_dir=", out));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = RunExport(absl::StrCat("--spec=", spec_, " --out_dir=", out, " extra"));
  EXPECT_EQ(r.exit_code, 2) << r.output;

  // More sequences per batch than the split has.
  r = RunExport(absl::StrCat("--spec=", spec_,
                             " --split=test --batch_size=9 --out_dir=", out));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, spec_)) << r.output;

  const std::string no_kind = TestTempPath("no_kind.textproto");
  std::ofstream(no_kind) << "seed: 1\n";
  r = RunExport(absl::StrCat("--spec=", no_kind, " --out_dir=", out));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, no_kind)) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "no dataset kind")) << r.output;

  r = RunExport(absl::StrCat("--spec=", TestTempPath("absent.textproto"),
                             " --out_dir=", out));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "absent.textproto")) << r.output;
  EXPECT_TRUE(Listing(out).empty());
}

TEST(ExportNeuronioTest, WritesInputsAndTargets) {
  std::string missing;
  const std::string dir = FindSharedPath("data/neuronio", &missing);
  if (dir.empty()) GTEST_SKIP() << "missing " << missing;
  const std::string spec = TestTempPath("neuronio.textproto");
  std::ofstream(spec) << "neuronio {\n  train_files: \"" << dir
                      << "/*_py2style.p.gz\"\n  window_ms: 200\n}\nseed: 9\n";
  const std::string out = TestTempPath("neuronio_out");
  CommandResult r = RunExport(absl::StrCat(
      "--spec=", spec,
      " --split=train --batches=2 --batch_size=2 --seed=3 --out_dir=", out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Listing(out),
            (std::vector<std::string>{"inputs.npy", "soma.npy", "spike.npy"}));
  const Expected want = Sample(spec, Split::kTrain, 2, 2, 3);
  NpyArray inputs =
      Load(out + "/inputs.npy", NpyDtype::kFloat32, {4, 200, 1278});
  NpyArray spike = Load(out + "/spike.npy", NpyDtype::kFloat32, {4, 200});
  NpyArray soma = Load(out + "/soma.npy", NpyDtype::kFloat32, {4, 200});
  EXPECT_TRUE(inputs.values<float>() == want.inputs);
  EXPECT_EQ(spike.values<float>(), want.spike);
  EXPECT_EQ(soma.values<float>(), want.soma);
  // ±1 inputs, spikes in {0, 1}.
  int64_t plus = 0, minus = 0;
  for (float v : inputs.values<float>()) {
    plus += v == 1.0f;
    minus += v == -1.0f;
  }
  EXPECT_GT(plus, 0);
  EXPECT_GT(minus, 0);
  for (float s : spike.values<float>()) EXPECT_TRUE(s == 0.0f || s == 1.0f);

  // A split without files names the field.
  r = RunExport(absl::StrCat("--spec=", spec,
                             " --split=valid --batch_size=2 --out_dir=", out));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "valid")) << r.output;
}

}  // namespace
}  // namespace elm
