// Implementation of report.h: the page is a fixed HTML5 skeleton with an inline
// stylesheet (system fonts, a centred 1240 px column, figures in a responsive
// two-column grid, zebra-striped tables), filled in with escaped text and the
// figures' SVG; the file is written with WriteFileAtomically (base/files.h).
#include "experiments/report/report.h"

#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/files.h"
#include "experiments/report/svg_plot.h"
#include "glog/logging.h"

namespace elm {
namespace {

constexpr char kStyle[] = R"css(
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1d1f23;
  font: 15px/1.5 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 28px 24px 40px; }
header h1 { font-size: 26px; margin: 0 0 4px; font-weight: 600; }
header p.facts { margin: 0 0 20px; color: #5a606b; font-size: 14px; }
section { margin: 0 0 26px; }
h2 { font-size: 17px; font-weight: 600; margin: 0 0 10px; color: #2b2f36; }
.card { background: #fff; border: 1px solid #dde0e5; border-radius: 6px;
  padding: 14px 16px; }
table { border-collapse: collapse; font-size: 14px; }
th, td { padding: 5px 14px; text-align: left; border-bottom: 1px solid #eceef1; }
th { background: #f0f2f5; font-weight: 600; }
tbody tr:nth-child(even) td { background: #fafbfc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.summary td { padding: 6px 14px; }
table.summary td:first-child { color: #4a505a; }
table.summary td + td { text-align: left; font-weight: 600; color: #111;
  font-variant-numeric: tabular-nums; }
.figures { display: grid; align-items: start; grid-template-columns: repeat(auto-fill,
  minmax(560px, 1fr)); gap: 18px; }
figure { margin: 0; background: #fff; border: 1px solid #dde0e5;
  border-radius: 6px; padding: 10px 10px 8px; }
figure.wide { grid-column: 1 / -1; }
figure svg { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { font-size: 13px; color: #4a505a; margin: 6px 4px 0; }
.tables { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
.tables .card { overflow-x: auto; max-width: 100%; }
.tables h3 { font-size: 14px; font-weight: 600; margin: 0 0 8px; }
pre { background: #fff; border: 1px solid #dde0e5; border-radius: 6px;
  padding: 12px 16px; margin: 0; overflow-x: auto; font-size: 12.5px;
  line-height: 1.45; font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace;
  white-space: pre-wrap; word-break: break-word; }
footer { color: #7a808b; font-size: 12px; margin-top: 20px; }
)css";

// Whether a cell reads as a number ("0.9731", "-1.5e-3", "97.3%", "12,345").
bool LooksNumeric(absl::string_view s) {
  s = absl::StripAsciiWhitespace(s);
  if (s.empty()) return false;
  if (absl::EndsWith(s, "%")) s.remove_suffix(1);
  std::string t;
  for (const char c : s) {
    if (c != ',') t += c;
  }
  if (t.empty()) return false;
  char* end = nullptr;
  std::strtod(t.c_str(), &end);
  return end == t.c_str() + t.size();
}

std::string Cell(absl::string_view tag, absl::string_view text) {
  return absl::StrCat("<", tag, LooksNumeric(text) ? " class=\"num\"" : "", ">",
                      XmlEscape(text), "</", tag, ">");
}

}  // namespace

std::string RenderReportHtml(const ReportContent& content) {
  std::string html;
  absl::StrAppend(&html,
                  "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                  "<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, "
                  "initial-scale=1\">\n<title>",
                  XmlEscape(content.title), "</title>\n<style>", kStyle,
                  "</style>\n</head>\n<body>\n<main>\n<header>\n<h1>",
                  XmlEscape(content.title), "</h1>\n");
  if (!content.subtitle.empty()) {
    absl::StrAppend(&html, "<p class=\"facts\">", XmlEscape(content.subtitle),
                    "</p>\n");
  }
  absl::StrAppend(&html, "</header>\n");

  if (!content.summary.empty()) {
    absl::StrAppend(&html,
                    "<section>\n<h2>Results</h2>\n<div class=\"card\" "
                    "style=\"display:inline-block\">\n"
                    "<table class=\"summary\"><tbody>\n");
    for (const auto& [key, value] : content.summary) {
      absl::StrAppend(&html, "<tr><td>", XmlEscape(key), "</td>",
                      Cell("td", value), "</tr>\n");
    }
    absl::StrAppend(&html, "</tbody></table>\n</div>\n</section>\n");
  }

  if (!content.figures.empty()) {
    absl::StrAppend(&html,
                    "<section>\n<h2>Figures</h2>\n<div class=\"figures\">\n");
    for (const ReportFigure& f : content.figures) {
      CHECK(absl::StartsWith(f.svg, "<svg"))
          << "figure '" << f.caption << "' is not an <svg> element";
      absl::StrAppend(
          &html, f.wide ? "<figure class=\"wide\">\n" : "<figure>\n", f.svg);
      if (!f.caption.empty()) {
        absl::StrAppend(&html, "<figcaption>", XmlEscape(f.caption),
                        "</figcaption>\n");
      }
      absl::StrAppend(&html, "</figure>\n");
    }
    absl::StrAppend(&html, "</div>\n</section>\n");
  }

  if (!content.tables.empty()) {
    absl::StrAppend(&html,
                    "<section>\n<h2>Tables</h2>\n<div class=\"tables\">\n");
    for (const ReportTable& t : content.tables) {
      absl::StrAppend(&html, "<div class=\"card\">\n");
      if (!t.caption.empty()) {
        absl::StrAppend(&html, "<h3>", XmlEscape(t.caption), "</h3>\n");
      }
      absl::StrAppend(&html, "<table>\n");
      if (!t.header.empty()) {
        absl::StrAppend(&html, "<thead><tr>");
        for (const std::string& h : t.header) {
          absl::StrAppend(&html, "<th>", XmlEscape(h), "</th>");
        }
        absl::StrAppend(&html, "</tr></thead>\n");
      }
      absl::StrAppend(&html, "<tbody>\n");
      for (const auto& row : t.rows) {
        absl::StrAppend(&html, "<tr>");
        for (const std::string& cell : row) {
          absl::StrAppend(&html, Cell("td", cell));
        }
        absl::StrAppend(&html, "</tr>\n");
      }
      absl::StrAppend(&html, "</tbody>\n</table>\n</div>\n");
    }
    absl::StrAppend(&html, "</div>\n</section>\n");
  }

  if (!content.spec_text.empty()) {
    absl::StrAppend(&html, "<section>\n<h2>Experiment spec</h2>\n<pre>",
                    XmlEscape(content.spec_text), "</pre>\n</section>\n");
  }
  if (!content.footer.empty()) {
    absl::StrAppend(&html, "<footer>", XmlEscape(content.footer),
                    "</footer>\n");
  }
  absl::StrAppend(&html, "</main>\n</body>\n</html>\n");
  return html;
}

absl::Status WriteReportHtml(const std::string& path,
                             const ReportContent& content) {
  const std::string html = RenderReportHtml(content);
  return WriteFileAtomically(path, html, "report");
}

}  // namespace elm
