// The graph builder and the session: naming, first-error-wins, feeds,
// variables and plan caching.
#include <gtest/gtest.h>

#include "ops/math.h"
#include "ops/state.h"
#include "runtime/session.h"

namespace strata {
namespace {

bool Contains(const absl::Status& s, const std::string& text) {
  return std::string(s.message()).find(text) != std::string::npos;
}

TEST(Graph, ScopesAndUniqueNames) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {2});
  {
    Graph::Scope scope(g, "layer");
    Output a = ops::Add(g, x, x);
    Output b = ops::Add(g, x, x);
    EXPECT_EQ(a.node->name(), "layer/Add");
    EXPECT_EQ(b.node->name(), "layer/Add_1");
  }
  EXPECT_EQ(ops::Add(g, x, x).node->name(), "Add");
  EXPECT_EQ(g.FindNode("layer/Add_1")->op(), "Add");
  EXPECT_EQ(g.FindOutput("nope").status().code(), absl::StatusCode::kNotFound);
}

TEST(Graph, FirstErrorIsKeptAndNothingRuns) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {2, 3});
  Output bad = ops::Add(g, x, ops::Placeholder(g, "y", {4}), "bad");
  Output later = ops::Add(g, bad, x, "later");
  EXPECT_FALSE(later.valid());
  EXPECT_TRUE(Contains(g.status(), "bad")) << g.status();
  auto session = runtime::Session::Create(g);
  EXPECT_EQ(session.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Graph, UnknownAttributeAndBadShapeAreRejected) {
  Graph g;
  EXPECT_FALSE(ops::Placeholder(g, "x", {2, 0}).valid());
  EXPECT_TRUE(Contains(g.status(), "dimension <= 0")) << g.status();
}

TEST(Session, FeedsAreCheckedAndPlansCached) {
  Graph g;
  Output x = ops::Placeholder(g, "x", {2});
  Output y = ops::Mul(g, x, ops::ScalarConst(g, 3));
  auto s = runtime::Session::Create(g);
  ASSERT_TRUE(s.ok());
  auto missing = (*s)->Run({}, {y});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(missing.status(), "'x'")) << missing.status();
  auto wrong = (*s)->Run({{x, Tensor(DType::kFloat32, {3})}}, {y});
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(wrong.status(), "float32[3]")) << wrong.status();
  for (float v : {1.f, 2.f}) {
    auto out = (*s)->Run({{x, Tensor::FromVector<float>({2}, {v, v})}}, {y});
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->at(0).data<float>()[1], 3 * v);
  }
}

TEST(Session, VariablesLiveInTheSharedStore) {
  Graph g;
  Output w = ops::Variable(g, "w", {2, 3}, ops::Initializer::Constant(0.5));
  Output s = ops::Sum(g, w);
  auto session = runtime::Session::Create(g);
  ASSERT_TRUE(session.ok());
  EXPECT_EQ((*session)->Run({}, {s}).status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE((*session)->InitializeVariables(7).ok());
  EXPECT_FLOAT_EQ((*session)->Run({}, {s})->at(0).data<float>()[0], 3.0f);
  // Setting a value after compiling is seen by the cached plan.
  ASSERT_TRUE((*session)->variables().Set("w", Tensor::FromVector<float>({2, 3}, {1, 1, 1, 1, 1, 1})).ok());
  EXPECT_FLOAT_EQ((*session)->Run({}, {s})->at(0).data<float>()[0], 6.0f);
  EXPECT_EQ((*session)->num_cached_plans(), 1);
  EXPECT_FALSE((*session)->variables().Set("w", Tensor(DType::kFloat32, {3})).ok());
}

TEST(Initializers, FollowTheirDistributions) {
  Graph g;
  Output he = ops::Variable(g, "he", {64, 32, 3, 3}, ops::Initializer::HeNormal());
  Output glorot = ops::Variable(g, "glorot", {100, 50}, ops::Initializer::GlorotUniform());
  auto h = ops::InitialValue(*he.node, 1);
  auto gl = ops::InitialValue(*glorot.node, 1);
  ASSERT_TRUE(h.ok() && gl.ok());
  double sq = 0;
  for (float v : h->flat<float>()) sq += v * v;
  // He: variance 2 / fan_in = 2 / (32*9).
  EXPECT_NEAR(sq / h->num_elements(), 2.0 / 288, 0.1 * 2.0 / 288);
  const double limit = std::sqrt(6.0 / 150);
  for (float v : gl->flat<float>()) ASSERT_LE(std::abs(v), limit);
  // Deterministic in (seed, name).
  EXPECT_EQ(ops::InitialValue(*he.node, 1)->data<float>()[5], h->data<float>()[5]);
  EXPECT_NE(ops::InitialValue(*he.node, 2)->data<float>()[5], h->data<float>()[5]);
}

}  // namespace
}  // namespace strata
