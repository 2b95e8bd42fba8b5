// Curves: DecimateIndices and SmoothEma of svg_plot.h, and the series
// drawing of svg_series.h.
#include "experiments/report/svg_series.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "experiments/report/svg_axes.h"
#include "experiments/report/svg_plot.h"
#include "experiments/report/svg_util.h"
#include "glog/logging.h"

namespace elm {

std::vector<size_t> DecimateIndices(const std::vector<double>& px,
                                    const std::vector<double>& py) {
  CHECK_EQ(px.size(), py.size());
  const size_t n = px.size();
  std::vector<size_t> keep;
  if (n <= 2) {
    for (size_t i = 0; i < n; ++i) keep.push_back(i);
    return keep;
  }
  size_t i = 0;
  while (i < n) {
    const double col = std::floor(px[i]);
    size_t j = i, imin = i, imax = i;
    while (j + 1 < n && std::floor(px[j + 1]) == col) {
      ++j;
      if (py[j] < py[imin]) imin = j;
      if (py[j] > py[imax]) imax = j;
    }
    size_t candidates[4] = {i, imin, imax, j};
    std::sort(candidates, candidates + 4);
    for (int c = 0; c < 4; ++c) {
      const size_t k = candidates[c];
      if (!keep.empty() && keep.back() >= k) continue;  // duplicate
      if (!keep.empty() && k != j) {
        const size_t last = keep.back();
        if (std::floor(px[last]) == std::floor(px[k]) &&
            std::floor(py[last]) == std::floor(py[k])) {
          continue;  // same pixel as the previous kept point
        }
      }
      keep.push_back(k);
    }
    i = j + 1;
  }
  return keep;
}

std::vector<double> SmoothEma(const std::vector<double>& y, double alpha) {
  CHECK(alpha > 0 && alpha <= 1) << "alpha " << alpha;
  std::vector<double> out(y.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    if (!std::isfinite(y[i])) {
      out[i] = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    num = alpha * y[i] + (1 - alpha) * num;
    den = alpha + (1 - alpha) * den;
    out[i] = num / den;
  }
  return out;
}

namespace svg_internal {

std::vector<std::vector<std::pair<double, double>>> Pieces(
    const std::vector<double>& x, const std::vector<double>& y, const Scale& sx,
    const Scale& sy) {
  std::vector<std::vector<std::pair<double, double>>> pieces;
  std::vector<double> px, py;
  auto flush = [&]() {
    if (px.empty()) return;
    std::vector<std::pair<double, double>> piece;
    for (const size_t i : DecimateIndices(px, py)) {
      piece.emplace_back(px[i], py[i]);
    }
    pieces.push_back(std::move(piece));
    px.clear();
    py.clear();
  };
  for (size_t i = 0; i < x.size(); ++i) {
    if (!sx.Drawable(x[i]) || !sy.Drawable(y[i])) {
      flush();
      continue;
    }
    px.push_back(sx(x[i]));
    py.push_back(sy(y[i]));
  }
  flush();
  return pieces;
}

std::string PathData(
    const std::vector<std::vector<std::pair<double, double>>>& pieces) {
  std::string d;
  for (const auto& piece : pieces) {
    if (piece.size() < 2) continue;
    for (size_t i = 0; i < piece.size(); ++i) {
      absl::StrAppend(&d, d.empty() ? "" : " ", i == 0 ? "M" : "L",
                      Coord(piece[i].first), " ", Coord(piece[i].second));
    }
  }
  return d;
}

std::string DrawSeries(const PlotSeries& s, const std::string& color,
                       const Scale& sx, const Scale& sy) {
  const auto pieces = Pieces(s.x, s.y, sx, sy);
  std::string out;
  const std::string opacity =
      s.opacity < 1.0
          ? absl::StrCat(" opacity=\"", FormatNumber(s.opacity), "\"")
          : "";
  const std::string d = PathData(pieces);
  if (!d.empty()) {
    absl::StrAppend(&out, "<path d=\"", d, "\" fill=\"none\" stroke=\"", color,
                    "\" stroke-width=\"", FormatNumber(s.width),
                    "\" stroke-linejoin=\"round\" stroke-linecap=\"round\"",
                    s.dashed ? " stroke-dasharray=\"6 4\"" : "", opacity,
                    "/>\n");
  }
  if (!s.y_low.empty() && !s.y_high.empty()) {
    // Error bars: a vertical line and two 6 px caps per point.
    std::string d;
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!sx.Drawable(s.x[i]) || !sy.Drawable(s.y_low[i]) ||
          !sy.Drawable(s.y_high[i])) {
        continue;
      }
      const double px = sx(s.x[i]), lo = sy(s.y_low[i]), hi = sy(s.y_high[i]);
      absl::StrAppend(&d, d.empty() ? "" : " ", "M", Coord(px), " ", Coord(lo),
                      " L", Coord(px), " ", Coord(hi), " M", Coord(px - 3), " ",
                      Coord(lo), " L", Coord(px + 3), " ", Coord(lo), " M",
                      Coord(px - 3), " ", Coord(hi), " L", Coord(px + 3), " ",
                      Coord(hi));
    }
    if (!d.empty()) {
      absl::StrAppend(&out, "<path d=\"", d, "\" fill=\"none\" stroke=\"",
                      color, "\" stroke-width=\"1.25\"", opacity, "/>\n");
    }
  }
  size_t points = 0;
  for (const auto& piece : pieces) points += piece.size();
  const bool markers = s.markers && points <= 400;
  const double r = std::max(2.0, s.width * 1.2);
  for (const auto& piece : pieces) {
    if (piece.size() >= 2 && !markers) continue;
    for (const auto& p : piece) {
      absl::StrAppend(&out, "<circle cx=\"", Coord(p.first), "\" cy=\"",
                      Coord(p.second), "\" r=\"", Coord(r), "\" fill=\"", color,
                      "\"", opacity, "/>\n");
    }
  }
  return out;
}

}  // namespace svg_internal
}  // namespace elm
