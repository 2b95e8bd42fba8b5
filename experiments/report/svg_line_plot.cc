// RenderLinePlot and RocPlot of svg_plot.h: data ranges over the points
// drawable on both axes (y rounded out to whole ticks), a legend above the plot
// area in as many rows as it needs, 1-2-5 or log ticks, and the curves clipped
// to the plot area.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "experiments/report/svg_axes.h"
#include "experiments/report/svg_plot.h"
#include "experiments/report/svg_series.h"
#include "experiments/report/svg_util.h"
#include "glog/logging.h"

namespace elm {

using svg_internal::AxisTicks;
using svg_internal::ClipPath;
using svg_internal::DrawSeries;
using svg_internal::Frame;
using svg_internal::kAxisLabelPx;
using svg_internal::kClipToken;
using svg_internal::kPalette;
using svg_internal::kPaletteSize;
using svg_internal::kTextColor;
using svg_internal::kTickPx;
using svg_internal::Legend;
using svg_internal::LegendItem;
using svg_internal::LegendRows;
using svg_internal::MaxTextWidth;
using svg_internal::NoData;
using svg_internal::Scale;
using svg_internal::SvgOpen;
using svg_internal::Text;
using svg_internal::TickLabels;
using svg_internal::Title;
using svg_internal::VerticalLabel;
using svg_internal::WidenDegenerate;
using svg_internal::WithClipIds;
using svg_internal::XGrid;
using svg_internal::YGrid;

std::string RenderLinePlot(const LinePlot& plot) {
  CHECK_GT(plot.width, 100);
  CHECK_GT(plot.height, 100);
  for (const PlotSeries& s : plot.series) {
    CHECK_EQ(s.x.size(), s.y.size()) << "series '" << s.name << "'";
    CHECK(s.y_low.empty() || s.y_low.size() == s.y.size())
        << "series '" << s.name << "'";
    CHECK(s.y_high.empty() || s.y_high.size() == s.y.size())
        << "series '" << s.name << "'";
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
      // Error bar ends.
      for (const std::vector<double>* ends : {&s.y_low, &s.y_high}) {
        if (ends->empty()) continue;
        const double e = (*ends)[i];
        if (!std::isfinite(e) || (plot.log_y && e <= 0)) continue;
        y_lo = std::min(y_lo, e);
        y_hi = std::max(y_hi, e);
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

}  // namespace elm
