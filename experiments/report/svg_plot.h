// Dependency-free SVG figures for experiment reports, returned as strings that
// can be written to a .svg file or inlined in HTML: `LinePlot` (named series of
// (x, y) points with a title, axis labels, optional log axes, a legend above
// the plot area and 1-2-5 ticks; loss, learning-rate, accuracy and ROC curves),
// `TracePlot` (a NeuronIO window: input raster, true vs predicted soma voltage,
// predicted spike probability with the true spikes, on a shared ms axis) and
// `ConfusionMatrixPlot` (a [C, C] heat map). Non-finite points (and
// non-positive ones on a log axis) leave a gap; long series are decimated to
// the points that change the drawn pixel column's first, last, lowest and
// highest value, so 1e5 points become at most a few thousand and the picture
// is unchanged. Output is deterministic: the same input gives the same bytes
// (numbers are printed with fixed formats, no locale, no clock, no addresses).
// Text is escaped for XML. The helpers behind the plots (ticks, number
// formatting, decimation, escaping) are exposed for tests and for callers.
#ifndef ELM_EXPERIMENTS_REPORT_SVG_PLOT_H_
#define ELM_EXPERIMENTS_REPORT_SVG_PLOT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace elm {

// `text` with & < > " ' replaced by XML entities; control characters other
// than tab and newline (invalid in XML 1.0) are replaced by U+FFFD.
std::string XmlEscape(absl::string_view text);

// `v` as printf's "%.4g" ("0.9731", "1e-05", "nan", "inf"); -0 prints as "0".
std::string FormatNumber(double v);

// A tick label: "%.4g", except that magnitudes from 1e4 to below 1e9 are
// written with k / M / G suffixes ("12k", "1.5M") instead of exponents.
std::string FormatTick(double v);

// Tick values k·step within [lo, hi] for a step of 1, 2 or 5 times a power of
// ten, chosen so that there are about `target` ticks (at least 2 when lo < hi).
// lo == hi gives {lo}; a non-finite or reversed range gives {}.
std::vector<double> NiceTicks(double lo, double hi, int target = 5);

// The step NiceTicks uses for the range.
double NiceStep(double lo, double hi, int target = 5);

// Ticks for a log axis over [lo, hi], 0 < lo < hi: powers of ten (every
// second or third power for wide ranges), with the 2 and 5 multiples added
// when the range spans under 2.5 decades; when that gives fewer than 3 ticks,
// linear NiceTicks within the range.
std::vector<double> LogTicks(double lo, double hi);

// Decimation for drawing: the indices (increasing) of the points to keep from a
// polyline in pixel coordinates (all finite). In each run of consecutive
// points whose x falls into the same pixel column (floor(px)), only the first,
// the lowest, the highest and the last are kept; then points that land on the
// same pixel as the previous kept point are dropped (the run's last point is
// always kept, as are the polyline's first and last points). The drawn line
// stays pixel-identical in extent; a monotonic-x polyline W pixels wide keeps
// at most 4·(W + 1) points.
std::vector<size_t> DecimateIndices(const std::vector<double>& px,
                                    const std::vector<double>& py);

// Exponential moving average with weight `alpha` on the new value
// (s_t = alpha·y_t + (1 − alpha)·s_{t−1}), debiased as TensorBoard does so the
// start is not pulled to 0; non-finite values are passed through as NaN and
// do not update the average. For noisy per-step training losses.
std::vector<double> SmoothEma(const std::vector<double>& y, double alpha);

// One curve of a LinePlot.
struct PlotSeries {
  std::string name;       // legend text; empty: not in the legend
  std::vector<double> x;  // same length as y (CHECKed)
  std::vector<double> y;
  std::string color;  // CSS colour; empty: the next palette colour
  bool dashed = false;
  bool markers = false;  // a dot at every (kept) point, for short series
  double width = 1.75;   // stroke width in px
  double opacity = 1.0;
  // Error bars: empty, or one per point (same length as y, CHECKed): a
  // vertical bar with caps from y_low[i] to y_high[i] at x[i] (e.g. mean ±
  // standard deviation over seeds); a bar with a non-finite end is not drawn.
  // The bars count towards the y range.
  std::vector<double> y_low;
  std::vector<double> y_high;
};

// A line plot. Ranges are the data's (with a small margin on y, and y rounded
// out to ticks) unless set; a set range clips the curves.
struct LinePlot {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<PlotSeries> series;
  bool log_x = false;
  bool log_y = false;
  // Axis ranges; used when lo < hi (and lo > 0 on a log axis).
  double x_min = 0, x_max = 0;
  double y_min = 0, y_max = 0;
  int width = 640;
  int height = 360;
};

// The plot as an <svg> element (with xmlns, width, height and viewBox). An
// empty plot (no finite point in any series) shows its frame and "no data";
// an empty series is listed in the legend as "name (no data)".
std::string RenderLinePlot(const LinePlot& plot);

// A ROC curve: true-positive rate over false-positive rate with the chance
// diagonal, x and y in [0, 1]. With `log_fpr` the x axis is logarithmic from
// `min_fpr` (for example 1 / negatives; points at fpr 0 are not drawn) to 1,
// which shows the low-false-positive region a spike detector works in.
LinePlot RocPlot(const std::vector<double>& fpr, const std::vector<double>& tpr,
                 const std::string& title, bool log_fpr = false,
                 double min_fpr = 1e-4);

// A NeuronIO window, three stacked panels over the same ms axis.
struct TracePlot {
  std::string title;
  // Input spikes as (absolute step, channel); those outside the window or
  // outside [0, num_channels) are not drawn.
  std::vector<std::pair<int64_t, int32_t>> raster;
  int num_channels = 1278;
  int num_excitatory = 639;  // channels below this are excitatory
  // The raster's y-axis label and the legend's word for its rows (a network
  // raster: "neuron", "neurons").
  std::string raster_label = "input channel";
  std::string raster_rows = "channels";
  // Legend names of the traces (an empty soma_true_name leaves the truth out
  // of the legend: a simulation without ground truth).
  std::string soma_true_name = "true soma";
  std::string soma_pred_name = "predicted soma";
  std::string spike_prob_name = "predicted spike probability";
  std::string spike_steps_name = "true spike";
  // Per step of the window, starting at `start_step`; any may be empty. The
  // window length is the longest of them (or, when all are empty, up to the
  // last raster or spike step).
  std::vector<float> soma_true_mv;
  std::vector<float> soma_pred_mv;
  std::vector<float> spike_prob;
  std::vector<int64_t> spike_steps;  // true output spikes, absolute steps
  int64_t start_step = 0;
  double ms_per_step = 1.0;  // x is step · ms_per_step, in ms
  int width = 1160;  // px; the height follows from the panels (about 640)
};

// The trace figure as an <svg> element.
std::string RenderTracePlot(const TracePlot& plot);

// A confusion matrix: counts[true_class · C + predicted_class]. Cells are
// coloured by the fraction of their row (the recall of the true class) and
// show the count when C ≤ 12.
struct ConfusionMatrixPlot {
  std::string title;
  int num_classes = 0;
  std::vector<int64_t> counts;           // C·C entries (CHECKed)
  std::vector<std::string> class_names;  // C names, or empty for 0..C−1
};

// The heat map as an <svg> element.
std::string RenderConfusionMatrixPlot(const ConfusionMatrixPlot& plot);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_REPORT_SVG_PLOT_H_
