// Dropout: identity in inference runs; in training runs the drop rate, the
// exact scaling of survivors, the mask's determinism in (seed, step, node
// name) and its independence of the thread count and of the float type;
// gradients against the numerical checker; rate errors.
#include "ops/dropout.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_util.h"
#include <omp.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "autodiff/gradient_checker.h"
#include "ops/state.h"
#include "runtime/session.h"

namespace strata {
namespace {

using autodiff::CheckGradients;
using autodiff::RandomTensor;
using testing::HasSubstr;

RunOptions Options(bool training, uint64_t seed = 0, int64_t step = 0) {
  RunOptions o;
  o.training = training;
  o.seed = seed;
  o.step = step;
  return o;
}

using test::RunGraph;

Output MaskOf(Output y) { return Output{y.node, 1}; }

// Values in [0.5, 1.5): never 0, so a zero in y means a dropped element.
Tensor NonZero(const Shape& shape, uint64_t seed) { return RandomTensor(shape, seed, 0.5f, 1.5f); }

struct DropoutGraph {
  Graph g;
  Output x, y;
  DropoutGraph(const Shape& shape, double rate, absl::string_view name = "drop") {
    x = ops::Placeholder(g, "x", shape);
    y = ops::Dropout(g, x, rate, name);
  }
  // (y, mask) for x in a fresh session.
  std::vector<Tensor> Run(const Tensor& x_value, const RunOptions& options, bool reference = false) {
    auto out = RunGraph(g, {{x, x_value}}, {y, MaskOf(y)}, options, reference);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : std::vector<Tensor>{};
  }
};

TEST(Dropout, InferenceIsIdentity) {
  DropoutGraph d({4, 3, 5}, 0.5);
  ASSERT_TRUE(d.g.status().ok()) << d.g.status();
  Tensor x = RandomTensor(d.x.shape(), 1);
  for (bool reference : {false, true}) {
    // The seed and step must not matter either.
    std::vector<Tensor> out = d.Run(x, Options(false, 9, 4), reference);
    ASSERT_EQ(out.size(), 2u);
    for (int64_t i = 0; i < x.num_elements(); ++i) {
      const double y = reference ? out[0].data<double>()[i] : out[0].data<float>()[i];
      const double m = reference ? out[1].data<double>()[i] : out[1].data<float>()[i];
      ASSERT_EQ(y, x.data<float>()[i]) << i;
      ASSERT_EQ(m, 1.0) << i;
    }
  }
}

TEST(Dropout, TrainingDropsAboutRateAndScalesSurvivorsExactly) {
  for (double rate : {0.1, 0.3, 0.5, 0.9}) {
    SCOPED_TRACE(absl::StrCat("rate ", rate));
    DropoutGraph d({100000}, rate);
    Tensor x = NonZero(d.x.shape(), 2);
    std::vector<Tensor> out = d.Run(x, Options(true, 7, 3));
    ASSERT_EQ(out.size(), 2u);
    const float scale = static_cast<float>(1.0 / (1.0 - rate));
    int64_t dropped = 0;
    for (int64_t i = 0; i < x.num_elements(); ++i) {
      const float y = out[0].data<float>()[i], m = out[1].data<float>()[i];
      if (m == 0) {
        ++dropped;
        ASSERT_EQ(y, 0.f) << i;
      } else {
        ASSERT_EQ(m, scale) << i;
        ASSERT_EQ(y, x.data<float>()[i] * scale) << i;
      }
    }
    EXPECT_NEAR(static_cast<double>(dropped) / x.num_elements(), rate, 0.01);
  }
}

TEST(Dropout, RateZeroKeepsEverything) {
  DropoutGraph d({1000}, 0.0);
  Tensor x = RandomTensor(d.x.shape(), 3);
  std::vector<Tensor> out = d.Run(x, Options(true, 1, 1));
  ASSERT_EQ(out.size(), 2u);
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    ASSERT_EQ(out[0].data<float>()[i], x.data<float>()[i]);
    ASSERT_EQ(out[1].data<float>()[i], 1.f);
  }
}

// Positions where two masks differ.
int64_t Differences(const Tensor& a, const Tensor& b) {
  int64_t n = 0;
  for (int64_t i = 0; i < a.num_elements(); ++i) n += a.data<float>()[i] != b.data<float>()[i];
  return n;
}

TEST(Dropout, MaskIsAFunctionOfSeedStepAndName) {
  const Shape shape{50, 200};
  Graph g;
  Output x = ops::Placeholder(g, "x", shape);
  Output a = ops::Dropout(g, x, 0.5, "a");
  Output b = ops::Dropout(g, x, 0.5, "b");
  ASSERT_TRUE(g.status().ok()) << g.status();
  runtime::Feeds feeds{{x, NonZero(shape, 4)}};
  auto masks = [&](uint64_t seed, int64_t step) {
    auto out = RunGraph(g, feeds, {MaskOf(a), MaskOf(b)}, Options(true, seed, step));
    EXPECT_TRUE(out.ok()) << out.status();
    return *out;
  };
  const std::vector<Tensor> base = masks(5, 10);
  // Another session, same (seed, step): the same masks.
  EXPECT_EQ(Differences(base[0], masks(5, 10)[0]), 0);
  EXPECT_EQ(Differences(base[1], masks(5, 10)[1]), 0);
  // Two independent masks at rate 0.5 differ in about half the positions.
  const int64_t n = shape.num_elements();
  auto independent = [&](int64_t d) { return d > 0.45 * n && d < 0.55 * n; };
  EXPECT_TRUE(independent(Differences(base[0], masks(5, 11)[0])));  // another step
  EXPECT_TRUE(independent(Differences(base[0], masks(6, 10)[0])));  // another seed
  EXPECT_TRUE(independent(Differences(base[0], base[1])));          // another node
  // Seed and step are not interchangeable.
  EXPECT_TRUE(independent(Differences(masks(3, 4)[0], masks(4, 3)[0])));
}

// Resuming at step k gives the mask the original run drew at step k, however
// many runs the session made before.
TEST(Dropout, ResumedRunDrawsTheSameMask) {
  DropoutGraph d({5000}, 0.4);
  Tensor x = NonZero(d.x.shape(), 6);
  auto session = runtime::Session::Create(d.g);
  ASSERT_TRUE(session.ok());
  std::vector<Tensor> original;
  for (int64_t step = 0; step < 3; ++step) {
    auto out = (*session)->Run({{d.x, x}}, {MaskOf(d.y)}, {}, Options(true, 42, step));
    ASSERT_TRUE(out.ok()) << out.status();
    original.push_back((*out)[0]);
  }
  std::vector<Tensor> resumed = d.Run(x, Options(true, 42, 2));
  ASSERT_EQ(resumed.size(), 2u);
  EXPECT_EQ(Differences(original[2], resumed[1]), 0);
  EXPECT_GT(Differences(original[1], original[2]), 0);
}

TEST(Dropout, MaskIndependentOfThreadCount) {
  DropoutGraph d({200000}, 0.3);
  Tensor x = NonZero(d.x.shape(), 7);
  const int threads = omp_get_max_threads();
  std::vector<Tensor> many = d.Run(x, Options(true, 8, 1));
  omp_set_num_threads(1);
  std::vector<Tensor> one = d.Run(x, Options(true, 8, 1));
  omp_set_num_threads(threads);
  ASSERT_EQ(many.size(), 2u);
  ASSERT_EQ(one.size(), 2u);
  EXPECT_EQ(Differences(many[1], one[1]), 0);
}

TEST(Dropout, Float32AndReferenceMasksIdentical) {
  for (double rate : {0.2, 0.5, 0.7}) {
    DropoutGraph d({30, 1000}, rate);
    Tensor x = NonZero(d.x.shape(), 9);
    std::vector<Tensor> fast = d.Run(x, Options(true, 11, 12));
    std::vector<Tensor> reference = d.Run(x, Options(true, 11, 12), true);
    ASSERT_EQ(fast.size(), 2u);
    ASSERT_EQ(reference.size(), 2u);
    ASSERT_EQ(reference[1].dtype(), DType::kFloat64);
    int64_t kept = 0;
    for (int64_t i = 0; i < x.num_elements(); ++i) {
      const double m64 = reference[1].data<double>()[i];
      const float m32 = fast[1].data<float>()[i];
      ASSERT_EQ(m64 == 0, m32 == 0) << "rate " << rate << " element " << i;
      ASSERT_EQ(static_cast<float>(m64), m32) << "rate " << rate << " element " << i;
      ASSERT_NEAR(reference[0].data<double>()[i], fast[0].data<float>()[i], 1e-6);
      kept += m32 != 0;
    }
    EXPECT_GT(kept, 0);
    EXPECT_LT(kept, x.num_elements());
  }
}

TEST(Dropout, GradientMatchesNumerical) {
  for (bool training : {true, false}) {
    SCOPED_TRACE(training ? "training" : "inference");
    DropoutGraph d({4, 6, 3}, 0.5);
    autodiff::GradientCheckOptions options;
    options.run = Options(training, 13, 2);
    auto report = CheckGradients(d.g, d.y, {{d.x, RandomTensor(d.x.shape(), 14)}}, options);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_TRUE(report->ok) << report->worst << " (max error " << report->max_error << ")";
    EXPECT_EQ(report->checked, d.x.shape().num_elements());
  }
}

TEST(Dropout, RateOutsideUnitIntervalIsABuildError) {
  for (double rate : {-0.1, 1.0, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    Graph g;
    Output x = ops::Placeholder(g, "x", {2, 3});
    EXPECT_FALSE(ops::Dropout(g, x, rate, "drop1").valid()) << rate;
    EXPECT_THAT(std::string(g.status().message()), HasSubstr("Dropout node 'drop1'"));
    EXPECT_THAT(std::string(g.status().message()), HasSubstr("[0, 1)"));
  }
}

}  // namespace
}  // namespace strata
