// Spec text for tests: the tiny generated NeuronIO dataset that trainer,
// evaluator and runner tests train and evaluate on (one generated file per
// split, 100 ms windows), as a DatasetSpec's text, so a test puts it inside
// its ExperimentSpec's `data { ... }` next to its own fields:
//
//   const std::string spec = absl::StrCat(
//       "name: \"tiny\" data { ", TinyNeuronioData(4), " seed: 3 } ...");
#ifndef ELM_EXPERIMENTS_TEST_SPECS_H_
#define ELM_EXPERIMENTS_TEST_SPECS_H_

#include <string>

namespace elm {

// `neuronio { window_ms: 100 ignore_start_ms: 100 generate { ... } }` with
// one train, valid and test file of `simulations_per_file` simulations of
// `duration_ms` each. Both must be positive (CHECKed).
std::string TinyNeuronioData(int simulations_per_file = 8,
                             int duration_ms = 1200);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_TEST_SPECS_H_
