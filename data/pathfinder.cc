// The Pathfinder generator and dataset: see pathfinder.h.
#include "data/pathfinder.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "base/rng.h"
#include "data/epoch_order.h"
#include "glog/logging.h"

namespace elm {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kTurnTries = 20;
constexpr int kSnakeTries = 50;
constexpr int kImageTries = 200;

struct Point {
  double x = 0, y = 0;
};

struct Segment {
  Point a, b;
  int snake = 0;  // which snake it belongs to
  int index = 0;  // paddle index within its snake
};

double Dist2(Point p, Point q) {
  return (p.x - q.x) * (p.x - q.x) + (p.y - q.y) * (p.y - q.y);
}

// Squared distance from p to the segment [a, b].
double PointSegmentDist2(Point p, Point a, Point b) {
  const double dx = b.x - a.x, dy = b.y - a.y;
  const double len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2 : 0;
  t = std::clamp(t, 0.0, 1.0);
  return Dist2(p, Point{a.x + t * dx, a.y + t * dy});
}

double Cross(Point o, Point a, Point b) {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

// Distance between the segments [a, b] and [c, d] (0 when they cross).
double SegmentDist(Point a, Point b, Point c, Point d) {
  const double d1 = Cross(a, b, c), d2 = Cross(a, b, d);
  const double d3 = Cross(c, d, a), d4 = Cross(c, d, b);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) &&
      ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) {
    return 0;
  }
  return std::sqrt(
      std::min({PointSegmentDist2(a, c, d), PointSegmentDist2(b, c, d),
                PointSegmentDist2(c, a, b), PointSegmentDist2(d, a, b)}));
}

// A turn with density ∝ cos²(c·Δθ) on |Δθ| <= π/(2c).
double SampleTurn(double continuity, Rng& rng) {
  const double max_turn = kPi / (2 * continuity);
  while (true) {
    const double t = rng.Uniform(-max_turn, max_turn);
    const double w = std::cos(continuity * t);
    if (rng.Uniform() < w * w) return t;
  }
}

class Drawing {
 public:
  Drawing(const PathfinderOptions& o, Rng* rng) : o_(o), rng_(*rng) {}

  bool Inside(Point p) const {
    const double lo = o_.padding + o_.thickness / 2;
    const double hi = o_.size - lo;
    return p.x >= lo && p.x <= hi && p.y >= lo && p.y <= hi;
  }

  // Whether the paddle [a, b] of (snake, index) keeps clear of everything
  // drawn and of the markers.
  bool Fits(Point a, Point b, int snake, int index) const {
    if (!Inside(a) || !Inside(b)) return false;
    for (const Segment& s : segments_) {
      // The two paddles before it on its own snake are its neighbours on the
      // chain (with turns of up to 90° they stay a gap away).
      if (s.snake == snake && s.index >= index - 2) continue;
      if (SegmentDist(a, b, s.a, s.b) < o_.min_separation) return false;
    }
    const double clear = o_.marker_radius + o_.min_separation;
    for (Point m : markers_) {
      if (PointSegmentDist2(m, a, b) < clear * clear) return false;
    }
    return true;
  }

  // Adds a snake of `length` paddles; false when none fits in the retries
  // (nothing is added then).
  bool AddSnake(int length, int snake) {
    const double step = o_.paddle_length + o_.paddle_gap;
    for (int attempt = 0; attempt < kSnakeTries; ++attempt) {
      const size_t mark = segments_.size();
      Point p{rng_.Uniform(0, o_.size), rng_.Uniform(0, o_.size)};
      double theta = rng_.Uniform(-kPi, kPi);
      bool ok = true;
      for (int k = 0; k < length && ok; ++k) {
        ok = false;
        for (int t = 0; t < kTurnTries; ++t) {
          const double th =
              k == 0 ? theta : theta + SampleTurn(o_.continuity, rng_);
          const Point b{p.x + o_.paddle_length * std::cos(th),
                        p.y + o_.paddle_length * std::sin(th)};
          if (Fits(p, b, snake, k)) {
            segments_.push_back(Segment{p, b, snake, k});
            theta = th;
            p = Point{p.x + step * std::cos(th), p.y + step * std::sin(th)};
            ok = true;
            break;
          }
          if (k == 0) break;  // a bad start: pick another one
        }
      }
      if (ok) return true;
      segments_.resize(mark);
    }
    return false;
  }

  // The tip of `snake`: the start of its first paddle (end 0) or the end of
  // its last (end 1).
  Point Tip(int snake, int end) const {
    const Segment* first = nullptr;
    const Segment* last = nullptr;
    for (const Segment& s : segments_) {
      if (s.snake != snake) continue;
      if (first == nullptr) first = &s;
      last = &s;
    }
    return end == 0 ? first->a : last->b;
  }

  // Whether the marker at m (on `snake`) keeps clear of the other snakes.
  bool MarkerClear(Point m, int snake) const {
    const double clear = o_.marker_radius + o_.min_separation;
    for (const Segment& s : segments_) {
      if (s.snake == snake) continue;
      if (PointSegmentDist2(m, s.a, s.b) < clear * clear) return false;
    }
    return true;
  }

  void AddMarker(Point m) { markers_.push_back(m); }

  // Anti-aliased rendering into [size, size] bytes.
  std::vector<uint8_t> Render() const {
    const int n = o_.size, k = o_.antialias;
    std::vector<float> canvas(static_cast<size_t>(n) * n, 0.0f);
    const double half = o_.thickness / 2;
    // Coverage of the shape within `reach` of the box [x0, x1] × [y0, y1];
    // `inside(p)` tells whether a sub-sample is covered.
    auto paint = [&](double x0, double y0, double x1, double y1, float level,
                     auto inside) {
      const int px0 = std::max(0, static_cast<int>(std::floor(x0)));
      const int py0 = std::max(0, static_cast<int>(std::floor(y0)));
      const int px1 = std::min(n - 1, static_cast<int>(std::floor(x1)));
      const int py1 = std::min(n - 1, static_cast<int>(std::floor(y1)));
      for (int py = py0; py <= py1; ++py) {
        for (int px = px0; px <= px1; ++px) {
          int hits = 0;
          for (int sy = 0; sy < k; ++sy) {
            for (int sx = 0; sx < k; ++sx) {
              hits += inside(Point{px + (sx + 0.5) / k, py + (sy + 0.5) / k});
            }
          }
          float& c = canvas[static_cast<size_t>(py) * n + px];
          c = std::max(c, level * static_cast<float>(hits) / (k * k));
        }
      }
    };
    for (const Segment& s : segments_) {
      paint(std::min(s.a.x, s.b.x) - half, std::min(s.a.y, s.b.y) - half,
            std::max(s.a.x, s.b.x) + half, std::max(s.a.y, s.b.y) + half,
            static_cast<float>(o_.line_contrast), [&](Point p) {
              return PointSegmentDist2(p, s.a, s.b) <= half * half;
            });
    }
    const double r = o_.marker_radius;
    for (Point m : markers_) {
      paint(m.x - r, m.y - r, m.x + r, m.y + r, 1.0f,
            [&](Point p) { return Dist2(p, m) <= r * r; });
    }
    std::vector<uint8_t> pixels(canvas.size());
    for (size_t i = 0; i < canvas.size(); ++i) {
      pixels[i] = static_cast<uint8_t>(std::lround(255.0f * canvas[i]));
    }
    return pixels;
  }

 private:
  const PathfinderOptions& o_;
  Rng& rng_;
  std::vector<Segment> segments_;
  std::vector<Point> markers_;
};

absl::Status Bad(absl::string_view field, double value,
                 absl::string_view expected) {
  return absl::InvalidArgumentError(absl::StrCat(
      "pathfinder: ", field, " = ", value, "; expected ", expected));
}

class PathfinderSampler : public BatchSampler {
 public:
  PathfinderSampler(const PathfinderDataset* dataset, Split split, int batch,
                    bool shuffle, uint64_t seed)
      : dataset_(dataset),
        split_(split),
        batch_(batch),
        order_(0, dataset->num_sequences(split), shuffle, seed) {}

  absl::StatusOr<Batch> Next() override {
    const absl::Span<const int64_t> picks = order_.Next(batch_);
    const DatasetInfo& info = dataset_->info();
    const int bins = static_cast<int>(info.input_dim);
    Batch b;
    b.batch = batch_;
    b.steps = info.steps;
    // One nonzero per step (the pixel's grey bin) for the held sequences
    // [h0, h1); the others' rows are empty (their labels are still read).
    const int64_t h0 = HeldBegin(batch_), h1 = HeldEnd(batch_);
    b.held_begin = h0;
    b.held_end = h1;
    b.nonzeros_before = h0 * b.steps;
    const int64_t rows = b.batch * b.steps;
    b.inputs.rows = rows;
    b.inputs.cols = bins;
    b.inputs.row_begin.resize(rows + 1);
    for (int64_t r = 0; r <= rows; ++r) {
      b.inputs.row_begin[r] =
          std::clamp(r - h0 * b.steps, int64_t{0}, (h1 - h0) * b.steps);
    }
    b.inputs.col.resize((h1 - h0) * b.steps);
    b.inputs.value.assign((h1 - h0) * b.steps, 1.0f);
    b.labels.resize(batch_);
    for (int s = 0; s < batch_; ++s) {
      if (!Holds(s)) {
        b.labels[s] = PathfinderDataset::Label(picks[s]);
        continue;
      }
      absl::StatusOr<PathfinderImage> image = dataset_->Image(split_, picks[s]);
      if (!image.ok()) return image.status();
      int32_t* col = b.inputs.col.data() + (s - h0) * b.steps;
      for (int64_t t = 0; t < b.steps; ++t) {
        col[t] = PathfinderGreyBin(image->pixels[t], bins);
      }
      b.labels[s] = image->label;
    }
    return b;
  }

 private:
  const PathfinderDataset* dataset_;
  Split split_;
  int batch_;
  EpochOrder order_;
};

}  // namespace

PathfinderOptions PathfinderPreset(int size) {
  PathfinderOptions o;
  const double scale = size / 32.0;
  o.size = size;
  o.paddle_length *= scale;
  o.paddle_gap *= scale;
  o.min_separation *= scale;
  o.padding *= scale;
  o.marker_radius *= scale;
  o.marker_distance *= scale;
  o.thickness = size <= 32 ? 1.0 : 1.5;
  o.grey_bins = size >= 128 ? 8 : 16;
  return o;
}

absl::Status ValidatePathfinderOptions(const PathfinderOptions& o) {
  if (o.size < 8 || o.size > 4096) return Bad("size", o.size, "8..4096");
  if (o.contour_length < 1) {
    return Bad("contour_length", o.contour_length, ">= 1");
  }
  if (o.distractor_length < 1) {
    return Bad("distractor_length", o.distractor_length, ">= 1");
  }
  if (o.num_distractors < 0) {
    return Bad("num_distractors", o.num_distractors, ">= 0");
  }
  if (!(o.paddle_length > 0)) {
    return Bad("paddle_length", o.paddle_length, "> 0");
  }
  if (!(o.paddle_gap >= 0)) return Bad("paddle_gap", o.paddle_gap, ">= 0");
  if (!(o.thickness > 0)) return Bad("thickness", o.thickness, "> 0");
  if (!(o.continuity >= 1)) return Bad("continuity", o.continuity, ">= 1");
  if (!(o.min_separation >= 0)) {
    return Bad("min_separation", o.min_separation, ">= 0");
  }
  if (!(o.padding >= 0)) return Bad("padding", o.padding, ">= 0");
  if (!(o.marker_radius > 0)) {
    return Bad("marker_radius", o.marker_radius, "> 0");
  }
  if (!(o.marker_distance >= 0)) {
    return Bad("marker_distance", o.marker_distance, ">= 0");
  }
  if (!(o.line_contrast > 0 && o.line_contrast <= 1)) {
    return Bad("line_contrast", o.line_contrast, "a value in (0, 1]");
  }
  if (o.antialias < 1 || o.antialias > 16) {
    return Bad("antialias", o.antialias, "1..16");
  }
  if (o.grey_bins < 2 || o.grey_bins > 256) {
    return Bad("grey_bins", o.grey_bins, "2..256");
  }
  return absl::OkStatus();
}

absl::StatusOr<PathfinderImage> GeneratePathfinderImage(
    const PathfinderOptions& options, uint64_t seed, int label) {
  if (absl::Status s = ValidatePathfinderOptions(options); !s.ok()) return s;
  if (label != 0 && label != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("pathfinder: label = ", label, "; expected 0 or 1"));
  }
  Rng rng(seed);
  for (int attempt = 0; attempt < kImageTries; ++attempt) {
    Drawing d(options, &rng);
    if (!d.AddSnake(options.contour_length, 0) ||
        !d.AddSnake(options.contour_length, 1)) {
      continue;
    }
    const int end_a = static_cast<int>(rng.UniformInt(2));
    const Point m0 = d.Tip(0, end_a);
    const int other_snake = label == 1 ? 0 : 1;
    const Point m1 = label == 1 ? d.Tip(0, 1 - end_a)
                                : d.Tip(1, static_cast<int>(rng.UniformInt(2)));
    if (Dist2(m0, m1) < options.marker_distance * options.marker_distance ||
        !d.MarkerClear(m0, 0) || !d.MarkerClear(m1, other_snake)) {
      continue;
    }
    d.AddMarker(m0);
    d.AddMarker(m1);
    bool ok = true;
    for (int i = 0; i < options.num_distractors && ok; ++i) {
      ok = d.AddSnake(options.distractor_length, 2 + i);
    }
    if (!ok) continue;
    PathfinderImage image;
    image.size = options.size;
    image.pixels = d.Render();
    image.label = label;
    return image;
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      "pathfinder: no drawing fits a ", options.size, "x", options.size,
      " image after ", kImageTries,
      " tries; lower contour_length, num_distractors, distractor_length, "
      "min_separation or marker_distance"));
}

absl::StatusOr<std::unique_ptr<PathfinderDataset>> PathfinderDataset::Create(
    const PathfinderDatasetOptions& options, uint64_t seed) {
  if (absl::Status s = ValidatePathfinderOptions(options.image); !s.ok()) {
    return s;
  }
  if (options.num_train < 0) return Bad("num_train", options.num_train, ">= 0");
  if (options.num_valid < 0) return Bad("num_valid", options.num_valid, ">= 0");
  if (options.num_test < 0) return Bad("num_test", options.num_test, ">= 0");
  if (options.cache_max_bytes < 0) {
    return Bad("cache_max_bytes", options.cache_max_bytes, ">= 0");
  }
  std::unique_ptr<PathfinderDataset> d(new PathfinderDataset());
  d->options_ = options;
  d->seed_ = seed;
  // Keep test, then valid, then train, while they fit together.
  const int64_t image_bytes =
      static_cast<int64_t>(options.image.size) * options.image.size;
  int64_t budget = options.cache_max_bytes;
  for (Split split : {Split::kTest, Split::kValid, Split::kTrain}) {
    const int64_t n = d->num_sequences(split);
    if (n == 0 || n > budget / image_bytes) continue;
    budget -= n * image_bytes;
    Cache& c = *d->CacheOf(split);
    c.pixels.reset(new uint8_t[n * image_bytes]);
    c.drawn.assign(n, false);
  }
  d->info_.name = absl::StrCat("pathfinder", options.image.size);
  d->info_.input_dim = options.image.grey_bins;
  d->info_.steps =
      static_cast<int64_t>(options.image.size) * options.image.size;
  d->info_.num_classes = 2;
  d->info_.delta_t_ms = 1.0;
  return d;
}

int64_t PathfinderDataset::num_sequences(Split split) const {
  switch (split) {
    case Split::kTrain:
      return options_.num_train;
    case Split::kValid:
      return options_.num_valid;
    default:
      return options_.num_test;
  }
}

PathfinderDataset::Cache* PathfinderDataset::CacheOf(Split split) const {
  switch (split) {
    case Split::kTrain:
      return &caches_[0];
    case Split::kValid:
      return &caches_[1];
    default:
      return &caches_[2];
  }
}

bool PathfinderDataset::caches(Split split) const {
  return CacheOf(split)->pixels != nullptr;
}

absl::StatusOr<PathfinderImage> PathfinderDataset::Image(Split split,
                                                         int64_t index) const {
  CHECK(index >= 0 && index < num_sequences(split)) << index;
  Cache* cache = CacheOf(split);
  const size_t image_bytes =
      static_cast<size_t>(options_.image.size) * options_.image.size;
  if (cache->pixels != nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    if (cache->drawn[index]) {
      PathfinderImage image;
      image.size = options_.image.size;
      const uint8_t* p = cache->pixels.get() + index * image_bytes;
      image.pixels.assign(p, p + image_bytes);
      image.label = Label(index);
      return image;
    }
  }
  const uint64_t split_seed = MixSeeds(seed_, static_cast<uint64_t>(split) + 1);
  absl::StatusOr<PathfinderImage> image = GeneratePathfinderImage(
      options_.image, MixSeeds(split_seed, static_cast<uint64_t>(index)),
      Label(index));
  if (image.ok() && cache->pixels != nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    std::copy(image->pixels.begin(), image->pixels.end(),
              cache->pixels.get() + index * image_bytes);
    cache->drawn[index] = true;
  }
  return image;
}

absl::StatusOr<std::unique_ptr<BatchSampler>> PathfinderDataset::MakeSampler(
    Split split, int batch_size, uint64_t seed) const {
  if (batch_size < 1) {
    return absl::InvalidArgumentError("pathfinder: batch_size must be >= 1");
  }
  if (batch_size > num_sequences(split)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pathfinder: batch_size ", batch_size, " exceeds the ",
        num_sequences(split), " images of split ", SplitName(split)));
  }
  return std::unique_ptr<BatchSampler>(new PathfinderSampler(
      this, split, batch_size, split == Split::kTrain, seed));
}

}  // namespace elm
