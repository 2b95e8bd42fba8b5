// FuzzSpec: see spec_fuzz.h.
#include "experiments/spec_fuzz.h"

#include <string>

#include "base/status_macros.h"
#include "experiments/spec.h"
#include "glog/logging.h"

namespace elm {

absl::Status FuzzSpec(absl::string_view text) {
  ASSIGN_OR_RETURN(const ExperimentSpec spec,
                   ParseExperimentSpecText(text, "fuzz.textproto"));
  RETURN_IF_ERROR(ValidateSpec(spec));
  const std::string printed = SpecToText(spec);
  absl::StatusOr<ExperimentSpec> again =
      ParseExperimentSpecText(printed, "printed");
  CHECK(again.ok()) << "a valid spec printed does not parse: " << again.status()
                    << "\n"
                    << printed;
  const absl::Status valid = ValidateSpec(*again);
  CHECK(valid.ok()) << "a valid spec printed does not validate: " << valid
                    << "\n"
                    << printed;
  return absl::OkStatus();
}

}  // namespace elm
