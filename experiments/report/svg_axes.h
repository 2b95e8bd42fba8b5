// Axes of the figures of svg_plot.h (internal to
// //experiments/report:svg_plot): the mapping from data values to pixels
// (linear or log), data ranges, tick choice and labels, and the grid lines with
// their tick labels. The public tick and number helpers (FormatNumber,
// FormatTick, NiceStep, NiceTicks, LogTicks) are declared in svg_plot.h and
// defined in svg_axes.cc.
#ifndef ELM_EXPERIMENTS_REPORT_SVG_AXES_H_
#define ELM_EXPERIMENTS_REPORT_SVG_AXES_H_

#include <cmath>
#include <string>
#include <vector>

namespace elm {
namespace svg_internal {

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

// Range of the drawable values of v on `scale`'s kind of axis; false if none.
bool DataRange(const std::vector<double>& v, bool log, double* lo, double* hi);

// Widens a degenerate range [v, v].
void WidenDegenerate(bool log, double* lo, double* hi);

// Ticks for an axis.
std::vector<double> AxisTicks(const Scale& s, int target);

// Labels of the ticks, with FormatTick.
std::vector<std::string> TickLabels(const std::vector<double>& ticks);

// Vertical grid lines and, when `labels`, tick labels under the area.
std::string XGrid(const Scale& sx, const std::vector<double>& ticks, double top,
                  double bottom, bool labels);

// Horizontal grid lines and tick labels left of the area.
std::string YGrid(const Scale& sy, const std::vector<double>& ticks,
                  const std::vector<std::string>& labels, double left,
                  double right);

}  // namespace svg_internal
}  // namespace elm

#endif  // ELM_EXPERIMENTS_REPORT_SVG_AXES_H_
