// SGD against PyTorch's update rule, computed by hand in double, including a
// learning-rate change between steps (where the momentum conventions differ).
#include <cmath>

#include <gtest/gtest.h>

#include "ops/math.h"
#include "ops/state.h"
#include "optim/sgd.h"
#include "runtime/session.h"

namespace strata {
namespace {

// loss = sum(c * w * w): grad = 2 c w.
TEST(SGD, MatchesPyTorchRuleWithMomentumDecayAndRateChange) {
  for (bool nesterov : {false, true}) {
    Graph g;
    Output w = ops::Variable(g, "w", {3}, ops::Initializer::Constant(1.0));
    Output c = ops::Const(g, Tensor::FromVector<float>({3}, {0.5f, -0.25f, 2.0f}));
    Output loss = ops::Sum(g, ops::Mul(g, c, ops::Mul(g, w, w)));
    optim::SGDOptions opt{0.1, 0.9, 0.01, nesterov};
    auto step = optim::MinimizeWithSGD(g, loss, opt);
    ASSERT_TRUE(step.ok()) << step.status();
    auto s = runtime::Session::Create(g);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->InitializeVariables(0).ok());

    double cw[3] = {0.5, -0.25, 2.0}, ww[3] = {1, 1, 1}, v[3] = {0, 0, 0};
    for (int k = 0; k < 5; ++k) {
      double lr = k < 3 ? 0.1 : 0.01;
      if (k == 3) ASSERT_TRUE(optim::SetLearningRate((*s)->variables(), 0.01).ok());
      ASSERT_TRUE((*s)->Run({}, {}, {*step}).ok());
      for (int i = 0; i < 3; ++i) {
        double grad = 2 * cw[i] * ww[i] + 0.01 * ww[i];
        v[i] = 0.9 * v[i] + grad;
        ww[i] -= lr * (nesterov ? grad + 0.9 * v[i] : v[i]);
      }
    }
    Tensor got = *(*s)->variables().Get("w");
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(got.data<float>()[i], ww[i], 1e-5) << "nesterov=" << nesterov;
    // The slot is a variable, so checkpoints carry it.
    EXPECT_TRUE((*s)->variables().Has("w/momentum"));
    EXPECT_NEAR(*optim::GetLearningRate((*s)->variables()), 0.01, 1e-9);
  }
}

TEST(SGD, RejectsLossIndependentOfAVariable) {
  Graph g;
  Output w = ops::Variable(g, "w", {2});
  ops::Variable(g, "unused", {2});
  auto step = optim::MinimizeWithSGD(g, ops::Sum(g, w), {});
  EXPECT_FALSE(step.ok());
  EXPECT_NE(std::string(step.status().message()).find("unused"), std::string::npos) << step.status();
}

}  // namespace
}  // namespace strata
