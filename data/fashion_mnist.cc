// Implementation of the IDX reader/writer and the sequential Fashion-MNIST
// dataset declared in fashion_mnist.h. Files are read through zlib's gzread,
// which passes plain files through unchanged, so gzipped and plain IDX files
// share one code path.
#include "data/fashion_mnist.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/rng.h"
#include "base/status_macros.h"
#include "data/epoch_order.h"

namespace elm {
namespace {

constexpr int64_t kMaxIdxBytes = int64_t{1} << 32;

// Reads exactly n bytes; returns the number read or -1 on a zlib error.
int64_t ReadFully(gzFile f, uint8_t* out, int64_t n) {
  int64_t done = 0;
  while (done < n) {
    const unsigned chunk =
        static_cast<unsigned>(std::min<int64_t>(n - done, 1 << 30));
    const int got = gzread(f, out + done, chunk);
    if (got < 0) return -1;
    if (got == 0) break;
    done += got;
  }
  return done;
}

class GzCloser {
 public:
  explicit GzCloser(gzFile f) : f_(f) {}
  ~GzCloser() {
    if (f_ != nullptr) gzclose(f_);
  }
  GzCloser(const GzCloser&) = delete;
  GzCloser& operator=(const GzCloser&) = delete;

 private:
  gzFile f_;
};

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

class FashionMnistSampler : public BatchSampler {
 public:
  FashionMnistSampler(const FashionMnistImages* images, int64_t begin,
                      int64_t end, FashionMnistEncoding encoding,
                      const DatasetInfo& info, int batch, bool shuffle,
                      uint64_t seed)
      : images_(images),
        encoding_(encoding),
        info_(info),
        batch_(batch),
        order_(begin, end - begin, shuffle, seed) {}

  absl::StatusOr<Batch> Next() override {
    const absl::Span<const int64_t> picks = order_.Next(batch_);
    Batch b;
    b.batch = batch_;
    b.steps = info_.steps;
    b.inputs.rows = b.batch * b.steps;
    b.inputs.cols = info_.input_dim;
    b.inputs.row_begin.reserve(b.batch * b.steps + 1);
    b.inputs.row_begin.push_back(0);
    b.labels.resize(batch_);
    b.held_begin = HeldBegin(batch_);
    b.held_end = HeldEnd(batch_);
    for (int s = 0; s < batch_; ++s) {
      const int64_t i = picks[s];
      const uint8_t* pixels = &images_->pixels[i * kFashionMnistPixels];
      if (Holds(s)) {
        AppendFashionMnistImage(pixels, encoding_, &b);
      } else {
        if (s < b.held_begin) {
          b.nonzeros_before += FashionMnistImageNonzeros(pixels, encoding_);
        }
        b.inputs.row_begin.insert(b.inputs.row_begin.end(), b.steps,
                                  b.inputs.row_begin.back());
      }
      b.labels[s] = images_->labels[i];
    }
    return b;
  }

 private:
  const FashionMnistImages* images_;
  FashionMnistEncoding encoding_;
  DatasetInfo info_;
  int batch_;
  EpochOrder order_;
};

}  // namespace

absl::StatusOr<IdxArray> ReadIdxFile(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    return absl::NotFoundError(absl::StrCat("IDX: cannot open ", path));
  }
  GzCloser closer(f);
  uint8_t magic[4];
  const int64_t got = ReadFully(f, magic, 4);
  if (got < 0) {
    return absl::DataLossError(absl::StrCat("IDX: ", path, ": corrupt gzip"));
  }
  if (got < 4) {
    return absl::DataLossError(
        absl::StrCat("IDX: ", path, ": truncated header (", got, " bytes)"));
  }
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] < 1 ||
      magic[3] > 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        "IDX: ", path, ": bad magic ", magic[0], " ", magic[1], " ", magic[2],
        " ", magic[3], " (expected 0 0 8 <1..4>: unsigned bytes)"));
  }
  IdxArray a;
  int64_t total = 1;
  for (int d = 0; d < magic[3]; ++d) {
    uint8_t be[4];
    const int64_t n = ReadFully(f, be, 4);
    if (n != 4) {
      return absl::DataLossError(absl::StrCat(
          "IDX: ", path, ": truncated header (dimension ", d, ")"));
    }
    const int64_t dim = (int64_t{be[0]} << 24) | (int64_t{be[1]} << 16) |
                        (int64_t{be[2]} << 8) | int64_t{be[3]};
    a.dims.push_back(dim);
    total *= dim;
    if (total > kMaxIdxBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("IDX: ", path, ": more than 2^32 elements"));
    }
  }
  a.data.resize(total);
  const int64_t n = ReadFully(f, a.data.data(), total);
  if (n < 0) {
    return absl::DataLossError(absl::StrCat("IDX: ", path, ": corrupt gzip"));
  }
  if (n < total) {
    return absl::DataLossError(absl::StrCat("IDX: ", path, ": truncated data (",
                                            n, " of ", total, " bytes)"));
  }
  uint8_t extra;
  const int64_t more = ReadFully(f, &extra, 1);
  if (more != 0) {
    return absl::DataLossError(absl::StrCat(
        "IDX: ", path, more < 0 ? ": corrupt gzip" : ": trailing bytes"));
  }
  return a;
}

absl::Status WriteIdxFile(const std::string& path, const IdxArray& array,
                          bool gzip) {
  if (array.dims.empty() || array.dims.size() > 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("IDX: ", path, ": 1 to 4 dimensions required"));
  }
  int64_t total = 1;
  std::vector<uint8_t> out = {0, 0, 0x08,
                              static_cast<uint8_t>(array.dims.size())};
  for (int64_t d : array.dims) {
    if (d < 0 || d > 0xffffffffLL) {
      return absl::InvalidArgumentError(
          absl::StrCat("IDX: ", path, ": dimension ", d, " out of range"));
    }
    total *= d;
    for (int s = 24; s >= 0; s -= 8) out.push_back((d >> s) & 0xff);
  }
  if (total != static_cast<int64_t>(array.data.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("IDX: ", path, ": ", array.data.size(), " bytes for ",
                     total, " elements"));
  }
  out.insert(out.end(), array.data.begin(), array.data.end());
  gzFile f = gzopen(path.c_str(), gzip ? "wb" : "wbT");
  if (f == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("IDX: cannot open ", path, " for writing"));
  }
  int64_t done = 0;
  bool ok = true;
  while (ok && done < static_cast<int64_t>(out.size())) {
    const unsigned chunk = static_cast<unsigned>(
        std::min<int64_t>(static_cast<int64_t>(out.size()) - done, 1 << 30));
    const int wrote = gzwrite(f, out.data() + done, chunk);
    ok = wrote > 0;
    done += wrote;
  }
  if (gzclose(f) != Z_OK || !ok) {
    return absl::DataLossError(absl::StrCat("IDX: error writing ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<FashionMnistImages> ReadFashionMnistFiles(
    const std::string& images_path, const std::string& labels_path) {
  ASSIGN_OR_RETURN(IdxArray images, ReadIdxFile(images_path));
  ASSIGN_OR_RETURN(IdxArray labels, ReadIdxFile(labels_path));
  if (images.dims.size() != 3 || images.dims[1] != kFashionMnistRows ||
      images.dims[2] != kFashionMnistCols) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Fashion-MNIST: ", images_path, ": expected [N, 28, 28] images"));
  }
  if (labels.dims.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("Fashion-MNIST: ", labels_path, ": expected [N] labels"));
  }
  if (labels.dims[0] != images.dims[0]) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Fashion-MNIST: ", labels_path, " has ", labels.dims[0], " labels but ",
        images_path, " has ", images.dims[0], " images"));
  }
  for (size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] >= kFashionMnistNumClasses) {
      return absl::InvalidArgumentError(
          absl::StrCat("Fashion-MNIST: ", labels_path, ": label ", i, " is ",
                       labels.data[i], ", not in 0..9"));
    }
  }
  FashionMnistImages out;
  out.count = images.dims[0];
  out.pixels = std::move(images.data);
  out.labels = std::move(labels.data);
  return out;
}

std::string FashionMnistPath(const std::string& dir, const std::string& name) {
  const std::string base = absl::StrCat(dir, "/", name);
  const std::string gz = base + ".gz";
  return Exists(gz) ? gz : base;
}

void AppendFashionMnistImage(const uint8_t* pixels,
                             FashionMnistEncoding encoding, Batch* batch) {
  if (encoding == FashionMnistEncoding::kPixel) {
    for (int p = 0; p < kFashionMnistPixels; ++p) {
      batch->inputs.col.push_back(pixels[p] / (256 / kFashionMnistGreyBins));
      batch->inputs.value.push_back(1.0f);
      batch->inputs.row_begin.push_back(
          static_cast<int64_t>(batch->inputs.col.size()));
    }
    return;
  }
  for (int r = 0; r < kFashionMnistRows; ++r) {
    for (int c = 0; c < kFashionMnistCols; ++c) {
      const uint8_t v = pixels[r * kFashionMnistCols + c];
      if (v == 0) continue;
      batch->inputs.col.push_back(c);
      batch->inputs.value.push_back(static_cast<float>(v) / 255.0f);
    }
    batch->inputs.row_begin.push_back(
        static_cast<int64_t>(batch->inputs.col.size()));
  }
}

int64_t FashionMnistImageNonzeros(const uint8_t* pixels,
                                  FashionMnistEncoding encoding) {
  if (encoding == FashionMnistEncoding::kPixel) return kFashionMnistPixels;
  int64_t n = 0;
  for (int p = 0; p < kFashionMnistPixels; ++p) n += pixels[p] != 0;
  return n;
}

absl::StatusOr<std::unique_ptr<FashionMnistDataset>> FashionMnistDataset::Load(
    const FashionMnistOptions& options) {
  ASSIGN_OR_RETURN(
      FashionMnistImages train,
      ReadFashionMnistFiles(
          FashionMnistPath(options.dir, "train-images-idx3-ubyte"),
          FashionMnistPath(options.dir, "train-labels-idx1-ubyte")));
  ASSIGN_OR_RETURN(
      FashionMnistImages test,
      ReadFashionMnistFiles(
          FashionMnistPath(options.dir, "t10k-images-idx3-ubyte"),
          FashionMnistPath(options.dir, "t10k-labels-idx1-ubyte")));
  return Create(std::move(train), std::move(test), options);
}

absl::StatusOr<std::unique_ptr<FashionMnistDataset>>
FashionMnistDataset::Create(FashionMnistImages train, FashionMnistImages test,
                            const FashionMnistOptions& options) {
  for (const FashionMnistImages* im : {&train, &test}) {
    if (im->count < 0 ||
        static_cast<int64_t>(im->pixels.size()) !=
            im->count * kFashionMnistPixels ||
        static_cast<int64_t>(im->labels.size()) != im->count) {
      return absl::InvalidArgumentError(
          "Fashion-MNIST: images and labels do not match the count");
    }
  }
  if (options.num_valid < 0 || options.num_valid >= train.count) {
    return absl::InvalidArgumentError(
        absl::StrCat("Fashion-MNIST: num_valid = ", options.num_valid,
                     " must be in [0, ", train.count, ")"));
  }
  std::unique_ptr<FashionMnistDataset> d(new FashionMnistDataset());
  d->encoding_ = options.encoding;
  const bool pixel = options.encoding == FashionMnistEncoding::kPixel;
  d->info_.name = pixel ? "fashion_mnist_pixel" : "fashion_mnist_row";
  d->info_.input_dim = pixel ? kFashionMnistGreyBins : kFashionMnistCols;
  d->info_.steps = pixel ? kFashionMnistPixels : kFashionMnistRows;
  d->info_.num_classes = kFashionMnistNumClasses;
  d->info_.delta_t_ms = 1.0;
  d->num_train_ = train.count - options.num_valid;
  d->train_ = std::move(train);
  d->test_ = std::move(test);
  return d;
}

int64_t FashionMnistDataset::size(Split split) const {
  switch (split) {
    case Split::kTrain:
      return num_train_;
    case Split::kValid:
      return train_.count - num_train_;
    default:
      return test_.count;
  }
}

absl::StatusOr<std::unique_ptr<BatchSampler>> FashionMnistDataset::MakeSampler(
    Split split, int batch_size, uint64_t seed) const {
  if (batch_size < 1 || batch_size > size(split)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Fashion-MNIST: batch_size ", batch_size, " must be in [1, ",
        size(split), "] for split ", SplitName(split)));
  }
  const FashionMnistImages* images = split == Split::kTest ? &test_ : &train_;
  const int64_t begin = split == Split::kValid ? num_train_ : 0;
  const int64_t end = split == Split::kTrain   ? num_train_
                      : split == Split::kValid ? train_.count
                                               : test_.count;
  return std::unique_ptr<BatchSampler>(
      new FashionMnistSampler(images, begin, end, encoding_, info_, batch_size,
                              split == Split::kTrain, seed));
}

}  // namespace elm
