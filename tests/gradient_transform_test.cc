// The hooks data-parallel training rests on, without MPI:
// autodiff::Gradients announcing each gradient as soon as the backward sweep
// has finished it (last layer first, before earlier layers' gradient nodes
// exist, so nodes added then run early), and optim's GradientTransform
// between the gradients and the updates.
#include <vector>

#include <gtest/gtest.h>

#include "autodiff/gradients.h"
#include "ops/math.h"
#include "ops/nn.h"
#include "ops/state.h"
#include "optim/optimizer.h"
#include "runtime/session.h"

namespace strata {
namespace {

// x -> fc1 -> relu -> fc2 -> relu -> fc3 -> softmax cross-entropy.
struct Mlp {
  Output x, labels, loss;
  std::vector<Output> variables;  // w1, b1, w2, b2, w3, b3
};

Mlp BuildMlp(Graph& g) {
  Mlp m;
  m.x = ops::Placeholder(g, "x", {4, 3});
  m.labels = ops::Placeholder(g, "labels", {4}, DType::kInt32);
  Output h = m.x;
  const int64_t widths[] = {3, 5, 4, 2};
  for (int layer = 0; layer < 3; ++layer) {
    Output w = ops::Variable(g, "w" + std::to_string(layer + 1), {widths[layer], widths[layer + 1]},
                             ops::Initializer::GlorotUniform());
    Output b = ops::Variable(g, "b" + std::to_string(layer + 1), {widths[layer + 1]});
    m.variables.push_back(w);
    m.variables.push_back(b);
    h = ops::FullyConnected(g, h, w, b);
    if (layer < 2) h = ops::Relu(g, h);
  }
  m.loss = ops::SoftmaxCrossEntropyWithLogits(g, h, m.labels);
  return m;
}

TEST(GradientReady, AnnouncesTheLastLayerFirstAndBeforeEarlierGradientsExist) {
  Graph g;
  Mlp m = BuildMlp(g);
  std::vector<int> order;
  std::vector<Output> announced(m.variables.size());
  std::vector<int> marker_ids(m.variables.size(), -1);
  auto grads = autodiff::Gradients(g, m.loss, m.variables, [&](int index, const Output& grad) {
    order.push_back(index);
    announced[index] = grad;
    // A node added now: what a data-parallel hook adds (an all-reduce start).
    Output marker = ops::Mul(g, grad, ops::ScalarConstLike(g, grad, 1.0));
    marker_ids[index] = marker.node->id();
    return g.status();
  });
  ASSERT_TRUE(grads.ok()) << grads.status();
  ASSERT_EQ(order.size(), m.variables.size());
  // Layer 3 (indices 4, 5) first, layer 1 (0, 1) last.
  EXPECT_TRUE((order[0] == 4 || order[0] == 5) && (order[1] == 4 || order[1] == 5));
  EXPECT_TRUE((order[4] == 0 || order[4] == 1) && (order[5] == 0 || order[5] == 1));
  for (size_t i = 0; i < m.variables.size(); ++i) {
    EXPECT_TRUE(announced[i] == (*grads)[i]) << "gradient " << i << " changed after it was announced";
  }
  // What was added for layer 3 comes before the nodes computing layer 1's
  // gradients, so the runtime (ready nodes by id) can run it while they wait.
  EXPECT_LT(marker_ids[4], (*grads)[0].node->id());
  EXPECT_LT(marker_ids[5], (*grads)[1].node->id());
}

TEST(GradientReady, AnErrorFromTheCallbackStopsGradients) {
  Graph g;
  Mlp m = BuildMlp(g);
  auto grads = autodiff::Gradients(g, m.loss, m.variables,
                                   [](int, const Output&) { return absl::UnavailableError("no network"); });
  ASSERT_FALSE(grads.ok());
  EXPECT_EQ(grads.status().code(), absl::StatusCode::kUnavailable);
}

// Trains 3 SGD steps and returns w1.
absl::StatusOr<Tensor> TrainMlp(const optim::OptimizerConfig& config) {
  Graph g;
  Mlp m = BuildMlp(g);
  absl::StatusOr<Node*> step = optim::Minimize(g, m.loss, config);
  if (!step.ok()) return step.status();
  auto session = runtime::Session::Create(g);
  if (!session.ok()) return session.status();
  if (absl::Status s = (*session)->InitializeVariables(7); !s.ok()) return s;
  Tensor xs = Tensor::FromVector<float>({4, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1});
  Tensor ys = Tensor::FromVector<int32_t>({4}, {0, 1, 1, 0});
  for (int i = 0; i < 3; ++i) {
    auto out = (*session)->Run({{m.x, xs}, {m.labels, ys}}, {}, {*step});
    if (!out.ok()) return out.status();
  }
  return (*session)->variables().Get("w1");
}

TEST(GradientTransform, SitsBetweenTheGradientsAndTheUpdates) {
  // Doubling every gradient is plain SGD at twice the learning rate.
  optim::OptimizerConfig doubled = optim::OptimizerConfig::SGD(0.1);
  int announced = 0;
  doubled.gradient_transform.on_gradient = [&](Graph&, int, const Output&, const Output&) {
    ++announced;
    return absl::OkStatus();
  };
  doubled.gradient_transform.finish = [](Graph& g, const std::vector<Output>&,
                                         const std::vector<Output>& grads) -> absl::StatusOr<std::vector<Output>> {
    std::vector<Output> out;
    for (const Output& grad : grads) out.push_back(ops::Mul(g, grad, ops::ScalarConstLike(g, grad, 2.0)));
    return out;
  };
  auto a = TrainMlp(doubled);
  auto b = TrainMlp(optim::OptimizerConfig::SGD(0.2));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(announced, 6);
  for (int64_t i = 0; i < a->num_elements(); ++i) {
    EXPECT_NEAR(a->data<float>()[i], b->data<float>()[i], 1e-6) << i;
  }
}

TEST(GradientTransform, AWrongNumberOfGradientsIsAnError) {
  optim::OptimizerConfig config = optim::OptimizerConfig::SGD(0.1);
  config.gradient_transform.finish = [](Graph&, const std::vector<Output>&,
                                        const std::vector<Output>& grads) -> absl::StatusOr<std::vector<Output>> {
    return std::vector<Output>(grads.begin(), grads.end() - 1);
  };
  auto w = TrainMlp(config);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("returned 5 gradients for 6 variables"), std::string::npos) << w.status();
}

}  // namespace
}  // namespace strata
