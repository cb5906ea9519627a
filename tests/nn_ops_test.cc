// Activations, softmax, the softmax cross-entropy loss and ArgMax: values
// against hand results and the float64 reference kernels, gradients against
// the numerical checker, and the errors a user can run into.
#include <gtest/gtest.h>

#include "tests/test_util.h"

#include <cmath>

#include "autodiff/gradient_checker.h"
#include "autodiff/gradients.h"
#include "ops/math.h"
#include "ops/nn.h"
#include "ops/registry.h"
#include "ops/state.h"
#include "runtime/session.h"

namespace strata {
namespace {

using autodiff::CheckGradients;
using autodiff::DistinctTensor;
using autodiff::RandomTensor;

using test::RunGraph;

// Values at least 0.05 away from 0, where ReLU is differentiable.
Tensor AwayFromZero(const Shape& shape, uint64_t seed) {
  Tensor t = DistinctTensor(shape, seed, 0.1f);
  // Pushed outwards rather than shifted: DistinctTensor can produce 0.
  for (float& v : t.flat<float>()) v += v >= 0 ? 0.05f : -0.05f;
  return t;
}

TEST(NnOps, ActivationValues) {
  const std::vector<float> xs = {-2.f, -0.5f, 0.f, 0.25f, 1.f, 3.f};
  Graph g;
  Output x = ops::Placeholder(g, "x", {2, 3});
  Output relu = ops::Relu(g, x), tanh = ops::Tanh(g, x), sigmoid = ops::Sigmoid(g, x);
  ASSERT_TRUE(g.status().ok()) << g.status();
  auto out = RunGraph(g, {{x, Tensor::FromVector<float>({2, 3}, xs)}}, {relu, tanh, sigmoid});
  ASSERT_TRUE(out.ok()) << out.status();
  for (int i = 0; i < 6; ++i) {
    EXPECT_FLOAT_EQ((*out)[0].data<float>()[i], std::max(xs[i], 0.f)) << i;
    EXPECT_NEAR((*out)[1].data<float>()[i], std::tanh(xs[i]), 1e-6) << i;
    EXPECT_NEAR((*out)[2].data<float>()[i], 1 / (1 + std::exp(-xs[i])), 1e-6) << i;
  }
}

TEST(NnOps, ActivationsTakeAnyRank) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {2, 3, 4, 5});
  Output y = ops::Relu(g, ops::Sigmoid(g, x));
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_EQ(y.shape(), (Shape{2, 3, 4, 5}));
  Tensor value = RandomTensor(x.shape(), 3, -4, 4);
  auto fast = RunGraph(g, {{x, value}}, {y});
  auto ref = RunGraph(g, {{x, value}}, {y}, /*reference=*/true);
  ASSERT_TRUE(fast.ok()) << fast.status();
  ASSERT_TRUE(ref.ok()) << ref.status();
  for (int64_t i = 0; i < value.num_elements(); ++i) {
    EXPECT_NEAR((*fast)[0].data<float>()[i], (*ref)[0].data<double>()[i], 1e-6) << i;
  }
}

TEST(NnOps, SoftmaxValues) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {2, 3});
  Output y = ops::Softmax(g, x);
  auto out = RunGraph(g, {{x, Tensor::FromVector<float>({2, 3}, {1, 2, 3, 5, 5, 5})}}, {y});
  ASSERT_TRUE(out.ok()) << out.status();
  const float* p = (*out)[0].data<float>();
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  EXPECT_NEAR(p[0], std::exp(1.0) / z, 1e-6);
  EXPECT_NEAR(p[1], std::exp(2.0) / z, 1e-6);
  EXPECT_NEAR(p[2], std::exp(3.0) / z, 1e-6);
  for (int i = 3; i < 6; ++i) EXPECT_NEAR(p[i], 1.0 / 3, 1e-6);
}

TEST(NnOps, SoftmaxMatchesReferenceOnLargeLogits) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {7, 11});
  Output y = ops::Softmax(g, x);
  Tensor value = RandomTensor(x.shape(), 5, -50, 50);
  auto fast = RunGraph(g, {{x, value}}, {y});
  auto ref = RunGraph(g, {{x, value}}, {y}, true);
  ASSERT_TRUE(fast.ok()) << fast.status();
  ASSERT_TRUE(ref.ok()) << ref.status();
  for (int64_t i = 0; i < value.num_elements(); ++i) {
    const float f = (*fast)[0].data<float>()[i];
    ASSERT_TRUE(std::isfinite(f)) << i;
    EXPECT_NEAR(f, (*ref)[0].data<double>()[i], 1e-5) << i;
  }
}

TEST(NnOps, SoftmaxCrossEntropyByHand) {
  Graph g;
  Output logits = ops::Placeholder(g, "logits", {2, 3});
  Output labels = ops::Placeholder(g, "labels", {2}, DType::kInt32);
  Output loss = ops::SoftmaxCrossEntropyWithLogits(g, logits, labels, "loss");
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_EQ(loss.shape(), Shape{});
  Output grad{loss.node, 1};
  runtime::Feeds feeds = {{logits, Tensor::FromVector<float>({2, 3}, {1, 2, 3, 1, 1, 1})},
                          {labels, Tensor::FromVector<int32_t>({2}, {2, 0})}};
  // Row 0: -log(e^3 / (e + e^2 + e^3)) = log(1 + e^-1 + e^-2); row 1: log 3.
  const double row0 = std::log(1 + std::exp(-1.0) + std::exp(-2.0));
  const double row1 = std::log(3.0);
  for (bool reference : {false, true}) {
    auto out = RunGraph(g, feeds, {loss, grad}, reference);
    ASSERT_TRUE(out.ok()) << out.status();
    const Tensor l = (*out)[0].CastTo(DType::kFloat64);
    const Tensor d = (*out)[1].CastTo(DType::kFloat64);
    EXPECT_NEAR(l.data<double>()[0], (row0 + row1) / 2, 1e-6) << "reference=" << reference;
    const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
    // (softmax - onehot) / N with N = 2.
    EXPECT_NEAR(d.data<double>()[0], std::exp(1.0) / z / 2, 1e-6);
    EXPECT_NEAR(d.data<double>()[2], (std::exp(3.0) / z - 1) / 2, 1e-6);
    EXPECT_NEAR(d.data<double>()[3], (1.0 / 3 - 1) / 2, 1e-6);
    EXPECT_NEAR(d.data<double>()[4], 1.0 / 6, 1e-6);
  }
}

TEST(NnOps, SoftmaxCrossEntropyIsStableForLargeLogits) {
  Graph g;
  Output logits = ops::Placeholder(g, "logits", {2, 2});
  Output labels = ops::Placeholder(g, "labels", {2}, DType::kInt32);
  Output loss = ops::SoftmaxCrossEntropyWithLogits(g, logits, labels);
  // Row 0 is right with certainty (loss 0); row 1 is wrong by 1000.
  auto out = RunGraph(g, {{logits, Tensor::FromVector<float>({2, 2}, {1000, 0, 1000, 0})},
                          {labels, Tensor::FromVector<int32_t>({2}, {0, 1})}},
                      {loss, Output{loss.node, 1}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_NEAR((*out)[0].data<float>()[0], 500.0, 1e-3);
  for (float v : (*out)[1].flat<float>()) EXPECT_TRUE(std::isfinite(v));
  EXPECT_NEAR((*out)[1].data<float>()[2], 0.5, 1e-6);   // row 1: (1 - 0) / 2
  EXPECT_NEAR((*out)[1].data<float>()[3], -0.5, 1e-6);  // row 1: (0 - 1) / 2
}

TEST(NnOps, LossAndArgMaxMatchReferenceOnABigBatch) {
  // Large enough for the kernels' parallel loops.
  const int64_t n = 300, classes = 20;
  Graph g;
  Output logits = ops::Placeholder(g, "logits", {n, classes});
  Output labels = ops::Placeholder(g, "labels", {n}, DType::kInt32);
  Output loss = ops::SoftmaxCrossEntropyWithLogits(g, logits, labels);
  Output am = ops::ArgMax(g, logits);
  Tensor label_values(DType::kInt32, {n});
  for (int64_t i = 0; i < n; ++i) label_values.data<int32_t>()[i] = static_cast<int32_t>((i * 7) % classes);
  runtime::Feeds feeds = {{logits, DistinctTensor({n, classes}, 4, 0.002f)}, {labels, label_values}};
  auto fast = RunGraph(g, feeds, {loss, Output{loss.node, 1}, am});
  auto ref = RunGraph(g, feeds, {loss, Output{loss.node, 1}, am}, true);
  ASSERT_TRUE(fast.ok()) << fast.status();
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_NEAR((*fast)[0].data<float>()[0], (*ref)[0].data<double>()[0], 1e-5);
  for (int64_t i = 0; i < n * classes; ++i) {
    ASSERT_NEAR((*fast)[1].data<float>()[i], (*ref)[1].data<double>()[i], 1e-7) << i;
  }
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ((*fast)[2].data<int32_t>()[i], (*ref)[2].data<int32_t>()[i]) << i;
}

TEST(NnOps, OutOfRangeLabelIsAnError) {
  for (int32_t bad : {3, -1}) {
    Graph g;
    Output logits = ops::Placeholder(g, "logits", {3, 3});
    Output labels = ops::Placeholder(g, "labels", {3}, DType::kInt32);
    Output loss = ops::SoftmaxCrossEntropyWithLogits(g, logits, labels, "my_loss");
    for (bool reference : {false, true}) {
      auto out = RunGraph(g, {{logits, RandomTensor({3, 3}, 1)},
                              {labels, Tensor::FromVector<int32_t>({3}, {0, bad, 2})}},
                          {loss}, reference);
      ASSERT_FALSE(out.ok());
      const std::string message(out.status().message());
      EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(message.find("my_loss"), std::string::npos) << message;
      EXPECT_NE(message.find("example 1"), std::string::npos) << message;
      EXPECT_NE(message.find(absl::StrCat("label ", bad)), std::string::npos) << message;
    }
  }
}

TEST(NnOps, SoftmaxCrossEntropyShapeErrors) {
  {
    Graph g;
    Output logits = ops::Placeholder(g, "logits", {4, 3});
    Output labels = ops::Placeholder(g, "labels", {5}, DType::kInt32);
    EXPECT_FALSE(ops::SoftmaxCrossEntropyWithLogits(g, logits, labels, "xent").valid());
    EXPECT_NE(std::string(g.status().message()).find("xent"), std::string::npos) << g.status();
    EXPECT_NE(std::string(g.status().message()).find("int32[5]"), std::string::npos) << g.status();
  }
  {
    Graph g;
    Output logits = ops::Placeholder(g, "logits", {4, 3});
    Output labels = ops::Placeholder(g, "labels", {4});  // float32: a common mistake
    EXPECT_FALSE(ops::SoftmaxCrossEntropyWithLogits(g, logits, labels).valid());
    EXPECT_NE(std::string(g.status().message()).find("int32"), std::string::npos) << g.status();
  }
  {
    Graph g;
    Output x = ops::Placeholder(g, "x", {2, 3, 4});
    EXPECT_FALSE(ops::Softmax(g, x, "sm").valid());
    EXPECT_NE(std::string(g.status().message()).find("rank 2"), std::string::npos) << g.status();
  }
}

TEST(NnOps, ArgMaxValues) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {3, 4});
  Output am = ops::ArgMax(g, x);
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_EQ(am.spec(), (TensorSpec{DType::kInt32, Shape{3}}));
  // Row 2 has a tie: the first index wins.
  Tensor value = Tensor::FromVector<float>({3, 4}, {0, 5, 2, 1, -3, -2, -1, -4, 7, 1, 7, 0});
  for (bool reference : {false, true}) {
    auto out = RunGraph(g, {{x, value}}, {am}, reference);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ((*out)[0].data<int32_t>()[0], 1);
    EXPECT_EQ((*out)[0].data<int32_t>()[1], 2);
    EXPECT_EQ((*out)[0].data<int32_t>()[2], 0);
  }
}

TEST(NnOps, ArgMaxIsDeclaredNotDifferentiable) {
  const OpDef* def = ops::Registry().Find("ArgMax");
  ASSERT_NE(def, nullptr);
  EXPECT_TRUE(def->no_gradient);
  EXPECT_FALSE(def->gradient);
}

TEST(NnOps, EltwiseGradRejectsUnknownKind) {
  Graph g;
  Output dy = ops::Placeholder(g, "dy", {2});
  Output x = ops::Placeholder(g, "x", {2});
  Node* n = g.AddNode(ops::Def("EltwiseGrad"), "bad", {dy, x}, {{"kind", std::string("gelu")}});
  EXPECT_EQ(n, nullptr);
  EXPECT_NE(std::string(g.status().message()).find("gelu"), std::string::npos) << g.status();
}

struct UnaryCase {
  const char* name;
  Output (*build)(Graph&, Output);
  Shape shape;
  bool away_from_zero;
};

class NnGradients : public testing::TestWithParam<UnaryCase> {};

TEST_P(NnGradients, MatchNumerical) {
  const UnaryCase& p = GetParam();
  Graph g;
  Output x = ops::Placeholder(g, "x", p.shape);
  Output y = p.build(g, x);
  Tensor value = p.away_from_zero ? AwayFromZero(p.shape, 7) : RandomTensor(p.shape, 7, -2, 2);
  auto report = CheckGradients(g, y, {{x, value}});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok) << p.name << ": " << report->worst;
  EXPECT_EQ(report->checked, p.shape.num_elements());
}

INSTANTIATE_TEST_SUITE_P(
    All, NnGradients,
    testing::Values(
        UnaryCase{"Relu", [](Graph& g, Output x) { return ops::Relu(g, x); }, {3, 5}, true},
        UnaryCase{"Relu4D", [](Graph& g, Output x) { return ops::Relu(g, x); }, {2, 3, 2, 2}, true},
        UnaryCase{"Tanh", [](Graph& g, Output x) { return ops::Tanh(g, x); }, {3, 5}, false},
        UnaryCase{"Sigmoid", [](Graph& g, Output x) { return ops::Sigmoid(g, x); }, {3, 5}, false},
        UnaryCase{"Softmax", [](Graph& g, Output x) { return ops::Softmax(g, x); }, {4, 6}, false},
        // Chains, so that a gradient op's output feeds another gradient op.
        UnaryCase{"TanhOfSigmoid", [](Graph& g, Output x) { return ops::Tanh(g, ops::Sigmoid(g, x)); },
                  {2, 7}, false},
        UnaryCase{"SoftmaxOfRelu", [](Graph& g, Output x) { return ops::Softmax(g, ops::Relu(g, x)); },
                  {3, 4}, true},
        UnaryCase{"Xent",
                  [](Graph& g, Output x) {
                    Output labels = ops::Const(g, Tensor::FromVector<int32_t>({5}, {0, 3, 1, 3, 2}), "labels");
                    return ops::SoftmaxCrossEntropyWithLogits(g, x, labels);
                  },
                  {5, 4}, false},
        UnaryCase{"XentOfTanh",
                  [](Graph& g, Output x) {
                    Output labels = ops::Const(g, Tensor::FromVector<int32_t>({3}, {2, 0, 1}), "labels");
                    return ops::SoftmaxCrossEntropyWithLogits(g, ops::Tanh(g, x), labels);
                  },
                  {3, 3}, false}),
    [](const testing::TestParamInfo<UnaryCase>& info) { return std::string(info.param.name); });

TEST(NnOps, XentGradientScalesWithUpstream) {
  // loss * 3: the rule must multiply output 1 by the incoming scalar.
  Graph g;
  Output x = ops::Placeholder(g, "x", {2, 3});
  Output labels = ops::Const(g, Tensor::FromVector<int32_t>({2}, {1, 2}), "labels");
  Output loss = ops::SoftmaxCrossEntropyWithLogits(g, x, labels);
  Output scaled = ops::Mul(g, loss, ops::ScalarConst(g, 3.f));
  auto grads = autodiff::Gradients(g, scaled, {x});
  ASSERT_TRUE(grads.ok()) << grads.status();
  Tensor value = RandomTensor({2, 3}, 11);
  auto out = RunGraph(g, {{x, value}}, {(*grads)[0], Output{loss.node, 1}});
  ASSERT_TRUE(out.ok()) << out.status();
  for (int i = 0; i < 6; ++i) {
    EXPECT_NEAR((*out)[0].data<float>()[i], 3 * (*out)[1].data<float>()[i], 1e-6) << i;
  }
}

}  // namespace
}  // namespace strata
