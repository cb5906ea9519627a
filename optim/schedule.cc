#include "optim/schedule.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "graph/status_macros.h"

namespace strata::optim {
namespace {

constexpr double kPi = 3.14159265358979323846;

absl::Status Invalid(absl::string_view schedule, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(schedule, " schedule: ", message));
}

absl::StatusOr<double> Get(const ScheduleState& state, const std::string& key) {
  auto it = state.find(key);
  if (it == state.end()) return absl::InvalidArgumentError(absl::StrCat("schedule state has no '", key, "'"));
  return it->second;
}

absl::StatusOr<int64_t> GetCount(const ScheduleState& state, const std::string& key) {
  STRATA_ASSIGN_OR_RETURN(double v, Get(state, key));
  if (!(v >= 0) || v != std::floor(v)) {
    return absl::InvalidArgumentError(absl::StrCat("schedule state '", key, "' = ", v, " is not a count"));
  }
  return static_cast<int64_t>(v);
}

std::string Num(double v) { return absl::StrFormat("%.17g", v); }

}  // namespace

// ---------------------------------------------------------------------------
// Schedule

ScheduleState Schedule::State() const { return {{"t", static_cast<double>(t_)}}; }

absl::Status Schedule::Restore(const ScheduleState& state) {
  STRATA_ASSIGN_OR_RETURN(t_, GetCount(state, "t"));
  return absl::OkStatus();
}

std::string Schedule::SerializeState() const {
  std::vector<std::string> parts;
  for (const auto& [key, value] : State()) parts.push_back(absl::StrCat(key, "=", Num(value)));
  return absl::StrJoin(parts, ";");
}

absl::Status Schedule::RestoreFromString(absl::string_view serialized) {
  ScheduleState state;
  for (absl::string_view part : absl::StrSplit(serialized, ';', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    double value;
    if (kv.first.empty() || !absl::SimpleAtod(kv.second, &value)) {
      return absl::InvalidArgumentError(absl::StrCat("bad schedule state entry '", part, "' in '", serialized, "'"));
    }
    state[std::string(kv.first)] = value;
  }
  return Restore(state);
}

// ---------------------------------------------------------------------------
// Closed forms

double ClosedFormSchedule::Step(double) {
  ++t_;
  return LearningRate();
}

absl::Status ClosedFormSchedule::CheckBase(absl::string_view name) const {
  if (std::isfinite(base_) && base_ >= 0) return absl::OkStatus();
  return Invalid(name, absl::StrCat("the base rate (", base_, ") must be finite and >= 0"));
}

absl::Status ConstantSchedule::Validate() const { return CheckBase("constant"); }
std::string ConstantSchedule::Describe() const { return absl::StrCat("constant(base=", base_, ")"); }

double StepSchedule::LearningRateAt(int64_t t) const {
  return base_ * std::pow(gamma_, static_cast<double>(t / step_size_));
}

absl::Status StepSchedule::Validate() const {
  STRATA_RETURN_IF_ERROR(CheckBase("step"));
  if (step_size_ < 1) return Invalid("step", absl::StrCat("step_size (", step_size_, ") must be >= 1"));
  if (!std::isfinite(gamma_) || gamma_ < 0) return Invalid("step", absl::StrCat("gamma (", gamma_, ") must be >= 0"));
  return absl::OkStatus();
}

std::string StepSchedule::Describe() const {
  return absl::StrCat("step(base=", base_, ", step_size=", step_size_, ", gamma=", gamma_, ")");
}

MultiStepSchedule::MultiStepSchedule(double base, std::vector<int64_t> milestones, double gamma)
    : ClosedFormSchedule(base), milestones_(std::move(milestones)), gamma_(gamma) {
  std::sort(milestones_.begin(), milestones_.end());
}

double MultiStepSchedule::LearningRateAt(int64_t t) const {
  const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), t) - milestones_.begin();
  return base_ * std::pow(gamma_, static_cast<double>(passed));
}

absl::Status MultiStepSchedule::Validate() const {
  STRATA_RETURN_IF_ERROR(CheckBase("multistep"));
  if (!std::isfinite(gamma_) || gamma_ < 0) {
    return Invalid("multistep", absl::StrCat("gamma (", gamma_, ") must be >= 0"));
  }
  for (int64_t m : milestones_) {
    if (m < 0) return Invalid("multistep", absl::StrCat("milestone ", m, " must be >= 0"));
  }
  return absl::OkStatus();
}

std::string MultiStepSchedule::Describe() const {
  return absl::StrCat("multistep(base=", base_, ", milestones=", absl::StrJoin(milestones_, "/"), ", gamma=", gamma_,
                      ")");
}

double ExponentialSchedule::LearningRateAt(int64_t t) const {
  return base_ * std::pow(gamma_, static_cast<double>(t));
}

absl::Status ExponentialSchedule::Validate() const {
  STRATA_RETURN_IF_ERROR(CheckBase("exponential"));
  if (!std::isfinite(gamma_) || gamma_ < 0) {
    return Invalid("exponential", absl::StrCat("gamma (", gamma_, ") must be >= 0"));
  }
  return absl::OkStatus();
}

std::string ExponentialSchedule::Describe() const {
  return absl::StrCat("exponential(base=", base_, ", gamma=", gamma_, ")");
}

double CosineSchedule::LearningRateAt(int64_t t) const {
  return eta_min_ + (base_ - eta_min_) * (1 + std::cos(kPi * static_cast<double>(t) / t_max_)) / 2;
}

absl::Status CosineSchedule::Validate() const {
  STRATA_RETURN_IF_ERROR(CheckBase("cosine"));
  if (t_max_ < 1) return Invalid("cosine", absl::StrCat("t_max (", t_max_, ") must be >= 1"));
  if (!std::isfinite(eta_min_) || eta_min_ < 0) {
    return Invalid("cosine", absl::StrCat("eta_min (", eta_min_, ") must be >= 0"));
  }
  return absl::OkStatus();
}

std::string CosineSchedule::Describe() const {
  return absl::StrCat("cosine(base=", base_, ", t_max=", t_max_, ", eta_min=", eta_min_, ")");
}

// ---------------------------------------------------------------------------
// LinearWarmup

LinearWarmup::LinearWarmup(int64_t warmup_steps, std::unique_ptr<Schedule> after, double start_factor)
    : warmup_steps_(warmup_steps),
      after_(std::move(after)),
      start_factor_(start_factor),
      base_(after_ ? after_->LearningRate() : 0) {}

double LinearWarmup::LearningRate() const {
  if (t_ >= warmup_steps_) return after_->LearningRate();
  return base_ * (start_factor_ + (1 - start_factor_) * static_cast<double>(t_) / warmup_steps_);
}

double LinearWarmup::Step(double metric) {
  ++t_;
  if (t_ > warmup_steps_) after_->Step(metric);
  return LearningRate();
}

absl::Status LinearWarmup::Validate() const {
  if (after_ == nullptr) return Invalid("warmup", "no schedule to continue with");
  if (warmup_steps_ < 1) return Invalid("warmup", absl::StrCat("warmup_steps (", warmup_steps_, ") must be >= 1"));
  if (!(start_factor_ > 0 && start_factor_ <= 1)) {
    return Invalid("warmup", absl::StrCat("start_factor (", start_factor_, ") must be in (0, 1]"));
  }
  return after_->Validate();
}

std::string LinearWarmup::Describe() const {
  return absl::StrCat("warmup(steps=", warmup_steps_, ", start_factor=", start_factor_, ") then ",
                      after_ ? after_->Describe() : "nothing");
}

ScheduleState LinearWarmup::State() const {
  ScheduleState state = {{"t", static_cast<double>(t_)}};
  for (const auto& [key, value] : after_->State()) state[absl::StrCat("after.", key)] = value;
  return state;
}

absl::Status LinearWarmup::Restore(const ScheduleState& state) {
  STRATA_ASSIGN_OR_RETURN(int64_t t, GetCount(state, "t"));
  ScheduleState inner;
  for (const auto& [key, value] : state) {
    if (absl::StartsWith(key, "after.")) inner[key.substr(6)] = value;
  }
  STRATA_RETURN_IF_ERROR(after_->Restore(inner));
  t_ = t;
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// ReduceOnPlateau

ReduceOnPlateau::ReduceOnPlateau(double base, PlateauOptions options)
    : base_(base),
      options_(options),
      lr_(base),
      best_(options.mode == PlateauOptions::Mode::kMin ? std::numeric_limits<double>::infinity()
                                                        : -std::numeric_limits<double>::infinity()) {}

bool ReduceOnPlateau::IsBetter(double a) const {
  const double th = options_.threshold;
  const bool rel = options_.threshold_mode == PlateauOptions::ThresholdMode::kRel;
  if (options_.mode == PlateauOptions::Mode::kMin) return rel ? a < best_ * (1 - th) : a < best_ - th;
  return rel ? a > best_ * (th + 1) : a > best_ + th;
}

double ReduceOnPlateau::Step(double metric) {
  ++t_;
  if (IsBetter(metric)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;
  }
  if (num_bad_epochs_ > options_.patience) {
    const double reduced = std::max(lr_ * options_.factor, options_.min_lr);
    if (lr_ - reduced > options_.eps) lr_ = reduced;
    cooldown_counter_ = options_.cooldown;
    num_bad_epochs_ = 0;
  }
  return lr_;
}

absl::Status ReduceOnPlateau::Validate() const {
  if (!std::isfinite(base_) || base_ < 0) {
    return Invalid("plateau", absl::StrCat("base rate (", base_, ") must be >= 0"));
  }
  if (!(options_.factor >= 0 && options_.factor < 1)) {
    return Invalid("plateau", absl::StrCat("factor (", options_.factor, ") must be in [0, 1)"));
  }
  if (options_.patience < 0 || options_.cooldown < 0) {
    return Invalid("plateau", absl::StrCat("patience (", options_.patience, ") and cooldown (", options_.cooldown,
                                           ") must be >= 0"));
  }
  if (!std::isfinite(options_.threshold) || options_.threshold < 0) {
    return Invalid("plateau", absl::StrCat("threshold (", options_.threshold, ") must be >= 0"));
  }
  if (!std::isfinite(options_.min_lr) || options_.min_lr < 0 || !(options_.eps >= 0)) {
    return Invalid("plateau", absl::StrCat("min_lr (", options_.min_lr, ") and eps (", options_.eps,
                                           ") must be >= 0"));
  }
  return absl::OkStatus();
}

std::string ReduceOnPlateau::Describe() const {
  return absl::StrCat("plateau(base=", base_, ", mode=", options_.mode == PlateauOptions::Mode::kMin ? "min" : "max",
                      ", factor=", options_.factor, ", patience=", options_.patience,
                      ", threshold=", options_.threshold, ", threshold_mode=",
                      options_.threshold_mode == PlateauOptions::ThresholdMode::kRel ? "rel" : "abs",
                      ", cooldown=", options_.cooldown, ", min_lr=", options_.min_lr, ")");
}

ScheduleState ReduceOnPlateau::State() const {
  return {{"t", static_cast<double>(t_)},
          {"lr", lr_},
          {"best", best_},
          {"num_bad_epochs", static_cast<double>(num_bad_epochs_)},
          {"cooldown_counter", static_cast<double>(cooldown_counter_)}};
}

absl::Status ReduceOnPlateau::Restore(const ScheduleState& state) {
  STRATA_ASSIGN_OR_RETURN(int64_t t, GetCount(state, "t"));
  STRATA_ASSIGN_OR_RETURN(double lr, Get(state, "lr"));
  STRATA_ASSIGN_OR_RETURN(double best, Get(state, "best"));
  STRATA_ASSIGN_OR_RETURN(int64_t bad, GetCount(state, "num_bad_epochs"));
  STRATA_ASSIGN_OR_RETURN(int64_t cooldown, GetCount(state, "cooldown_counter"));
  t_ = t;
  lr_ = lr;
  best_ = best;
  num_bad_epochs_ = bad;
  cooldown_counter_ = cooldown;
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// ParseSchedule

absl::StatusOr<std::unique_ptr<Schedule>> ParseSchedule(absl::string_view spec, double base_lr) {
  std::pair<absl::string_view, absl::string_view> head = absl::StrSplit(spec, absl::MaxSplits(':', 1));
  const absl::string_view kind = head.first;
  std::map<std::string, std::string> args;
  for (absl::string_view part : absl::StrSplit(head.second, ',', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    if (kv.first.empty() || kv.second.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("schedule '", spec, "': expected key=value, got '", part, "'"));
    }
    args[std::string(kv.first)] = std::string(kv.second);
  }
  auto bad = [&](absl::string_view key, absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("schedule '", spec, "': ", key, " ", why));
  };
  // Reads (and consumes) a number; `fallback` when absent.
  auto number = [&](const std::string& key, double fallback) -> absl::StatusOr<double> {
    auto it = args.find(key);
    if (it == args.end()) return fallback;
    double v;
    if (!absl::SimpleAtod(it->second, &v)) return bad(key, absl::StrCat("'", it->second, "' is not a number"));
    args.erase(it);
    return v;
  };
  auto count = [&](const std::string& key, int64_t fallback) -> absl::StatusOr<int64_t> {
    auto it = args.find(key);
    if (it == args.end()) return fallback;
    int64_t v;
    if (!absl::SimpleAtoi(it->second, &v)) return bad(key, absl::StrCat("'", it->second, "' is not an integer"));
    args.erase(it);
    return v;
  };
  auto word = [&](const std::string& key, absl::string_view fallback) {
    auto it = args.find(key);
    if (it == args.end()) return std::string(fallback);
    std::string v = it->second;
    args.erase(it);
    return v;
  };

  STRATA_ASSIGN_OR_RETURN(int64_t warmup_steps, count("warmup_steps", 0));
  STRATA_ASSIGN_OR_RETURN(double warmup_start, number("warmup_start_factor", 1.0 / 3));
  if (warmup_steps < 0) return bad("warmup_steps", "must be >= 0");
  std::unique_ptr<Schedule> s;
  if (kind == "constant") {
    s = std::make_unique<ConstantSchedule>(base_lr);
  } else if (kind == "step") {
    STRATA_ASSIGN_OR_RETURN(int64_t step_size, count("step_size", 0));
    if (step_size == 0) return bad("step_size", "is required");
    STRATA_ASSIGN_OR_RETURN(double gamma, number("gamma", 0.1));
    s = std::make_unique<StepSchedule>(base_lr, step_size, gamma);
  } else if (kind == "multistep") {
    std::vector<int64_t> milestones;
    for (absl::string_view m : absl::StrSplit(word("milestones", ""), '/', absl::SkipEmpty())) {
      int64_t v;
      if (!absl::SimpleAtoi(m, &v)) return bad("milestones", absl::StrCat("'", m, "' is not an integer"));
      milestones.push_back(v);
    }
    if (milestones.empty()) return bad("milestones", "are required (milestones=30/60)");
    STRATA_ASSIGN_OR_RETURN(double gamma, number("gamma", 0.1));
    s = std::make_unique<MultiStepSchedule>(base_lr, std::move(milestones), gamma);
  } else if (kind == "exponential") {
    STRATA_ASSIGN_OR_RETURN(double gamma, number("gamma", -1));
    if (gamma < 0) return bad("gamma", "is required");
    s = std::make_unique<ExponentialSchedule>(base_lr, gamma);
  } else if (kind == "cosine") {
    STRATA_ASSIGN_OR_RETURN(int64_t t_max, count("t_max", 0));
    if (t_max == 0) return bad("t_max", "is required");
    STRATA_ASSIGN_OR_RETURN(double eta_min, number("eta_min", 0));
    s = std::make_unique<CosineSchedule>(base_lr, t_max, eta_min);
  } else if (kind == "plateau") {
    PlateauOptions o;
    const std::string mode = word("mode", "min"), threshold_mode = word("threshold_mode", "rel");
    if (mode != "min" && mode != "max") return bad("mode", "must be min or max");
    if (threshold_mode != "rel" && threshold_mode != "abs") return bad("threshold_mode", "must be rel or abs");
    o.mode = mode == "min" ? PlateauOptions::Mode::kMin : PlateauOptions::Mode::kMax;
    o.threshold_mode =
        threshold_mode == "rel" ? PlateauOptions::ThresholdMode::kRel : PlateauOptions::ThresholdMode::kAbs;
    STRATA_ASSIGN_OR_RETURN(o.factor, number("factor", o.factor));
    STRATA_ASSIGN_OR_RETURN(o.patience, count("patience", o.patience));
    STRATA_ASSIGN_OR_RETURN(o.threshold, number("threshold", o.threshold));
    STRATA_ASSIGN_OR_RETURN(o.cooldown, count("cooldown", o.cooldown));
    STRATA_ASSIGN_OR_RETURN(o.min_lr, number("min_lr", o.min_lr));
    STRATA_ASSIGN_OR_RETURN(o.eps, number("eps", o.eps));
    s = std::make_unique<ReduceOnPlateau>(base_lr, o);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("schedule '", spec, "': unknown kind '", kind,
                                                   "' (constant, step, multistep, exponential, cosine, plateau)"));
  }
  if (!args.empty()) return bad(args.begin()->first, "is not a parameter of this schedule");
  if (warmup_steps > 0) s = std::make_unique<LinearWarmup>(warmup_steps, std::move(s), warmup_start);
  STRATA_RETURN_IF_ERROR(s->Validate());
  return s;
}

}  // namespace strata::optim
