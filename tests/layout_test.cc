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
// adds, pooling, SGD): batch norm (with its ReLU), the adds (with theirs)
// and their gradients run without a single reorder, the weights stay in
// their convolutions' layouts, and only the edges convert: the image batch
// into the first convolution, the weights into backward data's layout, the
// pooled features out to the classifier.
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
  EXPECT_EQ(calls["Relu"], 0) << "every ReLU runs inside a batch norm or an addition";
  for (const char* op : {"BatchNorm", "BatchNormGrad", "EltwiseGrad", "Add"}) {
    EXPECT_GT(calls[op], 0) << op;
    EXPECT_EQ(reorders[op], 0) << op;
  }
  // The weights stay in the forward convolution's layout across steps
  // (FindKeptWeights): only the image batch is converted on the way in, and
  // backward data still converts the weights to the layout it works in.
  EXPECT_LE(reorders["Conv2D"], 1) << "the image batch once";
  EXPECT_EQ(reorders["Conv2DBackpropFilter"], 0);
  EXPECT_LE(reorders["Conv2DBackpropInput"], calls["Conv2DBackpropInput"]);
  EXPECT_NE((*session)->variables().layout("conv2_1/conv_a/weights"), nullptr);

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

// Which weights a training plan keeps in their convolution's layout: those
// read by nothing but their convolutions and their optimizer update.
TEST(LayoutPass, KeptWeightsAreThoseOnlyConvolutionsAndTheirUpdateRead) {
  Graph g;
  Output x = ops::Placeholder(g, "x", Shape({2, 16, 8, 8}));
  Output w1 = ops::Variable(g, "w1", Shape({16, 16, 3, 3}));
  Output w2 = ops::Variable(g, "w2", Shape({16, 16, 3, 3}));
  Output w3 = ops::Variable(g, "w3", Shape({16, 16, 3, 3}));
  Output c1 = ops::Conv2D(g, x, w1, Output{}, {1, 1}, "c1");
  Output c2 = ops::Conv2D(g, ops::Relu(g, c1), w2, Output{}, {1, 1}, "c2");
  Output c3 = ops::Conv2D(g, ops::Relu(g, c2), w3, Output{}, {1, 1}, "c3");
  // w2 also enters the loss (a penalty): another reader.
  Output loss = ops::Add(g, ops::Sum(g, c3), ops::Sum(g, ops::Mul(g, w2, w2)), "loss");
  auto step = optim::MinimizeWithSGD(g, loss, {0.1, 0.9, 0, false});
  ASSERT_TRUE(step.ok()) << step.status();
  ASSERT_TRUE(g.status().ok()) << g.status();

  // A run that does not fetch the gradients' global norm (which the
  // optimizer adds for monitoring) does not schedule it.
  std::vector<const Node*> order = AllNodes(g);
  Node* norm = g.FindNode("gradient_norm");
  ASSERT_NE(norm, nullptr);
  order.erase(std::find(order.begin(), order.end(), norm));
  auto kept_names = [&](const std::vector<Output>& fetches) {
    std::vector<std::string> names;
    for (const runtime::KeptWeights& k : runtime::FindKeptWeights(order, fetches)) {
      names.push_back(k.variable->name());
      EXPECT_EQ(k.conv->op(), "Conv2D");
      EXPECT_EQ(k.gradient->op(), "Conv2DBackpropFilter");
      EXPECT_EQ(k.slots.size(), 1u) << "the velocity";
    }
    return names;
  };
  EXPECT_EQ(kept_names({loss}), (std::vector<std::string>{"w1", "w3"}));
  EXPECT_EQ(kept_names({loss, w3}), (std::vector<std::string>{"w1"})) << "w3 fetched";
  order.push_back(norm);
  EXPECT_TRUE(kept_names({loss, norm->output(0)}).empty()) << "the norm reads every gradient";
}

// Weights kept in their convolution's layout train exactly as plain ones
// (the same arithmetic on permuted arrays), the store hands them out plain,
// and a value set while they are kept is seen by the next step.
TEST(LayoutPass, KeptWeightsTrainBitForBitAsPlainOnes) {
  ResNet20 net(2);
  ASSERT_NE(net.step, nullptr);
  const Graph& g = net.g;
  const zoo::Model* m = &net.m;
  runtime::SessionOptions plain_weights;
  plain_weights.passes.keep_weight_layouts = false;
  auto kept = runtime::Session::Create(g);
  auto plain = runtime::Session::Create(g, plain_weights);
  ASSERT_TRUE(kept.ok() && plain.ok());
  ASSERT_TRUE((*kept)->InitializeVariables(5).ok());
  ASSERT_TRUE((*plain)->InitializeVariables(5).ok());
  Tensor images(m->images.spec()), labels(m->labels.spec());
  for (int64_t i = 0; i < images.num_elements(); ++i) images.flat<float>()[i] = static_cast<float>(i % 11) - 5;
  for (int64_t i = 0; i < labels.num_elements(); ++i) labels.flat<int32_t>()[i] = static_cast<int32_t>(i % 10);
  RunOptions train;
  train.training = true;
  auto step = [&](runtime::Session& s) {
    auto r = s.Run({{m->images, images}, {m->labels, labels}}, {m->loss}, {net.step}, train);
    ASSERT_TRUE(r.ok()) << r.status();
  };
  auto expect_same_variables = [&](const char* when) {
    const auto a = (*kept)->variables().values(), b = (*plain)->variables().values();
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [name, t] : a) {
      const Tensor& u = b.at(name);
      ASSERT_TRUE(t.valid()) << name;
      EXPECT_TRUE(std::equal(t.flat<float>().begin(), t.flat<float>().end(), u.flat<float>().begin()))
          << name << " differs " << when;
    }
  };
  for (int i = 0; i < 2; ++i) {
    step(**kept);
    step(**plain);
  }
  const std::string name = "conv3_1/conv_b/weights";
  ASSERT_NE((*kept)->variables().layout(name), nullptr) << "the test would prove nothing";
  EXPECT_EQ((*plain)->variables().layout(name), nullptr);
  expect_same_variables("after two steps");

  // Set while kept: both stores take the same new value.
  auto w = (*plain)->variables().Get(name);
  ASSERT_TRUE(w.ok());
  Tensor halved = w->Clone();
  for (float& v : halved.flat<float>()) v *= 0.5f;
  ASSERT_TRUE((*kept)->variables().Set(name, halved).ok());
  ASSERT_TRUE((*plain)->variables().Set(name, halved).ok());
  auto got = (*kept)->variables().Get(name);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(std::equal(got->flat<float>().begin(), got->flat<float>().end(), halved.flat<float>().begin()))
      << "Get must hand the value back plain";
  step(**kept);
  step(**plain);
  expect_same_variables("after a Set and a step");
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
