// Fixtures for the experiments tests. Spec text: the tiny generated NeuronIO
// dataset that trainer, evaluator and runner tests train and evaluate on (one
// generated file per split, 100 ms windows), as a DatasetSpec's text, so a test
// puts it inside its ExperimentSpec's `data { ... }` next to its own fields:
//
//   const std::string spec = absl::StrCat(
//       "name: \"tiny\" data { ", TinyNeuronioData(4), " seed: 3 } ...");
//
// And a model file: TinyNeuronioCheckpoint, a small untrained NeuronIO-shaped
// ELM saved as a checkpoint, for evaluator tests that need a model to load.
#ifndef ELM_EXPERIMENTS_TEST_SPECS_H_
#define ELM_EXPERIMENTS_TEST_SPECS_H_

#include <string>

namespace elm {

// `neuronio { window_ms: 100 ignore_start_ms: 100 generate { ... } }` with
// one train, valid and test file of `simulations_per_file` simulations of
// `duration_ms` each. Both must be positive (CHECKed).
std::string TinyNeuronioData(int simulations_per_file = 8,
                             int duration_ms = 1200);

// Writes an ELM checkpoint (1278 inputs, 2 outputs, d_m 2, MLP 4, seed 1) to
// TestTempPath(`name`) and returns that path; failures are gtest failures.
std::string TinyNeuronioCheckpoint(const std::string& name);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_TEST_SPECS_H_
