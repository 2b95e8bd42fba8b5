// A sweep's outputs, from its variants' run folders (sweep_plan.h):
// `SweepCsv` is sweep.csv, one row per variant (its axis values, state,
// parameter count, every test metric, training and wall seconds);
// `SweepHtml` is sweep.html in the run report's style (experiments/report):
// each plotted test metric against the trainable parameter count on a log
// axis (the form of the paper's Fig. 2), one line per model family (every
// axis but the seed and x axes), the mean over the seed axis with error bars
// of ± one standard deviation, the same against the x axis's values, and
// tables of the means and of every variant. `WriteSweepReport` reads the
// summaries and writes both files into the sweep's output folder.
#ifndef ELM_EXPERIMENTS_SWEEP_REPORT_H_
#define ELM_EXPERIMENTS_SWEEP_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "experiments/sweep_plan.h"

namespace elm {

// Every variant's summary (unfinished ones: finished = false), in plan order.
std::vector<VariantSummary> ReadSweepSummaries(const SweepPlan& plan);

// sweep.csv: a header "variant,<axis names>,state,num_parameters,
// test_<metric>... (every metric of any finished variant, sorted),
// train_seconds,wall_seconds" and one row per variant in plan order; state
// is "finished" or "unfinished" (whose other cells are empty). Numbers are
// written as summary.json has them; cells with ',' or '"' are quoted.
std::string SweepCsv(const SweepPlan& plan,
                     const std::vector<VariantSummary>& summaries);

// sweep.html as described above (self-contained; no scripts).
std::string SweepHtml(const SweepPlan& plan,
                      const std::vector<VariantSummary>& summaries);

// Writes <output_dir>/sweep.csv and sweep.html.
absl::Status WriteSweepReport(const SweepPlan& plan);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_SWEEP_REPORT_H_
