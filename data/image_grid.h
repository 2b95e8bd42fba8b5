// Images of an image dataset, for a person to look at: decodes the sequences
// of a batch back into grey images (one-hot pixel sequences such as
// Pathfinder's or pixel Fashion-MNIST's, whose T is a square, with channel c
// shown as the centre of its grey bin, (c + 0.5)·256 / D; or row sequences,
// T rows of D values in [0, 1] such as row Fashion-MNIST's) and lays them out
// as a binary PGM (P5) grid, each tile enlarged by an integer zoom and framed
// in a grey that encodes the label (dark for class 0 up to white for the last
// class). `WriteDatasetImageGrid` does it for the first images of a split of a
// dataset spec (`bazel run //data:inspect -- <spec> --image_grid=<out.pgm>`).
#ifndef ELM_DATA_IMAGE_GRID_H_
#define ELM_DATA_IMAGE_GRID_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/dataset.h"

namespace elm {

struct GreyImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // [height, width], row-major
  int64_t label = -1;
};

// The first `count` sequences of `batch` (count <= batch.batch) as images.
// Errors (InvalidArgument): the batch is neither one-hot pixels over a square
// T (every step exactly one nonzero) nor rows (D == T, values in [0, 1]).
absl::StatusOr<std::vector<GreyImage>> BatchToImages(const Batch& batch,
                                                     int count);

// The bytes of a PGM (P5, maxval 255) grid of `images` (all the same size),
// `columns` per row, each pixel drawn zoom × zoom, every tile framed by 2
// pixels of grey 60 + 195·label / (num_classes − 1) and the tiles 2 black
// pixels apart.
std::string ImageGridPgm(const std::vector<GreyImage>& images, int columns,
                         int zoom, int num_classes);

struct ImageGridOptions {
  Split split = Split::kTest;
  int count = 16;   // images, the first of the split's sampler (seed 0)
  int columns = 8;  // per grid row
  int zoom = 0;     // 0: so that a tile is about 128 pixels wide
};

// Builds the dataset of the text-format DatasetSpec at `spec_path`, draws the
// first options.count images of the split and writes the grid to `out_path`
// (WriteFileAtomically). Returns a text listing the labels in grid order.
absl::StatusOr<std::string> WriteDatasetImageGrid(
    const std::string& spec_path, const std::string& out_path,
    const ImageGridOptions& options);

}  // namespace elm

#endif  // ELM_DATA_IMAGE_GRID_H_
