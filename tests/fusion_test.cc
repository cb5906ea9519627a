// runtime/fusion: which convolutions take their ReLU as a oneDNN post-op,
// and that plans with every pass on (fusion, the shared memory arena, the
// layout pass) compute the same training steps and inferences as plans with
// none, on the zoo's models: losses and logits within 1e-5 of their scale,
// parameters after two steps within 1e-4 (see MaxRelativeDifference).
#include <algorithm>
#include <cmath>
#include <optional>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

#include "autodiff/gradients.h"
#include "ops/batch_norm.h"
#include "ops/conv.h"
#include "ops/math.h"
#include "ops/nn.h"
#include "ops/state.h"
#include "optim/sgd.h"
#include "runtime/fusion.h"
#include "runtime/profile.h"
#include "runtime/session.h"
#include "zoo/model.h"

namespace strata {
namespace {

// Every node of a graph, in the order they were added (inputs first).
std::vector<const Node*> NodesOf(const Graph& g) {
  std::vector<const Node*> order;
  for (const auto& n : g.nodes()) order.push_back(n.get());
  return order;
}

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
  std::vector<const Node*> Order() const { return NodesOf(g); }
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
  EXPECT_TRUE(e.residual_in_place) << "the add is the shortcut's last reader";
}

TEST(FindFusions, ResidualReadLaterIsNotOverwritten) {
  ConvBnAddRelu m;
  // Something after the block still reads the shortcut.
  Output later = ops::Tanh(m.g, m.shortcut, "later");
  ASSERT_TRUE(m.g.status().ok()) << m.g.status();
  std::vector<const Node*> order = m.Order();
  const runtime::Fusions f = runtime::FindFusions(order, {m.relu, later}, {}, /*training=*/false);
  EXPECT_EQ(f.epilogue_of.at(m.conv.node).residual.node, m.shortcut.node);
  EXPECT_FALSE(f.epilogue_of.at(m.conv.node).residual_in_place);
  order.pop_back();  // without the tanh, but with the shortcut fetched
  const runtime::Fusions g = runtime::FindFusions(order, {m.relu, m.shortcut}, {}, /*training=*/false);
  EXPECT_FALSE(g.epilogue_of.at(m.conv.node).residual_in_place);
}

TEST(FindFusions, TrainingKeepsBatchNormAndTheAdditionTakesTheRelu) {
  ConvBnAddRelu m;
  const runtime::Fusions f = runtime::FindFusions(m.Order(), {m.relu}, {}, /*training=*/true);
  EXPECT_EQ(f.epilogue_of.count(m.conv.node), 0u) << "batch statistics cannot be folded";
  EXPECT_EQ(f.fused_into.count(m.bn.node), 0u);
  EXPECT_EQ(f.fused_into.count(m.add.node), 0u);
  EXPECT_EQ(f.fused_into.at(m.relu.node), m.add.node);
  EXPECT_TRUE(f.epilogue_of.at(m.add.node).relu);
  EXPECT_EQ(f.fused_into.size(), 1u);
}

TEST(FindFusions, BatchNormWhoseStatisticsAreReadIsNotFolded) {
  ConvBnAddRelu m;
  const runtime::Fusions f =
      runtime::FindFusions(m.Order(), {m.relu, Output{m.bn.node, 1}}, {}, /*training=*/false);
  EXPECT_EQ(f.epilogue_of.count(m.conv.node), 0u);
  EXPECT_EQ(f.fused_into.count(m.bn.node), 0u);
  EXPECT_EQ(f.fused_into.at(m.relu.node), m.add.node) << "the ReLU still goes into the addition";
}

TEST(FindFusions, TrainingBatchNormTakesTheReluAfterIt) {
  Graph g;
  Output x = ops::Placeholder(g, "x", Shape({2, 4, 8, 8}));
  auto channel = [&](const char* name) { return ops::Const(g, Tensor(DType::kFloat32, Shape({4})), name); };
  Output bn = ops::BatchNorm(g, x, channel("gamma"), channel("beta"), channel("mean"), channel("var"), {}, "bn");
  Output relu = ops::Relu(g, bn, "relu");
  Output tanh = ops::Tanh(g, relu, "tanh");
  ASSERT_TRUE(g.status().ok()) << g.status();
  const std::vector<const Node*> order = NodesOf(g);
  runtime::Fusions f = runtime::FindFusions(order, {tanh}, {}, /*training=*/true);
  EXPECT_EQ(f.fused_into.at(relu.node), bn.node);
  EXPECT_TRUE(f.epilogue_of.at(bn.node).relu);
  EXPECT_TRUE(runtime::FindFusions(order, {tanh, bn}, {}, true).fused_into.empty()) << "bn fetched";
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
  const std::vector<const Node*> order = NodesOf(g);
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
// How closely two plans of one model must agree, and over how many steps.
struct Agreement {
  int steps = 2;
  // Every variable after the steps, relative to its scale. Steps compound
  // the last-bit differences of equivalent kernels through up to 60 layers:
  // measured up to 1.8e-5 with the direct algorithm everywhere.
  double variables = 1e-4;
  // Off where the steps leave activations too large for float to normalise
  // reproducibly (see the bottleneck test).
  bool infer_after_training = true;
  double logits_after_training = 1e-5;
};

// An inference, SGD steps and another inference of `name` by a plan with
// `passes` and one with `other` passes, from the same initial weights on the
// same batch: logits and losses within 1e-5 of their scale, and every
// variable afterwards within `agree.variables`.
void ExpectPlansAgree(const std::string& name, zoo::ModelConfig config, const runtime::PassOptions& passes,
                      const runtime::PassOptions& other, const Agreement& agree) {
  SCOPED_TRACE(name);
  config.batch_size = 2;
  Graph g;
  auto m = zoo::BuildModel(name, g, config);
  ASSERT_TRUE(m.ok()) << m.status();
  auto step = optim::MinimizeWithSGD(g, m->loss, {0.01, 0.9, 5e-4, false});
  ASSERT_TRUE(step.ok()) << step.status();
  runtime::SessionOptions options, other_options;
  options.passes = passes;
  other_options.passes = other;
  auto fused = runtime::Session::Create(g, options);
  auto unfused = runtime::Session::Create(g, other_options);
  ASSERT_TRUE(fused.ok() && unfused.ok());
  ASSERT_TRUE((*fused)->InitializeVariables(1).ok());
  ASSERT_TRUE((*unfused)->InitializeVariables(1).ok());

  std::mt19937 rng(7);
  Tensor images(m->images.spec()), labels(m->labels.spec());
  std::normal_distribution<float> normal;
  for (float& v : images.flat<float>()) v = normal(rng);
  for (int32_t& v : labels.flat<int32_t>()) v = static_cast<int32_t>(rng() % config.num_classes);
  auto expect_same_logits = [&](const char* when, double tolerance) {
    auto a = (*fused)->Run({{m->images, images}}, {m->logits});
    auto b = (*unfused)->Run({{m->images, images}}, {m->logits});
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_LE(MaxRelativeDifference((*a)[0], (*b)[0]), tolerance) << "logits " << when;
  };
  expect_same_logits("before training", 1e-5);
  for (int64_t i = 0; i < agree.steps; ++i) {
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
    EXPECT_LE(MaxRelativeDifference(*a, *b), agree.variables) << v->name();
  }
  if (agree.infer_after_training) expect_same_logits("after the steps", agree.logits_after_training);
}

// Every fusion and layout pass on against all of them off, once with every
// convolution direct and once with Winograd where it pays (both plans pick
// the same algorithms; it is not a fusion, and WinogradChangesOnlyRounding
// compares it with the direct algorithm). `with_winograd`: the agreement
// then, where Winograd's coarser rounding carries the passes' last-bit
// differences further.
void ExpectFusionChangesNothing(const std::string& name, zoo::ModelConfig config, Agreement agree = {},
                                std::optional<Agreement> with_winograd = std::nullopt) {
  for (bool winograd : {false, true}) {
    SCOPED_TRACE(winograd ? "winograd" : "direct");
    runtime::PassOptions on;
    on.winograd = winograd;
    runtime::PassOptions off = on;
    off.fuse_conv_relu = false;
    off.plan_memory = false;
    off.keep_layouts = false;
    ExpectPlansAgree(name, config, on, off, winograd && with_winograd ? *with_winograd : agree);
  }
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

// With Winograd, GoogLeNet's 3x3 convolutions round to 2e-6 of scale where
// the direct algorithm rounds to 3e-7 (conv_ops_test), and each
// convolution's rounding changes with the passes' last-bit differences in
// its input; a second step compounds them through max-pooling ties and ReLU
// edges: after two steps the two plans' momentum differed by 1.7e-4 of its
// scale in the optimised build and 7.6e-4 in the sanitizers' debug build (no
// stable bound). So with Winograd the plans are compared over one step:
// variables within 8.8e-7 of scale (measured), logits and losses within 1e-5.
TEST(Fusion, GoogLeNetWithAuxiliaryClassifiers) {
  zoo::ModelConfig c = Small(224);
  c.aux_classifiers = true;
  Agreement with_winograd;
  with_winograd.steps = 1;
  ExpectFusionChangesNothing("googlenet", c, {}, with_winograd);
}

TEST(Fusion, ResNetsWithBatchNorm) {
  ExpectFusionChangesNothing("resnet18", Small(32));
  ExpectFusionChangesNothing("cifar_resnet20", Small(0));
}

// Bottleneck blocks: 1x1 convolutions whose residual oneDNN 2.6 takes as a
// sum post-op onto a copy (its 1x1 kernels have no fast binary path), and
// projection shortcuts whose add goes into the later convolution. Inference
// is compared before training only: two SGD steps of ResNet-50 at 32x32 and
// batch 2 leave pre-batch-norm activations around 1e10 (running mean 1.2e10,
// variance 8.6e16 in conv4_3, measured), where subtracting the mean cancels
// two of float's seven digits in either order (folded into the weights or
// after the convolution), and 50 layers of inference amplify the difference
// into unrelated logits (6e8 unfused). FoldedBatchNormMatchesTheSeparateOps
// covers non-trivial statistics at sane magnitudes.
TEST(Fusion, BottleneckResNetWithSumPostOps) {
  zoo::ModelConfig c = Small(32);
  c.resnet_v1_5 = true;
  Agreement agree;
  agree.infer_after_training = false;
  ExpectFusionChangesNothing("resnet50", c, agree);
}

// The Winograd algorithm against the direct one on the zoo's families with
// 3x3 stride-1 convolutions (ops/conv.cc Algorithm), every other pass on in
// both: the logits and the first step's loss within 1e-5 of their scale,
// the variables after it within 1e-4 (measured at most 1.8e-5, batch
// norm's betas). Biases and betas step by their gradients, sums over every
// position of values that largely cancel, which multiplies the two
// algorithms' 2e-6 and 3e-7 rounding (conv_ops_test) by the cancellation;
// GoogLeNet, without batch norm, the most: after one step conv1's bias (the
// momentum is that gradient) differs by 5.3e-4 of its scale, the largest
// 2.3e-3, its logits then by 1.9e-5 (measured). After
// one step only: a second compounds the first's differences through
// max-pooling ties and ReLU edges, as between any two correct
// implementations.
TEST(Fusion, WinogradChangesOnlyRounding) {
  runtime::PassOptions direct;
  direct.winograd = false;
  Agreement one_step;
  one_step.steps = 1;
  ExpectPlansAgree("vgg_a", Small(32), {}, direct, one_step);
  ExpectPlansAgree("resnet18", Small(64), {}, direct, one_step);  // 16x16 after its stem: Winograd
  ExpectPlansAgree("cifar_resnet20", Small(0), {}, direct, one_step);
  zoo::ModelConfig googlenet = Small(224);
  googlenet.aux_classifiers = true;
  Agreement cancelling = one_step;
  cancelling.variables = 1e-2;
  cancelling.logits_after_training = 1e-4;
  ExpectPlansAgree("googlenet", googlenet, {}, direct, cancelling);
}

Tensor RandomTensor(Shape shape, unsigned seed, float lo = -1, float hi = 1) {
  Tensor t(DType::kFloat32, std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  for (float& v : t.flat<float>()) v = u(rng);
  return t;
}

// conv (1x1 or 3x3, stride 1 or 2) -> batch norm with random parameters and
// statistics -> optional residual add -> ReLU, fused (batch norm folded into
// the weights, residual and ReLU as post-ops) against the separate ops.
void ExpectEpilogueMatches(int64_t k, int64_t stride, bool batch_norm, bool residual, int64_t in, int64_t out) {
  SCOPED_TRACE(absl::StrCat(k, "x", k, "/", stride, " ", in, "->", out, batch_norm ? " bn" : "",
                            residual ? " residual" : ""));
  Graph g;
  Output x = ops::Placeholder(g, "x", Shape({2, in, 8, 8}));
  Output w = ops::Const(g, RandomTensor(Shape({out, in, k, k}), 1), "w");
  Output y = ops::Conv2D(g, x, w, Output{}, {stride, k / 2, 1, /*floor_mode=*/true}, "conv");
  if (batch_norm) {
    auto channel = [&](unsigned seed, float lo, float hi) {
      return ops::Const(g, RandomTensor(Shape({out}), seed, lo, hi), "c");
    };
    y = ops::BatchNorm(g, y, channel(2, 0.5, 2), channel(3, -1, 1), channel(4, -1, 1), channel(5, 0.5, 2), {}, "bn");
  }
  ASSERT_TRUE(g.status().ok()) << g.status();
  Output r = ops::Placeholder(g, "r", y.shape());
  if (residual) y = ops::Add(g, y, r, "add");
  // Not fetched directly: a fetched value is never fused into.
  Output z = ops::Mul(g, ops::Relu(g, y, "relu"), ops::Const(g, Tensor::Scalar<float>(1.0f), "one"), "out");
  ASSERT_TRUE(g.status().ok()) << g.status();
  runtime::SessionOptions off;
  off.passes.fuse_conv_relu = false;
  off.passes.keep_layouts = false;
  auto fused = runtime::Session::Create(g);
  auto separate = runtime::Session::Create(g, off);
  ASSERT_TRUE(fused.ok() && separate.ok());
  const runtime::Feeds feeds = {{x, RandomTensor(x.shape(), 8)}, {r, RandomTensor(r.shape(), 9)}};
  auto a = (*fused)->Run(feeds, {z});
  auto b = (*separate)->Run(feeds, {z});
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_LE(MaxRelativeDifference((*a)[0], (*b)[0]), 1e-5);
}

TEST(Fusion, FoldedBatchNormMatchesTheSeparateOps) {
  for (int64_t k : {1, 3}) {
    for (int64_t stride : {1, 2}) {
      for (bool residual : {false, true}) {
        ExpectEpilogueMatches(k, stride, /*batch_norm=*/true, residual, 64, 256);
        ExpectEpilogueMatches(k, stride, /*batch_norm=*/false, residual, 64, 256);
      }
    }
  }
  ExpectEpilogueMatches(1, 1, true, true, 256, 64);
}

// A training run of `fetches` on x and c (standard normal, from `seed`),
// once with every pass on and once with fusion off: the results of each,
// and how many kernels of the `counted` ops each ran.
struct FusedAndSeparate {
  std::vector<std::vector<Tensor>> results;
  std::vector<int> counted;
};
FusedAndSeparate RunFusedAndSeparate(const Graph& g, Output x, Output c, const std::vector<Output>& fetches,
                                     std::vector<std::string> counted, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Tensor xv(x.spec()), cv(c.spec());
  for (float& v : xv.flat<float>()) v = normal(rng);
  for (float& v : cv.flat<float>()) v = normal(rng);
  runtime::SessionOptions unfused;
  unfused.passes.fuse_conv_relu = false;
  RunOptions train;
  train.training = true;
  FusedAndSeparate out;
  for (const runtime::SessionOptions& options : {runtime::SessionOptions{}, unfused}) {
    auto s = runtime::Session::Create(g, options);
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok() || !(*s)->InitializeVariables(1).ok()) return {};
    runtime::Profile profile;
    auto r = (*s)->Run({{x, xv}, {c, cv}}, fetches, {}, train, &profile);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return {};
    out.results.push_back(*r);
    out.counted.push_back(static_cast<int>(
        std::count_if(profile.events().begin(), profile.events().end(), [&](const runtime::OpEvent& e) {
          return std::find(counted.begin(), counted.end(), e.op) != counted.end();
        })));
  }
  return out;
}

// x -> batch norm -> ReLU -> sum(y * c), differentiated for x, gamma and
// beta. In training the ReLU runs inside the batch norm and its gradient
// inside the batch norm's gradient, from the mask the forward kept.
struct BatchNormRelu {
  Graph g;
  Output x, c, gamma, beta, relu, loss;
  std::vector<Output> grads;
  BatchNormRelu() {
    x = ops::Placeholder(g, "x", Shape({4, 32, 6, 6}));
    gamma = ops::Variable(g, "gamma", Shape({32}), ops::Initializer::Constant(1.5));
    beta = ops::Variable(g, "beta", Shape({32}), ops::Initializer::Constant(0.25));
    Output mean = ops::Variable(g, "mean", Shape({32}), ops::Initializer::Zeros(), false);
    Output var = ops::Variable(g, "var", Shape({32}), ops::Initializer::Constant(1.0), false);
    relu = ops::Relu(g, ops::BatchNorm(g, x, gamma, beta, mean, var, {}, "bn"), "relu");
    c = ops::Placeholder(g, "c", Shape({4, 32, 6, 6}));
    loss = ops::Sum(g, ops::Mul(g, relu, c), "loss");
    auto d = autodiff::Gradients(g, loss, {x, gamma, beta});
    EXPECT_TRUE(d.ok()) << d.status();
    if (d.ok()) grads = *d;
  }
};

TEST(FindFusions, BatchNormGradientTakesTheGradientOfItsFusedRelu) {
  BatchNormRelu m;
  ASSERT_TRUE(m.g.status().ok()) << m.g.status();
  const std::vector<const Node*> order = NodesOf(m.g);
  const Node* grad = m.grads[1].node;  // dgamma is BatchNormGrad's output 1
  ASSERT_EQ(grad->op(), "BatchNormGrad");
  const runtime::Fusions f = runtime::FindFusions(order, m.grads, {}, /*training=*/true);
  ASSERT_EQ(f.relu_grad_into.count(grad), 1u);
  const Node* relu_grad = f.relu_grad_into.at(grad).relu_grad;
  EXPECT_EQ(relu_grad->op(), "EltwiseGrad");
  EXPECT_EQ(f.relu_grad_into.at(grad).batch_norm, m.relu.node->inputs()[0].node);
  EXPECT_TRUE(f.absorbed.count(relu_grad));
  EXPECT_TRUE(runtime::FindFusions(order, m.grads, {}, /*training=*/false).relu_grad_into.empty())
      << "inference plans do not fuse into batch norm's gradient";
  std::vector<Output> fetches = m.grads;
  fetches.push_back(Output{const_cast<Node*>(relu_grad), 0});
  EXPECT_TRUE(runtime::FindFusions(order, fetches, {}, true).relu_grad_into.empty()) << "its output fetched";
}

TEST(Fusion, BatchNormWithReluTrainsAsTheSeparateOps) {
  BatchNormRelu m;
  ASSERT_TRUE(m.g.status().ok()) << m.g.status();
  const FusedAndSeparate run = RunFusedAndSeparate(m.g, m.x, m.c, m.grads, {"Relu", "EltwiseGrad"}, 3);
  ASSERT_EQ(run.results.size(), 2u);
  EXPECT_EQ(run.counted[0], 0) << "both run inside the batch norm and its gradient";
  EXPECT_EQ(run.counted[1], 2);
  for (size_t i = 0; i < m.grads.size(); ++i) {
    EXPECT_LE(MaxRelativeDifference(run.results[0][i], run.results[1][i]), 1e-5) << "gradient " << i;
  }
}

// r = relu(x) feeds two branches, so dL/dr arrives as an Add of two
// gradients, which the ReLU's gradient computes in its own pass.
struct ReluWithTwoReaders {
  Graph g;
  Output x, c, relu, loss;
  std::vector<Output> grads;
  ReluWithTwoReaders() {
    x = ops::Placeholder(g, "x", Shape({4, 16, 8, 8}));
    c = ops::Placeholder(g, "c", Shape({4, 16, 8, 8}));
    relu = ops::Relu(g, x, "relu");
    loss = ops::Add(g, ops::Sum(g, ops::Mul(g, relu, c)), ops::Sum(g, ops::Tanh(g, relu)), "loss");
    auto d = autodiff::Gradients(g, loss, {x});
    EXPECT_TRUE(d.ok()) << d.status();
    if (d.ok()) grads = *d;
  }
};

TEST(FindFusions, ReluGradientSumsItsTwoIncomingGradients) {
  ReluWithTwoReaders m;
  ASSERT_TRUE(m.g.status().ok()) << m.g.status();
  const std::vector<const Node*> order = NodesOf(m.g);
  const Node* relu_grad = m.grads[0].node;
  ASSERT_EQ(relu_grad->op(), "EltwiseGrad");
  const runtime::Fusions f = runtime::FindFusions(order, m.grads, {}, /*training=*/true);
  ASSERT_EQ(f.sum_into.count(relu_grad), 1u);
  const Node* add = f.sum_into.at(relu_grad);
  EXPECT_EQ(add->op(), "Add");
  EXPECT_TRUE(f.absorbed.count(add));
  std::vector<Output> fetches = m.grads;
  fetches.push_back(Output{const_cast<Node*>(add), 0});
  EXPECT_TRUE(runtime::FindFusions(order, fetches, {}, true).sum_into.empty()) << "the sum fetched";
}

TEST(Fusion, SummedReluGradientIsTheSeparateOps) {
  ReluWithTwoReaders m;
  ASSERT_TRUE(m.g.status().ok()) << m.g.status();
  const FusedAndSeparate run = RunFusedAndSeparate(m.g, m.x, m.c, m.grads, {"Add"}, 5);
  ASSERT_EQ(run.results.size(), 2u);
  EXPECT_EQ(run.counted[1] - run.counted[0], 1) << "the gradients' sum runs inside the ReLU's gradient";
  const Tensor &fused = run.results[0][0], &separate = run.results[1][0];
  EXPECT_TRUE(std::equal(fused.flat<float>().begin(), fused.flat<float>().end(), separate.flat<float>().begin()))
      << "the same sum and the same select";
}

}  // namespace
}  // namespace strata
