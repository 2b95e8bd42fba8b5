// RenderConfusionMatrixPlot of svg_plot.h: a [C, C] heat map coloured by the
// fraction of each true class's row ("Blues"), with counts in the cells for up
// to 12 classes, class labels (rotated when they do not fit) and a colour bar.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "experiments/report/svg_plot.h"
#include "experiments/report/svg_util.h"
#include "glog/logging.h"

namespace elm {

using svg_internal::Blues;
using svg_internal::Coord;
using svg_internal::Frame;
using svg_internal::kAxisLabelPx;
using svg_internal::kTextColor;
using svg_internal::kTickColor;
using svg_internal::kTickPx;
using svg_internal::MaxTextWidth;
using svg_internal::SvgOpen;
using svg_internal::Text;
using svg_internal::TextWidth;
using svg_internal::Title;
using svg_internal::VerticalLabel;

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
