// Reshape and Flatten: shapes, values, errors and gradients (in both
// precisions, since the output is a view made by the runtime, not a kernel).
// Concat, Slice and SliceGrad: shapes, values in both sessions against
// indices computed here, errors, and gradients.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_util.h"

#include <tuple>

#include "absl/strings/str_cat.h"
#include "autodiff/gradient_checker.h"
#include "ops/array.h"
#include "ops/math.h"
#include "ops/nn.h"
#include "ops/registry.h"
#include "ops/state.h"
#include "runtime/session.h"

namespace strata {
namespace {

using autodiff::CheckGradients;
using autodiff::RandomTensor;

using test::RunGraph;

TEST(ArrayOps, ReshapeShapesAndValues) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {2, 3, 4});
  Output a = ops::Reshape(g, x, {6, 4});
  Output b = ops::Reshape(g, x, {-1, 2});
  Output c = ops::Reshape(g, x, {4, -1, 2});
  Output d = ops::Reshape(g, x, {24});
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_EQ(a.shape(), (Shape{6, 4}));
  EXPECT_EQ(b.shape(), (Shape{12, 2}));
  EXPECT_EQ(c.shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(d.shape(), (Shape{24}));
  std::vector<float> values(24);
  for (int i = 0; i < 24; ++i) values[i] = static_cast<float>(i) * 0.5f - 3;
  for (bool reference : {false, true}) {
    auto out = RunGraph(g, {{x, Tensor::FromVector<float>({2, 3, 4}, values)}}, {a, b, c, d}, reference);
    ASSERT_TRUE(out.ok()) << out.status();
    for (const Tensor& t : *out) {
      const Tensor f = t.CastTo(DType::kFloat32);
      for (int i = 0; i < 24; ++i) ASSERT_EQ(f.data<float>()[i], values[i]) << i;
    }
    EXPECT_EQ((*out)[2].shape(), (Shape{4, 3, 2}));
  }
}

TEST(ArrayOps, ReshapeKeepsDTypeAndFeedsOtherOps) {
  Graph g;
  Output labels = ops::Placeholder(g, "labels", {2, 2}, DType::kInt32);
  Output flat = ops::Reshape(g, labels, {4});
  Output x = ops::Placeholder(g, "x", {2, 6});
  Output y = ops::Tanh(g, ops::Reshape(g, x, {3, 4}));
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_EQ(flat.dtype(), DType::kInt32);
  auto out = RunGraph(g, {{labels, Tensor::FromVector<int32_t>({2, 2}, {4, 3, 2, 1})},
                          {x, RandomTensor({2, 6}, 4)}},
                      {flat, y});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].data<int32_t>()[3], 1);
  EXPECT_EQ((*out)[1].shape(), (Shape{3, 4}));
}

TEST(ArrayOps, ReshapeErrorsNameTheNode) {
  struct Case {
    std::vector<int64_t> shape;
    const char* expect;
  };
  for (const Case& c : {Case{{5, 5}, "cannot reshape 24 elements to [5,5]"},
                        Case{{-1, 5}, "cannot reshape 24 elements to [-1,5]"},
                        Case{{-1, -1}, "more than one -1"},
                        Case{{0, 24}, "neither positive nor -1"},
                        Case{{int64_t{1} << 62, 8}, "cannot reshape"}}) {
    Graph g;
    Output x = ops::Placeholder(g, "x", {2, 3, 4});
    EXPECT_FALSE(ops::Reshape(g, x, c.shape, "my_reshape").valid());
    const std::string message(g.status().message());
    EXPECT_NE(message.find("my_reshape"), std::string::npos) << message;
    EXPECT_NE(message.find(c.expect), std::string::npos) << message;
    EXPECT_NE(message.find("float32[2,3,4]"), std::string::npos) << message;
  }
}

TEST(ArrayOps, Flatten) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {2, 3, 2, 2});
  Output v = ops::Placeholder(g, "v", {5});
  Output fx = ops::Flatten(g, x);
  Output fv = ops::Flatten(g, v, "flat_v");
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_EQ(fx.shape(), (Shape{2, 12}));
  EXPECT_EQ(fv.shape(), (Shape{5, 1}));
  EXPECT_EQ(fv.node->name(), "flat_v");
  EXPECT_EQ(fx.node->op(), "Reshape");

  Graph bad;
  Output s = ops::Placeholder(bad, "s", {});
  EXPECT_FALSE(ops::Flatten(bad, s).valid());
  EXPECT_FALSE(bad.status().ok());
}

struct ReshapeCase {
  const char* name;
  Shape in;
  Output (*build)(Graph&, Output);
};

class ArrayGradients : public testing::TestWithParam<ReshapeCase> {};

TEST_P(ArrayGradients, MatchNumerical) {
  const ReshapeCase& p = GetParam();
  Graph g;
  Output x = ops::Placeholder(g, "x", p.in);
  Output y = p.build(g, x);
  auto report = CheckGradients(g, y, {{x, RandomTensor(p.in, 3)}});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok) << p.name << ": " << report->worst;
  EXPECT_EQ(report->checked, p.in.num_elements());
}

INSTANTIATE_TEST_SUITE_P(
    All, ArrayGradients,
    testing::Values(
        ReshapeCase{"Reshape", {2, 6}, [](Graph& g, Output x) { return ops::Reshape(g, x, {3, -1}); }},
        ReshapeCase{"Flatten", {2, 3, 2, 2}, [](Graph& g, Output x) { return ops::Flatten(g, x); }},
        // Softmax rows differ from x's rows: the reshape's layout matters.
        ReshapeCase{"SoftmaxOfReshape", {2, 6},
                    [](Graph& g, Output x) { return ops::Softmax(g, ops::Reshape(g, x, {4, 3})); }},
        ReshapeCase{"ReshapeOfTanhUsedTwice", {3, 4},
                    [](Graph& g, Output x) {
                      Output t = ops::Tanh(g, x);
                      return ops::Mul(g, ops::Reshape(g, t, {2, 6}), ops::Reshape(g, x, {2, 6}));
                    }}),
    [](const testing::TestParamInfo<ReshapeCase>& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------
// Concat and Slice.

using testing::HasSubstr;

double Value(const Tensor& t, int64_t i) {
  return t.dtype() == DType::kFloat64 ? t.data<double>()[i] : t.data<float>()[i];
}

// Checks y == the concatenation of `parts` along `axis`, element by element
// from the row-major index arithmetic: y[o, a, i] = parts[p][o, a - offset_p, i].
void ExpectConcatenated(const Tensor& y, const std::vector<Tensor>& parts, int axis) {
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= y.shape()[d];
  for (int d = axis + 1; d < y.shape().rank(); ++d) inner *= y.shape()[d];
  const int64_t total = y.shape()[axis];
  int64_t offset = 0;
  for (const Tensor& p : parts) {
    const int64_t extent = p.shape()[axis];
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t a = 0; a < extent; ++a)
        for (int64_t i = 0; i < inner; ++i) {
          ASSERT_EQ(Value(y, (o * total + offset + a) * inner + i), p.data<float>()[(o * extent + a) * inner + i])
              << "outer " << o << " axis index " << offset + a << " inner " << i;
        }
    offset += extent;
  }
  ASSERT_EQ(offset, total);
}

TEST(ConcatOps, ShapesAndValuesInBothSessions) {
  struct Case {
    std::vector<Shape> shapes;
    int64_t axis;
    Shape expected;
  };
  for (const Case& c : {Case{{{2, 3, 2, 2}, {2, 1, 2, 2}, {2, 4, 2, 2}}, 1, {2, 8, 2, 2}},
                        Case{{{1, 3, 2}, {2, 3, 2}}, 0, {3, 3, 2}},
                        Case{{{2, 3, 1}, {2, 3, 4}}, -1, {2, 3, 5}},
                        Case{{{4, 5}}, 1, {4, 5}},
                        Case{{{2, 2, 3, 3}, {2, 5, 3, 3}, {2, 1, 3, 3}, {2, 3, 3, 3}}, 1, {2, 11, 3, 3}}}) {
    Graph g;
    std::vector<Output> inputs;
    runtime::Feeds feeds;
    std::vector<Tensor> values;
    for (size_t i = 0; i < c.shapes.size(); ++i) {
      inputs.push_back(ops::Placeholder(g, absl::StrCat("x", i), c.shapes[i]));
      values.push_back(RandomTensor(c.shapes[i], 20 + i));
      feeds.emplace_back(inputs.back(), values.back());
    }
    Output y = ops::Concat(g, inputs, c.axis, "cat");
    ASSERT_TRUE(g.status().ok()) << g.status();
    EXPECT_EQ(y.shape(), c.expected);
    const int axis = static_cast<int>(c.axis < 0 ? c.axis + c.expected.rank() : c.axis);
    for (bool reference : {false, true}) {
      SCOPED_TRACE(absl::StrCat(c.expected.ToString(), reference ? " reference" : " oneDNN"));
      auto out = RunGraph(g, feeds, {y}, reference);
      ASSERT_TRUE(out.ok()) << out.status();
      ExpectConcatenated((*out)[0], values, axis);
    }
  }
}

TEST(ConcatOps, InceptionModuleChannels) {
  // GoogLeNet inception (3a): 64 + 128 + 32 + 32 channels at 28x28.
  Graph g;
  std::vector<Output> branches;
  for (int64_t c : {64, 128, 32, 32}) branches.push_back(ops::Placeholder(g, "b", {8, c, 28, 28}));
  Output y = ops::Concat(g, branches);
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_EQ(y.shape(), (Shape{8, 256, 28, 28}));
}

TEST(ConcatOps, ErrorsNameTheNode) {
  struct Case {
    std::vector<Shape> shapes;
    int64_t axis;
    const char* expected;
  };
  for (const Case& c : {Case{{{2, 3, 2, 2}, {2, 3, 3, 3}}, 1, "input 1 is [2,3,3,3] but input 0 is [2,3,2,2]"},
                        Case{{{2, 3, 2, 2}, {2, 3, 2}}, 1, "all dimensions but axis 1 must match"},
                        Case{{{2, 3}, {2, 3}}, 2, "axis 2 is out of range for rank 2"},
                        Case{{{2, 3}, {2, 3}}, -3, "axis -3 is out of range"}}) {
    Graph g;
    std::vector<Output> inputs;
    for (const Shape& s : c.shapes) inputs.push_back(ops::Placeholder(g, "x", s));
    EXPECT_FALSE(ops::Concat(g, inputs, c.axis, "cat").valid());
    const std::string message(g.status().message());
    EXPECT_THAT(message, HasSubstr("Concat node 'cat'"));
    EXPECT_THAT(message, HasSubstr(c.expected));
  }
  Graph g;
  EXPECT_FALSE(ops::Concat(g, {}, 1, "empty").valid());
  EXPECT_THAT(std::string(g.status().message()), HasSubstr("at least one input"));
}

TEST(SliceOps, ValuesAndErrors) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {2, 5, 3});
  Output middle = ops::Slice(g, x, 1, 1, 3);
  Output first = ops::Slice(g, x, 0, 0, 1);
  Output last = ops::Slice(g, x, -1, 2, 1);
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_EQ(middle.shape(), (Shape{2, 3, 3}));
  EXPECT_EQ(first.shape(), (Shape{1, 5, 3}));
  EXPECT_EQ(last.shape(), (Shape{2, 5, 1}));
  Tensor value = RandomTensor({2, 5, 3}, 8);
  const float* v = value.data<float>();
  for (bool reference : {false, true}) {
    auto out = RunGraph(g, {{x, value}}, {middle, first, last}, reference);
    ASSERT_TRUE(out.ok()) << out.status();
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t w = 0; w < 3; ++w) {
          ASSERT_EQ(Value((*out)[0], (n * 3 + c) * 3 + w), v[(n * 5 + c + 1) * 3 + w]);
        }
    for (int64_t i = 0; i < 15; ++i) ASSERT_EQ(Value((*out)[1], i), v[i]);
    for (int64_t i = 0; i < 10; ++i) ASSERT_EQ(Value((*out)[2], i), v[i * 3 + 2]);
  }
  const std::vector<std::tuple<int64_t, int64_t, int64_t>> bad_slices{{1, 3, 3}, {1, -1, 2}, {1, 0, 0}, {3, 0, 1}};
  for (auto [axis, begin, size] : bad_slices) {
    Graph bad;
    Output y = ops::Slice(bad, ops::Placeholder(bad, "x", {2, 5, 3}), axis, begin, size, "cut");
    EXPECT_FALSE(y.valid());
    EXPECT_THAT(std::string(bad.status().message()), HasSubstr("Slice node 'cut'"));
    EXPECT_THAT(std::string(bad.status().message()), HasSubstr(axis == 3 ? "out of range" : "[2,5,3]"));
  }
}

TEST(SliceOps, SliceGradPutsTheSliceBackIntoZeros) {
  Graph g;
  Output dy = ops::Placeholder(g, "dy", {2, 2, 3});
  Node* n = g.AddNode(ops::Def("SliceGrad"), "put", {dy},
                      {{"axis", int64_t{1}}, {"begin", int64_t{2}}, {"input_shape", std::vector<int64_t>{2, 5, 3}}});
  ASSERT_NE(n, nullptr) << g.status();
  EXPECT_EQ(n->output_spec(0).shape, (Shape{2, 5, 3}));
  Tensor value = RandomTensor({2, 2, 3}, 9);
  for (bool reference : {false, true}) {
    auto out = RunGraph(g, {{dy, value}}, {n->output(0)}, reference);
    ASSERT_TRUE(out.ok()) << out.status();
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t c = 0; c < 5; ++c)
        for (int64_t w = 0; w < 3; ++w) {
          const double want = (c == 2 || c == 3) ? value.data<float>()[(b * 2 + c - 2) * 3 + w] : 0.0;
          ASSERT_EQ(Value((*out)[0], (b * 5 + c) * 3 + w), want);
        }
  }
  Graph bad;
  Node* wrong = bad.AddNode(ops::Def("SliceGrad"), "put", {ops::Placeholder(bad, "dy", {2, 2, 3})},
                            {{"axis", int64_t{1}}, {"begin", int64_t{4}}, {"input_shape", std::vector<int64_t>{2, 5, 3}}});
  EXPECT_EQ(wrong, nullptr);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("within the 5 elements along axis 1"));
}

// Gradients with respect to every input of a concatenation, and through Slice
// and SliceGrad (whose gradients are each other).
struct ConcatGradCase {
  const char* name;
  std::vector<Shape> shapes;
  int64_t axis;
};

class ConcatGradients : public testing::TestWithParam<ConcatGradCase> {};

TEST_P(ConcatGradients, MatchNumerical) {
  const ConcatGradCase& p = GetParam();
  Graph g;
  std::vector<Output> xs;
  std::vector<std::pair<Output, Tensor>> inputs;
  for (size_t i = 0; i < p.shapes.size(); ++i) {
    xs.push_back(ops::Placeholder(g, absl::StrCat("x", i), p.shapes[i]));
    inputs.emplace_back(xs.back(), RandomTensor(p.shapes[i], 30 + i));
  }
  // Tanh after the concatenation, so that each slice of the gradient differs.
  Output y = ops::Tanh(g, ops::Concat(g, xs, p.axis));
  auto report = CheckGradients(g, y, inputs);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok) << report->worst;
  int64_t expected = 0;
  for (const Shape& s : p.shapes) expected += s.num_elements();
  EXPECT_EQ(report->checked, expected);
}

INSTANTIATE_TEST_SUITE_P(
    All, ConcatGradients,
    testing::Values(ConcatGradCase{"TwoChannels", {{2, 3, 2, 2}, {2, 5, 2, 2}}, 1},
                    ConcatGradCase{"FourChannels", {{2, 2, 3, 3}, {2, 4, 3, 3}, {2, 1, 3, 3}, {2, 3, 3, 3}}, 1},
                    ConcatGradCase{"Axis0", {{1, 3, 2, 2}, {3, 3, 2, 2}}, 0},
                    ConcatGradCase{"LastAxis", {{2, 3, 2}, {2, 3, 1}, {2, 3, 4}}, -1}),
    [](const testing::TestParamInfo<ConcatGradCase>& info) { return std::string(info.param.name); });

TEST(SliceGradients, MatchNumerical) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {2, 5, 3});
  Output y = ops::Tanh(g, ops::Slice(g, x, 1, 1, 3));
  auto report = CheckGradients(g, y, {{x, RandomTensor({2, 5, 3}, 10)}});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok) << report->worst;
  EXPECT_EQ(report->checked, 30);
}

TEST(SliceGradients, SliceGradIsDifferentiable) {
  Graph g;
  Output dy = ops::Placeholder(g, "dy", {2, 2, 3});
  Node* n = g.AddNode(ops::Def("SliceGrad"), "put", {dy},
                      {{"axis", int64_t{1}}, {"begin", int64_t{1}}, {"input_shape", std::vector<int64_t>{2, 4, 3}}});
  ASSERT_NE(n, nullptr) << g.status();
  auto report = CheckGradients(g, ops::Tanh(g, n->output(0)), {{dy, RandomTensor({2, 2, 3}, 11)}});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok) << report->worst;
  EXPECT_EQ(report->checked, 12);
}

}  // namespace
}  // namespace strata
