// sweep.csv and sweep.html (see sweep_report.h).
#include "experiments/sweep_report.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "experiments/report/report.h"
#include "experiments/report/svg_plot.h"
#include "google/protobuf/text_format.h"

namespace elm {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string CsvCell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string quoted = "\"";
  for (char c : s) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

// Every test metric of a finished variant, sorted.
std::vector<std::string> MetricNames(
    const std::vector<VariantSummary>& summaries) {
  std::set<std::string> names;
  for (const VariantSummary& s : summaries) {
    for (const auto& [name, value] : s.test_metrics) names.insert(name);
  }
  return {names.begin(), names.end()};
}

// Lower is better for errors and losses.
bool LowerIsBetter(const std::string& metric) {
  return absl::StrContains(metric, "rmse") ||
         absl::StrContains(metric, "mae") ||
         absl::StrContains(metric, "loss") ||
         absl::StrContains(metric, "error");
}

std::vector<std::string> PlotMetrics(const SweepPlan& plan,
                                     const std::vector<std::string>& have) {
  std::vector<std::string> metrics(plan.sweep.plot_metrics().begin(),
                                   plan.sweep.plot_metrics().end());
  if (metrics.empty()) {
    if (plan.sweep.spec().data().has_neuronio()) {
      metrics = {"auc", "soma_rmse_mv"};
    } else {
      metrics = {"accuracy"};
    }
  }
  // Keep those some variant has (all of them while none finished).
  std::vector<std::string> kept;
  for (const std::string& m : metrics) {
    if (have.empty() || std::find(have.begin(), have.end(), m) != have.end()) {
      kept.push_back(m);
    }
  }
  return kept;
}

struct Stats {
  int n = 0;
  double mean = kNaN;
  double std = kNaN;  // sample standard deviation (n - 1); NaN for n < 2
};

Stats StatsOf(const std::vector<double>& values) {
  Stats s;
  double sum = 0;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    ++s.n;
    sum += v;
  }
  if (s.n == 0) return s;
  s.mean = sum / s.n;
  if (s.n >= 2) {
    double sq = 0;
    for (double v : values) {
      if (std::isfinite(v)) sq += (v - s.mean) * (v - s.mean);
    }
    s.std = std::sqrt(sq / (s.n - 1));
  }
  return s;
}

// A group: the variants that differ only in the seed axis.
struct Group {
  std::vector<int> key;  // value index per axis; -1 for the seed axis
  std::vector<int> variants;
  std::vector<int> finished;  // of those, the finished ones
};

// The line a group belongs to: its key without the x axis.
std::vector<int> LineKey(const SweepPlan& plan, const Group& g) {
  std::vector<int> key = g.key;
  if (plan.x_axis >= 0) key[plan.x_axis] = -1;
  return key;
}

std::string KeyLabel(const SweepPlan& plan, const std::vector<int>& key) {
  std::vector<std::string> parts;
  for (size_t a = 0; a < plan.axes.size(); ++a) {
    if (key[a] < 0) continue;
    const SweepAxisInfo& axis = plan.axes[a];
    parts.push_back(axis.field.empty()
                        ? axis.values[key[a]]
                        : absl::StrCat(axis.name, " ", axis.values[key[a]]));
  }
  return parts.empty() ? "all" : absl::StrJoin(parts, ", ");
}

std::vector<Group> Groups(const SweepPlan& plan,
                          const std::vector<VariantSummary>& summaries) {
  std::map<std::vector<int>, int> index;
  std::vector<Group> groups;
  for (size_t v = 0; v < plan.variants.size(); ++v) {
    std::vector<int> key = plan.variants[v].value_index;
    if (plan.seed_axis >= 0) key[plan.seed_axis] = -1;
    auto [it, added] = index.emplace(key, groups.size());
    if (added) groups.push_back(Group{key, {}, {}});
    Group& g = groups[it->second];
    g.variants.push_back(v);
    if (summaries[v].finished) g.finished.push_back(v);
  }
  return groups;
}

Stats GroupStats(const Group& g, const std::vector<VariantSummary>& summaries,
                 const std::string& metric) {
  std::vector<double> values;
  for (int v : g.finished) {
    const auto it = summaries[v].test_metrics.find(metric);
    values.push_back(it == summaries[v].test_metrics.end() ? kNaN : it->second);
  }
  return StatsOf(values);
}

double GroupParameters(const Group& g,
                       const std::vector<VariantSummary>& summaries) {
  std::vector<double> values;
  for (int v : g.finished) values.push_back(summaries[v].num_parameters);
  return StatsOf(values).mean;
}

std::string MeanStd(const Stats& s) {
  if (s.n == 0) return "n/a";
  if (s.n == 1) return absl::StrFormat("%.4g", s.mean);
  return absl::StrFormat("%.4g ± %.2g", s.mean, s.std);
}

// One figure: `metric` (mean ± std over the seed axis) against x, a line per
// family. x is the parameter count, or the x axis's value when
// `against_axis`; points without a finite x are left out.
LinePlot MetricPlot(const SweepPlan& plan, const std::vector<Group>& groups,
                    const std::vector<VariantSummary>& summaries,
                    const std::string& metric, bool against_axis) {
  LinePlot plot;
  const std::string seeds =
      plan.seed_axis >= 0 ? absl::StrCat(" (mean ± std over ",
                                         plan.axes[plan.seed_axis].name, ")")
                          : "";
  plot.title = absl::StrCat("test ", metric, seeds);
  plot.y_label = metric;
  plot.width = 560;
  plot.height = 380;
  std::map<std::vector<int>, size_t> lines;
  double x_lo = 0, x_hi = 0;
  bool any = false;
  for (const Group& g : groups) {
    double x = GroupParameters(g, summaries);
    if (against_axis) {
      if (!absl::SimpleAtod(plan.axes[plan.x_axis].values[g.key[plan.x_axis]],
                            &x)) {
        x = kNaN;
      }
    }
    const Stats s = GroupStats(g, summaries, metric);
    if (!std::isfinite(x) || s.n == 0) continue;
    const std::vector<int> key = LineKey(plan, g);
    auto [it, added] = lines.emplace(key, plot.series.size());
    if (added) {
      PlotSeries series;
      series.name = KeyLabel(plan, key);
      series.markers = true;
      series.width = 2;
      plot.series.push_back(std::move(series));
    }
    PlotSeries& series = plot.series[it->second];
    series.x.push_back(x);
    series.y.push_back(s.mean);
    series.y_low.push_back(s.n >= 2 ? s.mean - s.std : kNaN);
    series.y_high.push_back(s.n >= 2 ? s.mean + s.std : kNaN);
    x_lo = any ? std::min(x_lo, x) : x;
    x_hi = any ? std::max(x_hi, x) : x;
    any = true;
  }
  // Points in x order along each line.
  for (PlotSeries& s : plot.series) {
    std::vector<size_t> order(s.x.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return s.x[a] < s.x[b]; });
    PlotSeries sorted = s;
    for (size_t i = 0; i < order.size(); ++i) {
      sorted.x[i] = s.x[order[i]];
      sorted.y[i] = s.y[order[i]];
      sorted.y_low[i] = s.y_low[order[i]];
      sorted.y_high[i] = s.y_high[order[i]];
    }
    s = std::move(sorted);
  }
  plot.log_x = any && x_lo > 0 && (!against_axis || x_hi >= 8 * x_lo);
  if (plot.log_x && x_hi > x_lo) {
    // A margin so that the end points' markers and bars are whole.
    const double pad = std::pow(x_hi / x_lo, 0.05);
    plot.x_min = x_lo / pad;
    plot.x_max = x_hi * pad;
  }
  plot.x_label = against_axis ? absl::StrCat(plan.axes[plan.x_axis].name,
                                             plot.log_x ? " (log scale)" : "")
                              : "trainable parameters (log scale)";
  return plot;
}

}  // namespace

std::vector<VariantSummary> ReadSweepSummaries(const SweepPlan& plan) {
  std::vector<VariantSummary> summaries;
  for (size_t v = 0; v < plan.variants.size(); ++v) {
    const std::string dir = VariantDir(plan, v);
    absl::StatusOr<VariantSummary> s = ReadVariantSummary(dir);
    if (s.ok() && GetVariantState(dir, plan.variants[v].spec) ==
                      VariantState::kFinished) {
      summaries.push_back(*std::move(s));
    } else {
      summaries.push_back(VariantSummary());
    }
  }
  return summaries;
}

std::string SweepCsv(const SweepPlan& plan,
                     const std::vector<VariantSummary>& summaries) {
  const std::vector<std::string> metrics = MetricNames(summaries);
  std::vector<std::string> header = {"variant"};
  for (const SweepAxisInfo& a : plan.axes) header.push_back(a.name);
  header.push_back("state");
  header.push_back("num_parameters");
  for (const std::string& m : metrics) header.push_back("test_" + m);
  header.push_back("train_seconds");
  header.push_back("wall_seconds");
  std::string csv = absl::StrCat(absl::StrJoin(header, ","), "\n");
  for (size_t v = 0; v < plan.variants.size(); ++v) {
    const VariantSummary& s = summaries[v];
    std::vector<std::string> cells = {CsvCell(plan.variants[v].name)};
    for (size_t a = 0; a < plan.axes.size(); ++a) {
      cells.push_back(CsvCell(plan.Value(v, a)));
    }
    cells.push_back(s.finished ? "finished" : "unfinished");
    if (s.finished) {
      cells.push_back(absl::StrCat(s.num_parameters));
      for (const std::string& m : metrics) {
        const auto it = s.test_metrics.find(m);
        cells.push_back(it == s.test_metrics.end() || std::isnan(it->second)
                            ? ""
                            : Num(it->second));
      }
      cells.push_back(Num(s.train_seconds, 6));
      cells.push_back(s.wall_seconds >= 0 ? Num(s.wall_seconds, 6) : "");
    } else {
      cells.resize(cells.size() + 1 + metrics.size() + 2);
    }
    absl::StrAppend(&csv, absl::StrJoin(cells, ","), "\n");
  }
  return csv;
}

std::string SweepHtml(const SweepPlan& plan,
                      const std::vector<VariantSummary>& summaries) {
  const std::vector<std::string> all_metrics = MetricNames(summaries);
  const std::vector<std::string> metrics = PlotMetrics(plan, all_metrics);
  const std::vector<Group> groups = Groups(plan, summaries);
  int finished = 0;
  double train_seconds = 0;
  for (const VariantSummary& s : summaries) {
    finished += s.finished;
    if (s.finished) train_seconds += s.train_seconds;
  }
  ReportContent report;
  report.title = absl::StrCat("Sweep ", plan.sweep.name());
  std::vector<std::string> axes;
  for (const SweepAxisInfo& a : plan.axes) {
    axes.push_back(absl::StrCat(a.name, " (", a.values.size(), ")"));
  }
  report.subtitle = absl::StrFormat(
      "%d variants over %s; %d finished; %.0f s of training in all",
      plan.variants.size(),
      axes.empty() ? "no axes" : absl::StrJoin(axes, " × "), finished,
      train_seconds);
  if (!plan.sweep.description().empty()) {
    report.summary.push_back({"reproduces", plan.sweep.description()});
  }
  report.summary.push_back(
      {"variants finished",
       absl::StrCat(finished, " of ", plan.variants.size())});
  for (const std::string& m : metrics) {
    int best = -1;
    Stats best_stats;
    for (size_t g = 0; g < groups.size(); ++g) {
      const Stats s = GroupStats(groups[g], summaries, m);
      if (s.n == 0) continue;
      const bool better =
          best < 0 || (LowerIsBetter(m) ? s.mean < best_stats.mean
                                        : s.mean > best_stats.mean);
      if (better) {
        best = g;
        best_stats = s;
      }
    }
    if (best >= 0) {
      report.summary.push_back(
          {absl::StrCat("best mean test ", m),
           absl::StrCat(MeanStd(best_stats), " (",
                        KeyLabel(plan, groups[best].key), ")")});
    }
  }
  for (const std::string& m : metrics) {
    report.figures.push_back(
        {absl::StrCat("Test ", m, " against the trainable parameter count"),
         RenderLinePlot(MetricPlot(plan, groups, summaries, m, false))});
  }
  bool numeric_x = plan.x_axis >= 0 && !plan.axes[plan.x_axis].field.empty();
  if (numeric_x) {
    for (const std::string& v : plan.axes[plan.x_axis].values) {
      double d;
      numeric_x = numeric_x && absl::SimpleAtod(v, &d);
    }
  }
  if (numeric_x) {
    for (const std::string& m : metrics) {
      report.figures.push_back(
          {absl::StrCat("Test ", m, " against ", plan.axes[plan.x_axis].field),
           RenderLinePlot(MetricPlot(plan, groups, summaries, m, true))});
    }
  }
  // The means over the seed axis.
  ReportTable means;
  means.caption =
      plan.seed_axis >= 0
          ? absl::StrCat("Test metrics, mean ± standard deviation over ",
                         plan.axes[plan.seed_axis].name)
          : "Test metrics";
  for (size_t a = 0; a < plan.axes.size(); ++a) {
    if (static_cast<int>(a) != plan.seed_axis) {
      means.header.push_back(plan.axes[a].name);
    }
  }
  means.header.push_back("parameters");
  means.header.push_back("runs");
  for (const std::string& m : metrics) means.header.push_back(m);
  for (const Group& g : groups) {
    std::vector<std::string> row;
    for (size_t a = 0; a < plan.axes.size(); ++a) {
      if (static_cast<int>(a) != plan.seed_axis) {
        row.push_back(plan.axes[a].values[g.key[a]]);
      }
    }
    const double params = GroupParameters(g, summaries);
    row.push_back(std::isfinite(params) ? absl::StrFormat("%.0f", params)
                                        : "n/a");
    row.push_back(absl::StrCat(g.finished.size(), " of ", g.variants.size()));
    for (const std::string& m : metrics) {
      row.push_back(MeanStd(GroupStats(g, summaries, m)));
    }
    means.rows.push_back(std::move(row));
  }
  report.tables.push_back(std::move(means));
  // Every variant.
  ReportTable every;
  every.caption = "Every variant (sweep.csv has all test metrics)";
  every.header = {"variant", "parameters"};
  for (const std::string& m : metrics) every.header.push_back(m);
  every.header.push_back("train s");
  for (size_t v = 0; v < plan.variants.size(); ++v) {
    const VariantSummary& s = summaries[v];
    std::vector<std::string> row = {plan.variants[v].name};
    if (!s.finished) {
      row.push_back("unfinished");
    } else {
      row.push_back(absl::StrCat(s.num_parameters));
      for (const std::string& m : metrics) {
        const auto it = s.test_metrics.find(m);
        row.push_back(it == s.test_metrics.end()
                          ? "n/a"
                          : absl::StrFormat("%.4g", it->second));
      }
      row.push_back(absl::StrFormat("%.1f", s.train_seconds));
    }
    every.rows.push_back(std::move(row));
  }
  report.tables.push_back(std::move(every));
  std::string text;
  google::protobuf::TextFormat::Printer printer;
  printer.SetExpandAny(true);
  printer.PrintToString(plan.sweep, &text);
  report.spec_text = text;
  report.footer = "elm sweep";
  return RenderReportHtml(report);
}

absl::Status WriteSweepReport(const SweepPlan& plan) {
  const std::vector<VariantSummary> summaries = ReadSweepSummaries(plan);
  RETURN_IF_ERROR(WriteFileAtomically(plan.output_dir + "/sweep.csv",
                                      SweepCsv(plan, summaries), "sweep.csv"));
  return WriteFileAtomically(plan.output_dir + "/sweep.html",
                             SweepHtml(plan, summaries), "sweep.html");
}

}  // namespace elm
