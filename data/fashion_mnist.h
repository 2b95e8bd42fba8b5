// Sequential Fashion-MNIST from Debian's `dataset-fashion-mnist` package
// (installed by tools/setup.sh; files in /usr/share/datasets/fashion-mnist:
// train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
// t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz). This provides an IDX
// reader and writer (magic 00 00 <type> <ndim>, big-endian uint32 dimensions,
// then the data; only type 0x08, unsigned bytes, is supported; gzipped or
// plain files, detected by zlib), a loader of the images/labels pairs, and a
// sequential classification `Dataset` with 10 classes in two encodings:
// pixel by pixel (784 steps in row-major order, grey level binned to 16 levels
// by level = pixel / 16, one-hot, input_dim 16: the LRA Image preprocessing)
// and row by row (28 steps of the 28 pixels of a row scaled by 1/255 to
// [0, 1], input_dim 28, zero pixels left out of the sparse rows). Errors are
// absl::Status values naming the file.
#ifndef ELM_DATA_FASHION_MNIST_H_
#define ELM_DATA_FASHION_MNIST_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "data/dataset.h"

namespace elm {

inline constexpr char kFashionMnistDebianDir[] =
    "/usr/share/datasets/fashion-mnist";
inline constexpr int kFashionMnistRows = 28;
inline constexpr int kFashionMnistCols = 28;
inline constexpr int kFashionMnistPixels = 784;
inline constexpr int kFashionMnistNumClasses = 10;
inline constexpr int kFashionMnistGreyBins = 16;

// An IDX array of unsigned bytes.
struct IdxArray {
  std::vector<int64_t> dims;  // 1 to 4 dimensions, each >= 0
  std::vector<uint8_t> data;  // product(dims) bytes, row-major
};

// Reads an IDX file, gzipped or not. Errors (naming the file): cannot open,
// bad magic (the first two bytes must be 0, the type 0x08, 1 to 4
// dimensions), truncated header or data, trailing bytes, a corrupt gzip stream.
absl::StatusOr<IdxArray> ReadIdxFile(const std::string& path);

// Writes an IDX file of type 0x08, gzipped when `gzip`. Errors name the file.
absl::Status WriteIdxFile(const std::string& path, const IdxArray& array,
                          bool gzip);

// Images with their labels.
struct FashionMnistImages {
  int64_t count = 0;
  std::vector<uint8_t> pixels;  // [count, 28, 28]
  std::vector<uint8_t> labels;  // [count], each in 0..9
};

// Reads an images file ([N, 28, 28]) and a labels file ([N], values 0..9).
// Errors name the file: wrong shapes, different counts, labels out of range.
absl::StatusOr<FashionMnistImages> ReadFashionMnistFiles(
    const std::string& images_path, const std::string& labels_path);

// `<dir>/<name>.gz` if it exists, else `<dir>/<name>`.
std::string FashionMnistPath(const std::string& dir, const std::string& name);

enum class FashionMnistEncoding {
  kPixel,  // 784 steps, one-hot of pixel / 16 over 16 channels
  kRow,    // 28 steps, 28 channels, pixel / 255
};

struct FashionMnistOptions {
  std::string dir = kFashionMnistDebianDir;
  FashionMnistEncoding encoding = FashionMnistEncoding::kPixel;
  // The validation split is the last num_valid training images (in file
  // order; deterministic, so no seed); train is the rest. 0 <= num_valid <
  // 60000 (or the training file's count).
  int64_t num_valid = 5000;
};

// Appends the steps of one image (784 pixels) to `batch` in `encoding`:
// 784 or 28 rows to row_begin (which must already hold its leading entry),
// channels ascending within a row.
void AppendFashionMnistImage(const uint8_t* pixels,
                             FashionMnistEncoding encoding, Batch* batch);
// The nonzeros AppendFashionMnistImage appends for `pixels` (784 for kPixel,
// the nonzero pixels for rows), without appending them.
int64_t FashionMnistImageNonzeros(const uint8_t* pixels,
                                  FashionMnistEncoding encoding);

// Sequential Fashion-MNIST over images held in memory.
// info(): name "fashion_mnist_pixel" / "fashion_mnist_row", input_dim 16 / 28,
// steps 784 / 28, num_classes 10, delta_t_ms 1. Samplers (infinite; the
// dataset must outlive them): train is consecutive batches over an order that
// Fisher–Yates with Rng(seed) reshuffles every epoch; valid and test go in
// file order, seed unused; the trailing partial batch of an epoch is dropped.
class FashionMnistDataset : public Dataset {
 public:
  // From the four files under options.dir (FashionMnistPath names).
  static absl::StatusOr<std::unique_ptr<FashionMnistDataset>> Load(
      const FashionMnistOptions& options);
  // From images already read; options.dir is unused.
  static absl::StatusOr<std::unique_ptr<FashionMnistDataset>> Create(
      FashionMnistImages train, FashionMnistImages test,
      const FashionMnistOptions& options);

  const DatasetInfo& info() const override { return info_; }
  absl::StatusOr<std::unique_ptr<BatchSampler>> MakeSampler(
      Split split, int batch_size, uint64_t seed) const override;
  // Number of images in a split.
  int64_t size(Split split) const;
  int64_t num_sequences(Split split) const override { return size(split); }

 private:
  FashionMnistDataset() = default;
  DatasetInfo info_;
  FashionMnistEncoding encoding_ = FashionMnistEncoding::kPixel;
  FashionMnistImages train_, test_;
  int64_t num_train_ = 0;  // train is [0, num_train_), valid the rest
};

}  // namespace elm

#endif  // ELM_DATA_FASHION_MNIST_H_
