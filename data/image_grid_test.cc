// Tests of the image grid: decoding one-hot pixel and row batches, the PGM
// layout and frames, and the grid of a Pathfinder spec written to a file.
#include "data/image_grid.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/test_files.h"
#include "data/dataset.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

// B sequences of T = 4 one-hot steps (a 2x2 image) over D = 4 channels.
Batch OneHotBatch() {
  Batch b;
  b.batch = 2;
  b.steps = 4;
  b.inputs.rows = 8;
  b.inputs.cols = 4;
  for (int r = 0; r <= 8; ++r) b.inputs.row_begin.push_back(r);
  b.inputs.col = {0, 1, 2, 3, 3, 3, 0, 0};
  b.inputs.value.assign(8, 1.0f);
  b.labels = {1, 0};
  return b;
}

TEST(ImageGridTest, DecodesOneHotPixels) {
  const auto images = BatchToImages(OneHotBatch(), 2);
  ASSERT_TRUE(images.ok()) << images.status();
  ASSERT_EQ(images->size(), 2u);
  EXPECT_EQ((*images)[0].width, 2);
  // Bin centres (c + 0.5) * 256 / 4 = 32, 96, 160, 224.
  EXPECT_EQ((*images)[0].pixels, (std::vector<uint8_t>{32, 96, 160, 224}));
  EXPECT_EQ((*images)[1].pixels, (std::vector<uint8_t>{224, 224, 32, 32}));
  EXPECT_EQ((*images)[0].label, 1);
}

TEST(ImageGridTest, DecodesRowsAndRejectsOthers) {
  Batch b;
  b.batch = 1;
  b.steps = 2;
  b.inputs.rows = 2;
  b.inputs.cols = 2;
  b.inputs.row_begin = {0, 1, 3};
  b.inputs.col = {1, 0, 1};
  b.inputs.value = {1.0f, 0.5f, 0.0f};
  const auto images = BatchToImages(b, 1);
  ASSERT_TRUE(images.ok()) << images.status();
  EXPECT_EQ((*images)[0].pixels, (std::vector<uint8_t>{0, 255, 128, 0}));
  b.steps = 1;
  b.inputs.rows = 1;
  b.inputs.cols = 3;
  b.inputs.row_begin = {0, 2};
  b.inputs.col = {0, 1};
  b.inputs.value = {1, 1};
  EXPECT_FALSE(BatchToImages(b, 1).ok());
}

TEST(ImageGridTest, PgmLayoutAndFrames) {
  const auto images = BatchToImages(OneHotBatch(), 2);
  ASSERT_TRUE(images.ok());
  const std::string pgm = ImageGridPgm(*images, 2, 3, 2);
  // Tiles 2*3 + 4 = 10 wide; 2 tiles + 3 gaps of 2 = 26 by 1 tile + 2 gaps.
  const std::string header = "P5\n26 14\n255\n";
  ASSERT_EQ(pgm.substr(0, header.size()), header);
  ASSERT_EQ(pgm.size(), header.size() + 26 * 14);
  auto at = [&](int x, int y) {
    return static_cast<uint8_t>(pgm[header.size() + y * 26 + x]);
  };
  EXPECT_EQ(at(0, 0), 0);    // gap
  EXPECT_EQ(at(2, 2), 255);  // frame of label 1 of 2 classes
  EXPECT_EQ(at(14, 2), 60);  // frame of label 0
  EXPECT_EQ(at(4, 4), 32);   // first pixel, zoomed
  EXPECT_EQ(at(6, 6), 32);
  EXPECT_EQ(at(7, 4), 96);   // second pixel
  EXPECT_EQ(at(16, 7), 32);  // second image, third pixel
}

TEST(ImageGridTest, WritesPathfinderSpecGrid) {
  const std::string dir = MakeTestDir("image_grid");
  const std::string spec = absl::StrCat(dir, "/pf.textproto");
  const std::string out = absl::StrCat(dir, "/pf.pgm");
  WriteTestFile(spec,
                "pathfinder { size: 32 num_train: 10 num_valid: 4 "
                "num_test: 6 }\nseed: 3\n");
  ImageGridOptions options;
  options.count = 6;
  options.columns = 3;
  const auto text = WriteDatasetImageGrid(spec, out, options);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_NE(text->find("0 1 0\n  1 0 1"), std::string::npos) << *text;
  const auto pgm = ReadFileToString(out);
  ASSERT_TRUE(pgm.ok());
  // Zoom 4: tiles 32 * 4 + 4 = 132; 3 columns, 2 rows.
  EXPECT_EQ(pgm->substr(0, 15), "P5\n404 270\n255\n");
  options.count = 0;
  EXPECT_FALSE(WriteDatasetImageGrid(spec, out, options).ok());
}

}  // namespace
}  // namespace elm
