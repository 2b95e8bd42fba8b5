// The ELM reference's NeuronIO evaluation over whole simulations
// (src/neuronio/neuronio_eval_utils.py: `compute_test_predictions`,
// `compute_test_predictions_multiple_sim_files`,
// `filter_and_extract_core_results`; elm_reference.md §4.4 steps 1–7). Per
// file, loaded one at a time: every simulation is cut into windows of W steps
// with stride W − burn_in (n_splits = int(2 + (duration − W)/(W − burn_in)),
// zero-padded past the end), a caller's predictor runs the model on batches
// of windows from zero state, the evaluator applies the evaluation transform
// (σ(logit), soma / 0.1) and stitches the windows back (window 0 whole, later
// windows without their first burn_in steps); the soma prediction is then
// recalibrated to the file's ground-truth mean and standard deviation. Over
// all files: the simulations with [min, max] output spikes are kept, their
// first 500 ms dropped, and the metrics of neuronio_metrics.h computed. The
// result also holds the ROC curve and the stitched traces of the first kept
// simulation for plots. The window batches are CSR (data/dataset.h `Batch`)
// built here from `NeuronioSimulation::StepChannels`.
#ifndef ELM_EXPERIMENTS_EVAL_NEURONIO_EVAL_H_
#define ELM_EXPERIMENTS_EVAL_NEURONIO_EVAL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "data/dataset.h"
#include "data/neuronio.h"
#include "experiments/eval/neuronio_metrics.h"

namespace elm {

// Runs the model from zero state on each of the B windows of `windows`
// (windows.batch = B ≤ windows_per_batch, windows.steps = W, input_dim = the
// simulations' input_dim(); CSR rows b·W + t with values +1 excitatory / −1
// inhibitory; `spike`, `soma` and `labels` empty; steps past a simulation's
// end are empty rows) and writes the model's RAW outputs to `y`: [B·W, 2]
// row-major (spike logit, scaled soma as trained), resizing it. An error is
// passed on by the evaluator, prefixed with the file.
using WindowPredictor =
    std::function<absl::Status(const Batch& windows, std::vector<float>* y)>;

// Called after each file with (files done, files in total).
using NeuronioEvalProgress = std::function<void(int files_done, int total)>;

struct NeuronioEvalOptions {
  int64_t window_ms = 500;   // W, the reference's input_window_size
  int64_t burn_in_ms = 150;  // burn_in_time: 0 <= burn_in < W
  // Windows per predictor call (the last call of a file may get fewer).
  // Windows do not share state, so this changes speed, not results.
  int windows_per_batch = 16;
  // The filter (num_spikes_per_sim): simulations whose number of output spike
  // steps over the whole duration is in [min, max], both inclusive.
  int64_t min_output_spikes = 0;
  int64_t max_output_spikes = 24;
  // Steps dropped from the start of every simulation before the metrics.
  int64_t ignore_time_at_start_ms = 500;
  // The windows [first, end) of a batch of B that the predictor runs (one
  // rank of a distributed evaluation: MpiGroup::Part), whose inputs the
  // batches hold (Batch::held_begin); null: all of them. Results unchanged.
  std::function<std::pair<int64_t, int64_t>(int64_t batch)> held;
};

// Errors (InvalidArgument) naming the field: window_ms <= 0, burn_in_ms < 0
// or >= window_ms, windows_per_batch <= 0, ignore_time_at_start_ms < 0,
// min_output_spikes > max_output_spikes. (The reference's NeuronioEvaluator
// also asserts burn_in <= ignore_time_at_start; the protocol does not need it
// and it is not checked.)
absl::Status ValidateNeuronioEvalOptions(const NeuronioEvalOptions& options);

// The reference's num_test_splits: int(2 + (duration − W)/(W − burn_in)); 17
// for (6000, 500, 150), 12 for (6000, 1000, 500). CHECKs duration >= W >
// burn_in
// >= 0.
int64_t NeuronioNumSplits(int64_t duration_ms, int64_t window_ms,
                          int64_t burn_in_ms);

// Window k of a simulation: its input is steps [start, start + W) (zeros at
// and past the duration); its outputs at window offsets [offset, offset +
// fill_end − fill_begin) fill the stitched steps [fill_begin, fill_end).
// Window 0 fills [0, W) from offset 0; window 0 < k < n − 1 fills [start +
// burn_in, start + W); the last fills [start + burn_in, duration), which is
// empty when start + burn_in = duration (e.g. (6000, 1000, 500)).
struct NeuronioEvalWindow {
  int64_t start = 0;
  int64_t fill_begin = 0;
  int64_t fill_end = 0;
  int64_t offset = 0;
};

// The NeuronioNumSplits windows of a simulation, in order; together they fill
// [0, duration) once, in order. The evaluator skips windows that fill nothing
// (their outputs would be discarded).
std::vector<NeuronioEvalWindow> NeuronioEvalWindows(int64_t duration_ms,
                                                    int64_t window_ms,
                                                    int64_t burn_in_ms);

// One window to put in a batch: steps [start, start + window) of `*sim`.
struct NeuronioWindowRef {
  const NeuronioSimulation* sim = nullptr;
  int64_t start = 0;
};

// The CSR batch of `windows` (B = windows.size() > 0, all with the same
// input_dim, start >= 0): row b·W + t holds the channels spiking at step
// start + t of window b (ascending; none at or past the duration) with value
// InputSign(channel). spike, soma and labels stay empty. Batch::ToDense of
// row block b equals data/neuronio.h's Densify(sim, start, W). With
// [held_begin, held_end) (held_end -1: B), only those windows' rows are
// filled (the batch's held sequences; the others are empty rows).
Batch NeuronioWindowBatch(absl::Span<const NeuronioWindowRef> windows,
                          int64_t window_ms, int64_t held_begin = 0,
                          int64_t held_end = -1);

// One file's stitched predictions and ground truth (steps 1–3, and 4 after
// RecalibrateSoma). All arrays are simulation-major [S, T]: element s·T + t is
// step t of simulation s.
struct NeuronioFilePredictions {
  int64_t num_simulations = 0;       // S
  int64_t duration_ms = 0;           // T
  std::vector<float> spike_true;     // [S, T] 1 at output spike steps, else 0
  std::vector<int64_t> spike_count;  // [S] steps with spike_true = 1
  std::vector<float> spike_prob;     // [S, T] σ(logit), stitched
  // Soma in mV relative to −67.7 mV, as the reference evaluates it:
  std::vector<double> soma_true_mv;  // [S, T] min(v, −55) − (−67.7)
  // [S, T] 10 · scaled soma output (float32, as the reference's
  // neuronio_eval_forward), stitched; recalibrated by RecalibrateSoma.
  std::vector<double> soma_pred_mv;
};

// Steps 1–3 for every simulation of `file`: windows, predictor calls,
// evaluation transform, stitching. Errors (naming file.path): no
// simulations; simulations of different durations or input dims; duration <
// W; invalid options; a predictor error; a predictor output of the wrong
// size.
absl::StatusOr<NeuronioFilePredictions> PredictNeuronioFile(
    const NeuronioFile& file, const WindowPredictor& predictor,
    const NeuronioEvalOptions& options);

// The statistics of a recalibration (population, over all S·T values).
struct SomaRecalibration {
  double pred_mean = 0.0, pred_std = 0.0;  // of the stitched prediction
  double true_mean = 0.0, true_std = 0.0;  // of the ground truth
};

// Step 4, in place: ŷ ← (ŷ − mean(ŷ)) / std(ŷ) · std(y) + mean(y), over all
// simulations and steps of the file, with NumPy's sums in the reference's
// memory orders (ŷ simulation-major; y time-major, as the transposed array
// the reference builds it from). Interpretation: when std(ŷ) = 0 (a constant
// prediction) the reference divides 0/0 and sklearn then rejects the NaNs;
// here ŷ becomes mean(y) instead.
SomaRecalibration RecalibrateSoma(NeuronioFilePredictions* predictions);

// The stitched traces of one simulation, for plots (all over its whole
// duration, including the ignored start).
struct NeuronioEvalExample {
  std::string path;     // its file
  int file = -1;        // index of the file
  int simulation = -1;  // index in the file
  int64_t duration_ms = 0;
  std::vector<float> spike_prob;     // [T] predicted spike probability
  std::vector<double> soma_pred_mv;  // [T] recalibrated, mV above −67.7 mV
  std::vector<double> soma_true_mv;  // [T] min(v, −55) + 67.7
  std::vector<int64_t> spike_steps;  // true output spike steps, ascending
  // Its input spikes for a raster, in step order then channel order:
  // (input_steps[k], input_channels[k]), channels < 639 excitatory. [K]
  std::vector<int64_t> input_steps;
  std::vector<int32_t> input_channels;
};

struct NeuronioEvalResult {
  // Metrics over the kept simulations' steps [ignore, duration); the number of
  // kept simulations is metrics.num_simulations.
  NeuronioMetrics metrics;
  RocCurve roc;
  int64_t simulations_total = 0;  // over all files, before the filter
  NeuronioEvalExample example;    // the first kept simulation
};

// The whole protocol over files 0 … num_files − 1 of `loader` (called once
// per file, in order; each file is released before the next is loaded):
// PredictNeuronioFile, RecalibrateSoma per file, then the filter and the
// metrics over the kept simulations of all files. Memory: about 24 bytes per
// evaluated step (plus 8 for the ROC sort) and one file. Errors: num_files <=
// 0, invalid options, the loader's errors, PredictNeuronioFile's, ignore >=
// a file's duration, no simulation passing the filter, and the metrics'
// errors (e.g. no output spike in the evaluated steps), with context.
absl::StatusOr<NeuronioEvalResult> EvaluateNeuronio(
    int num_files, const NeuronioFileLoader& loader,
    const WindowPredictor& predictor, const NeuronioEvalOptions& options,
    const NeuronioEvalProgress& progress = nullptr);

// The same over files in memory.
absl::StatusOr<NeuronioEvalResult> EvaluateNeuronio(
    const std::vector<std::shared_ptr<const NeuronioFile>>& files,
    const WindowPredictor& predictor, const NeuronioEvalOptions& options,
    const NeuronioEvalProgress& progress = nullptr);

}  // namespace elm

#endif  // ELM_EXPERIMENTS_EVAL_NEURONIO_EVAL_H_
