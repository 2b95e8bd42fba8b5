// Pathfinder and Path-X (Long Range Arena): the contour-integration task of
// Linsley et al. 2018, generated in memory from a seed (no downloads). An
// image shows two target "snakes" and some shorter distractor snakes, each a
// dashed curve of short straight "paddles", and two circle markers on snake
// tips; the label is 1 when both markers sit on the two ends of one snake and
// 0 when they sit on the ends of the two different target snakes. The model
// reads the image one pixel per step in row-major order, the grey level
// binned and one-hot (LRA App. B: 16 bins for Pathfinder, 8 for Path-X).
//
// The generator, written from the published description:
//   1. Snakes are drawn in continuous pixel coordinates. A snake starts at a
//      uniform point (inside the padding) with a uniform direction θ; paddle k
//      is the segment [p_k, p_k + L·u(θ_k)], and the next paddle starts after
//      a gap g further on, p_{k+1} = p_k + (L + g)·u(θ_k), turned by
//      Δθ ~ density ∝ cos²(c·Δθ) on |Δθ| ≤ π/(2c) (c = `continuity`; rejection
//      sampling), so the curvature is bounded and small turns are the most
//      likely. A paddle is accepted when it lies inside the padding and keeps
//      `min_separation` (centre-line distance) from every paddle drawn so far
//      except the two before it on its own snake; up to 20 turns are tried per
//      paddle, then the snake restarts (up to 50 times), then the whole image
//      (up to 200 times; then an error: the options are too crowded).
//   2. Two target snakes of `contour_length` paddles. Markers: label 1 puts
//      one on each end of target snake A, label 0 one on an end of A and one
//      on an end of B (ends chosen at random). The markers must be at least
//      `marker_distance` apart and clear of every other snake (the image is
//      redrawn otherwise), so marker distance is a weak cue for either label.
//   3. `num_distractors` snakes of `distractor_length` paddles, which also
//      keep clear of the markers.
//   4. Rendering with anti-aliasing: each output pixel is the fraction of its
//      `antialias`² sub-samples that lie within thickness/2 of a paddle (times
//      `line_contrast`) or in a marker disk (the maximum over shapes), times
//      255, on black.
//
// Parameters (PathfinderPreset): for 32×32, LRA's hardest Pathfinder setting
// (the "curv_contour_length_14" folders: 14-paddle targets; distractors of 4
// paddles, 5 of them; paddle length 2 px; marker radius 1.5 px; markers 7 px
// apart at least; continuity 1, i.e. turns up to 90°, mostly below 30°).
// Lines are 1 px thick and separated by 2 px (1 px clear), which the
// published 0.5 px at 2× antialiasing would render as faint grey dashes that
// 16 grey bins keep poorly; sub-sampling is 4×4. For Path-X (128×128) every
// length (paddle, gap, separation, padding, marker radius and distance) is
// the 32×32 one times 4 but the lines stay thin (1.5 px), so the image is
// the same task at 16× the sequence length (16,384 steps), as in LRA.
//
// Splits: image i of a split is generated from MixSeeds(MixSeeds(seed,
// split), i) with label i % 2, so every split of even size has exactly half
// positives (and every valid/test batch of even size too, as those go in
// index order), and the data is the same on every machine for a seed.
#ifndef ELM_DATA_PATHFINDER_H_
#define ELM_DATA_PATHFINDER_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "data/dataset.h"

namespace elm {

struct PathfinderOptions {
  int size = 32;               // image side in pixels (>= 8)
  int contour_length = 14;     // paddles of each target snake (>= 1)
  int distractor_length = 4;   // paddles of each distractor (>= 1)
  int num_distractors = 5;     // >= 0
  double paddle_length = 2.0;  // px
  double paddle_gap = 1.0;     // px between consecutive paddles
  double thickness = 1.0;      // px
  double continuity = 1.0;  // c: turns |Δθ| <= π/(2c), weight cos²(cΔθ)
  double min_separation = 2.0;   // px between the centre lines of paddles
  double padding = 1.0;          // px kept free at the border
  double marker_radius = 1.5;    // px
  double marker_distance = 7.0;  // px, least distance between the markers
  int antialias = 4;             // sub-samples per axis of a pixel (>= 1)
  // Grey level of the snakes relative to the markers' (0 < c <= 1): below 1,
  // markers are the brightest pixels, an easier task (the published generator
  // has a paddle-contrast option too); the presets keep 1.
  double line_contrast = 1.0;
  int grey_bins = 16;  // one-hot channels (2..256)
};

// The options of LRA's Pathfinder (size 32) or Path-X (size 128; 8 grey
// bins); other sizes scale the 32×32 lengths by size / 32 with Path-X's
// thickness rule (1 px up to 32, 1.5 px above).
PathfinderOptions PathfinderPreset(int size);

// OK, or InvalidArgument naming the first bad field, e.g. "pathfinder:
// grey_bins = 1; expected 2..256".
absl::Status ValidatePathfinderOptions(const PathfinderOptions& options);

struct PathfinderImage {
  int size = 0;
  std::vector<uint8_t> pixels;  // [size, size], row-major, 0 black .. 255
  int label = 0;                // 1: markers on one snake
};

// One image with the given label (0 or 1), deterministic in (options, seed).
// Errors: invalid options; no valid drawing found within the retries (the
// message names the options to relax).
absl::StatusOr<PathfinderImage> GeneratePathfinderImage(
    const PathfinderOptions& options, uint64_t seed, int label);

// The one-hot channel of a grey level: pixel · bins / 256.
inline int PathfinderGreyBin(uint8_t pixel, int bins) {
  return pixel * bins / 256;
}

struct PathfinderDatasetOptions {
  PathfinderOptions image;
  int64_t num_train = 160000;  // LRA's 200,000 images split 80/10/10
  int64_t num_valid = 20000;
  int64_t num_test = 20000;
  // Generated images are kept (size² bytes each) for the later epochs, for
  // the splits that fit in this many bytes together, taken in the order
  // test, valid, train; 0: none kept. A 32×32 image takes ~1 ms to draw, as
  // long as a training step of a small model, so an uncached run spends
  // about half its time drawing; the default keeps all of LRA's 200,000
  // 32×32 images (205 MB, filled as they are drawn) but not Path-X's.
  int64_t cache_max_bytes = int64_t{256} << 20;
};

// Pathfinder as a classification Dataset; images are generated when a batch
// is drawn (nothing is stored). info(): name "pathfinder<size>", input_dim
// grey_bins, steps size², num_classes 2, delta_t_ms 1; every step has one
// nonzero (channel = PathfinderGreyBin, value 1). Samplers (infinite; the
// dataset must outlive them): train is consecutive batches over an order that
// Fisher–Yates with Rng(sampler seed) reshuffles every epoch; valid and test
// go in index order; the trailing partial batch of an epoch is dropped.
class PathfinderDataset : public Dataset {
 public:
  // `seed`: the dataset's seed (DatasetSpec.seed), which fixes the images.
  // Errors: invalid options, a split count < 0.
  static absl::StatusOr<std::unique_ptr<PathfinderDataset>> Create(
      const PathfinderDatasetOptions& options, uint64_t seed);

  const DatasetInfo& info() const override { return info_; }
  absl::StatusOr<std::unique_ptr<BatchSampler>> MakeSampler(
      Split split, int batch_size, uint64_t seed) const override;
  int64_t num_sequences(Split split) const override;

  // Image `index` of `split` (label index % 2); the kept copy when there is
  // one (the same pixels). Thread-safe.
  absl::StatusOr<PathfinderImage> Image(Split split, int64_t index) const;
  // Image `index`'s label (without generating it): alternating 0, 1.
  static int Label(int64_t index) { return static_cast<int>(index % 2); }
  const PathfinderDatasetOptions& options() const { return options_; }
  // Whether `split`'s images are kept (options().cache_max_bytes).
  bool caches(Split split) const;

 private:
  PathfinderDataset() = default;
  // The kept images of one split: [count, size²] bytes, filled on first use.
  struct Cache {
    std::unique_ptr<uint8_t[]> pixels;  // uninitialised until drawn
    std::vector<bool> drawn;
  };
  Cache* CacheOf(Split split) const;

  DatasetInfo info_;
  PathfinderDatasetOptions options_;
  uint64_t seed_ = 0;
  mutable std::mutex mu_;    // guards caches_' contents
  mutable Cache caches_[3];  // train, valid, test; empty: not kept
};

}  // namespace elm

#endif  // ELM_DATA_PATHFINDER_H_
