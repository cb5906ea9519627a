// runtime/fusion: which convolutions take their ReLU as a oneDNN post-op,
// and that plans with every pass on (fusion, the shared memory arena, the
// layout pass) compute the same training steps and inferences as plans with
// none, on the zoo's models: losses and logits within 1e-5 of their scale,
// parameters after two steps within 1e-4 (see MaxRelativeDifference).
#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "ops/batch_norm.h"
#include "ops/conv.h"
#include "ops/math.h"
#include "ops/nn.h"
#include "ops/state.h"
#include "optim/sgd.h"
#include "runtime/fusion.h"
#include "runtime/session.h"
#include "zoo/model.h"

namespace strata {
namespace {

struct ConvRelu {
  Graph g;
  Output x, conv, relu;
  ConvRelu() {
    x = ops::Placeholder(g, "x", Shape({2, 3, 8, 8}));
    Output w = ops::Const(g, Tensor(DType::kFloat32, Shape({4, 3, 3, 3})), "w");
    conv = ops::Conv2D(g, x, w, Output{}, {1, 1}, "conv");
    relu = ops::Relu(g, conv, "relu");
  }
  std::vector<const Node*> Order(std::vector<Output> extra = {}) const {
    std::vector<const Node*> order = {x.node, g.nodes()[1].get(), conv.node, relu.node};
    for (const Output& o : extra) order.push_back(o.node);
    return order;
  }
};

TEST(FindFusions, ReluThatAloneReadsAConvolutionIsFused) {
  ConvRelu m;
  const runtime::Fusions f = runtime::FindFusions(m.Order(), {m.relu}, {});
  ASSERT_EQ(f.fused_into.size(), 1u);
  EXPECT_EQ(f.fused_into.at(m.relu.node), m.conv.node);
  EXPECT_TRUE(f.epilogue_of.at(m.conv.node).relu);
}

TEST(FindFusions, NotWhenThePreActivationIsNeeded) {
  ConvRelu m;
  // Fetched...
  EXPECT_TRUE(runtime::FindFusions(m.Order(), {m.relu, m.conv}, {}).fused_into.empty());
  // ...or read by another node of the run.
  Output tanh = ops::Tanh(m.g, m.conv, "tanh");
  EXPECT_TRUE(runtime::FindFusions(m.Order({tanh}), {m.relu, tanh}, {}).fused_into.empty());
  // A reader outside the run does not count.
  EXPECT_EQ(runtime::FindFusions(m.Order(), {m.relu}, {}).fused_into.size(), 1u);
}

TEST(FindFusions, OnlyConvolutionsAndOnlyWhenOn) {
  ConvRelu m;
  runtime::PassOptions off;
  off.fuse_conv_relu = false;
  EXPECT_TRUE(runtime::FindFusions(m.Order(), {m.relu}, off).fused_into.empty());
  Output again = ops::Relu(m.g, m.relu, "relu_of_relu");
  const runtime::Fusions f = runtime::FindFusions(m.Order({again}), {again}, {});
  EXPECT_EQ(f.fused_into.count(again.node), 0u);
}

// conv -> batch norm -> add(shortcut) -> relu, the ResNet block's tail.
struct ConvBnAddRelu {
  Graph g;
  Output x, shortcut, conv, bn, add, relu;
  ConvBnAddRelu() {
    x = ops::Placeholder(g, "x", Shape({2, 4, 8, 8}));
    shortcut = ops::Relu(g, x, "shortcut");
    Output w = ops::Const(g, Tensor(DType::kFloat32, Shape({4, 4, 3, 3})), "w");
    conv = ops::Conv2D(g, x, w, Output{}, {1, 1}, "conv");
    auto channel = [&](const char* name) { return ops::Const(g, Tensor(DType::kFloat32, Shape({4})), name); };
    bn = ops::BatchNorm(g, conv, channel("gamma"), channel("beta"), channel("mean"), channel("var"), {}, "bn");
    add = ops::Add(g, bn, shortcut, "add");
    relu = ops::Relu(g, add, "relu");
  }
  std::vector<const Node*> Order() const {
    std::vector<const Node*> order;
    for (const auto& n : g.nodes()) order.push_back(n.get());
    return order;
  }
};

TEST(FindFusions, InferenceFoldsBatchNormAndTakesTheResidualAndRelu) {
  ConvBnAddRelu m;
  ASSERT_TRUE(m.g.status().ok()) << m.g.status();
  const runtime::Fusions f = runtime::FindFusions(m.Order(), {m.relu}, {}, /*training=*/false);
  const runtime::ConvEpilogue& e = f.epilogue_of.at(m.conv.node);
  EXPECT_EQ(e.batch_norm, m.bn.node);
  EXPECT_EQ(e.residual.node, m.shortcut.node);
  EXPECT_TRUE(e.relu);
  EXPECT_EQ(f.fused_into.at(m.bn.node), m.conv.node);
  EXPECT_EQ(f.fused_into.at(m.add.node), m.conv.node);
  EXPECT_EQ(f.fused_into.at(m.relu.node), m.conv.node);
}

TEST(FindFusions, TrainingKeepsBatchNormAndStopsTheChainThere) {
  ConvBnAddRelu m;
  const runtime::Fusions f = runtime::FindFusions(m.Order(), {m.relu}, {}, /*training=*/true);
  EXPECT_TRUE(f.epilogue_of.empty()) << "batch statistics cannot be folded";
  EXPECT_TRUE(f.fused_into.empty());
}

TEST(FindFusions, BatchNormWhoseStatisticsAreReadIsNotFolded) {
  ConvBnAddRelu m;
  const runtime::Fusions f =
      runtime::FindFusions(m.Order(), {m.relu, Output{m.bn.node, 1}}, {}, /*training=*/false);
  EXPECT_TRUE(f.epilogue_of.empty());
}

TEST(FindFusions, ResidualComputedAfterTheConvolutionIsNotTaken) {
  ConvBnAddRelu m;
  std::vector<const Node*> order = m.Order();
  // Run the shortcut's ReLU after the convolution.
  order.erase(std::find(order.begin(), order.end(), m.shortcut.node));
  order.insert(std::find(order.begin(), order.end(), m.conv.node) + 1, m.shortcut.node);
  const runtime::Fusions f = runtime::FindFusions(order, {m.relu}, {}, /*training=*/false);
  const runtime::ConvEpilogue& e = f.epilogue_of.at(m.conv.node);
  EXPECT_EQ(e.batch_norm, m.bn.node);
  EXPECT_FALSE(e.residual.valid());
  EXPECT_FALSE(e.relu) << "the ReLU follows the unfused add";
  EXPECT_EQ(f.fused_into.count(m.add.node), 0u);
}

// A projection block: both branches end in conv + batch norm; the add goes
// into whichever convolution runs second, its other operand being ready.
TEST(FindFusions, ProjectionShortcutTakesTheAddIntoTheLaterConvolution) {
  Graph g;
  Output x = ops::Placeholder(g, "x", Shape({2, 4, 8, 8}));
  auto channel = [&](const std::string& name) { return ops::Const(g, Tensor(DType::kFloat32, Shape({4})), name); };
  auto conv_bn = [&](const std::string& name) {
    Output w = ops::Const(g, Tensor(DType::kFloat32, Shape({4, 4, 1, 1})), name + "_w");
    Output c = ops::Conv2D(g, x, w, Output{}, {1, 0}, name);
    return ops::BatchNorm(g, c, channel(name + "_g"), channel(name + "_b"), channel(name + "_m"),
                          channel(name + "_v"), {}, name + "_bn");
  };
  Output main = conv_bn("main");
  Output shortcut = conv_bn("shortcut");
  Output add = ops::Add(g, main, shortcut, "add");
  Output relu = ops::Relu(g, add, "relu");
  ASSERT_TRUE(g.status().ok()) << g.status();
  std::vector<const Node*> order;
  for (const auto& n : g.nodes()) order.push_back(n.get());
  const runtime::Fusions f = runtime::FindFusions(order, {relu}, {}, /*training=*/false);
  const Node* main_conv = main.node->inputs()[0].node;
  const Node* shortcut_conv = shortcut.node->inputs()[0].node;
  EXPECT_FALSE(f.epilogue_of.at(main_conv).residual.valid());
  const runtime::ConvEpilogue& e = f.epilogue_of.at(shortcut_conv);
  EXPECT_EQ(e.residual.node, main.node);
  EXPECT_TRUE(e.relu);
}

// The largest difference relative to the tensor's scale (its largest
// magnitude): the passes may run other but equivalent oneDNN kernels (a
// convolution on nChw16c instead of plain input, pooling's jit kernel
// instead of its NCHW one), whose summation orders differ in the last bits;
// after two SGD steps a momentum value near zero can then differ by 1e-4 of
// itself while the tensor agrees to 1e-6 of its scale.
double MaxRelativeDifference(const Tensor& a, const Tensor& b) {
  double worst = 0, scale = 1e-6;
  auto x = a.flat<float>();
  auto y = b.flat<float>();
  for (size_t i = 0; i < x.size(); ++i) {
    scale = std::max({scale, std::fabs(double{x[i]}), std::fabs(double{y[i]})});
    worst = std::max(worst, std::fabs(double{x[i]} - double{y[i]}));
  }
  return worst / scale;
}
// Two SGD steps and an inference of `name` with and without fusion, from the
// same initial weights on the same batch: losses, every variable afterwards
// and the logits agree.
void ExpectFusionChangesNothing(const std::string& name, zoo::ModelConfig config) {
  SCOPED_TRACE(name);
  config.batch_size = 2;
  Graph g;
  auto m = zoo::BuildModel(name, g, config);
  ASSERT_TRUE(m.ok()) << m.status();
  auto step = optim::MinimizeWithSGD(g, m->loss, {0.01, 0.9, 5e-4, false});
  ASSERT_TRUE(step.ok()) << step.status();
  runtime::SessionOptions unfused_options;  // every pass off
  unfused_options.passes.fuse_conv_relu = false;
  unfused_options.passes.plan_memory = false;
  unfused_options.passes.keep_layouts = false;
  auto fused = runtime::Session::Create(g);
  auto unfused = runtime::Session::Create(g, unfused_options);
  ASSERT_TRUE(fused.ok() && unfused.ok());
  ASSERT_TRUE((*fused)->InitializeVariables(1).ok());
  ASSERT_TRUE((*unfused)->InitializeVariables(1).ok());

  std::mt19937 rng(7);
  Tensor images(m->images.spec()), labels(m->labels.spec());
  std::normal_distribution<float> normal;
  for (float& v : images.flat<float>()) v = normal(rng);
  for (int32_t& v : labels.flat<int32_t>()) v = static_cast<int32_t>(rng() % config.num_classes);
  for (int64_t i = 0; i < 2; ++i) {
    RunOptions train;
    train.training = true;
    train.step = i;
    auto a = (*fused)->Run({{m->images, images}, {m->labels, labels}}, {m->loss}, {*step}, train);
    auto b = (*unfused)->Run({{m->images, images}, {m->labels, labels}}, {m->loss}, {*step}, train);
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_LE(MaxRelativeDifference((*a)[0], (*b)[0]), 1e-5) << "loss of step " << i;
  }
  for (Node* v : ops::Variables(g)) {
    auto a = (*fused)->variables().Get(v->name());
    auto b = (*unfused)->variables().Get(v->name());
    ASSERT_TRUE(a.ok() && b.ok()) << v->name();
    // Two steps compound the last-bit differences of equivalent kernels
    // through up to 60 layers: measured up to 1.8e-5 of scale (GoogLeNet).
    EXPECT_LE(MaxRelativeDifference(*a, *b), 1e-4) << v->name();
  }
  auto a = (*fused)->Run({{m->images, images}}, {m->logits});
  auto b = (*unfused)->Run({{m->images, images}}, {m->logits});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_LE(MaxRelativeDifference((*a)[0], (*b)[0]), 1e-5) << "logits";
}

zoo::ModelConfig Small(int64_t image_size, int64_t classes = 10) {
  zoo::ModelConfig c;
  c.image_size = image_size;
  c.num_classes = classes;
  return c;
}

TEST(Fusion, LeNet5) { ExpectFusionChangesNothing("lenet5", Small(0)); }

TEST(Fusion, AlexNetWithTwoGroupsAndLrn) {
  zoo::ModelConfig c = Small(67);
  c.groups = 2;
  ExpectFusionChangesNothing("alexnet", c);
}

TEST(Fusion, VggAWithLrn) { ExpectFusionChangesNothing("vgg_a_lrn", Small(32)); }

TEST(Fusion, GoogLeNetWithAuxiliaryClassifiers) {
  zoo::ModelConfig c = Small(224);
  c.aux_classifiers = true;
  ExpectFusionChangesNothing("googlenet", c);
}

TEST(Fusion, ResNetsWithBatchNorm) {
  ExpectFusionChangesNothing("resnet18", Small(32));
  ExpectFusionChangesNothing("cifar_resnet20", Small(0));
}

}  // namespace
}  // namespace strata
