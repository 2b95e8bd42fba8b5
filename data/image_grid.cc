// Image grids of image datasets: see image_grid.h.
#include "data/image_grid.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "data/dataset_factory.h"

namespace elm {

absl::StatusOr<std::vector<GreyImage>> BatchToImages(const Batch& batch,
                                                     int count) {
  const int64_t T = batch.steps, D = batch.input_dim();
  const CsrMatrix& x = batch.inputs;
  count = std::min<int64_t>(count, batch.batch);
  const int64_t side = std::llround(std::sqrt(static_cast<double>(T)));
  bool one_hot = side * side == T && D >= 2;
  for (int64_t r = 0; one_hot && r < int64_t{count} * T; ++r) {
    one_hot = x.row_begin[r + 1] - x.row_begin[r] == 1;
  }
  const bool rows = !one_hot && D == T;
  if (!one_hot && !rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not an image dataset: ", T, " steps of ", D,
        " inputs are neither one-hot pixels over a square nor rows of "
        "T = D values"));
  }
  std::vector<GreyImage> images(count);
  for (int i = 0; i < count; ++i) {
    GreyImage& im = images[i];
    im.width = im.height = static_cast<int>(one_hot ? side : T);
    im.pixels.assign(static_cast<size_t>(im.width) * im.height, 0);
    if (!batch.labels.empty()) im.label = batch.labels[i];
    for (int64_t t = 0; t < T; ++t) {
      const int64_t r = i * T + t;
      for (int64_t k = x.row_begin[r]; k < x.row_begin[r + 1]; ++k) {
        if (one_hot) {
          im.pixels[t] = static_cast<uint8_t>(
              std::min<int64_t>(255, ((2 * x.col[k] + 1) * 128) / D));
        } else {
          const double v = std::clamp<double>(x.value[k], 0.0, 1.0);
          im.pixels[t * D + x.col[k]] =
              static_cast<uint8_t>(std::lround(255 * v));
        }
      }
    }
  }
  return images;
}

std::string ImageGridPgm(const std::vector<GreyImage>& images, int columns,
                         int zoom, int num_classes) {
  constexpr int kFrame = 2, kGap = 2;
  const int n = static_cast<int>(images.size());
  columns = std::max(1, std::min(columns, n));
  const int grid_rows = n == 0 ? 0 : (n + columns - 1) / columns;
  const int w = n == 0 ? 0 : images[0].width, h = n == 0 ? 0 : images[0].height;
  const int tile_w = w * zoom + 2 * kFrame, tile_h = h * zoom + 2 * kFrame;
  const int width = columns * tile_w + (columns + 1) * kGap;
  const int height = grid_rows * tile_h + (grid_rows + 1) * kGap;
  std::string out = absl::StrCat("P5\n", width, " ", height, "\n255\n");
  const size_t header = out.size();
  out.resize(header + static_cast<size_t>(width) * height, '\0');
  auto at = [&](int x, int y) -> char& {
    return out[header + static_cast<size_t>(y) * width + x];
  };
  for (int i = 0; i < n; ++i) {
    const GreyImage& im = images[i];
    const int x0 = kGap + (i % columns) * (tile_w + kGap);
    const int y0 = kGap + (i / columns) * (tile_h + kGap);
    const int frame =
        60 + (num_classes > 1 && im.label >= 0
                  ? static_cast<int>(
                        195 * std::min<int64_t>(im.label, num_classes - 1) /
                        (num_classes - 1))
                  : 0);
    for (int y = 0; y < tile_h; ++y) {
      for (int x = 0; x < tile_w; ++x) {
        const int ix = x - kFrame, iy = y - kFrame;
        const bool inside =
            ix >= 0 && iy >= 0 && ix < w * zoom && iy < h * zoom;
        at(x0 + x, y0 + y) = static_cast<char>(
            inside ? im.pixels[(iy / zoom) * w + ix / zoom] : frame);
      }
    }
  }
  return out;
}

absl::StatusOr<std::string> WriteDatasetImageGrid(
    const std::string& spec_path, const std::string& out_path,
    const ImageGridOptions& options) {
  if (options.count < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("image grid: count = ", options.count, "; expected >= 1"));
  }
  ASSIGN_OR_RETURN(const DatasetSpec spec, ReadDatasetSpecFile(spec_path));
  ASSIGN_OR_RETURN(const std::unique_ptr<Dataset> dataset, MakeDataset(spec));
  ASSIGN_OR_RETURN(
      const std::unique_ptr<BatchSampler> sampler,
      dataset->MakeSampler(options.split, options.count, /*seed=*/0));
  ASSIGN_OR_RETURN(const Batch batch, sampler->Next());
  absl::StatusOr<std::vector<GreyImage>> images =
      BatchToImages(batch, options.count);
  if (!images.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dataset spec '", spec_path, "': ", images.status().message()));
  }
  const int zoom = options.zoom > 0
                       ? options.zoom
                       : std::max(1, 128 / std::max(1, (*images)[0].width));
  const int columns = std::max(1, options.columns);
  RETURN_IF_ERROR(WriteFileAtomically(
      out_path,
      ImageGridPgm(*images, columns, zoom, dataset->info().num_classes),
      "image grid"));
  std::string text = absl::StrCat(
      "wrote ", images->size(), " ", SplitName(options.split), " images of ",
      dataset->info().name, " (", (*images)[0].width, "x", (*images)[0].height,
      ", zoom ", zoom, ") to ", out_path,
      "\nlabels, row by row (frame: dark = class 0 ... white = class ",
      dataset->info().num_classes - 1, "):");
  for (size_t i = 0; i < images->size(); ++i) {
    absl::StrAppend(&text, i % columns == 0 ? "\n  " : " ", (*images)[i].label);
  }
  absl::StrAppend(&text, "\n");
  return text;
}

}  // namespace elm
