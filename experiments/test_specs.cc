// TinyNeuronioData: see test_specs.h.
#include "experiments/test_specs.h"

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace elm {

std::string TinyNeuronioData(int simulations_per_file, int duration_ms) {
  CHECK_GT(simulations_per_file, 0);
  CHECK_GT(duration_ms, 0);
  return absl::StrCat(
      "neuronio {\n"
      "  window_ms: 100\n"
      "  ignore_start_ms: 100\n"
      "  generate {\n"
      "    num_train_files: 1\n"
      "    num_valid_files: 1\n"
      "    num_test_files: 1\n"
      "    simulations_per_file: ",
      simulations_per_file,
      "\n"
      "    duration_ms: ",
      duration_ms,
      "\n"
      "  }\n"
      "}\n");
}

}  // namespace elm
