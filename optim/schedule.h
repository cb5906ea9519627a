// Learning-rate schedules: plain objects the trainer calls between epochs
// (or steps), each defined exactly as its torch.optim.lr_scheduler namesake.
//
// Use: rate = s.LearningRate() before the first epoch; after each epoch call
// s.Step(metric) (the metric is read only by ReduceOnPlateau) and write the
// returned rate with optim::SetLearningRate. For the closed-form schedules,
// after t Step calls the rate is LearningRateAt(t):
//   Constant      base
//   Step          base * gamma^floor(t / step_size)
//   MultiStep     base * gamma^(number of milestones <= t)
//   Exponential   base * gamma^t
//   Cosine        eta_min + (base - eta_min) * (1 + cos(pi * t / t_max)) / 2
//                 (CosineAnnealingLR's closed form; periodic past t_max)
// LinearWarmup(n, after, start_factor) is SequentialLR([LinearLR(start_factor,
// 1, total_iters=n), after], milestones=[n]): for t < n the rate is
// base * (start_factor + (1 - start_factor) * t / n) with base = after's
// first rate, then after's rate for t - n steps.
// ReduceOnPlateau is ReduceLROnPlateau (see PlateauOptions).
//
// State() is every number a schedule needs to continue exactly, and
// SerializeState()/RestoreFromString() turn it into one string for a
// checkpoint's metadata.
#ifndef STRATA_OPTIM_SCHEDULE_H_
#define STRATA_OPTIM_SCHEDULE_H_

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace strata::optim {

using ScheduleState = std::map<std::string, double>;

class Schedule {
 public:
  virtual ~Schedule() = default;

  // The rate for the coming epoch.
  virtual double LearningRate() const = 0;
  // Ends an epoch: advances and returns the new rate.
  virtual double Step(double metric = std::numeric_limits<double>::quiet_NaN()) = 0;
  // Completed Step calls.
  int64_t steps() const { return t_; }

  // InvalidArgument naming the schedule and the offending parameter.
  virtual absl::Status Validate() const = 0;
  // "cosine(base=0.1, t_max=100, eta_min=0)"
  virtual std::string Describe() const = 0;

  virtual ScheduleState State() const;
  // InvalidArgument naming a missing key; nothing changes then.
  virtual absl::Status Restore(const ScheduleState& state);

  // "key=value;key=value" with values to 17 significant digits (exact).
  std::string SerializeState() const;
  absl::Status RestoreFromString(absl::string_view serialized);

 protected:
  int64_t t_ = 0;
};

// Rates that depend only on the number of steps taken.
class ClosedFormSchedule : public Schedule {
 public:
  explicit ClosedFormSchedule(double base) : base_(base) {}
  virtual double LearningRateAt(int64_t t) const = 0;
  double LearningRate() const override { return LearningRateAt(t_); }
  double Step(double metric = std::numeric_limits<double>::quiet_NaN()) override;
  double base() const { return base_; }

 protected:
  absl::Status CheckBase(absl::string_view name) const;
  double base_;
};

class ConstantSchedule : public ClosedFormSchedule {
 public:
  explicit ConstantSchedule(double base) : ClosedFormSchedule(base) {}
  double LearningRateAt(int64_t t) const override { return base_; }
  absl::Status Validate() const override;
  std::string Describe() const override;
};

class StepSchedule : public ClosedFormSchedule {
 public:
  StepSchedule(double base, int64_t step_size, double gamma = 0.1)
      : ClosedFormSchedule(base), step_size_(step_size), gamma_(gamma) {}
  double LearningRateAt(int64_t t) const override;
  absl::Status Validate() const override;
  std::string Describe() const override;

 private:
  int64_t step_size_;
  double gamma_;
};

class MultiStepSchedule : public ClosedFormSchedule {
 public:
  // A milestone listed twice counts twice, as in PyTorch.
  MultiStepSchedule(double base, std::vector<int64_t> milestones, double gamma = 0.1);
  double LearningRateAt(int64_t t) const override;
  absl::Status Validate() const override;
  std::string Describe() const override;

 private:
  std::vector<int64_t> milestones_;  // sorted
  double gamma_;
};

class ExponentialSchedule : public ClosedFormSchedule {
 public:
  ExponentialSchedule(double base, double gamma) : ClosedFormSchedule(base), gamma_(gamma) {}
  double LearningRateAt(int64_t t) const override;
  absl::Status Validate() const override;
  std::string Describe() const override;

 private:
  double gamma_;
};

class CosineSchedule : public ClosedFormSchedule {
 public:
  CosineSchedule(double base, int64_t t_max, double eta_min = 0)
      : ClosedFormSchedule(base), t_max_(t_max), eta_min_(eta_min) {}
  double LearningRateAt(int64_t t) const override;
  absl::Status Validate() const override;
  std::string Describe() const override;

 private:
  int64_t t_max_;
  double eta_min_;
};

class LinearWarmup : public Schedule {
 public:
  // start_factor in (0, 1]; PyTorch's LinearLR defaults to 1/3.
  LinearWarmup(int64_t warmup_steps, std::unique_ptr<Schedule> after, double start_factor = 1.0 / 3);
  double LearningRate() const override;
  double Step(double metric = std::numeric_limits<double>::quiet_NaN()) override;
  absl::Status Validate() const override;
  std::string Describe() const override;
  // {"t"} and the wrapped schedule's keys prefixed with "after.".
  ScheduleState State() const override;
  absl::Status Restore(const ScheduleState& state) override;
  const Schedule& after() const { return *after_; }

 private:
  int64_t warmup_steps_;
  std::unique_ptr<Schedule> after_;
  double start_factor_;
  double base_;  // after's first rate
};

// torch.optim.lr_scheduler.ReduceLROnPlateau with one parameter group.
struct PlateauOptions {
  enum class Mode { kMin, kMax };
  enum class ThresholdMode { kRel, kAbs };
  Mode mode = Mode::kMin;
  double factor = 0.1;      // new rate = max(rate * factor, min_lr)
  int64_t patience = 10;    // bad epochs tolerated before reducing
  double threshold = 1e-4;  // what counts as better (see ReduceOnPlateau)
  ThresholdMode threshold_mode = ThresholdMode::kRel;
  int64_t cooldown = 0;     // epochs after a reduction during which bad epochs are not counted
  double min_lr = 0.0;
  double eps = 1e-8;        // reductions smaller than this are skipped
};

// Step(metric): a metric is better than the best so far when (min, rel)
// metric < best * (1 - threshold); (min, abs) metric < best - threshold;
// (max, rel) metric > best * (1 + threshold); (max, abs) metric > best +
// threshold. Better resets the bad-epoch count, otherwise it grows; during a
// cooldown the count is held at 0. When it exceeds patience the rate becomes
// max(rate * factor, min_lr) (if that lowers it by more than eps), the
// cooldown starts and the count resets. A NaN metric is never better.
class ReduceOnPlateau : public Schedule {
 public:
  ReduceOnPlateau(double base, PlateauOptions options = {});
  double LearningRate() const override { return lr_; }
  double Step(double metric) override;
  absl::Status Validate() const override;
  std::string Describe() const override;
  // {"t", "lr", "best", "num_bad_epochs", "cooldown_counter"}
  ScheduleState State() const override;
  absl::Status Restore(const ScheduleState& state) override;

  double best() const { return best_; }
  int64_t num_bad_epochs() const { return num_bad_epochs_; }

 private:
  bool IsBetter(double metric) const;

  double base_;
  PlateauOptions options_;
  double lr_;
  double best_;
  int64_t num_bad_epochs_ = 0;
  int64_t cooldown_counter_ = 0;
};

// Builds and validates a schedule from a flag value: "kind[:key=value,...]".
//   constant
//   step:step_size=30,gamma=0.1
//   multistep:milestones=30/60/90,gamma=0.1
//   exponential:gamma=0.95
//   cosine:t_max=100,eta_min=0
//   plateau:mode=min,factor=0.1,patience=10,threshold=1e-4,threshold_mode=rel,cooldown=0,min_lr=0
// Any kind also takes warmup_steps=N (and warmup_start_factor=F), which
// wraps it in LinearWarmup. InvalidArgument naming the bad part.
absl::StatusOr<std::unique_ptr<Schedule>> ParseSchedule(absl::string_view spec, double base_lr);

}  // namespace strata::optim

#endif  // STRATA_OPTIM_SCHEDULE_H_
