// Pooling: output sizes (floor and ceil mode), values by hand and against
// the float64 reference, gradients against the numerical checker, and the
// oneDNN backward kernels (max pooling through its workspace) against the
// reference ones at LeNet-5 sizes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "autodiff/gradient_checker.h"
#include "autodiff/gradients.h"
#include "ops/math.h"
#include "ops/pool.h"
#include "ops/state.h"
#include "runtime/session.h"

namespace strata {
namespace {

using autodiff::CheckGradients;
using autodiff::DistinctTensor;
using autodiff::RandomTensor;
using testing::HasSubstr;

Shape PooledShape(int64_t size, ops::PoolOptions opts, bool max = true) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {2, 3, size, size});
  Output y = max ? ops::MaxPool(g, x, opts) : ops::AvgPool(g, x, opts);
  EXPECT_TRUE(g.status().ok()) << g.status();
  return y.valid() ? y.shape() : Shape{};
}

TEST(PoolShape, LectureSizes) {
  EXPECT_EQ(PooledShape(28, {2, 2}), Shape({2, 3, 14, 14}));           // LeNet-5 S2
  EXPECT_EQ(PooledShape(55, {3, 2}), Shape({2, 3, 27, 27}));           // AlexNet, overlapping
  EXPECT_EQ(PooledShape(112, {3, 2, 0, true}), Shape({2, 3, 56, 56}));  // GoogLeNet, ceil mode
  EXPECT_EQ(PooledShape(112, {3, 2, 0, false}), Shape({2, 3, 55, 55}));
  EXPECT_EQ(PooledShape(112, {3, 2, 1, false}), Shape({2, 3, 56, 56}));  // ResNet, padding 1
  EXPECT_EQ(PooledShape(5, {2, 2}), Shape({2, 3, 2, 2}));              // the last column is dropped
  EXPECT_EQ(PooledShape(5, {2, 2, 0, true}), Shape({2, 3, 3, 3}));
  EXPECT_EQ(PooledShape(28, {2, 2}, false), Shape({2, 3, 14, 14}));
  EXPECT_EQ(PooledShape(112, {3, 2, 0, true}, false), Shape({2, 3, 56, 56}));
}

TEST(PoolShape, OutputSizeFunction) {
  EXPECT_EQ(*ops::PoolOutputSize(6, {3, 2, 1, true}), 4);
  // Ceil mode would give 3, but the third window would start in the padding.
  EXPECT_EQ(*ops::PoolOutputSize(5, {3, 3, 1, true}), 2);
  EXPECT_EQ(*ops::PoolOutputSize(5, {3, 3, 1, false}), 2);
  EXPECT_FALSE(ops::PoolOutputSize(5, {3, 0, 0, false}).ok());
  EXPECT_FALSE(ops::PoolOutputSize(5, {2, 2, 2, false}).ok());
}

TEST(PoolShape, WorkspaceIsSecondOutput) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {4, 6, 28, 28});
  Output y = ops::MaxPool(g, x, {}, "s2");
  ASSERT_TRUE(g.status().ok()) << g.status();
  const TensorSpec& ws = y.node->output_spec(1);
  EXPECT_EQ(ws.dtype, DType::kUInt8);
  ASSERT_EQ(ws.shape.rank(), 1);
  // At least one byte per output element says where its maximum was.
  EXPECT_GE(ws.shape[0], y.shape().num_elements());
}

TEST(PoolShape, ErrorsNameTheNode) {
  for (ops::PoolOptions opts : {ops::PoolOptions{5, 2}, ops::PoolOptions{3, 2, 2}, ops::PoolOptions{2, 0}}) {
    Graph g;
    Output x = ops::Placeholder(g, "x", {1, 1, 4, 4});
    EXPECT_FALSE(ops::MaxPool(g, x, opts, "pool1").valid());
    EXPECT_THAT(std::string(g.status().message()), HasSubstr("MaxPool node 'pool1'"));
    EXPECT_THAT(std::string(g.status().message()), HasSubstr("[1,1,4,4]"));
  }
  Graph g;
  EXPECT_FALSE(ops::AvgPool(g, ops::Placeholder(g, "x", {4, 4}), {}, "flat").valid());
  EXPECT_THAT(std::string(g.status().message()), HasSubstr("rank 4"));
}

// ---------------------------------------------------------------------------
// Values.

TEST(PoolValues, HandComputed) {
  Graph g;
  std::vector<float> v(16);
  for (int i = 0; i < 16; ++i) v[i] = static_cast<float>(i + 1);
  Output x = ops::Const(g, Tensor::FromVector<float>({1, 1, 4, 4}, v));
  Output max = ops::MaxPool(g, x);
  Output avg = ops::AvgPool(g, x);
  // 3x3 stride 1 pad 1: corner windows hold 4 elements, edges 6 (padding not counted).
  Output padded = ops::AvgPool(g, x, {3, 1, 1});
  Output global = ops::GlobalAvgPool(g, x);
  ASSERT_TRUE(g.status().ok()) << g.status();
  auto session = runtime::Session::Create(g);
  ASSERT_TRUE(session.ok()) << session.status();
  auto out = (*session)->Run({}, {max, avg, padded, global});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT((*out)[0].flat<float>(), testing::ElementsAre(6, 8, 14, 16));
  EXPECT_THAT((*out)[1].flat<float>(), testing::ElementsAre(3.5, 5.5, 11.5, 13.5));
  const float* p = (*out)[2].data<float>();
  EXPECT_FLOAT_EQ(p[0], (1 + 2 + 5 + 6) / 4.f);
  EXPECT_FLOAT_EQ(p[1], (1 + 2 + 3 + 5 + 6 + 7) / 6.f);
  EXPECT_FLOAT_EQ(p[5], (1 + 2 + 3 + 5 + 6 + 7 + 9 + 10 + 11) / 9.f);
  EXPECT_EQ((*out)[3].shape(), Shape({1, 1, 1, 1}));
  EXPECT_FLOAT_EQ((*out)[3].data<float>()[0], 8.5f);
}

struct PoolCase {
  const char* name;
  bool max;
  int64_t n, c, h;
  ops::PoolOptions opts;
};

class PoolValues : public testing::TestWithParam<PoolCase> {};

TEST_P(PoolValues, OneDnnMatchesReference) {
  const PoolCase& p = GetParam();
  Graph g;
  Output x = ops::Placeholder(g, "x", {p.n, p.c, p.h, p.h});
  Output y = p.max ? ops::MaxPool(g, x, p.opts) : ops::AvgPool(g, x, p.opts);
  ASSERT_TRUE(g.status().ok()) << g.status();
  runtime::Feeds feeds{{x, RandomTensor(x.shape(), 5)}};
  runtime::SessionOptions reference_options;
  reference_options.reference_float64 = true;
  auto fast = runtime::Session::Create(g);
  auto reference = runtime::Session::Create(g, reference_options);
  ASSERT_TRUE(fast.ok() && reference.ok());
  auto got = (*fast)->Run(feeds, {y});
  auto want = (*reference)->Run(feeds, {y});
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(want.ok()) << want.status();
  for (int64_t i = 0; i < y.shape().num_elements(); ++i) {
    ASSERT_NEAR((*got)[0].data<float>()[i], (*want)[0].data<double>()[i], 1e-6) << "element " << i;
  }
}

const PoolCase kValueCases[] = {
    {"Max2x2", true, 2, 3, 8, {2, 2}},
    {"Max3x3Overlapping", true, 2, 3, 9, {3, 2}},
    {"Max3x3Pad1", true, 2, 3, 8, {3, 2, 1}},
    {"MaxCeil", true, 2, 3, 8, {3, 2, 0, true}},
    {"MaxOddFloor", true, 2, 3, 7, {2, 2}},
    {"MaxManyChannels", true, 4, 32, 12, {2, 2}},
    {"Avg2x2", false, 2, 3, 8, {2, 2}},
    {"Avg3x3Pad1", false, 2, 3, 8, {3, 2, 1}},
    {"AvgCeil", false, 2, 3, 8, {3, 2, 0, true}},
    {"AvgStride1Pad1", false, 2, 3, 6, {3, 1, 1}},
    {"AvgManyChannels", false, 4, 32, 12, {3, 2, 1, true}},
};

INSTANTIATE_TEST_SUITE_P(All, PoolValues, testing::ValuesIn(kValueCases),
                         [](const testing::TestParamInfo<PoolCase>& i) { return std::string(i.param.name); });

// ---------------------------------------------------------------------------
// Gradients.

class PoolGradients : public testing::TestWithParam<PoolCase> {};

TEST_P(PoolGradients, MatchNumerical) {
  const PoolCase& p = GetParam();
  Graph g;
  Output x = ops::Placeholder(g, "x", {p.n, p.c, p.h, p.h});
  Output y = p.max ? ops::MaxPool(g, x, p.opts) : ops::AvgPool(g, x, p.opts);
  // Distinct values keep each window's maximum away from ties.
  Tensor value = p.max ? DistinctTensor(x.shape(), 7) : RandomTensor(x.shape(), 7);
  auto report = CheckGradients(g, y, {{x, value}});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok) << report->worst << " (max error " << report->max_error << ")";
  EXPECT_EQ(report->checked, x.shape().num_elements());
}

const PoolCase kGradientCases[] = {
    {"Max2x2", true, 2, 2, 8, {2, 2}},
    {"Max3x3Overlapping", true, 2, 2, 9, {3, 2}},
    {"Max3x3Pad1", true, 2, 2, 8, {3, 2, 1}},
    {"MaxCeil", true, 2, 2, 8, {3, 2, 0, true}},
    {"Avg2x2", false, 2, 2, 8, {2, 2}},
    {"Avg3x3Pad1", false, 2, 2, 8, {3, 2, 1}},
    {"AvgCeil", false, 2, 2, 8, {3, 2, 0, true}},
    {"AvgStride1Pad1", false, 1, 2, 6, {3, 1, 1}},
};

INSTANTIATE_TEST_SUITE_P(All, PoolGradients, testing::ValuesIn(kGradientCases),
                         [](const testing::TestParamInfo<PoolCase>& i) { return std::string(i.param.name); });

// At LeNet-5's sizes, MaxPoolGrad reads the workspace the forward kernel
// wrote; the reference recomputes each window's maximum from x instead.
TEST(PoolGradients, BackwardKernelsMatchReferenceAtLeNetSizes) {
  for (bool max : {true, false}) {
    for (int64_t h : {28, 10}) {
      Graph g;
      Output x = ops::Placeholder(g, "x", {8, 16, h, h});
      Output y = max ? ops::MaxPool(g, x) : ops::AvgPool(g, x);
      Output loss = ops::Sum(g, ops::Mul(g, y, ops::Const(g, RandomTensor(y.shape(), 4))));
      auto grads = autodiff::Gradients(g, loss, {x});
      ASSERT_TRUE(grads.ok()) << grads.status();
      runtime::Feeds feeds{{x, DistinctTensor(x.shape(), 3)}};
      runtime::SessionOptions reference_options;
      reference_options.reference_float64 = true;
      auto fast = runtime::Session::Create(g);
      auto reference = runtime::Session::Create(g, reference_options);
      ASSERT_TRUE(fast.ok() && reference.ok());
      // Twice: the plan and its workspace are reused by the second run.
      for (int run = 0; run < 2; ++run) {
        auto got = (*fast)->Run(feeds, {(*grads)[0]});
        auto want = (*reference)->Run(feeds, {(*grads)[0]});
        ASSERT_TRUE(got.ok()) << got.status();
        ASSERT_TRUE(want.ok()) << want.status();
        for (int64_t i = 0; i < x.shape().num_elements(); ++i) {
          ASSERT_NEAR((*got)[0].data<float>()[i], (*want)[0].data<double>()[i], 1e-5)
              << (max ? "max" : "avg") << " h=" << h << " element " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace strata
