// The README's C++ example, compiled and run. The test also checks that the
// README shows exactly this code, so the two cannot drift apart.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

// README-BEGIN
#include "autodiff/gradients.h"
#include "ops/math.h"
#include "ops/nn.h"
#include "ops/state.h"
#include "optim/sgd.h"
#include "runtime/session.h"

using namespace strata;

absl::Status TrainTinyClassifier(float* first_loss, float* last_loss) {
  // Build: logits = x w + b, loss = mean softmax cross-entropy.
  Graph g;
  Output x = ops::Placeholder(g, "x", {4, 3});
  Output labels = ops::Placeholder(g, "labels", {4}, DType::kInt32);
  Output w = ops::Variable(g, "w", {3, 2}, ops::Initializer::GlorotUniform());
  Output b = ops::Variable(g, "b", {2});
  Output logits = ops::FullyConnected(g, x, w, b);
  Output loss = ops::SoftmaxCrossEntropyWithLogits(g, logits, labels);

  // Gradients are graph nodes too; the optimizer adds the update step.
  absl::StatusOr<std::vector<Output>> grads = autodiff::Gradients(g, loss, {w, b});
  if (!grads.ok()) return grads.status();
  optim::SGDOptions sgd;
  sgd.learning_rate = 0.5;
  sgd.momentum = 0.9;
  absl::StatusOr<Node*> step = optim::MinimizeWithSGD(g, loss, sgd);
  if (!step.ok()) return step.status();

  // Run: feed a batch, fetch the loss and dloss/dw, and apply one SGD step.
  absl::StatusOr<std::unique_ptr<runtime::Session>> session = runtime::Session::Create(g);
  if (!session.ok()) return session.status();
  if (absl::Status s = (*session)->InitializeVariables(/*seed=*/1); !s.ok()) return s;
  Tensor xs = Tensor::FromVector<float>({4, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1});
  Tensor ys = Tensor::FromVector<int32_t>({4}, {0, 1, 1, 0});
  for (int i = 0; i < 50; ++i) {
    absl::StatusOr<std::vector<Tensor>> out =
        (*session)->Run({{x, xs}, {labels, ys}}, {loss, (*grads)[0]}, {*step});
    if (!out.ok()) return out.status();
    float value = (*out)[0].data<float>()[0];
    if (i == 0) *first_loss = value;
    *last_loss = value;
  }
  return absl::OkStatus();
}
// README-END

namespace {

TEST(ReadmeExample, TrainsAndLowersTheLoss) {
  float first = 0, last = 0;
  absl::Status s = TrainTinyClassifier(&first, &last);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_GT(first, 0.3f);
  EXPECT_LT(last, 0.1f * first);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ReadmeExample, ReadmeShowsThisCode) {
  const std::string src = std::string(std::getenv("TEST_SRCDIR")) + "/strata/";
  std::string self = Slurp(src + "tests/readme_example_test.cc");
  std::string readme = Slurp(src + "README.md");
  const std::string begin = "// README-BEGIN\n", end = "// README-END";
  size_t a = self.find(begin), b = self.find(end);
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  std::string snippet = self.substr(a + begin.size(), b - a - begin.size());
  EXPECT_NE(readme.find(snippet), std::string::npos) << "README.md must contain, verbatim:\n" << snippet;
}

}  // namespace
