// Drawing the curves of svg_plot.h's figures (internal to
// //experiments/report:svg_plot): the polyline pieces of a series on its
// scales, split at undrawable points and decimated (DecimateIndices), as path
// data, and a series as SVG. DecimateIndices and SmoothEma (svg_plot.h) are
// defined in svg_series.cc.
#ifndef ELM_EXPERIMENTS_REPORT_SVG_SERIES_H_
#define ELM_EXPERIMENTS_REPORT_SVG_SERIES_H_

#include <string>
#include <utility>
#include <vector>

#include "experiments/report/svg_axes.h"
#include "experiments/report/svg_plot.h"

namespace elm {
namespace svg_internal {

// The polyline pieces of (x, y) on the scales: split at undrawable points and
// decimated. Each piece is a list of pixel points.
std::vector<std::vector<std::pair<double, double>>> Pieces(
    const std::vector<double>& x, const std::vector<double>& y, const Scale& sx,
    const Scale& sy);

// Path data "M x y L x y ..." of the pieces with more than one point.
std::string PathData(
    const std::vector<std::vector<std::pair<double, double>>>& pieces);

// Draws one series: its path, isolated points as dots, markers if asked.
std::string DrawSeries(const PlotSeries& s, const std::string& color,
                       const Scale& sx, const Scale& sy);

}  // namespace svg_internal
}  // namespace elm

#endif  // ELM_EXPERIMENTS_REPORT_SVG_SERIES_H_
