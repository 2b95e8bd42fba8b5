// Tests of the Pathfinder generator and dataset: option validation,
// determinism, the label's meaning (on solid lines the markers are connected
// exactly when the label is 1), balance, the one-hot encoding and the
// presets.
#include "data/pathfinder.h"

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "data/dataset.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

TEST(PathfinderOptionsTest, PresetsAreValidAndScale) {
  const PathfinderOptions p32 = PathfinderPreset(32);
  const PathfinderOptions p128 = PathfinderPreset(128);
  EXPECT_TRUE(ValidatePathfinderOptions(p32).ok());
  EXPECT_TRUE(ValidatePathfinderOptions(p128).ok());
  EXPECT_EQ(p32.grey_bins, 16);
  EXPECT_EQ(p128.grey_bins, 8);
  EXPECT_DOUBLE_EQ(p128.paddle_length, 4 * p32.paddle_length);
  EXPECT_DOUBLE_EQ(p128.marker_distance, 4 * p32.marker_distance);
  EXPECT_EQ(p128.contour_length, p32.contour_length);
}

TEST(PathfinderOptionsTest, RejectsBadFields) {
  PathfinderOptions o = PathfinderPreset(32);
  o.grey_bins = 1;
  absl::Status s = ValidatePathfinderOptions(o);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("grey_bins"), absl::string_view::npos) << s;
  o = PathfinderPreset(32);
  o.continuity = 0.5;
  EXPECT_NE(ValidatePathfinderOptions(o).message().find("continuity"),
            absl::string_view::npos);
  o = PathfinderPreset(32);
  o.size = 4;
  EXPECT_FALSE(GeneratePathfinderImage(o, 1, 0).ok());
  EXPECT_EQ(GeneratePathfinderImage(PathfinderPreset(32), 1, 2).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PathfinderTest, TooCrowdedIsAnError) {
  PathfinderOptions o = PathfinderPreset(32);
  o.num_distractors = 200;
  const absl::StatusOr<PathfinderImage> image =
      GeneratePathfinderImage(o, 3, 1);
  EXPECT_EQ(image.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(PathfinderTest, DeterministicPerSeed) {
  const PathfinderOptions o = PathfinderPreset(32);
  const auto a = GeneratePathfinderImage(o, 42, 1);
  const auto b = GeneratePathfinderImage(o, 42, 1);
  const auto c = GeneratePathfinderImage(o, 43, 1);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->pixels, b->pixels);
  EXPECT_NE(a->pixels, c->pixels);
  EXPECT_EQ(a->pixels.size(), 32u * 32u);
  EXPECT_EQ(a->label, 1);
}

TEST(PathfinderTest, ImagesHaveInkAndBlackBackground) {
  for (int size : {32, 128}) {
    const auto image = GeneratePathfinderImage(PathfinderPreset(size), 5, 0);
    ASSERT_TRUE(image.ok()) << image.status();
    int64_t ink = 0, full = 0;
    for (uint8_t p : image->pixels) {
      ink += p > 0;
      full += p == 255;
    }
    const int64_t n = int64_t{size} * size;
    // Two 14-paddle snakes and 5 distractors cover some but far from all.
    EXPECT_GT(ink, n / 20) << size;
    EXPECT_LT(ink, n / 2) << size;
    EXPECT_GT(full, 0) << size;
  }
}

TEST(PathfinderTest, LineContrastLeavesTheMarkersBrightest) {
  PathfinderOptions o = PathfinderPreset(32);
  ASSERT_TRUE(ValidatePathfinderOptions(o).ok());
  for (uint64_t seed = 0; seed < 6; ++seed) {
    o.line_contrast = 1.0;
    const auto full = GeneratePathfinderImage(o, seed, seed % 2);
    o.line_contrast = 0.5;
    const auto dim = GeneratePathfinderImage(o, seed, seed % 2);
    ASSERT_TRUE(full.ok() && dim.ok());
    // The same drawing (the contrast draws no random numbers), so the same
    // pixels are inked; above half grey only the two marker disks remain.
    int64_t bright_full = 0, bright_dim = 0;
    for (size_t i = 0; i < full->pixels.size(); ++i) {
      EXPECT_EQ(full->pixels[i] > 0, dim->pixels[i] > 0) << i;
      EXPECT_LE(dim->pixels[i], full->pixels[i]) << i;
      bright_full += full->pixels[i] > 128;
      bright_dim += dim->pixels[i] > 128;
    }
    // Two disks of radius 1.5 px cover about 2 * 7 pixels.
    EXPECT_GE(bright_dim, 4) << seed;
    EXPECT_LE(bright_dim, 24) << seed;
    EXPECT_GT(bright_full, 2 * bright_dim) << seed;
  }
  o.line_contrast = 0;
  EXPECT_NE(ValidatePathfinderOptions(o).message().find("line_contrast"),
            absl::string_view::npos);
}

// Components of pixels > 0 (8-connected); -1 for background.
std::vector<int> Components(const std::vector<uint8_t>& px, int n) {
  std::vector<int> comp(px.size(), -1);
  int next = 0;
  for (int start = 0; start < n * n; ++start) {
    if (px[start] == 0 || comp[start] >= 0) continue;
    std::vector<int> stack = {start};
    comp[start] = next;
    while (!stack.empty()) {
      const int i = stack.back();
      stack.pop_back();
      const int x = i % n, y = i / n;
      for (int dy = -1; dy <= 1; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) {
          const int xx = x + dx, yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= n || yy >= n) continue;
          const int j = yy * n + xx;
          if (px[j] > 0 && comp[j] < 0) {
            comp[j] = next;
            stack.push_back(j);
          }
        }
      }
    }
    ++next;
  }
  return comp;
}

// With solid lines (no gap between paddles) and lines much thinner than the
// separation, each snake is one connected blob and the markers (the only
// places with a 3x3 block of full pixels) lie in the same blob exactly when
// the label is 1.
TEST(PathfinderTest, LabelOneIffMarkersOnOneSolidPath) {
  PathfinderOptions o = PathfinderPreset(64);
  o.paddle_gap = 0;
  int checked[2] = {0, 0};
  for (uint64_t seed = 0; seed < 40; ++seed) {
    const int label = static_cast<int>(seed % 2);
    const auto image = GeneratePathfinderImage(o, seed, label);
    ASSERT_TRUE(image.ok()) << image.status();
    const int n = o.size;
    const std::vector<uint8_t>& px = image->pixels;
    const std::vector<int> comp = Components(px, n);
    std::vector<int> marker_comps;
    for (int y = 1; y + 1 < n; ++y) {
      for (int x = 1; x + 1 < n; ++x) {
        bool full = true;
        for (int dy = -1; dy <= 1; ++dy) {
          for (int dx = -1; dx <= 1; ++dx) {
            full = full && px[(y + dy) * n + x + dx] == 255;
          }
        }
        if (full) marker_comps.push_back(comp[y * n + x]);
      }
    }
    ASSERT_FALSE(marker_comps.empty()) << seed;
    // Every full block belongs to a marker; the two markers give at most two
    // distinct components.
    int first = marker_comps[0], other = first;
    for (int c : marker_comps) {
      if (c != first) other = c;
    }
    const bool connected = first == other;
    EXPECT_EQ(connected, label == 1) << "seed " << seed;
    ++checked[label];
  }
  EXPECT_EQ(checked[0], 20);
  EXPECT_EQ(checked[1], 20);
}

TEST(PathfinderDatasetTest, InfoAndOneHotSteps) {
  PathfinderDatasetOptions o;
  o.image = PathfinderPreset(32);
  o.num_train = 20;
  o.num_valid = 4;
  o.num_test = 6;
  const auto d = PathfinderDataset::Create(o, 7);
  ASSERT_TRUE(d.ok()) << d.status();
  const DatasetInfo& info = (*d)->info();
  EXPECT_EQ(info.name, "pathfinder32");
  EXPECT_EQ(info.input_dim, 16);
  EXPECT_EQ(info.steps, 1024);
  EXPECT_EQ(info.num_classes, 2);
  EXPECT_EQ((*d)->num_sequences(Split::kValid), 4);
  auto sampler = (*d)->MakeSampler(Split::kTest, 6, 0);
  ASSERT_TRUE(sampler.ok());
  const auto batch = (*sampler)->Next();
  ASSERT_TRUE(batch.ok());
  std::string why;
  EXPECT_TRUE(batch->IsConsistent(&why)) << why;
  EXPECT_EQ(batch->inputs.col.size(), 6u * 1024u);
  // Step t of sequence s is the binned pixel t of test image s.
  for (int s = 0; s < 6; ++s) {
    const auto image = (*d)->Image(Split::kTest, s);
    ASSERT_TRUE(image.ok());
    EXPECT_EQ(batch->labels[s], s % 2);
    for (int t = 0; t < 1024; ++t) {
      ASSERT_EQ(batch->inputs.col[s * 1024 + t], image->pixels[t] * 16 / 256);
    }
  }
  EXPECT_FALSE((*d)->MakeSampler(Split::kValid, 5, 0).ok());
  EXPECT_FALSE((*d)->MakeSampler(Split::kTrain, 0, 0).ok());
}

TEST(PathfinderDatasetTest, KeptImagesGiveTheSameBatches) {
  PathfinderDatasetOptions o;
  o.image = PathfinderPreset(32);
  o.num_train = 12;
  o.num_valid = 4;
  o.num_test = 4;
  PathfinderDatasetOptions none = o;
  none.cache_max_bytes = 0;
  // Room for test and valid (8 KB) but not train.
  PathfinderDatasetOptions some = o;
  some.cache_max_bytes = 9 * 1024;
  const auto all_kept = PathfinderDataset::Create(o, 5);
  const auto not_kept = PathfinderDataset::Create(none, 5);
  const auto some_kept = PathfinderDataset::Create(some, 5);
  ASSERT_TRUE(all_kept.ok() && not_kept.ok() && some_kept.ok());
  for (Split split : {Split::kTrain, Split::kValid, Split::kTest}) {
    EXPECT_TRUE((*all_kept)->caches(split));
    EXPECT_FALSE((*not_kept)->caches(split));
    EXPECT_EQ((*some_kept)->caches(split), split != Split::kTrain);
  }
  // Three epochs of the shuffled train split: the first draws, the later
  // ones read the kept copies; the batches are the same either way.
  auto a = (*all_kept)->MakeSampler(Split::kTrain, 4, 9);
  auto b = (*not_kept)->MakeSampler(Split::kTrain, 4, 9);
  ASSERT_TRUE(a.ok() && b.ok());
  for (int step = 0; step < 9; ++step) {
    const auto ba = (*a)->Next();
    const auto bb = (*b)->Next();
    ASSERT_TRUE(ba.ok() && bb.ok());
    EXPECT_EQ(ba->inputs.col, bb->inputs.col) << step;
    EXPECT_EQ(ba->labels, bb->labels) << step;
  }
  for (int64_t i = 0; i < 4; ++i) {
    const auto kept = (*some_kept)->Image(Split::kValid, i);
    const auto again = (*some_kept)->Image(Split::kValid, i);
    const auto drawn = (*not_kept)->Image(Split::kValid, i);
    ASSERT_TRUE(kept.ok() && again.ok() && drawn.ok());
    EXPECT_EQ(again->pixels, drawn->pixels) << i;
    EXPECT_EQ(again->label, drawn->label) << i;
  }
  none.cache_max_bytes = -1;
  EXPECT_FALSE(PathfinderDataset::Create(none, 5).ok());
}

TEST(PathfinderDatasetTest, BalancedEpochAndSeeded) {
  PathfinderDatasetOptions o;
  o.image = PathfinderPreset(32);
  o.num_train = 40;
  o.num_valid = 10;
  o.num_test = 10;
  const auto a = PathfinderDataset::Create(o, 1);
  const auto b = PathfinderDataset::Create(o, 1);
  const auto c = PathfinderDataset::Create(o, 2);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  // One epoch of the shuffled train split: 4 batches of 10, 20 positives.
  auto sa = (*a)->MakeSampler(Split::kTrain, 10, 3);
  auto sb = (*b)->MakeSampler(Split::kTrain, 10, 3);
  auto sc = (*c)->MakeSampler(Split::kTrain, 10, 3);
  int64_t positives = 0;
  bool any_differs = false;
  for (int i = 0; i < 4; ++i) {
    const auto ba = (*sa)->Next(), bb = (*sb)->Next(), bc = (*sc)->Next();
    ASSERT_TRUE(ba.ok() && bb.ok() && bc.ok());
    EXPECT_TRUE(*ba == *bb);
    any_differs = any_differs || !(*ba == *bc);
    for (int64_t l : ba->labels) positives += l;
  }
  const absl::Status held = CheckHeldParts(**a, Split::kTrain, 10, 3, 2);
  EXPECT_TRUE(held.ok()) << held;
  EXPECT_EQ(positives, 20);
  EXPECT_TRUE(any_differs);
  // Splits differ from each other.
  EXPECT_NE((*a)->Image(Split::kValid, 0)->pixels,
            (*a)->Image(Split::kTest, 0)->pixels);
}

// Every preset draws many images without running out of tries.
TEST(PathfinderTest, PresetsAlwaysFit) {
  for (int size : {32, 128}) {
    const int count = size == 32 ? 300 : 40;
    for (int i = 0; i < count; ++i) {
      const auto image =
          GeneratePathfinderImage(PathfinderPreset(size), 1000 + i, i % 2);
      ASSERT_TRUE(image.ok()) << size << " " << i << ": " << image.status();
    }
  }
}

}  // namespace
}  // namespace elm
