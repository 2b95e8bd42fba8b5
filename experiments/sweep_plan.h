// A sweep's plan (experiments/proto/sweep.proto): `ReadSweepSpecFile` reads a
// sweep (inlining its base spec file), `PlanSweep` expands the grid of its
// axes into named variants, each the base spec with the axis values applied
// by the runner's --set machinery (ApplySpecOverride, experiments/spec.h), and
// validates every variant before anything runs: a bad axis path or value is
// an error naming the axis and the value. `GetVariantState` tells from a
// variant's run folder whether it finished (summary.json of the same spec),
// can be resumed (a checkpoint of the same spec) or must start;
// `ReadVariantSummary` reads a finished variant's results.
//
//   ASSIGN_OR_RETURN(SweepSpec sweep, ReadSweepSpecFile(path));
//   ASSIGN_OR_RETURN(SweepPlan plan, PlanSweep(sweep, ""));
//   for (int i = 0; i < plan.variants.size(); ++i) ... VariantDir(plan, i)
#ifndef ELM_EXPERIMENTS_SWEEP_PLAN_H_
#define ELM_EXPERIMENTS_SWEEP_PLAN_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "experiments/proto/experiment.pb.h"
#include "experiments/proto/sweep.pb.h"

namespace elm {

struct SweepAxisInfo {
  std::string name;   // in variant names and sweep.csv columns
  std::string field;  // empty for an overlay axis
  // The values as written in the sweep (overlay axis: the overlay names).
  std::vector<std::string> values;
};

struct SweepVariant {
  // "<axis>_<value>" per field axis, "<overlay>" per overlay axis, joined
  // with '-': the variant's folder under the sweep's output folder.
  std::string name;
  std::vector<int> value_index;  // per axis, the index of its value
  // The base spec with the axis values applied (in axis order), named
  // "<sweep>-<variant name>", without output_dir.
  ExperimentSpec spec;
};

struct SweepPlan {
  SweepSpec sweep;         // as read; a base spec_file is inlined into `spec`
  std::string output_dir;  // where the variants' folders, sweep.csv and
                           // sweep.html go (resolved)
  std::vector<SweepAxisInfo> axes;
  std::vector<SweepVariant> variants;  // grid order, the first axis slowest
  int seed_axis = -1;  // index into axes of the axis averaged over, or -1
  int x_axis = -1;     // index into axes of the line axis, or -1

  // The value of axis `axis` in variant `v`.
  const std::string& Value(int v, int axis) const {
    return axes[axis].values[variants[v].value_index[axis]];
  }
};

// Reads the text-format SweepSpec at `path` (used as given). A base
// `spec_file` is read relative to the sweep file's folder (unless absolute)
// and inlined as `spec`. Errors name the file.
absl::StatusOr<SweepSpec> ReadSweepSpecFile(const std::string& path);

// Expands and validates the sweep (its base in `spec`). `output_dir`, when
// not empty, replaces the sweep's output_dir (used as given); otherwise the
// sweep's output_dir or runs/<name> is resolved with ResolveUserPath.
// InvalidArgument on a bad sweep: a bad name, an axis without values, a
// duplicate axis or overlay name, a bad field path or value (naming the axis
// and value), two variants with the same name, or a variant that fails
// ValidateSpec (naming the variant).
absl::StatusOr<SweepPlan> PlanSweep(const SweepSpec& sweep,
                                    const std::string& output_dir);

// The run folder of variant `index`: <output_dir>/<variant name>.
std::string VariantDir(const SweepPlan& plan, int index);

enum class VariantState {
  kNew,       // nothing of this spec in its folder: start it
  kPartial,   // a checkpoint of this spec: resume it
  kFinished,  // summary.json of this spec: skip it
};

// The state of the run folder `dir` for `spec`: its spec.textproto must equal
// `spec` (output_dir aside) for kPartial (checkpoints/latest.ckpt there) or
// kFinished (summary.json there).
VariantState GetVariantState(const std::string& dir,
                             const ExperimentSpec& spec);

// What a finished variant's summary.json (experiments/trainer.h) and the
// sweep's sweep_variant.json in its folder say.
struct VariantSummary {
  bool finished = false;
  int64_t num_parameters = 0;
  double train_seconds = 0;  // wall seconds of training, summed over resumes
  double wall_seconds = -1;  // the sweep's run that finished it: data,
                             // training and test (-1: not known)
  std::map<std::string, double> test_metrics;
};

// Reads <dir>/summary.json (and sweep_variant.json when present). NotFound
// when there is no summary.json.
absl::StatusOr<VariantSummary> ReadVariantSummary(const std::string& dir);

// Writes <dir>/sweep_variant.json with the wall seconds of the run.
absl::Status WriteVariantWallSeconds(const std::string& dir,
                                     double wall_seconds);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_SWEEP_PLAN_H_
