// Tests of svg_plot.h: number formatting and escaping, 1-2-5 and log ticks,
// decimation (endpoints and extremes kept, 1e5 points cut to a few thousand),
// gaps at NaN/Inf, empty plots, balanced XML for every plot kind, and
// byte-identical output for identical input.
#include "experiments/report/svg_plot.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Checks that `xml` is a sequence of balanced elements with one root <svg>:
// every <name ...> is closed by </name> in nesting order or self-closed, no
// '<' or '&' appears raw in text or attribute values, and attribute quotes
// are balanced. Returns "" when well formed, otherwise what is wrong.
std::string CheckWellFormed(absl::string_view xml) {
  std::vector<std::string> stack;
  int roots = 0;
  size_t i = 0;
  while (i < xml.size()) {
    const char c = xml[i];
    if (c == '&') {
      const size_t semi = xml.find(';', i);
      if (semi == absl::string_view::npos || semi - i > 8) {
        return absl::StrCat("raw '&' at ", i);
      }
      const absl::string_view ent = xml.substr(i, semi - i + 1);
      if (ent != "&amp;" && ent != "&lt;" && ent != "&gt;" && ent != "&quot;" &&
          ent != "&#39;") {
        return absl::StrCat("unknown entity ", ent);
      }
      i = semi + 1;
      continue;
    }
    if (c == '>') return absl::StrCat("raw '>' in text at ", i);
    if (c != '<') {
      ++i;
      continue;
    }
    // A tag: find its end, honouring quoted attribute values.
    size_t j = i + 1;
    bool in_quote = false;
    while (j < xml.size() && (in_quote || xml[j] != '>')) {
      if (xml[j] == '"') in_quote = !in_quote;
      if (in_quote && (xml[j] == '<')) {
        return absl::StrCat("raw '<' in an attribute at ", j);
      }
      ++j;
    }
    if (j >= xml.size()) return absl::StrCat("unterminated tag at ", i);
    absl::string_view tag = xml.substr(i + 1, j - i - 1);
    const bool closing = !tag.empty() && tag[0] == '/';
    const bool self_closing = !tag.empty() && tag.back() == '/';
    if (closing) tag.remove_prefix(1);
    const size_t name_end = tag.find_first_of(" \n\t/");
    const std::string name(tag.substr(0, name_end));
    if (name.empty()) return absl::StrCat("empty tag name at ", i);
    if (closing) {
      if (stack.empty() || stack.back() != name) {
        return absl::StrCat("</", name, "> at ", i, " closes ",
                            stack.empty() ? "nothing" : stack.back());
      }
      stack.pop_back();
    } else if (!self_closing) {
      if (stack.empty()) {
        ++roots;
        if (name != "svg") return absl::StrCat("root element ", name);
      }
      stack.push_back(name);
    }
    i = j + 1;
  }
  if (!stack.empty()) return absl::StrCat("<", stack.back(), "> not closed");
  if (roots != 1) return absl::StrCat(roots, " root elements");
  return "";
}

int CountOf(absl::string_view haystack, absl::string_view needle) {
  int n = 0;
  for (size_t pos = haystack.find(needle); pos != absl::string_view::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

// The d attribute of the first <path> whose stroke is `color`.
std::string PathWithStroke(const std::string& svg, const std::string& color) {
  const std::string marker = absl::StrCat("stroke=\"", color, "\"");
  size_t pos = 0;
  while ((pos = svg.find("<path d=\"", pos)) != std::string::npos) {
    const size_t end = svg.find("/>", pos);
    const std::string element = svg.substr(pos, end - pos);
    if (absl::StrContains(element, marker)) {
      const size_t d0 = pos + 9;
      return svg.substr(d0, svg.find('"', d0) - d0);
    }
    pos = end;
  }
  return "";
}

TEST(FormatTest, Numbers) {
  EXPECT_EQ(FormatNumber(0.973149), "0.9731");
  EXPECT_EQ(FormatNumber(-0.0), "0");
  EXPECT_EQ(FormatNumber(1e-5), "1e-05");
  EXPECT_EQ(FormatNumber(123456), "1.235e+05");
  EXPECT_EQ(FormatNumber(kNaN), "nan");
  EXPECT_EQ(FormatNumber(-kInf), "-inf");
  EXPECT_EQ(FormatTick(0.6000000000000001), "0.6");
  EXPECT_EQ(FormatTick(12000), "12k");
  EXPECT_EQ(FormatTick(1.5e6), "1.5M");
  EXPECT_EQ(FormatTick(2000), "2000");
  EXPECT_EQ(FormatTick(-5e4), "-50k");
}

TEST(FormatTest, XmlEscape) {
  EXPECT_EQ(XmlEscape("a<b & c>d \"q\" 'p'"),
            "a&lt;b &amp; c&gt;d &quot;q&quot; &#39;p&#39;");
  EXPECT_EQ(XmlEscape("τ_m (ms)"), "τ_m (ms)");  // UTF-8 passes through
  EXPECT_EQ(XmlEscape(std::string("a\x01z", 3)), "a\xEF\xBF\xBDz");
}

void ExpectNear(const std::vector<double>& got,
                const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size()) << ::testing::PrintToString(got);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], 1e-9 * std::max(1.0, std::abs(want[i])))
        << "tick " << i;
  }
}

TEST(TicksTest, KnownRanges) {
  ExpectNear(NiceTicks(0, 1), {0, 0.2, 0.4, 0.6, 0.8, 1.0});
  ExpectNear(NiceTicks(0, 12345), {0, 2000, 4000, 6000, 8000, 10000, 12000});
  ExpectNear(NiceTicks(-3.7, 8.2), {-2, 0, 2, 4, 6, 8});
  ExpectNear(NiceTicks(0.31, 0.39), {0.32, 0.34, 0.36, 0.38});
  ExpectNear(NiceTicks(0, 1, 2), {0, 0.5, 1});
  ExpectNear(NiceTicks(-72.3, -55), {-70, -65, -60, -55});
  ExpectNear(NiceTicks(3, 3), {3});
  EXPECT_TRUE(NiceTicks(1, 0).empty());
  EXPECT_TRUE(NiceTicks(0, kInf).empty());
}

TEST(TicksTest, StepsAreOneTwoFiveForManyRanges) {
  // Pseudo-random ranges over many magnitudes.
  uint64_t state = 12345;
  auto next = [&]() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 11) * (1.0 / 9007199254740992.0);
  };
  for (int trial = 0; trial < 500; ++trial) {
    const double scale = std::pow(10.0, std::floor(next() * 16) - 8);
    const double lo = (next() - 0.5) * scale * 10;
    const double hi = lo + next() * scale * 10 + scale * 1e-3;
    const double step = NiceStep(lo, hi);
    const double mantissa = step / std::pow(10.0, std::floor(std::log10(step)));
    EXPECT_TRUE(std::abs(mantissa - 1) < 1e-9 ||
                std::abs(mantissa - 2) < 1e-9 || std::abs(mantissa - 5) < 1e-9)
        << "step " << step << " for [" << lo << ", " << hi << "]";
    const std::vector<double> ticks = NiceTicks(lo, hi);
    ASSERT_GE(ticks.size(), 2u) << "[" << lo << ", " << hi << "]";
    EXPECT_LE(ticks.size(), 11u) << "[" << lo << ", " << hi << "]";
    for (size_t i = 0; i < ticks.size(); ++i) {
      EXPECT_GE(ticks[i], lo - step * 1e-6);
      EXPECT_LE(ticks[i], hi + step * 1e-6);
      const double k = ticks[i] / step;
      EXPECT_NEAR(k, std::round(k), 1e-6) << "tick not a multiple of step";
      if (i > 0) {
        EXPECT_NEAR(ticks[i] - ticks[i - 1], step, step * 1e-6);
      }
    }
  }
}

TEST(TicksTest, LogTicks) {
  ExpectNear(LogTicks(0.05, 2.3), {0.05, 0.1, 0.2, 0.5, 1, 2});
  ExpectNear(LogTicks(1e-6, 1), {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1});
  // 16 decades: every third power of ten.
  ExpectNear(LogTicks(1e-12, 1e4), {1e-12, 1e-9, 1e-6, 1e-3, 1, 1e3});
  // Under half a decade: linear ticks inside the range.
  ExpectNear(LogTicks(0.31, 0.89), {0.4, 0.5, 0.6, 0.7, 0.8});
  EXPECT_TRUE(LogTicks(0, 1).empty());
}

TEST(DecimateTest, KeepsEndpointsAndExtremesAndBoundsCount) {
  const int n = 100000;
  std::vector<double> px(n), py(n);
  double lowest = 1e9, highest = -1e9;
  size_t i_low = 0, i_high = 0;
  for (int i = 0; i < n; ++i) {
    px[i] = 60 + 560.0 * i / (n - 1);
    // A decaying loss with deterministic noise.
    py[i] = 300 - 250 * std::exp(-i / 20000.0) + 20 * std::sin(i * 0.7);
    if (py[i] < lowest) lowest = py[i], i_low = i;
    if (py[i] > highest) highest = py[i], i_high = i;
  }
  const std::vector<size_t> keep = DecimateIndices(px, py);
  ASSERT_FALSE(keep.empty());
  EXPECT_EQ(keep.front(), 0u);
  EXPECT_EQ(keep.back(), static_cast<size_t>(n - 1));
  EXPECT_LE(keep.size(), 4u * 562);
  EXPECT_GE(keep.size(), 561u);  // at least one point per pixel column
  for (size_t k = 1; k < keep.size(); ++k) ASSERT_LT(keep[k - 1], keep[k]);
  // The lowest and highest points survive, or another point in their pixel.
  auto kept_in_pixel_of = [&](size_t target) {
    for (const size_t i : keep) {
      if (std::floor(px[i]) == std::floor(px[target]) &&
          std::floor(py[i]) == std::floor(py[target])) {
        return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(kept_in_pixel_of(i_low));
  EXPECT_TRUE(kept_in_pixel_of(i_high));
  // Every pixel column's lowest and highest y pixel survive (a point may be
  // dropped for another in the same pixel).
  std::vector<double> col_min(700, 1e9), col_max(700, -1e9);
  std::vector<double> kept_min(700, 1e9), kept_max(700, -1e9);
  for (int i = 0; i < n; ++i) {
    const int c = static_cast<int>(px[i]);
    col_min[c] = std::min(col_min[c], std::floor(py[i]));
    col_max[c] = std::max(col_max[c], std::floor(py[i]));
  }
  for (const size_t i : keep) {
    const int c = static_cast<int>(px[i]);
    kept_min[c] = std::min(kept_min[c], std::floor(py[i]));
    kept_max[c] = std::max(kept_max[c], std::floor(py[i]));
  }
  EXPECT_EQ(col_min, kept_min);
  EXPECT_EQ(col_max, kept_max);
}

TEST(DecimateTest, SmallInputsAreKept) {
  EXPECT_THAT(DecimateIndices({1.2, 1.3}, {5, 5}), ElementsAre(0, 1));
  EXPECT_THAT(DecimateIndices({}, {}), ElementsAre());
  // Three points in one pixel: the first and last stay.
  EXPECT_THAT(DecimateIndices({1.1, 1.2, 1.3}, {5.1, 5.2, 5.3}),
              ElementsAre(0, 2));
  // Distinct pixels all stay.
  EXPECT_THAT(DecimateIndices({1, 2, 3}, {5, 9, 5}), ElementsAre(0, 1, 2));
}

TEST(SmoothEmaTest, DebiasedAndSkipsNaN) {
  const std::vector<double> s = SmoothEma({2, 2, kNaN, 2, 4}, 0.5);
  EXPECT_DOUBLE_EQ(s[0], 2);  // debiased: not pulled towards 0
  EXPECT_DOUBLE_EQ(s[1], 2);
  EXPECT_TRUE(std::isnan(s[2]));
  EXPECT_DOUBLE_EQ(s[3], 2);
  EXPECT_GT(s[4], 2);
  EXPECT_LT(s[4], 4);
}

LinePlot LossPlot() {
  LinePlot plot;
  plot.title = "loss <train & valid>";
  plot.x_label = "step";
  plot.y_label = "loss";
  PlotSeries train;
  train.name = "train";
  for (int i = 0; i < 200; ++i) {
    train.x.push_back(i);
    train.y.push_back(1.0 / (1 + i * 0.05));
  }
  PlotSeries valid;
  valid.name = "valid";
  valid.markers = true;
  for (int e = 1; e <= 4; ++e) {
    valid.x.push_back(e * 50);
    valid.y.push_back(1.1 / (1 + e * 2.5));
  }
  plot.series = {train, valid};
  return plot;
}

TEST(LinePlotTest, WellFormedWithTicksLegendAndEscapedTitle) {
  const std::string svg = RenderLinePlot(LossPlot());
  EXPECT_EQ(CheckWellFormed(svg), "") << svg;
  EXPECT_TRUE(
      absl::StartsWith(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_THAT(svg, HasSubstr("width=\"640\" height=\"360\""));
  EXPECT_THAT(svg, HasSubstr("loss &lt;train &amp; valid&gt;"));
  EXPECT_THAT(svg, Not(HasSubstr("<train")));
  // x from 0 to 199 with about 6 ticks: a step of 50.
  for (const char* label : {">0<", ">50<", ">100<", ">150<"}) {
    EXPECT_THAT(svg, HasSubstr(label)) << label;
  }
  EXPECT_THAT(svg, HasSubstr(">train<"));
  EXPECT_THAT(svg, HasSubstr(">valid<"));
  EXPECT_THAT(svg, HasSubstr("<circle"));  // validation markers
  EXPECT_THAT(svg, HasSubstr("clip-path=\"url(#clip"));
}

TEST(LinePlotTest, NonFiniteValuesLeaveGaps) {
  LinePlot plot;
  PlotSeries s;
  s.name = "s";
  s.color = "#123456";
  for (int i = 0; i < 10; ++i) {
    s.x.push_back(i);
    s.y.push_back(i * i);
  }
  const std::string whole =
      PathWithStroke(RenderLinePlot(plot = {}), "#123456");
  EXPECT_EQ(whole, "");  // no series: no path
  plot.series = {s};
  EXPECT_EQ(CountOf(PathWithStroke(RenderLinePlot(plot), "#123456"), "M"), 1);
  plot.series[0].y[4] = kNaN;
  plot.series[0].y[7] = kInf;
  const std::string svg = RenderLinePlot(plot);
  EXPECT_EQ(CheckWellFormed(svg), "");
  const std::string d = PathWithStroke(svg, "#123456");
  // Pieces 0-3, 5-6 and 8-9: three subpaths, 10 - 2 points.
  EXPECT_EQ(CountOf(d, "M"), 3) << d;
  EXPECT_EQ(CountOf(d, "L"), 8 - 3) << d;
  EXPECT_THAT(svg, Not(HasSubstr("nan")));
  EXPECT_THAT(svg, Not(HasSubstr("inf")));
  // An isolated point between two gaps is drawn as a dot.
  plot.series[0].y[6] = kNaN;
  const std::string svg2 = RenderLinePlot(plot);
  EXPECT_EQ(CountOf(PathWithStroke(svg2, "#123456"), "M"), 2);
  EXPECT_EQ(CountOf(svg2, "<circle"), 1);
}

TEST(LinePlotTest, LogAxisSkipsNonPositive) {
  LinePlot plot;
  plot.log_y = true;
  PlotSeries s;
  s.color = "#123456";
  s.x = {0, 1, 2, 3, 4};
  s.y = {1, 0.1, 0, 0.01, 0.001};
  plot.series = {s};
  const std::string svg = RenderLinePlot(plot);
  EXPECT_EQ(CheckWellFormed(svg), "");
  EXPECT_EQ(CountOf(PathWithStroke(svg, "#123456"), "M"), 2);
  for (const char* label : {">0.001<", ">0.01<", ">0.1<", ">1<"}) {
    EXPECT_THAT(svg, HasSubstr(label)) << label;
  }
}

TEST(LinePlotTest, ErrorBarsAreDrawnAndWidenTheRange) {
  LinePlot plot;
  plot.log_x = true;
  PlotSeries s;
  s.color = "#123456";
  s.markers = true;
  s.x = {100, 1000, 10000};
  s.y = {1, 2, 3};
  plot.series = {s};
  const std::string plain = RenderLinePlot(plot);
  EXPECT_THAT(plain, Not(HasSubstr(">8<")));
  // Without bars: one path (the line).
  EXPECT_EQ(CountOf(plain, "stroke=\"#123456\""), 1);
  plot.series[0].y_low = {0.5, 1, kNaN};
  plot.series[0].y_high = {1.5, 8, 4};
  const std::string svg = RenderLinePlot(plot);
  EXPECT_EQ(CheckWellFormed(svg), "") << svg;
  // The bar up to 8 widens the y axis to a tick at 8.
  EXPECT_THAT(svg, HasSubstr(">8<"));
  // The line and one path of bars; the third bar has a NaN end: two bars of
  // three strokes each (the bar and its caps).
  EXPECT_EQ(CountOf(svg, "stroke=\"#123456\""), 2);
  const size_t bars = svg.find("stroke-width=\"1.25\"");
  ASSERT_NE(bars, std::string::npos);
  const size_t start = svg.rfind("<path d=\"", bars);
  EXPECT_EQ(CountOf(svg.substr(start, bars - start), "M"), 6);
}

TEST(LinePlotTest, EmptyPlotAndEmptySeries) {
  LinePlot plot;
  plot.title = "nothing";
  const std::string empty = RenderLinePlot(plot);
  EXPECT_EQ(CheckWellFormed(empty), "");
  EXPECT_THAT(empty, HasSubstr(">no data<"));
  PlotSeries s;
  s.name = "accuracy";
  s.y = {kNaN, kNaN};
  s.x = {1, 2};
  plot.series = {s};
  const std::string all_nan = RenderLinePlot(plot);
  EXPECT_EQ(CheckWellFormed(all_nan), "");
  EXPECT_THAT(all_nan, HasSubstr(">no data<"));
  EXPECT_THAT(all_nan, HasSubstr("accuracy (no data)"));
  // One empty series beside a full one: the plot has data.
  plot.series.push_back(LossPlot().series[0]);
  const std::string mixed = RenderLinePlot(plot);
  EXPECT_THAT(mixed, Not(HasSubstr(">no data<")));
  EXPECT_THAT(mixed, HasSubstr("accuracy (no data)"));
}

TEST(LinePlotTest, HundredThousandPointsAreDecimated) {
  LinePlot plot;
  PlotSeries s;
  s.color = "#123456";
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    s.x.push_back(i);
    s.y.push_back(2 * std::exp(-i / 3e4) + 0.2 * std::sin(i * 1.3));
  }
  plot.series = {s};
  const std::string svg = RenderLinePlot(plot);
  const std::string d = PathWithStroke(svg, "#123456");
  const int points = CountOf(d, "M") + CountOf(d, "L");
  EXPECT_GT(points, 500);
  EXPECT_LE(points, 4000);
  EXPECT_LT(svg.size(), 100000u);
}

TEST(LinePlotTest, RocCurveDecimatedInBothVariants) {
  // A smooth ROC sampled at 1e5 thresholds: tpr = fpr^0.1.
  std::vector<double> fpr, tpr;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const double f = double(i) / (n - 1);
    fpr.push_back(f);
    tpr.push_back(std::pow(f, 0.1));
  }
  for (const bool log_fpr : {false, true}) {
    LinePlot plot = RocPlot(fpr, tpr, "ROC (AUC 0.91)", log_fpr, 1e-5);
    ASSERT_EQ(plot.series.size(), 2u);
    plot.series[1].color = "#123456";
    const std::string svg = RenderLinePlot(plot);
    EXPECT_EQ(CheckWellFormed(svg), "");
    const std::string d = PathWithStroke(svg, "#123456");
    const int points = CountOf(d, "M") + CountOf(d, "L");
    EXPECT_GT(points, 50) << log_fpr;
    EXPECT_LE(points, 4000) << log_fpr;
    EXPECT_THAT(svg, HasSubstr(">chance<"));
    if (log_fpr) {
      EXPECT_THAT(svg, HasSubstr(">0.0001<"));
      EXPECT_THAT(svg, HasSubstr("log scale"));
    }
  }
}

TEST(LinePlotTest, Deterministic) {
  const LinePlot plot = LossPlot();
  const std::string a = RenderLinePlot(plot);
  const std::string b = RenderLinePlot(plot);
  EXPECT_EQ(a, b);
  // A different plot gets a different clip-path id.
  LinePlot other = plot;
  other.title = "other";
  const std::string c = RenderLinePlot(other);
  const size_t pa = a.find("id=\"clip"), pc = c.find("id=\"clip");
  ASSERT_NE(pa, std::string::npos);
  ASSERT_NE(pc, std::string::npos);
  EXPECT_NE(a.substr(pa, 28), c.substr(pc, 28));
}

TracePlot MakeTrace(int64_t start, int64_t steps, int dots_per_step) {
  TracePlot t;
  t.title = "NeuronIO test window";
  t.start_step = start;
  uint64_t state = 7;
  for (int64_t s = start; s < start + steps; ++s) {
    for (int k = 0; k < dots_per_step; ++k) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      t.raster.emplace_back(s, static_cast<int32_t>((state >> 33) % 1278));
    }
    const double v = -70 + 5 * std::sin(s * 0.01);
    t.soma_true_mv.push_back(v);
    t.soma_pred_mv.push_back(v + 0.5);
    t.spike_prob.push_back(0.5 + 0.5 * std::sin(s * 0.02));
  }
  t.spike_steps = {start + 10, start + steps / 2, start + steps + 100};
  return t;
}

TEST(TracePlotTest, WellFormedWithRasterColoursAndSharedAxis) {
  const TracePlot t = MakeTrace(2000, 3000, 33);  // ~1e5 input spikes
  const std::string svg = RenderTracePlot(t);
  EXPECT_EQ(CheckWellFormed(svg), "");
  EXPECT_THAT(svg, HasSubstr("fill=\"#d62728\""));  // excitatory
  EXPECT_THAT(svg, HasSubstr("fill=\"#1f77b4\""));  // inhibitory
  EXPECT_THAT(svg, HasSubstr(">true spike (2)<"));  // the third is outside
  EXPECT_THAT(svg, HasSubstr(">true soma<"));
  EXPECT_THAT(svg, HasSubstr(">predicted soma<"));
  EXPECT_THAT(svg, HasSubstr(">time (ms)<"));
  // ms axis of the window [2000, 5000): labels only under the bottom panel.
  EXPECT_EQ(CountOf(svg, ">3000<"), 1);
  EXPECT_EQ(CountOf(svg, ">4000<"), 1);
  // The raster's dots are merged per pixel: far smaller than one rect per dot.
  EXPECT_LT(svg.size(), 2000000u);
  EXPECT_EQ(svg, RenderTracePlot(t));
  // Excitatory and inhibitory counts add up to the spikes in the window.
  int64_t exc = 0;
  for (const auto& [step, ch] : t.raster) exc += ch < 639;
  EXPECT_THAT(svg, HasSubstr(absl::StrCat(": ", exc, " spikes")));
  EXPECT_THAT(svg,
              HasSubstr(absl::StrCat(": ", t.raster.size() - exc, " spikes")));
}

TEST(TracePlotTest, EmptyPanels) {
  TracePlot t;
  t.title = "empty";
  const std::string svg = RenderTracePlot(t);
  EXPECT_EQ(CheckWellFormed(svg), "");
  EXPECT_THAT(svg, HasSubstr(">no data<"));
  // Only a raster: the traces say no data, the raster is drawn.
  TracePlot r = MakeTrace(0, 100, 3);
  r.soma_true_mv.clear();
  r.soma_pred_mv.clear();
  r.spike_prob.clear();
  const std::string svg2 = RenderTracePlot(r);
  EXPECT_EQ(CheckWellFormed(svg2), "");
  EXPECT_THAT(svg2, HasSubstr("true soma (no data)"));
  EXPECT_THAT(svg2, HasSubstr("fill=\"#d62728\""));
}

// A network raster (surrogate_network): the labels are the caller's and a
// simulation without ground truth leaves the truth out of the legend.
TEST(TracePlotTest, CustomLabels) {
  TracePlot t = MakeTrace(0, 100, 3);
  t.soma_true_mv.clear();
  t.raster_label = "neuron";
  t.raster_rows = "neurons";
  t.soma_true_name = "";
  t.soma_pred_name = "soma of neuron 0";
  t.spike_prob_name = "spike probability of neuron 0";
  t.spike_steps_name = "emitted spike";
  const std::string svg = RenderTracePlot(t);
  EXPECT_EQ(CheckWellFormed(svg), "");
  EXPECT_THAT(svg, HasSubstr(">neuron<"));
  EXPECT_THAT(svg, HasSubstr("excitatory (neurons 0-"));
  EXPECT_THAT(svg, Not(HasSubstr("true soma")));
  EXPECT_THAT(svg, Not(HasSubstr("input channel")));
  EXPECT_THAT(svg, HasSubstr(">soma of neuron 0<"));
  EXPECT_THAT(svg, HasSubstr(">spike probability of neuron 0<"));
  EXPECT_THAT(svg, HasSubstr(">emitted spike ("));
}

TEST(ConfusionMatrixTest, CountsColoursAndEscapedNames) {
  ConfusionMatrixPlot cm;
  cm.title = "Fashion-MNIST";
  cm.num_classes = 3;
  cm.counts = {90, 5,  5,   //
               10, 80, 10,  //
               0,  0,  0};  // an empty row
  cm.class_names = {"T-shirt/top", "a<b", "Ankle boot"};
  const std::string svg = RenderConfusionMatrixPlot(cm);
  EXPECT_EQ(CheckWellFormed(svg), "");
  EXPECT_THAT(svg, HasSubstr(">90<"));
  EXPECT_THAT(svg, HasSubstr(">80<"));
  EXPECT_THAT(svg, HasSubstr("a&lt;b"));
  EXPECT_THAT(svg, HasSubstr("#eeeeee"));  // the empty row
  // 90% is darker than 5%: the diagonal cell has white text.
  EXPECT_THAT(svg, HasSubstr("fill=\"#ffffff\">90<"));
  EXPECT_THAT(svg, HasSubstr(">predicted class<"));
  EXPECT_EQ(svg, RenderConfusionMatrixPlot(cm));
  // 20 classes: no counts in cells, still well formed.
  ConfusionMatrixPlot big;
  big.num_classes = 20;
  big.counts.assign(400, 1);
  for (int i = 0; i < 20; ++i) big.counts[i * 21] = 50;
  const std::string svg20 = RenderConfusionMatrixPlot(big);
  EXPECT_EQ(CheckWellFormed(svg20), "");
  EXPECT_THAT(svg20, Not(HasSubstr(">50<")));
  EXPECT_THAT(svg20, HasSubstr(">19<"));  // a class label
}

TEST(WellFormedCheckerTest, RejectsBrokenMarkup) {
  EXPECT_NE(CheckWellFormed("<svg><g></svg>"), "");
  EXPECT_NE(CheckWellFormed("<svg>a < b</svg>"), "");
  EXPECT_NE(CheckWellFormed("<svg>a & b</svg>"), "");
  EXPECT_NE(CheckWellFormed("<svg></svg><svg></svg>"), "");
  EXPECT_EQ(CheckWellFormed("<svg><g a=\"1\"/><text>x &amp; y</text></svg>"),
            "");
}

}  // namespace
}  // namespace elm
