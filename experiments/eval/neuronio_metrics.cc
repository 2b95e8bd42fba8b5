// The NeuronIO metrics of the ELM reference (sklearn 1.2 / NumPy 1.24
// semantics): see neuronio_metrics.h. Built with -ffp-contract=off so that
// no a·b + c is fused into one rounding, as NumPy's loops do not fuse either.
#include "experiments/eval/neuronio_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "glog/logging.h"

namespace elm {
namespace {

// One threshold of the unpruned curve: cumulative false and true positives
// at or above `threshold`.
struct RocPoint {
  double fps = 0.0;
  double tps = 0.0;
  double threshold = 0.0;
};

// np.argmin(|v − target|): the first index of the smallest distance.
template <typename F>
int64_t ArgminDistance(int64_t n, const F& v, double target) {
  int64_t best = 0;
  double best_distance = std::fabs(v(0) - target);
  for (int64_t i = 1; i < n; ++i) {
    const double d = std::fabs(v(i) - target);
    if (d < best_distance) {
      best_distance = d;
      best = i;
    }
  }
  return best;
}

// g[i] of np.linspace(0, 1, 20000): arange(num) · step + start, and the last
// point set to stop.
double FprGridPoint(int64_t i) {
  static const double step = 1.0 / static_cast<double>(kFprGridSize - 1);
  if (i == kFprGridSize - 1) return 1.0;
  return static_cast<double>(i) * step + 0.0;
}

absl::Status CheckFinite(absl::Span<const double> v, absl::string_view name) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "soma metrics: ", name, "[", i, "] = ", v[i], " is not finite"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

double NumpySum(absl::Span<const double> x) {
  return NumpySum(static_cast<int64_t>(x.size()),
                  [&x](int64_t i) { return x[i]; });
}

absl::StatusOr<RocCurve> RocCurveOf(absl::Span<const float> labels,
                                    absl::Span<const float> scores) {
  if (labels.size() != scores.size()) {
    return absl::InvalidArgumentError(absl::StrCat("roc curve: ", labels.size(),
                                                   " labels but ",
                                                   scores.size(), " scores"));
  }
  if (labels.empty()) {
    return absl::InvalidArgumentError("roc curve: no labels");
  }
  const int64_t n = static_cast<int64_t>(labels.size());
  RocCurve roc;
  for (int64_t i = 0; i < n; ++i) {
    if (labels[i] != 0.0f && labels[i] != 1.0f) {
      return absl::InvalidArgumentError(absl::StrCat(
          "roc curve: labels[", i, "] = ", labels[i], " is neither 0 nor 1"));
    }
    if (!std::isfinite(scores[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "roc curve: scores[", i, "] = ", scores[i], " is not finite"));
    }
    if (labels[i] == 1.0f) ++roc.num_positives;
  }
  roc.num_negatives = n - roc.num_positives;
  if (roc.num_positives == 0 || roc.num_negatives == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("roc curve: needs both classes, got ", roc.num_positives,
                     " positive and ", roc.num_negatives, " negative labels"));
  }

  // Sorted by score, descending. The order within a run of equal scores does
  // not matter: a run is one threshold, and only its totals are used (sklearn
  // reverses a stable ascending mergesort).
  std::vector<std::pair<float, bool>> sorted(n);
  for (int64_t i = 0; i < n; ++i) sorted[i] = {scores[i], labels[i] == 1.0f};
  std::sort(sorted.begin(), sorted.end(),
            [](const std::pair<float, bool>& a,
               const std::pair<float, bool>& b) { return a.first > b.first; });

  // The pruned points (drop_intermediate), built as the thresholds stream by:
  // a point is kept when it is the first, the last, or its second difference
  // in fps or tps (np.diff(_, 2)) is nonzero. `prev` and `cur` are the last
  // two unpruned points.
  std::vector<RocPoint> kept;
  RocPoint prev, cur;
  int64_t num_points = 0;
  double tps = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    if (sorted[i].second) tps += 1.0;
    // np.diff on the sorted scores is nonzero: for finite floats exactly when
    // they differ.
    if (i + 1 < n && sorted[i].first == sorted[i + 1].first) continue;
    RocPoint next;
    next.tps = tps;
    next.fps = static_cast<double>(i + 1) - tps;  // 1 + threshold_idx − tps
    next.threshold = sorted[i].first;
    if (num_points == 0) {
      kept.push_back(next);
    } else if (num_points >= 2) {
      // `cur` is an inner point: keep it if it is a corner.
      const double d2_fps = (next.fps - cur.fps) - (cur.fps - prev.fps);
      const double d2_tps = (next.tps - cur.tps) - (cur.tps - prev.tps);
      if (d2_fps != 0.0 || d2_tps != 0.0) kept.push_back(cur);
    }
    prev = cur;
    cur = next;
    ++num_points;
  }
  if (num_points >= 2) kept.push_back(cur);  // the last point
  // With exactly 2 points nothing was pruned (sklearn prunes only above 2),
  // and the loop above kept both.

  const double fps_total = kept.back().fps;
  const double tps_total = kept.back().tps;
  roc.fpr.reserve(kept.size() + 1);
  roc.tpr.reserve(kept.size() + 1);
  roc.thresholds.reserve(kept.size() + 1);
  roc.fpr.push_back(0.0 / fps_total);
  roc.tpr.push_back(0.0 / tps_total);
  roc.thresholds.push_back(std::numeric_limits<double>::infinity());
  for (const RocPoint& p : kept) {
    roc.fpr.push_back(p.fps / fps_total);
    roc.tpr.push_back(p.tps / tps_total);
    roc.thresholds.push_back(p.threshold);
  }
  return roc;
}

double Auc(const RocCurve& roc) {
  const std::vector<double>& x = roc.fpr;
  const std::vector<double>& y = roc.tpr;
  CHECK_EQ(x.size(), y.size()) << "Auc: fpr and tpr differ in size";
  CHECK_GE(x.size(), 2u) << "Auc: needs at least 2 points";
  const int64_t n = static_cast<int64_t>(x.size());
  bool any_decrease = false, all_non_increasing = true;
  for (int64_t i = 0; i + 1 < n; ++i) {
    const double dx = x[i + 1] - x[i];
    if (dx < 0) any_decrease = true;
    if (dx > 0) all_non_increasing = false;
  }
  double direction = 1.0;
  if (any_decrease) {
    CHECK(all_non_increasing) << "Auc: fpr is not monotonic";
    direction = -1.0;
  }
  // np.trapz: add.reduce(d · (y[1:] + y[:-1]) / 2.0).
  const double area = NumpySum(n - 1, [&](int64_t i) {
    return (x[i + 1] - x[i]) * (y[i + 1] + y[i]) / 2.0;
  });
  return direction * area;
}

double TpAtFalsePositiveRate(const RocCurve& roc, double fp_rate) {
  CHECK_GE(roc.fpr.size(), 2u) << "TpAtFalsePositiveRate: needs 2 points";
  CHECK_EQ(roc.fpr.size(), roc.tpr.size());
  int64_t index = ArgminDistance(
      static_cast<int64_t>(roc.fpr.size()),
      [&](int64_t i) { return roc.fpr[i]; }, fp_rate);
  if (index == 0) index = 1;
  return roc.tpr[index];
}

double AucAtFalsePositiveRate(const RocCurve& roc, double fp_rate) {
  const std::vector<double>& xp = roc.fpr;
  const std::vector<double>& fp = roc.tpr;
  CHECK_GE(xp.size(), 2u) << "AucAtFalsePositiveRate: needs 2 points";
  CHECK_EQ(xp.size(), fp.size());
  const int64_t len = static_cast<int64_t>(xp.size());

  // np.interp(grid, xp, fp). For each grid point x the interval is j = the
  // last index with xp[j] <= x (what NumPy's binary search returns for a
  // non-decreasing xp, repeated values included), found here by walking
  // forward since the grid ascends.
  std::vector<double> tpr(kFprGridSize);
  int64_t j = -1;
  for (int64_t i = 0; i < kFprGridSize; ++i) {
    const double x = FprGridPoint(i);
    while (j + 1 < len && xp[j + 1] <= x) ++j;
    if (j < 0) {
      tpr[i] = fp[0];  // left of the curve: fp[0]
    } else if (j == len - 1) {
      tpr[i] = fp[len - 1];  // at or right of the last point
    } else if (xp[j] == x) {
      tpr[i] = fp[j];
    } else {
      const double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
      double v = slope * (x - xp[j]) + fp[j];
      if (std::isnan(v)) {  // NumPy retries from the other end
        v = slope * (x - xp[j + 1]) + fp[j + 1];
        if (std::isnan(v) && fp[j] == fp[j + 1]) v = fp[j];
      }
      tpr[i] = v;
    }
  }

  const int64_t nearest = ArgminDistance(kFprGridSize, FprGridPoint, fp_rate);
  const int64_t count =
      std::min<int64_t>(std::max<int64_t>(1, nearest), kFprGridSize - 1);
  return NumpySum(count, [&](int64_t i) { return tpr[i]; }) /
         static_cast<double>(count);
}

absl::StatusOr<SomaMetrics> SomaMetricsOf(absl::Span<const double> y_true,
                                          absl::Span<const double> y_pred) {
  if (y_true.size() != y_pred.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("soma metrics: ", y_true.size(), " true values but ",
                     y_pred.size(), " predictions"));
  }
  if (y_true.empty()) {
    return absl::InvalidArgumentError("soma metrics: no values");
  }
  RETURN_IF_ERROR(CheckFinite(y_true, "y_true"));
  RETURN_IF_ERROR(CheckFinite(y_pred, "y_pred"));
  const int64_t n = static_cast<int64_t>(y_true.size());
  const double count = static_cast<double>(n);

  // explained_variance_score, in sklearn's order of operations.
  const double diff_avg =
      NumpySum(n, [&](int64_t i) { return y_true[i] - y_pred[i]; }) / count;
  const double numerator = NumpySum(n,
                                    [&](int64_t i) {
                                      const double d =
                                          y_true[i] - y_pred[i] - diff_avg;
                                      return d * d;
                                    }) /
                           count;
  const double true_avg = NumpySum(y_true) / count;
  const double denominator = NumpySum(n,
                                      [&](int64_t i) {
                                        const double d = y_true[i] - true_avg;
                                        return d * d;
                                      }) /
                             count;
  SomaMetrics out;
  if (numerator == 0.0) {
    out.explained_variance = 1.0;
  } else if (denominator == 0.0) {
    out.explained_variance = 0.0;
  } else {
    out.explained_variance = 1.0 - numerator / denominator;
  }

  // mean_squared_error: average((y_true − y_pred)²); mean_absolute_error:
  // average(|y_pred − y_true|).
  const double mse = NumpySum(n,
                              [&](int64_t i) {
                                const double d = y_true[i] - y_pred[i];
                                return d * d;
                              }) /
                     count;
  out.rmse = std::sqrt(mse);
  out.mae =
      NumpySum(n, [&](int64_t i) { return std::fabs(y_pred[i] - y_true[i]); }) /
      count;
  return out;
}

absl::StatusOr<NeuronioMetricsResult> ComputeNeuronioMetrics(
    absl::Span<const float> spike_true, absl::Span<const float> spike_prob,
    absl::Span<const double> soma_true_mv,
    absl::Span<const double> soma_pred_mv, int64_t num_simulations) {
  if (spike_true.size() != soma_true_mv.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "neuronio metrics: ", spike_true.size(), " spike targets but ",
        soma_true_mv.size(), " soma targets"));
  }
  NeuronioMetricsResult out;
  ASSIGN_OR_RETURN(out.roc, RocCurveOf(spike_true, spike_prob));
  ASSIGN_OR_RETURN(const SomaMetrics soma,
                   SomaMetricsOf(soma_true_mv, soma_pred_mv));
  NeuronioMetrics& m = out.metrics;
  m.auc = Auc(out.roc);
  m.tp_at_0p25_fp = TpAtFalsePositiveRate(out.roc, kFpRate0p25);
  m.tp_at_1_fp = TpAtFalsePositiveRate(out.roc, kFpRate1);
  m.auc_at_0p25_fp = AucAtFalsePositiveRate(out.roc, kFpRate0p25);
  m.auc_at_1_fp = AucAtFalsePositiveRate(out.roc, kFpRate1);
  m.soma_explained_variance_percent = 100.0 * soma.explained_variance;
  m.soma_rmse_mv = soma.rmse;
  m.soma_mae_mv = soma.mae;
  m.num_simulations = num_simulations;
  m.num_steps = static_cast<int64_t>(spike_true.size());
  return out;
}

}  // namespace elm
