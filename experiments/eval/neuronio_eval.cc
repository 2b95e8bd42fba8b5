// The reference's NeuronIO evaluation protocol: see neuronio_eval.h. Built
// with -ffp-contract=off like the metrics, so the recalibration rounds as
// NumPy does.
#include "experiments/eval/neuronio_eval.h"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "autodiff/tensor.h"
#include "base/status_macros.h"
#include "elm/heads.h"
#include "glog/logging.h"

namespace elm {
namespace {

absl::Status WithContext(const absl::Status& status,
                         absl::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat(context, ": ", status.message()));
}

// Checks a file against the options; returns its duration.
absl::StatusOr<int64_t> CheckFile(const NeuronioFile& file,
                                  const NeuronioEvalOptions& options) {
  if (file.simulations.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("neuronio eval: ", file.path, ": no simulations"));
  }
  const NeuronioSimulation& first = file.simulations[0];
  for (size_t s = 0; s < file.simulations.size(); ++s) {
    const NeuronioSimulation& sim = file.simulations[s];
    if (sim.duration_ms != first.duration_ms ||
        sim.input_dim() != first.input_dim()) {
      return absl::InvalidArgumentError(
          absl::StrCat("neuronio eval: ", file.path, ": simulation ", s,
                       " has ", sim.duration_ms, " ms and ", sim.input_dim(),
                       " inputs, simulation 0 ", first.duration_ms, " ms and ",
                       first.input_dim()));
    }
    // The reader's invariants.
    CHECK_EQ(static_cast<int64_t>(sim.soma_mv.size()), sim.duration_ms);
    CHECK_EQ(static_cast<int64_t>(sim.step_begin.size()), sim.duration_ms + 1);
  }
  if (first.duration_ms < options.window_ms) {
    return absl::InvalidArgumentError(
        absl::StrCat("neuronio eval: ", file.path, ": the simulations last ",
                     first.duration_ms, " ms, less than the window of ",
                     options.window_ms, " ms"));
  }
  return first.duration_ms;
}

}  // namespace

absl::Status ValidateNeuronioEvalOptions(const NeuronioEvalOptions& options) {
  if (options.window_ms <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "NeuronioEvalOptions.window_ms must be > 0, got ", options.window_ms));
  }
  if (options.burn_in_ms < 0 || options.burn_in_ms >= options.window_ms) {
    return absl::InvalidArgumentError(absl::StrCat(
        "NeuronioEvalOptions.burn_in_ms must be in [0, window_ms = ",
        options.window_ms, "), got ", options.burn_in_ms));
  }
  if (options.windows_per_batch <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("NeuronioEvalOptions.windows_per_batch must be > 0, got ",
                     options.windows_per_batch));
  }
  if (options.ignore_time_at_start_ms < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "NeuronioEvalOptions.ignore_time_at_start_ms must be >= 0, got ",
        options.ignore_time_at_start_ms));
  }
  if (options.min_output_spikes > options.max_output_spikes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "NeuronioEvalOptions.min_output_spikes (", options.min_output_spikes,
        ") must be <= max_output_spikes (", options.max_output_spikes, ")"));
  }
  return absl::OkStatus();
}

int64_t NeuronioNumSplits(int64_t duration_ms, int64_t window_ms,
                          int64_t burn_in_ms) {
  CHECK_GE(burn_in_ms, 0);
  CHECK_GT(window_ms, burn_in_ms);
  CHECK_GE(duration_ms, window_ms);
  // int(2 + (duration − W) / (W − burn_in)): the quotient is >= 0, so
  // Python's truncation of the float quotient is the integer division.
  return 2 + (duration_ms - window_ms) / (window_ms - burn_in_ms);
}

std::vector<NeuronioEvalWindow> NeuronioEvalWindows(int64_t duration_ms,
                                                    int64_t window_ms,
                                                    int64_t burn_in_ms) {
  const int64_t n = NeuronioNumSplits(duration_ms, window_ms, burn_in_ms);
  const int64_t stride = window_ms - burn_in_ms;
  std::vector<NeuronioEvalWindow> windows(n);
  for (int64_t k = 0; k < n; ++k) {
    NeuronioEvalWindow& w = windows[k];
    w.start = k * stride;
    if (k == 0) {
      w.fill_begin = 0;
      w.fill_end = window_ms;
      w.offset = 0;
    } else {
      // Middle windows end at or before the duration (start ≤ duration − W
      // for k ≤ n − 2); the last one stops at the duration.
      w.fill_begin = w.start + burn_in_ms;
      w.fill_end = k == n - 1 ? duration_ms : w.start + window_ms;
      w.offset = burn_in_ms;
      CHECK_LE(w.fill_begin, w.fill_end);
      CHECK_LE(w.fill_end, duration_ms);
    }
  }
  return windows;
}

Batch NeuronioWindowBatch(absl::Span<const NeuronioWindowRef> windows,
                          int64_t window_ms, int64_t held_begin,
                          int64_t held_end) {
  CHECK(!windows.empty());
  CHECK_GT(window_ms, 0);
  Batch out;
  out.batch = static_cast<int64_t>(windows.size());
  out.steps = window_ms;
  out.inputs.rows = out.batch * out.steps;
  out.inputs.cols = windows[0].sim->input_dim();
  out.held_begin = held_begin;
  out.held_end = held_end < 0 ? out.batch : held_end;
  CHECK(0 <= out.held_begin && out.held_begin <= out.held_end &&
        out.held_end <= out.batch);
  int64_t nonzeros = 0;
  for (int64_t b = 0; b < out.batch; ++b) {
    const NeuronioWindowRef& w = windows[b];
    CHECK(w.sim != nullptr);
    CHECK_EQ(w.sim->input_dim(), out.input_dim());
    CHECK_GE(w.start, 0);
    const int64_t begin = std::min(w.start, w.sim->duration_ms);
    const int64_t end = std::min(w.start + window_ms, w.sim->duration_ms);
    const int64_t n = w.sim->step_begin[end] - w.sim->step_begin[begin];
    if (b < out.held_begin) out.nonzeros_before += n;
    if (b >= out.held_begin && b < out.held_end) nonzeros += n;
  }
  out.inputs.row_begin.reserve(out.batch * window_ms + 1);
  out.inputs.row_begin.push_back(0);
  out.inputs.col.reserve(nonzeros);
  out.inputs.value.reserve(nonzeros);
  for (int64_t b = 0; b < out.batch; ++b) {
    if (b < out.held_begin || b >= out.held_end) {
      out.inputs.row_begin.insert(out.inputs.row_begin.end(), window_ms,
                                  out.inputs.row_begin.back());
      continue;
    }
    const NeuronioWindowRef& w = windows[b];
    const NeuronioSimulation& sim = *w.sim;
    for (int64_t t = w.start; t < w.start + window_ms; ++t) {
      if (t < sim.duration_ms) {  // zero padding past the end
        for (int32_t c : sim.StepChannels(t)) {
          out.inputs.col.push_back(c);
          out.inputs.value.push_back(sim.InputSign(c));
        }
      }
      out.inputs.row_begin.push_back(
          static_cast<int64_t>(out.inputs.col.size()));
    }
  }
  return out;
}

absl::StatusOr<NeuronioFilePredictions> PredictNeuronioFile(
    const NeuronioFile& file, const WindowPredictor& predictor,
    const NeuronioEvalOptions& options) {
  RETURN_IF_ERROR(ValidateNeuronioEvalOptions(options));
  ASSIGN_OR_RETURN(const int64_t duration, CheckFile(file, options));
  const int64_t num_sims = static_cast<int64_t>(file.simulations.size());
  const int64_t window = options.window_ms;

  NeuronioFilePredictions out;
  out.num_simulations = num_sims;
  out.duration_ms = duration;
  out.spike_true.resize(num_sims * duration);
  out.spike_count.resize(num_sims);
  out.spike_prob.assign(num_sims * duration, 0.0f);
  out.soma_true_mv.resize(num_sims * duration);
  out.soma_pred_mv.assign(num_sims * duration, 0.0);
  for (int64_t s = 0; s < num_sims; ++s) {
    const NeuronioSimulation& sim = file.simulations[s];
    float* spike = &out.spike_true[s * duration];
    // y_spike: 1.0 at each step int(t − 0.5); spikes sharing a step count
    // once, as the reference's assignment y_spike[steps, k] = 1.0.
    NeuronioTargets(sim, 0, duration, spike, nullptr);
    int64_t count = 0;
    for (int64_t t = 0; t < duration; ++t) count += spike[t] == 1.0f;
    out.spike_count[s] = count;
    // Evaluation ground truth: clipped at −55 mV, minus the −67.7 mV bias,
    // not scaled; float64 as the reference's y_soma array.
    for (int64_t t = 0; t < duration; ++t) {
      const double v = std::min(static_cast<double>(sim.soma_mv[t]),
                                static_cast<double>(kNeuronioSomaThresholdMv));
      out.soma_true_mv[s * duration + t] = v - static_cast<double>(kSomaBiasMv);
    }
  }

  // The windows that fill something, simulation by simulation.
  struct Job {
    int64_t simulation;
    NeuronioEvalWindow window;
  };
  std::vector<Job> jobs;
  const std::vector<NeuronioEvalWindow> windows =
      NeuronioEvalWindows(duration, window, options.burn_in_ms);
  for (int64_t s = 0; s < num_sims; ++s) {
    for (const NeuronioEvalWindow& w : windows) {
      if (w.fill_end > w.fill_begin) jobs.push_back({s, w});
    }
  }

  std::vector<NeuronioWindowRef> refs;
  std::vector<float> y;
  for (size_t first = 0; first < jobs.size();
       first += options.windows_per_batch) {
    const size_t last =
        std::min(jobs.size(), first + options.windows_per_batch);
    refs.clear();
    for (size_t j = first; j < last; ++j) {
      refs.push_back(
          {&file.simulations[jobs[j].simulation], jobs[j].window.start});
    }
    int64_t held_begin = 0, held_end = -1;
    if (options.held) {
      std::tie(held_begin, held_end) =
          options.held(static_cast<int64_t>(refs.size()));
    }
    const Batch batch = NeuronioWindowBatch(refs, window, held_begin, held_end);
    y.clear();
    RETURN_IF_ERROR(
        WithContext(predictor(batch, &y),
                    absl::StrCat("neuronio eval: ", file.path, ": predictor")));
    const int64_t rows = batch.batch * window;
    if (static_cast<int64_t>(y.size()) != rows * 2) {
      return absl::InternalError(absl::StrCat(
          "neuronio eval: ", file.path, ": the predictor returned ", y.size(),
          " values for ", batch.batch, " windows of ", window,
          " steps; expected [", rows, ", 2]"));
    }
    // σ(y0), y1 / 0.1, in float32 as the reference's neuronio_eval_forward.
    NeuronioEvalTransform<float>(View<const float>{y.data(), rows, 2},
                                 View<float>{y.data(), rows, 2});
    for (size_t j = first; j < last; ++j) {
      const int64_t b = static_cast<int64_t>(j - first);
      const NeuronioEvalWindow& w = jobs[j].window;
      const int64_t base = jobs[j].simulation * duration;
      for (int64_t t = w.fill_begin; t < w.fill_end; ++t) {
        const int64_t row = b * window + w.offset + (t - w.fill_begin);
        out.spike_prob[base + t] = y[2 * row];
        out.soma_pred_mv[base + t] = static_cast<double>(y[2 * row + 1]);
      }
    }
  }
  return out;
}

SomaRecalibration RecalibrateSoma(NeuronioFilePredictions* predictions) {
  CHECK(predictions != nullptr);
  NeuronioFilePredictions& p = *predictions;
  const int64_t sims = p.num_simulations, steps = p.duration_ms;
  const int64_t n = sims * steps;
  CHECK_GT(n, 0);
  CHECK_EQ(static_cast<int64_t>(p.soma_pred_mv.size()), n);
  CHECK_EQ(static_cast<int64_t>(p.soma_true_mv.size()), n);
  const double count = static_cast<double>(n);
  SomaRecalibration r;

  // np.mean / np.std (population) as NumPy computes them: the sum of the
  // array in memory order, divided; then the sum of the squared deviations.
  // The prediction array (sims, time, 1) is simulation-major.
  const std::vector<double>& pred = p.soma_pred_mv;
  r.pred_mean = NumpySum(pred) / count;
  r.pred_std = std::sqrt(NumpySum(n,
                                  [&](int64_t i) {
                                    const double d = pred[i] - r.pred_mean;
                                    return d * d;
                                  }) /
                         count);
  // The ground truth is y_soma.T − bias, whose memory is time-major (y_soma
  // is [time, sims]): element i is step i / S of simulation i % S.
  const std::vector<double>& truth = p.soma_true_mv;
  auto true_at = [&](int64_t i) {
    return truth[(i % sims) * steps + i / sims];
  };
  r.true_mean = NumpySum(n, true_at) / count;
  r.true_std = std::sqrt(NumpySum(n,
                                  [&](int64_t i) {
                                    const double d = true_at(i) - r.true_mean;
                                    return d * d;
                                  }) /
                         count);

  for (double& v : p.soma_pred_mv) {
    if (r.pred_std == 0.0) {
      v = r.true_mean;  // see the header: the reference gives NaN here
    } else {
      const double z = (v - r.pred_mean) / r.pred_std;
      v = r.true_std * z + r.true_mean;
    }
  }
  return r;
}

absl::StatusOr<NeuronioEvalResult> EvaluateNeuronio(
    int num_files, const NeuronioFileLoader& loader,
    const WindowPredictor& predictor, const NeuronioEvalOptions& options,
    const NeuronioEvalProgress& progress) {
  if (num_files <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "neuronio eval: needs at least one file, got ", num_files));
  }
  RETURN_IF_ERROR(ValidateNeuronioEvalOptions(options));
  NeuronioEvalResult result;
  bool have_example = false;
  // The kept simulations' steps [ignore, duration), concatenated.
  std::vector<float> spike_true, spike_prob;
  std::vector<double> soma_true, soma_pred;
  int64_t kept = 0;
  for (int f = 0; f < num_files; ++f) {
    ASSIGN_OR_RETURN(std::shared_ptr<const NeuronioFile> file, loader(f));
    CHECK(file != nullptr) << "neuronio eval: the loader returned null";
    ASSIGN_OR_RETURN(NeuronioFilePredictions p,
                     PredictNeuronioFile(*file, predictor, options));
    RecalibrateSoma(&p);
    const int64_t steps = p.duration_ms;
    const int64_t ignore = options.ignore_time_at_start_ms;
    if (ignore >= steps) {
      return absl::InvalidArgumentError(absl::StrCat(
          "neuronio eval: ", file->path, ": ignore_time_at_start_ms (", ignore,
          ") leaves nothing of its ", steps, " ms simulations"));
    }
    result.simulations_total += p.num_simulations;
    for (int64_t s = 0; s < p.num_simulations; ++s) {
      if (p.spike_count[s] < options.min_output_spikes ||
          p.spike_count[s] > options.max_output_spikes) {
        continue;
      }
      ++kept;
      const int64_t from = s * steps + ignore, to = (s + 1) * steps;
      spike_true.insert(spike_true.end(), p.spike_true.begin() + from,
                        p.spike_true.begin() + to);
      spike_prob.insert(spike_prob.end(), p.spike_prob.begin() + from,
                        p.spike_prob.begin() + to);
      soma_true.insert(soma_true.end(), p.soma_true_mv.begin() + from,
                       p.soma_true_mv.begin() + to);
      soma_pred.insert(soma_pred.end(), p.soma_pred_mv.begin() + from,
                       p.soma_pred_mv.begin() + to);
      if (!have_example) {
        have_example = true;
        NeuronioEvalExample& e = result.example;
        const NeuronioSimulation& sim = file->simulations[s];
        e.path = file->path;
        e.file = f;
        e.simulation = static_cast<int>(s);
        e.duration_ms = steps;
        const int64_t begin = s * steps, end = (s + 1) * steps;
        e.spike_prob.assign(p.spike_prob.begin() + begin,
                            p.spike_prob.begin() + end);
        e.soma_pred_mv.assign(p.soma_pred_mv.begin() + begin,
                              p.soma_pred_mv.begin() + end);
        e.soma_true_mv.assign(p.soma_true_mv.begin() + begin,
                              p.soma_true_mv.begin() + end);
        for (int64_t t = 0; t < steps; ++t) {
          if (p.spike_true[begin + t] == 1.0f) e.spike_steps.push_back(t);
          for (int32_t c : sim.StepChannels(t)) {
            e.input_steps.push_back(t);
            e.input_channels.push_back(c);
          }
        }
      }
    }
    file.reset();
    if (progress) progress(f + 1, num_files);
  }
  if (kept == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("neuronio eval: none of the ", result.simulations_total,
                     " simulations has between ", options.min_output_spikes,
                     " and ", options.max_output_spikes, " output spikes"));
  }
  absl::StatusOr<NeuronioMetricsResult> metrics = ComputeNeuronioMetrics(
      spike_true, spike_prob, soma_true, soma_pred, kept);
  if (!metrics.ok()) {
    return WithContext(
        metrics.status(),
        absl::StrCat("neuronio eval over ", kept, " kept simulations"));
  }
  result.metrics = metrics->metrics;
  result.roc = std::move(metrics->roc);
  return result;
}

absl::StatusOr<NeuronioEvalResult> EvaluateNeuronio(
    const std::vector<std::shared_ptr<const NeuronioFile>>& files,
    const WindowPredictor& predictor, const NeuronioEvalOptions& options,
    const NeuronioEvalProgress& progress) {
  return EvaluateNeuronio(
      static_cast<int>(files.size()),
      [&files](int i) -> absl::StatusOr<std::shared_ptr<const NeuronioFile>> {
        return files[i];
      },
      predictor, options, progress);
}

}  // namespace elm
