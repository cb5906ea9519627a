// LeNet-5 end to end: the lecture's shapes and parameter count, a short
// training run on the bundled MNIST that must reach 95% test accuracy, and a
// checkpoint that evaluates to exactly the accuracy training printed.
#include <sstream>

#include <gtest/gtest.h>

#include "data/mnist.h"
#include "ops/state.h"
#include "serialization/checkpoint.h"
#include "training/trainer.h"
#include "zoo/model.h"

namespace strata {
namespace {

TEST(LeNet5, LectureShapesAndParameters) {
  Graph g;
  auto m = zoo::BuildModel("lenet5", g, {64, 10});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(zoo::CountTrainableParameters(g), 61706);
  // 156 + 2,416 + 48,120 + 10,164 + 850, layer by layer.
  auto params = [&](const std::string& layer) {
    int64_t n = 0;
    for (Node* v : ops::Variables(g)) {
      if (v->name().rfind(layer + "/", 0) == 0) n += v->output_spec(0).shape.num_elements();
    }
    return n;
  };
  EXPECT_EQ(params("c1"), 156);
  EXPECT_EQ(params("c3"), 2416);
  EXPECT_EQ(params("c5"), 48120);
  EXPECT_EQ(params("f6"), 10164);
  EXPECT_EQ(params("output"), 850);
  auto shape = [&](const std::string& node) { return g.FindNode(node)->output_spec(0).shape; };
  EXPECT_EQ(shape("c1/conv"), Shape({64, 6, 28, 28}));
  EXPECT_EQ(shape("s2"), Shape({64, 6, 14, 14}));
  EXPECT_EQ(shape("c3/conv"), Shape({64, 16, 10, 10}));
  EXPECT_EQ(shape("s4"), Shape({64, 16, 5, 5}));
  EXPECT_EQ(shape("c5/conv"), Shape({64, 120, 1, 1}));
  EXPECT_EQ(m->logits.shape(), Shape({64, 10}));
}

TEST(LeNet5, UnknownModelListsKnownOnes) {
  Graph g;
  auto m = zoo::BuildModel("lenet6", g, {});
  EXPECT_EQ(m.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(m.status().message()).find("lenet5"), std::string::npos);
}

TEST(LeNet5, ShortRunReaches95PercentAndCheckpointEvaluatesTheSame) {
  training::TrainConfig c;
  c.data_dir = data::DefaultMnistDir();
  c.epochs = 4;
  c.lr_decay_epochs = {3};
  c.checkpoint = testing::TempDir() + "/lenet5_test.ckpt";
  std::ostringstream log;
  auto result = training::Train(c, log);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->epochs.size(), 4u);
  const training::EvalResult& last = result->epochs.back().test;
  EXPECT_GE(last.accuracy(), 0.95) << log.str();
  EXPECT_EQ(last.total, 2000);
  EXPECT_LT(result->epochs.back().mean_loss, result->epochs.front().mean_loss);

  auto evaluated = training::EvaluateCheckpoint(c.checkpoint, "", c.data_dir, 500);
  ASSERT_TRUE(evaluated.ok()) << evaluated.status();
  EXPECT_EQ(evaluated->correct, last.correct);
  EXPECT_EQ(training::FormatAccuracy(*evaluated), training::FormatAccuracy(last));
  // A different evaluation batch size gives the same predictions.
  auto odd_batch = training::EvaluateCheckpoint(c.checkpoint, "", c.data_dir, 333);
  ASSERT_TRUE(odd_batch.ok()) << odd_batch.status();
  EXPECT_EQ(odd_batch->correct, last.correct);
}

}  // namespace
}  // namespace strata
