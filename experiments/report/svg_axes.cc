// Number formatting, ticks and grids: FormatNumber, FormatTick, NiceStep,
// NiceTicks and LogTicks of svg_plot.h, and the axes of svg_axes.h.
#include "experiments/report/svg_axes.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "experiments/report/svg_plot.h"
#include "experiments/report/svg_util.h"
#include "glog/logging.h"

namespace elm {

std::string FormatNumber(double v) {
  if (v == 0) return "0";  // also -0
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return absl::StrFormat("%.4g", v);
}

std::string FormatTick(double v) {
  const double a = std::abs(v);
  if (std::isfinite(v) && a >= 1e4 && a < 1e12) {
    const char* suffix = "k";
    double scaled = v / 1e3;
    if (a >= 1e9) {
      suffix = "G";
      scaled = v / 1e9;
    } else if (a >= 1e6) {
      suffix = "M";
      scaled = v / 1e6;
    }
    return absl::StrCat(FormatNumber(scaled), suffix);
  }
  return FormatNumber(v);
}

double NiceStep(double lo, double hi, int target) {
  CHECK_GE(target, 1);
  if (!(hi > lo) || !std::isfinite(hi - lo)) return 1.0;
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  double m;
  if (norm < 1.5) {
    m = 1;
  } else if (norm < 3) {
    m = 2;
  } else if (norm < 7) {
    m = 5;
  } else {
    m = 10;
  }
  return m * mag;
}

std::vector<double> NiceTicks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi) return {};
  if (lo == hi) return {lo};
  const double step = NiceStep(lo, hi, target);
  const double k0 = std::ceil(lo / step - 1e-9);
  const double k1 = std::floor(hi / step + 1e-9);
  std::vector<double> ticks;
  for (double k = k0; k <= k1; ++k) {
    double v = k * step;
    if (std::abs(v) < step * 1e-9) v = 0;
    ticks.push_back(v);
  }
  return ticks;
}

std::vector<double> LogTicks(double lo, double hi) {
  if (!(lo > 0) || !(hi > lo) || !std::isfinite(hi)) return {};
  const double decades = std::log10(hi / lo);
  const int e0 = static_cast<int>(std::floor(std::log10(lo)));
  const int e1 = static_cast<int>(std::ceil(std::log10(hi)));
  const double tol = 1e-9;
  std::vector<double> ticks;
  if (decades < 2.5) {
    for (int e = e0; e <= e1; ++e) {
      for (const double m : {1.0, 2.0, 5.0}) {
        const double v = m * std::pow(10.0, e);
        if (v >= lo * (1 - tol) && v <= hi * (1 + tol)) ticks.push_back(v);
      }
    }
  } else {
    const int every = std::max(1, static_cast<int>(std::ceil(decades / 7)));
    for (int e = e0; e <= e1; ++e) {
      if (((e % every) + every) % every != 0) continue;
      const double v = std::pow(10.0, e);
      if (v >= lo * (1 - tol) && v <= hi * (1 + tol)) ticks.push_back(v);
    }
  }
  if (ticks.size() < 3) return NiceTicks(lo, hi, 4);
  return ticks;
}

namespace svg_internal {

bool DataRange(const std::vector<double>& v, bool log, double* lo, double* hi) {
  bool any = false;
  for (const double x : v) {
    if (!std::isfinite(x) || (log && x <= 0)) continue;
    if (!any) {
      *lo = *hi = x;
      any = true;
    } else {
      *lo = std::min(*lo, x);
      *hi = std::max(*hi, x);
    }
  }
  return any;
}

void WidenDegenerate(bool log, double* lo, double* hi) {
  if (*lo < *hi) return;
  if (log) {
    *lo /= 2;
    *hi *= 2;
  } else {
    const double d = *lo == 0 ? 1.0 : std::abs(*lo) * 0.1;
    *lo -= d;
    *hi += d;
  }
}

std::vector<double> AxisTicks(const Scale& s, int target) {
  return s.log ? LogTicks(s.lo, s.hi) : NiceTicks(s.lo, s.hi, target);
}

std::vector<std::string> TickLabels(const std::vector<double>& ticks) {
  std::vector<std::string> labels;
  labels.reserve(ticks.size());
  for (const double t : ticks) labels.push_back(FormatTick(t));
  return labels;
}

std::string XGrid(const Scale& sx, const std::vector<double>& ticks, double top,
                  double bottom, bool labels) {
  std::string grid;
  std::string text;
  for (const double t : ticks) {
    const double x = sx(t);
    absl::StrAppend(&grid, "M", Coord(x), " ", Coord(top), "V", Coord(bottom));
    if (labels) {
      absl::StrAppend(&text, Text(x, bottom + 16, FormatTick(t), "middle"));
    }
  }
  std::string out;
  if (!grid.empty()) {
    absl::StrAppend(&out, "<path d=\"", grid, "\" stroke=\"", kGridColor,
                    "\" stroke-width=\"1\"/>\n");
  }
  return out + text;
}

std::string YGrid(const Scale& sy, const std::vector<double>& ticks,
                  const std::vector<std::string>& labels, double left,
                  double right) {
  std::string grid;
  std::string text;
  for (size_t i = 0; i < ticks.size(); ++i) {
    const double y = sy(ticks[i]);
    absl::StrAppend(&grid, "M", Coord(left), " ", Coord(y), "H", Coord(right));
    absl::StrAppend(&text, Text(left - 6, y + 4, labels[i], "end"));
  }
  std::string out;
  if (!grid.empty()) {
    absl::StrAppend(&out, "<path d=\"", grid, "\" stroke=\"", kGridColor,
                    "\" stroke-width=\"1\"/>\n");
  }
  return out + text;
}

}  // namespace svg_internal
}  // namespace elm
