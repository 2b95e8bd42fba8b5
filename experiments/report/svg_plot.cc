// Implementation of the SVG figures of svg_plot.h: layout by fixed margins and
// estimated text widths (DejaVu Sans / Helvetica, about 0.6 em per
// character), coordinates printed with one decimal, curves clipped to their
// plot area by a clip path whose id is a hash of the figure's own content (so
// several figures inlined in one HTML page do not collide, and the output
// stays deterministic).
#include "experiments/report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "glog/logging.h"

namespace elm {
namespace {

constexpr char kFont[] = "DejaVu Sans, Helvetica, Arial, sans-serif";
constexpr char kClipToken[] = "@CLIPID@";
// Font sizes in px: tick labels, legends, axis labels, titles.
constexpr double kTickPx = 12;
constexpr double kLegendPx = 12;
constexpr double kAxisLabelPx = 13;
constexpr double kTitlePx = 15;
constexpr char kTextColor[] = "#222";
constexpr char kTickColor[] = "#555";
constexpr char kGridColor[] = "#e6e6e6";
constexpr char kFrameColor[] = "#9a9a9a";
// Tableau 10, reordered so that the first colours are distinct for colour-blind
// readers (blue, orange, green, red, purple, ...).
const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                "#bcbd22", "#17becf"};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);
constexpr char kExcitatoryColor[] = "#d62728";
constexpr char kInhibitoryColor[] = "#1f77b4";

// A coordinate with one decimal, without a trailing ".0" and never "-0".
std::string Coord(double v) {
  if (!std::isfinite(v)) v = 0;
  const double rounded = std::round(v * 10.0) / 10.0;
  if (rounded == 0) return "0";
  if (rounded == std::round(rounded)) {
    return absl::StrFormat("%.0f", rounded);
  }
  return absl::StrFormat("%.1f", rounded);
}

// Estimated width in px of `text` at `font_px`.
double TextWidth(absl::string_view text, double font_px) {
  // Count UTF-8 code points, not bytes.
  int chars = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++chars;
  }
  return chars * font_px * 0.6;
}

uint64_t Fnv1a64(absl::string_view data) {
  uint64_t h = 1469598103934665603ull;
  for (const char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// Replaces the clip-id placeholder in `body` with an id derived from `body`.
std::string WithClipIds(const std::string& body) {
  const std::string id = absl::StrFormat("clip%016x", Fnv1a64(body));
  return absl::StrReplaceAll(body, {{kClipToken, id}});
}

std::string SvgOpen(int width, int height, absl::string_view title) {
  return absl::StrCat("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"",
                      width, "\" height=\"", height, "\" viewBox=\"0 0 ", width,
                      " ", height, "\" font-family=\"", kFont,
                      "\" font-size=\"12\" role=\"img\">\n", "<title>",
                      XmlEscape(title), "</title>\n", "<rect width=\"", width,
                      "\" height=\"", height, "\" fill=\"#ffffff\"/>\n");
}

// <text> at (x, y) with the given anchor ("start", "middle", "end").
std::string Text(double x, double y, absl::string_view text,
                 absl::string_view anchor, double font_px = kTickPx,
                 absl::string_view color = kTickColor,
                 absl::string_view extra = "") {
  return absl::StrCat("<text x=\"", Coord(x), "\" y=\"", Coord(y),
                      "\" text-anchor=\"", anchor, "\" font-size=\"",
                      Coord(font_px), "\" fill=\"", color, "\"", extra, ">",
                      XmlEscape(text), "</text>\n");
}

std::string Title(double x, double y, absl::string_view title) {
  if (title.empty()) return "";
  return Text(x, y, title, "middle", kTitlePx, kTextColor,
              " font-weight=\"bold\"");
}

// A y-axis label, rotated, centred at (x, y).
std::string VerticalLabel(double x, double y, absl::string_view text) {
  if (text.empty()) return "";
  return absl::StrCat("<text x=\"0\" y=\"0\" text-anchor=\"middle\" ",
                      "font-size=\"", Coord(kAxisLabelPx), "\" fill=\"",
                      kTextColor, "\" transform=\"translate(", Coord(x), " ",
                      Coord(y), ") rotate(-90)\">", XmlEscape(text),
                      "</text>\n");
}

// A mapping from data values to pixels along one axis.
struct Scale {
  double lo = 0, hi = 1;  // data range
  double p0 = 0, p1 = 1;  // pixels of lo and hi
  bool log = false;

  double operator()(double v) const {
    double t;
    if (log) {
      t = (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    } else {
      t = (v - lo) / (hi - lo);
    }
    return p0 + t * (p1 - p0);
  }
  // Whether v can be drawn on this axis.
  bool Drawable(double v) const { return std::isfinite(v) && (!log || v > 0); }
};

std::string HexColor(double r, double g, double b) {
  auto c = [](double v) {
    return static_cast<int>(std::lround(std::clamp(v, 0.0, 255.0)));
  };
  return absl::StrFormat("#%02x%02x%02x", c(r), c(g), c(b));
}

// The "Blues" colour map at t in [0, 1]: near-white to dark blue.
std::string Blues(double t) {
  t = std::clamp(t, 0.0, 1.0);
  static const double kStops[3][3] = {
      {247, 251, 255}, {107, 174, 214}, {8, 48, 107}};
  const double s = t * 2;
  const int i = std::min(1, static_cast<int>(s));
  const double f = s - i;
  return HexColor(kStops[i][0] + f * (kStops[i + 1][0] - kStops[i][0]),
                  kStops[i][1] + f * (kStops[i + 1][1] - kStops[i][1]),
                  kStops[i][2] + f * (kStops[i + 1][2] - kStops[i][2]));
}

// Range of the drawable values of v on `scale`'s kind of axis; false if none.
bool DataRange(const std::vector<double>& v, bool log, double* lo, double* hi) {
  bool any = false;
  for (const double x : v) {
    if (!std::isfinite(x) || (log && x <= 0)) continue;
    if (!any) {
      *lo = *hi = x;
      any = true;
    } else {
      *lo = std::min(*lo, x);
      *hi = std::max(*hi, x);
    }
  }
  return any;
}

// Widens a degenerate range [v, v].
void WidenDegenerate(bool log, double* lo, double* hi) {
  if (*lo < *hi) return;
  if (log) {
    *lo /= 2;
    *hi *= 2;
  } else {
    const double d = *lo == 0 ? 1.0 : std::abs(*lo) * 0.1;
    *lo -= d;
    *hi += d;
  }
}

// The polyline pieces of (x, y) on the scales: split at undrawable points and
// decimated. Each piece is a list of pixel points.
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

// Path data "M x y L x y ..." of the pieces with more than one point.
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

// Draws one series: its path, isolated points as dots, markers if asked.
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

std::string ClipPath(double x, double y, double w, double h) {
  // Slightly larger than the plot area so that lines on its edge show fully.
  return absl::StrCat("<clipPath id=\"", kClipToken, "\"><rect x=\"",
                      Coord(x - 3), "\" y=\"", Coord(y - 3), "\" width=\"",
                      Coord(w + 6), "\" height=\"", Coord(h + 6),
                      "\"/></clipPath>\n");
}

// A legend entry's swatch and text.
struct LegendItem {
  std::string label;
  std::string color;
  bool dashed = false;
  bool marker = false;
  bool box = false;  // a filled square instead of a line
  double width = 2;
  double opacity = 1;
};

// Lays out the items in rows of at most `max_width` px starting at (x, y)
// (the first row's text baseline); returns the SVG and sets *rows.
std::string Legend(const std::vector<LegendItem>& items, double x, double y,
                   double max_width, int* rows) {
  std::string out;
  double cx = x;
  double cy = y;
  *rows = items.empty() ? 0 : 1;
  for (const LegendItem& item : items) {
    const double w = 24 + TextWidth(item.label, kLegendPx) + 18;
    if (cx > x && cx + w > x + max_width) {
      cx = x;
      cy += 18;
      ++*rows;
    }
    if (item.box) {
      absl::StrAppend(&out, "<rect x=\"", Coord(cx + 5), "\" y=\"",
                      Coord(cy - 9), "\" width=\"10\" height=\"10\" fill=\"",
                      item.color, "\"/>\n");
    } else {
      absl::StrAppend(
          &out, "<line x1=\"", Coord(cx), "\" y1=\"", Coord(cy - 4), "\" x2=\"",
          Coord(cx + 20), "\" y2=\"", Coord(cy - 4), "\" stroke=\"", item.color,
          "\" stroke-width=\"", Coord(std::max(2.0, item.width)), "\"",
          item.dashed ? " stroke-dasharray=\"6 4\"" : "",
          item.opacity < 1
              ? absl::StrCat(" opacity=\"",
                             FormatNumber(std::max(0.4, item.opacity)), "\"")
              : "",
          "/>\n");
      if (item.marker) {
        absl::StrAppend(&out, "<circle cx=\"", Coord(cx + 10), "\" cy=\"",
                        Coord(cy - 4), "\" r=\"2.5\" fill=\"", item.color,
                        "\"/>\n");
      }
    }
    absl::StrAppend(
        &out, Text(cx + 24, cy, item.label, "start", kLegendPx, kTextColor));
    cx += w;
  }
  return out;
}

// Number of legend rows the items need (same layout as Legend).
int LegendRows(const std::vector<LegendItem>& items, double max_width) {
  int rows = 0;
  Legend(items, 0, 0, max_width, &rows);
  return rows;
}

// Labels of the ticks, with FormatTick.
std::vector<std::string> TickLabels(const std::vector<double>& ticks) {
  std::vector<std::string> labels;
  labels.reserve(ticks.size());
  for (const double t : ticks) labels.push_back(FormatTick(t));
  return labels;
}

double MaxTextWidth(const std::vector<std::string>& labels, double font_px) {
  double w = 0;
  for (const auto& l : labels) w = std::max(w, TextWidth(l, font_px));
  return w;
}

// Vertical grid lines and, when `labels`, tick labels under the area.
std::string XGrid(const Scale& sx, const std::vector<double>& ticks, double top,
                  double bottom, bool labels) {
  std::string grid;
  std::string text;
  for (const double t : ticks) {
    const double x = sx(t);
    absl::StrAppend(&grid, "M", Coord(x), " ", Coord(top), "V", Coord(bottom));
    if (labels) {
      absl::StrAppend(&text, Text(x, bottom + 16, FormatTick(t), "middle"));
    }
  }
  std::string out;
  if (!grid.empty()) {
    absl::StrAppend(&out, "<path d=\"", grid, "\" stroke=\"", kGridColor,
                    "\" stroke-width=\"1\"/>\n");
  }
  return out + text;
}

// Horizontal grid lines and tick labels left of the area.
std::string YGrid(const Scale& sy, const std::vector<double>& ticks,
                  const std::vector<std::string>& labels, double left,
                  double right) {
  std::string grid;
  std::string text;
  for (size_t i = 0; i < ticks.size(); ++i) {
    const double y = sy(ticks[i]);
    absl::StrAppend(&grid, "M", Coord(left), " ", Coord(y), "H", Coord(right));
    absl::StrAppend(&text, Text(left - 6, y + 4, labels[i], "end"));
  }
  std::string out;
  if (!grid.empty()) {
    absl::StrAppend(&out, "<path d=\"", grid, "\" stroke=\"", kGridColor,
                    "\" stroke-width=\"1\"/>\n");
  }
  return out + text;
}

std::string Frame(double x, double y, double w, double h) {
  return absl::StrCat("<rect x=\"", Coord(x), "\" y=\"", Coord(y),
                      "\" width=\"", Coord(w), "\" height=\"", Coord(h),
                      "\" fill=\"none\" stroke=\"", kFrameColor,
                      "\" stroke-width=\"1\"/>\n");
}

std::string NoData(double cx, double cy) {
  return Text(cx, cy, "no data", "middle", 13, "#888",
              " font-style=\"italic\"");
}

// Ticks for an axis.
std::vector<double> AxisTicks(const Scale& s, int target) {
  return s.log ? LogTicks(s.lo, s.hi) : NiceTicks(s.lo, s.hi, target);
}

}  // namespace

std::string XmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' &&
            c != '\r') {
          out += "\xEF\xBF\xBD";  // U+FFFD
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string FormatNumber(double v) {
  if (v == 0) return "0";  // also -0
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return absl::StrFormat("%.4g", v);
}

std::string FormatTick(double v) {
  const double a = std::abs(v);
  if (std::isfinite(v) && a >= 1e4 && a < 1e12) {
    const char* suffix = "k";
    double scaled = v / 1e3;
    if (a >= 1e9) {
      suffix = "G";
      scaled = v / 1e9;
    } else if (a >= 1e6) {
      suffix = "M";
      scaled = v / 1e6;
    }
    return absl::StrCat(FormatNumber(scaled), suffix);
  }
  return FormatNumber(v);
}

double NiceStep(double lo, double hi, int target) {
  CHECK_GE(target, 1);
  if (!(hi > lo) || !std::isfinite(hi - lo)) return 1.0;
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  double m;
  if (norm < 1.5) {
    m = 1;
  } else if (norm < 3) {
    m = 2;
  } else if (norm < 7) {
    m = 5;
  } else {
    m = 10;
  }
  return m * mag;
}

std::vector<double> NiceTicks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi) return {};
  if (lo == hi) return {lo};
  const double step = NiceStep(lo, hi, target);
  const double k0 = std::ceil(lo / step - 1e-9);
  const double k1 = std::floor(hi / step + 1e-9);
  std::vector<double> ticks;
  for (double k = k0; k <= k1; ++k) {
    double v = k * step;
    if (std::abs(v) < step * 1e-9) v = 0;
    ticks.push_back(v);
  }
  return ticks;
}

std::vector<double> LogTicks(double lo, double hi) {
  if (!(lo > 0) || !(hi > lo) || !std::isfinite(hi)) return {};
  const double decades = std::log10(hi / lo);
  const int e0 = static_cast<int>(std::floor(std::log10(lo)));
  const int e1 = static_cast<int>(std::ceil(std::log10(hi)));
  const double tol = 1e-9;
  std::vector<double> ticks;
  if (decades < 2.5) {
    for (int e = e0; e <= e1; ++e) {
      for (const double m : {1.0, 2.0, 5.0}) {
        const double v = m * std::pow(10.0, e);
        if (v >= lo * (1 - tol) && v <= hi * (1 + tol)) ticks.push_back(v);
      }
    }
  } else {
    const int every = std::max(1, static_cast<int>(std::ceil(decades / 7)));
    for (int e = e0; e <= e1; ++e) {
      if (((e % every) + every) % every != 0) continue;
      const double v = std::pow(10.0, e);
      if (v >= lo * (1 - tol) && v <= hi * (1 + tol)) ticks.push_back(v);
    }
  }
  if (ticks.size() < 3) return NiceTicks(lo, hi, 4);
  return ticks;
}

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

std::string RenderLinePlot(const LinePlot& plot) {
  CHECK_GT(plot.width, 100);
  CHECK_GT(plot.height, 100);
  for (const PlotSeries& s : plot.series) {
    CHECK_EQ(s.x.size(), s.y.size()) << "series '" << s.name << "'";
  }
  // Data ranges over the points drawable on both axes.
  bool any = false;
  double x_lo = 0, x_hi = 0, y_lo = 0, y_hi = 0;
  std::vector<bool> has_data(plot.series.size(), false);
  for (size_t k = 0; k < plot.series.size(); ++k) {
    const PlotSeries& s = plot.series[k];
    for (size_t i = 0; i < s.x.size(); ++i) {
      const double x = s.x[i], y = s.y[i];
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      if ((plot.log_x && x <= 0) || (plot.log_y && y <= 0)) continue;
      has_data[k] = true;
      if (!any) {
        x_lo = x_hi = x;
        y_lo = y_hi = y;
        any = true;
      } else {
        x_lo = std::min(x_lo, x);
        x_hi = std::max(x_hi, x);
        y_lo = std::min(y_lo, y);
        y_hi = std::max(y_hi, y);
      }
    }
  }
  auto set_range = [](double lo, double hi, bool log) {
    return lo < hi && std::isfinite(lo) && std::isfinite(hi) &&
           (!log || lo > 0);
  };
  Scale sx, sy;
  sx.log = plot.log_x;
  sy.log = plot.log_y;
  const bool x_set = set_range(plot.x_min, plot.x_max, plot.log_x);
  const bool y_set = set_range(plot.y_min, plot.y_max, plot.log_y);
  if (x_set) {
    sx.lo = plot.x_min;
    sx.hi = plot.x_max;
  } else if (any) {
    sx.lo = x_lo;
    sx.hi = x_hi;
    WidenDegenerate(sx.log, &sx.lo, &sx.hi);
  } else if (sx.log) {
    sx.lo = 0.1;
  }
  if (y_set) {
    sy.lo = plot.y_min;
    sy.hi = plot.y_max;
  } else if (any) {
    sy.lo = y_lo;
    sy.hi = y_hi;
    WidenDegenerate(sy.log, &sy.lo, &sy.hi);
    if (sy.log) {
      const double pad = std::pow(10.0, 0.04 * std::log10(sy.hi / sy.lo));
      sy.lo /= pad;
      sy.hi *= pad;
    } else {
      // Round out to whole tick steps.
      const double step = NiceStep(sy.lo, sy.hi, 5);
      sy.lo = std::floor(sy.lo / step + 1e-9) * step;
      sy.hi = std::ceil(sy.hi / step - 1e-9) * step;
    }
  } else if (sy.log) {
    sy.lo = 0.1;
  }
  const std::vector<double> x_ticks =
      any || x_set ? AxisTicks(sx, 6) : std::vector<double>();
  const std::vector<double> y_ticks =
      any || y_set ? AxisTicks(sy, 5) : std::vector<double>();
  const std::vector<std::string> y_labels = TickLabels(y_ticks);

  // Legend items, in series order.
  std::vector<LegendItem> legend;
  std::vector<std::string> colors;
  int next_color = 0;
  for (size_t k = 0; k < plot.series.size(); ++k) {
    const PlotSeries& s = plot.series[k];
    colors.push_back(!s.color.empty() ? s.color
                                      : kPalette[next_color++ % kPaletteSize]);
    if (s.name.empty()) continue;
    LegendItem item;
    item.label = has_data[k] ? s.name : absl::StrCat(s.name, " (no data)");
    item.color = colors.back();
    item.dashed = s.dashed;
    item.marker = s.markers;
    item.width = s.width;
    item.opacity = s.opacity;
    legend.push_back(item);
  }

  // Layout.
  const double w = plot.width, h = plot.height;
  const double left = 10 + (plot.y_label.empty() ? 0 : 18) +
                      MaxTextWidth(y_labels, kTickPx) + 10;
  const double right = 18;
  const double title_h = plot.title.empty() ? 10 : 30;
  const int legend_rows = LegendRows(legend, w - left - right);
  const double top = title_h + legend_rows * 18 + (legend_rows > 0 ? 8 : 4);
  const double bottom = 26 + (plot.x_label.empty() ? 0 : 20);
  const double pw = w - left - right, ph = h - top - bottom;
  CHECK_GT(pw, 20) << "plot '" << plot.title << "' too small";
  CHECK_GT(ph, 20) << "plot '" << plot.title << "' too small";
  sx.p0 = left;
  sx.p1 = left + pw;
  sy.p0 = top + ph;
  sy.p1 = top;

  std::string body = SvgOpen(plot.width, plot.height, plot.title);
  absl::StrAppend(&body, Title(w / 2, 20, plot.title));
  int rows = 0;
  absl::StrAppend(&body, Legend(legend, left, title_h + 12, pw, &rows));
  absl::StrAppend(&body, XGrid(sx, x_ticks, top, top + ph, true));
  absl::StrAppend(&body, YGrid(sy, y_ticks, y_labels, left, left + pw));
  absl::StrAppend(&body, Frame(left, top, pw, ph));
  if (!plot.x_label.empty()) {
    absl::StrAppend(&body, Text(left + pw / 2, h - 8, plot.x_label, "middle",
                                kAxisLabelPx, kTextColor));
  }
  absl::StrAppend(&body, VerticalLabel(15, top + ph / 2, plot.y_label));
  if (!any) {
    absl::StrAppend(&body, NoData(left + pw / 2, top + ph / 2));
  } else {
    absl::StrAppend(&body, "<defs>", ClipPath(left, top, pw, ph), "</defs>\n");
    absl::StrAppend(&body, "<g clip-path=\"url(#", kClipToken, ")\">\n");
    for (size_t k = 0; k < plot.series.size(); ++k) {
      absl::StrAppend(&body, DrawSeries(plot.series[k], colors[k], sx, sy));
    }
    absl::StrAppend(&body, "</g>\n");
  }
  absl::StrAppend(&body, "</svg>\n");
  return WithClipIds(body);
}

LinePlot RocPlot(const std::vector<double>& fpr, const std::vector<double>& tpr,
                 const std::string& title, bool log_fpr, double min_fpr) {
  CHECK_EQ(fpr.size(), tpr.size());
  LinePlot plot;
  plot.title = title;
  plot.x_label =
      log_fpr ? "false positive rate (log scale)" : "false positive rate";
  plot.y_label = "true positive rate";
  plot.y_min = 0;
  plot.y_max = 1;
  plot.x_max = 1;
  PlotSeries chance;
  chance.name = "chance";
  chance.color = "#9a9a9a";
  chance.dashed = true;
  chance.width = 1.25;
  if (log_fpr) {
    CHECK(min_fpr > 0 && min_fpr < 1) << "min_fpr " << min_fpr;
    plot.log_x = true;
    plot.x_min = min_fpr;
    const int n = 64;
    for (int i = 0; i <= n; ++i) {
      const double v = min_fpr * std::pow(1 / min_fpr, i / double(n));
      chance.x.push_back(v);
      chance.y.push_back(v);
    }
  } else {
    plot.x_min = 0;
    chance.x = {0, 1};
    chance.y = {0, 1};
  }
  PlotSeries roc;
  roc.name = "model";
  roc.color = kPalette[0];
  roc.width = 2;
  roc.x = fpr;
  roc.y = tpr;
  plot.series.push_back(std::move(chance));
  plot.series.push_back(std::move(roc));
  return plot;
}

std::string RenderTracePlot(const TracePlot& plot) {
  CHECK_GT(plot.num_channels, 0);
  CHECK_GE(plot.num_excitatory, 0);
  CHECK_LE(plot.num_excitatory, plot.num_channels);
  CHECK_GT(plot.ms_per_step, 0);
  CHECK_GT(plot.width, 300);
  // The window [start, start + n).
  const int64_t start = plot.start_step;
  int64_t n = std::max({plot.soma_true_mv.size(), plot.soma_pred_mv.size(),
                        plot.spike_prob.size()});
  if (n == 0) {
    for (const auto& s : plot.raster) n = std::max(n, s.first - start + 1);
    for (const int64_t s : plot.spike_steps) n = std::max(n, s - start + 1);
  }
  if (n <= 0) n = 1;  // nothing to show: a 1-step window of empty panels

  // Layout: title, then three panels each with a header row (its legend).
  const double w = plot.width;
  const double left = 84, right = 20;
  const double pw = w - left - right;
  const double title_h = plot.title.empty() ? 8 : 30;
  const double header = 24;
  const double raster_h = 200, soma_h = 170, prob_h = 110;
  const double raster_top = title_h + header;
  const double soma_top = raster_top + raster_h + header + 6;
  const double prob_top = soma_top + soma_h + header + 6;
  const double bottom = prob_top + prob_h;
  const double h = bottom + 46;
  const int height = static_cast<int>(std::ceil(h));

  Scale sx;
  sx.lo = start * plot.ms_per_step;
  sx.hi = (start + n) * plot.ms_per_step;
  sx.p0 = left;
  sx.p1 = left + pw;
  const std::vector<double> x_ticks = NiceTicks(sx.lo, sx.hi, 8);
  auto step_x = [&](int64_t s) { return sx(s * plot.ms_per_step); };

  std::string body = SvgOpen(plot.width, height, plot.title);
  absl::StrAppend(&body, Title(w / 2, 20, plot.title));
  absl::StrAppend(&body, "<defs>");
  for (const double top : {raster_top, soma_top, prob_top}) {
    const double ph = top == raster_top ? raster_h
                      : top == soma_top ? soma_h
                                        : prob_h;
    absl::StrAppend(
        &body, absl::StrReplaceAll(
                   ClipPath(left, top, pw, ph),
                   {{kClipToken, absl::StrCat(kClipToken, "_", Coord(top))}}));
  }
  absl::StrAppend(&body, "</defs>\n");
  auto clip_open = [&](double top) {
    return absl::StrCat("<g clip-path=\"url(#", kClipToken, "_", Coord(top),
                        ")\">\n");
  };

  // --- Raster panel.
  {
    int64_t shown_exc = 0, shown_inh = 0;
    const int gw = static_cast<int>(std::ceil(pw));
    const int gh = static_cast<int>(std::ceil(raster_h));
    // Occupancy per pixel cell: bit 1 excitatory, bit 2 inhibitory.
    std::vector<uint8_t> grid(static_cast<size_t>(gw) * gh, 0);
    const double cell_w = pw / n, cell_h = raster_h / plot.num_channels;
    for (const auto& [step, channel] : plot.raster) {
      if (step < start || step >= start + n) continue;
      if (channel < 0 || channel >= plot.num_channels) continue;
      const bool exc = channel < plot.num_excitatory;
      (exc ? shown_exc : shown_inh)++;
      const double x = (step - start) * cell_w;
      // Channel 0 at the bottom.
      const double y = (plot.num_channels - 1 - channel) * cell_h;
      const int x0 = std::min(gw - 1, static_cast<int>(std::floor(x)));
      const int x1 = std::min(
          gw, std::max(x0 + 1, static_cast<int>(std::floor(x + cell_w))));
      const int y0 = std::min(gh - 1, static_cast<int>(std::floor(y)));
      const int y1 = std::min(
          gh, std::max(y0 + 1, static_cast<int>(std::floor(y + cell_h))));
      for (int yy = y0; yy < y1; ++yy) {
        for (int xx = x0; xx < x1; ++xx) {
          grid[static_cast<size_t>(yy) * gw + xx] |= exc ? 1 : 2;
        }
      }
    }
    // One path per colour: horizontal runs of occupied cells, 1 px tall.
    std::string d_exc, d_inh;
    for (int yy = 0; yy < gh; ++yy) {
      for (const uint8_t bit : {uint8_t{1}, uint8_t{2}}) {
        std::string& d = bit == 1 ? d_exc : d_inh;
        int xx = 0;
        while (xx < gw) {
          if (!(grid[static_cast<size_t>(yy) * gw + xx] & bit)) {
            ++xx;
            continue;
          }
          int run = 1;
          while (xx + run < gw &&
                 (grid[static_cast<size_t>(yy) * gw + xx + run] & bit)) {
            ++run;
          }
          absl::StrAppend(&d, "M", Coord(left + xx), " ",
                          Coord(raster_top + yy), "h", run, "v1h-", run, "z");
          xx += run;
        }
      }
    }
    std::vector<LegendItem> legend = {
        {absl::StrFormat("excitatory (channels 0-%d): %d spikes",
                         plot.num_excitatory - 1, shown_exc),
         kExcitatoryColor, false, false, true},
        {absl::StrFormat("inhibitory (%d-%d): %d spikes", plot.num_excitatory,
                         plot.num_channels - 1, shown_inh),
         kInhibitoryColor, false, false, true}};
    int rows = 0;
    absl::StrAppend(&body, Legend(legend, left, raster_top - 8, pw, &rows));
    absl::StrAppend(
        &body, XGrid(sx, x_ticks, raster_top, raster_top + raster_h, false));
    Scale sc;
    sc.lo = 0;
    sc.hi = plot.num_channels;
    sc.p0 = raster_top + raster_h;
    sc.p1 = raster_top;
    std::vector<double> c_ticks = {0};
    if (plot.num_excitatory > 0 && plot.num_excitatory < plot.num_channels) {
      c_ticks.push_back(plot.num_excitatory);
    }
    c_ticks.push_back(plot.num_channels);
    absl::StrAppend(&body,
                    YGrid(sc, c_ticks, TickLabels(c_ticks), left, left + pw));
    if (!d_exc.empty()) {
      absl::StrAppend(&body, "<path d=\"", d_exc, "\" fill=\"",
                      kExcitatoryColor, "\"/>\n");
    }
    if (!d_inh.empty()) {
      absl::StrAppend(&body, "<path d=\"", d_inh, "\" fill=\"",
                      kInhibitoryColor, "\"/>\n");
    }
    absl::StrAppend(&body, Frame(left, raster_top, pw, raster_h));
    absl::StrAppend(
        &body, VerticalLabel(18, raster_top + raster_h / 2, "input channel"));
    if (shown_exc + shown_inh == 0) {
      absl::StrAppend(&body, NoData(left + pw / 2, raster_top + raster_h / 2));
    }
  }

  // Converts a per-step float trace to the x, y of a PlotSeries.
  auto trace_series = [&](const std::vector<float>& v, const char* name,
                          const char* color, double width) {
    PlotSeries s;
    s.name = name;
    s.color = color;
    s.width = width;
    s.x.reserve(v.size());
    s.y.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      s.x.push_back((start + static_cast<int64_t>(i)) * plot.ms_per_step);
      s.y.push_back(v[i]);
    }
    return s;
  };

  // --- Soma panel.
  {
    const PlotSeries truth =
        trace_series(plot.soma_true_mv, "true soma", "#222222", 1.25);
    const PlotSeries pred =
        trace_series(plot.soma_pred_mv, "predicted soma", "#ff7f0e", 1.5);
    double lo = 0, hi = 0, lo2 = 0, hi2 = 0;
    const bool has_true = DataRange(truth.y, false, &lo, &hi);
    const bool has_pred = DataRange(pred.y, false, &lo2, &hi2);
    if (has_true && has_pred) {
      lo = std::min(lo, lo2);
      hi = std::max(hi, hi2);
    } else if (has_pred) {
      lo = lo2;
      hi = hi2;
    }
    Scale sy;
    sy.p0 = soma_top + soma_h;
    sy.p1 = soma_top;
    if (has_true || has_pred) {
      WidenDegenerate(false, &lo, &hi);
      const double step = NiceStep(lo, hi, 4);
      sy.lo = std::floor(lo / step + 1e-9) * step;
      sy.hi = std::ceil(hi / step - 1e-9) * step;
    }
    std::vector<LegendItem> legend = {
        {has_true ? truth.name : truth.name + " (no data)", truth.color},
        {has_pred ? pred.name : pred.name + " (no data)", pred.color}};
    int rows = 0;
    absl::StrAppend(&body, Legend(legend, left, soma_top - 8, pw, &rows));
    absl::StrAppend(&body,
                    XGrid(sx, x_ticks, soma_top, soma_top + soma_h, false));
    if (has_true || has_pred) {
      const std::vector<double> ticks = NiceTicks(sy.lo, sy.hi, 4);
      absl::StrAppend(&body,
                      YGrid(sy, ticks, TickLabels(ticks), left, left + pw));
      absl::StrAppend(&body, clip_open(soma_top));
      // The prediction under the truth: where they agree the truth shows.
      absl::StrAppend(&body, DrawSeries(pred, pred.color, sx, sy));
      absl::StrAppend(&body, DrawSeries(truth, truth.color, sx, sy));
      absl::StrAppend(&body, "</g>\n");
    } else {
      absl::StrAppend(&body, NoData(left + pw / 2, soma_top + soma_h / 2));
    }
    absl::StrAppend(&body, Frame(left, soma_top, pw, soma_h));
    absl::StrAppend(&body,
                    VerticalLabel(18, soma_top + soma_h / 2, "soma (mV)"));
  }

  // --- Spike probability panel.
  {
    const PlotSeries prob = trace_series(
        plot.spike_prob, "predicted spike probability", "#1f77b4", 1.5);
    double lo, hi;
    const bool has_prob = DataRange(prob.y, false, &lo, &hi);
    Scale sy;
    sy.lo = 0;
    sy.hi = 1;
    sy.p0 = prob_top + prob_h;
    sy.p1 = prob_top;
    int64_t shown_spikes = 0;
    std::string ticks_d;
    for (const int64_t s : plot.spike_steps) {
      if (s < start || s >= start + n) continue;
      ++shown_spikes;
      const double x = step_x(s);
      absl::StrAppend(&ticks_d, "M", Coord(x), " ", Coord(prob_top), "V",
                      Coord(prob_top + prob_h));
    }
    std::vector<LegendItem> legend = {
        {has_prob ? prob.name : prob.name + " (no data)", prob.color},
        {absl::StrFormat("true spike (%d)", shown_spikes), "#444444"}};
    int rows = 0;
    absl::StrAppend(&body, Legend(legend, left, prob_top - 8, pw, &rows));
    absl::StrAppend(&body,
                    XGrid(sx, x_ticks, prob_top, prob_top + prob_h, true));
    const std::vector<double> ticks = {0, 0.5, 1};
    absl::StrAppend(&body,
                    YGrid(sy, ticks, TickLabels(ticks), left, left + pw));
    if (!ticks_d.empty()) {
      absl::StrAppend(&body, "<path d=\"", ticks_d,
                      "\" stroke=\"#444444\" stroke-width=\"1.25\" "
                      "opacity=\"0.55\"/>\n");
    }
    if (has_prob) {
      absl::StrAppend(&body, clip_open(prob_top));
      absl::StrAppend(&body, DrawSeries(prob, prob.color, sx, sy));
      absl::StrAppend(&body, "</g>\n");
    }
    if (!has_prob && shown_spikes == 0) {
      absl::StrAppend(&body, NoData(left + pw / 2, prob_top + prob_h / 2));
    }
    absl::StrAppend(&body, Frame(left, prob_top, pw, prob_h));
    absl::StrAppend(&body,
                    VerticalLabel(18, prob_top + prob_h / 2, "P(spike)"));
  }
  absl::StrAppend(&body, Text(left + pw / 2, h - 10, "time (ms)", "middle",
                              kAxisLabelPx, kTextColor));
  absl::StrAppend(&body, "</svg>\n");
  return WithClipIds(body);
}

std::string RenderConfusionMatrixPlot(const ConfusionMatrixPlot& plot) {
  const int c = plot.num_classes;
  CHECK_GT(c, 0);
  CHECK_EQ(plot.counts.size(), static_cast<size_t>(c) * c);
  CHECK(plot.class_names.empty() ||
        plot.class_names.size() == static_cast<size_t>(c))
      << plot.class_names.size() << " class names for " << c << " classes";
  std::vector<std::string> names = plot.class_names;
  if (names.empty()) {
    for (int i = 0; i < c; ++i) names.push_back(absl::StrCat(i));
  }
  const double cell = std::clamp(std::floor(440.0 / c), 14.0, 60.0);
  const double label_px = cell < 20 ? 9 : 11;
  const double name_w = MaxTextWidth(names, label_px);
  // Column labels are rotated when they do not fit under their cell.
  const bool rotate = name_w > cell - 4;
  const double grid = cell * c;
  const double left = 12 + 18 + name_w + 8;
  const double title_h = plot.title.empty() ? 10 : 32;
  const double top = title_h + 6;
  const double col_labels_h = rotate ? name_w * 0.62 + 14 : 20;
  const double bar_x = left + grid + 22, bar_w = 14;
  const double w = bar_x + bar_w + 12 + TextWidth("100%", kTickPx) + 8;
  const double h = top + grid + col_labels_h + 26;
  const int width = static_cast<int>(std::ceil(std::max(w, 260.0)));
  const int height = static_cast<int>(std::ceil(h));

  std::string body = SvgOpen(width, height, plot.title);
  absl::StrAppend(&body, Title(width / 2.0, 20, plot.title));
  const bool show_counts = c <= 12;
  const double count_px = cell >= 40 ? 11 : 10;
  for (int t = 0; t < c; ++t) {
    int64_t row_sum = 0;
    for (int p = 0; p < c; ++p) row_sum += plot.counts[t * c + p];
    for (int p = 0; p < c; ++p) {
      const int64_t count = plot.counts[t * c + p];
      CHECK_GE(count, 0);
      const double frac = row_sum > 0 ? double(count) / row_sum : 0.0;
      const double x = left + p * cell, y = top + t * cell;
      absl::StrAppend(&body, "<rect x=\"", Coord(x), "\" y=\"", Coord(y),
                      "\" width=\"", Coord(cell), "\" height=\"", Coord(cell),
                      "\" fill=\"", row_sum > 0 ? Blues(frac) : "#eeeeee",
                      "\" stroke=\"#ffffff\" stroke-width=\"1\"><title>",
                      XmlEscape(absl::StrCat(
                          "true ", names[t], ", predicted ", names[p], ": ",
                          count, " (", FormatNumber(100 * frac), "% of row)")),
                      "</title></rect>\n");
      if (show_counts) {
        absl::StrAppend(&body,
                        Text(x + cell / 2, y + cell / 2 + count_px * 0.35,
                             absl::StrCat(count), "middle", count_px,
                             frac > 0.5 ? "#ffffff" : kTextColor));
      }
    }
  }
  // Row (true class) labels and column (predicted class) labels.
  for (int i = 0; i < c; ++i) {
    absl::StrAppend(&body,
                    Text(left - 6, top + (i + 0.5) * cell + label_px * 0.35,
                         names[i], "end", label_px));
    const double cx = left + (i + 0.5) * cell;
    if (rotate) {
      absl::StrAppend(&body, "<text x=\"0\" y=\"0\" text-anchor=\"end\" ",
                      "font-size=\"", Coord(label_px), "\" fill=\"", kTickColor,
                      "\" transform=\"translate(", Coord(cx + label_px * 0.35),
                      " ", Coord(top + grid + 6), ") rotate(-45)\">",
                      XmlEscape(names[i]), "</text>\n");
    } else {
      absl::StrAppend(&body,
                      Text(cx, top + grid + 14, names[i], "middle", label_px));
    }
  }
  absl::StrAppend(&body, Frame(left, top, grid, grid));
  absl::StrAppend(&body, Text(left + grid / 2, h - 8, "predicted class",
                              "middle", kAxisLabelPx, kTextColor));
  absl::StrAppend(&body, VerticalLabel(15, top + grid / 2, "true class"));
  // Colour bar: the fraction of the true class's samples.
  const int kBarSteps = 20;
  for (int i = 0; i < kBarSteps; ++i) {
    const double y = top + grid * i / kBarSteps;
    absl::StrAppend(&body, "<rect x=\"", Coord(bar_x), "\" y=\"", Coord(y),
                    "\" width=\"", Coord(bar_w), "\" height=\"",
                    Coord(grid / kBarSteps + 0.5), "\" fill=\"",
                    Blues(1.0 - (i + 0.5) / kBarSteps), "\"/>\n");
  }
  absl::StrAppend(&body, Frame(bar_x, top, bar_w, grid));
  absl::StrAppend(&body, Text(bar_x + bar_w + 4, top + 9, "100%", "start"));
  absl::StrAppend(&body,
                  Text(bar_x + bar_w + 4, top + grid / 2 + 4, "50%", "start"));
  absl::StrAppend(&body, Text(bar_x + bar_w + 4, top + grid, "0%", "start"));
  absl::StrAppend(&body, "</svg>\n");
  return body;
}

}  // namespace elm
