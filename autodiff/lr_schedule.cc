// Implementation of the learning-rate schedules in lr_schedule.h. The cosine
// step copies torch.optim.lr_scheduler.CosineAnnealingLR.get_lr() of
// PyTorch 1.13, expression by expression, so that the recursion rounds exactly
// as torch's does.
#include "autodiff/lr_schedule.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace elm {
namespace {

// Python's math.pi.
constexpr double kPi = 3.141592653589793;

absl::Status FieldError(absl::string_view field, double value,
                        absl::string_view expected) {
  return absl::InvalidArgumentError(absl::StrCat(
      "lr schedule config: ", field, " = ", value, "; expected ", expected));
}

// torch's CosineAnnealingLR.get_lr() for last_epoch = `epoch` >= 1, given the
// rate `lr` of epoch - 1 (group['lr']).
double CosineNext(int64_t epoch, double lr, double base_lr, double eta_min,
                  int64_t t_max) {
  const double t = static_cast<double>(t_max);
  if ((epoch - 1 - t_max) % (2 * t_max) == 0) {
    return lr + (base_lr - eta_min) * (1.0 - std::cos(kPi / t)) / 2.0;
  }
  return (1.0 + std::cos(kPi * static_cast<double>(epoch) / t)) /
             (1.0 + std::cos(kPi * static_cast<double>(epoch - 1) / t)) *
             (lr - eta_min) +
         eta_min;
}

}  // namespace

absl::string_view LrScheduleKindName(LrScheduleKind kind) {
  switch (kind) {
    case LrScheduleKind::kConstant:
      return "constant";
    case LrScheduleKind::kCosine:
      return "cosine";
  }
  return "unknown";
}

absl::StatusOr<LrScheduleKind> ParseLrScheduleKind(absl::string_view name) {
  for (LrScheduleKind kind :
       {LrScheduleKind::kConstant, LrScheduleKind::kCosine}) {
    if (name == LrScheduleKindName(kind)) return kind;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "lr schedule config: kind = '", name, "'; expected constant or cosine"));
}

absl::Status ValidateLrScheduleConfig(const LrScheduleConfig& config) {
  if (config.kind != LrScheduleKind::kConstant &&
      config.kind != LrScheduleKind::kCosine) {
    return absl::InvalidArgumentError(absl::StrCat(
        "lr schedule config: kind = ", static_cast<int>(config.kind),
        "; expected a known kind"));
  }
  if (!(std::isfinite(config.base_lr) && config.base_lr >= 0.0)) {
    return FieldError("base_lr", config.base_lr, "a finite value >= 0");
  }
  if (config.kind == LrScheduleKind::kCosine) {
    if (config.t_max < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "lr schedule config: t_max = ", config.t_max, "; expected >= 1"));
    }
    if (!(std::isfinite(config.eta_min) && config.eta_min >= 0.0)) {
      return FieldError("eta_min", config.eta_min, "a finite value >= 0");
    }
  }
  if (config.warmup_steps < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("lr schedule config: warmup_steps = ", config.warmup_steps,
                     "; expected >= 0"));
  }
  if (config.warmup_steps > 0 && !(config.warmup_start_factor > 0.0 &&
                                   config.warmup_start_factor <= 1.0)) {
    return FieldError("warmup_start_factor", config.warmup_start_factor,
                      "a value in (0, 1]");
  }
  return absl::OkStatus();
}

absl::StatusOr<LrSchedule> LrSchedule::Create(const LrScheduleConfig& config) {
  if (absl::Status status = ValidateLrScheduleConfig(config); !status.ok()) {
    return status;
  }
  return LrSchedule(config);
}

LrSchedule::LrSchedule(const LrScheduleConfig& config)
    : config_(config), inner_lr_(config.base_lr) {}

double LrSchedule::warmup_factor() const {
  if (step_ >= config_.warmup_steps) return 1.0;
  const double start = config_.warmup_start_factor;
  return start + (1.0 - start) * static_cast<double>(step_) /
                     static_cast<double>(config_.warmup_steps);
}

double LrSchedule::lr() const { return inner_lr_ * warmup_factor(); }

void LrSchedule::Step() {
  ++step_;
  if (config_.kind == LrScheduleKind::kCosine) {
    inner_lr_ = CosineNext(step_, inner_lr_, config_.base_lr, config_.eta_min,
                           config_.t_max);
  }
}

}  // namespace elm
