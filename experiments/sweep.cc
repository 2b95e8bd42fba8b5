// Running a sweep's variants in one process (see sweep.h).
#include "experiments/sweep.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "experiments/sweep_report.h"
#include "experiments/trainer.h"

namespace elm {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The metrics of the progress line: the plotted ones (sweep.proto's
// plot_metrics or the defaults), else all.
std::string MetricsText(const SweepPlan& plan, const VariantSummary& s) {
  std::vector<std::string> names(plan.sweep.plot_metrics().begin(),
                                 plan.sweep.plot_metrics().end());
  if (names.empty()) {
    names = plan.sweep.spec().data().has_neuronio()
                ? std::vector<std::string>{"auc", "soma_rmse_mv"}
                : std::vector<std::string>{"accuracy"};
  }
  std::vector<std::string> parts;
  for (const std::string& n : names) {
    const auto it = s.test_metrics.find(n);
    if (it != s.test_metrics.end()) {
      parts.push_back(absl::StrFormat("%s %.4g", n, it->second));
    }
  }
  if (parts.empty()) {
    for (const auto& [n, v] : s.test_metrics) {
      parts.push_back(absl::StrFormat("%s %.4g", n, v));
    }
  }
  return absl::StrJoin(parts, ", ");
}

}  // namespace

absl::StatusOr<VariantOutcome> RunSweepVariant(const SweepPlan& plan, int index,
                                               const SweepRunOptions& options) {
  const SweepVariant& v = plan.variants[index];
  const std::string dir = VariantDir(plan, index);
  VariantOutcome outcome;
  outcome.before = GetVariantState(dir, v.spec);
  if (outcome.before == VariantState::kFinished) {
    outcome.finished = true;
    return outcome;
  }
  // A summary.json left by a run of another spec would make this variant
  // look finished if it stopped before writing its own.
  std::error_code ec;
  std::filesystem::remove(dir + "/summary.json", ec);
  RunOptions run;
  run.output_dir = dir;
  run.resume = outcome.before == VariantState::kPartial;
  // A new variant replaces whatever its directory holds (a run of another
  // spec, or one that stopped before its first checkpoint), which the trainer
  // would otherwise refuse (experiments/run_dir.h).
  run.overwrite = !run.resume;
  run.quiet = options.quiet_runs;
  run.stop_after_steps = options.stop_after_steps;
  const auto start = Clock::now();
  ASSIGN_OR_RETURN(const RunResult result, RunExperiment(v.spec, run));
  outcome.wall_seconds = SecondsSince(start);
  outcome.finished = result.finished;
  outcome.steps = result.steps;
  if (result.finished) {
    RETURN_IF_ERROR(WriteVariantWallSeconds(dir, outcome.wall_seconds));
  }
  return outcome;
}

std::string VariantLine(const SweepPlan& plan, int index,
                        const absl::StatusOr<VariantOutcome>& outcome,
                        const std::string& suffix) {
  const std::string head =
      absl::StrFormat("[%d/%d] %s%s: ", index + 1, plan.variants.size(),
                      plan.variants[index].name, suffix);
  if (!outcome.ok()) {
    return absl::StrCat(head, "FAILED: ", outcome.status().message());
  }
  if (!outcome->finished) {
    return absl::StrCat(head, "stopped after ", outcome->steps,
                        " steps (the next run resumes it)");
  }
  absl::StatusOr<VariantSummary> s =
      ReadVariantSummary(VariantDir(plan, index));
  if (!s.ok())
    return absl::StrCat(head, "finished, but ", s.status().message());
  const std::string how =
      outcome->before == VariantState::kFinished
          ? std::string("finished before (skipped)")
          : absl::StrFormat("%s in %.1f s",
                            outcome->before == VariantState::kPartial
                                ? "resumed and done"
                                : "done",
                            outcome->wall_seconds);
  return absl::StrFormat("%s%s; %d parameters; test %s", head, how,
                         s->num_parameters, MetricsText(plan, *s));
}

std::string PlanLine(const SweepPlan& plan) {
  int finished = 0, partial = 0;
  for (size_t i = 0; i < plan.variants.size(); ++i) {
    const VariantState s =
        GetVariantState(VariantDir(plan, i), plan.variants[i].spec);
    finished += s == VariantState::kFinished;
    partial += s == VariantState::kPartial;
  }
  return absl::StrFormat(
      "sweep %s: %d variants (%d finished before, %d to resume) -> %s",
      plan.sweep.name(), plan.variants.size(), finished, partial,
      plan.output_dir);
}

absl::Status RunSweep(const SweepPlan& plan, const SweepRunOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(plan.output_dir, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat(
        plan.output_dir, ": cannot create the sweep's folder: ", ec.message()));
  }
  std::printf("%s\n", PlanLine(plan).c_str());
  std::fflush(stdout);
  const auto start = Clock::now();
  std::vector<std::string> failed;
  for (size_t i = 0; i < plan.variants.size(); ++i) {
    const absl::StatusOr<VariantOutcome> outcome =
        RunSweepVariant(plan, i, options);
    if (!outcome.ok()) failed.push_back(plan.variants[i].name);
    std::printf("%s\n", VariantLine(plan, i, outcome).c_str());
    std::fflush(stdout);
  }
  RETURN_IF_ERROR(WriteSweepReport(plan));
  std::printf("sweep %s: %zu variants in %.1f s; %s/sweep.csv, %s/sweep.html\n",
              plan.sweep.name().c_str(), plan.variants.size(),
              SecondsSince(start), plan.output_dir.c_str(),
              plan.output_dir.c_str());
  std::fflush(stdout);
  if (!failed.empty()) {
    return absl::InternalError(
        absl::StrCat(failed.size(), " of ", plan.variants.size(),
                     " variants failed: ", absl::StrJoin(failed, ", ")));
  }
  return absl::OkStatus();
}

}  // namespace elm
