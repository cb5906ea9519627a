// The summary tool against every figure of ../shared/spec/SPEC.md: VGG-16 row
// by row, the VGG, AlexNet and LeNet-5 parameter totals, GoogLeNet's modules,
// ResNet's multiply-adds and the lecture's convolution example; synthetic
// data; and training a non-MNIST model on it end to end.
#include "zoo/summary.h"

#include <chrono>
#include <cmath>
#include <sstream>

#include <sys/resource.h>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "data/synthetic.h"
#include "ops/conv.h"
#include "ops/state.h"
#include "optim/sgd.h"
#include "training/trainer.h"
#include "zoo/model.h"

namespace strata {
namespace {

using zoo::LayerRow;
using zoo::ModelSummary;

zoo::ModelConfig ImageNet() {
  zoo::ModelConfig c;
  c.num_classes = 1000;
  return c;
}

ModelSummary Summary(const std::string& model, zoo::ModelConfig config = ImageNet()) {
  auto s = zoo::Summarize(model, config);
  EXPECT_TRUE(s.ok()) << model << ": " << s.status();
  return s.ok() ? *s : ModelSummary{};
}

const LayerRow* Row(const ModelSummary& s, const std::string& name) {
  for (const LayerRow& r : s.rows) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

// The summary's totals agree with the zoo's own parameter count.
void ExpectConsistent(const std::string& model, const ModelSummary& s, zoo::ModelConfig config = ImageNet()) {
  Graph g;
  config.batch_size = 1;
  ASSERT_TRUE(zoo::BuildModel(model, g, config).ok());
  EXPECT_EQ(s.total_parameters(), zoo::CountTrainableParameters(g)) << model;
}

TEST(Summary, Vgg16RowByRowAsTheLecture) {
  const ModelSummary s = Summary("vgg_d");
  struct Expected {
    const char* name;
    Shape output;
    int64_t activations, weights;
  };
  const Expected expected[] = {
      {"images", {3, 224, 224}, 150528, 0},     {"conv1_1", {64, 224, 224}, 3211264, 1728},
      {"conv1_2", {64, 224, 224}, 3211264, 36864}, {"pool1", {64, 112, 112}, 802816, 0},
      {"conv2_1", {128, 112, 112}, 1605632, 73728}, {"conv2_2", {128, 112, 112}, 1605632, 147456},
      {"pool2", {128, 56, 56}, 401408, 0},       {"conv3_1", {256, 56, 56}, 802816, 294912},
      {"conv3_2", {256, 56, 56}, 802816, 589824}, {"conv3_3", {256, 56, 56}, 802816, 589824},
      {"pool3", {256, 28, 28}, 200704, 0},       {"conv4_1", {512, 28, 28}, 401408, 1179648},
      {"conv4_2", {512, 28, 28}, 401408, 2359296}, {"conv4_3", {512, 28, 28}, 401408, 2359296},
      {"pool4", {512, 14, 14}, 100352, 0},       {"conv5_1", {512, 14, 14}, 100352, 2359296},
      {"conv5_2", {512, 14, 14}, 100352, 2359296}, {"conv5_3", {512, 14, 14}, 100352, 2359296},
      {"pool5", {512, 7, 7}, 25088, 0},          {"fc6", {4096}, 4096, 102760448},
      {"fc7", {4096}, 4096, 16777216},           {"fc8", {1000}, 1000, 4096000},
  };
  ASSERT_EQ(s.rows.size(), std::size(expected));
  for (size_t i = 0; i < s.rows.size(); ++i) {
    SCOPED_TRACE(expected[i].name);
    EXPECT_EQ(s.rows[i].name, expected[i].name);
    EXPECT_EQ(s.rows[i].output, expected[i].output);
    EXPECT_EQ(s.rows[i].activations, expected[i].activations);
    EXPECT_EQ(s.rows[i].weights, expected[i].weights);
  }
  EXPECT_EQ(s.rows[0].op, "input");
  EXPECT_EQ(s.rows[1].op, "conv 3x3/1, relu");
  EXPECT_EQ(s.rows[3].op, "maxpool 2x2/2");
  EXPECT_EQ(s.total_weights, 138344128);
  EXPECT_EQ(s.total_biases, 13416);
  // The lecture's rows sum to 15,237,608 values = 60,950,432 bytes (not its "24M").
  EXPECT_EQ(s.forward_activation_values, 15237608);
  EXPECT_EQ(s.forward_bytes, 60950432);
  EXPECT_EQ(s.training_bytes_estimate, 2 * 60950432 + 12 * (138344128 + 13416));
  EXPECT_EQ(s.input, Shape({3, 224, 224}));
  EXPECT_EQ(s.num_classes, 1000);
  ExpectConsistent("vgg_d", s);
}

TEST(Summary, VggTotalsAtoE) {
  struct Expected {
    const char* model;
    int64_t weights, biases;
  };
  for (const Expected& e : {Expected{"vgg_a", 132851392, 11944}, Expected{"vgg_a_lrn", 132851392, 11944},
                            Expected{"vgg_b", 133035712, 12136}, Expected{"vgg_c", 133625536, 13416},
                            Expected{"vgg_d", 138344128, 13416}, Expected{"vgg_e", 143652544, 14696},
                            Expected{"vgg11", 132851392, 11944}, Expected{"vgg13", 133035712, 12136},
                            Expected{"vgg16", 138344128, 13416}, Expected{"vgg19", 143652544, 14696}}) {
    SCOPED_TRACE(e.model);
    const ModelSummary s = Summary(e.model);
    EXPECT_EQ(s.total_weights, e.weights);
    EXPECT_EQ(s.total_biases, e.biases);
    ExpectConsistent(e.model, s);
  }
  // A-LRN's LRN is a layer of its own (no parameters).
  const ModelSummary lrn = Summary("vgg_a_lrn");
  const LayerRow* norm = Row(lrn, "norm1");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->op, "lrn");
  EXPECT_EQ(norm->output, Shape({64, 224, 224}));
}

TEST(Summary, AlexNetRowsAndTotals) {
  const ModelSummary s = Summary("alexnet");
  struct Expected {
    const char* name;
    Shape output;
  };
  const Expected expected[] = {
      {"images", {3, 227, 227}}, {"conv1", {96, 55, 55}},  {"pool1", {96, 27, 27}},  {"norm1", {96, 27, 27}},
      {"conv2", {256, 27, 27}},  {"pool2", {256, 13, 13}}, {"norm2", {256, 13, 13}}, {"conv3", {384, 13, 13}},
      {"conv4", {384, 13, 13}},  {"conv5", {256, 13, 13}}, {"pool3", {256, 6, 6}},   {"fc6", {4096}},
      {"fc7", {4096}},           {"fc8", {1000}},
  };
  ASSERT_EQ(s.rows.size(), std::size(expected));
  for (size_t i = 0; i < s.rows.size(); ++i) {
    EXPECT_EQ(s.rows[i].name, expected[i].name);
    EXPECT_EQ(s.rows[i].output, expected[i].output) << expected[i].name;
  }
  EXPECT_EQ(Row(s, "conv1")->weights, 34848);  // (11*11*3)*96, "~35K"
  EXPECT_EQ(Row(s, "conv1")->op, "conv 11x11/4, relu");
  EXPECT_EQ(Row(s, "pool1")->op, "maxpool 3x3/2");
  EXPECT_EQ(Row(s, "pool1")->weights + Row(s, "pool1")->biases, 0);
  EXPECT_EQ(s.total_parameters(), 62378344);
  ExpectConsistent("alexnet", s);

  zoo::ModelConfig two = ImageNet();
  two.groups = 2;
  const ModelSummary grouped = Summary("alexnet", two);
  EXPECT_EQ(grouped.total_parameters(), 60965224);
  // Each group sees half the channels: half the weights and multiply-adds.
  EXPECT_EQ(Row(grouped, "conv2")->weights, Row(s, "conv2")->weights / 2);
  EXPECT_EQ(Row(grouped, "conv2")->multiply_adds, Row(s, "conv2")->multiply_adds / 2);
  EXPECT_EQ(Row(grouped, "conv3")->multiply_adds, Row(s, "conv3")->multiply_adds);
  ExpectConsistent("alexnet", grouped, two);
}

TEST(Summary, GoogLeNetModulesAsThePaper) {
  const ModelSummary s = Summary("googlenet");
  // Params in K = 1024 (weights; the paper leaves biases out), ops in
  // millions of multiply-adds; conv2 is conv2_reduce + conv2.
  struct Expected {
    const char* name;
    const char* also;
    const char* params;
    const char* ops;
    Shape output;
  };
  const Expected expected[] = {
      {"conv1", nullptr, "9.2K", "118M", {64, 112, 112}},
      {"conv2", "conv2_reduce", "112.0K", "360M", {192, 56, 56}},
      {"inception_3a", nullptr, "159.5K", "128M", {256, 28, 28}},
      {"inception_3b", nullptr, "379.0K", "304M", {480, 28, 28}},
      {"inception_4a", nullptr, "366.8K", "74M", {512, 14, 14}},
      {"inception_4b", nullptr, "438.0K", "88M", {512, 14, 14}},
      {"inception_4c", nullptr, "497.5K", "100M", {512, 14, 14}},
      {"inception_4d", nullptr, "590.5K", "119M", {528, 14, 14}},
      {"inception_4e", nullptr, "847.0K", "170M", {832, 14, 14}},
      {"inception_5a", nullptr, "1018.0K", "51M", {832, 7, 7}},
      {"inception_5b", nullptr, "1409.0K", "71M", {1024, 7, 7}},
  };
  for (const Expected& e : expected) {
    SCOPED_TRACE(e.name);
    const LayerRow* row = Row(s, e.name);
    ASSERT_NE(row, nullptr);
    int64_t weights = row->weights, ops = row->multiply_adds;
    if (e.also != nullptr) {
      const LayerRow* other = Row(s, e.also);
      ASSERT_NE(other, nullptr);
      weights += other->weights;
      ops += other->multiply_adds;
    }
    EXPECT_EQ(absl::StrFormat("%.1fK", weights / 1024.0), e.params);
    EXPECT_EQ(absl::StrFormat("%.0fM", ops / 1e6), e.ops);
    EXPECT_EQ(row->output, e.output);
  }
  EXPECT_EQ(Row(s, "pool2")->output, Shape({192, 28, 28}));
  EXPECT_EQ(Row(s, "pool4")->output, Shape({832, 7, 7}));
  EXPECT_EQ(Row(s, "pool5")->output, Shape({1024, 1, 1}));
  // "About 5-7 million parameters": 12x fewer than AlexNet.
  EXPECT_GT(s.total_parameters(), 5000000);
  EXPECT_LT(s.total_parameters(), 7000000);
  ExpectConsistent("googlenet", s);

  // The auxiliary classifiers add their own layers, not the main path's.
  zoo::ModelConfig aux = ImageNet();
  aux.aux_classifiers = true;
  const ModelSummary with_aux = Summary("googlenet", aux);
  EXPECT_NE(Row(with_aux, "loss1"), nullptr);
  EXPECT_NE(Row(with_aux, "loss2"), nullptr);
  EXPECT_GT(with_aux.total_parameters(), s.total_parameters());
  ExpectConsistent("googlenet", with_aux, aux);
}

std::string Giga(int64_t n) { return absl::StrFormat("%.3f", n / 1e9); }

TEST(Summary, ResNetMultiplyAdds) {
  struct Expected {
    const char* model;
    const char* paper_design;
    const char* v1_5;
  };
  for (const Expected& e : {Expected{"resnet18", "1.814", nullptr}, Expected{"resnet34", "3.664", nullptr},
                            Expected{"resnet50", "3.858", "4.089"}, Expected{"resnet101", "7.570", "7.801"},
                            Expected{"resnet152", "11.282", "11.514"}}) {
    SCOPED_TRACE(e.model);
    const ModelSummary s = Summary(e.model);
    EXPECT_EQ(Giga(s.total_multiply_adds), e.paper_design);
    EXPECT_EQ(Row(s, "conv1")->output, Shape({64, 112, 112}));
    EXPECT_EQ(Row(s, "pool1")->output, Shape({64, 56, 56}));
    ExpectConsistent(e.model, s);
    if (e.v1_5 != nullptr) {
      zoo::ModelConfig v15 = ImageNet();
      v15.resnet_v1_5 = true;
      const ModelSummary s15 = Summary(e.model, v15);
      EXPECT_EQ(Giga(s15.total_multiply_adds), e.v1_5);
      // The same parameters, only the stride moves.
      EXPECT_EQ(s15.total_parameters(), s.total_parameters());
    }
  }
  // BN's gamma and beta count with the biases; the running statistics not at all.
  const ModelSummary r18 = Summary("resnet18");
  EXPECT_EQ(Row(r18, "conv1")->weights, 7 * 7 * 3 * 64);
  EXPECT_EQ(Row(r18, "conv1")->biases, 2 * 64);
}

TEST(Summary, CifarNets) {
  zoo::ModelConfig c;  // 10 classes, 32x32
  for (const char* model : {"cifar_resnet20", "cifar_plain20", "cifar_resnet110"}) {
    const ModelSummary s = Summary(model, c);
    EXPECT_EQ(s.input, Shape({3, 32, 32})) << model;
    EXPECT_EQ(s.rows.back().output, Shape({10})) << model;
    ExpectConsistent(model, s, c);
  }
  // 6n+2 weighted layers: conv1, 3 stages of n blocks of 2 convs, fc.
  const ModelSummary r20 = Summary("cifar_resnet20", c);
  EXPECT_EQ(r20.rows.size(), 1u + 1 + 9 + 1 + 1);  // images, conv1, 9 blocks, pool, fc
}

TEST(Summary, LeNet5) {
  zoo::ModelConfig c;
  const ModelSummary s = Summary("lenet5", c);
  EXPECT_EQ(s.total_parameters(), 61706);
  EXPECT_EQ(Row(s, "c1")->weights + Row(s, "c1")->biases, 156);
  EXPECT_EQ(Row(s, "c3")->weights + Row(s, "c3")->biases, 2416);
  EXPECT_EQ(Row(s, "c5")->weights + Row(s, "c5")->biases, 48120);
  EXPECT_EQ(Row(s, "f6")->weights + Row(s, "f6")->biases, 10164);
  EXPECT_EQ(Row(s, "output")->weights + Row(s, "output")->biases, 850);
  EXPECT_EQ(Row(s, "c1")->output, Shape({6, 28, 28}));
  EXPECT_EQ(Row(s, "s4")->output, Shape({16, 5, 5}));
  // The flatten between c5 and f6 is a view: no row of its own.
  EXPECT_EQ(Row(s, "flatten"), nullptr);
  ExpectConsistent("lenet5", s, c);
}

TEST(Summary, LectureConvolutionExample) {
  // Input 32x32x3, 10 filters 5x5, stride 1, pad 2 -> 32x32x10; 76 parameters
  // per filter, 760 in all.
  Graph g;
  Output x = ops::Placeholder(g, "images", {4, 3, 32, 32});
  Output y;
  {
    Graph::Scope scope(g, "conv");
    Output w = ops::Variable(g, "weights", {10, 3, 5, 5});
    Output b = ops::Variable(g, "bias", {10});
    y = ops::Conv2D(g, x, w, b, {1, 2}, "conv");
  }
  auto s = zoo::SummarizeGraph(g);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->rows.size(), 2u);
  EXPECT_EQ(s->rows[0].output, Shape({3, 32, 32}));
  const LayerRow& conv = s->rows[1];
  EXPECT_EQ(conv.output, Shape({10, 32, 32}));
  EXPECT_EQ(conv.weights, 750);
  EXPECT_EQ(conv.biases, 10);
  EXPECT_EQ(conv.weights + conv.biases, 760);
  EXPECT_EQ(conv.op, "conv 5x5/1");
}

TEST(Summary, TrainingGraphSummarisesLikeItsModel) {
  Graph g;
  zoo::ModelConfig c;
  c.batch_size = 8;
  auto m = zoo::BuildModel("cifar_resnet20", g, c);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(optim::MinimizeWithSGD(g, m->loss, {0.1, 0.9, 1e-4, false}).ok());
  auto trained = zoo::SummarizeGraph(g);
  ASSERT_TRUE(trained.ok()) << trained.status();
  const ModelSummary forward = Summary("cifar_resnet20", c);
  ASSERT_EQ(trained->rows.size(), forward.rows.size()) << zoo::FormatSummary(*trained);
  for (size_t i = 0; i < forward.rows.size(); ++i) {
    EXPECT_EQ(trained->rows[i].name, forward.rows[i].name);
    EXPECT_EQ(trained->rows[i].output, forward.rows[i].output);
  }
  EXPECT_EQ(trained->total_parameters(), forward.total_parameters());
  EXPECT_EQ(trained->total_multiply_adds, forward.total_multiply_adds);
}

TEST(Summary, FormatShowsTheLectureFigureBesideOurs) {
  const std::string text = zoo::FormatSummary(Summary("vgg16"));
  std::string conv1_1;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, "conv1_1 ")) conv1_1 = std::string(line);
  }
  ASSERT_FALSE(conv1_1.empty()) << text;
  // Ours (activations, weights) and the lecture's, side by side.
  EXPECT_NE(conv1_1.find("224x224x64"), std::string::npos) << conv1_1;
  EXPECT_NE(conv1_1.find("3,211,264  "), std::string::npos) << conv1_1;
  EXPECT_NE(conv1_1.find("224x224x64, 3,211,264, w 1,728 (same)"), std::string::npos) << conv1_1;
  EXPECT_EQ(text.find("DIFFERS"), std::string::npos) << text;
  EXPECT_NE(text.find("138,344,128"), std::string::npos);
  EXPECT_NE(text.find("15,237,608 values = 60,950,432 bytes"), std::string::npos) << text;
  EXPECT_NE(text.find("24M * 4 bytes"), std::string::npos) << text;
  EXPECT_NE(text.find("paper: 138M"), std::string::npos) << text;

  const std::string googlenet = zoo::FormatSummary(Summary("googlenet"));
  EXPECT_NE(googlenet.find("paper 159K/128M, ours 159.5K/128M"), std::string::npos) << googlenet;
  EXPECT_NE(googlenet.find("paper 112K/360M, ours 112.0K/360M with conv2_reduce"), std::string::npos)
      << googlenet;
  const std::string alexnet = zoo::FormatSummary(Summary("alexnet"));
  EXPECT_NE(alexnet.find("55x55x96, w 34,848 (~35K) (same)"), std::string::npos) << alexnet;
  EXPECT_EQ(alexnet.find("DIFFERS"), std::string::npos) << alexnet;
  EXPECT_NE(zoo::FormatSummary(Summary("resnet50")).find("3.8e9"), std::string::npos);

  // Away from the paper's setting there is no lecture column.
  zoo::ModelConfig small = ImageNet();
  small.image_size = 32;
  const std::string vgg32 = zoo::FormatSummary(Summary("vgg16", small));
  EXPECT_EQ(vgg32.find("lecture"), std::string::npos) << vgg32;
  EXPECT_EQ(zoo::WithThousands(0), "0");
  EXPECT_EQ(zoo::WithThousands(999), "999");
  EXPECT_EQ(zoo::WithThousands(1000), "1,000");
  EXPECT_EQ(zoo::WithThousands(-1234567), "-1,234,567");
}

// A summary builds the graph only: VGG-E's 143.7 million weights (575 MB)
// are never allocated, so the process's resident high-water mark stays far
// below them.
TEST(Summary, AllocatesNoWeightsEvenForTheLargestModels) {
  auto peak_bytes = [] {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<int64_t>(usage.ru_maxrss) * 1024;
  };
  const int64_t before = peak_bytes();
  for (const char* model : {"vgg_e", "resnet152", "alexnet"}) Summary(model);
  EXPECT_LT(peak_bytes() - before, int64_t{200} << 20);
}

TEST(Summary, Errors) {
  EXPECT_EQ(zoo::Summarize("lenet6", {}).status().code(), absl::StatusCode::kNotFound);
  zoo::ModelConfig bad = ImageNet();
  bad.image_size = 224;  // AlexNet's conv1 does not fit 224
  auto s = zoo::Summarize("alexnet", bad);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.status().message()).find("conv1"), std::string::npos) << s.status();
}

TEST(Synthetic, DeterministicBalancedAndLearnable) {
  const data::Dataset a = data::Synthetic(100, 3, 16, 10, 7);
  const data::Dataset b = data::Synthetic(100, 3, 16, 10, 7);
  const data::Dataset other = data::Synthetic(100, 3, 16, 10, 8);
  ASSERT_EQ(a.images.shape(), Shape({100, 3, 16, 16}));
  ASSERT_EQ(a.labels.shape(), Shape({100}));
  EXPECT_TRUE(std::equal(a.images.flat<float>().begin(), a.images.flat<float>().end(),
                         b.images.flat<float>().begin()));
  EXPECT_FALSE(std::equal(a.images.flat<float>().begin(), a.images.flat<float>().end(),
                          other.images.flat<float>().begin()));
  std::vector<int> count(10, 0);
  for (int32_t l : a.labels.flat<int32_t>()) {
    ASSERT_GE(l, 0);
    ASSERT_LT(l, 10);
    ++count[l];
  }
  for (int c : count) EXPECT_EQ(c, 10);
  // Nearest class mean (means from one seed, tested on another) is far above chance.
  const int64_t per = 3 * 16 * 16;
  std::vector<std::vector<double>> mean(10, std::vector<double>(per, 0));
  for (int64_t i = 0; i < 100; ++i) {
    for (int64_t k = 0; k < per; ++k) mean[a.labels.data<int32_t>()[i]][k] += a.images.data<float>()[i * per + k] / 10;
  }
  int correct = 0;
  for (int64_t i = 0; i < 100; ++i) {
    int best = 0;
    double best_d = 1e300;
    for (int c = 0; c < 10; ++c) {
      double d = 0;
      for (int64_t k = 0; k < per; ++k) d += std::pow(other.images.data<float>()[i * per + k] - mean[c][k], 2);
      if (d < best_d) best_d = d, best = c;
    }
    correct += best == other.labels.data<int32_t>()[i];
  }
  EXPECT_GE(correct, 90);
  EXPECT_EQ(data::Synthetic(0, 3, 16, 10, 1).size(), 0);
}

TEST(Trainer, CifarResNet20OnSyntheticDataAndItsCheckpoint) {
  training::TrainConfig c;
  c.model = "cifar_resnet20";
  c.synthetic_data = true;
  c.epochs = 1;
  c.batch_size = 16;
  c.learning_rate = 0.05;
  c.lr_decay_epochs = {};
  c.eval_batch_size = 500;
  c.checkpoint = testing::TempDir() + "/cifar_resnet20_synthetic.ckpt";
  std::ostringstream log;
  auto result = training::Train(c, log);
  ASSERT_TRUE(result.ok()) << result.status() << "\n" << log.str();
  ASSERT_EQ(result->epochs.size(), 1u);
  const training::EvalResult& test = result->epochs.back().test;
  EXPECT_EQ(test.total, 64);
  EXPECT_TRUE(std::isfinite(result->epochs.back().mean_loss));
  EXPECT_NE(log.str().find("synthetic 3x32x32"), std::string::npos) << log.str();

  // eval reads the model, its options and its data from the checkpoint.
  auto evaluated = training::EvaluateCheckpoint(c.checkpoint, "", "", 500);
  ASSERT_TRUE(evaluated.ok()) << evaluated.status();
  EXPECT_EQ(evaluated->total, 64);
  EXPECT_EQ(evaluated->correct, test.correct);
  auto odd_batch = training::EvaluateCheckpoint(c.checkpoint, "", "", 7);
  ASSERT_TRUE(odd_batch.ok()) << odd_batch.status();
  EXPECT_EQ(odd_batch->correct, test.correct);
}

TEST(Trainer, ModelOptionsReachTheCheckpoint) {
  // A small AlexNet-like option set would be slow; LeNet-5 on synthetic data
  // with 5 classes checks that classes (and the data) round-trip.
  training::TrainConfig c;
  c.model = "lenet5";
  c.model_config.num_classes = 5;
  c.synthetic_data = true;
  c.synthetic_train = 200;
  c.synthetic_test = 50;
  c.epochs = 2;
  c.batch_size = 20;
  c.lr_decay_epochs = {};
  c.checkpoint = testing::TempDir() + "/lenet5_synthetic.ckpt";
  std::ostringstream log;
  auto result = training::Train(c, log);
  ASSERT_TRUE(result.ok()) << result.status() << "\n" << log.str();
  // The synthetic task is learnable.
  EXPECT_GE(result->epochs.back().test.accuracy(), 0.8) << log.str();
  auto evaluated = training::EvaluateCheckpoint(c.checkpoint, "", "", 500);
  ASSERT_TRUE(evaluated.ok()) << evaluated.status();
  EXPECT_EQ(evaluated->total, 50);
  EXPECT_EQ(evaluated->correct, result->epochs.back().test.correct);
}

TEST(Trainer, NonMnistModelsNeedSyntheticData) {
  training::TrainConfig c;
  c.model = "alexnet";
  std::ostringstream log;
  auto result = training::Train(c, log);
  ASSERT_FALSE(result.ok());
  const std::string message(result.status().message());
  EXPECT_NE(message.find("alexnet needs 3x227x227 images"), std::string::npos) << message;
  EXPECT_NE(message.find("--data=synthetic"), std::string::npos) << message;
}

}  // namespace
}  // namespace strata
