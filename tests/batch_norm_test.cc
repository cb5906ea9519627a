// Batch normalisation: training-mode values and running statistics against a
// float64 computation written out here (PyTorch's conventions), inference
// mode's independence from the rest of the batch, the oneDNN kernels against
// the float64 reference kernels, gradients against the numerical checker in
// both modes, and the errors a user can run into.
#include "ops/batch_norm.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_util.h"

#include <cmath>
#include <string>
#include <vector>

#include "autodiff/gradient_checker.h"
#include "autodiff/gradients.h"
#include "ops/math.h"
#include "ops/state.h"
#include "runtime/session.h"

namespace strata {
namespace {

using autodiff::CheckGradients;
using autodiff::RandomTensor;
using testing::HasSubstr;

RunOptions Training(bool training) {
  RunOptions o;
  o.training = training;
  return o;
}

using test::RunGraph;

double At(const Tensor& t, int64_t i) {
  return t.dtype() == DType::kFloat64 ? t.data<double>()[i] : t.data<float>()[i];
}

// x with a different offset and spread per channel, so that a wrong axis or
// a missing mean/variance shows up in the values.
Tensor ChannelSkewed(const Shape& shape, uint64_t seed) {
  Tensor t = RandomTensor(shape, seed);
  const int64_t c = shape[1], s = shape.rank() == 4 ? shape[2] * shape[3] : 1;
  float* d = t.data<float>();
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    const int64_t channel = (i / s) % c;
    d[i] = d[i] * (0.5f + channel) + 2.0f * channel - 1.0f;
  }
  return t;
}

// What PyTorch computes for x [N,C,...]: per-channel batch mean and biased
// variance, y = gamma (x - mean) / sqrt(var + eps) + beta, and the unbiased
// variance for the running statistics.
struct Expected {
  std::vector<double> mean, var, unbiased_var, y;
};

Expected BatchNormByHand(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  const Shape& s = x.shape();
  const int64_t n = s[0], c = s[1], plane = s.rank() == 4 ? s[2] * s[3] : 1;
  const double m = static_cast<double>(n * plane);
  Expected e{std::vector<double>(c), std::vector<double>(c), std::vector<double>(c),
             std::vector<double>(x.num_elements())};
  for (int64_t ch = 0; ch < c; ++ch) {
    double sum = 0, squares = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < plane; ++j) sum += At(x, (i * c + ch) * plane + j);
    e.mean[ch] = sum / m;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < plane; ++j) squares += std::pow(At(x, (i * c + ch) * plane + j) - e.mean[ch], 2);
    e.var[ch] = squares / m;
    e.unbiased_var[ch] = squares / (m - 1);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < plane; ++j) {
        const int64_t k = (i * c + ch) * plane + j;
        e.y[k] = At(gamma, ch) * (At(x, k) - e.mean[ch]) / std::sqrt(e.var[ch] + eps) + At(beta, ch);
      }
  }
  return e;
}

// A BatchNorm with placeholders for x, gamma and beta and constant running
// statistics: mean 0.3, variance 1.7 per channel unless given.
struct BnGraph {
  Graph g;
  Output x, gamma, beta, running_mean, running_var, y;
  Output saved_mean() const { return Output{y.node, 1}; }
  Output saved_var() const { return Output{y.node, 2}; }

  explicit BnGraph(const Shape& shape, ops::BatchNormOptions opts = {}) {
    const int64_t c = shape[1];
    x = ops::Placeholder(g, "x", shape);
    gamma = ops::Placeholder(g, "gamma", {c});
    beta = ops::Placeholder(g, "beta", {c});
    running_mean = ops::Const(g, Tensor::FromVector<float>({c}, std::vector<float>(c, 0.3f)), "running_mean");
    running_var = ops::Const(g, Tensor::FromVector<float>({c}, std::vector<float>(c, 1.7f)), "running_var");
    y = ops::BatchNorm(g, x, gamma, beta, running_mean, running_var, opts, "bn");
  }
};

Tensor Gamma(int64_t c, uint64_t seed) { return RandomTensor({c}, seed, 0.5f, 2.0f); }
Tensor Beta(int64_t c, uint64_t seed) { return RandomTensor({c}, seed, -1.0f, 1.0f); }

// ---------------------------------------------------------------------------
// Training-mode values.

class BatchNormTrainingValues : public testing::TestWithParam<std::vector<int64_t>> {};

TEST_P(BatchNormTrainingValues, MatchFloat64Computation) {
  const Shape shape(GetParam());
  BnGraph b(shape);
  ASSERT_TRUE(b.g.status().ok()) << b.g.status();
  const int64_t c = shape[1];
  Tensor x = ChannelSkewed(shape, 11), gamma = Gamma(c, 12), beta = Beta(c, 13);
  const Expected want = BatchNormByHand(x, gamma, beta, 1e-5);
  runtime::Feeds feeds{{b.x, x}, {b.gamma, gamma}, {b.beta, beta}};
  for (bool reference : {false, true}) {
    SCOPED_TRACE(reference ? "float64 reference kernel" : "oneDNN kernel");
    auto got = RunGraph(b.g, feeds, {b.y, b.saved_mean(), b.saved_var()}, Training(true), reference);
    ASSERT_TRUE(got.ok()) << got.status();
    const double tol = reference ? 1e-9 : 2e-5;
    for (int64_t i = 0; i < x.num_elements(); ++i) ASSERT_NEAR(At((*got)[0], i), want.y[i], tol) << "y[" << i << "]";
    for (int64_t ch = 0; ch < c; ++ch) {
      EXPECT_NEAR(At((*got)[1], ch), want.mean[ch], tol * (1 + std::fabs(want.mean[ch]))) << "mean " << ch;
      // saved_var is the biased variance, the one y was normalised with.
      EXPECT_NEAR(At((*got)[2], ch), want.var[ch], tol * (1 + want.var[ch])) << "var " << ch;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, BatchNormTrainingValues,
                         testing::Values(std::vector<int64_t>{4, 3, 5, 5}, std::vector<int64_t>{8, 5},
                                         std::vector<int64_t>{2, 16, 7, 7}, std::vector<int64_t>{3, 17, 4, 6},
                                         std::vector<int64_t>{32, 64}));

TEST(BatchNorm, OptionsReachTheKernel) {
  ops::BatchNormOptions opts;
  opts.epsilon = 0.5;  // large enough to change y visibly
  BnGraph b({6, 2, 3, 3}, opts);
  ASSERT_TRUE(b.g.status().ok()) << b.g.status();
  Tensor x = ChannelSkewed(b.x.shape(), 3), gamma = Gamma(2, 4), beta = Beta(2, 5);
  const Expected want = BatchNormByHand(x, gamma, beta, 0.5);
  auto got = RunGraph(b.g, {{b.x, x}, {b.gamma, gamma}, {b.beta, beta}}, {b.y}, Training(true));
  ASSERT_TRUE(got.ok()) << got.status();
  for (int64_t i = 0; i < x.num_elements(); ++i) ASSERT_NEAR(At((*got)[0], i), want.y[i], 2e-5) << i;
}

// ---------------------------------------------------------------------------
// Running statistics.

// Variables as a model holds them: zeros and ones, not trainable.
struct BnWithVariables {
  Graph g;
  Output x, gamma, beta, running_mean, running_var, y;
  BnWithVariables(const Shape& shape, double momentum) {
    const int64_t c = shape[1];
    x = ops::Placeholder(g, "x", shape);
    gamma = ops::Variable(g, "gamma", {c}, ops::Initializer::Constant(1.5));
    beta = ops::Variable(g, "beta", {c}, ops::Initializer::Constant(-0.25));
    running_mean = ops::Variable(g, "running_mean", {c}, ops::Initializer::Zeros(), false);
    running_var = ops::Variable(g, "running_var", {c}, ops::Initializer::Constant(1.0), false);
    ops::BatchNormOptions opts;
    opts.momentum = momentum;
    y = ops::BatchNorm(g, x, gamma, beta, running_mean, running_var, opts, "bn");
  }
};

TEST(BatchNormRunningStats, FollowPyTorchAfterOneAndThreeRuns) {
  for (std::vector<int64_t> dims : {std::vector<int64_t>{4, 3, 5, 5}, std::vector<int64_t>{6, 4}}) {
    const Shape shape(dims);
    const int64_t c = shape[1];
    const double momentum = 0.25;
    BnWithVariables b(shape, momentum);
    ASSERT_TRUE(b.g.status().ok()) << b.g.status();
    auto fast = runtime::Session::Create(b.g);
    runtime::SessionOptions reference_options;
    reference_options.reference_float64 = true;
    auto reference = runtime::Session::Create(b.g, reference_options);
    ASSERT_TRUE(fast.ok() && reference.ok());
    ASSERT_TRUE((*fast)->InitializeVariables(1).ok());
    ASSERT_TRUE((*reference)->InitializeVariables(1).ok());

    std::vector<double> mean(c, 0.0), var(c, 1.0);  // what PyTorch would hold
    for (int run = 1; run <= 3; ++run) {
      Tensor x = ChannelSkewed(shape, 100 + run);
      const Expected e = BatchNormByHand(x, Tensor::FromVector<float>({c}, std::vector<float>(c, 1.5f)),
                                         Tensor::FromVector<float>({c}, std::vector<float>(c, -0.25f)), 1e-5);
      for (int64_t ch = 0; ch < c; ++ch) {
        mean[ch] = (1 - momentum) * mean[ch] + momentum * e.mean[ch];
        var[ch] = (1 - momentum) * var[ch] + momentum * e.unbiased_var[ch];
      }
      auto got = (*fast)->Run({{b.x, x}}, {b.y}, {}, Training(true));
      ASSERT_TRUE(got.ok()) << got.status();
      // The reference session works on float64 copies of the variables, so
      // the updated values are read as fetches of the same run (fetches are
      // copied out after every node has run; y makes BatchNorm part of it).
      auto want = (*reference)->Run({{b.x, x}}, {b.running_mean, b.running_var, b.y}, {}, Training(true));
      ASSERT_TRUE(want.ok()) << want.status();
      if (run != 1 && run != 3) continue;
      Tensor stored_mean = *(*fast)->variables().Get("running_mean");
      Tensor stored_var = *(*fast)->variables().Get("running_var");
      for (int64_t ch = 0; ch < c; ++ch) {
        SCOPED_TRACE(absl::StrCat(shape.ToString(), " after run ", run, ", channel ", ch));
        EXPECT_NEAR(stored_mean.data<float>()[ch], mean[ch], 1e-5 * (1 + std::fabs(mean[ch])));
        EXPECT_NEAR(stored_var.data<float>()[ch], var[ch], 1e-5 * (1 + var[ch]));
        EXPECT_NEAR(At((*want)[0], ch), mean[ch], 1e-10 * (1 + std::fabs(mean[ch])));
        EXPECT_NEAR(At((*want)[1], ch), var[ch], 1e-10 * (1 + var[ch]));
      }
    }
    // An inference run reads the running statistics and leaves them alone.
    Tensor before = (*fast)->variables().Get("running_var")->Clone();
    ASSERT_TRUE((*fast)->Run({{b.x, ChannelSkewed(shape, 7)}}, {b.y}, {}, Training(false)).ok());
    Tensor after = *(*fast)->variables().Get("running_var");
    for (int64_t ch = 0; ch < c; ++ch) EXPECT_EQ(after.data<float>()[ch], before.data<float>()[ch]);
  }
}

// The runtime hands each plan a copy of a Const's value, so a BatchNorm that
// writes constant running statistics changes only that copy: the graph's
// value and other sessions are unaffected, and training outputs do not read
// the running statistics anyway.
TEST(BatchNormRunningStats, ConstRunningStatsKeepTheirGraphValue) {
  BnGraph b({4, 2, 3, 3});
  ASSERT_TRUE(b.g.status().ok()) << b.g.status();
  Tensor x = ChannelSkewed(b.x.shape(), 21);
  runtime::Feeds feeds{{b.x, x}, {b.gamma, Gamma(2, 1)}, {b.beta, Beta(2, 2)}};
  auto session = runtime::Session::Create(b.g);
  ASSERT_TRUE(session.ok());
  auto first = (*session)->Run(feeds, {b.y}, {}, Training(true));
  auto second = (*session)->Run(feeds, {b.y}, {}, Training(true));
  ASSERT_TRUE(first.ok() && second.ok());
  for (int64_t i = 0; i < x.num_elements(); ++i) ASSERT_EQ(At((*first)[0], i), At((*second)[0], i));
  Tensor value = *b.running_mean.node->Attr<Tensor>("value");
  EXPECT_EQ(value.data<float>()[0], 0.3f);
  auto fresh = RunGraph(b.g, {}, {b.running_mean, b.running_var}, Training(false));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(At((*fresh)[0], 1), 0.3f);
  EXPECT_EQ(At((*fresh)[1], 1), 1.7f);
}

// ---------------------------------------------------------------------------
// Inference mode.

TEST(BatchNormInference, UsesRunningStatsPerExample) {
  const Shape shape{3, 4, 2, 2};
  Graph g;
  Output x = ops::Placeholder(g, "x", shape);
  Tensor gamma = Gamma(4, 31), beta = Beta(4, 32);
  Tensor rm = RandomTensor({4}, 33, -1.f, 1.f), rv = RandomTensor({4}, 34, 0.5f, 2.f);
  Output y = ops::BatchNorm(g, x, ops::Const(g, gamma), ops::Const(g, beta), ops::Const(g, rm), ops::Const(g, rv),
                            {}, "bn");
  ASSERT_TRUE(g.status().ok()) << g.status();
  Tensor x0 = ChannelSkewed(shape, 35);
  Tensor x1 = x0.Clone();
  // Example 1 becomes something else entirely.
  for (int64_t i = 16; i < 32; ++i) x1.data<float>()[i] = 100.f + static_cast<float>(i);

  for (bool reference : {false, true}) {
    SCOPED_TRACE(reference ? "float64 reference kernel" : "oneDNN kernel");
    auto a = RunGraph(g, {{x, x0}}, {y}, Training(false), reference);
    auto b = RunGraph(g, {{x, x1}}, {y}, Training(false), reference);
    ASSERT_TRUE(a.ok() && b.ok());
    for (int64_t i = 0; i < shape.num_elements(); ++i) {
      const int64_t ch = (i / 4) % 4;
      const double want = At(gamma, ch) * (At(x0, i) - At(rm, ch)) / std::sqrt(At(rv, ch) + 1e-5) + At(beta, ch);
      ASSERT_NEAR(At((*a)[0], i), want, reference ? 1e-9 : 1e-5) << i;
    }
    // Examples 0 and 2 do not see the change to example 1.
    for (int64_t i : {0, 5, 15, 32, 47}) EXPECT_EQ(At((*a)[0], i), At((*b)[0], i)) << i;
    // ...whereas in training the batch statistics carry it everywhere.
    auto ta = RunGraph(g, {{x, x0}}, {y}, Training(true), reference);
    auto tb = RunGraph(g, {{x, x1}}, {y}, Training(true), reference);
    ASSERT_TRUE(ta.ok() && tb.ok());
    EXPECT_GT(std::fabs(At((*ta)[0], 0) - At((*tb)[0], 0)), 1e-3);
  }
}

// ---------------------------------------------------------------------------
// oneDNN against the reference kernels, forward and backward, both modes, at
// sizes where oneDNN's jit kernels block channels.

TEST(BatchNormKernels, MatchReference) {
  for (std::vector<int64_t> dims : {std::vector<int64_t>{8, 32, 7, 7}, std::vector<int64_t>{16, 20, 5, 3},
                                    std::vector<int64_t>{64, 48}}) {
    const Shape shape(dims);
    const int64_t c = shape[1];
    BnGraph b(shape);
    Output loss = ops::Sum(b.g, ops::Mul(b.g, b.y, ops::Const(b.g, RandomTensor(shape, 41))));
    auto grads = autodiff::Gradients(b.g, loss, {b.x, b.gamma, b.beta});
    ASSERT_TRUE(grads.ok()) << grads.status();
    runtime::Feeds feeds{{b.x, ChannelSkewed(shape, 42)}, {b.gamma, Gamma(c, 43)}, {b.beta, Beta(c, 44)}};
    const std::vector<Output> fetches{b.y, (*grads)[0], (*grads)[1], (*grads)[2]};
    for (bool training : {true, false}) {
      SCOPED_TRACE(absl::StrCat(shape.ToString(), training ? " training" : " inference"));
      auto got = RunGraph(b.g, feeds, fetches, Training(training));
      auto want = RunGraph(b.g, feeds, fetches, Training(training), true);
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_TRUE(want.ok()) << want.status();
      for (size_t f = 0; f < fetches.size(); ++f) {
        // dgamma and dbeta are sums over N*H*W values.
        const double tol = f < 2 ? 1e-4 : 1e-4 * static_cast<double>(shape.num_elements() / c);
        for (int64_t i = 0; i < (*want)[f].num_elements(); ++i) {
          ASSERT_NEAR(At((*got)[f], i), At((*want)[f], i), tol) << "fetch " << f << " element " << i;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Gradients.

struct GradCase {
  const char* name;
  std::vector<int64_t> shape;
  bool training;
};

class BatchNormGradients : public testing::TestWithParam<GradCase> {};

TEST_P(BatchNormGradients, MatchNumerical) {
  const GradCase& p = GetParam();
  const Shape shape(p.shape);
  const int64_t c = shape[1];
  BnGraph b(shape);
  ASSERT_TRUE(b.g.status().ok()) << b.g.status();
  autodiff::GradientCheckOptions options;
  options.run.training = p.training;
  auto report = CheckGradients(b.g, b.y, {{b.x, RandomTensor(shape, 51)}, {b.gamma, Gamma(c, 52)}, {b.beta, Beta(c, 53)}},
                               options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok) << report->worst << " (max error " << report->max_error << ")";
  EXPECT_EQ(report->checked, shape.num_elements() + 2 * c);
}

const GradCase kGradCases[] = {
    {"TrainingNCHW", {3, 2, 3, 3}, true},
    {"TrainingNC", {6, 3}, true},
    {"TrainingTwoExamples", {2, 3, 1, 2}, true},
    {"InferenceNCHW", {3, 2, 3, 3}, false},
    {"InferenceNC", {6, 3}, false},
};

INSTANTIATE_TEST_SUITE_P(All, BatchNormGradients, testing::ValuesIn(kGradCases),
                         [](const testing::TestParamInfo<GradCase>& i) { return std::string(i.param.name); });

// The running statistics are state: no gradient reaches them.
TEST(BatchNormGradientsRule, NoGradientForRunningStats) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {4, 2});
  Output rm = ops::Placeholder(g, "rm", {2}), rv = ops::Placeholder(g, "rv", {2});
  Output y = ops::BatchNorm(g, x, ops::Const(g, Gamma(2, 1)), ops::Const(g, Beta(2, 1)), rm, rv);
  auto grads = autodiff::Gradients(g, ops::Sum(g, y), {x, rm, rv});
  ASSERT_TRUE(grads.ok()) << grads.status();
  EXPECT_TRUE((*grads)[0].valid());
  EXPECT_FALSE((*grads)[1].valid());
  EXPECT_FALSE((*grads)[2].valid());
}

// ---------------------------------------------------------------------------
// Errors.

TEST(BatchNormErrors, BadShapesNameTheNode) {
  {
    Graph g;
    Output x = ops::Placeholder(g, "x", {2, 3, 4, 4});
    Output v3 = ops::Placeholder(g, "v3", {3}), v4 = ops::Placeholder(g, "v4", {4});
    EXPECT_FALSE(ops::BatchNorm(g, x, v3, v3, v4, v3, {}, "bn1").valid());
    EXPECT_THAT(std::string(g.status().message()), HasSubstr("BatchNorm node 'bn1'"));
    EXPECT_THAT(std::string(g.status().message()), HasSubstr("running_mean"));
    EXPECT_THAT(std::string(g.status().message()), HasSubstr("[3]"));
  }
  {
    Graph g;
    Output x = ops::Placeholder(g, "x", {2, 3, 4});
    Output v = ops::Placeholder(g, "v", {3});
    EXPECT_FALSE(ops::BatchNorm(g, x, v, v, v, v, {}, "bn2").valid());
    EXPECT_THAT(std::string(g.status().message()), HasSubstr("BatchNorm node 'bn2'"));
    EXPECT_THAT(std::string(g.status().message()), HasSubstr("[N,C,H,W] or [N,C]"));
  }
  for (ops::BatchNormOptions opts : {ops::BatchNormOptions{0.0, 0.1}, ops::BatchNormOptions{1e-5, 1.5}}) {
    Graph g;
    Output x = ops::Placeholder(g, "x", {2, 3});
    Output v = ops::Placeholder(g, "v", {3});
    EXPECT_FALSE(ops::BatchNorm(g, x, v, v, v, v, opts, "bn3").valid());
    EXPECT_THAT(std::string(g.status().message()), HasSubstr("BatchNorm node 'bn3'"));
  }
}

// One value per channel has no unbiased variance (PyTorch refuses too), but
// inference on a single example is fine.
TEST(BatchNormErrors, TrainingNeedsTwoValuesPerChannel) {
  BnGraph b({1, 3});
  ASSERT_TRUE(b.g.status().ok()) << b.g.status();
  runtime::Feeds feeds{{b.x, RandomTensor({1, 3}, 1)}, {b.gamma, Gamma(3, 2)}, {b.beta, Beta(3, 3)}};
  for (bool reference : {false, true}) {
    auto train = RunGraph(b.g, feeds, {b.y}, Training(true), reference);
    ASSERT_FALSE(train.ok());
    EXPECT_THAT(std::string(train.status().message()), HasSubstr("BatchNorm node 'bn'"));
    EXPECT_THAT(std::string(train.status().message()), HasSubstr("more than one value per channel"));
    EXPECT_TRUE(RunGraph(b.g, feeds, {b.y}, Training(false), reference).ok());
  }
}

}  // namespace
}  // namespace strata
