// Learning-rate schedules stepped once per batch: a constant rate, or
// PyTorch 1.13's CosineAnnealingLR in its recursive (chainable) form, either
// one optionally multiplied by a linear warmup factor. The cosine reproduces
// torch's get_lr() exactly, including its special branch when
// (t - 1 - T_max) % (2 T_max) == 0 and its behaviour past T_max, where the rate
// climbs back up towards base_lr (period 2 T_max). The warmup factor rises
// linearly from warmup_start_factor at step 0 to 1 at step warmup_steps and
// stays 1 (torch's LinearLR with end_factor 1, in closed form); it multiplies
// the inner schedule's rate, and the cosine's recursion runs on its own
// un-warmed rate. Build one from an LrScheduleConfig, which is validated with a
// Status naming the bad field.
//
// Example (the same order as PyTorch: read the rate, take the optimizer step,
// then step the schedule):
//   ASSIGN_OR_RETURN(LrSchedule schedule, LrSchedule::Create(config));
//   for (...) {
//     optimizer->set_lr(schedule.lr());
//     optimizer->Step(...);
//     schedule.Step();
//   }
#ifndef ELM_AUTODIFF_LR_SCHEDULE_H_
#define ELM_AUTODIFF_LR_SCHEDULE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace elm {

enum class LrScheduleKind { kConstant, kCosine };

// "constant" or "cosine".
absl::string_view LrScheduleKindName(LrScheduleKind kind);
// The inverse of LrScheduleKindName (case-sensitive); InvalidArgument
// otherwise.
absl::StatusOr<LrScheduleKind> ParseLrScheduleKind(absl::string_view name);

struct LrScheduleConfig {
  LrScheduleKind kind = LrScheduleKind::kConstant;
  // The rate at step 0 before warmup (the optimizer's lr in PyTorch); finite
  // and >= 0.
  double base_lr = 1e-3;
  // kCosine: half period in steps (T_max), >= 1.
  int64_t t_max = 1;
  // kCosine: the lowest rate (eta_min), finite and >= 0.
  double eta_min = 0.0;
  // Linear warmup over this many steps; 0 disables it. >= 0.
  int64_t warmup_steps = 0;
  // The warmup factor at step 0, in (0, 1].
  double warmup_start_factor = 1.0 / 3.0;
};

// OK, or InvalidArgument naming the first bad field, e.g.
// "lr schedule config: t_max = 0; expected >= 1".
absl::Status ValidateLrScheduleConfig(const LrScheduleConfig& config);

class LrSchedule {
 public:
  // Validates `config` and returns the schedule at step 0.
  static absl::StatusOr<LrSchedule> Create(const LrScheduleConfig& config);

  // The rate for the current step.
  double lr() const;
  // Advances to the next step (torch's scheduler.step()).
  void Step();
  // Number of Step() calls so far (torch's last_epoch).
  int64_t step_count() const { return step_; }
  // The warmup factor for the current step (1 after warmup or without it).
  double warmup_factor() const;
  // The inner schedule's rate for the current step, before the warmup factor.
  double inner_lr() const { return inner_lr_; }

  const LrScheduleConfig& config() const { return config_; }

 private:
  explicit LrSchedule(const LrScheduleConfig& config);

  LrScheduleConfig config_;
  int64_t step_ = 0;
  double inner_lr_;
};

}  // namespace elm

#endif  // ELM_AUTODIFF_LR_SCHEDULE_H_
