// Tests of the NeuronIO evaluation protocol on hand-built files. Every input
// step of a test simulation carries a "clock": excitatory channel t mod 600,
// inhibitory channel 639 + t / 600, and excitatory channel 600 + id (the
// simulation's id). The fake predictor decodes (id, t) from each row's
// channels and the window offset o from the row index, and outputs known
// functions of (id, t, o); empty rows (the zero padding) get a sentinel. The
// test recomputes the stitched result independently: step t must come from
// window offset o(t) = t for t < W, else burn_in + (t − W) mod (W − burn_in).
#include "experiments/eval/neuronio_eval.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"
#include "data/neuronio.h"
#include "experiments/eval/neuronio_metrics.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

constexpr int64_t kDuration = 1200;
constexpr int kClockPeriod = 600;

// The fake model's raw outputs at absolute step t, window offset o.
float Logit(int id, int64_t t, int64_t o) {
  return static_cast<float>(t % 97) / 16.0f - 3.0f +
         static_cast<float>(o) / 512.0f + 0.25f * static_cast<float>(id);
}
float ScaledSoma(int id, int64_t t, int64_t o) {  // exact in float
  return 2048.0f * static_cast<float>(id) + static_cast<float>(t) +
         static_cast<float>(o) / 1024.0f;
}
constexpr float kPadLogit = 50.0f;
constexpr float kPadSoma = 1e5f;

float SomaMv(int id, int64_t t) {
  return static_cast<float>(-70.0 + 18.0 * std::sin(0.013 * t + id));
}

// A simulation of kDuration ms with the clock inputs, the given output spike
// times and the soma SomaMv(id, ·).
NeuronioSimulation MakeSim(int id, const std::vector<double>& spike_times,
                           int64_t duration = kDuration) {
  NeuronioSimulation sim;
  sim.num_segments = kNeuronioNumSegments;
  sim.duration_ms = duration;
  std::vector<std::vector<int32_t>> times(sim.input_dim());
  for (int64_t t = 0; t < duration; ++t) {
    times[t % kClockPeriod].push_back(static_cast<int32_t>(t));
    times[kClockPeriod + id].push_back(static_cast<int32_t>(t));
    times[kNeuronioNumSegments + t / kClockPeriod].push_back(
        static_cast<int32_t>(t));
  }
  sim.channel_begin.push_back(0);
  for (const std::vector<int32_t>& c : times) {
    sim.channel_times.insert(sim.channel_times.end(), c.begin(), c.end());
    sim.channel_begin.push_back(static_cast<int64_t>(sim.channel_times.size()));
  }
  IndexNeuronioSteps(&sim);
  for (double s : spike_times) {
    sim.output_spike_times_ms.push_back(s);
    sim.output_spike_steps.push_back(NeuronioSpikeStep(s));
  }
  for (int64_t t = 0; t < duration; ++t) sim.soma_mv.push_back(SomaMv(id, t));
  return sim;
}

// File 0: ids 0 (25 distinct spike steps: dropped), 1 (3 spikes, one in the
// ignored start), 2 (25 spike times, two on the same step: 24 steps, kept).
// File 1: ids 3 (no spikes, kept: the minimum 0 is inclusive), 4 (5 spikes).
std::vector<std::shared_ptr<const NeuronioFile>> MakeFiles() {
  auto f0 = std::make_shared<NeuronioFile>();
  f0->path = "file0.p";
  std::vector<double> s0, s2;
  for (int k = 0; k < 25; ++k) s0.push_back(100 + 40 * k + 0.7);
  for (int k = 0; k < 23; ++k) s2.push_back(520 + 25 * k + 0.7);
  s2.push_back(1150.7);
  s2.push_back(1151.2);  // int(1151.2 − 0.5) = 1150 too
  f0->simulations.push_back(MakeSim(0, s0));
  f0->simulations.push_back(MakeSim(1, {250.7, 700.7, 1100.7}));
  f0->simulations.push_back(MakeSim(2, s2));
  auto f1 = std::make_shared<NeuronioFile>();
  f1->path = "file1.p";
  f1->simulations.push_back(MakeSim(3, {}));
  f1->simulations.push_back(MakeSim(4, {30.7, 505.7, 640.7, 900.7, 1199.7}));
  return {f0, f1};
}

// Decodes each row and records what it saw.
struct FakeModel {
  int64_t window = 0;
  std::vector<int64_t> batch_sizes;
  std::string problem;  // the first inconsistency seen, if any

  absl::Status Predict(const Batch& batch, std::vector<float>* y) {
    batch_sizes.push_back(batch.batch);
    std::string why;
    if (!batch.IsConsistent(&why)) problem = "inconsistent: " + why;
    if (batch.steps != window) problem = "wrong steps";
    if (batch.input_dim() != kNeuronioInputDim) problem = "wrong input_dim";
    if (!batch.spike.empty() || !batch.soma.empty() || !batch.labels.empty()) {
      problem = "targets filled";
    }
    y->assign(batch.batch * batch.steps * 2, 0.0f);
    for (int64_t r = 0; r < batch.batch * batch.steps; ++r) {
      const int64_t o = r % batch.steps;
      int id = -1;
      int64_t low = -1, high = -1;
      for (int64_t k = batch.inputs.row_begin[r];
           k < batch.inputs.row_begin[r + 1]; ++k) {
        const int c = batch.inputs.col[k];
        const float want_sign = c < kNeuronioNumSegments ? 1.0f : -1.0f;
        if (batch.inputs.value[k] != want_sign) problem = "wrong input sign";
        if (c < kClockPeriod) {
          low = c;
        } else if (c < kNeuronioNumSegments) {
          id = c - kClockPeriod;
        } else {
          high = c - kNeuronioNumSegments;
        }
      }
      if (batch.inputs.row_begin[r] ==
          batch.inputs.row_begin[r + 1]) {  // padding
        (*y)[2 * r] = kPadLogit;
        (*y)[2 * r + 1] = kPadSoma;
        continue;
      }
      if (id < 0 || low < 0 || high < 0) problem = "undecodable row";
      const int64_t t = high * kClockPeriod + low;
      (*y)[2 * r] = Logit(id, t, o);
      (*y)[2 * r + 1] = ScaledSoma(id, t, o);
    }
    return absl::OkStatus();
  }

  WindowPredictor AsPredictor() {
    return
        [this](const Batch& b, std::vector<float>* y) { return Predict(b, y); };
  }
};

// The window offset whose output the protocol puts at step t.
int64_t ExpectedOffset(int64_t t, int64_t window, int64_t burn_in) {
  if (t < window) return t;
  return burn_in + (t - window) % (window - burn_in);
}

// The test's own stitched, recalibrated predictions of one file.
struct Expected {
  std::vector<float> spike_prob;
  std::vector<double> soma_raw, soma_true, soma_pred;
  std::vector<int64_t> spike_count;
};

Expected ExpectedFile(const NeuronioFile& file, int64_t window,
                      int64_t burn_in) {
  Expected e;
  for (const NeuronioSimulation& sim : file.simulations) {
    // Step 0's channels are 0, 600 + id and 639.
    const int id = sim.StepChannels(0)[1] - kClockPeriod;
    std::vector<int64_t> steps;
    for (int64_t s : sim.output_spike_steps) {
      if (std::find(steps.begin(), steps.end(), s) == steps.end()) {
        steps.push_back(s);
      }
    }
    e.spike_count.push_back(static_cast<int64_t>(steps.size()));
    for (int64_t t = 0; t < sim.duration_ms; ++t) {
      const int64_t o = ExpectedOffset(t, window, burn_in);
      const float logit = Logit(id, t, o);
      e.spike_prob.push_back(1.0f / (1.0f + std::exp(-logit)));
      e.soma_raw.push_back(static_cast<double>(10.0f * ScaledSoma(id, t, o)));
      e.soma_true.push_back(
          std::min(static_cast<double>(SomaMv(id, t)), -55.0) + 67.7);
    }
  }
  // Recalibration with plain two-pass double sums.
  auto mean_std = [](const std::vector<double>& v) {
    double sum = 0;
    for (double x : v) sum += x;
    const double mean = sum / v.size();
    double sq = 0;
    for (double x : v) sq += (x - mean) * (x - mean);
    return std::make_pair(mean, std::sqrt(sq / v.size()));
  };
  const auto [pm, ps] = mean_std(e.soma_raw);
  const auto [tm, ts] = mean_std(e.soma_true);
  for (double x : e.soma_raw) e.soma_pred.push_back((x - pm) / ps * ts + tm);
  return e;
}

// ---- Windows

TEST(NeuronioEvalWindowsTest, NumSplitsAsTheReference) {
  EXPECT_EQ(NeuronioNumSplits(6000, 500, 150), 17);
  EXPECT_EQ(NeuronioNumSplits(6000, 1000, 500), 12);
  EXPECT_EQ(NeuronioNumSplits(1200, 500, 100), 3);  // int(2 + 700/400)
  EXPECT_EQ(NeuronioNumSplits(500, 500, 150), 2);
}

TEST(NeuronioEvalWindowsTest, ReferenceLayouts) {
  std::vector<NeuronioEvalWindow> w = NeuronioEvalWindows(6000, 500, 150);
  ASSERT_EQ(w.size(), 17u);
  EXPECT_EQ(w[0].fill_begin, 0);
  EXPECT_EQ(w[0].fill_end, 500);
  EXPECT_EQ(w[1].start, 350);
  EXPECT_EQ(w[1].fill_begin, 500);
  EXPECT_EQ(w[1].fill_end, 850);
  EXPECT_EQ(w[16].start, 5600);  // runs past 6000: padded
  EXPECT_EQ(w[16].fill_begin, 5750);
  EXPECT_EQ(w[16].fill_end, 6000);
  EXPECT_EQ(w[16].offset, 150);
  w = NeuronioEvalWindows(6000, 1000, 500);
  ASSERT_EQ(w.size(), 12u);
  EXPECT_EQ(w[10].fill_begin, 5500);
  EXPECT_EQ(w[10].fill_end, 6000);
  EXPECT_EQ(w[11].start, 5500);  // the last window fills nothing
  EXPECT_EQ(w[11].fill_begin, 6000);
  EXPECT_EQ(w[11].fill_end, 6000);
}

TEST(NeuronioEvalWindowsTest, EveryStepOnceFromItsOwnInputStep) {
  for (int64_t duration : {500, 501, 999, 1200, 6000}) {
    for (auto [window, burn_in] : std::vector<std::pair<int64_t, int64_t>>{
             {500, 150}, {500, 0}, {500, 499}, {100, 30}, {300, 200}}) {
      if (duration < window) continue;
      std::vector<int> filled(duration, 0);
      int64_t next = 0;
      for (const NeuronioEvalWindow& w :
           NeuronioEvalWindows(duration, window, burn_in)) {
        EXPECT_EQ(w.fill_begin, next) << duration << " " << window;
        next = w.fill_end;
        for (int64_t t = w.fill_begin; t < w.fill_end; ++t) {
          ++filled[t];
          const int64_t o = w.offset + (t - w.fill_begin);
          EXPECT_EQ(w.start + o, t);  // output o belongs to input step t
          EXPECT_LT(o, window);
          EXPECT_EQ(o, ExpectedOffset(t, window, burn_in));
        }
      }
      EXPECT_EQ(std::count(filled.begin(), filled.end(), 1), duration)
          << duration << " " << window << " " << burn_in;
    }
  }
}

TEST(NeuronioWindowBatchTest, MatchesDensifyWithPadding) {
  const NeuronioSimulation a = MakeSim(1, {}), b = MakeSim(2, {});
  const std::vector<NeuronioWindowRef> refs = {{&a, 0}, {&b, 1000}};
  const Batch batch = NeuronioWindowBatch(refs, 300);
  std::string why;
  ASSERT_TRUE(batch.IsConsistent(&why)) << why;
  EXPECT_EQ(batch.batch, 2);
  EXPECT_EQ(batch.steps, 300);
  std::vector<float> dense(2 * 300 * kNeuronioInputDim), want(dense.size());
  batch.ToDense(dense.data());
  Densify(a, 0, 300, want.data());
  Densify(b, 1000, 300, want.data() + 300 * kNeuronioInputDim);
  EXPECT_EQ(dense, want);
  // Rows of steps 1200.. (past the end) are empty; the last real step is not.
  EXPECT_EQ(batch.inputs.row_begin[300 + 200],
            batch.inputs.row_begin[300 + 300]);
  EXPECT_EQ(
      batch.inputs.row_begin[300 + 200] - batch.inputs.row_begin[300 + 199], 3);
}

// A rank of a distributed evaluation builds only its windows' rows.
TEST(NeuronioWindowBatchTest, HeldWindowsAreRowsOfTheWholeBatch) {
  const NeuronioSimulation a = MakeSim(1, {}), b = MakeSim(2, {});
  const std::vector<NeuronioWindowRef> refs = {
      {&a, 0}, {&b, 1000}, {&a, 400}, {&b, 0}};
  const Batch whole = NeuronioWindowBatch(refs, 300);
  int64_t held_nonzeros = 0;
  for (const auto& [first, end] : std::vector<std::pair<int64_t, int64_t>>{
           {0, 1}, {1, 1}, {1, 3}, {3, 4}}) {
    const Batch part = NeuronioWindowBatch(refs, 300, first, end);
    std::string why;
    EXPECT_TRUE(IsHeldPartOf(part, whole, &why)) << first << " " << why;
    held_nonzeros += static_cast<int64_t>(part.inputs.col.size());
  }
  EXPECT_GT(held_nonzeros, 0);
  EXPECT_EQ(held_nonzeros, static_cast<int64_t>(whole.inputs.col.size()));
}

// ---- One file: stitching and recalibration

TEST(PredictNeuronioFileTest, StitchesWindowsAsTheReference) {
  const auto files = MakeFiles();
  NeuronioEvalOptions options;
  options.window_ms = 500;
  options.burn_in_ms = 100;  // 3 windows; the last runs 100 steps past 1200
  options.windows_per_batch = 4;
  FakeModel model;
  model.window = 500;
  absl::StatusOr<NeuronioFilePredictions> p =
      PredictNeuronioFile(*files[0], model.AsPredictor(), options);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(model.problem, "");
  // 3 simulations × 3 windows in batches of 4.
  EXPECT_EQ(model.batch_sizes, (std::vector<int64_t>{4, 4, 1}));
  const Expected e = ExpectedFile(*files[0], 500, 100);
  EXPECT_EQ(p->num_simulations, 3);
  EXPECT_EQ(p->duration_ms, kDuration);
  EXPECT_EQ(p->soma_pred_mv, e.soma_raw);  // exact: no padding, right windows
  ASSERT_EQ(p->spike_prob.size(), e.spike_prob.size());
  for (size_t i = 0; i < e.spike_prob.size(); ++i) {
    ASSERT_FLOAT_EQ(p->spike_prob[i], e.spike_prob[i]) << i;
  }
  EXPECT_EQ(p->soma_true_mv, e.soma_true);
  EXPECT_EQ(p->spike_count, (std::vector<int64_t>{25, 3, 24}));
  EXPECT_EQ(p->spike_true[1 * kDuration + 250], 1.0f);
  EXPECT_EQ(p->spike_true[2 * kDuration + 1150], 1.0f);
  EXPECT_EQ(std::count(p->spike_true.begin(), p->spike_true.end(), 1.0f),
            25 + 3 + 24);

  // The batch size does not change the result.
  options.windows_per_batch = 1;
  FakeModel model1;
  model1.window = 500;
  absl::StatusOr<NeuronioFilePredictions> p1 =
      PredictNeuronioFile(*files[0], model1.AsPredictor(), options);
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ(model1.batch_sizes.size(), 9u);
  EXPECT_EQ(p1->soma_pred_mv, p->soma_pred_mv);
  EXPECT_EQ(p1->spike_prob, p->spike_prob);
}

TEST(PredictNeuronioFileTest, ReferenceDefaultsSkipNothingNeeded) {
  // W 500, burn-in 150 on 1200 ms: int(2 + 700/350) = 4 windows; the last
  // (start 1050) fills [1200, 1200), nothing, and is not run.
  const auto files = MakeFiles();
  NeuronioEvalOptions options;  // defaults
  FakeModel model;
  model.window = 500;
  absl::StatusOr<NeuronioFilePredictions> p =
      PredictNeuronioFile(*files[1], model.AsPredictor(), options);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(model.problem, "");
  EXPECT_EQ(model.batch_sizes, (std::vector<int64_t>{6}));  // 2 sims × 3
  EXPECT_EQ(p->soma_pred_mv, ExpectedFile(*files[1], 500, 150).soma_raw);
}

TEST(RecalibrateSomaTest, MatchesMeanAndStdOfTheTruth) {
  const auto files = MakeFiles();
  NeuronioEvalOptions options;
  options.burn_in_ms = 100;
  FakeModel model;
  model.window = 500;
  absl::StatusOr<NeuronioFilePredictions> p =
      PredictNeuronioFile(*files[0], model.AsPredictor(), options);
  ASSERT_TRUE(p.ok());
  const SomaRecalibration r = RecalibrateSoma(&*p);
  const Expected e = ExpectedFile(*files[0], 500, 100);
  ASSERT_EQ(p->soma_pred_mv.size(), e.soma_pred.size());
  for (size_t i = 0; i < e.soma_pred.size(); ++i) {
    ASSERT_NEAR(p->soma_pred_mv[i], e.soma_pred[i], 1e-9) << i;
  }
  // The recalibrated prediction has the truth's mean and population std.
  double sum = 0, sq = 0;
  for (double x : p->soma_pred_mv) sum += x;
  const double mean = sum / p->soma_pred_mv.size();
  for (double x : p->soma_pred_mv) sq += (x - mean) * (x - mean);
  EXPECT_NEAR(mean, r.true_mean, 1e-9);
  EXPECT_NEAR(std::sqrt(sq / p->soma_pred_mv.size()), r.true_std, 1e-9);
  EXPECT_GT(r.pred_std, 0);
  EXPECT_GT(r.true_std, 0);
}

TEST(RecalibrateSomaTest, ConstantPredictionBecomesTheTruthMean) {
  NeuronioFilePredictions p;
  p.num_simulations = 2;
  p.duration_ms = 2;
  p.soma_true_mv = {1, 2, 3, 6};
  p.soma_pred_mv = {5, 5, 5, 5};
  const SomaRecalibration r = RecalibrateSoma(&p);
  EXPECT_EQ(r.pred_std, 0.0);
  EXPECT_EQ(r.true_mean, 3.0);
  EXPECT_EQ(p.soma_pred_mv, (std::vector<double>{3, 3, 3, 3}));
}

// ---- Whole protocol

TEST(EvaluateNeuronioTest, FiltersDropsTheStartAndComputesTheMetrics) {
  const auto files = MakeFiles();
  NeuronioEvalOptions options;
  options.window_ms = 500;
  options.burn_in_ms = 100;
  options.windows_per_batch = 4;
  FakeModel model;
  model.window = 500;
  std::vector<std::pair<int, int>> progress;
  int loads = 0;
  absl::StatusOr<NeuronioEvalResult> result = EvaluateNeuronio(
      2,
      [&](int i) -> absl::StatusOr<std::shared_ptr<const NeuronioFile>> {
        ++loads;
        return files[i];
      },
      model.AsPredictor(), options,
      [&](int done, int total) {
        progress.push_back({done, total});
      });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(model.problem, "");
  EXPECT_EQ(loads, 2);
  EXPECT_EQ(progress, (std::vector<std::pair<int, int>>{{1, 2}, {2, 2}}));
  EXPECT_EQ(result->simulations_total, 5);
  EXPECT_EQ(result->metrics.num_simulations, 4);  // id 0 (25 spikes) dropped
  EXPECT_EQ(result->metrics.num_steps, 4 * (kDuration - 500));

  // The independent computation: per-file recalibration, then the kept
  // simulations' steps [500, 1200).
  std::vector<float> spike_true, spike_prob;
  std::vector<double> soma_true, soma_pred;
  for (const auto& file : files) {
    const Expected e = ExpectedFile(*file, 500, 100);
    for (size_t s = 0; s < file->simulations.size(); ++s) {
      if (e.spike_count[s] > 24) continue;
      std::vector<float> spikes(kDuration, 0.0f);
      for (int64_t step : file->simulations[s].output_spike_steps) {
        spikes[step] = 1.0f;
      }
      for (int64_t t = 500; t < kDuration; ++t) {
        const size_t i = s * kDuration + t;
        spike_true.push_back(spikes[t]);
        spike_prob.push_back(e.spike_prob[i]);
        soma_true.push_back(e.soma_true[i]);
        soma_pred.push_back(e.soma_pred[i]);
      }
    }
  }
  absl::StatusOr<NeuronioMetricsResult> want =
      ComputeNeuronioMetrics(spike_true, spike_prob, soma_true, soma_pred, 4);
  ASSERT_TRUE(want.ok()) << want.status();
  const NeuronioMetrics& m = result->metrics;
  const NeuronioMetrics& w = want->metrics;
  EXPECT_FLOAT_EQ(m.auc, w.auc);
  EXPECT_FLOAT_EQ(m.tp_at_0p25_fp, w.tp_at_0p25_fp);
  EXPECT_FLOAT_EQ(m.tp_at_1_fp, w.tp_at_1_fp);
  EXPECT_FLOAT_EQ(m.auc_at_0p25_fp, w.auc_at_0p25_fp);
  EXPECT_FLOAT_EQ(m.auc_at_1_fp, w.auc_at_1_fp);
  EXPECT_NEAR(m.soma_explained_variance_percent,
              w.soma_explained_variance_percent, 1e-8);
  EXPECT_NEAR(m.soma_rmse_mv, w.soma_rmse_mv, 1e-9);
  EXPECT_NEAR(m.soma_mae_mv, w.soma_mae_mv, 1e-9);
  EXPECT_EQ(result->roc.num_positives, (2 + 24 + 0 + 4));  // steps >= 500
  EXPECT_EQ(result->roc.num_negatives, 4 * 700 - 30);
  EXPECT_GT(m.auc, 0.0);
  EXPECT_LT(m.auc, 1.0);

  // The example is the first kept simulation: file 0, simulation 1 (id 1).
  const NeuronioEvalExample& ex = result->example;
  EXPECT_EQ(ex.file, 0);
  EXPECT_EQ(ex.simulation, 1);
  EXPECT_EQ(ex.path, "file0.p");
  EXPECT_EQ(ex.duration_ms, kDuration);
  EXPECT_EQ(ex.spike_steps, (std::vector<int64_t>{250, 700, 1100}));
  const Expected e0 = ExpectedFile(*files[0], 500, 100);
  ASSERT_EQ(ex.soma_pred_mv.size(), static_cast<size_t>(kDuration));
  for (int64_t t = 0; t < kDuration; ++t) {
    ASSERT_NEAR(ex.soma_pred_mv[t], e0.soma_pred[kDuration + t], 1e-9) << t;
    ASSERT_EQ(ex.soma_true_mv[t], e0.soma_true[kDuration + t]) << t;
    ASSERT_FLOAT_EQ(ex.spike_prob[t], e0.spike_prob[kDuration + t]) << t;
  }
  // Its raster: 3 input spikes per step, in step then channel order.
  ASSERT_EQ(ex.input_steps.size(), static_cast<size_t>(3 * kDuration));
  EXPECT_EQ(ex.input_steps[3], 1);
  EXPECT_EQ(ex.input_channels[3], 1);                     // t mod 600
  EXPECT_EQ(ex.input_channels[4], kClockPeriod + 1);      // id 1
  EXPECT_EQ(ex.input_channels[5], kNeuronioNumSegments);  // t / 600 = 0
  EXPECT_EQ(ex.input_steps.back(), kDuration - 1);
  EXPECT_EQ(ex.input_channels.back(), kNeuronioNumSegments + 1);

  // The in-memory overload gives the same.
  FakeModel model2;
  model2.window = 500;
  absl::StatusOr<NeuronioEvalResult> again =
      EvaluateNeuronio(files, model2.AsPredictor(), options);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->metrics.auc, m.auc);
  EXPECT_EQ(again->metrics.soma_rmse_mv, m.soma_rmse_mv);
}

TEST(EvaluateNeuronioTest, SpikeFilterBoundsAreInclusive) {
  const auto files = MakeFiles();
  NeuronioEvalOptions options;
  options.burn_in_ms = 100;
  options.min_output_spikes = 3;  // ids 1 (3), 2 (24), 4 (5)
  options.max_output_spikes = 24;
  FakeModel model;
  model.window = 500;
  absl::StatusOr<NeuronioEvalResult> r =
      EvaluateNeuronio(files, model.AsPredictor(), options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->metrics.num_simulations, 3);
  options.max_output_spikes = 25;  // id 0 too
  r = EvaluateNeuronio(files, model.AsPredictor(), options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->metrics.num_simulations, 4);
  EXPECT_EQ(r->example.simulation, 0);
}

// ---- Errors

absl::Status EvalStatus(
    const std::vector<std::shared_ptr<const NeuronioFile>>& files,
    const NeuronioEvalOptions& options, WindowPredictor predictor = nullptr) {
  FakeModel model;
  model.window = options.window_ms;
  if (!predictor) predictor = model.AsPredictor();
  return EvaluateNeuronio(files, predictor, options).status();
}

void ExpectError(const absl::Status& status, const std::string& fragment) {
  EXPECT_FALSE(status.ok()) << fragment;
  EXPECT_NE(status.message().find(fragment), std::string::npos) << status;
}

TEST(EvaluateNeuronioTest, Errors) {
  const auto files = MakeFiles();
  NeuronioEvalOptions options;
  options.burn_in_ms = 500;
  ExpectError(EvalStatus(files, options), "burn_in_ms must be in [0, window");
  options = NeuronioEvalOptions();
  options.windows_per_batch = 0;
  ExpectError(EvalStatus(files, options), "windows_per_batch");
  options = NeuronioEvalOptions();
  options.min_output_spikes = 5;
  options.max_output_spikes = 4;
  ExpectError(EvalStatus(files, options), "min_output_spikes");
  options = NeuronioEvalOptions();
  ExpectError(EvalStatus({}, options), "at least one file");

  options.window_ms = 1500;
  options.burn_in_ms = 100;
  ExpectError(EvalStatus(files, options),
              "file0.p: the simulations last 1200 ms, less than the window");
  options = NeuronioEvalOptions();
  options.ignore_time_at_start_ms = 1200;
  ExpectError(EvalStatus(files, options), "leaves nothing");
  options = NeuronioEvalOptions();
  options.min_output_spikes = 100;
  options.max_output_spikes = 200;
  ExpectError(EvalStatus(files, options), "none of the 5 simulations");
  options = NeuronioEvalOptions();
  options.max_output_spikes = 0;  // only id 3, which has no spikes
  ExpectError(EvalStatus(files, options), "needs both classes");

  options = NeuronioEvalOptions();
  ExpectError(EvalStatus(files, options,
                         [](const Batch&, std::vector<float>* y) {
                           return absl::UnavailableError("model broke");
                         }),
              "file0.p: predictor: model broke");
  ExpectError(EvalStatus(files, options,
                         [](const Batch& b, std::vector<float>* y) {
                           y->assign(b.batch * b.steps, 0.0f);
                           return absl::OkStatus();
                         }),
              "expected [4500, 2]");

  auto mixed = std::make_shared<NeuronioFile>();
  mixed->path = "mixed.p";
  mixed->simulations.push_back(MakeSim(0, {600.7}));
  mixed->simulations.push_back(MakeSim(1, {600.7}, 1100));
  ExpectError(EvalStatus({mixed}, options), "mixed.p: simulation 1 has 1100");
  auto empty = std::make_shared<NeuronioFile>();
  empty->path = "empty.p";
  ExpectError(EvalStatus({empty}, options), "empty.p: no simulations");

  // A loader error is passed on.
  FakeModel model;
  model.window = 500;
  absl::StatusOr<NeuronioEvalResult> r = EvaluateNeuronio(
      1,
      [](int) -> absl::StatusOr<std::shared_ptr<const NeuronioFile>> {
        return absl::NotFoundError("no such file: x.p");
      },
      model.AsPredictor(), options);
  ExpectError(r.status(), "no such file: x.p");
}

}  // namespace
}  // namespace elm
