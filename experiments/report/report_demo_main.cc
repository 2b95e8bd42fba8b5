// A demo report from synthetic data, for looking at the figures and the page
// styling without training anything: loss, learning-rate and accuracy curves,
// a ROC curve (linear and log false-positive rate), a NeuronIO trace window
// and confusion matrices, written to the path given as the only argument.
//
//   bazel run //experiments/report:report_demo -- /tmp/demo/report.html
//   tools/check_report.sh /tmp/demo/report.html
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/rng.h"
#include "experiments/report/report.h"
#include "experiments/report/svg_plot.h"

namespace elm {
namespace {

std::string LossFigure(Rng& rng) {
  const int steps = 60000, per_epoch = 5000;
  PlotSeries raw, smooth, valid;
  raw.name = "train (per step)";
  raw.opacity = 0.3;
  raw.width = 1;
  smooth.name = "train (smoothed)";
  valid.name = "validation (per epoch)";
  valid.markers = true;
  for (int i = 0; i < steps; ++i) {
    raw.x.push_back(i);
    raw.y.push_back(0.08 + 0.6 * std::exp(-i / 8000.0) +
                    0.05 * std::abs(rng.Normal()));
  }
  raw.y[31234] = std::nan("");  // a diverged step
  smooth.x = raw.x;
  smooth.y = SmoothEma(raw.y, 0.01);
  for (int e = 1; e <= steps / per_epoch; ++e) {
    valid.x.push_back(e * per_epoch);
    valid.y.push_back(0.11 + 0.6 * std::exp(-e * per_epoch / 8000.0));
  }
  smooth.color = "#1f77b4";
  raw.color = "#1f77b4";
  valid.color = "#ff7f0e";
  LinePlot plot;
  plot.title = "Loss";
  plot.x_label = "training step";
  plot.y_label = "loss (0.5·BCE + 0.5·MSE)";
  plot.log_y = true;
  plot.series = {raw, smooth, valid};
  return RenderLinePlot(plot);
}

std::string LrFigure() {
  LinePlot plot;
  plot.title = "Learning rate";
  plot.x_label = "training step";
  plot.y_label = "learning rate";
  PlotSeries lr;
  lr.name = "cosine annealing, 1000 warm-up steps";
  for (int i = 0; i < 60000; i += 10) {
    lr.x.push_back(i);
    const double warm = std::min(1.0, i / 1000.0);
    lr.y.push_back(warm * 5e-4 * 0.5 * (1 + std::cos(M_PI * i / 60000.0)));
  }
  plot.series = {lr};
  return RenderLinePlot(plot);
}

std::string AccuracyFigure() {
  LinePlot plot;
  plot.title = "Accuracy";
  plot.x_label = "epoch";
  plot.y_label = "accuracy";
  plot.y_min = 0;
  plot.y_max = 1;
  PlotSeries train, valid;
  train.name = "train";
  valid.name = "validation";
  train.markers = valid.markers = true;
  for (int e = 1; e <= 30; ++e) {
    train.x.push_back(e);
    valid.x.push_back(e);
    train.y.push_back(0.95 - 0.8 * std::exp(-e / 5.0));
    valid.y.push_back(0.88 - 0.75 * std::exp(-e / 5.0));
  }
  plot.series = {train, valid};
  return RenderLinePlot(plot);
}

// A ROC curve from scores: positives ~ N(2, 1), negatives ~ N(0, 1).
void Roc(Rng& rng, std::vector<double>* fpr, std::vector<double>* tpr,
         double* auc) {
  const int neg = 100000, pos = 800;
  std::vector<std::pair<double, int>> scored;
  for (int i = 0; i < neg; ++i) scored.push_back({rng.Normal(), 0});
  for (int i = 0; i < pos; ++i) scored.push_back({2.5 + rng.Normal(), 1});
  std::sort(scored.begin(), scored.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  double tp = 0, fp = 0, area = 0;
  fpr->push_back(0);
  tpr->push_back(0);
  for (const auto& [score, label] : scored) {
    if (label) {
      ++tp;
    } else {
      ++fp;
      area += tp / pos;
    }
    fpr->push_back(fp / neg);
    tpr->push_back(tp / pos);
  }
  *auc = area / neg;
}

std::string TraceFigure(Rng& rng) {
  TracePlot t;
  t.title = "Test simulation 17, 2000-5000 ms";
  t.start_step = 2000;
  const int steps = 3000;
  double v = -72, rate_e = 0.002;
  for (int s = t.start_step; s < t.start_step + steps; ++s) {
    if (s % 300 == 0) rate_e = 0.001 + 0.004 * rng.Uniform();
    for (int ch = 0; ch < 1278; ++ch) {
      const double rate = ch < 639 ? rate_e : 0.6 * rate_e;
      if (rng.Uniform() < rate) t.raster.emplace_back(s, ch);
    }
    const double v_rest = -74 + 4500 * (rate_e - 0.001);
    v += 0.05 * (v_rest - v) + 0.6 * rng.Normal();
    bool spike = v > -56;
    if (spike) {
      t.spike_steps.push_back(s);
      t.soma_true_mv.push_back(-55);
      v = -75;
    } else {
      t.soma_true_mv.push_back(static_cast<float>(v));
    }
    t.soma_pred_mv.push_back(
        static_cast<float>(t.soma_true_mv.back() + 0.8 * rng.Normal()));
    const double p = spike ? 0.7 : 1 / (1 + std::exp(-(v + 58) * 1.5));
    t.spike_prob.push_back(static_cast<float>(p));
  }
  return RenderTracePlot(t);
}

int Main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: report_demo <out.html>\n");
    return 2;
  }
  Rng rng(17);
  ReportContent c;
  c.title = "Demo: branch_dm15 on generated NeuronIO";
  c.subtitle =
      "synthetic data · Branch-ELM d_m = 15, 5,247 parameters · 12 epochs · "
      "60,000 steps · 41 min on 2 threads";
  std::vector<double> fpr, tpr;
  double auc = 0;
  Roc(rng, &fpr, &tpr, &auc);
  c.summary = {{"test spike AUC", absl::StrFormat("%.4f", auc)},
               {"test soma RMSE (mV)", "1.423"},
               {"best validation loss", "0.1127 (epoch 11)"},
               {"parameters", "5,247"},
               {"train time", "41 min"}};
  c.figures.push_back(
      {"Training loss per step (faint), smoothed, and "
       "validation loss per epoch; one NaN step leaves a gap.",
       LossFigure(rng)});
  c.figures.push_back({"Learning rate per step.", LrFigure()});
  c.figures.push_back(
      {absl::StrFormat("Spike ROC on the test set (AUC %.4f), %d thresholds.",
                       auc, fpr.size()),
       RenderLinePlot(RocPlot(fpr, tpr, "Spike ROC", false))});
  c.figures.push_back(
      {"The same ROC with a log false-positive rate.",
       RenderLinePlot(
           RocPlot(fpr, tpr, "Spike ROC, low-FPR region", true, 1e-5))});
  c.figures.push_back(
      {"Input raster, soma voltage and spike probability on a test window.",
       TraceFigure(rng), true});
  c.figures.push_back({"Accuracy per epoch.", AccuracyFigure()});
  ConfusionMatrixPlot cm;
  cm.title = "Fashion-MNIST test set";
  cm.num_classes = 10;
  cm.class_names = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                    "Coat",        "Sandal",    "Shirt",    "Sneaker",
                    "Bag",         "Ankle boot"};
  for (int t = 0; t < 10; ++t) {
    for (int p = 0; p < 10; ++p) {
      cm.counts.push_back(
          t == p ? 800 + 15 * t
                 : static_cast<int64_t>(30 * rng.Uniform() *
                                        (std::abs(t - p) <= 2 ? 2 : 0.3)));
    }
  }
  c.figures.push_back({"Confusion matrix (colour: fraction of the true class).",
                       RenderConfusionMatrixPlot(cm)});
  ConfusionMatrixPlot shd;
  shd.title = "SHD test set (20 classes)";
  shd.num_classes = 20;
  for (int t = 0; t < 20; ++t) {
    for (int p = 0; p < 20; ++p) {
      shd.counts.push_back(
          t == p ? 100
                 : static_cast<int64_t>(10 * rng.Uniform() * rng.Uniform()));
    }
  }
  c.figures.push_back({"20 classes: counts are in each cell's tooltip.",
                       RenderConfusionMatrixPlot(shd)});
  ReportTable per_class;
  per_class.caption = "Per-class accuracy";
  per_class.header = {"class", "accuracy", "samples"};
  for (int i = 0; i < 10; ++i) {
    per_class.rows.push_back({cm.class_names[i],
                              absl::StrFormat("%.2f%%", 80.0 + i * 1.7),
                              "1,000"});
  }
  ReportTable epochs;
  epochs.caption = "Metrics per epoch";
  epochs.header = {"epoch", "train loss", "valid loss", "valid AUC", "time"};
  for (int e = 1; e <= 12; ++e) {
    epochs.rows.push_back({absl::StrCat(e),
                           absl::StrFormat("%.4f", 0.1 + 0.5 / e),
                           absl::StrFormat("%.4f", 0.11 + 0.5 / e),
                           absl::StrFormat("%.4f", 0.99 - 0.2 / e), "3m 25s"});
  }
  c.tables = {per_class, epochs};
  c.spec_text =
      "name: \"branch_dm15\"\n"
      "dataset {\n  neuronio {\n    generate { files: 8 simulations: 128 }\n"
      "    window_ms: 500\n  }\n}\n"
      "model { num_input: 1278 num_output: 2 num_memory: 15 "
      "input_to_synapse_routing: \"neuronio_routing\" }\n"
      "train { epochs: 12 batch_size: 8 lr: 5e-4 schedule: COSINE }\n"
      "# a comment with <angle brackets> & ampersands\n";
  c.footer = "written by //experiments/report:report_demo";
  const absl::Status status = WriteReportHtml(argv[1], c);
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", std::string(status.message()).c_str());
    return 1;
  }
  std::printf("%s\n", argv[1]);
  return 0;
}

}  // namespace
}  // namespace elm

int main(int argc, char** argv) { return elm::Main(argc, argv); }
