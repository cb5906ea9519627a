// Every model family runs: a forward and backward pass at batch 2 at its full
// input size gives a finite loss and, for every trainable variable, a finite
// gradient that is not all zeros. Then a CIFAR ResNet-20 overfits one fixed
// batch, and in inference mode its batch norm makes each image's logits
// independent of the rest of the batch.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "autodiff/gradients.h"
#include "ops/state.h"
#include "optim/sgd.h"
#include "runtime/session.h"
#include "zoo/model.h"

namespace strata {
namespace {

Tensor RandomImages(const Shape& shape, std::mt19937& rng) {
  Tensor t(DType::kFloat32, shape);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& v : t.flat<float>()) v = normal(rng);
  return t;
}

Tensor RandomLabels(int64_t n, int64_t classes, std::mt19937& rng) {
  Tensor t(DType::kInt32, Shape({n}));
  std::uniform_int_distribution<int32_t> label(0, static_cast<int32_t>(classes - 1));
  for (int32_t& v : t.flat<int32_t>()) v = label(rng);
  return t;
}

// Builds `name`, adds the gradients of its loss with respect to every
// trainable variable, runs one training-mode step at batch 2 and checks the
// loss and every gradient.
void ForwardBackward(const std::string& name, zoo::ModelConfig config) {
  SCOPED_TRACE(name);
  config.batch_size = 2;
  Graph g;
  auto m = zoo::BuildModel(name, g, config);
  ASSERT_TRUE(m.ok()) << m.status();
  std::vector<Output> vars;
  for (Node* v : ops::Variables(g, /*trainable_only=*/true)) vars.push_back(v->output(0));
  auto grads = autodiff::Gradients(g, m->loss, vars);
  ASSERT_TRUE(grads.ok()) << grads.status();
  auto session = runtime::Session::Create(g);
  ASSERT_TRUE(session.ok()) << session.status();
  ASSERT_TRUE((*session)->InitializeVariables(1).ok());

  std::mt19937 rng(7);
  runtime::Feeds feeds = {{m->images, RandomImages(m->images.shape(), rng)},
                          {m->labels, RandomLabels(2, config.num_classes, rng)}};
  std::vector<Output> fetches = {m->loss};
  for (const Output& grad : *grads) {
    ASSERT_TRUE(grad.valid()) << "no gradient";
    fetches.push_back(grad);
  }
  RunOptions options;
  options.training = true;
  options.seed = 3;
  auto out = (*session)->Run(feeds, fetches, {}, options);
  ASSERT_TRUE(out.ok()) << out.status();
  const float loss = (*out)[0].data<float>()[0];
  EXPECT_TRUE(std::isfinite(loss)) << loss;
  EXPECT_GT(loss, 0.0f);
  for (size_t i = 0; i < vars.size(); ++i) {
    const Tensor& grad = (*out)[i + 1];
    bool finite = true, nonzero = false;
    for (float v : grad.flat<float>()) {
      finite = finite && std::isfinite(v);
      nonzero = nonzero || v != 0.0f;
    }
    EXPECT_TRUE(finite) << vars[i].node->name();
    EXPECT_TRUE(nonzero) << vars[i].node->name();
  }
}

zoo::ModelConfig ImageNet() {
  zoo::ModelConfig c;
  c.num_classes = 1000;
  return c;
}

TEST(ZooRun, AlexNetBothLayouts) {
  ForwardBackward("alexnet", ImageNet());
  zoo::ModelConfig grouped = ImageNet();
  grouped.groups = 2;
  ForwardBackward("alexnet", grouped);
}

TEST(ZooRun, VggAAndD) {
  ForwardBackward("vgg_a", ImageNet());
  ForwardBackward("vgg_d", ImageNet());
}

TEST(ZooRun, GoogLeNetWithAuxiliaryClassifiers) {
  zoo::ModelConfig c = ImageNet();
  c.aux_classifiers = true;
  ForwardBackward("googlenet", c);
}

TEST(ZooRun, ResNet18And50BothVariants) {
  ForwardBackward("resnet18", ImageNet());
  ForwardBackward("resnet50", ImageNet());
  zoo::ModelConfig v15 = ImageNet();
  v15.resnet_v1_5 = true;
  ForwardBackward("resnet50", v15);
}

TEST(ZooRun, CifarResNet20AndPlain20) {
  ForwardBackward("cifar_resnet20", {});
  ForwardBackward("cifar_plain20", {});
}

TEST(ZooRun, CifarResNet20OverfitsABatchAndInfersPerImage) {
  constexpr int64_t kBatch = 32;
  zoo::ModelConfig config;
  config.batch_size = kBatch;
  Graph g;
  auto m = zoo::BuildModel("cifar_resnet20", g, config);
  ASSERT_TRUE(m.ok()) << m.status();
  optim::SGDOptions sgd;
  sgd.learning_rate = 0.05;
  sgd.momentum = 0.9;
  auto step = optim::MinimizeWithSGD(g, m->loss, sgd);
  ASSERT_TRUE(step.ok()) << step.status();
  auto session = runtime::Session::Create(g);
  ASSERT_TRUE(session.ok()) << session.status();
  runtime::Session& s = **session;
  ASSERT_TRUE(s.InitializeVariables(5).ok());

  std::mt19937 rng(11);
  Tensor images = RandomImages(m->images.shape(), rng);
  const Tensor labels = RandomLabels(kBatch, config.num_classes, rng);
  RunOptions train;
  train.training = true;
  float first = 0, last = 0;
  for (int k = 0; k <= 100; ++k) {
    train.step = k;
    // The loss before the update of step k; step 100 only measures.
    auto out = s.Run({{m->images, images}, {m->labels, labels}}, {m->loss},
                     k < 100 ? std::vector<Node*>{*step} : std::vector<Node*>{}, train);
    ASSERT_TRUE(out.ok()) << out.status();
    const float loss = (*out)[0].data<float>()[0];
    ASSERT_TRUE(std::isfinite(loss)) << "step " << k;
    if (k == 0) first = loss;
    last = loss;
  }
  std::printf("cifar_resnet20, batch %d: loss %.4f -> %.4f after 100 steps\n", static_cast<int>(kBatch), first, last);
  EXPECT_LE(last * 10, first) << "loss " << first << " -> " << last << " after 100 steps";

  // Inference: the running statistics normalise, so image 0's logits do not
  // depend on the other 31 images. (Training mode's batch statistics do.)
  auto logits0 = [&](const Tensor& batch, bool training) {
    RunOptions o;
    o.training = training;
    auto out = s.Run({{m->images, batch}, {m->labels, labels}}, {m->logits}, {}, o);
    EXPECT_TRUE(out.ok()) << out.status();
    std::vector<float> row(config.num_classes);
    if (out.ok()) std::copy_n((*out)[0].data<float>(), row.size(), row.begin());
    return row;
  };
  Tensor changed = images.Clone();
  const int64_t per_image = m->images.shape().num_elements() / kBatch;
  std::normal_distribution<float> normal(0.0f, 2.0f);
  for (int64_t i = per_image; i < changed.num_elements(); ++i) changed.data<float>()[i] = normal(rng);
  const std::vector<float> before = logits0(images, false), after = logits0(changed, false);
  float biggest = 0;
  for (size_t c = 0; c < before.size(); ++c) {
    EXPECT_NEAR(after[c], before[c], 1e-5f * std::max(1.0f, std::fabs(before[c]))) << "class " << c;
    biggest = std::max(biggest, std::fabs(before[c]));
  }
  EXPECT_GT(biggest, 0.0f);
  const std::vector<float> train_before = logits0(images, true), train_after = logits0(changed, true);
  float moved = 0;
  for (size_t c = 0; c < before.size(); ++c) moved = std::max(moved, std::fabs(train_after[c] - train_before[c]));
  EXPECT_GT(moved, 1e-3f) << "training mode should use the batch's statistics";
}

}  // namespace
}  // namespace strata
