// Reading, overriding and validating experiment specs
// (experiments/proto/experiment.proto). `ReadExperimentSpecFile` parses a
// text-format spec (errors give the file, line and column);
// `ApplySpecOverride` sets one field from a "path.to.field=value" string (the
// `--set` flag of //experiments:run); `ValidateSpec` rejects a bad spec
// before anything runs, naming the field and the reason, e.g.
// "train.batch_size = 0; expected >= 1".
#ifndef ELM_EXPERIMENTS_SPEC_H_
#define ELM_EXPERIMENTS_SPEC_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "experiments/proto/experiment.pb.h"

namespace elm {

// Bounds of generated ListOps data (ValidateSpec): the sequences generated
// and held in memory, and the steps of a batch.
inline constexpr int64_t kMaxListOpsSequences = 1000000;
inline constexpr int64_t kMaxListOpsSteps = 1000000;

// Parses `text` as an elm.ExperimentSpec in protobuf text format. Errors name
// `source`, the line and the column.
absl::StatusOr<ExperimentSpec> ParseExperimentSpecText(
    absl::string_view text, absl::string_view source);
// Reads and parses the spec at `path` (used as given: the caller resolves
// it). Errors: the file cannot be read (NotFound), a parse error.
absl::StatusOr<ExperimentSpec> ReadExperimentSpecFile(const std::string& path);

// Applies one override "a.b.c=value" to `spec`: the dotted path names fields
// from ExperimentSpec down (a oneof member selects it, e.g.
// "model.elm.num_memory=20"); `value` is in text format for that field (a
// number, true/false, an enum name, a quoted or bare string, or
// "{ ... }" for a message). A repeated field is replaced by the one value.
// Errors name the override and the unknown field or bad value.
absl::Status ApplySpecOverride(absl::string_view assignment,
                               ExperimentSpec* spec);

// Checks every field of the spec that can be checked without reading data or
// building the model. The first problem comes back as InvalidArgument naming
// the field path and the reason.
absl::Status ValidateSpec(const ExperimentSpec& spec);

// The data that stage `stage` of train.curriculum trains on: spec.data with
// the stage's assignments applied (CHECKs 0 <= stage < stage count). Errors:
// an assignment outside "data." or one ApplySpecOverride rejects (named as
// "train.curriculum[i].set[j]").
absl::StatusOr<DatasetSpec> CurriculumStageData(const ExperimentSpec& spec,
                                                int stage);
// The curriculum stage that trains epoch `epoch` (0-based), or -1 when the
// epoch trains on spec.data as written (after the last stage).
int CurriculumStageOfEpoch(const TrainSpec& train, int epoch);

// The spec as text format (what a run writes to spec.textproto).
std::string SpecToText(const ExperimentSpec& spec);

// Takes the `--set a.b=value` and `--set=a.b=value` arguments (which may
// repeat, as gflags flags may not) out of argv: returns their assignments in
// order and leaves the other arguments in `rest` (argv[0] first), for gflags.
std::vector<std::string> TakeSetOverrides(int argc, char** argv,
                                          std::vector<char*>* rest);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_SPEC_H_
