// Elementwise arithmetic and reductions: values against hand results, and
// every gradient against the numerical checker.
#include <gtest/gtest.h>

#include "autodiff/gradient_checker.h"
#include "ops/math.h"
#include "ops/state.h"
#include "runtime/session.h"

namespace strata {
namespace {

using autodiff::CheckGradients;
using autodiff::RandomTensor;

TEST(MathOps, AddMulSubValues) {
  Graph g;
  Output a = ops::Placeholder(g, "a", {2, 2});
  Output b = ops::Placeholder(g, "b", {2, 2});
  Output s = ops::Placeholder(g, "s", {});
  Output add = ops::Add(g, a, b), mul = ops::Mul(g, a, b), sub = ops::Sub(g, a, s);
  Output sum = ops::Sum(g, a), mean = ops::Mean(g, b);
  ASSERT_TRUE(g.status().ok()) << g.status();
  auto session = runtime::Session::Create(g);
  ASSERT_TRUE(session.ok()) << session.status();
  auto out = (*session)->Run({{a, Tensor::FromVector<float>({2, 2}, {1, 2, 3, 4})},
                              {b, Tensor::FromVector<float>({2, 2}, {5, 6, 7, 8})},
                              {s, Tensor::Scalar<float>(10)}},
                             {add, mul, sub, sum, mean});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].data<float>()[3], 12);
  EXPECT_EQ((*out)[1].data<float>()[2], 21);
  EXPECT_EQ((*out)[2].data<float>()[0], -9);
  EXPECT_EQ((*out)[3].data<float>()[0], 10);
  EXPECT_FLOAT_EQ((*out)[4].data<float>()[0], 6.5);
}

TEST(MathOps, MismatchedShapesNameTheNode) {
  Graph g;
  Output a = ops::Placeholder(g, "a", {2, 3});
  Output b = ops::Placeholder(g, "b", {3, 2});
  Output c = ops::Add(g, a, b, "my_add");
  EXPECT_FALSE(c.valid());
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(g.status().message()).find("my_add"), std::string::npos) << g.status();
  EXPECT_NE(std::string(g.status().message()).find("[2,3]"), std::string::npos) << g.status();
}

struct GradCase {
  const char* name;
  Output (*build)(Graph&, Output, Output);
};

class MathGradients : public testing::TestWithParam<GradCase> {};

TEST_P(MathGradients, MatchNumerical) {
  for (bool scalar_b : {false, true}) {
    Graph g;
    Output a = ops::Placeholder(g, "a", {3, 4});
    Output b = ops::Placeholder(g, "b", scalar_b ? Shape{} : Shape{3, 4});
    Output y = GetParam().build(g, a, b);
    auto report = CheckGradients(g, y, {{a, RandomTensor({3, 4}, 1)}, {b, RandomTensor(b.shape(), 2)}});
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_TRUE(report->ok) << GetParam().name << " scalar_b=" << scalar_b << ": " << report->worst;
    EXPECT_EQ(report->checked, 12 + b.shape().num_elements());
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, MathGradients,
    testing::Values(GradCase{"Add", [](Graph& g, Output a, Output b) { return ops::Add(g, a, b); }},
                    GradCase{"Sub", [](Graph& g, Output a, Output b) { return ops::Sub(g, a, b); }},
                    GradCase{"Mul", [](Graph& g, Output a, Output b) { return ops::Mul(g, a, b); }},
                    GradCase{"SumOfMul",
                             [](Graph& g, Output a, Output b) { return ops::Sum(g, ops::Mul(g, a, b)); }},
                    GradCase{"MeanOfAdd",
                             [](Graph& g, Output a, Output b) { return ops::Mean(g, ops::Add(g, a, b)); }},
                    // `a` used twice: its two gradient contributions are summed.
                    GradCase{"ValueUsedTwice",
                             [](Graph& g, Output a, Output b) { return ops::Mul(g, ops::Mul(g, a, a), b); }}),
    [](const testing::TestParamInfo<GradCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace strata
