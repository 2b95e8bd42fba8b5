// RenderTracePlot of svg_plot.h: a NeuronIO window as three stacked panels on
// a shared ms axis: the input raster (binned to pixel cells, one path per
// colour), the true and predicted soma voltage, and the predicted spike
// probability with the true spikes as vertical ticks.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "experiments/report/svg_axes.h"
#include "experiments/report/svg_plot.h"
#include "experiments/report/svg_series.h"
#include "experiments/report/svg_util.h"
#include "glog/logging.h"

namespace elm {

using svg_internal::ClipPath;
using svg_internal::Coord;
using svg_internal::DataRange;
using svg_internal::DrawSeries;
using svg_internal::Frame;
using svg_internal::kAxisLabelPx;
using svg_internal::kClipToken;
using svg_internal::kExcitatoryColor;
using svg_internal::kInhibitoryColor;
using svg_internal::kTextColor;
using svg_internal::Legend;
using svg_internal::LegendItem;
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
        {absl::StrFormat("excitatory (%s 0-%d): %d spikes", plot.raster_rows,
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
        &body, VerticalLabel(18, raster_top + raster_h / 2, plot.raster_label));
    if (shown_exc + shown_inh == 0) {
      absl::StrAppend(&body, NoData(left + pw / 2, raster_top + raster_h / 2));
    }
  }

  // Converts a per-step float trace to the x, y of a PlotSeries.
  auto trace_series = [&](const std::vector<float>& v, const std::string& name,
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
        trace_series(plot.soma_true_mv, plot.soma_true_name, "#222222", 1.25);
    const PlotSeries pred =
        trace_series(plot.soma_pred_mv, plot.soma_pred_name, "#ff7f0e", 1.5);
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
    std::vector<LegendItem> legend;
    if (!truth.name.empty()) {
      legend.push_back(
          {has_true ? truth.name : truth.name + " (no data)", truth.color});
    }
    legend.push_back(
        {has_pred ? pred.name : pred.name + " (no data)", pred.color});
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
    const PlotSeries prob =
        trace_series(plot.spike_prob, plot.spike_prob_name, "#1f77b4", 1.5);
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
        {absl::StrFormat("%s (%d)", plot.spike_steps_name, shown_spikes),
         "#444444"}};
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

}  // namespace elm
