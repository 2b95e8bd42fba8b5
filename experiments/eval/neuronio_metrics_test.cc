// Tests of the NeuronIO metrics against independently computed values: one
// case by hand, and expected numbers from scikit-learn 1.2.1 / NumPy 1.24.2
// (Debian bookworm) printed by
// experiments/eval/testdata/make_metric_vectors.py, which also writes out the
// reference's TP @ FP and AUC @ FP formulas in NumPy. The pseudo-random cases
// come from a 64-bit LCG implemented identically here and in the script. The
// values are compared exactly (EXPECT_EQ on doubles): the C++ code reproduces
// NumPy's summation order.
#include "experiments/eval/neuronio_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace elm {
namespace {

// ---- Expected values: sklearn 1.2.1, numpy 1.24.2, via
// ---- testdata/make_metric_vectors.py (pasted from its output).

// The FP rates the vectors below are evaluated at.
const std::vector<double> kFpRates = {0.0025, 0.01, 0.1, 0.5};

// Doc: 4 samples, 2 positive
const std::vector<double> kDocFpr = {0.0, 0.0, 0.5, 0.5, 1.0};
const std::vector<double> kDocTpr = {0.0, 0.5, 0.5, 1.0, 1.0};
const std::vector<double> kDocThresholds1 = {
    0.800000011920929, 0.4000000059604645, 0.3499999940395355,
    0.10000000149011612};
constexpr double kDocAuc = 0.75;
const std::vector<double> kDocTpAtFp = {0.5, 0.5, 0.5, 0.5};
const std::vector<double> kDocAucAtFp = {0.5, 0.5, 0.5, 0.5};

// Ties: 10 samples, 5 positive
const std::vector<double> kTiesFpr = {0.0, 0.2, 0.2, 0.4, 0.6, 0.8, 1.0};
const std::vector<double> kTiesTpr = {0.0, 0.2, 0.4, 0.8, 0.8, 1.0, 1.0};
const std::vector<double> kTiesThresholds1 = {
    0.8999999761581421,  0.699999988079071,   0.5,
    0.30000001192092896, 0.20000000298023224, 0.10000000149011612};
constexpr double kTiesAuc = 0.68;
const std::vector<double> kTiesTpAtFp = {0.2, 0.2, 0.2, 0.8};
const std::vector<double> kTiesAucAtFp = {
    0.001225061253062653, 0.004975248762438121, 0.04997749887494375,
    0.4399839991999599};

// Runs: 12 samples, 6 positive
const std::vector<double> kRunsFpr = {0.0,
                                      0.0,
                                      0.0,
                                      0.3333333333333333,
                                      0.3333333333333333,
                                      0.8333333333333334,
                                      0.8333333333333334,
                                      1.0};
const std::vector<double> kRunsTpr = {0.0,
                                      0.16666666666666666,
                                      0.5,
                                      0.5,
                                      0.6666666666666666,
                                      0.6666666666666666,
                                      1.0,
                                      1.0};
const std::vector<double> kRunsThresholds1 = {12.0, 10.0, 8.0, 7.0,
                                              4.0,  2.0,  1.0};
constexpr double kRunsAuc = 0.6666666666666666;
const std::vector<double> kRunsTpAtFp = {
    0.16666666666666666, 0.16666666666666666, 0.16666666666666666, 0.5};
const std::vector<double> kRunsAucAtFp = {0.5, 0.5, 0.5, 0.5555499999999999};

// Lcg500: 500 samples, 155 positive
constexpr int kLcg500Points = 164;
constexpr double kLcg500FprSum = 49.78260869565217;
constexpr double kLcg500TprSum = 115.63225806451612;
constexpr double kLcg500ThresholdSum1 = 93.302978515625;
const std::vector<double> kLcg500Fpr5 = {0.0, 0.0, 0.0, 0.002898550724637681,
                                         0.002898550724637681};
const std::vector<double> kLcg500Tpr5 = {
    0.0, 0.0064516129032258064, 0.05161290322580645, 0.05161290322580645,
    0.12258064516129032};
constexpr double kLcg500Auc = 0.8653015427769988;
const std::vector<double> kLcg500TpAtFp = {
    0.05161290322580645, 0.16129032258064516, 0.5806451612903226,
    0.9612903225806452};
const std::vector<double> kLcg500AucAtFp = {
    0.05161290322580646, 0.11844030427327819, 0.42189682919629856,
    0.739799941771282};

// Lcg20000: 20000 samples, 6624 positive
constexpr int kLcg20000Points = 3807;
constexpr double kLcg20000FprSum = 1387.9121561004786;
constexpr double kLcg20000TprSum = 2831.2015398550725;
constexpr double kLcg20000ThresholdSum1 = 1936.51220703125;
const std::vector<double> kLcg20000Fpr5 = {0.0, 0.0, 0.0, 0.0, 0.0};
const std::vector<double> kLcg20000Tpr5 = {
    0.0, 0.0010567632850241545, 0.0016606280193236715, 0.002113526570048309,
    0.0030193236714975845};
constexpr double kLcg20000Auc = 0.8736672685901491;
const std::vector<double> kLcg20000TpAtFp = {
    0.09239130434782608, 0.21165458937198067, 0.6005434782608695,
    0.9636171497584541};
const std::vector<double> kLcg20000AucAtFp = {
    0.06615591920900393, 0.13876614579143812, 0.41744172211921066,
    0.7555918089286892};

// SomaSmall: 4 values (sklearn's documentation example)
constexpr double kSomaSmallExplainedVariance = 0.9571734475374732;
constexpr double kSomaSmallRmse = 0.6123724356957945;
constexpr double kSomaSmallMae = 0.5;

// Soma500: 500 values
constexpr double kSoma500ExplainedVariance = 0.9377794985890964;
constexpr double kSoma500Rmse = 1.6963980987312381;
constexpr double kSoma500Mae = 1.3786483204364777;

// Soma20000: 20000 values
constexpr double kSoma20000ExplainedVariance = 0.9367990172282564;
constexpr double kSoma20000Rmse = 1.7715441797826386;
constexpr double kSoma20000Mae = 1.4471727780520915;

// ---- The LCG of the script: x ← x·6364136223846793005 + 1442695040888963407
// (mod 2^64), 24 top bits per draw.
class Lcg {
 public:
  explicit Lcg(uint64_t seed) : state_(seed) {}
  uint64_t Next24() {
    state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
    return state_ >> 40;
  }

 private:
  uint64_t state_;
};

// The script's lcg_spike_case: scores k/4096 (exact in float), label 1 when
// u < k²/4096 (integers).
void LcgSpikeCase(int n, uint64_t seed, std::vector<float>* labels,
                  std::vector<float>* scores) {
  Lcg rng(seed);
  labels->resize(n);
  scores->resize(n);
  for (int i = 0; i < n; ++i) {
    const uint64_t k = rng.Next24() % 4096;
    const uint64_t u = rng.Next24() % 4096;
    (*scores)[i] = static_cast<float>(k) / 4096.0f;
    (*labels)[i] = u < (k * k) / 4096 ? 1.0f : 0.0f;
  }
}

// The script's lcg_soma_case, in double with the same operations.
void LcgSomaCase(int n, uint64_t seed, std::vector<double>* y_true,
                 std::vector<double>* y_pred) {
  Lcg rng(seed);
  y_true->resize(n);
  y_pred->resize(n);
  for (int i = 0; i < n; ++i) {
    const double a = static_cast<double>(rng.Next24()) / 16777216.0;
    const double b = static_cast<double>(rng.Next24()) / 16777216.0;
    (*y_true)[i] = a * 20.0 - 5.0;
    (*y_pred)[i] = (*y_true)[i] * 0.8 + (b - 0.5) * 3.0;
  }
}

double Sum(const std::vector<double>& v) { return NumpySum(v); }

RocCurve MustRoc(const std::vector<float>& labels,
                 const std::vector<float>& scores) {
  absl::StatusOr<RocCurve> roc = RocCurveOf(labels, scores);
  EXPECT_TRUE(roc.ok()) << roc.status();
  return roc.ok() ? *roc : RocCurve();
}

void ExpectFullCurve(const RocCurve& roc, const std::vector<double>& fpr,
                     const std::vector<double>& tpr,
                     const std::vector<double>& thresholds1) {
  EXPECT_EQ(roc.fpr, fpr);
  EXPECT_EQ(roc.tpr, tpr);
  ASSERT_EQ(roc.thresholds.size(), thresholds1.size() + 1);
  EXPECT_EQ(roc.thresholds[0], std::numeric_limits<double>::infinity());
  EXPECT_EQ(
      std::vector<double>(roc.thresholds.begin() + 1, roc.thresholds.end()),
      thresholds1);
}

void ExpectAtFp(const RocCurve& roc, const std::vector<double>& tp,
                const std::vector<double>& auc) {
  for (size_t i = 0; i < kFpRates.size(); ++i) {
    EXPECT_EQ(TpAtFalsePositiveRate(roc, kFpRates[i]), tp[i])
        << "fp rate " << kFpRates[i];
    EXPECT_EQ(AucAtFalsePositiveRate(roc, kFpRates[i]), auc[i])
        << "fp rate " << kFpRates[i];
  }
}

// ---- NumpySum

TEST(NumpySumTest, MatchesNumpyBlockingAndPairing) {
  // Values from NumPy 1.24: np.sum([1e16] + [1.0] * k).
  std::vector<double> v = {1e16, 1, 1, 1, 1, 1, 1};
  EXPECT_EQ(NumpySum(v), 1e16);  // n < 8: left to right, each +1 lost
  v.push_back(1);
  EXPECT_EQ(NumpySum(v), 1.0000000000000006e+16);  // 8 accumulators
  v.assign(8200, 1.0);
  v[0] = 1e16;
  // Two blocks (8192 + 8) added one after the other.
  EXPECT_EQ(NumpySum(v), 1.0000000000008184e+16);
  EXPECT_EQ(NumpySum(std::vector<double>()), 0.0);
  EXPECT_EQ(NumpySum(3, [](int64_t i) { return 0.5 * i; }), 1.5);
}

// ---- ROC, AUC, TP @ FP, AUC @ FP

// By hand (sklearn's documentation example): labels 0 0 1 1, scores 0.1 0.4
// 0.35 0.8. Descending: 0.8 (+), 0.4 (−), 0.35 (+), 0.1 (−): the points
// (fp, tp) are (0, 1), (1, 1), (1, 2), (2, 2), none collinear with both
// neighbours, so the curve is (0, 0), (0, .5), (.5, .5), (.5, 1), (1, 1). Its
// area is 0.5·0.5 + 0.5·1 = 0.75. TP @ 0.25% FP: fpr 0 at indices 0 and 1,
// the first is 0 → forced to 1: tpr 0.5. AUC @ 0.25% FP: the interpolated tpr
// is 0.5 on [0, 0.5), so the mean over the first 50 grid points
// (50/19999 ≈ 0.0025) is 0.5.
TEST(RocCurveTest, HandComputedCase) {
  const RocCurve roc = MustRoc({0, 0, 1, 1}, {0.1f, 0.4f, 0.35f, 0.8f});
  EXPECT_EQ(roc.fpr, (std::vector<double>{0, 0, 0.5, 0.5, 1}));
  EXPECT_EQ(roc.tpr, (std::vector<double>{0, 0.5, 0.5, 1, 1}));
  EXPECT_EQ(roc.num_positives, 2);
  EXPECT_EQ(roc.num_negatives, 2);
  EXPECT_EQ(Auc(roc), 0.75);
  EXPECT_EQ(TpAtFalsePositiveRate(roc, 0.0025), 0.5);
  EXPECT_EQ(AucAtFalsePositiveRate(roc, 0.0025), 0.5);
}

TEST(RocCurveTest, SklearnDocExample) {
  const RocCurve roc = MustRoc({0, 0, 1, 1}, {0.1f, 0.4f, 0.35f, 0.8f});
  ExpectFullCurve(roc, kDocFpr, kDocTpr, kDocThresholds1);
  EXPECT_EQ(Auc(roc), kDocAuc);
  ExpectAtFp(roc, kDocTpAtFp, kDocAucAtFp);
}

TEST(RocCurveTest, TiesAreOnePoint) {
  const RocCurve roc =
      MustRoc({1, 0, 1, 0, 1, 1, 0, 0, 1, 0},
              {0.5f, 0.5f, 0.5f, 0.2f, 0.2f, 0.9f, 0.9f, 0.1f, 0.7f, 0.3f});
  ExpectFullCurve(roc, kTiesFpr, kTiesTpr, kTiesThresholds1);
  EXPECT_EQ(Auc(roc), kTiesAuc);
  ExpectAtFp(roc, kTiesTpAtFp, kTiesAucAtFp);
}

TEST(RocCurveTest, CollinearPointsAreDropped) {
  const RocCurve roc = MustRoc({1, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0},
                               {12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1});
  ExpectFullCurve(roc, kRunsFpr, kRunsTpr, kRunsThresholds1);
  EXPECT_EQ(Auc(roc), kRunsAuc);
  ExpectAtFp(roc, kRunsTpAtFp, kRunsAucAtFp);
}

TEST(RocCurveTest, InputOrderDoesNotMatter) {
  // The Ties case reversed gives the same curve.
  std::vector<float> labels = {1, 0, 1, 0, 1, 1, 0, 0, 1, 0};
  std::vector<float> scores = {0.5f, 0.5f, 0.5f, 0.2f, 0.2f,
                               0.9f, 0.9f, 0.1f, 0.7f, 0.3f};
  std::reverse(labels.begin(), labels.end());
  std::reverse(scores.begin(), scores.end());
  const RocCurve roc = MustRoc(labels, scores);
  EXPECT_EQ(roc.fpr, kTiesFpr);
  EXPECT_EQ(roc.tpr, kTiesTpr);
}

TEST(RocCurveTest, TwoPointsAreNotPruned) {
  // One distinct score: a single threshold, so the curve is (0,0), (1,1).
  const RocCurve roc = MustRoc({0, 1, 1}, {0.3f, 0.3f, 0.3f});
  EXPECT_EQ(roc.fpr, (std::vector<double>{0, 1}));
  EXPECT_EQ(roc.tpr, (std::vector<double>{0, 1}));
  EXPECT_EQ(Auc(roc), 0.5);
  EXPECT_EQ(TpAtFalsePositiveRate(roc, 0.0025), 1.0);  // index forced to 1
}

TEST(RocCurveTest, PseudoRandom500) {
  std::vector<float> labels, scores;
  LcgSpikeCase(500, 42, &labels, &scores);
  const RocCurve roc = MustRoc(labels, scores);
  ASSERT_EQ(roc.fpr.size(), kLcg500Points);
  EXPECT_EQ(Sum(roc.fpr), kLcg500FprSum);
  EXPECT_EQ(Sum(roc.tpr), kLcg500TprSum);
  EXPECT_EQ(NumpySum(kLcg500Points - 1,
                     [&](int64_t i) { return roc.thresholds[i + 1]; }),
            kLcg500ThresholdSum1);
  EXPECT_EQ(std::vector<double>(roc.fpr.begin(), roc.fpr.begin() + 5),
            kLcg500Fpr5);
  EXPECT_EQ(std::vector<double>(roc.tpr.begin(), roc.tpr.begin() + 5),
            kLcg500Tpr5);
  EXPECT_EQ(Auc(roc), kLcg500Auc);
  ExpectAtFp(roc, kLcg500TpAtFp, kLcg500AucAtFp);
}

TEST(RocCurveTest, PseudoRandom20000) {
  std::vector<float> labels, scores;
  LcgSpikeCase(20000, 7, &labels, &scores);
  const RocCurve roc = MustRoc(labels, scores);
  ASSERT_EQ(roc.fpr.size(), kLcg20000Points);
  EXPECT_EQ(Sum(roc.fpr), kLcg20000FprSum);
  EXPECT_EQ(Sum(roc.tpr), kLcg20000TprSum);
  EXPECT_EQ(NumpySum(kLcg20000Points - 1,
                     [&](int64_t i) { return roc.thresholds[i + 1]; }),
            kLcg20000ThresholdSum1);
  EXPECT_EQ(std::vector<double>(roc.fpr.begin(), roc.fpr.begin() + 5),
            kLcg20000Fpr5);
  EXPECT_EQ(std::vector<double>(roc.tpr.begin(), roc.tpr.begin() + 5),
            kLcg20000Tpr5);
  EXPECT_EQ(Auc(roc), kLcg20000Auc);
  ExpectAtFp(roc, kLcg20000TpAtFp, kLcg20000AucAtFp);
}

TEST(RocCurveTest, Errors) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  struct Case {
    std::vector<float> labels, scores;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{0, 1}, {0.5f}, "2 labels but 1 scores"},
      {{}, {}, "no labels"},
      {{0, 2}, {0.1f, 0.2f}, "labels[1] = 2 is neither 0 nor 1"},
      {{0, 1}, {nan, 0.2f}, "scores[0] = nan is not finite"},
      {{0, 1}, {0.1f, inf}, "scores[1] = inf is not finite"},
      {{0, 0}, {0.1f, 0.2f}, "0 positive and 2 negative"},
      {{1, 1, 1}, {0.1f, 0.2f, 0.3f}, "3 positive and 0 negative"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<RocCurve> roc = RocCurveOf(c.labels, c.scores);
    ASSERT_FALSE(roc.ok()) << c.message;
    EXPECT_EQ(roc.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(roc.status().message().find(c.message), std::string::npos)
        << roc.status();
  }
}

TEST(AucDeathTest, NonMonotonicFprIsAProgrammerError) {
  RocCurve roc;
  roc.fpr = {0, 0.5, 0.2, 1};
  roc.tpr = {0, 0.5, 0.6, 1};
  EXPECT_DEATH(Auc(roc), "not monotonic");
}

TEST(AucTest, DecreasingFprIsNegated) {
  // sklearn.metrics.auc takes a non-increasing x as a reversed curve.
  RocCurve roc;
  roc.fpr = {1, 0.5, 0};
  roc.tpr = {1, 1, 0};
  EXPECT_EQ(Auc(roc), 0.5 * 1 + 0.5 * 0.5);
}

// ---- Soma metrics

TEST(SomaMetricsTest, SklearnValues) {
  struct Case {
    std::vector<double> y_true, y_pred;
    double ev, rmse, mae;
  };
  std::vector<Case> cases = {{{3.0, -0.5, 2.0, 7.0},
                              {2.5, 0.0, 2.0, 8.0},
                              kSomaSmallExplainedVariance,
                              kSomaSmallRmse,
                              kSomaSmallMae}};
  Case c500{{}, {}, kSoma500ExplainedVariance, kSoma500Rmse, kSoma500Mae};
  LcgSomaCase(500, 3, &c500.y_true, &c500.y_pred);
  cases.push_back(c500);
  Case c20000{
      {}, {}, kSoma20000ExplainedVariance, kSoma20000Rmse, kSoma20000Mae};
  LcgSomaCase(20000, 11, &c20000.y_true, &c20000.y_pred);
  cases.push_back(c20000);
  for (const Case& c : cases) {
    absl::StatusOr<SomaMetrics> m = SomaMetricsOf(c.y_true, c.y_pred);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->explained_variance, c.ev) << c.y_true.size();
    EXPECT_EQ(m->rmse, c.rmse) << c.y_true.size();
    EXPECT_EQ(m->mae, c.mae) << c.y_true.size();
  }
}

TEST(SomaMetricsTest, HandComputedAndDegenerateCases) {
  // y = 0 2, ŷ = 1 1: y − ŷ = −1 1 (variance 1), Var(y) = 1 → EV 0; MSE 1.
  absl::StatusOr<SomaMetrics> m = SomaMetricsOf({0, 2}, {1, 1});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->explained_variance, 0.0);
  EXPECT_EQ(m->rmse, 1.0);
  EXPECT_EQ(m->mae, 1.0);
  // A constant offset is fully explained: EV 1, RMSE = MAE = the offset.
  m = SomaMetricsOf({1, 2, 4}, {3, 4, 6});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->explained_variance, 1.0);
  EXPECT_EQ(m->rmse, 2.0);
  EXPECT_EQ(m->mae, 2.0);
  // Constant y, predictions not constant: sklearn's force_finite gives 0.
  m = SomaMetricsOf({5, 5}, {4, 6});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->explained_variance, 0.0);
}

TEST(SomaMetricsTest, Errors) {
  EXPECT_FALSE(SomaMetricsOf({1, 2}, {1}).ok());
  EXPECT_FALSE(SomaMetricsOf({}, {}).ok());
  absl::StatusOr<SomaMetrics> m =
      SomaMetricsOf({1, 2}, {1, std::numeric_limits<double>::quiet_NaN()});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("y_pred[1]"), std::string::npos)
      << m.status();
}

// ---- All metrics at once

TEST(ComputeNeuronioMetricsTest, CombinesTheParts) {
  std::vector<float> labels, scores;
  LcgSpikeCase(500, 42, &labels, &scores);
  std::vector<double> y_true, y_pred;
  LcgSomaCase(500, 3, &y_true, &y_pred);
  absl::StatusOr<NeuronioMetricsResult> r =
      ComputeNeuronioMetrics(labels, scores, y_true, y_pred, 5);
  ASSERT_TRUE(r.ok()) << r.status();
  const NeuronioMetrics& m = r->metrics;
  EXPECT_EQ(m.auc, kLcg500Auc);
  EXPECT_EQ(m.tp_at_0p25_fp, kLcg500TpAtFp[0]);
  EXPECT_EQ(m.tp_at_1_fp, kLcg500TpAtFp[1]);
  EXPECT_EQ(m.auc_at_0p25_fp, kLcg500AucAtFp[0]);
  EXPECT_EQ(m.auc_at_1_fp, kLcg500AucAtFp[1]);
  EXPECT_EQ(m.soma_explained_variance_percent,
            100.0 * kSoma500ExplainedVariance);
  EXPECT_EQ(m.soma_rmse_mv, kSoma500Rmse);
  EXPECT_EQ(m.soma_mae_mv, kSoma500Mae);
  EXPECT_EQ(m.num_simulations, 5);
  EXPECT_EQ(m.num_steps, 500);
  EXPECT_EQ(r->roc.fpr.size(), kLcg500Points);

  // Spike and soma arrays of different lengths.
  y_true.pop_back();
  y_pred.pop_back();
  EXPECT_FALSE(ComputeNeuronioMetrics(labels, scores, y_true, y_pred, 5).ok());
}

}  // namespace
}  // namespace elm
