// The run report: one self-contained HTML file (inline CSS and inline SVG
// figures from svg_plot.h; no scripts, fonts, images or other fetches) with a
// title, a line of run facts, a table of key results ("test AUC" → "0.9731"),
// the figures with captions, optional tables (per-class accuracy, metrics per
// epoch) and the resolved experiment spec. `RenderReportHtml` builds the page;
// `WriteReportHtml` writes it atomically (a temporary file beside the target,
// renamed over it) and returns an error naming the path when it cannot.
#ifndef ELM_EXPERIMENTS_REPORT_REPORT_H_
#define ELM_EXPERIMENTS_REPORT_REPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace elm {

// A figure: an <svg> element (trusted markup, inlined as it is; CHECKed to
// start with "<svg") and its caption (plain text, escaped).
struct ReportFigure {
  std::string caption;
  std::string svg;
  bool wide = false;  // spans the page's width (trace plots)
};

// A table of plain-text cells (escaped). Rows may be shorter than the header;
// cells that look like numbers are right-aligned.
struct ReportTable {
  std::string caption;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

struct ReportContent {
  std::string title;     // the page title and heading
  std::string subtitle;  // one line of run facts (dataset, model, time, ...)
  // Key results, shown as a two-column table at the top.
  std::vector<std::pair<std::string, std::string>> summary;
  std::vector<ReportFigure> figures;
  std::vector<ReportTable> tables;
  std::string spec_text;  // the resolved spec, shown in a <pre>; may be empty
  std::string footer;     // a last line (the tool and its version); optional
};

// The report as an HTML5 document.
std::string RenderReportHtml(const ReportContent& content);

// Writes RenderReportHtml(content) to `path` through `path`.tmp.<pid> and a
// rename; on failure no temporary file is left and the error names `path`.
absl::Status WriteReportHtml(const std::string& path,
                             const ReportContent& content);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_REPORT_REPORT_H_
