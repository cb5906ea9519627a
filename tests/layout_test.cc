// runtime/layout: which values a plan keeps in oneDNN's blocked layouts, and
// that a training step then reorders only at the edges (plain weights, the
// classifier's reshape), never between two oneDNN ops.
#include "runtime/layout.h"

#include <algorithm>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "ops/array.h"
#include "ops/conv.h"
#include "ops/math.h"
#include "ops/nn.h"
#include "ops/state.h"
#include "optim/sgd.h"
#include "runtime/profile.h"
#include "runtime/session.h"
#include "zoo/model.h"

namespace strata {
namespace {

using Value = std::pair<const Node*, int>;

std::vector<const Node*> AllNodes(const Graph& g) {
  std::vector<const Node*> order;
  for (const auto& n : g.nodes()) order.push_back(n.get());
  return order;  // nodes are added after their inputs
}

TEST(LayoutPass, BlockedOnlyBetweenOpsThatTakeIt) {
  Graph g;
  Output x = ops::Placeholder(g, "x", Shape({2, 16, 8, 8}));
  Output w1 = ops::Const(g, Tensor(DType::kFloat32, Shape({16, 16, 3, 3})), "w1");
  Output w2 = ops::Const(g, Tensor(DType::kFloat32, Shape({16, 16, 3, 3})), "w2");
  Output c1 = ops::Conv2D(g, x, w1, Output{}, {1, 1}, "c1");
  Output r1 = ops::Relu(g, c1, "r1");                       // elementwise: takes blocked c1
  Output c2 = ops::Conv2D(g, r1, w2, Output{}, {1, 1}, "c2");
  Output sum = ops::Add(g, c2, r1, "sum");                  // equal shapes: takes both blocked
  Output flat = ops::Reshape(g, sum, {2, 16 * 8 * 8}, "flat");  // plain only
  Output c3 = ops::Conv2D(g, r1, w2, Output{}, {1, 1}, "c3");          // fetched below
  ASSERT_TRUE(g.status().ok()) << g.status();

  const auto blockable = runtime::BlockableValues(AllNodes(g), {flat, c3}, runtime::Fusions{});
  auto is_blockable = [&](Output o) { return blockable.count(Value{o.node, o.index}) > 0; };
  EXPECT_TRUE(is_blockable(c1));
  EXPECT_TRUE(is_blockable(r1));
  EXPECT_TRUE(is_blockable(c2));
  EXPECT_FALSE(is_blockable(sum)) << "read by a reshape";
  EXPECT_FALSE(is_blockable(c3)) << "fetched";
  EXPECT_FALSE(is_blockable(x)) << "a source";
  EXPECT_FALSE(is_blockable(w1)) << "a source";
}

TEST(LayoutPass, ConvolutionWeightsAndScalarOperandsStayPlain) {
  Graph g;
  Output x = ops::Placeholder(g, "x", Shape({2, 16, 8, 8}));
  Output w = ops::Const(g, Tensor(DType::kFloat32, Shape({16, 16, 3, 3})), "w");
  Output c1 = ops::Conv2D(g, x, w, Output{}, {1, 1}, "c1");
  Output w_from_relu = ops::Relu(g, ops::Const(g, Tensor(DType::kFloat32, Shape({16, 16, 3, 3})), "v"), "wr");
  Output c2 = ops::Conv2D(g, c1, w_from_relu, Output{}, {1, 1}, "c2");
  Output scaled = ops::Mul(g, c2, ops::Const(g, Tensor::Scalar<float>(2.0f), "two"), "scaled");
  Output out = ops::Conv2D(g, scaled, w, Output{}, {1, 1}, "out");
  ASSERT_TRUE(g.status().ok()) << g.status();

  const auto blockable = runtime::BlockableValues(AllNodes(g), {out}, runtime::Fusions{});
  EXPECT_TRUE(blockable.count({c1.node, 0}));
  EXPECT_FALSE(blockable.count({w_from_relu.node, 0})) << "a convolution reads its weights plain";
  EXPECT_FALSE(blockable.count({c2.node, 0})) << "Mul by a scalar is not elementwise over equal shapes";
}

// CIFAR ResNet-20 with an SGD step, at `batch`.
struct ResNet20 {
  Graph g;
  zoo::Model m;
  Node* step = nullptr;
  explicit ResNet20(int64_t batch) {
    zoo::ModelConfig config;
    config.batch_size = batch;
    auto model = zoo::BuildModel("cifar_resnet20", g, config);
    EXPECT_TRUE(model.ok()) << model.status();
    if (!model.ok()) return;
    m = *model;
    auto sgd = optim::MinimizeWithSGD(g, m.loss, {0.1, 0.9, 0, false});
    EXPECT_TRUE(sgd.ok()) << sgd.status();
    if (sgd.ok()) step = *sgd;
  }
};

// A CIFAR ResNet-20 training step (convolutions, batch norm, ReLU, residual
// adds, pooling, SGD): batch norm, ReLU, the adds and their gradients run
// without a single reorder, and each convolution pass converts only its
// plain weights (or weight gradient); the first convolution's input comes in
// plain and the pooled features leave plain for the classifier.
TEST(LayoutPass, ResNetTrainingStepReordersOnlyAtTheEdges) {
  ResNet20 net(8);
  ASSERT_NE(net.step, nullptr);
  const Graph& g = net.g;
  const zoo::Model* m = &net.m;
  auto session = runtime::Session::Create(g);
  ASSERT_TRUE(session.ok()) << session.status();
  ASSERT_TRUE((*session)->InitializeVariables(1).ok());
  Tensor images(m->images.spec()), labels(m->labels.spec());
  RunOptions train;
  train.training = true;
  runtime::Profile profile;
  auto r = (*session)->Run({{m->images, images}, {m->labels, labels}}, {m->loss}, {net.step}, train, &profile);
  ASSERT_TRUE(r.ok()) << r.status();

  std::map<std::string, int64_t> reorders, calls;
  for (const runtime::OpEvent& e : profile.events()) {
    reorders[e.op] += e.reorders;
    ++calls[e.op];
  }
  for (const char* op : {"BatchNorm", "BatchNormGrad", "Relu", "EltwiseGrad", "Add"}) {
    EXPECT_GT(calls[op], 0) << op;
    EXPECT_EQ(reorders[op], 0) << op;
  }
  EXPECT_LE(reorders["Conv2D"], calls["Conv2D"] + 1) << "weights, and the image batch once";
  EXPECT_LE(reorders["Conv2DBackpropInput"], calls["Conv2DBackpropInput"]);
  EXPECT_LE(reorders["Conv2DBackpropFilter"], calls["Conv2DBackpropFilter"]);

  // Without the pass, every op boundary converts.
  runtime::SessionOptions plain;
  plain.passes.keep_layouts = false;
  auto plain_session = runtime::Session::Create(g, plain, (*session)->shared_variables());
  ASSERT_TRUE(plain_session.ok());
  runtime::Profile plain_profile;
  ASSERT_TRUE((*plain_session)
                  ->Run({{m->images, images}, {m->labels, labels}}, {m->loss}, {}, train, &plain_profile)
                  .ok());
  int64_t plain_bn_reorders = 0;
  for (const runtime::OpEvent& e : plain_profile.events()) {
    if (e.op == "BatchNorm") plain_bn_reorders += e.reorders;
  }
  EXPECT_GT(plain_bn_reorders, 0) << "the comparison would prove nothing";
}

// An inference plan keeps its convolution weights reordered between runs;
// a new value (VariableStore::Set, a checkpoint restore) or a training step
// of another session on the same variables must be seen by the next run.
TEST(LayoutPass, KeptWeightCopiesFollowEveryChangeOfTheVariables) {
  ResNet20 net(2);
  ASSERT_NE(net.step, nullptr);
  const Graph& g = net.g;
  const zoo::Model* m = &net.m;
  auto trainer = runtime::Session::Create(g);
  ASSERT_TRUE(trainer.ok());
  ASSERT_TRUE((*trainer)->InitializeVariables(3).ok());
  auto infer = runtime::Session::Create(g, {}, (*trainer)->shared_variables());
  ASSERT_TRUE(infer.ok());
  Tensor images(m->images.spec()), labels(m->labels.spec());
  for (int64_t i = 0; i < images.num_elements(); ++i) images.flat<float>()[i] = static_cast<float>(i % 7) - 3;
  auto logits = [&](runtime::Session& s) {
    auto r = s.Run({{m->images, images}}, {m->logits});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? (*r)[0] : Tensor();
  };
  auto same = [](const Tensor& a, const Tensor& b) {
    return std::equal(a.flat<float>().begin(), a.flat<float>().end(), b.flat<float>().begin());
  };
  const Tensor first = logits(**infer);
  EXPECT_TRUE(same(first, logits(**infer))) << "a repeated inference must not change";

  // A training step in the other session changes every weight.
  RunOptions train;
  train.training = true;
  ASSERT_TRUE((*trainer)->Run({{m->images, images}, {m->labels, labels}}, {m->loss}, {net.step}, train).ok());
  const Tensor after_step = logits(**infer);
  EXPECT_FALSE(same(first, after_step));
  auto fresh = runtime::Session::Create(g, {}, (*trainer)->shared_variables());
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(same(after_step, logits(**fresh))) << "stale weights after a training step";

  // A new value through the store.
  auto w = (*trainer)->variables().Get("conv1/weights");
  ASSERT_TRUE(w.ok()) << w.status();
  Tensor doubled = w->Clone();
  for (float& v : doubled.flat<float>()) v *= 2;
  ASSERT_TRUE((*trainer)->variables().Set("conv1/weights", doubled).ok());
  const Tensor after_set = logits(**infer);
  EXPECT_FALSE(same(after_step, after_set));
  auto fresh2 = runtime::Session::Create(g, {}, (*trainer)->shared_variables());
  ASSERT_TRUE(fresh2.ok());
  EXPECT_TRUE(same(after_set, logits(**fresh2))) << "stale weights after VariableStore::Set";
}

}  // namespace
}  // namespace strata
