// Tests of the dataset factory: a DatasetSpec of either kind builds the same
// dataset as that reader's own factory with the spec's seed (on the NeuronIO
// and SHD fixtures), a generated NeuronIO spec builds, samples and is
// deterministic per seed, with errors naming the field, a spec without a kind
// is an error that says what to set,
// text-format specs parse with errors naming the file, line and column, and
// split names parse.
#include "data/dataset_factory.h"

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/shared_data.h"
#include "base/test_files.h"
#include "data/dataset.h"
#include "data/dataset_spec.pb.h"
#include "data/listops.h"
#include "data/neuronio.h"
#include "data/neuronio_generator.h"
#include "data/pathfinder.h"
#include "data/shd.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

// The first `n` batches of `split` of `dataset` with sampler seed `seed`.
std::vector<Batch> Draw(const Dataset& dataset, Split split, int batch_size,
                        uint64_t seed, int n) {
  std::vector<Batch> out;
  absl::StatusOr<std::unique_ptr<BatchSampler>> s =
      dataset.MakeSampler(split, batch_size, seed);
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return out;
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<Batch> b = (*s)->Next();
    EXPECT_TRUE(b.ok()) << b.status();
    if (!b.ok()) break;
    out.push_back(*std::move(b));
  }
  return out;
}

TEST(DatasetFactoryTest, GeneratedPathfinderAndPathX) {
  DatasetSpec spec;
  spec.mutable_pathfinder()->set_num_train(8);
  spec.mutable_pathfinder()->set_num_valid(2);
  spec.mutable_pathfinder()->set_num_test(2);
  EXPECT_EQ(DatasetKindName(spec), "pathfinder");
  absl::StatusOr<std::unique_ptr<Dataset>> d = MakeDataset(spec);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->info().steps, 1024);
  EXPECT_EQ((*d)->info().input_dim, 16);
  EXPECT_EQ((*d)->num_sequences(Split::kTrain), 8);
  // Path-X: 128x128, 8 grey bins (App. B); grey_bins overrides the preset.
  spec.mutable_pathfinder()->set_size(128);
  d = MakeDataset(spec);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->info().steps, 16384);
  EXPECT_EQ((*d)->info().input_dim, 8);
  spec.mutable_pathfinder()->set_grey_bins(4);
  EXPECT_EQ((*MakeDataset(spec))->info().input_dim, 4);
  spec.mutable_pathfinder()->set_grey_bins(1);
  d = MakeDataset(spec);
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(absl::StrContains(d.status().message(), "grey_bins"))
      << d.status();
}

TEST(DatasetFactoryTest, PathfinderDifficultyKnobsReachTheGenerator) {
  DatasetSpec spec;
  PathfinderSpec* p = spec.mutable_pathfinder();
  p->set_num_train(2);
  p->set_num_valid(2);
  p->set_num_test(2);
  absl::StatusOr<std::unique_ptr<Dataset>> d = MakeDataset(spec);
  ASSERT_TRUE(d.ok()) << d.status();
  const auto* preset = dynamic_cast<const PathfinderDataset*>(d->get());
  ASSERT_NE(preset, nullptr);
  EXPECT_EQ(preset->options().image.contour_length, 14);
  EXPECT_EQ(preset->options().image.num_distractors, 5);
  EXPECT_EQ(preset->options().image.line_contrast, 1.0);
  p->set_contour_length(6);
  p->set_num_distractors(0);
  p->set_line_contrast(0.5);
  d = MakeDataset(spec);
  ASSERT_TRUE(d.ok()) << d.status();
  const auto* easy = dynamic_cast<const PathfinderDataset*>(d->get());
  ASSERT_NE(easy, nullptr);
  EXPECT_EQ(easy->options().image.contour_length, 6);
  EXPECT_EQ(easy->options().image.num_distractors, 0);
  EXPECT_EQ(easy->options().image.line_contrast, 0.5);
}

TEST(DatasetFactoryTest, NoKindIsAnErrorSayingWhatToSet) {
  DatasetSpec spec;
  spec.set_seed(3);
  absl::StatusOr<std::unique_ptr<Dataset>> d = MakeDataset(spec);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(d.status().message(), "DatasetSpec"))
      << d.status();
  EXPECT_TRUE(absl::StrContains(d.status().message(), "neuronio"));
  EXPECT_TRUE(absl::StrContains(d.status().message(), "shd"));
  EXPECT_EQ(DatasetKindName(spec), "");
}

TEST(DatasetFactoryTest, NeuronioSpecOnTheFixture) {
  std::string missing;
  const std::string dir = FindSharedPath("data/neuronio", &missing);
  if (dir.empty()) GTEST_SKIP() << "missing " << missing;
  DatasetSpec spec;
  spec.mutable_neuronio()->add_train_files(
      absl::StrCat(dir, "/*_py2style.p.gz"));
  spec.mutable_neuronio()->set_window_ms(300);
  spec.set_seed(5);
  EXPECT_EQ(DatasetKindName(spec), "neuronio");
  absl::StatusOr<std::unique_ptr<Dataset>> d = MakeDataset(spec);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->info().input_dim, kNeuronioInputDim);
  EXPECT_EQ((*d)->info().steps, 300);
  EXPECT_EQ((*d)->info().num_classes, 0);

  // The same batches as MakeNeuronioDataset with the spec's seed; another
  // dataset seed gives others.
  absl::StatusOr<std::unique_ptr<Dataset>> direct =
      MakeNeuronioDataset(spec.neuronio(), 5);
  absl::StatusOr<std::unique_ptr<Dataset>> other =
      MakeNeuronioDataset(spec.neuronio(), 6);
  ASSERT_TRUE(direct.ok() && other.ok());
  const std::vector<Batch> got = Draw(**d, Split::kTrain, 2, 1, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].steps, 300);
  EXPECT_EQ(got[0].spike.size(), 600u);
  EXPECT_TRUE(got == Draw(**direct, Split::kTrain, 2, 1, 2));
  EXPECT_FALSE(got == Draw(**other, Split::kTrain, 2, 1, 2));

  // A pattern matching nothing names the field.
  spec.mutable_neuronio()->add_valid_files(absl::StrCat(dir, "/nothing*.p"));
  d = MakeDataset(spec);
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(absl::StrContains(d.status().message(), "valid_files"))
      << d.status();
}

TEST(DatasetFactoryTest, ShdSpecOnTheFixture) {
  std::string missing;
  const std::string h5 =
      FindSharedPath("data/shd_mock/shd_mock_8.h5", &missing);
  if (h5.empty()) GTEST_SKIP() << "missing " << missing;
  DatasetSpec spec;
  spec.mutable_shd()->set_train_file(h5);
  spec.mutable_shd()->set_test_file(h5);
  spec.mutable_shd()->set_valid_fraction(0.5);
  spec.set_seed(11);
  EXPECT_EQ(DatasetKindName(spec), "shd");
  absl::StatusOr<std::unique_ptr<Dataset>> d = MakeDataset(spec);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->info().input_dim, kShdNumUnits);
  EXPECT_EQ((*d)->info().steps, 100);
  EXPECT_EQ((*d)->info().num_classes, kShdNumClasses);
  // The split follows the spec's seed.
  const auto* shd = dynamic_cast<const ShdDataset*>(d->get());
  ASSERT_NE(shd, nullptr);
  absl::StatusOr<std::unique_ptr<Dataset>> direct =
      MakeShdDataset(spec.shd(), 11);
  ASSERT_TRUE(direct.ok()) << direct.status();
  const auto* want = dynamic_cast<const ShdDataset*>(direct->get());
  ASSERT_EQ(shd->num_samples(Split::kValid), want->num_samples(Split::kValid));
  for (int64_t i = 0; i < shd->num_samples(Split::kValid); ++i) {
    EXPECT_EQ(shd->file_index(Split::kValid, i),
              want->file_index(Split::kValid, i));
  }
  // Test batches are the file in order.
  const std::vector<Batch> test = Draw(**d, Split::kTest, 4, 0, 2);
  ASSERT_EQ(test.size(), 2u);
  EXPECT_EQ(test[0].labels, (std::vector<int64_t>{0, 19, 5, 15}));
  EXPECT_EQ(test[1].labels, (std::vector<int64_t>{9, 10, 3, 13}));
  EXPECT_TRUE(Draw(**d, Split::kTrain, 2, 4, 3) ==
              Draw(**direct, Split::kTrain, 2, 4, 3));

  spec.mutable_shd()->set_adding(true);
  EXPECT_EQ(DatasetKindName(spec), "shd_adding");
  d = MakeDataset(spec);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->info().steps, 200);
  EXPECT_EQ((*d)->info().num_classes, kShdAddingNumClasses);

  spec.mutable_shd()->set_test_file(h5 + ".missing");
  d = MakeDataset(spec);
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(absl::StrContains(d.status().message(), h5 + ".missing"))
      << d.status();
}

TEST(DatasetFactoryTest, ReadsTextSpecsWithPositionedErrors) {
  const std::string path = TestTempPath("spec.textproto");
  std::ofstream(path) << "# a comment\n"
                         "shd {\n  train_file: \"a.h5\"\n  test_file: "
                         "\"b.h5\"\n  bin_size_ms: 4\n}\nseed: 9\n";
  absl::StatusOr<DatasetSpec> spec = ReadDatasetSpecFile(path);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->shd().train_file(), "a.h5");
  EXPECT_EQ(spec->shd().bin_size_ms(), 4);
  EXPECT_EQ(spec->seed(), 9u);

  const std::string bad = TestTempPath("bad.textproto");
  std::ofstream(bad) << "shd {\n  train_fil: \"a.h5\"\n}\n";
  spec = ReadDatasetSpecFile(bad);
  ASSERT_FALSE(spec.ok());
  EXPECT_TRUE(absl::StrContains(spec.status().message(), bad)) << spec.status();
  EXPECT_TRUE(absl::StrContains(spec.status().message(), "line 2, column "))
      << spec.status();
  EXPECT_TRUE(absl::StrContains(spec.status().message(), "train_fil"));

  spec = ReadDatasetSpecFile(TestTempPath("none.textproto"));
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(spec.status().message(), "none.textproto"));

  // Both kinds at once is an error of the text parser.
  absl::StatusOr<DatasetSpec> both = ParseDatasetSpecText(
      "neuronio { window_ms: 10 } shd { train_file: 'x' }", "inline");
  ASSERT_FALSE(both.ok());
  EXPECT_TRUE(absl::StrContains(both.status().message(), "'inline'"))
      << both.status();
  EXPECT_TRUE(absl::StrContains(both.status().message(), "oneof"))
      << both.status();
}

TEST(DatasetFactoryTest, ParsesSplitNames) {
  EXPECT_EQ(*ParseSplit("train"), Split::kTrain);
  EXPECT_EQ(*ParseSplit("valid"), Split::kValid);
  EXPECT_EQ(*ParseSplit("test"), Split::kTest);
  absl::StatusOr<Split> bad = ParseSplit("validation");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "'validation'"));
  EXPECT_TRUE(
      absl::StrContains(bad.status().message(), "train, valid or test"));
}

TEST(DatasetFactoryTest, GeneratedListOps) {
  DatasetSpec spec;
  spec.mutable_listops()->set_num_train(12);
  spec.mutable_listops()->set_num_valid(4);
  spec.mutable_listops()->set_num_test(4);
  spec.mutable_listops()->set_steps(2000);
  spec.set_seed(2);
  EXPECT_EQ(DatasetKindName(spec), "listops");
  absl::StatusOr<std::unique_ptr<Dataset>> d = MakeDataset(spec);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->info().steps, 2000);
  EXPECT_EQ((*d)->info().num_classes, 10);
  absl::StatusOr<std::unique_ptr<BatchSampler>> sampler =
      (*d)->MakeSampler(Split::kValid, 2, 0);
  ASSERT_TRUE(sampler.ok()) << sampler.status();
  absl::StatusOr<Batch> batch = (*sampler)->Next();
  ASSERT_TRUE(batch.ok()) << batch.status();
  std::string why;
  EXPECT_TRUE(batch->IsConsistent(&why)) << why;
  EXPECT_EQ(batch->labels.size(), 2u);
  // The length range, depth and padding reach the data: expressions of 10..50
  // tokens padded at the start to 50 steps end in `]` at the last step, and
  // start with a pad (all but one of 8 would have to be 50 tokens otherwise).
  ListOpsSpec* l = spec.mutable_listops();
  l->set_min_length(9);
  l->set_max_length(51);
  l->set_max_depth(3);
  l->set_steps(50);
  l->set_padding(ListOpsSpec::START);
  d = MakeDataset(spec);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->info().steps, 50);
  sampler = (*d)->MakeSampler(Split::kTrain, 8, 0);
  ASSERT_TRUE(sampler.ok()) << sampler.status();
  batch = (*sampler)->Next();
  ASSERT_TRUE(batch.ok()) << batch.status();
  int starts_with_pad = 0;
  for (int s = 0; s < 8; ++s) {
    const CsrMatrix& in = batch->inputs;
    EXPECT_EQ(in.col[in.row_begin[s * 50 + 49]], kListOpsClose);
    starts_with_pad += in.col[in.row_begin[s * 50]] == kListOpsPad;
  }
  EXPECT_GE(starts_with_pad, 7);
  // A train range of its own: train expressions of 4..8 tokens, 10..50 in
  // valid.
  l->set_train_min_length(3);
  l->set_train_max_length(9);
  l->set_padding(ListOpsSpec::END);
  d = MakeDataset(spec);
  ASSERT_TRUE(d.ok()) << d.status();
  for (Split split : {Split::kTrain, Split::kValid}) {
    sampler = (*d)->MakeSampler(split, 4, 0);
    ASSERT_TRUE(sampler.ok()) << sampler.status();
    batch = (*sampler)->Next();
    ASSERT_TRUE(batch.ok()) << batch.status();
    for (int s = 0; s < 4; ++s) {
      int len = 0;
      while (len < 50 &&
             batch->inputs.col[batch->inputs.row_begin[s * 50 + len]] !=
                 kListOpsPad) {
        ++len;
      }
      if (split == Split::kTrain) {
        EXPECT_GT(len, 3);
        EXPECT_LT(len, 9);
      } else {
        EXPECT_GT(len, 9);
      }
    }
  }
  l->clear_train_min_length();
  l->clear_train_max_length();
  l->clear_min_length();
  l->clear_max_length();
  l->clear_max_depth();
  l->set_steps(2000);
  // A missing TSV folder is an error naming it.
  spec.mutable_listops()->set_data_dir("/nonexistent/listops");
  d = MakeDataset(spec);
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(absl::StrContains(d.status().message(), "/nonexistent/listops"))
      << d.status();
}

TEST(DatasetFactoryTest, FashionMnistFromTheDebianPackage) {
  DatasetSpec spec;
  spec.mutable_fashion_mnist()->set_encoding(FashionMnistSpec::ROW);
  if (!std::ifstream(spec.fashion_mnist().dir() +
                     "/t10k-labels-idx1-ubyte.gz")) {
    GTEST_SKIP() << "missing " << spec.fashion_mnist().dir();
  }
  EXPECT_EQ(DatasetKindName(spec), "fashion_mnist");
  absl::StatusOr<std::unique_ptr<Dataset>> d = MakeDataset(spec);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->info().steps, 28);
  EXPECT_EQ((*d)->info().input_dim, 28);
  EXPECT_EQ((*d)->info().num_classes, 10);
  spec.mutable_fashion_mnist()->set_dir("/nonexistent/fmnist");
  d = MakeDataset(spec);
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(absl::StrContains(d.status().message(), "/nonexistent/fmnist"))
      << d.status();
}

// A small generated NeuronIO spec: 2 train files of 4 simulations of 2000 ms
// (1 valid and 1 test file by default), window 500.
DatasetSpec SmallGeneratedSpec(uint64_t seed) {
  absl::StatusOr<DatasetSpec> spec = ParseDatasetSpecText(
      absl::StrCat("neuronio { window_ms: 500 generate { num_train_files: 2 "
                   "simulations_per_file: 4 duration_ms: 2000 } } seed: ",
                   seed),
      "small generated spec");
  EXPECT_TRUE(spec.ok()) << spec.status();
  return spec.ok() ? *spec : DatasetSpec();
}

TEST(DatasetFactoryTest, GeneratedNeuronioSpecBuildsAndSamples) {
  const DatasetSpec spec = SmallGeneratedSpec(5);
  ASSERT_TRUE(spec.neuronio().has_generate());
  EXPECT_EQ(spec.neuronio().generate().teacher(),
            NeuronioGeneratorSpec::BRANCHED);
  EXPECT_EQ(DatasetKindName(spec), "neuronio");
  absl::StatusOr<std::unique_ptr<Dataset>> d = MakeDataset(spec);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->info().input_dim, kNeuronioInputDim);
  EXPECT_EQ((*d)->info().steps, 500);
  EXPECT_EQ((*d)->info().num_classes, 0);
  const auto* generated =
      dynamic_cast<const GeneratedNeuronioDataset*>(d->get());
  ASSERT_NE(generated, nullptr);
  EXPECT_EQ(generated->files(Split::kTrain).size(), 2u);
  EXPECT_EQ(generated->files(Split::kValid).size(), 1u);
  EXPECT_EQ(generated->files(Split::kTest).size(), 1u);
  for (Split split : {Split::kTrain, Split::kValid, Split::kTest}) {
    for (const NeuronioFile& f : generated->files(split)) {
      EXPECT_EQ(f.simulations.size(), 4u);
      EXPECT_EQ(f.params.duration_ms, 2000);
      EXPECT_EQ(f.params.num_segments(), kNeuronioNumSegments);
    }
  }
  // int(0.3 · 4 · 2000 / (2 · 500)) = 2 batches per load: 7 batches span
  // several loads.
  for (Split split : {Split::kTrain, Split::kValid, Split::kTest}) {
    const std::vector<Batch> batches = Draw(**d, split, 2, 1, 7);
    ASSERT_EQ(batches.size(), 7u) << SplitName(split);
    for (const Batch& b : batches) {
      std::string why;
      EXPECT_TRUE(b.IsConsistent(&why)) << why;
      EXPECT_EQ(b.batch, 2);
      EXPECT_EQ(b.steps, 500);
      EXPECT_EQ(b.input_dim(), kNeuronioInputDim);
      EXPECT_EQ(b.spike.size(), 1000u);
      EXPECT_EQ(b.soma.size(), 1000u);
      EXPECT_FALSE(b.inputs.col.empty());
      for (size_t k = 0; k < b.inputs.col.size(); ++k) {
        ASSERT_EQ(b.inputs.value[k],
                  b.inputs.col[k] < kNeuronioNumSegments ? 1.0f : -1.0f);
      }
      for (float v : b.spike) ASSERT_TRUE(v == 0.0f || v == 1.0f);
    }
  }
  // More simulations per batch than a file holds.
  EXPECT_FALSE((*d)->MakeSampler(Split::kTrain, 5, 1).ok());
}

TEST(DatasetFactoryTest, GeneratedNeuronioSpecIsDeterministicPerSeed) {
  absl::StatusOr<std::unique_ptr<Dataset>> a =
      MakeDataset(SmallGeneratedSpec(5));
  absl::StatusOr<std::unique_ptr<Dataset>> b =
      MakeDataset(SmallGeneratedSpec(5));
  absl::StatusOr<std::unique_ptr<Dataset>> c =
      MakeDataset(SmallGeneratedSpec(6));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_TRUE(c.ok()) << c.status();
  const std::vector<Batch> got = Draw(**a, Split::kTrain, 2, 1, 5);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_TRUE(got == Draw(**b, Split::kTrain, 2, 1, 5));
  EXPECT_FALSE(got == Draw(**c, Split::kTrain, 2, 1, 5));
  // Another sampler seed draws other windows from the same data.
  EXPECT_FALSE(got == Draw(**a, Split::kTrain, 2, 2, 5));
  // Splits hold different data.
  EXPECT_FALSE(Draw(**a, Split::kValid, 2, 1, 3) ==
               Draw(**a, Split::kTest, 2, 1, 3));
  // The same as MakeGeneratedNeuronioDataset with the spec's seed.
  const DatasetSpec spec = SmallGeneratedSpec(5);
  absl::StatusOr<std::unique_ptr<GeneratedNeuronioDataset>> direct =
      MakeGeneratedNeuronioDataset(spec.neuronio(), 5);
  ASSERT_TRUE(direct.ok()) << direct.status();
  EXPECT_TRUE(got == Draw(**direct, Split::kTrain, 2, 1, 5));
}

TEST(DatasetFactoryTest, GeneratedNeuronioSpecErrorsNameTheField) {
  const auto error = [](const DatasetSpec& spec) {
    absl::StatusOr<std::unique_ptr<Dataset>> d = MakeDataset(spec);
    EXPECT_FALSE(d.ok());
    if (d.ok()) return std::string();
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(d.status().message());
  };
  DatasetSpec spec = SmallGeneratedSpec(1);
  spec.mutable_neuronio()->add_valid_files("/some/file.p");
  std::string message = error(spec);
  EXPECT_TRUE(absl::StrContains(message, "NeuronioSpec.valid_files"))
      << message;
  EXPECT_TRUE(absl::StrContains(message, "NeuronioSpec.generate")) << message;

  spec = SmallGeneratedSpec(1);
  spec.mutable_neuronio()->mutable_generate()->set_num_test_files(-1);
  message = error(spec);
  EXPECT_TRUE(absl::StrContains(message, "generate.num_test_files")) << message;

  spec = SmallGeneratedSpec(1);
  spec.mutable_neuronio()->mutable_generate()->set_simulations_per_file(0);
  message = error(spec);
  EXPECT_TRUE(absl::StrContains(message, "generate.simulations_per_file"))
      << message;

  spec = SmallGeneratedSpec(1);
  spec.mutable_neuronio()->mutable_generate()->set_duration_ms(1000);
  message = error(spec);  // window 500 + ignore 500 is not below 1000
  EXPECT_TRUE(absl::StrContains(message, "generate.duration_ms")) << message;

  spec = SmallGeneratedSpec(1);
  spec.mutable_neuronio()->set_window_ms(0);
  message = error(spec);
  EXPECT_TRUE(absl::StrContains(message, "NeuronioSpec.window_ms")) << message;

  // The file reader's own factory refuses a generated spec.
  absl::StatusOr<std::unique_ptr<Dataset>> d =
      MakeNeuronioDataset(SmallGeneratedSpec(1).neuronio(), 1);
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(absl::StrContains(d.status().message(), "NeuronioSpec.generate"))
      << d.status();
}

}  // namespace
}  // namespace elm
