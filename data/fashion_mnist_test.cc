// Tests the IDX reader/writer on synthetic files in $TEST_TMPDIR (plain and
// gzipped round trips; bad magic, truncation and trailing bytes named with the
// file), the two sequence encodings of one image, the dataset's splits and
// samplers on a synthetic set, and, when Debian's dataset-fashion-mnist is
// installed, the real files: 60000/10000 images, 6000/1000 per class, first
// labels 9 (train and test) and the first training image's pixel sum.
#include "data/fashion_mnist.h"

#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/test_files.h"
#include "data/dataset.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

IdxArray Synthetic(int64_t n, int seed) {
  IdxArray a;
  a.dims = {n, 28, 28};
  a.data.resize(n * 784);
  for (size_t i = 0; i < a.data.size(); ++i) {
    a.data[i] = static_cast<uint8_t>((i * 37 + seed * 11) % 256);
  }
  return a;
}

IdxArray Labels(int64_t n) {
  IdxArray a;
  a.dims = {n};
  for (int64_t i = 0; i < n; ++i) a.data.push_back(i % 10);
  return a;
}

TEST(FashionMnistTest, IdxRoundTripPlainAndGzipped) {
  const IdxArray a = Synthetic(3, 1);
  for (bool gz : {false, true}) {
    const std::string path = TestTempPath(gz ? "a.idx.gz" : "a.idx");
    ASSERT_TRUE(WriteIdxFile(path, a, gz).ok());
    absl::StatusOr<IdxArray> b = ReadIdxFile(path);
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(b->dims, a.dims);
    EXPECT_EQ(b->data, a.data);
  }
  // The plain file is exactly the header and the data, big-endian dims.
  std::ifstream f(TestTempPath("a.idx"), std::ios::binary);
  std::vector<uint8_t> head(16);
  f.read(reinterpret_cast<char*>(head.data()), 16);
  EXPECT_EQ(head, (std::vector<uint8_t>{0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 28, 0,
                                        0, 0, 28}));
  // A large dimension spans several bytes.
  IdxArray big;
  big.dims = {70000};
  big.data.assign(70000, 7);
  ASSERT_TRUE(WriteIdxFile(TestTempPath("big.idx"), big, false).ok());
  EXPECT_EQ(ReadIdxFile(TestTempPath("big.idx"))->dims[0], 70000);
}

void ExpectIdxError(const std::string& name, const std::vector<uint8_t>& bytes,
                    const std::string& what) {
  WriteTestFile(TestTempPath(name), std::string(bytes.begin(), bytes.end()));
  absl::Status st = ReadIdxFile(TestTempPath(name)).status();
  EXPECT_FALSE(st.ok()) << name;
  EXPECT_TRUE(absl::StrContains(st.message(), TestTempPath(name))) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), what)) << st;
}

TEST(FashionMnistTest, IdxErrorsNameTheFile) {
  ExpectIdxError("m1.idx", {0, 1, 8, 1, 0, 0, 0, 1, 5}, "bad magic");
  ExpectIdxError("m2.idx", {0, 0, 0x0d, 1, 0, 0, 0, 1, 5}, "bad magic");
  ExpectIdxError("m3.idx", {0, 0, 8, 0}, "bad magic");
  ExpectIdxError("m4.idx", {0, 0, 8, 5}, "bad magic");
  ExpectIdxError("t1.idx", {0, 0}, "truncated header");
  ExpectIdxError("t2.idx", {0, 0, 8, 2, 0, 0, 0, 2, 0, 0}, "truncated header");
  ExpectIdxError("t3.idx", {0, 0, 8, 1, 0, 0, 0, 4, 1, 2}, "truncated data");
  ExpectIdxError("x1.idx", {0, 0, 8, 1, 0, 0, 0, 1, 1, 2}, "trailing");
  // A truncated gzip file.
  ASSERT_TRUE(
      WriteIdxFile(TestTempPath("g.idx.gz"), Synthetic(4, 2), true).ok());
  std::string gz = ReadTestFile(TestTempPath("g.idx.gz"));
  gz.resize(gz.size() / 2);
  WriteTestFile(TestTempPath("g_cut.idx.gz"), gz);
  absl::Status st = ReadIdxFile(TestTempPath("g_cut.idx.gz")).status();
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(absl::StrContains(st.message(), TestTempPath("g_cut.idx.gz")))
      << st;
  st = ReadIdxFile(TestTempPath("absent.idx")).status();
  EXPECT_TRUE(absl::StrContains(st.message(), TestTempPath("absent.idx")))
      << st;
}

TEST(FashionMnistTest, ReadFilesChecksShapesAndLabels) {
  ASSERT_TRUE(WriteIdxFile(TestTempPath("i.idx"), Synthetic(5, 0), false).ok());
  ASSERT_TRUE(WriteIdxFile(TestTempPath("l.idx"), Labels(5), false).ok());
  ASSERT_TRUE(WriteIdxFile(TestTempPath("l4.idx"), Labels(4), false).ok());
  IdxArray bad = Labels(5);
  bad.data[3] = 10;
  ASSERT_TRUE(WriteIdxFile(TestTempPath("lbad.idx"), bad, false).ok());
  EXPECT_TRUE(
      ReadFashionMnistFiles(TestTempPath("i.idx"), TestTempPath("l.idx")).ok());
  absl::Status st =
      ReadFashionMnistFiles(TestTempPath("i.idx"), TestTempPath("l4.idx"))
          .status();
  EXPECT_TRUE(absl::StrContains(st.message(), TestTempPath("l4.idx"))) << st;
  st = ReadFashionMnistFiles(TestTempPath("i.idx"), TestTempPath("lbad.idx"))
           .status();
  EXPECT_TRUE(absl::StrContains(st.message(), "label 3")) << st;
  st = ReadFashionMnistFiles(TestTempPath("l.idx"), TestTempPath("l.idx"))
           .status();
  EXPECT_TRUE(absl::StrContains(st.message(), "[N, 28, 28]")) << st;
}

TEST(FashionMnistTest, EncodesOneImageBothWays) {
  std::vector<uint8_t> img(784, 0);
  img[0] = 255;      // bin 15
  img[1] = 16;       // bin 1
  img[2] = 15;       // bin 0
  img[28 + 5] = 51;  // row 1, column 5: 0.2
  img[783] = 128;    // bin 8
  Batch b;
  b.inputs.row_begin.push_back(0);
  AppendFashionMnistImage(img.data(), FashionMnistEncoding::kPixel, &b);
  ASSERT_EQ(b.inputs.row_begin.size(), 785u);
  ASSERT_EQ(b.inputs.col.size(), 784u);
  EXPECT_EQ(b.inputs.col[0], 15);
  EXPECT_EQ(b.inputs.col[1], 1);
  EXPECT_EQ(b.inputs.col[2], 0);
  EXPECT_EQ(b.inputs.col[3], 0);
  EXPECT_EQ(b.inputs.col[33], 3);
  EXPECT_EQ(b.inputs.col[783], 8);
  for (int t = 0; t < 784; ++t) EXPECT_EQ(b.inputs.row_begin[t], t);
  for (float v : b.inputs.value) EXPECT_EQ(v, 1.0f);

  Batch r;
  r.inputs.row_begin.push_back(0);
  AppendFashionMnistImage(img.data(), FashionMnistEncoding::kRow, &r);
  ASSERT_EQ(r.inputs.row_begin.size(), 29u);
  EXPECT_EQ(r.inputs.row_begin[1], 3);  // row 0: columns 0, 1, 2
  EXPECT_EQ(r.inputs.row_begin[2], 4);  // row 1: column 5
  EXPECT_EQ(r.inputs.row_begin[28], 5);
  EXPECT_EQ(r.inputs.col, (std::vector<int32_t>{0, 1, 2, 5, 27}));
  EXPECT_FLOAT_EQ(r.inputs.value[0], 1.0f);
  EXPECT_FLOAT_EQ(r.inputs.value[3], 0.2f);
  EXPECT_FLOAT_EQ(r.inputs.value[4], 128.0f / 255.0f);
}

TEST(FashionMnistTest, DatasetSplitsAndSamplers) {
  const std::string dir = TestTempPath("fm");
  mkdir(dir.c_str(), 0755);
  ASSERT_TRUE(
      WriteIdxFile(dir + "/train-images-idx3-ubyte.gz", Synthetic(30, 1), true)
          .ok());
  ASSERT_TRUE(
      WriteIdxFile(dir + "/train-labels-idx1-ubyte.gz", Labels(30), true).ok());
  ASSERT_TRUE(
      WriteIdxFile(dir + "/t10k-images-idx3-ubyte", Synthetic(10, 2), false)
          .ok());
  ASSERT_TRUE(
      WriteIdxFile(dir + "/t10k-labels-idx1-ubyte", Labels(10), false).ok());
  for (FashionMnistEncoding enc :
       {FashionMnistEncoding::kPixel, FashionMnistEncoding::kRow}) {
    FashionMnistOptions o;
    o.dir = dir;
    o.encoding = enc;
    o.num_valid = 10;
    absl::StatusOr<std::unique_ptr<FashionMnistDataset>> d =
        FashionMnistDataset::Load(o);
    ASSERT_TRUE(d.ok()) << d.status();
    const bool pixel = enc == FashionMnistEncoding::kPixel;
    EXPECT_EQ((*d)->info().steps, pixel ? 784 : 28);
    EXPECT_EQ((*d)->info().input_dim, pixel ? 16 : 28);
    EXPECT_EQ((*d)->info().num_classes, 10);
    EXPECT_EQ((*d)->size(Split::kTrain), 20);
    EXPECT_EQ((*d)->size(Split::kValid), 10);
    EXPECT_EQ((*d)->size(Split::kTest), 10);
    // Valid is the last 10 training images, in order: labels 0..9.
    auto v = (*d)->MakeSampler(Split::kValid, 10, 0).value();
    Batch b = v->Next().value();
    std::string why;
    EXPECT_TRUE(b.IsConsistent(&why)) << why;
    EXPECT_EQ(b.labels, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    // The batch's first sequence equals image 20 encoded alone.
    Batch one;
    one.inputs.row_begin.push_back(0);
    const IdxArray im = Synthetic(30, 1);
    AppendFashionMnistImage(&im.data[20 * 784], enc, &one);
    const int64_t n = one.inputs.col.size();
    EXPECT_EQ(
        std::vector<int32_t>(b.inputs.col.begin(), b.inputs.col.begin() + n),
        one.inputs.col);
    // Train: deterministic per seed, an epoch covers each image once.
    auto t1 = (*d)->MakeSampler(Split::kTrain, 5, 3).value();
    auto t2 = (*d)->MakeSampler(Split::kTrain, 5, 3).value();
    std::vector<int> counts(10, 0);
    for (int i = 0; i < 4; ++i) {
      Batch x = t1->Next().value(), y = t2->Next().value();
      EXPECT_EQ(x.labels, y.labels);
      EXPECT_EQ(x.inputs.col, y.inputs.col);
      for (int64_t l : x.labels) ++counts[l];
    }
    const absl::Status held = CheckHeldParts(**d, Split::kTrain, 5, 3, 4);
    EXPECT_TRUE(held.ok()) << held;
    EXPECT_EQ(counts, std::vector<int>(10, 2));
    EXPECT_FALSE((*d)->MakeSampler(Split::kTest, 11, 0).ok());
  }
  FashionMnistOptions o;
  o.dir = dir;
  o.num_valid = 30;
  absl::Status st = FashionMnistDataset::Load(o).status();
  EXPECT_TRUE(absl::StrContains(st.message(), "num_valid")) << st;
  o.dir = TestTempPath("nowhere");
  st = FashionMnistDataset::Load(o).status();
  EXPECT_TRUE(absl::StrContains(st.message(), TestTempPath("nowhere"))) << st;
}

TEST(FashionMnistTest, DebianPackageFiles) {
  const std::string dir = kFashionMnistDebianDir;
  const std::string train_images =
      FashionMnistPath(dir, "train-images-idx3-ubyte");
  struct stat st;
  if (stat(train_images.c_str(), &st) != 0) {
    GTEST_SKIP() << train_images
                 << " absent (apt-get install dataset-fashion-mnist)";
  }
  absl::StatusOr<FashionMnistImages> train = ReadFashionMnistFiles(
      train_images, FashionMnistPath(dir, "train-labels-idx1-ubyte"));
  ASSERT_TRUE(train.ok()) << train.status();
  absl::StatusOr<FashionMnistImages> test =
      ReadFashionMnistFiles(FashionMnistPath(dir, "t10k-images-idx3-ubyte"),
                            FashionMnistPath(dir, "t10k-labels-idx1-ubyte"));
  ASSERT_TRUE(test.ok()) << test.status();
  ASSERT_EQ(train->count, 60000);
  ASSERT_EQ(test->count, 10000);
  std::vector<int> hist_train(10, 0), hist_test(10, 0);
  for (uint8_t l : train->labels) ++hist_train[l];
  for (uint8_t l : test->labels) ++hist_test[l];
  EXPECT_EQ(hist_train, std::vector<int>(10, 6000));
  EXPECT_EQ(hist_test, std::vector<int>(10, 1000));
  // Checked with Python's gzip on the files: labels 9 0 0 3 0 and 9 2 1 1 6;
  // the first training image's pixels sum to 76247, its row 10 starts at
  // column 13 with 193.
  EXPECT_EQ(std::vector<int>(train->labels.begin(), train->labels.begin() + 5),
            (std::vector<int>{9, 0, 0, 3, 0}));
  EXPECT_EQ(std::vector<int>(test->labels.begin(), test->labels.begin() + 5),
            (std::vector<int>{9, 2, 1, 1, 6}));
  int64_t sum = 0;
  for (int p = 0; p < 784; ++p) sum += train->pixels[p];
  EXPECT_EQ(sum, 76247);
  EXPECT_EQ(train->pixels[10 * 28 + 12], 0);
  EXPECT_EQ(train->pixels[10 * 28 + 13], 193);

  // Both encodings of the first image.
  Batch px, row;
  px.inputs.row_begin.push_back(0);
  row.inputs.row_begin.push_back(0);
  AppendFashionMnistImage(train->pixels.data(), FashionMnistEncoding::kPixel,
                          &px);
  AppendFashionMnistImage(train->pixels.data(), FashionMnistEncoding::kRow,
                          &row);
  ASSERT_EQ(px.inputs.col.size(), 784u);
  EXPECT_EQ(px.inputs.col[10 * 28 + 13], 193 / 16);
  ASSERT_EQ(row.inputs.row_begin.size(), 29u);
  // Row 10 starts with column 13 at 193/255.
  const int64_t k = row.inputs.row_begin[10];
  EXPECT_EQ(row.inputs.col[k], 13);
  EXPECT_FLOAT_EQ(row.inputs.value[k], 193.0f / 255.0f);
  double total = 0;
  for (float v : row.inputs.value) total += v;
  EXPECT_NEAR(total * 255.0, 76247.0, 0.05);

  // The dataset over the package directory.
  FashionMnistOptions o;
  absl::StatusOr<std::unique_ptr<FashionMnistDataset>> d =
      FashionMnistDataset::Create(*std::move(train), *std::move(test), o);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->size(Split::kTrain), 55000);
  EXPECT_EQ((*d)->size(Split::kValid), 5000);
  EXPECT_EQ((*d)->size(Split::kTest), 10000);
  const Dataset& as_dataset = **d;
  EXPECT_EQ(as_dataset.num_sequences(Split::kValid), 5000);
  auto s = (*d)->MakeSampler(Split::kTest, 4, 0).value();
  Batch b = s->Next().value();
  std::string why;
  EXPECT_TRUE(b.IsConsistent(&why)) << why;
  EXPECT_EQ(b.labels, (std::vector<int64_t>{9, 2, 1, 1}));
}

}  // namespace
}  // namespace elm
