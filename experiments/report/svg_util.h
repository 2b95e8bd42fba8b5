// SVG primitives shared by the figures of svg_plot.h (internal to
// //experiments/report:svg_plot): the fonts, colours and palette, coordinates
// printed with one decimal, estimated text widths (about 0.6 em per
// character), the <svg> opening, text and titles, the "Blues" colour map,
// clip paths whose ids are a hash of the figure's own content, frames, the
// "no data" note and legends laid out in rows.
#ifndef ELM_EXPERIMENTS_REPORT_SVG_UTIL_H_
#define ELM_EXPERIMENTS_REPORT_SVG_UTIL_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace elm {
namespace svg_internal {

inline constexpr char kFont[] = "DejaVu Sans, Helvetica, Arial, sans-serif";
// The clip-path id placeholder WithClipIds replaces.
inline constexpr char kClipToken[] = "@CLIPID@";
// Font sizes in px: tick labels, legends, axis labels, titles.
inline constexpr double kTickPx = 12;
inline constexpr double kLegendPx = 12;
inline constexpr double kAxisLabelPx = 13;
inline constexpr double kTitlePx = 15;
inline constexpr char kTextColor[] = "#222";
inline constexpr char kTickColor[] = "#555";
inline constexpr char kGridColor[] = "#e6e6e6";
inline constexpr char kFrameColor[] = "#9a9a9a";
// Tableau 10, reordered so that the first colours are distinct for colour-blind
// readers (blue, orange, green, red, purple, ...).
inline constexpr const char* kPalette[] = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
inline constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);
inline constexpr char kExcitatoryColor[] = "#d62728";
inline constexpr char kInhibitoryColor[] = "#1f77b4";

// A coordinate with one decimal, without a trailing ".0" and never "-0".
std::string Coord(double v);

// Estimated width in px of `text` at `font_px`.
double TextWidth(absl::string_view text, double font_px);
// The widest of `labels` at `font_px`.
double MaxTextWidth(const std::vector<std::string>& labels, double font_px);

// Replaces the clip-id placeholder in `body` with an id derived from `body`.
std::string WithClipIds(const std::string& body);

// <svg ...> with its <title> and a white background.
std::string SvgOpen(int width, int height, absl::string_view title);

// <text> at (x, y) with the given anchor ("start", "middle", "end").
std::string Text(double x, double y, absl::string_view text,
                 absl::string_view anchor, double font_px = kTickPx,
                 absl::string_view color = kTickColor,
                 absl::string_view extra = "");

// A bold title centred at (x, y); "" when `title` is empty.
std::string Title(double x, double y, absl::string_view title);

// A y-axis label, rotated, centred at (x, y).
std::string VerticalLabel(double x, double y, absl::string_view text);

// "#rrggbb" of components in [0, 255] (clamped, rounded).
std::string HexColor(double r, double g, double b);

// The "Blues" colour map at t in [0, 1]: near-white to dark blue.
std::string Blues(double t);

// A <clipPath> with id kClipToken around the area (x, y, w, h).
std::string ClipPath(double x, double y, double w, double h);

// A plot area's frame.
std::string Frame(double x, double y, double w, double h);

// The italic "no data" note centred at (cx, cy).
std::string NoData(double cx, double cy);

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
                   double max_width, int* rows);

// Number of legend rows the items need (same layout as Legend).
int LegendRows(const std::vector<LegendItem>& items, double max_width);

}  // namespace svg_internal
}  // namespace elm

#endif  // ELM_EXPERIMENTS_REPORT_SVG_UTIL_H_
