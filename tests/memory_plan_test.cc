// runtime/memory_plan: values share arena bytes exactly when their lifetimes
// (writer to last reader, aliases and fetches included) do not overlap.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ops/array.h"
#include "ops/conv.h"
#include "ops/nn.h"
#include "ops/state.h"
#include "runtime/fusion.h"
#include "runtime/memory_plan.h"
#include "runtime/session.h"

namespace strata {
namespace {

constexpr int64_t kBytes = 1024 * 4;  // one [1024] float32 value

// The nodes of a graph in creation order, which is a schedule for graphs
// built front to back.
std::vector<const Node*> Order(const Graph& g) {
  std::vector<const Node*> order;
  for (const auto& n : g.nodes()) order.push_back(n.get());
  return order;
}

struct Chain {
  Graph g;
  Output x, a, b, c;
  Chain() {
    x = ops::Placeholder(g, "x", Shape({1024}));
    a = ops::Relu(g, x, "a");
    b = ops::Tanh(g, a, "b");
    c = ops::Sigmoid(g, b, "c");
  }
};

TEST(MemoryPlan, ValuesThatAreNeverAliveTogetherShareBytes) {
  Chain m;
  const runtime::MemoryPlan plan = runtime::PlanMemory(Order(m.g), {m.c}, {});
  // The placeholder is not in the arena; a dies when b is written, so c
  // takes a's bytes.
  ASSERT_EQ(plan.offsets.size(), 3u);
  EXPECT_EQ(plan.offsets.count({m.x.node, 0}), 0u);
  EXPECT_EQ(plan.unshared_bytes, 3 * kBytes);
  EXPECT_EQ(plan.arena_bytes, 2 * kBytes);
  EXPECT_EQ(plan.offsets.at({m.a.node, 0}), plan.offsets.at({m.c.node, 0}));
  EXPECT_NE(plan.offsets.at({m.a.node, 0}), plan.offsets.at({m.b.node, 0}));
}

TEST(MemoryPlan, FetchedValuesLiveToTheEnd) {
  Chain m;
  const runtime::MemoryPlan plan = runtime::PlanMemory(Order(m.g), {m.c, m.a}, {});
  EXPECT_EQ(plan.arena_bytes, 3 * kBytes);
}

TEST(MemoryPlan, AnAliasKeepsItsStorageAlive) {
  Chain m;
  // A reshape of a, read after c is written: a's bytes stay taken.
  Output view = ops::Reshape(m.g, m.a, {32, 32}, "view");
  Output late = ops::Relu(m.g, m.c, "late");
  Output sum = ops::Concat(m.g, {ops::Reshape(m.g, late, {32, 32}), view}, 0, "both");
  ASSERT_TRUE(m.g.status().ok()) << m.g.status();
  const runtime::MemoryPlan plan = runtime::PlanMemory(Order(m.g), {sum}, {});
  EXPECT_EQ(plan.offsets.count({view.node, 0}), 0u);  // the alias has no bytes of its own
  const int64_t a = plan.offsets.at({m.a.node, 0});
  for (const Output& other : {m.b, m.c, late}) EXPECT_NE(plan.offsets.at({other.node, 0}), a) << other.name();
}

TEST(MemoryPlan, AFusedActivationUsesItsConvolutionsBytes) {
  Graph g;
  Output x = ops::Placeholder(g, "x", Shape({1, 2, 8, 8}));
  Output w = ops::Const(g, Tensor(DType::kFloat32, Shape({4, 2, 3, 3})), "w");
  Output conv = ops::Conv2D(g, x, w, Output{}, {1, 1}, "conv");
  Output relu = ops::Relu(g, conv, "relu");
  Output out = ops::Tanh(g, relu, "out");
  const std::vector<const Node*> order = Order(g);
  const runtime::Fusions fusions = runtime::FindFusions(order, {out}, {});
  ASSERT_EQ(fusions.fused_into.size(), 1u);
  const runtime::MemoryPlan plan = runtime::PlanMemory(order, {out}, fusions);
  EXPECT_EQ(plan.offsets.count({relu.node, 0}), 0u);
  // conv's bytes (holding the ReLU's output) are read by out: distinct.
  EXPECT_NE(plan.offsets.at({conv.node, 0}), plan.offsets.at({out.node, 0}));
  EXPECT_EQ(plan.arena_bytes, 2 * 4 * 8 * 8 * 4);
}

TEST(MemoryPlan, SessionsReportTheirPlans) {
  Chain m;
  auto session = runtime::Session::Create(m.g);
  ASSERT_TRUE(session.ok());
  Tensor input = Tensor::FromVector<float>(Shape({1024}), std::vector<float>(1024, 0.5f));
  auto out = (*session)->Run({{m.x, input}}, {m.c});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_FLOAT_EQ((*out)[0].data<float>()[7], 1 / (1 + std::exp(-std::tanh(0.5f))));
  // A second run reuses the same bytes and gives the same values.
  auto again = (*session)->Run({{m.x, input}}, {m.c});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0].data<float>()[7], (*out)[0].data<float>()[7]);
  ASSERT_EQ((*session)->plan_memory().size(), 1u);
  EXPECT_EQ((*session)->plan_memory()[0].arena_bytes, 2 * kBytes);
  EXPECT_EQ((*session)->plan_memory()[0].unshared_bytes, 3 * kBytes);

  runtime::SessionOptions off;
  off.passes.plan_memory = false;
  auto unplanned = runtime::Session::Create(m.g, off);
  ASSERT_TRUE(unplanned.ok());
  ASSERT_TRUE((*unplanned)->Run({{m.x, input}}, {m.c}).ok());
  EXPECT_EQ((*unplanned)->plan_memory()[0].arena_bytes, 0);
}

// A plan made without running it already holds every byte a run needs: its
// arena, the kernels' shared scratch (bridges, oneDNN scratchpads) and what
// kernels keep; the run after it allocates nothing more. `strata summary
// --plan` predicts a model's peak this way.
TEST(MemoryPlan, APreparedPlanKnowsItsMemoryBeforeItRuns) {
  Graph g;
  // 32 filters on 16 channels: oneDNN's convolution works in a blocked
  // layout, so the kernel bridges the plain input and output through scratch.
  Output x = ops::Placeholder(g, "x", Shape({4, 16, 14, 14}));
  Output w = ops::Const(g, Tensor(DType::kFloat32, Shape({32, 16, 3, 3})), "w");
  Output y = ops::Relu(g, ops::Conv2D(g, x, w, Output{}, {1, 1}, "conv"), "relu");
  ASSERT_TRUE(g.status().ok()) << g.status();
  auto session = runtime::Session::Create(g);
  ASSERT_TRUE(session.ok());
  const Tensor input(DType::kFloat32, Shape({4, 16, 14, 14}));
  ASSERT_TRUE((*session)->Prepare({{x, input}}, {y}).ok());
  ASSERT_EQ((*session)->plan_memory().size(), 1u);
  const int64_t scratch = (*session)->scratch_bytes(), held = (*session)->held_bytes();
  EXPECT_GT(scratch, 0);
  ASSERT_TRUE((*session)->Run({{x, input}}, {y}).ok());
  EXPECT_EQ((*session)->plan_memory().size(), 1u) << "the run made another plan";
  EXPECT_EQ((*session)->scratch_bytes(), scratch);
  EXPECT_EQ((*session)->held_bytes(), held);
}

}  // namespace
}  // namespace strata
