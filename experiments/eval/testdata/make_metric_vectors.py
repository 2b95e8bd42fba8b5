#!/usr/bin/python3
"""Expected values for experiments/eval/neuronio_metrics_test.cc, from sklearn.

This script is NOT run by Bazel. It computes, with an independent
implementation (Debian's scikit-learn and NumPy), the numbers that
neuronio_metrics_test.cc checks the C++ metrics against, and prints them as C++
literals to paste into the test:

  * sklearn.metrics.roc_curve (defaults: drop_intermediate=True) and
    sklearn.metrics.auc on a few small arrays (a hand-checkable case, ties,
    a case where collinear points are dropped);
  * the ELM reference's `calc_TP_at_desired_FP` and `calc_AUC_at_desired_FP`
    (src/neuronio/neuronio_eval_utils.py, AaronSpieler/elmneuron), written out
    here again in NumPy: tpr at argmin |fpr - f| (index forced >= 1), and the
    mean of np.interp(np.linspace(0, 1, 20000), fpr, tpr) over the grid points
    below the one nearest f;
  * sklearn's explained_variance_score, mean_squared_error (-> RMSE) and
    mean_absolute_error;
  * the same on pseudo-random arrays of 500 and 20,000 elements drawn from a
    64-bit LCG (Knuth's MMIX constants) that the C++ test implements too, so
    both languages see bit-identical inputs (integer arithmetic, then exact or
    IEEE-rounded conversions that are the same in both).

Usage (Debian: apt-get install -y python3-sklearn python3-numpy):

  /usr/bin/python3 experiments/eval/testdata/make_metric_vectors.py

Printed with sklearn 1.2.1 / NumPy 1.24.2 for the values in the test. Note that
sklearn 1.2 puts max(score) + 1 as the first threshold where sklearn >= 1.3
(and the C++ code) put +inf; the script prints thresholds[1:] only.
"""

import numpy as np
import sklearn
from sklearn.metrics import auc, explained_variance_score, roc_curve
from sklearn.metrics import mean_absolute_error, mean_squared_error

MASK64 = (1 << 64) - 1


class Lcg:
    """x <- x * 6364136223846793005 + 1442695040888963407 (mod 2^64)."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next24(self):
        """The top 24 bits of the next state, an integer in [0, 2^24)."""
        self.state = (self.state * 6364136223846793005 +
                      1442695040888963407) & MASK64
        return self.state >> 40


def lcg_spike_case(n, seed):
    """Labels 0/1 and float32 scores k/4096 (ties likely), label 1 with
    probability ~ (k/4096)^2, decided with integers only."""
    rng = Lcg(seed)
    labels = np.zeros(n, dtype=np.float32)
    scores = np.zeros(n, dtype=np.float32)
    for i in range(n):
        k = rng.next24() % 4096
        u = rng.next24() % 4096
        scores[i] = np.float32(k) / np.float32(4096)  # exact
        labels[i] = 1.0 if u < (k * k) // 4096 else 0.0
    return labels, scores


def lcg_soma_case(n, seed):
    """y_true uniform in [-5, 15), y_pred = 0.8 * y_true + noise in
    [-1.5, 1.5), all in float64 with the same operations as the C++ test."""
    rng = Lcg(seed)
    y_true = np.zeros(n)
    y_pred = np.zeros(n)
    for i in range(n):
        a = rng.next24() / 16777216.0
        b = rng.next24() / 16777216.0
        y_true[i] = a * 20.0 - 5.0
        y_pred[i] = y_true[i] * 0.8 + (b - 0.5) * 3.0
    return y_true, y_pred


def tp_at_fp(fpr, tpr, f):
    ind = np.argmin(abs(fpr - f))
    if ind == 0:
        ind = 1
    return tpr[ind]


def auc_at_fp(fpr, tpr, f):
    grid = np.linspace(0, 1, num=20000)
    grid_tpr = np.interp(grid, fpr, tpr)
    ind = min(max(1, np.argmin(abs(grid - f))), grid_tpr.shape[0] - 1)
    return grid_tpr[:ind].mean()


def lit(x):
    return repr(float(x))


def arr(v):
    return "{" + ", ".join(lit(x) for x in v) + "}"


FP_RATES = [0.0025, 0.01, 0.1, 0.5]


def spike_case(name, labels, scores, full_curve):
    labels = np.asarray(labels, dtype=np.float32)
    scores = np.asarray(scores, dtype=np.float32)
    fpr, tpr, thr = roc_curve(labels, scores)
    print(f"// {name}: {len(labels)} samples, {int(labels.sum())} positive")
    print(f"constexpr int k{name}Points = {len(fpr)};")
    if full_curve:
        print(f"const std::vector<double> k{name}Fpr = {arr(fpr)};")
        print(f"const std::vector<double> k{name}Tpr = {arr(tpr)};")
        print(f"const std::vector<double> k{name}Thresholds1 = {arr(thr[1:])};")
    else:
        print(f"constexpr double k{name}FprSum = {lit(np.sum(fpr))};")
        print(f"constexpr double k{name}TprSum = {lit(np.sum(tpr))};")
        print(f"constexpr double k{name}ThresholdSum1 = "
              f"{lit(np.sum(thr[1:].astype(np.float64)))};")
        print(f"const std::vector<double> k{name}Fpr5 = {arr(fpr[:5])};")
        print(f"const std::vector<double> k{name}Tpr5 = {arr(tpr[:5])};")
    print(f"constexpr double k{name}Auc = {lit(auc(fpr, tpr))};")
    print(f"// TP @ FP and AUC @ FP for FP rates {FP_RATES}")
    print(f"const std::vector<double> k{name}TpAtFp = "
          f"{arr([tp_at_fp(fpr, tpr, f) for f in FP_RATES])};")
    print(f"const std::vector<double> k{name}AucAtFp = "
          f"{arr([auc_at_fp(fpr, tpr, f) for f in FP_RATES])};")
    print()


def soma_case(name, y_true, y_pred):
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    print(f"// {name}: {len(y_true)} values")
    print(f"constexpr double k{name}ExplainedVariance = "
          f"{lit(explained_variance_score(y_true, y_pred))};")
    print(f"constexpr double k{name}Rmse = "
          f"{lit(np.sqrt(mean_squared_error(y_true, y_pred)))};")
    print(f"constexpr double k{name}Mae = "
          f"{lit(mean_absolute_error(y_true, y_pred))};")
    print()


def main():
    print(f"// sklearn {sklearn.__version__}, numpy {np.__version__}")
    print()
    # sklearn's documentation example; AUC 0.75 by hand.
    spike_case("Doc", [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], True)
    # Tied scores across both classes.
    spike_case("Ties", [1, 0, 1, 0, 1, 1, 0, 0, 1, 0],
               [0.5, 0.5, 0.5, 0.2, 0.2, 0.9, 0.9, 0.1, 0.7, 0.3], True)
    # Runs of one class: collinear points are dropped.
    spike_case("Runs", [1, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0],
               [12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1], True)
    labels, scores = lcg_spike_case(500, 42)
    spike_case("Lcg500", labels, scores, False)
    labels, scores = lcg_spike_case(20000, 7)
    spike_case("Lcg20000", labels, scores, False)

    soma_case("SomaSmall", [3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0])
    y_true, y_pred = lcg_soma_case(500, 3)
    soma_case("Soma500", y_true, y_pred)
    y_true, y_pred = lcg_soma_case(20000, 11)
    soma_case("Soma20000", y_true, y_pred)


if __name__ == "__main__":
    main()
