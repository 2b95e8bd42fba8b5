// The NeuronIO evaluation metrics of the ELM reference
// (src/neuronio/neuronio_eval_utils.py: `extract_core_results`,
// `calc_TP_at_desired_FP`, `calc_AUC_at_desired_FP`), as pure functions on
// flat arrays that reproduce scikit-learn 1.2 / NumPy 1.24 operation by
// operation: the ROC curve of `sklearn.metrics.roc_curve` with its defaults
// (ties grouped, drop_intermediate=True, a prepended (0, 0) point), its area
// (`sklearn.metrics.auc`, NumPy's trapezoid rule), the true-positive rate at a
// false-positive rate, the partial AUC on NumPy's 20,000-point FPR grid, and
// the soma errors (`explained_variance_score`, √MSE, MAE). Every mean and sum
// is NumPy's (pairwise summation in blocks of 8192, see NumpySum), so the
// results match the reference to the last bit or nearly so, not just to a
// tolerance. `ComputeNeuronioMetrics` computes all of them at once from the
// filtered, flattened arrays (elm_reference.md §4.4 step 7) and keeps the ROC
// curve for plotting.
#ifndef ELM_EXPERIMENTS_EVAL_NEURONIO_METRICS_H_
#define ELM_EXPERIMENTS_EVAL_NEURONIO_METRICS_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace elm {

// The sum of x(0), …, x(n − 1) as NumPy 1.24 computes np.add.reduce /
// np.sum / the sum of np.mean on a float64 array in memory order: 0.0 plus,
// block by block of 8192 elements (the iterator's buffer size), the pairwise
// sum of the block (8 accumulators up to 128 elements, halving above). `x` is
// any callable int64_t → double, so sums of expressions need no temporary
// array. n >= 0.
template <typename F>
double NumpySum(int64_t n, const F& x);
// The same over a span.
double NumpySum(absl::Span<const double> x);

// A receiver operating characteristic as sklearn.metrics.roc_curve returns it.
// P points, fpr and tpr non-decreasing from (0, 0) to (1, 1), thresholds
// decreasing.
struct RocCurve {
  std::vector<double> fpr;         // [P]
  std::vector<double> tpr;         // [P]
  std::vector<double> thresholds;  // [P]; thresholds[0] = +inf
  int64_t num_positives = 0;       // labels equal to 1
  int64_t num_negatives = 0;       // labels equal to 0
};

// The ROC curve of `scores` against 0/1 `labels`, exactly as
// sklearn.metrics.roc_curve(labels, scores) with its defaults: the scores are
// sorted descending; every distinct score is one threshold (tied scores form
// one point); a point is dropped when it is collinear with its neighbours in
// both the false- and the true-positive counts (drop_intermediate=True, the
// second differences of both are zero; only when there are more than 2
// points); then (0, 0) is prepended with threshold +inf (sklearn >= 1.3;
// sklearn 1.2 uses max(score) + 1 there, which no metric reads); fpr = fp /
// fp_total and tpr = tp / tp_total in double.
// Errors (InvalidArgument): labels and scores of different sizes, no elements,
// a label other than 0 or 1, a score that is NaN or infinite (sklearn's
// assert_all_finite), no positive or no negative label (sklearn warns and
// returns NaN rates there).
absl::StatusOr<RocCurve> RocCurveOf(absl::Span<const float> labels,
                                    absl::Span<const float> scores);

// The area under the curve by the trapezoid rule, as sklearn.metrics.auc(fpr,
// tpr): the sum (NumpySum) of (x[i+1] − x[i])·(y[i+1] + y[i]) / 2, negated
// for a non-increasing x. CHECK-fails (programmer error) with fewer than 2
// points, different sizes, or an fpr that is neither non-decreasing nor
// non-increasing.
double Auc(const RocCurve& roc);

// The reference's `calc_TP_at_desired_FP`: tpr[i] at the first index i whose
// fpr is nearest to `fp_rate` (np.argmin of |fpr − fp_rate|), with i = 0
// replaced by 1 (the prepended (0, 0) point is never reported).
double TpAtFalsePositiveRate(const RocCurve& roc, double fp_rate);

// The number of points of the reference's FPR grid, np.linspace(0, 1, 20000).
inline constexpr int kFprGridSize = 20000;

// The reference's `calc_AUC_at_desired_FP`: the TPR interpolated (np.interp)
// onto the grid g = np.linspace(0, 1, 20000) (g[i] = i·(1/19999), g[19999] =
// 1), then the mean (NumpySum / count) of its first k values, k = min(max(1,
// argmin |g − fp_rate|), 19999), i.e. the grid points strictly below the one
// nearest `fp_rate`. Note that this is the mean TPR over [0, ≈fp_rate), not an
// area normalised otherwise.
double AucAtFalsePositiveRate(const RocCurve& roc, double fp_rate);

// The soma errors in the units of the inputs (mV for NeuronIO).
struct SomaMetrics {
  // sklearn.metrics.explained_variance_score as a fraction: 1 − Var(y − ŷ) /
  // Var(y), population variances; 1 when Var(y − ŷ) = 0, 0 when only Var(y)
  // is 0 (sklearn's force_finite=True).
  double explained_variance = 0.0;
  double rmse = 0.0;  // √(mean (y − ŷ)²)
  double mae = 0.0;   // mean |ŷ − y|
};

// The soma metrics of predictions `y_pred` against `y_true`, with NumPy's sums
// in sklearn's order of operations. Errors (InvalidArgument): different sizes,
// no elements, a NaN or infinite value (sklearn's check_array), naming the
// array and the index.
absl::StatusOr<SomaMetrics> SomaMetricsOf(absl::Span<const double> y_true,
                                          absl::Span<const double> y_pred);

// The reference's core NeuronIO results (its dictionary keys in comments).
struct NeuronioMetrics {
  double auc = 0.0;                              // "AUC": Auc(roc)
  double tp_at_0p25_fp = 0.0;                    // "TP @ 0.0025 FP"
  double tp_at_1_fp = 0.0;                       // "TP @ 0.0100 FP"
  double auc_at_0p25_fp = 0.0;                   // "AUC @ 0.0025 FP"
  double auc_at_1_fp = 0.0;                      // "AUC @ 0.0100 FP"
  double soma_explained_variance_percent = 0.0;  // 100 · explained variance
  double soma_rmse_mv = 0.0;                     // "soma_RMSE" (mV)
  double soma_mae_mv = 0.0;                      // "soma_MAE" (mV)
  int64_t num_simulations = 0;  // simulations evaluated (after the filter)
  int64_t num_steps = 0;        // time steps evaluated, all simulations
};

// The reference's FP rates of the TP / AUC @ FP metrics.
inline constexpr double kFpRate0p25 = 0.0025;
inline constexpr double kFpRate1 = 0.0100;

struct NeuronioMetricsResult {
  NeuronioMetrics metrics;
  RocCurve roc;  // the curve behind auc / tp / auc @ FP, for plotting
};

// All NeuronIO metrics from the flattened arrays of the evaluated steps
// (simulation-major, all of the same length N): the 0/1 spike targets, the
// predicted spike probabilities, and the true and predicted soma voltages (in
// mV relative to the −67.7 mV bias, as the reference, or any common offset).
// `num_simulations` is only recorded (num_steps = N). Errors: those of
// RocCurveOf and SomaMetricsOf, and sizes that differ.
absl::StatusOr<NeuronioMetricsResult> ComputeNeuronioMetrics(
    absl::Span<const float> spike_true, absl::Span<const float> spike_prob,
    absl::Span<const double> soma_true_mv,
    absl::Span<const double> soma_pred_mv, int64_t num_simulations);

// ---- Implementation of the template ----

namespace numpy_sum_internal {

// NumPy's pairwise_sum_DOUBLE over x(begin), …, x(begin + n − 1).
template <typename F>
double PairwiseSum(int64_t begin, int64_t n, const F& x) {
  if (n < 8) {
    double res = 0.0;
    for (int64_t i = 0; i < n; ++i) res += x(begin + i);
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = x(begin + j);
    int64_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int j = 0; j < 8; ++j) r[j] += x(begin + i + j);
    }
    double res =
        ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += x(begin + i);
    return res;
  }
  int64_t n2 = n / 2;
  n2 -= n2 % 8;
  return PairwiseSum(begin, n2, x) + PairwiseSum(begin + n2, n - n2, x);
}

inline constexpr int64_t kBufferSize = 8192;  // NPY_BUFSIZE

}  // namespace numpy_sum_internal

template <typename F>
double NumpySum(int64_t n, const F& x) {
  double res = 0.0;
  for (int64_t b = 0; b < n; b += numpy_sum_internal::kBufferSize) {
    res += numpy_sum_internal::PairwiseSum(
        b, std::min(numpy_sum_internal::kBufferSize, n - b), x);
  }
  return res;
}

}  // namespace elm

#endif  // ELM_EXPERIMENTS_EVAL_NEURONIO_METRICS_H_
