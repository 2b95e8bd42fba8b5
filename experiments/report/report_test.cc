// Tests of report.h: the written page holds the summary, figures, tables and
// the escaped spec, fetches nothing, replaces an existing report atomically
// (no temporary file left), and an unwritable path gives an error naming it.
#include "experiments/report/report.h"

#include <dirent.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/test_files.h"
#include "experiments/report/svg_plot.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  return names;
}

ReportContent SampleContent() {
  ReportContent c;
  c.title = "neuronio_branch_dm15 <run 3>";
  c.subtitle = "NeuronIO (generated), Branch-ELM d_m=15, 12 epochs, 41 min";
  c.summary = {{"test AUC", "0.9731"}, {"soma RMSE (mV)", "1.42"}};
  LinePlot loss;
  loss.title = "Loss";
  PlotSeries s;
  s.name = "train";
  s.x = {0, 1, 2, 3};
  s.y = {1.0, 0.6, 0.45, 0.4};
  loss.series = {s};
  c.figures.push_back({"Training loss per step", RenderLinePlot(loss)});
  ConfusionMatrixPlot cm;
  cm.num_classes = 2;
  cm.counts = {8, 2, 1, 9};
  c.figures.push_back(
      {"Confusion matrix & co", RenderConfusionMatrixPlot(cm), false});
  ReportTable t;
  t.caption = "Per epoch";
  t.header = {"epoch", "valid loss", "note"};
  t.rows = {{"1", "0.512", "first"}, {"2", "0.431", "a<b"}};
  c.tables.push_back(t);
  c.spec_text = "dataset { neuronio { files: \"<x>&y\" } }\n";
  c.footer = "elm report";
  return c;
}

TEST(ReportTest, WritesSelfContainedPage) {
  const std::string dir = MakeTestDir("report_ok");
  const std::string path = dir + "/report.html";
  const ReportContent content = SampleContent();
  ASSERT_TRUE(WriteReportHtml(path, content).ok());
  const std::string html = ReadTestFile(path);
  EXPECT_EQ(html, RenderReportHtml(content));
  EXPECT_TRUE(absl::StartsWith(html, "<!DOCTYPE html>"));
  EXPECT_THAT(html, HasSubstr("<title>neuronio_branch_dm15 &lt;run 3&gt;"));
  EXPECT_THAT(html, HasSubstr("<style>"));
  // Both figures inline, with their captions (escaped).
  EXPECT_EQ(content.figures.size(), 2u);
  size_t svgs = 0;
  for (size_t p = html.find("<svg"); p != std::string::npos;
       p = html.find("<svg", p + 1)) {
    ++svgs;
  }
  EXPECT_EQ(svgs, 2u);
  EXPECT_THAT(html, HasSubstr(content.figures[0].svg));
  EXPECT_THAT(html, HasSubstr(content.figures[1].svg));
  EXPECT_THAT(html, HasSubstr("<figcaption>Confusion matrix &amp; co"));
  // Summary and table, numbers right-aligned, text escaped.
  EXPECT_THAT(html,
              HasSubstr("<td>test AUC</td><td class=\"num\">0.9731</td>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"num\">0.431</td><td>a&lt;b</td>"));
  EXPECT_THAT(html, HasSubstr("<th>valid loss</th>"));
  // The spec in a <pre>, escaped.
  EXPECT_THAT(html,
              HasSubstr("<pre>dataset { neuronio { files: &quot;&lt;x&gt;&amp;y"
                        "&quot; } }\n</pre>"));
  EXPECT_THAT(html, Not(HasSubstr("<x>")));
  // Nothing fetched, nothing run.
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("href=")));
  EXPECT_THAT(html, Not(HasSubstr("@import")));
  EXPECT_THAT(html, Not(HasSubstr("url(http")));
  // Only the report is in the directory: no temporary file left.
  EXPECT_EQ(ListDir(dir), std::vector<std::string>{"report.html"});
}

TEST(ReportTest, ReplacesAnExistingReport) {
  const std::string dir = MakeTestDir("report_replace");
  const std::string path = dir + "/report.html";
  WriteTestFile(path, "old contents");
  ReportContent content;
  content.title = "second";
  ASSERT_TRUE(WriteReportHtml(path, content).ok());
  const std::string html = ReadTestFile(path);
  EXPECT_THAT(html, HasSubstr("<h1>second</h1>"));
  EXPECT_THAT(html, Not(HasSubstr("old contents")));
  // Optional sections are left out when empty.
  EXPECT_THAT(html, Not(HasSubstr("<pre>")));
  EXPECT_THAT(html, Not(HasSubstr("<table")));
  EXPECT_THAT(html, Not(HasSubstr("<figure")));
  EXPECT_EQ(ListDir(dir), std::vector<std::string>{"report.html"});
}

TEST(ReportTest, UnwritablePathNamesIt) {
  const std::string missing_dir =
      MakeTestDir("report_err") + "/no_such_dir/report.html";
  const absl::Status s1 = WriteReportHtml(missing_dir, SampleContent());
  EXPECT_FALSE(s1.ok());
  EXPECT_THAT(std::string(s1.message()), HasSubstr(missing_dir));
  EXPECT_THAT(std::string(s1.message()), HasSubstr("does not exist"));

  // The parent is a file.
  const std::string file = MakeTestDir("report_err") + "/plain_file";
  WriteTestFile(file, "x");
  const std::string under_file = file + "/report.html";
  const absl::Status s2 = WriteReportHtml(under_file, SampleContent());
  EXPECT_FALSE(s2.ok());
  EXPECT_THAT(std::string(s2.message()), HasSubstr(under_file));

  // The target is a directory: the rename fails, the temp file is removed.
  const std::string dir = MakeTestDir("report_err_dir");
  const std::string target = MakeTestDir("report_err_dir/report.html");
  const absl::Status s3 = WriteReportHtml(target, SampleContent());
  EXPECT_FALSE(s3.ok());
  EXPECT_THAT(std::string(s3.message()), HasSubstr(target));
  EXPECT_EQ(ListDir(dir), std::vector<std::string>{"report.html"});
}

TEST(ReportDeathTest, FigureMustBeSvg) {
  ReportContent c;
  c.figures.push_back({"not a figure", "<div>hello</div>"});
  EXPECT_DEATH(RenderReportHtml(c), "not an <svg> element");
}

}  // namespace
}  // namespace elm
