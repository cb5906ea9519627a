// Elementwise arithmetic and reductions: values against hand results, and
// every gradient against the numerical checker.
#include <gtest/gtest.h>

#include "tests/test_util.h"

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


using test::RunGraph;

// A stored [rows, cols] row-major matrix, transposed.
Tensor Transposed(const Tensor& t) {
  const int64_t rows = t.shape()[0], cols = t.shape()[1];
  Tensor out(t.dtype(), {cols, rows});
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) out.data<float>()[j * rows + i] = t.data<float>()[i * cols + j];
  }
  return out;
}

TEST(MathOps, MatMulValuesForEveryTranspose) {
  const Tensor a = Tensor::FromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b = Tensor::FromVector<float>({3, 2}, {7, 8, 9, 10, 11, 12});
  const float expected[] = {58, 64, 139, 154};
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      Graph g;
      Tensor av = ta ? Transposed(a) : a, bv = tb ? Transposed(b) : b;
      Output pa = ops::Placeholder(g, "a", av.shape());
      Output pb = ops::Placeholder(g, "b", bv.shape());
      Output y = ops::MatMul(g, pa, pb, ta, tb);
      ASSERT_TRUE(g.status().ok()) << g.status();
      EXPECT_EQ(y.shape(), (Shape{2, 2}));
      for (bool reference : {false, true}) {
        auto out = RunGraph(g, {{pa, av}, {pb, bv}}, {y}, reference);
        ASSERT_TRUE(out.ok()) << out.status();
        const Tensor f = (*out)[0].CastTo(DType::kFloat32);
        for (int i = 0; i < 4; ++i) {
          EXPECT_EQ(f.data<float>()[i], expected[i]) << "ta=" << ta << " tb=" << tb << " ref=" << reference;
        }
      }
    }
  }
}

TEST(MathOps, MatMulMatchesReferenceOnOddSizes) {
  Graph g;
  Output a = ops::Placeholder(g, "a", {33, 17});
  Output b = ops::Placeholder(g, "b", {9, 33});
  Output y = ops::MatMul(g, a, b, /*transpose_a=*/true, /*transpose_b=*/true);
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_EQ(y.shape(), (Shape{17, 9}));
  runtime::Feeds feeds = {{a, RandomTensor({33, 17}, 1)}, {b, RandomTensor({9, 33}, 2)}};
  auto fast = RunGraph(g, feeds, {y});
  auto ref = RunGraph(g, feeds, {y}, true);
  ASSERT_TRUE(fast.ok()) << fast.status();
  ASSERT_TRUE(ref.ok()) << ref.status();
  for (int64_t i = 0; i < 17 * 9; ++i) {
    EXPECT_NEAR((*fast)[0].data<float>()[i], (*ref)[0].data<double>()[i], 1e-4) << i;
  }
}

TEST(MathOps, MatMulShapeErrorNamesTheNode) {
  Graph g;
  Output a = ops::Placeholder(g, "a", {2, 3});
  Output b = ops::Placeholder(g, "b", {4, 5});
  EXPECT_FALSE(ops::MatMul(g, a, b, false, false, "my_matmul").valid());
  const std::string message(g.status().message());
  EXPECT_NE(message.find("my_matmul"), std::string::npos) << message;
  EXPECT_NE(message.find("3 vs 4"), std::string::npos) << message;
  EXPECT_NE(message.find("float32[4,5]"), std::string::npos) << message;
}

TEST(MathOps, BiasAddAndItsGradientValues) {
  Graph g;
  Output x2 = ops::Placeholder(g, "x2", {2, 3});
  Output b3 = ops::Placeholder(g, "b3", {3});
  Output x4 = ops::Placeholder(g, "x4", {2, 2, 1, 3});
  Output b2 = ops::Placeholder(g, "b2", {2});
  Output y2 = ops::BiasAdd(g, x2, b3), y4 = ops::BiasAdd(g, x4, b2);
  Output db2 = ops::BiasAddGrad(g, x2), db4 = ops::BiasAddGrad(g, x4);
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_EQ(db4.shape(), Shape{2});
  std::vector<float> twelve(12);
  for (int i = 0; i < 12; ++i) twelve[i] = static_cast<float>(i);
  runtime::Feeds feeds = {{x2, Tensor::FromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6})},
                          {b3, Tensor::FromVector<float>({3}, {10, 20, 30})},
                          {x4, Tensor::FromVector<float>({2, 2, 1, 3}, twelve)},
                          {b2, Tensor::FromVector<float>({2}, {100, 200})}};
  for (bool reference : {false, true}) {
    auto out = RunGraph(g, feeds, {y2, y4, db2, db4}, reference);
    ASSERT_TRUE(out.ok()) << out.status();
    std::vector<Tensor> f;
    for (const Tensor& t : *out) f.push_back(t.CastTo(DType::kFloat32));
    const float e2[] = {11, 22, 33, 14, 25, 36};
    for (int i = 0; i < 6; ++i) EXPECT_EQ(f[0].data<float>()[i], e2[i]) << i;
    // x4 is [n][c][w]: channel 0 holds 0-2 and 6-8, channel 1 holds 3-5 and 9-11.
    for (int i = 0; i < 12; ++i) EXPECT_EQ(f[1].data<float>()[i], i + ((i / 3) % 2 ? 200 : 100)) << i;
    EXPECT_EQ(f[2].data<float>()[0], 5);
    EXPECT_EQ(f[2].data<float>()[2], 9);
    EXPECT_EQ(f[3].data<float>()[0], 0 + 1 + 2 + 6 + 7 + 8);
    EXPECT_EQ(f[3].data<float>()[1], 3 + 4 + 5 + 9 + 10 + 11);
  }
}

TEST(MathOps, BiasAddGradWithNothingToReduce) {
  // [1,C] and [1,C,1,1]: every dimension but 1 is already 1.
  for (Shape shape : {Shape{1, 3}, Shape{1, 3, 1, 1}}) {
    Graph g;
    Output dy = ops::Placeholder(g, "dy", shape);
    Output db = ops::BiasAddGrad(g, dy);
    auto out = RunGraph(g, {{dy, Tensor::FromVector<float>(shape, {1.5f, -2, 3})}}, {db});
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ((*out)[0].data<float>()[0], 1.5f);
    EXPECT_EQ((*out)[0].data<float>()[1], -2);
    EXPECT_EQ((*out)[0].data<float>()[2], 3);
  }
}

TEST(MathOps, BiasAddGradMatchesReferenceOnManyRows) {
  // More rows than one summation block (32), and a partial last block.
  for (Shape shape : {Shape{70, 5}, Shape{45, 3, 4, 3}, Shape{64, 6, 28, 28}}) {
    Graph g;
    Output dy = ops::Placeholder(g, "dy", shape);
    Output db = ops::BiasAddGrad(g, dy);
    runtime::Feeds feeds = {{dy, RandomTensor(shape, 9)}};
    auto fast = RunGraph(g, feeds, {db});
    auto ref = RunGraph(g, feeds, {db}, true);
    ASSERT_TRUE(fast.ok()) << fast.status();
    ASSERT_TRUE(ref.ok()) << ref.status();
    for (int64_t c = 0; c < shape[1]; ++c) {
      EXPECT_NEAR((*fast)[0].data<float>()[c], (*ref)[0].data<double>()[c], 1e-3) << shape.ToString() << c;
    }
  }
}

TEST(MathOps, BiasAddRejectsAWrongBias) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {4, 3, 2, 2});
  Output b = ops::Placeholder(g, "b", {2});
  EXPECT_FALSE(ops::BiasAdd(g, x, b, "my_bias").valid());
  const std::string message(g.status().message());
  EXPECT_NE(message.find("my_bias"), std::string::npos) << message;
  EXPECT_NE(message.find("3 channels"), std::string::npos) << message;
}

TEST(MathOps, FullyConnected) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {2, 3});
  Output w = ops::Placeholder(g, "w", {3, 2});
  Output b = ops::Placeholder(g, "b", {2});
  Output y = ops::FullyConnected(g, x, w, b, "fc");
  Output no_bias = ops::FullyConnected(g, x, w, Output{});
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_EQ(y.node->name(), "fc/BiasAdd");
  ASSERT_NE(g.FindNode("fc/MatMul"), nullptr);
  EXPECT_EQ(no_bias.node->op(), "MatMul");
  auto out = RunGraph(g, {{x, Tensor::FromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6})},
                          {w, Tensor::FromVector<float>({3, 2}, {7, 8, 9, 10, 11, 12})},
                          {b, Tensor::FromVector<float>({2}, {-1, 1})}},
                      {y, no_bias});
  ASSERT_TRUE(out.ok()) << out.status();
  const float e[] = {57, 65, 138, 155};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ((*out)[0].data<float>()[i], e[i]) << i;
    EXPECT_EQ((*out)[1].data<float>()[i], e[i] + (i % 2 ? -1 : 1)) << i;
  }
}

class MatMulGradients : public testing::TestWithParam<std::tuple<bool, bool>> {};

TEST_P(MatMulGradients, MatchNumerical) {
  const auto [ta, tb] = GetParam();
  // M=2, K=3, N=4: every dimension distinct, so a wrong transpose cannot hide.
  const Shape sa = ta ? Shape{3, 2} : Shape{2, 3};
  const Shape sb = tb ? Shape{4, 3} : Shape{3, 4};
  Graph g;
  Output a = ops::Placeholder(g, "a", sa);
  Output b = ops::Placeholder(g, "b", sb);
  Output y = ops::MatMul(g, a, b, ta, tb);
  auto report = CheckGradients(g, y, {{a, RandomTensor(sa, 1)}, {b, RandomTensor(sb, 2)}});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok) << "ta=" << ta << " tb=" << tb << ": " << report->worst;
  EXPECT_EQ(report->checked, 6 + 12);
}

INSTANTIATE_TEST_SUITE_P(All, MatMulGradients, testing::Combine(testing::Bool(), testing::Bool()));

TEST(MathOps, BiasAddGradients) {
  for (Shape shape : {Shape{4, 3}, Shape{2, 3, 2, 2}, Shape{1, 3}}) {
    Graph g;
    Output x = ops::Placeholder(g, "x", shape);
    Output b = ops::Placeholder(g, "b", {3});
    Output y = ops::BiasAdd(g, x, b);
    auto report = CheckGradients(g, y, {{x, RandomTensor(shape, 1)}, {b, RandomTensor({3}, 2)}});
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_TRUE(report->ok) << shape.ToString() << ": " << report->worst;
    EXPECT_EQ(report->checked, shape.num_elements() + 3);
  }
}

TEST(MathOps, FullyConnectedGradients) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {5, 3});
  Output w = ops::Placeholder(g, "w", {3, 4});
  Output b = ops::Placeholder(g, "b", {4});
  Output y = ops::FullyConnected(g, x, w, b);
  auto report = CheckGradients(g, y, {{x, RandomTensor({5, 3}, 1)}, {w, RandomTensor({3, 4}, 2)},
                                      {b, RandomTensor({4}, 3)}});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok) << report->worst;
  EXPECT_EQ(report->checked, 15 + 12 + 4);
}

}  // namespace
}  // namespace strata
