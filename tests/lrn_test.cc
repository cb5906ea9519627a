// LRN: shapes and errors, values by hand (which also pins down that alpha is
// divided by the window size), the oneDNN kernels against the float64
// reference at AlexNet's sizes in both directions, and gradients against the
// numerical checker for several window sizes and k.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_util.h"

#include <cmath>
#include <string>
#include <vector>

#include "autodiff/gradient_checker.h"
#include "autodiff/gradients.h"
#include "ops/lrn.h"
#include "ops/math.h"
#include "ops/state.h"
#include "runtime/session.h"

namespace strata {
namespace {

using autodiff::CheckGradients;
using autodiff::RandomTensor;
using testing::HasSubstr;

using test::RunGraph;

double At(const Tensor& t, int64_t i) {
  return t.dtype() == DType::kFloat64 ? t.data<double>()[i] : t.data<float>()[i];
}

TEST(LRNShape, OutputsAndWorkspace) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {2, 96, 55, 55});
  Output y = ops::LRN(g, x, {}, "norm1");
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_EQ(y.spec(), x.spec());
  EXPECT_EQ(y.node->name(), "norm1");
  const TensorSpec& ws = y.node->output_spec(1);
  EXPECT_EQ(ws.dtype, DType::kUInt8);
  ASSERT_EQ(ws.shape.rank(), 1);
  EXPECT_GE(ws.shape[0], 1);
  // The defaults are AlexNet's.
  EXPECT_EQ(*y.node->Attr<int64_t>("size"), 5);
  EXPECT_EQ(*y.node->Attr<double>("alpha"), 1e-4);
  EXPECT_EQ(*y.node->Attr<double>("beta"), 0.75);
  EXPECT_EQ(*y.node->Attr<double>("k"), 2.0);
}

TEST(LRNShape, ErrorsNameTheNode) {
  struct Case {
    Shape x;
    ops::LRNOptions opts;
    const char* expected;
  };
  for (const Case& c : {Case{{1, 8, 4, 4}, {4, 1e-4, 0.75, 2}, "odd"},
                        Case{{1, 8, 4, 4}, {0, 1e-4, 0.75, 2}, "odd"},
                        Case{{1, 8, 4, 4}, {5, 1e-4, 0.75, 0}, "k must be > 0"},
                        Case{{1, 8, 4, 4}, {5, -1, 0.75, 2}, "alpha must be >= 0"},
                        Case{{8, 4, 4}, {}, "rank 4"}}) {
    Graph g;
    Output x = ops::Placeholder(g, "x", c.x);
    EXPECT_FALSE(ops::LRN(g, x, c.opts, "bad_lrn").valid());
    const std::string message(g.status().message());
    EXPECT_THAT(message, HasSubstr("LRN node 'bad_lrn'"));
    EXPECT_THAT(message, HasSubstr(c.expected));
    EXPECT_THAT(message, HasSubstr(c.x.ToString()));
  }
  Graph g;
  Output x = ops::Placeholder(g, "x", {1, 8, 4, 4});
  Output y = ops::LRN(g, x);
  Output ws{y.node, 1};
  EXPECT_FALSE(ops::LRNGrad(g, ops::Placeholder(g, "dy", {1, 8, 4, 5}), x, ws, {}, "bad_grad").valid());
  EXPECT_THAT(std::string(g.status().message()), HasSubstr("the output gradient must be [1,8,4,4]"));
}

// ---------------------------------------------------------------------------
// Values.

// x = (1, 2, 3) over three channels of one pixel.
std::vector<double> ThreeChannels(ops::LRNOptions opts, bool reference) {
  Graph g;
  Output x = ops::Const(g, Tensor::FromVector<float>({1, 3, 1, 1}, {1, 2, 3}));
  Output y = ops::LRN(g, x, opts);
  EXPECT_TRUE(g.status().ok()) << g.status();
  auto out = RunGraph(g, {}, {y}, reference);
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return {};
  return {At((*out)[0], 0), At((*out)[0], 1), At((*out)[0], 2)};
}

TEST(LRNValues, HandComputed) {
  for (bool reference : {false, true}) {
    const double tol = reference ? 1e-12 : 1e-6;
    SCOPED_TRACE(reference ? "reference" : "oneDNN");
    // size 5 covers all three channels from each: sum of squares 14,
    // alpha/size = 1, so every denominator is (2 + 14)^0.75 = 8.
    std::vector<double> y = ThreeChannels({5, 5.0, 0.75, 2.0}, reference);
    ASSERT_EQ(y.size(), 3u);
    EXPECT_NEAR(y[0], 0.125, tol);
    EXPECT_NEAR(y[1], 0.25, tol);
    EXPECT_NEAR(y[2], 0.375, tol);
    // size 3, alpha/size = 1, beta 1, k 1: windows {1,2}, {1,2,3}, {2,3}
    // (clipped at the ends) give 1/(1+5), 2/(1+14), 3/(1+13).
    y = ThreeChannels({3, 3.0, 1.0, 1.0}, reference);
    ASSERT_EQ(y.size(), 3u);
    EXPECT_NEAR(y[0], 1.0 / 6, tol);
    EXPECT_NEAR(y[1], 2.0 / 15, tol);
    EXPECT_NEAR(y[2], 3.0 / 14, tol);
  }
}

// AlexNet's parameters on one channel holding 10: oneDNN's convention gives
// 10 / (2 + 1e-4/5 * 100)^0.75; without the division by size (TensorFlow's)
// it would be 10 / 2.01^0.75, 0.3% less.
TEST(LRNValues, AlphaIsDividedBySize) {
  for (bool reference : {false, true}) {
    Graph g;
    Output x = ops::Const(g, Tensor::FromVector<float>({1, 1, 1, 1}, {10}));
    Output y = ops::LRN(g, x);
    auto out = RunGraph(g, {}, {y}, reference);
    ASSERT_TRUE(out.ok()) << out.status();
    const double expected = 10 / std::pow(2.002, 0.75);
    EXPECT_NEAR(At((*out)[0], 0), expected, 1e-5 * expected) << (reference ? "reference" : "oneDNN");
    EXPECT_GT(std::fabs(At((*out)[0], 0) - 10 / std::pow(2.01, 0.75)), 1e-2);
  }
}

struct LrnCase {
  const char* name;
  Shape x;
  ops::LRNOptions opts;
  float low, high;  // input range
};

void PrintTo(const LrnCase& c, std::ostream* os) { *os << c.name; }

// oneDNN (jit for beta 0.75, its reference loop otherwise) against the
// float64 reference kernel, forward and backward, twice on the same plan.
class LRNValues : public testing::TestWithParam<LrnCase> {};

TEST_P(LRNValues, OneDnnMatchesReferenceBothWays) {
  const LrnCase& p = GetParam();
  Graph g;
  Output x = ops::Placeholder(g, "x", p.x);
  Output y = ops::LRN(g, x, p.opts);
  Output loss = ops::Sum(g, ops::Mul(g, y, ops::Const(g, RandomTensor(y.shape(), 4))));
  auto grads = autodiff::Gradients(g, loss, {x});
  ASSERT_TRUE(grads.ok()) << grads.status();
  runtime::Feeds feeds{{x, RandomTensor(p.x, 5, p.low, p.high)}};
  runtime::SessionOptions reference_options;
  reference_options.reference_float64 = true;
  auto fast = runtime::Session::Create(g);
  auto reference = runtime::Session::Create(g, reference_options);
  ASSERT_TRUE(fast.ok() && reference.ok());
  for (int run = 0; run < 2; ++run) {
    auto got = (*fast)->Run(feeds, {y, (*grads)[0]});
    auto want = (*reference)->Run(feeds, {y, (*grads)[0]});
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_TRUE(want.ok()) << want.status();
    for (int k = 0; k < 2; ++k) {
      double worst = 0;
      for (int64_t i = 0; i < p.x.num_elements(); ++i) {
        const double ref = (*want)[k].data<double>()[i];
        worst = std::max(worst, std::fabs((*got)[k].data<float>()[i] - ref) / (1 + std::fabs(ref)));
      }
      EXPECT_LT(worst, 2e-5) << (k == 0 ? "y" : "dx") << " run " << run;
    }
  }
}

const LrnCase kValueCases[] = {
    // AlexNet's two LRN layers, on ReLU-like inputs large enough for the
    // normalisation to matter (5 * 30^2 * 2e-5 = 0.09 against k = 2).
    {"AlexNetNorm1", {2, 96, 55, 55}, {}, 0.f, 30.f},
    {"AlexNetNorm2", {2, 256, 27, 27}, {}, 0.f, 30.f},
    {"Size3Strong", {2, 16, 7, 7}, {3, 1.0, 0.75, 1.0}, -2.f, 2.f},
    {"FewerChannelsThanWindow", {2, 3, 5, 5}, {5, 1.0, 0.75, 2.0}, -2.f, 2.f},
    {"BetaHalf", {2, 16, 7, 7}, {5, 1.0, 0.5, 1.0}, -2.f, 2.f},
};

INSTANTIATE_TEST_SUITE_P(All, LRNValues, testing::ValuesIn(kValueCases),
                         [](const testing::TestParamInfo<LrnCase>& i) { return std::string(i.param.name); });

// ---------------------------------------------------------------------------
// Gradients: alpha large enough that the cross-channel term is a good part of
// the gradient, so that a wrong one would fail.

class LRNGradients : public testing::TestWithParam<LrnCase> {};

TEST_P(LRNGradients, MatchNumerical) {
  const LrnCase& p = GetParam();
  Graph g;
  Output x = ops::Placeholder(g, "x", p.x);
  Output y = ops::LRN(g, x, p.opts);
  auto report = CheckGradients(g, y, {{x, RandomTensor(p.x, 7, p.low, p.high)}});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok) << report->worst << " (max error " << report->max_error << ")";
  EXPECT_EQ(report->checked, p.x.num_elements());
}

const LrnCase kGradientCases[] = {
    {"Size5K2", {2, 7, 3, 3}, {5, 2.0, 0.75, 2.0}, -1.5f, 1.5f},
    {"Size5K1", {2, 7, 3, 3}, {5, 2.0, 0.75, 1.0}, -1.5f, 1.5f},
    {"Size3K2", {2, 7, 3, 3}, {3, 2.0, 0.75, 2.0}, -1.5f, 1.5f},
    {"Size3K1", {2, 7, 3, 3}, {3, 2.0, 0.75, 1.0}, -1.5f, 1.5f},
    {"Size5K1BetaHalf", {2, 7, 3, 3}, {5, 2.0, 0.5, 1.0}, -1.5f, 1.5f},
    {"AlexNetOptions", {1, 16, 4, 4}, {}, 0.f, 30.f},
};

INSTANTIATE_TEST_SUITE_P(All, LRNGradients, testing::ValuesIn(kGradientCases),
                         [](const testing::TestParamInfo<LrnCase>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace strata
