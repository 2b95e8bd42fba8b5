// NeuronIO-style generator: inputs with the NeuronIO input statistics, a
// nonlinear branched teacher neuron, LIF / ALIF teachers, and the reader's
// training sampler (NeuronioSampler) over in-memory files, built from a
// NeuronioSpec's `generate`.
//
// Inputs (per simulation; trees: basal segments [0, num_basal), apical the
// rest; channel c < S is segment c's excitatory synapse, S + c its inhibitory):
//   interval I = U[25, 450] + U[-20, 20] ms (>= 1), sigma = U[25, 600] +
//   U[-20, 20] ms (>= 1); per tree, piecewise-constant total rates redrawn
//   every I ms, on pieces that start 4·sigma + I before 0 and end as far past
//   the end, so smoothing has no edge effects:
//     E_k = U[0, 800], H_k = max(0, E_k + U[-600, 200])  (spikes / 100 ms /
//     tree)
//   smoothed exactly: r(t) = sum_k (E_k - E_{k-1}) Phi((t - b_k) / sigma)
//   (b_k the piece boundaries, Phi the normal CDF); per segment s of tree T:
//     w_s = len_s / sum_{T} len · f_s,  f_s = U[0.5, 1.5]
//   so sum_s w_s ≈ 1 and the tree total is kept on average; then per 1 ms bin
//   spike with probability min(1, r(t) / 100 · w_s).
// Segment lengths (µm): exp(ln 20 + 0.5 z), z standard normal from Rng(0x5E6),
//   clipped to [2, 120] (median 20 µm, mean ≈ 23 µm); the same every call.
//
// Branched teacher (conductances in units of the leak conductance; branch b
// holds segments [b·n, (b+1)·n) of one tree, n = segments_per_branch = 20, so
// 14 basal and 19 apical branches, the last of each tree shorter):
//   tau_b dV_b/dt = -(V_b - E_L) - g_A (V_b - E_E) - g_N B(V_b) (V_b - E_E)
//                   - g_G (V_b - E_I) - c_b (V_b - V_s)
//   B(V) = 1 / (1 + [Mg]/3.57 · exp(-0.062 V))        (Jahr & Stevens Mg block)
//   dg_X/dt = -g_X / tau_X, g_X += w_X per input spike on the branch
//                                (X = A: AMPA, N: NMDA excitatory; G: GABA_A)
//   tau_s dV_s/dt = -(V_s - E_L) - c_s sum_b (V_s - V_b) - g_K (V_s - E_K)
//   dg_K/dt = -g_K / tau_K; on V_s >= V_th: spike, V_s = V_reset, g_K += a,
//   V_s held at V_reset for t_ref.
// Parameters (BranchedTeacherOptions defaults): E_L -75, E_E 0, E_I -80,
//   E_K -85 mV; tau_b 10, tau_s 15, tau_A 2, tau_N 60, tau_G 8, tau_K 150 ms;
//   w_A 0.1, w_N 0.35, w_G 0.12, [Mg] 1 mM; c_s 0.03 (soma side, per
//   branch; the branch-to-soma attenuation), c_b 0.3 (branch side); V_th -55,
//   V_reset -62, trace peak +20 mV, t_ref 3 ms, a 0.3. The weights were tuned
//   so that the default inputs give about 2 Hz (1.95 Hz over 128 simulations
//   of 6 s, seed 1) with the NMDA plateaus carrying most of the drive.
// Integration: exponential Euler, substeps_per_ms (2) substeps per ms, every
// conductance decayed exactly, the NMDA block and the coupling taken at the
// start of the substep. Input spikes of step t arrive at time t. The trace
// sample k is V_s at time k, except that a sample whose preceding ms held a
// spike reads the peak (+20 mV); that spike's time is k + 0.5 (so its target
// step int(t - 0.5) is k), and a spike in the last ms is dropped.
//
// LIF / ALIF teachers: dI/dt = -I / tau_syn, I += w_exc per excitatory spike,
// I -= w_inh per inhibitory one; tau_m dV/dt = -(V - E_L) + I; spike when
// V >= V_th + A (A = 0 for LIF; ALIF: A += adapt_increment per spike,
// dA/dt = -A / tau_adapt); reset to V_reset, refractory t_ref. Same 1 ms
// integration and recording as above (exact exponential steps of 1 ms).
#include "data/neuronio_generator.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/rng.h"
#include "base/status_macros.h"

namespace elm {
namespace {

absl::Status Bad(const std::string& field, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat("NeuronioGeneratorOptions.", field, " ", what));
}

absl::Status CheckRange(const std::string& field, double lo, double hi) {
  if (!(lo <= hi) || !std::isfinite(lo) || !std::isfinite(hi)) {
    return Bad(field, absl::StrCat("range [", lo, ", ", hi, "] is empty"));
  }
  return absl::OkStatus();
}

absl::Status CheckPositive(const std::string& field, double v) {
  if (!(v > 0) || !std::isfinite(v)) {
    return Bad(field, absl::StrCat("must be > 0, got ", v));
  }
  return absl::OkStatus();
}

int NumSegments(const NeuronioGeneratorOptions& o) {
  return o.input.num_basal + o.input.num_apical;
}

// Fills channel_begin / channel_times from step_begin / step_channels.
void BuildChannelIndex(NeuronioSimulation* sim) {
  const int channels = sim->input_dim();
  sim->channel_begin.assign(channels + 1, 0);
  for (int32_t c : sim->step_channels) ++sim->channel_begin[c + 1];
  for (int c = 0; c < channels; ++c) {
    sim->channel_begin[c + 1] += sim->channel_begin[c];
  }
  sim->channel_times.resize(sim->step_channels.size());
  std::vector<int64_t> fill(sim->channel_begin.begin(),
                            sim->channel_begin.end() - 1);
  for (int64_t t = 0; t < sim->duration_ms; ++t) {
    for (int64_t k = sim->step_begin[t]; k < sim->step_begin[t + 1]; ++k) {
      sim->channel_times[fill[sim->step_channels[k]]++] =
          static_cast<int32_t>(t);
    }
  }
}

// Records the sample `k` of a teacher and its spike (if `spiked` in the ms
// before it).
void Record(int64_t k, double v, bool spiked, double v_peak,
            NeuronioSimulation* sim) {
  if (spiked) {
    sim->soma_mv[k] = static_cast<float>(v_peak);
    sim->output_spike_times_ms.push_back(k + 0.5);
    sim->output_spike_steps.push_back(k);
  } else {
    sim->soma_mv[k] = static_cast<float>(v);
  }
}

void RunBranched(const BranchedTeacherOptions& p, int num_basal,
                 NeuronioSimulation* sim) {
  const int segments = sim->num_segments;
  const int n = p.segments_per_branch;
  std::vector<int> branch_of(segments);
  int branches = 0;
  for (int tree = 0; tree < 2; ++tree) {
    const int lo = tree == 0 ? 0 : num_basal;
    const int hi = tree == 0 ? num_basal : segments;
    for (int s = lo; s < hi; ++s) branch_of[s] = branches + (s - lo) / n;
    branches += (hi - lo + n - 1) / n;
  }
  std::vector<double> vb(branches, p.e_leak_mv), ga(branches, 0),
      gn(branches, 0), gg(branches, 0);
  const double dt = 1.0 / p.substeps_per_ms;
  const double da = std::exp(-dt / p.tau_ampa_ms);
  const double dn = std::exp(-dt / p.tau_nmda_ms);
  const double dg = std::exp(-dt / p.tau_gaba_ms);
  const double dk = std::exp(-dt / p.tau_adapt_ms);
  const double mg = p.mg_mm / 3.57;
  double vs = p.e_leak_mv, gk = 0, refractory_left = 0;
  const int64_t duration = sim->duration_ms;
  sim->soma_mv.assign(duration, 0);
  sim->output_spike_times_ms.clear();
  sim->output_spike_steps.clear();
  bool spiked = false;
  for (int64_t t = 0; t < duration; ++t) {
    Record(t, vs, spiked, p.v_peak_mv, sim);
    spiked = false;
    for (int32_t c : sim->StepChannels(t)) {
      if (c < segments) {
        const int b = branch_of[c];
        ga[b] += p.w_ampa;
        gn[b] += p.w_nmda;
      } else {
        gg[branch_of[c - segments]] += p.w_gaba;
      }
    }
    for (int sub = 0; sub < p.substeps_per_ms; ++sub) {
      double sum_vb = 0;
      for (int b = 0; b < branches; ++b) sum_vb += vb[b];
      const double vs_old = vs;
      for (int b = 0; b < branches; ++b) {
        const double v = vb[b];
        const double gnb = gn[b] / (1.0 + mg * std::exp(-0.062 * v));
        const double g = 1.0 + ga[b] + gnb + gg[b] + p.soma_to_branch;
        const double vinf = (p.e_leak_mv + (ga[b] + gnb) * p.e_exc_mv +
                             gg[b] * p.e_inh_mv + p.soma_to_branch * vs_old) /
                            g;
        vb[b] = vinf + (v - vinf) * std::exp(-dt * g / p.tau_branch_ms);
        ga[b] *= da;
        gn[b] *= dn;
        gg[b] *= dg;
      }
      if (refractory_left > 0) {
        refractory_left -= dt;
        vs = p.v_reset_mv;
      } else {
        const double cs = p.branch_to_soma;
        const double g = 1.0 + cs * branches + gk;
        const double vinf = (p.e_leak_mv + cs * sum_vb + gk * p.e_k_mv) / g;
        vs = vinf + (vs - vinf) * std::exp(-dt * g / p.tau_soma_ms);
        if (vs >= p.v_threshold_mv) {
          spiked = true;
          vs = p.v_reset_mv;
          gk += p.adapt_increment;
          refractory_left = p.refractory_ms;
        }
      }
      gk *= dk;
    }
  }
  // A spike in the last ms has no sample to hold its peak: dropped.
}

void RunPoint(const PointTeacherOptions& p, bool adaptive,
              NeuronioSimulation* sim) {
  const int segments = sim->num_segments;
  const int64_t duration = sim->duration_ms;
  const double ds = std::exp(-1.0 / p.tau_syn_ms);
  const double dm = std::exp(-1.0 / p.tau_m_ms);
  const double da = std::exp(-1.0 / p.tau_adapt_ms);
  // Exact 1 ms step of tau_m dV/dt = -(V - E_L) + I with I decaying with
  // tau_syn over the step: V' = E_L + (V - E_L) dm + I · k.
  const double k = std::abs(p.tau_syn_ms - p.tau_m_ms) < 1e-9
                       ? dm / p.tau_m_ms
                       : p.tau_syn_ms / (p.tau_syn_ms - p.tau_m_ms) * (ds - dm);
  sim->soma_mv.assign(duration, 0);
  sim->output_spike_times_ms.clear();
  sim->output_spike_steps.clear();
  double v = p.e_leak_mv, current = 0, adapt = 0, refractory_left = 0;
  bool spiked = false;
  for (int64_t t = 0; t < duration; ++t) {
    Record(t, v, spiked, p.v_peak_mv, sim);
    spiked = false;
    for (int32_t c : sim->StepChannels(t)) {
      current += c < segments ? p.w_exc_mv : -p.w_inh_mv;
    }
    if (refractory_left > 0) {
      refractory_left -= 1;
      v = p.v_reset_mv;
    } else {
      v = p.e_leak_mv + (v - p.e_leak_mv) * dm + current * k;
      if (v >= p.v_threshold_mv + adapt) {
        spiked = true;
        v = p.v_reset_mv;
        refractory_left = p.refractory_ms;
        if (adaptive) adapt += p.adapt_increment_mv;
      }
    }
    current *= ds;
    adapt *= da;
  }
}

// Standard normal CDF.
double Phi(double x) { return 0.5 * std::erfc(-x * 0.70710678118654752); }

}  // namespace

absl::Status CheckGeneratedDataSize(int64_t files, int64_t simulations,
                                    int64_t duration_ms,
                                    absl::string_view prefix) {
  if (simulations > kMaxGeneratedSimulations) {
    return absl::InvalidArgumentError(absl::StrCat(
        prefix, "simulations_per_file = ", simulations, "; expected at most ",
        kMaxGeneratedSimulations, " (generated data is held in memory)"));
  }
  if (duration_ms > kMaxGeneratedDurationMs) {
    return absl::InvalidArgumentError(absl::StrCat(
        prefix, "duration_ms = ", duration_ms, "; expected at most ",
        kMaxGeneratedDurationMs, " (generated data is held in memory)"));
  }
  // Both at most 1e6: no overflow.
  const int64_t per_file = simulations * duration_ms;
  if (per_file > kMaxGeneratedFileMs) {
    return absl::InvalidArgumentError(absl::StrCat(
        prefix, "simulations_per_file · duration_ms = ", simulations, " · ",
        duration_ms, " = ", per_file,
        " simulated ms per file; expected at most ", kMaxGeneratedFileMs,
        " (generated data is held in memory)"));
  }
  if (files > 0 && per_file > kMaxGeneratedDataMs / files) {
    return absl::InvalidArgumentError(absl::StrCat(
        prefix, "files · simulations_per_file · duration_ms = ", files, " · ",
        simulations, " · ", duration_ms, " simulated ms; expected at most ",
        kMaxGeneratedDataMs,
        " (about 5 GB: generated data is held in memory)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateNeuronioGeneratorOptions(
    const NeuronioGeneratorOptions& o) {
  if (o.num_simulations <= 0) {
    return Bad("num_simulations",
               absl::StrCat("must be > 0, got ", o.num_simulations));
  }
  if (o.duration_ms <= 0) {
    return Bad("duration_ms", absl::StrCat("must be > 0, got ", o.duration_ms));
  }
  RETURN_IF_ERROR(CheckGeneratedDataSize(1, o.num_simulations, o.duration_ms,
                                         "NeuronioGeneratorOptions."));
  const NeuronioInputOptions& in = o.input;
  if (in.num_basal <= 0 || in.num_apical <= 0) {
    return Bad("input.num_basal/num_apical",
               absl::StrCat("must be > 0, got ", in.num_basal, " and ",
                            in.num_apical));
  }
  for (const auto& [field, lo, hi] :
       std::vector<std::tuple<std::string, double, double>>{
           {"input.interval_min_ms/interval_max_ms", in.interval_min_ms,
            in.interval_max_ms},
           {"input.sigma_min_ms/sigma_max_ms", in.sigma_min_ms,
            in.sigma_max_ms},
           {"input.inh_delta_min_per_100ms/inh_delta_max_per_100ms",
            in.inh_delta_min_per_100ms, in.inh_delta_max_per_100ms},
           {"input.segment_factor_lo/segment_factor_hi", in.segment_factor_lo,
            in.segment_factor_hi}}) {
    absl::Status s = CheckRange(field, lo, hi);
    if (!s.ok()) return s;
  }
  if (in.interval_min_ms <= 0) {
    return Bad("input.interval_min_ms",
               absl::StrCat("must be > 0, got ", in.interval_min_ms));
  }
  if (in.sigma_min_ms <= 0) {
    return Bad("input.sigma_min_ms",
               absl::StrCat("must be > 0, got ", in.sigma_min_ms));
  }
  if (in.interval_jitter_ms < 0 || in.sigma_jitter_ms < 0 ||
      in.exc_max_per_100ms < 0 || in.segment_factor_lo < 0) {
    return Bad("input",
               "interval_jitter_ms, sigma_jitter_ms, exc_max_per_100ms and "
               "segment_factor_lo must be >= 0");
  }
  const BranchedTeacherOptions& b = o.branched;
  if (b.segments_per_branch <= 0) {
    return Bad("branched.segments_per_branch",
               absl::StrCat("must be > 0, got ", b.segments_per_branch));
  }
  if (b.substeps_per_ms <= 0) {
    return Bad("branched.substeps_per_ms",
               absl::StrCat("must be > 0, got ", b.substeps_per_ms));
  }
  for (const auto& [field, v] : std::vector<std::pair<std::string, double>>{
           {"branched.tau_branch_ms", b.tau_branch_ms},
           {"branched.tau_soma_ms", b.tau_soma_ms},
           {"branched.tau_ampa_ms", b.tau_ampa_ms},
           {"branched.tau_nmda_ms", b.tau_nmda_ms},
           {"branched.tau_gaba_ms", b.tau_gaba_ms},
           {"branched.tau_adapt_ms", b.tau_adapt_ms},
           {"point.tau_m_ms", o.point.tau_m_ms},
           {"point.tau_syn_ms", o.point.tau_syn_ms},
           {"point.tau_adapt_ms", o.point.tau_adapt_ms}}) {
    absl::Status s = CheckPositive(field, v);
    if (!s.ok()) return s;
  }
  for (const auto& [field, v] : std::vector<std::pair<std::string, double>>{
           {"branched.w_ampa", b.w_ampa},
           {"branched.w_nmda", b.w_nmda},
           {"branched.w_gaba", b.w_gaba},
           {"branched.mg_mm", b.mg_mm},
           {"branched.branch_to_soma", b.branch_to_soma},
           {"branched.soma_to_branch", b.soma_to_branch},
           {"branched.adapt_increment", b.adapt_increment},
           {"branched.refractory_ms", b.refractory_ms},
           {"point.refractory_ms", o.point.refractory_ms}}) {
    if (!(v >= 0) || !std::isfinite(v)) {
      return Bad(field, absl::StrCat("must be >= 0, got ", v));
    }
  }
  if (!(b.v_reset_mv < b.v_threshold_mv)) {
    return Bad("branched.v_reset_mv", "must be below v_threshold_mv");
  }
  if (!(o.point.v_reset_mv < o.point.v_threshold_mv)) {
    return Bad("point.v_reset_mv", "must be below v_threshold_mv");
  }
  return absl::OkStatus();
}

std::vector<double> NeuronioSegmentLengths(const NeuronioInputOptions& input) {
  Rng rng(0x5E6);
  std::vector<double> len(input.num_basal + input.num_apical);
  for (double& l : len) {
    l = std::clamp(std::exp(std::log(20.0) + 0.5 * rng.Normal()), 2.0, 120.0);
  }
  return len;
}

NeuronioSimulation GenerateNeuronioInputs(const NeuronioGeneratorOptions& opt,
                                          Rng& rng, NeuronioInputDraw* draw) {
  const NeuronioInputOptions& in = opt.input;
  const int segments = NumSegments(opt);
  const int64_t duration = opt.duration_ms;
  NeuronioInputDraw local;
  NeuronioInputDraw& d = draw != nullptr ? *draw : local;
  d = NeuronioInputDraw();
  d.interval_ms = std::max(
      1.0, rng.Uniform(in.interval_min_ms, in.interval_max_ms) +
               rng.Uniform(-in.interval_jitter_ms, in.interval_jitter_ms));
  d.sigma_ms =
      std::max(1.0, rng.Uniform(in.sigma_min_ms, in.sigma_max_ms) +
                        rng.Uniform(-in.sigma_jitter_ms, in.sigma_jitter_ms));
  const double pad = 4 * d.sigma_ms + d.interval_ms;
  const int pieces =
      static_cast<int>(std::ceil((duration + 2 * pad) / d.interval_ms));
  for (RatePieces& tree : d.trees) {
    for (int k = 0; k <= pieces; ++k) {
      tree.begin_ms.push_back(-pad + k * d.interval_ms);
    }
    for (int k = 0; k < pieces; ++k) {
      const double e = rng.Uniform(0, in.exc_max_per_100ms);
      const double h =
          std::max(0.0, e + rng.Uniform(in.inh_delta_min_per_100ms,
                                        in.inh_delta_max_per_100ms));
      tree.rate_exc.push_back(e);
      tree.rate_inh.push_back(h);
    }
  }
  // Per-channel weights: len / tree length · U[lo, hi].
  const std::vector<double> len = NeuronioSegmentLengths(in);
  double tree_len[2] = {0, 0};
  for (int s = 0; s < segments; ++s)
    tree_len[s < in.num_basal ? 0 : 1] += len[s];
  d.segment_factor.resize(segments);
  std::vector<double> weight(segments);
  for (int s = 0; s < segments; ++s) {
    d.segment_factor[s] =
        rng.Uniform(in.segment_factor_lo, in.segment_factor_hi);
    weight[s] = len[s] / tree_len[s < in.num_basal ? 0 : 1] *
                d.segment_factor[s] / 100.0;
  }
  // Exact Gaussian smoothing of the step functions; all four series share
  // the boundaries. Boundaries more than 8 sigma behind t count fully.
  const double cut = 8 * d.sigma_ms;
  const std::vector<double>& b = d.trees[0].begin_ms;
  for (int tree = 0; tree < 2; ++tree) {
    d.smoothed_exc[tree].assign(duration, 0);
    d.smoothed_inh[tree].assign(duration, 0);
  }
  double full[4] = {0, 0, 0, 0};  // sums of steps fully passed
  int first = 0;                  // first boundary not yet fully passed
  auto step = [&](int series, int k) {
    const RatePieces& p = d.trees[series / 2];
    const std::vector<double>& r = series % 2 == 0 ? p.rate_exc : p.rate_inh;
    return r[k] - (k > 0 ? r[k - 1] : 0.0);
  };
  for (int64_t t = 0; t < duration; ++t) {
    while (first < pieces && b[first] < t - cut) {
      for (int s = 0; s < 4; ++s) full[s] += step(s, first);
      ++first;
    }
    double acc[4] = {full[0], full[1], full[2], full[3]};
    for (int k = first; k < pieces && b[k] <= t + cut; ++k) {
      const double phi = Phi((t - b[k]) / d.sigma_ms);
      for (int s = 0; s < 4; ++s) acc[s] += step(s, k) * phi;
    }
    d.smoothed_exc[0][t] = acc[0];
    d.smoothed_inh[0][t] = acc[1];
    d.smoothed_exc[1][t] = acc[2];
    d.smoothed_inh[1][t] = acc[3];
  }
  // Bernoulli spikes per 1 ms bin, channels ascending per step.
  NeuronioSimulation sim;
  sim.num_segments = segments;
  sim.duration_ms = duration;
  sim.step_begin.reserve(duration + 1);
  sim.step_begin.push_back(0);
  for (int64_t t = 0; t < duration; ++t) {
    for (int inh = 0; inh < 2; ++inh) {
      for (int s = 0; s < segments; ++s) {
        const int tree = s < in.num_basal ? 0 : 1;
        const double rate =
            inh ? d.smoothed_inh[tree][t] : d.smoothed_exc[tree][t];
        if (rng.Uniform() < rate * weight[s]) {
          sim.step_channels.push_back(inh * segments + s);
        }
      }
    }
    sim.step_begin.push_back(static_cast<int64_t>(sim.step_channels.size()));
  }
  BuildChannelIndex(&sim);
  return sim;
}

void RunNeuronioTeacher(const NeuronioGeneratorOptions& opt,
                        NeuronioSimulation* sim) {
  switch (opt.teacher) {
    case NeuronioTeacher::kBranched:
      RunBranched(opt.branched,
                  std::min(opt.input.num_basal, sim->num_segments), sim);
      break;
    case NeuronioTeacher::kLif:
      RunPoint(opt.point, /*adaptive=*/false, sim);
      break;
    case NeuronioTeacher::kAlif:
      RunPoint(opt.point, /*adaptive=*/true, sim);
      break;
  }
}

NeuronioSimulation MakeNeuronioInputSimulation(
    int num_segments, int64_t duration_ms,
    std::vector<std::pair<int64_t, int32_t>> spikes) {
  std::sort(spikes.begin(), spikes.end());
  spikes.erase(std::unique(spikes.begin(), spikes.end()), spikes.end());
  NeuronioSimulation sim;
  sim.num_segments = num_segments;
  sim.duration_ms = duration_ms;
  sim.step_begin.assign(duration_ms + 1, 0);
  for (const auto& [t, c] : spikes) {
    if (t < 0 || t >= duration_ms || c < 0 || c >= 2 * num_segments) continue;
    ++sim.step_begin[t + 1];
    sim.step_channels.push_back(c);
  }
  for (int64_t t = 0; t < duration_ms; ++t) {
    sim.step_begin[t + 1] += sim.step_begin[t];
  }
  BuildChannelIndex(&sim);
  return sim;
}

absl::StatusOr<NeuronioFile> GenerateNeuronioFile(
    const NeuronioGeneratorOptions& options, uint64_t seed) {
  absl::Status status = ValidateNeuronioGeneratorOptions(options);
  if (!status.ok()) return status;
  NeuronioFile file;
  file.path = absl::StrCat("<generated seed ", seed, ">");
  NeuronioParams& p = file.params;
  p.segment_types.assign(options.input.num_basal, "basal");
  p.segment_types.resize(NumSegments(options), "apical");
  p.duration_ms = options.duration_ms;
  p.random_seed = static_cast<int64_t>(seed & 0x7FFFFFFFFFFFFFFFull);
  switch (options.teacher) {
    case NeuronioTeacher::kBranched:
      p.excitatory_synapse_type = "NMDA";
      p.inhibitory_synapse_type = "GABA_A";
      break;
    case NeuronioTeacher::kLif:
    case NeuronioTeacher::kAlif:
      p.excitatory_synapse_type = "current";
      p.inhibitory_synapse_type = "current";
      break;
  }
  file.simulations.reserve(options.num_simulations);
  for (int i = 0; i < options.num_simulations; ++i) {
    Rng rng(MixSeeds(seed, static_cast<uint64_t>(i)));
    file.simulations.push_back(GenerateNeuronioInputs(options, rng));
    RunNeuronioTeacher(options, &file.simulations.back());
  }
  return file;
}

// ---- GeneratedNeuronioDataset ----

absl::StatusOr<std::unique_ptr<GeneratedNeuronioDataset>>
GeneratedNeuronioDataset::Create(const NeuronioSpec& spec,
                                 std::vector<NeuronioFile> train,
                                 std::vector<NeuronioFile> valid,
                                 std::vector<NeuronioFile> test,
                                 uint64_t seed) {
  absl::Status status = ValidateNeuronioSpec(spec);
  if (!status.ok()) return status;
  std::unique_ptr<GeneratedNeuronioDataset> d(new GeneratedNeuronioDataset);
  std::vector<NeuronioFile>* splits[3] = {&train, &valid, &test};
  for (int s = 0; s < 3; ++s) {
    for (const NeuronioFile& f : *splits[s]) {
      if (f.params.num_segments() != kNeuronioNumSegments) {
        return absl::InvalidArgumentError(absl::StrCat(
            f.path, ": ", f.params.num_segments(),
            " segments; NeuronIO inputs need ", kNeuronioNumSegments));
      }
      if (f.simulations.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(f.path, ": no simulations"));
      }
      if (int64_t{spec.window_ms()} + spec.ignore_start_ms() >=
          f.params.duration_ms) {
        return absl::InvalidArgumentError(absl::StrCat(
            f.path,
            ": NeuronioSpec.window_ms + ignore_start_ms must be below "
            "the duration ",
            f.params.duration_ms, " ms"));
      }
    }
    d->files_[s] = std::make_shared<const std::vector<NeuronioFile>>(
        std::move(*splits[s]));
  }
  d->spec_ = spec;
  d->seed_ = seed;
  d->info_.name = "neuronio";
  d->info_.input_dim = kNeuronioInputDim;
  d->info_.steps = spec.window_ms();
  d->info_.num_classes = 0;
  d->info_.delta_t_ms = 1.0;
  return d;
}

absl::StatusOr<std::unique_ptr<BatchSampler>>
GeneratedNeuronioDataset::MakeSampler(Split split, int batch_size,
                                      uint64_t seed) const {
  const std::shared_ptr<const std::vector<NeuronioFile>>& f =
      files_[static_cast<int>(split)];
  if (f->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no generated files for split '", SplitName(split), "'"));
  }
  if (batch_size <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("NeuronIO batch_size must be > 0, got ", batch_size));
  }
  for (const NeuronioFile& file : *f) {
    if (static_cast<int64_t>(file.simulations.size()) < batch_size) {
      return absl::InvalidArgumentError(
          absl::StrCat(file.path, ": ", file.simulations.size(),
                       " simulations, fewer than the batch size ", batch_size));
    }
  }
  // Each loaded file shares ownership of its split's files.
  NeuronioFileLoader loader =
      [f](int index) -> absl::StatusOr<std::shared_ptr<const NeuronioFile>> {
    return std::shared_ptr<const NeuronioFile>(f, &(*f)[index]);
  };
  return std::unique_ptr<BatchSampler>(std::make_unique<NeuronioSampler>(
      static_cast<int>(f->size()), std::move(loader), spec_, batch_size,
      NeuronioSamplerSeed(seed_, seed)));
}

NeuronioGeneratorOptions NeuronioGeneratorOptionsFromSpec(
    const NeuronioGeneratorSpec& spec) {
  NeuronioGeneratorOptions o;
  o.num_simulations = spec.simulations_per_file();
  o.duration_ms = spec.duration_ms();
  switch (spec.teacher()) {
    case NeuronioGeneratorSpec::BRANCHED:
      o.teacher = NeuronioTeacher::kBranched;
      break;
    case NeuronioGeneratorSpec::LIF:
      o.teacher = NeuronioTeacher::kLif;
      break;
    case NeuronioGeneratorSpec::ALIF:
      o.teacher = NeuronioTeacher::kAlif;
      break;
  }
  return o;
}

uint64_t NeuronioGeneratedFileSeed(uint64_t seed, Split split, int index) {
  return MixSeeds(MixSeeds(seed, static_cast<uint64_t>(split)),
                  static_cast<uint64_t>(index));
}

absl::StatusOr<std::unique_ptr<GeneratedNeuronioDataset>>
MakeGeneratedNeuronioDataset(const NeuronioSpec& spec, uint64_t seed) {
  if (!spec.has_generate()) {
    return absl::InvalidArgumentError(
        "NeuronioSpec.generate is not set: nothing to generate");
  }
  const google::protobuf::RepeatedPtrField<std::string>* lists[3] = {
      &spec.train_files(), &spec.valid_files(), &spec.test_files()};
  const char* list_names[3] = {"train_files", "valid_files", "test_files"};
  for (int s = 0; s < 3; ++s) {
    if (!lists[s]->empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "NeuronioSpec.", list_names[s], " and NeuronioSpec.generate are ",
          "both set: generated data takes no files (clear ", list_names[s],
          " or remove generate)"));
    }
  }
  absl::Status status = ValidateNeuronioSpec(spec);
  if (!status.ok()) return status;
  const NeuronioGeneratorSpec& g = spec.generate();
  const int counts[3] = {g.num_train_files(), g.num_valid_files(),
                         g.num_test_files()};
  const char* count_names[3] = {"num_train_files", "num_valid_files",
                                "num_test_files"};
  for (int s = 0; s < 3; ++s) {
    if (counts[s] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("NeuronioSpec.generate.", count_names[s],
                       " must be >= 0, got ", counts[s]));
    }
  }
  if (g.simulations_per_file() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("NeuronioSpec.generate.simulations_per_file must be > 0, "
                     "got ",
                     g.simulations_per_file()));
  }
  if (g.duration_ms() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("NeuronioSpec.generate.duration_ms must be > 0, got ",
                     g.duration_ms()));
  }
  RETURN_IF_ERROR(CheckGeneratedDataSize(
      int64_t{counts[0]} + counts[1] + counts[2], g.simulations_per_file(),
      g.duration_ms(), "NeuronioSpec.generate."));
  if (int64_t{spec.window_ms()} + spec.ignore_start_ms() >= g.duration_ms()) {
    return absl::InvalidArgumentError(
        absl::StrCat("NeuronioSpec.window_ms (", spec.window_ms(),
                     ") + ignore_start_ms (", spec.ignore_start_ms(),
                     ") must be below NeuronioSpec.generate.duration_ms (",
                     g.duration_ms(), ")"));
  }
  const NeuronioGeneratorOptions options = NeuronioGeneratorOptionsFromSpec(g);
  // Files are independent (each from its own seed): generate them on all
  // cores; each lands in its own slot, so the result does not depend on the
  // thread count.
  std::vector<std::pair<int, int>> jobs;  // (split, index)
  for (int s = 0; s < 3; ++s) {
    for (int i = 0; i < counts[s]; ++i) jobs.emplace_back(s, i);
  }
  std::vector<absl::StatusOr<NeuronioFile>> results(
      jobs.size(), absl::UnknownError("not generated"));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t j = next++; j < jobs.size(); j = next++) {
      const Split split = static_cast<Split>(jobs[j].first);
      results[j] = GenerateNeuronioFile(
          options, NeuronioGeneratedFileSeed(seed, split, jobs[j].second));
      if (results[j].ok()) {
        results[j]->path = absl::StrCat("<generated ", SplitName(split),
                                        " file ", jobs[j].second, ">");
      }
    }
  };
  const size_t num_threads = std::min<size_t>(
      jobs.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  for (size_t t = 1; t < num_threads; ++t) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  std::vector<NeuronioFile> files[3];
  for (size_t j = 0; j < jobs.size(); ++j) {
    if (!results[j].ok()) return results[j].status();
    files[jobs[j].first].push_back(*std::move(results[j]));
  }
  return GeneratedNeuronioDataset::Create(spec, std::move(files[0]),
                                          std::move(files[1]),
                                          std::move(files[2]), seed);
}

}  // namespace elm
