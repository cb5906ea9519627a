// Reshape and Flatten: shapes, values, errors and gradients (in both
// precisions, since the output is a view made by the runtime, not a kernel).
#include <gtest/gtest.h>

#include "autodiff/gradient_checker.h"
#include "ops/array.h"
#include "ops/math.h"
#include "ops/nn.h"
#include "ops/state.h"
#include "runtime/session.h"

namespace strata {
namespace {

using autodiff::CheckGradients;
using autodiff::RandomTensor;

absl::StatusOr<std::vector<Tensor>> RunGraph(const Graph& g, const runtime::Feeds& feeds,
                                             const std::vector<Output>& fetches, bool reference = false) {
  runtime::SessionOptions options;
  options.reference_float64 = reference;
  auto session = runtime::Session::Create(g, options);
  if (!session.ok()) return session.status();
  return (*session)->Run(feeds, fetches);
}

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

}  // namespace
}  // namespace strata
