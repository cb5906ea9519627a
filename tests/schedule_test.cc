// Learning-rate schedules against values computed by hand from PyTorch's
// definitions, and exact resumption from State/Restore.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "optim/schedule.h"

namespace strata::optim {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Rates after 0, 1, 2, ... Step calls.
std::vector<double> Rates(Schedule& s, int steps, const std::vector<double>& metrics = {}) {
  std::vector<double> rates = {s.LearningRate()};
  for (int i = 0; i < steps; ++i) {
    rates.push_back(metrics.empty() ? s.Step() : s.Step(metrics[i]));
  }
  return rates;
}

void ExpectRates(const std::vector<double>& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], 1e-12 * std::max(1.0, std::abs(want[i]))) << what << " at t=" << i;
  }
}

TEST(Schedules, Constant) {
  ConstantSchedule s(0.1);
  ASSERT_TRUE(s.Validate().ok());
  ExpectRates(Rates(s, 3), {0.1, 0.1, 0.1, 0.1}, "constant");
}

TEST(Schedules, StepLR) {
  StepSchedule s(0.1, 3, 0.1);
  ASSERT_TRUE(s.Validate().ok());
  ExpectRates(Rates(s, 7), {0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001}, "step");
  EXPECT_EQ(s.steps(), 7);
}

TEST(Schedules, MultiStepLRCountsRepeatedMilestones) {
  // Unsorted, with 5 twice: PyTorch multiplies by gamma twice at 5.
  MultiStepSchedule s(0.1, {5, 2, 5}, 0.1);
  ASSERT_TRUE(s.Validate().ok());
  ExpectRates(Rates(s, 6), {0.1, 0.1, 0.01, 0.01, 0.01, 1e-4, 1e-4}, "multistep");
}

TEST(Schedules, ExponentialLR) {
  ExponentialSchedule s(0.1, 0.9);
  ExpectRates(Rates(s, 3), {0.1, 0.09, 0.081, 0.0729}, "exponential");
  EXPECT_NEAR(s.LearningRateAt(10), 0.1 * std::pow(0.9, 10), 1e-15);
}

TEST(Schedules, CosineAnnealingLR) {
  CosineSchedule s(0.1, 10, 0.001);
  ASSERT_TRUE(s.Validate().ok());
  std::vector<double> rates = Rates(s, 15);
  EXPECT_NEAR(rates[0], 0.1, 1e-15);
  // eta_min + (base - eta_min) * (1 + cos(36 degrees)) / 2
  EXPECT_NEAR(rates[2], 0.001 + 0.099 * (1 + 0.80901699437494742) / 2, 1e-15);
  EXPECT_NEAR(rates[5], 0.0505, 1e-15);
  EXPECT_NEAR(rates[10], 0.001, 1e-15);
  // Past t_max the closed form is periodic: back up to the midpoint at 15.
  EXPECT_NEAR(rates[15], 0.0505, 1e-15);
  for (int t = 0; t <= 15; ++t) {
    EXPECT_NEAR(rates[t], 0.001 + 0.099 * (1 + std::cos(kPi * t / 10)) / 2, 1e-15) << t;
  }
}

TEST(Schedules, LinearWarmupThenCosine) {
  LinearWarmup s(4, std::make_unique<CosineSchedule>(0.1, 10), 0.25);
  ASSERT_TRUE(s.Validate().ok());
  std::vector<double> rates = Rates(s, 9);
  // Warm-up: 0.1 * (0.25 + 0.75 * t / 4).
  ExpectRates({rates.begin(), rates.begin() + 4}, {0.025, 0.04375, 0.0625, 0.08125}, "warmup");
  // Then the cosine from its start: t - 4.
  EXPECT_NEAR(rates[4], 0.1, 1e-15);
  EXPECT_NEAR(rates[5], 0.05 * (1 + 0.95105651629515357), 1e-15);
  EXPECT_NEAR(rates[9], 0.05, 1e-15);
}

TEST(Schedules, ReduceOnPlateauPatienceCooldownThresholdAndMinLr) {
  PlateauOptions o;
  o.factor = 0.5;
  o.patience = 2;
  o.threshold = 0.1;  // rel: better means below best * 0.9
  o.cooldown = 1;
  o.min_lr = 0.02;
  ReduceOnPlateau s(0.1, o);
  ASSERT_TRUE(s.Validate().ok());
  const std::vector<double> metrics = {1.0,  0.95, 0.92, 0.91, 0.99, 0.99, 0.99, 0.99,
                                       0.5,  0.6,  0.6,  0.6,  0.6,  0.6,  0.6,  0.6};
  std::vector<double> rates = Rates(s, static_cast<int>(metrics.size()), metrics);
  // 0.95, 0.92 and 0.91 are not 10% below 1.0: three bad epochs > patience 2
  // halve the rate at the 4th step. One cooldown epoch is not counted, then
  // three more bad epochs halve it again. 0.5 is a new best; three bad epochs
  // later the rate would be 0.0125 but min_lr holds it at 0.02, after which a
  // further reduction changes nothing.
  ExpectRates(rates, {0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025, 0.02, 0.02, 0.02, 0.02,
                      0.02},
              "plateau");
  EXPECT_EQ(s.best(), 0.5);
}

TEST(Schedules, ReduceOnPlateauMaxModeAbsoluteThreshold) {
  PlateauOptions o;
  o.mode = PlateauOptions::Mode::kMax;
  o.threshold_mode = PlateauOptions::ThresholdMode::kAbs;
  o.threshold = 0.01;
  o.patience = 0;
  ReduceOnPlateau s(0.1, o);
  // 0.505 is not above 0.5 + 0.01: with patience 0 one bad epoch reduces.
  ExpectRates(Rates(s, 4, {0.5, 0.505, 0.52, 0.525}), {0.1, 0.1, 0.01, 0.01, 0.001}, "plateau max abs");
}

TEST(Schedules, ReduceOnPlateauNaNIsABadEpoch) {
  PlateauOptions o;
  o.patience = 0;
  ReduceOnPlateau s(1.0, o);
  EXPECT_DOUBLE_EQ(s.Step(std::nan("")), 0.1);
}

// Steps `a` k times, restores a fresh `b` from its serialized state, then
// both must agree exactly for the remaining steps.
void CheckResume(Schedule& a, Schedule& b, int k, int total, const std::vector<double>& metrics,
                 const std::string& what) {
  auto metric = [&](int i) { return metrics.empty() ? std::nan("") : metrics[i]; };
  for (int i = 0; i < k; ++i) a.Step(metric(i));
  const std::string state = a.SerializeState();
  ASSERT_TRUE(b.RestoreFromString(state).ok()) << what << ": " << state;
  EXPECT_EQ(b.SerializeState(), state) << what;
  EXPECT_EQ(b.LearningRate(), a.LearningRate()) << what;
  EXPECT_EQ(b.steps(), k) << what;
  for (int i = k; i < total; ++i) EXPECT_EQ(a.Step(metric(i)), b.Step(metric(i))) << what << " step " << i;
}

TEST(Schedules, StateRestoreContinuesIdentically) {
  {
    StepSchedule a(0.1, 3), b(0.1, 3);
    CheckResume(a, b, 4, 10, {}, "step");
  }
  {
    MultiStepSchedule a(0.1, {2, 6}), b(0.1, {2, 6});
    CheckResume(a, b, 3, 10, {}, "multistep");
  }
  {
    CosineSchedule a(0.3, 7, 0.01), b(0.3, 7, 0.01);
    CheckResume(a, b, 5, 12, {}, "cosine");
  }
  {
    LinearWarmup a(3, std::make_unique<ExponentialSchedule>(0.1, 0.5)),
        b(3, std::make_unique<ExponentialSchedule>(0.1, 0.5));
    CheckResume(a, b, 5, 9, {}, "warmup");
  }
  const std::vector<double> metrics = {1.0, 0.95, 0.92, 0.91, 0.99, 0.99, 0.99, 0.99, 0.5, 0.6, 0.6, 0.6};
  PlateauOptions o;
  o.factor = 0.5;
  o.patience = 2;
  o.threshold = 0.1;
  o.cooldown = 1;
  for (int k : {0, 3, 4, 6}) {
    ReduceOnPlateau a(0.1, o), b(0.1, o);
    CheckResume(a, b, k, static_cast<int>(metrics.size()), metrics, absl::StrCat("plateau k=", k));
  }
  {
    // The warm-up wraps a plateau schedule: its state nests under "after.".
    LinearWarmup a(2, std::make_unique<ReduceOnPlateau>(0.1, o)), b(2, std::make_unique<ReduceOnPlateau>(0.1, o));
    CheckResume(a, b, 5, static_cast<int>(metrics.size()), metrics, "warmup+plateau");
  }
}

TEST(Schedules, PlateauStateHoldsInfiniteBest) {
  ReduceOnPlateau a(0.1), b(0.1);
  const std::string state = a.SerializeState();
  EXPECT_NE(state.find("best=inf"), std::string::npos) << state;
  ASSERT_TRUE(b.RestoreFromString(state).ok());
  EXPECT_TRUE(std::isinf(b.best()));
}

TEST(Schedules, RestoreRejectsMissingOrBadState) {
  StepSchedule s(0.1, 3);
  EXPECT_FALSE(s.RestoreFromString("").ok());
  EXPECT_FALSE(s.RestoreFromString("t=abc").ok());
  EXPECT_FALSE(s.RestoreFromString("t=1.5").ok());
  ReduceOnPlateau p(0.1);
  absl::Status status = p.RestoreFromString("t=3;lr=0.1");
  EXPECT_FALSE(status.ok());
  EXPECT_NE(std::string(status.message()).find("best"), std::string::npos) << status;
  EXPECT_EQ(p.steps(), 0);  // nothing changed
}

TEST(Schedules, ValidateRejectsBadParameters) {
  EXPECT_FALSE(StepSchedule(0.1, 0).Validate().ok());
  EXPECT_FALSE(CosineSchedule(0.1, 0).Validate().ok());
  EXPECT_FALSE(ExponentialSchedule(-0.1, 0.9).Validate().ok());
  EXPECT_FALSE(LinearWarmup(2, std::make_unique<ConstantSchedule>(0.1), 0.0).Validate().ok());
  PlateauOptions o;
  o.factor = 1.0;
  EXPECT_FALSE(ReduceOnPlateau(0.1, o).Validate().ok());
}

TEST(Schedules, ParseSpecs) {
  auto step = ParseSchedule("step:step_size=3,gamma=0.5", 0.2);
  ASSERT_TRUE(step.ok()) << step.status();
  ExpectRates(Rates(**step, 3), {0.2, 0.2, 0.2, 0.1}, "parsed step");

  auto multistep = ParseSchedule("multistep:milestones=1/3", 1.0);
  ASSERT_TRUE(multistep.ok()) << multistep.status();
  ExpectRates(Rates(**multistep, 3), {1.0, 0.1, 0.1, 0.01}, "parsed multistep");

  auto warm = ParseSchedule("cosine:t_max=10,eta_min=0.001,warmup_steps=4,warmup_start_factor=0.25", 0.1);
  ASSERT_TRUE(warm.ok()) << warm.status();
  EXPECT_NEAR((*warm)->LearningRate(), 0.025, 1e-15);
  EXPECT_NE((*warm)->Describe().find("cosine"), std::string::npos);

  auto plateau = ParseSchedule("plateau:mode=max,factor=0.5,patience=0,threshold_mode=abs,threshold=0", 1.0);
  ASSERT_TRUE(plateau.ok()) << plateau.status();
  ExpectRates(Rates(**plateau, 2, {0.5, 0.4}), {1.0, 1.0, 0.5}, "parsed plateau");

  ASSERT_TRUE(ParseSchedule("constant", 0.1).ok());
  for (const char* bad : {"linear", "step", "step:step_size=x", "step:step_size=3,foo=1", "cosine:t_max=0",
                          "plateau:mode=sideways", "exponential", "step:step_size=2,warmup_steps=-1"}) {
    EXPECT_FALSE(ParseSchedule(bad, 0.1).ok()) << bad;
  }
}

}  // namespace
}  // namespace strata::optim
