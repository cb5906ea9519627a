// runtime/simplify: constant folding and merging duplicate nodes rewrite the
// graph a plan runs without changing a value, and leave stateful ops, big
// broadcasts and everything the passes are switched off for alone.
#include <cstring>
#include <map>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "ops/dropout.h"
#include "ops/math.h"
#include "ops/nn.h"
#include "ops/state.h"
#include "optim/sgd.h"
#include "runtime/profile.h"
#include "runtime/session.h"
#include "runtime/simplify.h"

namespace strata {
namespace {

Tensor Filled(const Shape& shape, float first, float step) {
  Tensor t(DType::kFloat32, shape);
  for (int64_t i = 0; i < t.num_elements(); ++i) t.data<float>()[i] = first + step * static_cast<float>(i);
  return t;
}

bool SameBytes(const Tensor& a, const Tensor& b) {
  return a.spec() == b.spec() && std::memcmp(a.raw_data(), b.raw_data(), a.num_bytes()) == 0;
}

// How many times each node ran in one profiled run of `fetches`.
struct ProfiledRun {
  std::vector<Tensor> values;
  std::map<std::string, int> runs_of;  // node name -> runs
};

ProfiledRun RunProfiled(const Graph& g, runtime::PassOptions passes, const runtime::Feeds& feeds,
                        const std::vector<Output>& fetches, const RunOptions& options = {}) {
  runtime::SessionOptions session_options;
  session_options.passes = passes;
  auto session = runtime::Session::Create(g, session_options);
  EXPECT_TRUE(session.ok()) << session.status();
  runtime::Profile profile;
  auto values = (*session)->Run(feeds, fetches, {}, options, &profile);
  EXPECT_TRUE(values.ok()) << values.status();
  ProfiledRun run;
  if (values.ok()) run.values = *values;
  for (const runtime::OpEvent& e : profile.events()) ++run.runs_of[e.node];
  return run;
}

runtime::PassOptions NoRewrites() {
  runtime::PassOptions off;
  off.fold_constants = off.merge_duplicates = false;
  return off;
}

TEST(Simplify, FoldsAChainOfConstantsIntoOneAndRunsItNever) {
  Graph g;
  Output x = ops::Placeholder(g, "x", Shape({4, 3}));
  Output a = ops::Const(g, Filled(Shape({4, 3}), 0.25f, 0.5f), "a");
  Output b = ops::Const(g, Filled(Shape({4, 3}), -1.0f, 0.125f), "b");
  Output scale = ops::Mul(g, ops::Add(g, a, b, "a_plus_b"), a, "scale");  // (a + b) * a: both fold
  Output y = ops::Mul(g, x, scale, "y");
  ASSERT_TRUE(g.status().ok()) << g.status();
  const runtime::Feeds feeds = {{x, Filled(Shape({4, 3}), 3.0f, -0.75f)}};

  ProfiledRun folded = RunProfiled(g, {}, feeds, {y, scale});
  ProfiledRun unfolded = RunProfiled(g, NoRewrites(), feeds, {y, scale});
  ASSERT_EQ(folded.values.size(), 2u);
  ASSERT_EQ(unfolded.values.size(), 2u);
  // The same kernels computed both, once at plan time: bit for bit.
  EXPECT_TRUE(SameBytes(folded.values[0], unfolded.values[0]));
  EXPECT_TRUE(SameBytes(folded.values[1], unfolded.values[1]));
  EXPECT_EQ(folded.runs_of.count("a_plus_b"), 0u);
  EXPECT_EQ(folded.runs_of.count("scale"), 0u);
  EXPECT_EQ(folded.runs_of["y"], 1);
  EXPECT_EQ(unfolded.runs_of["a_plus_b"], 1);
  EXPECT_EQ(unfolded.runs_of["scale"], 1);
}

TEST(Simplify, CountsWhatItFoldsAndMergesAndKeepsNames) {
  Graph g;
  Output x = ops::Placeholder(g, "x", Shape({2, 2}));
  Output c = ops::Const(g, Filled(Shape({2, 2}), 1.0f, 1.0f), "c");
  Output twice = ops::Add(g, c, c, "twice");  // folded
  Output r1 = ops::Relu(g, x, "relu1");
  Output r2 = ops::Relu(g, x, "relu2");  // a twin of relu1
  ops::Add(g, ops::Mul(g, r1, twice, "m1"), ops::Mul(g, r2, twice, "m2"), "y");  // m2 twins m1
  ASSERT_TRUE(g.status().ok()) << g.status();
  std::vector<const Node*> order;
  for (const auto& n : g.nodes()) order.push_back(n.get());  // added in dependency order
  auto evaluate = [](const Node&, const std::vector<Tensor>& in) -> absl::StatusOr<std::vector<Tensor>> {
    Tensor sum(DType::kFloat32, in[0].shape());
    for (int64_t i = 0; i < sum.num_elements(); ++i) sum.data<float>()[i] = in[0].data<float>()[i] * 2;
    return std::vector<Tensor>{sum};
  };
  auto s = runtime::SimplifyGraph(order, {}, evaluate);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_NE(s->graph, nullptr);
  EXPECT_EQ(s->folded, 1);
  EXPECT_EQ(s->merged, 2);
  EXPECT_EQ(s->Map(g.FindNode("twice"))->op(), "Const");
  EXPECT_EQ(s->Map(g.FindNode("twice"))->name(), "twice");
  EXPECT_EQ(s->Map(g.FindNode("relu2")), s->Map(g.FindNode("relu1")));
  EXPECT_EQ(s->Map(g.FindNode("m2")), s->Map(g.FindNode("m1")));
  EXPECT_EQ(s->graph->num_nodes(), g.num_nodes() - 2);
  // The graph's own Add of the two merged products reads one value twice.
  const Node* sum = s->Map(g.FindNode("y"));
  EXPECT_EQ(sum->inputs()[0], sum->inputs()[1]);

  runtime::PassOptions fold_only;
  fold_only.merge_duplicates = false;
  auto folded_only = runtime::SimplifyGraph(order, fold_only, evaluate);
  ASSERT_TRUE(folded_only.ok());
  EXPECT_EQ(folded_only->folded, 1);
  EXPECT_EQ(folded_only->merged, 0);
  auto none = runtime::SimplifyGraph(order, NoRewrites(), evaluate);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->graph, nullptr);
}

TEST(Simplify, MergedTwinsRunOnceAndEveryFetchOfThemIsServed) {
  Graph g;
  Output x = ops::Placeholder(g, "x", Shape({3, 4}));
  Output w = ops::Const(g, Filled(Shape({4, 5}), -0.5f, 0.0625f), "w");
  Output p1 = ops::MatMul(g, x, w, false, false, "p1");
  Output p2 = ops::MatMul(g, x, w, false, false, "p2");
  Output y = ops::Sub(g, p1, p2, "y");
  ASSERT_TRUE(g.status().ok()) << g.status();
  const runtime::Feeds feeds = {{x, Filled(Shape({3, 4}), 1.0f, 0.5f)}};
  ProfiledRun merged = RunProfiled(g, {}, feeds, {p1, p2, y});
  ProfiledRun separate = RunProfiled(g, NoRewrites(), feeds, {p1, p2, y});
  ASSERT_EQ(merged.values.size(), 3u);
  ASSERT_EQ(separate.values.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(SameBytes(merged.values[i], separate.values[i])) << i;
  EXPECT_EQ(merged.runs_of["p1"] + merged.runs_of["p2"], 1);
  EXPECT_EQ(separate.runs_of["p1"] + separate.runs_of["p2"], 2);
}

TEST(Simplify, LeavesStatefulOpsAndBigBroadcastsAlone) {
  Graph g;
  Output x = ops::Placeholder(g, "x", Shape({64, 64}));
  Output d1 = ops::Dropout(g, x, 0.5, "drop1");
  Output d2 = ops::Dropout(g, x, 0.5, "drop2");  // same op, attributes and input: its own mask
  // 4 MiB from a 4-byte constant: folding it would keep 4 MiB to save a broadcast.
  Output big = ops::BroadcastTo(g, ops::ScalarConst(g, 1.5f, "one_and_a_half"), Shape({1024, 1024}), "big");
  ASSERT_TRUE(g.status().ok()) << g.status();
  RunOptions training;
  training.training = true;
  ProfiledRun run = RunProfiled(g, {}, {{x, Filled(Shape({64, 64}), 1.0f, 0.0f)}}, {d1, d2, big}, training);
  ASSERT_EQ(run.values.size(), 3u);
  EXPECT_EQ(run.runs_of["drop1"], 1);
  EXPECT_EQ(run.runs_of["drop2"], 1);
  EXPECT_FALSE(SameBytes(run.values[0], run.values[1])) << "two dropouts drew the same mask";
  EXPECT_EQ(run.runs_of["big"], 1);
  EXPECT_EQ(run.values[2].data<float>()[1024 * 1024 - 1], 1.5f);
}

TEST(Simplify, TrainingAGraphWithFoldedConstantsUpdatesTheSameVariables) {
  // A rewritten plan runs a copy of the graph: its variables must still be
  // the session's, by name, and its optimizer updates must land in them.
  auto train = [](runtime::PassOptions passes) {
    Graph g;
    Output x = ops::Placeholder(g, "x", Shape({8, 4}));
    Output w = ops::Variable(g, "w", Shape({4, 2}), ops::Initializer::Constant(0.5));
    Output half = ops::Mul(g, ops::ScalarConst(g, 0.25f), ops::ScalarConst(g, 2.0f), "half");  // folded
    Output y = ops::MatMul(g, x, w, false, false, "y");
    Output loss = ops::Mean(g, ops::Mul(g, ops::Mul(g, y, y), ops::BroadcastTo(g, half, Shape({8, 2}))), "loss");
    auto step = optim::MinimizeWithSGD(g, loss, {0.1, 0.9, 0.0, false});
    EXPECT_TRUE(step.ok()) << step.status();
    runtime::SessionOptions options;
    options.passes = passes;
    auto session = runtime::Session::Create(g, options);
    EXPECT_TRUE(session.ok());
    EXPECT_TRUE((*session)->InitializeVariables(1).ok());
    RunOptions run;
    run.training = true;
    runtime::Profile profile;
    for (int i = 0; i < 3; ++i) {
      auto out = (*session)->Run({{x, Filled(Shape({8, 4}), 0.1f, 0.05f)}}, {loss}, {*step}, run, &profile);
      EXPECT_TRUE(out.ok()) << out.status();
    }
    int half_runs = 0;
    for (const runtime::OpEvent& e : profile.events()) half_runs += e.node == "half";
    auto value = (*session)->variables().Get("w");
    EXPECT_TRUE(value.ok());
    return std::pair{*value, half_runs};
  };
  const auto [rewritten, rewritten_half_runs] = train({});
  const auto [original, original_half_runs] = train(NoRewrites());
  EXPECT_EQ(rewritten_half_runs, 0);
  EXPECT_EQ(original_half_runs, 3);
  EXPECT_TRUE(SameBytes(rewritten, original));
  EXPECT_NE(rewritten.data<float>()[0], 0.5f) << "the steps did not update the variable";
}

}  // namespace
}  // namespace strata
