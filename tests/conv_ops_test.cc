// Conv2D: the lecture's output-size rule at graph build time, forward values
// against a float64 loop written here, gradients against the numerical
// checker, and the backward kernels against the reference ones at LeNet-5
// sizes (where oneDNN picks blocked layouts). Grouped convolution: shapes
// and errors (AlexNet's CONV2), values, gradients, and AlexNet-sized kernels.
// Floor mode (Caffe/PyTorch rounding): ResNet's and GoogLeNet's shapes,
// values, gradients, and the oneDNN backward kernels with the smaller (even
// negative) bottom/right padding.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "autodiff/gradient_checker.h"
#include "autodiff/gradients.h"
#include "ops/conv.h"
#include "ops/math.h"
#include "ops/state.h"
#include "runtime/session.h"

namespace strata {
namespace {

using autodiff::CheckGradients;
using autodiff::RandomTensor;
using testing::HasSubstr;

// The output shape of a 7x7 single-channel input through one 3x3 filter, or
// the graph's error message.
struct BuildResult {
  Shape shape;
  std::string error;
};

BuildResult Build7x7(int64_t stride, int64_t pad) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {1, 1, 7, 7});
  Output w = ops::Placeholder(g, "w", {1, 1, 3, 3});
  Output y = ops::Conv2D(g, x, w, Output{}, {stride, pad}, "conv1");
  if (!g.status().ok()) return {{}, std::string(g.status().message())};
  return {y.shape(), ""};
}

TEST(Conv2DShape, LectureSevenBySevenInputThreeByThreeFilter) {
  EXPECT_EQ(Build7x7(1, 0).shape, Shape({1, 1, 5, 5}));
  EXPECT_EQ(Build7x7(2, 0).shape, Shape({1, 1, 3, 3}));
  EXPECT_EQ(Build7x7(1, 1).shape, Shape({1, 1, 7, 7}));  // pad (F-1)/2 keeps the size

  const std::string error = Build7x7(3, 0).error;
  ASSERT_FALSE(error.empty()) << "stride 3 must not fit";
  EXPECT_THAT(error, HasSubstr("'conv1'"));
  EXPECT_THAT(error, HasSubstr("(N - F + 2P)/S + 1"));
  EXPECT_THAT(error, HasSubstr("(7 - 3 + 2*0)/3 + 1 = 2.33"));
  EXPECT_THAT(error, HasSubstr("2.33"));
  EXPECT_THAT(error, HasSubstr("7x7 input"));
  EXPECT_THAT(error, HasSubstr("3x3 filter"));
  EXPECT_THAT(error, HasSubstr("stride 3"));
  EXPECT_THAT(error, HasSubstr("[1,1,7,7]"));
}

TEST(Conv2DShape, LectureThirtyTwoByThirtyTwoByThreeWithTenFilters) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {1, 3, 32, 32});
  Output w = ops::Variable(g, "w", {10, 3, 5, 5});
  Output b = ops::Variable(g, "b", {10});
  Output y = ops::Conv2D(g, x, w, b, {1, 2});
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_EQ(y.shape(), Shape({1, 10, 32, 32}));
  int64_t parameters = 0;
  for (Node* v : ops::Variables(g)) parameters += v->output_spec(0).shape.num_elements();
  EXPECT_EQ(parameters, 760);  // 5*5*3*10 weights + 10 biases
}

TEST(Conv2DShape, OutputSizeFunction) {
  EXPECT_EQ(*ops::ConvOutputSize(32, 5, 1, 2), 32);
  EXPECT_EQ(*ops::ConvOutputSize(28, 5, 1, 0), 24);
  EXPECT_EQ(*ops::ConvOutputSize(227, 11, 4, 0), 55);  // AlexNet CONV1
  EXPECT_FALSE(ops::ConvOutputSize(7, 3, 3, 0).ok());
  EXPECT_FALSE(ops::ConvOutputSize(7, 3, 0, 0).ok());
  EXPECT_FALSE(ops::ConvOutputSize(7, 3, 1, -1).ok());
  auto too_big = ops::ConvOutputSize(3, 5, 1, 0);
  ASSERT_FALSE(too_big.ok());
  EXPECT_THAT(std::string(too_big.status().message()), HasSubstr("= -1"));
}

// floor_mode rounds (N - F + 2P)/S down instead of refusing it.
BuildResult BuildFloor(Shape x_shape, int64_t filter, int64_t stride, int64_t pad, bool floor_mode = true) {
  Graph g;
  Output x = ops::Placeholder(g, "x", x_shape);
  Output w = ops::Placeholder(g, "w", {8, x_shape[1], filter, filter});
  Output y = ops::Conv2D(g, x, w, Output{}, {stride, pad, 1, floor_mode}, "floored");
  if (!g.status().ok()) return {{}, std::string(g.status().message())};
  return {y.shape(), ""};
}

TEST(Conv2DShape, FloorModeRoundsDown) {
  EXPECT_EQ(BuildFloor({1, 3, 224, 224}, 7, 2, 3).shape, Shape({1, 8, 112, 112}));  // ResNet/GoogLeNet conv1
  EXPECT_EQ(BuildFloor({1, 3, 56, 56}, 3, 2, 1).shape, Shape({1, 8, 28, 28}));     // ResNet 3x3/2
  EXPECT_EQ(BuildFloor({1, 3, 56, 56}, 1, 2, 0).shape, Shape({1, 8, 28, 28}));     // projection 1x1/2
  EXPECT_EQ(BuildFloor({1, 3, 32, 32}, 3, 2, 1).shape, Shape({1, 8, 16, 16}));     // CIFAR downsampling
  EXPECT_EQ(BuildFloor({1, 3, 7, 7}, 3, 3, 0).shape, Shape({1, 8, 2, 2}));         // the lecture's 2.33
  EXPECT_EQ(BuildFloor({1, 3, 9, 9}, 3, 2, 1).shape, Shape({1, 8, 5, 5}));         // fits: unchanged
  EXPECT_EQ(BuildFloor({1, 3, 9, 8}, 3, 2, 1).shape, Shape({1, 8, 5, 4}));         // only the width rounds
  EXPECT_EQ(*ops::ConvOutputSize(224, 7, 2, 3, /*floor_mode=*/true), 112);
  EXPECT_EQ(*ops::ConvOutputSize(7, 3, 3, 0, /*floor_mode=*/true), 2);
  EXPECT_FALSE(ops::ConvOutputSize(3, 5, 1, 0, /*floor_mode=*/true).ok());

  // The strict default still refuses, with the lecture's message.
  const std::string strict = BuildFloor({1, 3, 224, 224}, 7, 2, 3, /*floor_mode=*/false).error;
  EXPECT_THAT(strict, HasSubstr("'floored'"));
  EXPECT_THAT(strict, HasSubstr("(224 - 7 + 2*3)/2 + 1 = 112.50"));
  EXPECT_THAT(strict, HasSubstr("not a whole number"));
  // A filter larger than the padded input does not fit in either mode.
  const std::string too_big = BuildFloor({1, 3, 4, 4}, 7, 2, 1).error;
  EXPECT_THAT(too_big, HasSubstr("Conv2D node 'floored'"));
  EXPECT_THAT(too_big, HasSubstr("larger than the padded input"));

  // The attribute is recorded, and the backward ops agree on the rounding.
  Graph g;
  Output dy = ops::Placeholder(g, "dy", {1, 4, 4, 4});
  Output w = ops::Placeholder(g, "w", {4, 3, 3, 3});
  Output x = ops::Placeholder(g, "x", {1, 3, 8, 8});
  Output dx = ops::Conv2DBackpropInput(g, dy, w, {1, 3, 8, 8}, {2, 1, 1, true});
  ASSERT_TRUE(dx.valid()) << g.status();
  EXPECT_EQ(*dx.node->Attr<bool>("floor_mode"), true);
  EXPECT_TRUE(ops::Conv2DBackpropFilter(g, x, dy, {4, 3, 3, 3}, {2, 1, 1, true}).valid());
  EXPECT_FALSE(ops::Conv2DBackpropInput(g, dy, w, {1, 3, 8, 8}, {2, 1}, "strict_input").valid());
  EXPECT_THAT(std::string(g.status().message()), HasSubstr("does not fit"));
  Graph g2;
  Output dy2 = ops::Placeholder(g2, "dy", {1, 4, 4, 4});
  Output x2 = ops::Placeholder(g2, "x", {1, 3, 8, 8});
  EXPECT_FALSE(ops::Conv2DBackpropFilter(g2, x2, dy2, {4, 3, 3, 3}, {2, 1}, "strict_filter").valid());
  EXPECT_THAT(std::string(g2.status().message()), HasSubstr("Conv2DBackpropFilter node 'strict_filter'"));
}

TEST(Conv2DShape, RectangularFilterAndWidthError) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {2, 3, 8, 6});
  Output w = ops::Placeholder(g, "w", {4, 3, 3, 2});
  EXPECT_EQ(ops::Conv2D(g, x, w, Output{}, {1, 0}).shape(), Shape({2, 4, 6, 5}));
  Output y = ops::Conv2D(g, x, w, Output{}, {2, 0}, "strided");  // height 3.5: no
  EXPECT_FALSE(y.valid());
  EXPECT_THAT(std::string(g.status().message()), HasSubstr("3.50 along the height"));
}

TEST(Conv2DShape, MismatchesNameTheNode) {
  struct Case {
    Shape x, w, b;
    const char* expected;
  };
  for (const Case& c : {Case{{1, 3, 8, 8}, {4, 2, 3, 3}, {}, "3 channels"},
                        Case{{1, 3, 8, 8}, {4, 3, 3, 3}, {5}, "one value per filter"},
                        Case{{3, 8, 8}, {4, 3, 3, 3}, {}, "rank 4"},
                        Case{{1, 3, 4, 4}, {4, 3, 5, 5}, {}, "larger than the padded input"}}) {
    Graph g;
    Output x = ops::Placeholder(g, "x", c.x);
    Output w = ops::Placeholder(g, "w", c.w);
    Output b = c.b.rank() ? ops::Placeholder(g, "b", c.b) : Output{};
    EXPECT_FALSE(ops::Conv2D(g, x, w, b, {}, "bad_conv").valid());
    const std::string message(g.status().message());
    EXPECT_THAT(message, HasSubstr("Conv2D node 'bad_conv'"));
    EXPECT_THAT(message, HasSubstr(c.expected));
  }
}

TEST(Conv2DShape, BackwardOpsCheckConsistency) {
  Graph g;
  Output dy = ops::Placeholder(g, "dy", {1, 4, 5, 5});
  Output w = ops::Placeholder(g, "w", {4, 3, 3, 3});
  EXPECT_TRUE(ops::Conv2DBackpropInput(g, dy, w, {1, 3, 7, 7}).valid());
  EXPECT_FALSE(ops::Conv2DBackpropInput(g, dy, w, {1, 3, 8, 8}, {}, "wrong").valid());
  EXPECT_THAT(std::string(g.status().message()), HasSubstr("does not match"));
}

// AlexNet's CONV2 in one tower: 96 channels in two groups of 48, 256 5x5
// filters (128 per group), pad 2.
TEST(Conv2DShape, GroupedAlexNetConv2) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {4, 96, 27, 27});
  Output w = ops::Variable(g, "w", {256, 48, 5, 5});
  Output b = ops::Variable(g, "b", {256});
  Output y = ops::Conv2D(g, x, w, b, {1, 2, 2}, "conv2");
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_EQ(y.shape(), Shape({4, 256, 27, 27}));
  EXPECT_EQ(*y.node->Attr<int64_t>("groups"), 2);
  int64_t parameters = 0;
  for (Node* v : ops::Variables(g)) parameters += v->output_spec(0).shape.num_elements();
  EXPECT_EQ(parameters, 256 * 48 * 25 + 256);
  // Ungrouped, the same filters would need all 96 channels.
  Graph ungrouped;
  EXPECT_FALSE(ops::Conv2D(ungrouped, ops::Placeholder(ungrouped, "x", {4, 96, 27, 27}),
                           ops::Placeholder(ungrouped, "w", {256, 48, 5, 5}), Output{}, {1, 2}, "conv2")
                   .valid());
  EXPECT_THAT(std::string(ungrouped.status().message()), HasSubstr("96 channels"));
}

TEST(Conv2DShape, GroupErrorsNameTheNodeAndNumbers) {
  struct Case {
    Shape x, w;
    int64_t groups;
    std::vector<const char*> expected;
  };
  for (const Case& c :
       {Case{{1, 95, 8, 8}, {256, 48, 3, 3}, 2, {"95 channels do not divide into 2 groups"}},
        Case{{1, 96, 8, 8}, {250, 32, 3, 3}, 3, {"250 filters of [250,32,3,3] do not divide into 3 groups"}},
        Case{{1, 96, 8, 8}, {256, 96, 3, 3}, 2, {"96 channels, 48 per group of 2", "expect 96 per group"}},
        Case{{1, 6, 8, 8}, {6, 6, 3, 3}, 0, {"groups must be >= 1, got 0"}}}) {
    Graph g;
    Output x = ops::Placeholder(g, "x", c.x);
    Output w = ops::Placeholder(g, "w", c.w);
    EXPECT_FALSE(ops::Conv2D(g, x, w, Output{}, {1, 1, c.groups}, "grouped").valid());
    const std::string message(g.status().message());
    EXPECT_THAT(message, HasSubstr("Conv2D node 'grouped'"));
    for (const char* e : c.expected) EXPECT_THAT(message, HasSubstr(e));
  }
  // The backward ops check the same rules.
  Graph g;
  Output dy = ops::Placeholder(g, "dy", {1, 6, 5, 5});
  Output w = ops::Placeholder(g, "w", {6, 2, 3, 3});
  EXPECT_TRUE(ops::Conv2DBackpropInput(g, dy, w, {1, 6, 7, 7}, {1, 0, 3}).valid());
  EXPECT_FALSE(ops::Conv2DBackpropInput(g, dy, w, {1, 6, 7, 7}, {1, 0, 2}, "wrong_groups").valid());
  EXPECT_THAT(std::string(g.status().message()), HasSubstr("Conv2DBackpropInput node 'wrong_groups'"));
}

// ---------------------------------------------------------------------------
// Values.

struct ConvCase {
  const char* name;
  int64_t n, c, h, w, k, fh, fw, stride, pad;
  bool bias;
  int64_t groups = 1;
  bool floor_mode = false;

  Shape x() const { return {n, c, h, w}; }
  Shape filters() const { return {k, c / groups, fh, fw}; }
  ops::Conv2DOptions options() const { return {stride, pad, groups, floor_mode}; }
};

void PrintTo(const ConvCase& c, std::ostream* os) { *os << c.name; }

// y[n,k,i,j] = b[k] + sum_{c,p,q} x[n,g*C/G + c,i*S-P+p,j*S-P+q] w[k,c,p,q]
// with c < C/G and g = k / (K/G), the group of filter k. The output size is
// rounded down (floor mode; the strict cases divide exactly): the last
// window starts at (H' - 1)*S - P and never reads past the input.
std::vector<double> NaiveForward(const ConvCase& p, const Tensor& x, const Tensor& w, const Tensor& b) {
  const int64_t oh = (p.h - p.fh + 2 * p.pad) / p.stride + 1, ow = (p.w - p.fw + 2 * p.pad) / p.stride + 1;
  const int64_t cg = p.c / p.groups, kg = p.k / p.groups;
  std::vector<double> y(p.n * p.k * oh * ow);
  const float *px = x.data<float>(), *pw = w.data<float>();
  for (int64_t n = 0; n < p.n; ++n)
    for (int64_t k = 0; k < p.k; ++k)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double s = p.bias ? b.data<float>()[k] : 0.0;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t u = 0; u < p.fh; ++u)
              for (int64_t v = 0; v < p.fw; ++v) {
                const int64_t r = i * p.stride - p.pad + u, q = j * p.stride - p.pad + v;
                if (r < 0 || r >= p.h || q < 0 || q >= p.w) continue;
                s += static_cast<double>(px[((n * p.c + (k / kg) * cg + c) * p.h + r) * p.w + q]) *
                     pw[((k * cg + c) * p.fh + u) * p.fw + v];
              }
          y[((n * p.k + k) * oh + i) * ow + j] = s;
        }
  return y;
}

class Conv2DValues : public testing::TestWithParam<ConvCase> {};

TEST_P(Conv2DValues, MatchNaiveLoopInBothSessions) {
  const ConvCase& p = GetParam();
  Graph g;
  Output x = ops::Placeholder(g, "x", p.x());
  Output w = ops::Placeholder(g, "w", p.filters());
  Output b = p.bias ? ops::Placeholder(g, "b", {p.k}) : Output{};
  Output y = ops::Conv2D(g, x, w, b, p.options());
  ASSERT_TRUE(g.status().ok()) << g.status();
  Tensor xv = RandomTensor(x.shape(), 1), wv = RandomTensor(w.shape(), 2);
  Tensor bv = p.bias ? RandomTensor(b.shape(), 3) : Tensor();
  runtime::Feeds feeds{{x, xv}, {w, wv}};
  if (p.bias) feeds.emplace_back(b, bv);
  const std::vector<double> expected = NaiveForward(p, xv, wv, bv);
  ASSERT_EQ(static_cast<int64_t>(expected.size()), y.shape().num_elements());

  for (bool reference : {false, true}) {
    runtime::SessionOptions options;
    options.reference_float64 = reference;
    auto session = runtime::Session::Create(g, options);
    ASSERT_TRUE(session.ok()) << session.status();
    auto out = (*session)->Run(feeds, {y});
    ASSERT_TRUE(out.ok()) << out.status();
    const Tensor& t = (*out)[0];
    for (size_t i = 0; i < expected.size(); ++i) {
      const double got = reference ? t.data<double>()[i] : t.data<float>()[i];
      ASSERT_NEAR(got, expected[i], reference ? 1e-9 : 1e-4 * (1 + std::fabs(expected[i])))
          << (reference ? "reference" : "oneDNN") << " element " << i;
    }
  }
}

const ConvCase kValueCases[] = {
    {"Stride1Pad0", 2, 3, 7, 7, 4, 3, 3, 1, 0, false},
    {"Stride2Pad1Bias", 2, 3, 9, 9, 5, 3, 3, 2, 1, true},
    {"OneByOne", 2, 8, 5, 5, 6, 1, 1, 1, 0, true},
    {"Rectangular", 1, 2, 9, 7, 3, 3, 2, 1, 1, true},
    {"LeNetC1", 4, 1, 28, 28, 6, 5, 5, 1, 2, true},
    {"LeNetC3", 4, 6, 14, 14, 16, 5, 5, 1, 0, true},
    {"LeNetC5", 4, 16, 5, 5, 120, 5, 5, 1, 0, true},
    {"Wide", 2, 32, 9, 9, 64, 3, 3, 1, 1, true},
    {"Groups2", 2, 4, 7, 7, 6, 3, 3, 1, 0, false, 2},
    {"Groups3Stride2Pad1Bias", 2, 6, 9, 9, 9, 3, 3, 2, 1, true, 3},
    {"Groups2Wide", 2, 32, 9, 9, 64, 3, 3, 1, 1, true, 2},
    {"Depthwise", 2, 8, 7, 7, 8, 3, 3, 1, 1, true, 8},
    // Floor mode: bottom/right padding P - r, r = (N - F + 2P) mod S.
    {"FloorStride2Pad1", 2, 3, 8, 8, 4, 3, 3, 2, 1, true, 1, true},        // r 1: pad_r 0
    {"Floor7x7Stride2Pad3", 1, 3, 12, 12, 4, 7, 7, 2, 3, true, 1, true},   // conv1's 224 -> 112
    {"Floor1x1Stride2", 2, 4, 8, 8, 3, 1, 1, 2, 0, false, 1, true},        // pad_r -1
    {"FloorStride3Crop", 2, 3, 8, 8, 4, 3, 3, 3, 0, true, 1, true},        // pad_r -2
    {"FloorRectangular", 1, 2, 10, 9, 3, 3, 2, 2, 1, true, 1, true},       // both axes round
    {"FloorOnlyWidth", 1, 3, 9, 8, 4, 3, 3, 2, 1, false, 1, true},         // the height fits
    {"FloorGroups2Stride2", 2, 4, 8, 8, 6, 3, 3, 2, 1, true, 2, true},
    {"FloorWide", 2, 32, 14, 14, 64, 3, 3, 2, 1, true, 1, true},           // blocked layouts
    {"FloorWide1x1", 2, 32, 14, 14, 64, 1, 1, 2, 0, false, 1, true},
};

INSTANTIATE_TEST_SUITE_P(All, Conv2DValues, testing::ValuesIn(kValueCases),
                         [](const testing::TestParamInfo<ConvCase>& i) { return std::string(i.param.name); });

TEST(Conv2DValues, HandComputed) {
  Graph g;
  Output x = ops::Const(g, Tensor::FromVector<float>({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
  Output w = ops::Const(g, Tensor::FromVector<float>({1, 1, 2, 2}, {1, 1, 1, 1}));
  Output b = ops::Const(g, Tensor::FromVector<float>({1}, {0.5f}));
  Output y = ops::Conv2D(g, x, w, b);
  ASSERT_TRUE(g.status().ok()) << g.status();
  auto session = runtime::Session::Create(g);
  ASSERT_TRUE(session.ok()) << session.status();
  auto out = (*session)->Run({}, {y});
  ASSERT_TRUE(out.ok()) << out.status();
  const float* v = (*out)[0].data<float>();
  EXPECT_EQ((*out)[0].shape(), Shape({1, 1, 2, 2}));
  EXPECT_FLOAT_EQ(v[0], 12.5f);
  EXPECT_FLOAT_EQ(v[1], 16.5f);
  EXPECT_FLOAT_EQ(v[2], 24.5f);
  EXPECT_FLOAT_EQ(v[3], 28.5f);
}

// ---------------------------------------------------------------------------
// Gradients.

class Conv2DGradients : public testing::TestWithParam<ConvCase> {};

TEST_P(Conv2DGradients, MatchNumerical) {
  const ConvCase& p = GetParam();
  Graph g;
  Output x = ops::Placeholder(g, "x", p.x());
  Output w = ops::Placeholder(g, "w", p.filters());
  Output b = p.bias ? ops::Placeholder(g, "b", {p.k}) : Output{};
  Output y = ops::Conv2D(g, x, w, b, p.options());
  std::vector<std::pair<Output, Tensor>> inputs{{x, RandomTensor(x.shape(), 11)}, {w, RandomTensor(w.shape(), 12)}};
  if (p.bias) inputs.emplace_back(b, RandomTensor(b.shape(), 13));
  auto report = CheckGradients(g, y, inputs);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok) << report->worst << " (max error " << report->max_error << ")";
  int64_t expected = 0;
  for (const auto& [in, value] : inputs) expected += value.num_elements();
  EXPECT_EQ(report->checked, expected);
}

const ConvCase kGradientCases[] = {
    {"Stride1Pad0", 2, 3, 7, 7, 4, 3, 3, 1, 0, false},
    {"Stride1Pad0Bias", 2, 3, 7, 7, 4, 3, 3, 1, 0, true},
    {"Stride2Pad1Bias", 2, 3, 7, 7, 4, 3, 3, 2, 1, true},
    {"Stride2Pad1", 2, 3, 7, 7, 4, 3, 3, 2, 1, false},
    {"Pad2", 1, 3, 6, 6, 4, 3, 3, 1, 2, true},
    {"OneByOne", 2, 5, 4, 4, 3, 1, 1, 1, 0, true},
    {"ManyChannels", 1, 8, 5, 5, 16, 3, 3, 1, 1, true},
    {"Rectangular", 1, 2, 6, 5, 3, 3, 2, 1, 1, true},
    {"Groups2", 2, 4, 6, 6, 6, 3, 3, 1, 0, false, 2},
    {"Groups2Stride2Pad1Bias", 2, 4, 7, 7, 4, 3, 3, 2, 1, true, 2},
    {"Groups3Pad1Bias", 1, 6, 5, 5, 9, 3, 3, 1, 1, true, 3},
    {"Groups3Stride2Pad2", 1, 9, 7, 7, 6, 3, 3, 2, 2, true, 3},
    {"FloorStride2Pad1", 2, 3, 8, 8, 4, 3, 3, 2, 1, false, 1, true},
    {"FloorStride2Pad1Bias", 2, 3, 8, 8, 4, 3, 3, 2, 1, true, 1, true},
    {"Floor1x1Stride2", 2, 5, 6, 6, 3, 1, 1, 2, 0, false, 1, true},
    {"Floor1x1Stride2Bias", 1, 3, 5, 6, 4, 1, 1, 2, 0, true, 1, true},
    {"Floor5x5Stride2Pad2Bias", 1, 3, 10, 10, 3, 5, 5, 2, 2, true, 1, true},
    {"FloorStride3Crop", 1, 3, 8, 7, 4, 3, 3, 3, 0, true, 1, true},
    {"FloorRectangular", 1, 2, 8, 9, 3, 3, 2, 2, 1, false, 1, true},
    {"FloorGroups2Stride2Bias", 2, 4, 8, 8, 4, 3, 3, 2, 1, true, 2, true},
};

INSTANTIATE_TEST_SUITE_P(All, Conv2DGradients, testing::ValuesIn(kGradientCases),
                         [](const testing::TestParamInfo<ConvCase>& i) { return std::string(i.param.name); });

// conv(x, w) + b of case `p` under a loss that weights y at random: its
// gradients for x and w (and b, with `bias_gradient`), then y, computed on the
// same random feeds by one session for each of `options`; empty on an error.
std::vector<std::vector<Tensor>> RunConvPasses(const ConvCase& p, bool bias_gradient,
                                               const std::vector<runtime::SessionOptions>& options) {
  Graph g;
  Output x = ops::Placeholder(g, "x", p.x());
  Output w = ops::Placeholder(g, "w", p.filters());
  Output b = ops::Placeholder(g, "b", {p.k});
  Output y = ops::Conv2D(g, x, w, b, p.options());
  Output loss = ops::Sum(g, ops::Mul(g, y, ops::Const(g, RandomTensor(y.shape(), 4))));
  EXPECT_TRUE(g.status().ok()) << g.status();
  auto grads = autodiff::Gradients(g, loss, bias_gradient ? std::vector<Output>{x, w, b} : std::vector<Output>{x, w});
  EXPECT_TRUE(grads.ok()) << grads.status();
  if (!g.status().ok() || !grads.ok()) return {};
  grads->push_back(y);
  const runtime::Feeds feeds{{x, RandomTensor(x.shape(), 1)}, {w, RandomTensor(w.shape(), 2)},
                             {b, RandomTensor(b.shape(), 3)}};
  std::vector<std::vector<Tensor>> results;
  for (const runtime::SessionOptions& o : options) {
    auto session = runtime::Session::Create(g, o);
    EXPECT_TRUE(session.ok()) << session.status();
    if (!session.ok()) return {};
    auto values = (*session)->Run(feeds, *grads);
    EXPECT_TRUE(values.ok()) << values.status();
    if (!values.ok()) return {};
    results.push_back(*std::move(values));
  }
  return results;
}

// At LeNet-5's sizes oneDNN reorders to blocked layouts; its three backward
// kernels must agree with the float64 reference ones. The same at AlexNet's
// grouped CONV2 (one image, to keep the float64 loops short) and a grouped
// layer of ResNeXt's shape.
TEST(Conv2DGradients, BackwardKernelsMatchReferenceAtLeNetSizes) {
  for (const ConvCase& p : {ConvCase{"c1", 8, 1, 28, 28, 6, 5, 5, 1, 2, true},
                            ConvCase{"c3", 8, 6, 14, 14, 16, 5, 5, 1, 0, true},
                            ConvCase{"c5", 8, 16, 5, 5, 120, 5, 5, 1, 0, true},
                            ConvCase{"alexnet_conv2", 1, 96, 27, 27, 256, 5, 5, 1, 2, true, 2},
                            ConvCase{"resnext_32x4d", 2, 128, 14, 14, 128, 3, 3, 1, 1, false, 32},
                            // Floor mode at ResNet's shapes, scaled down.
                            ConvCase{"floor_conv1", 2, 3, 32, 32, 16, 7, 7, 2, 3, true, 1, true},
                            ConvCase{"floor_3x3s2", 2, 32, 14, 14, 64, 3, 3, 2, 1, false, 1, true},
                            ConvCase{"floor_1x1s2", 2, 64, 14, 14, 128, 1, 1, 2, 0, false, 1, true},
                            ConvCase{"floor_crop", 2, 16, 11, 11, 16, 3, 3, 3, 0, true, 1, true},
                            ConvCase{"floor_grouped", 2, 64, 14, 14, 64, 3, 3, 2, 1, false, 32, true}}) {
    runtime::SessionOptions reference_options;
    reference_options.reference_float64 = true;
    const auto results = RunConvPasses(p, /*bias_gradient=*/true, {{}, reference_options});
    ASSERT_EQ(results.size(), 2u) << p.name;
    const std::vector<Tensor>&got = results[0], &want = results[1];
    for (size_t k = 0; k < got.size(); ++k) {
      const Tensor &a = got[k], &e = want[k];
      ASSERT_EQ(a.num_elements(), e.num_elements());
      double worst = 0;
      for (int64_t i = 0; i < a.num_elements(); ++i) {
        const double ref = e.data<double>()[i];
        worst = std::max(worst, std::fabs(a.data<float>()[i] - ref) / (1 + std::fabs(ref)));
      }
      EXPECT_LT(worst, 1e-4) << p.name << (k == 3 ? " forward" : " gradient ") << k;
    }
  }
}


// 3x3 stride-1 passes with enough output tiles run oneDNN's Winograd
// algorithm (PassOptions::winograd, ops/conv.cc Algorithm): forward, backward
// data and backward weights against the float64 reference, beside the direct
// algorithm's error on the same values. Winograd rounds differently (its
// transforms scale values up and down), so it is held to its own bound, and
// it must differ from the direct algorithm: otherwise it did not run.
// Measured: Winograd 0.8-2.3e-6 of each tensor's scale, direct 0.3-2.2e-6
// (its backward weights sum longer).
TEST(Conv2DGradients, WinogradPassesMatchReference) {
  for (const ConvCase& p : {ConvCase{"resnet_conv2_b1", 1, 64, 56, 56, 64, 3, 3, 1, 1, false},
                            ConvCase{"resnet_conv4_b4", 4, 256, 14, 14, 256, 3, 3, 1, 1, false},
                            ConvCase{"googlenet_3x3_b2", 2, 96, 28, 28, 128, 3, 3, 1, 1, true}}) {
    runtime::SessionOptions direct_options, reference_options;
    direct_options.passes.winograd = false;
    reference_options.reference_float64 = true;
    const auto results = RunConvPasses(p, /*bias_gradient=*/false, {{}, direct_options, reference_options});
    ASSERT_EQ(results.size(), 3u) << p.name;
    const std::vector<Tensor>&by_winograd = results[0], &by_direct = results[1], &want = results[2];
    const char* what[] = {"backward data", "backward weights", "forward"};
    for (size_t k = 0; k < want.size(); ++k) {
      const Tensor& e = want[k];
      // The error relative to the tensor's scale, its largest magnitude.
      auto error = [&](const Tensor& a) {
        double worst = 0, scale = 0;
        for (int64_t i = 0; i < a.num_elements(); ++i) {
          const double ref = e.data<double>()[i];
          worst = std::max(worst, std::fabs(a.data<float>()[i] - ref));
          scale = std::max(scale, std::fabs(ref));
        }
        return worst / scale;
      };
      const double winograd_error = error(by_winograd[k]), direct_error = error(by_direct[k]);
      std::printf("%s %s: winograd %.2e, direct %.2e of scale\n", p.name, what[k], winograd_error, direct_error);
      EXPECT_LT(winograd_error, 1e-5) << p.name << " " << what[k];
      EXPECT_LT(direct_error, 5e-6) << p.name << " " << what[k];
      EXPECT_NE(std::memcmp(by_winograd[k].raw_data(), by_direct[k].raw_data(), e.num_elements() * 4), 0)
          << p.name << " " << what[k] << ": the same bits as the direct algorithm";
    }
  }
}

// `strata bench --floor`: each pass of a convolution timed alone, warm and
// with its weights flushed from the caches; any other node is refused.
TEST(StandaloneConvolution, TimesEveryPassAndRefusesOtherOps) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {2, 16, 8, 8});
  Output w = ops::Placeholder(g, "w", {16, 16, 3, 3});
  Output y = ops::Conv2D(g, x, w, Output{}, {1, 1}, "conv");
  Output loss = ops::Sum(g, y, "loss");
  auto grads = autodiff::Gradients(g, loss, {x, w});
  ASSERT_TRUE(grads.ok()) << grads.status();
  for (const Output& pass : {y, (*grads)[0], (*grads)[1]}) {
    auto alone = ops::StandaloneConvolutionMs(*pass.node, 3, /*winograd=*/true);
    ASSERT_TRUE(alone.ok()) << pass.node->Describe() << ": " << alone.status();
    EXPECT_GT(alone->warm_ms, 0) << pass.node->op();
    EXPECT_GT(alone->weights_cold_ms, 0) << pass.node->op();
  }
  auto not_a_convolution = ops::StandaloneConvolutionMs(*loss.node, 3, true);
  ASSERT_FALSE(not_a_convolution.ok());
  EXPECT_THAT(std::string(not_a_convolution.status().message()), HasSubstr("'loss' is not a convolution pass"));
}

}  // namespace
}  // namespace strata
