// The SVG primitives of svg_util.h, and XmlEscape (svg_plot.h).
#include "experiments/report/svg_util.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "base/checksum.h"
#include "experiments/report/svg_plot.h"

namespace elm {

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

namespace svg_internal {

std::string Coord(double v) {
  if (!std::isfinite(v)) v = 0;
  const double rounded = std::round(v * 10.0) / 10.0;
  if (rounded == 0) return "0";
  if (rounded == std::round(rounded)) {
    return absl::StrFormat("%.0f", rounded);
  }
  return absl::StrFormat("%.1f", rounded);
}

double TextWidth(absl::string_view text, double font_px) {
  // Count UTF-8 code points, not bytes.
  int chars = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++chars;
  }
  return chars * font_px * 0.6;
}

double MaxTextWidth(const std::vector<std::string>& labels, double font_px) {
  double w = 0;
  for (const auto& l : labels) w = std::max(w, TextWidth(l, font_px));
  return w;
}

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

std::string Text(double x, double y, absl::string_view text,
                 absl::string_view anchor, double font_px,
                 absl::string_view color, absl::string_view extra) {
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

std::string VerticalLabel(double x, double y, absl::string_view text) {
  if (text.empty()) return "";
  return absl::StrCat("<text x=\"0\" y=\"0\" text-anchor=\"middle\" ",
                      "font-size=\"", Coord(kAxisLabelPx), "\" fill=\"",
                      kTextColor, "\" transform=\"translate(", Coord(x), " ",
                      Coord(y), ") rotate(-90)\">", XmlEscape(text),
                      "</text>\n");
}

std::string HexColor(double r, double g, double b) {
  auto c = [](double v) {
    return static_cast<int>(std::lround(std::clamp(v, 0.0, 255.0)));
  };
  return absl::StrFormat("#%02x%02x%02x", c(r), c(g), c(b));
}

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

std::string ClipPath(double x, double y, double w, double h) {
  // Slightly larger than the plot area so that lines on its edge show fully.
  return absl::StrCat("<clipPath id=\"", kClipToken, "\"><rect x=\"",
                      Coord(x - 3), "\" y=\"", Coord(y - 3), "\" width=\"",
                      Coord(w + 6), "\" height=\"", Coord(h + 6),
                      "\"/></clipPath>\n");
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

int LegendRows(const std::vector<LegendItem>& items, double max_width) {
  int rows = 0;
  Legend(items, 0, 0, max_width, &rows);
  return rows;
}

}  // namespace svg_internal
}  // namespace elm
