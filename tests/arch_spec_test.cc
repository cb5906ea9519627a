// zoo/arch_spec: the one-line model spec "[(conv3-32,relu)*2,pool2]*2,fc-10"
// parsed, built through zoo::BuildModel("arch:..."), summarised, trained and
// rejected with errors that name the position or the layer.
#include "zoo/arch_spec.h"

#include <cstdlib>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "training/trainer.h"
#include "zoo/model.h"
#include "zoo/summary.h"

namespace strata::zoo {
namespace {

using Kind = ArchLayer::Kind;

// Builds "arch:<spec>" at batch 2 and returns its error, or "" when it built.
std::string BuildError(const std::string& spec, int64_t classes = 10) {
  Graph g;
  ModelConfig config;
  config.batch_size = 2;
  config.num_classes = classes;
  auto m = BuildModel(std::string(kArchPrefix) + spec, g, config);
  return m.ok() ? "" : std::string(m.status().message());
}

// The per-example output shape of node `name`; an empty shape (and a test
// failure) when there is no such node.
Shape NodeShape(const Graph& g, const std::string& name) {
  const Node* n = g.FindNode(name);
  if (n == nullptr) {
    ADD_FAILURE() << "no node " << name;
    return Shape();
  }
  return n->output_spec(0).shape;
}

TEST(ArchSpecTest, ParsesAndExpandsGroups) {
  auto spec = ParseArchSpec("[(conv3-32,relu)*2,pool2]*2,fc-128,relu,fc-10");
  ASSERT_TRUE(spec.ok()) << spec.status();
  // 2 x (2 x (conv, relu) + pool) + fc, relu, fc.
  ASSERT_EQ(spec->layers.size(), 2u * (2 * 2 + 1) + 3);
  EXPECT_EQ(spec->layers[0].kind, Kind::kConv);
  EXPECT_EQ(spec->layers[0].size, 3);
  EXPECT_EQ(spec->layers[0].units, 32);
  EXPECT_EQ(spec->layers[0].pad, 1);  // 'same'
  EXPECT_EQ(spec->layers[0].position, 3);
  EXPECT_EQ(spec->layers[1].kind, Kind::kRelu);
  EXPECT_EQ(spec->layers[4].kind, Kind::kMaxPool);
  EXPECT_EQ(spec->layers[4].stride, 2);
  EXPECT_EQ(spec->layers[5].text, "conv3-32");
  EXPECT_EQ(spec->layers[10].units, 128);
  EXPECT_EQ(ArchClasses(*spec), 10);
  EXPECT_FALSE(spec->input_given);
  EXPECT_EQ(spec->channels, 1);
  EXPECT_EQ(spec->image_size, 28);
}

TEST(ArchSpecTest, ParsesOptionsInputAndEveryLayerKind) {
  auto spec = ParseArchSpec(" in3x32x32 : CONV5-6-s2-p0 , tanh, sigmoid, bn, avgpool2, dropout0.25, fc-7");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(spec->input_given);
  EXPECT_EQ(spec->channels, 3);
  EXPECT_EQ(spec->image_size, 32);
  ASSERT_EQ(spec->layers.size(), 7u);
  EXPECT_EQ(spec->layers[0].stride, 2);
  EXPECT_EQ(spec->layers[0].pad, 0);
  EXPECT_EQ(spec->layers[0].text, "CONV5-6-s2-p0");
  EXPECT_EQ(spec->layers[1].kind, Kind::kTanh);
  EXPECT_EQ(spec->layers[2].kind, Kind::kSigmoid);
  EXPECT_EQ(spec->layers[3].kind, Kind::kBatchNorm);
  EXPECT_EQ(spec->layers[4].kind, Kind::kAvgPool);
  EXPECT_DOUBLE_EQ(spec->layers[5].rate, 0.25);
  EXPECT_EQ(ArchClasses(*spec), 7);
}

TEST(ArchSpecTest, LecturePatternShapesAndParameters) {
  Graph g;
  ModelConfig config;
  config.batch_size = 4;
  auto m = BuildModel("arch:[(conv3-32,relu)*2,pool2]*2,fc-128,relu,fc-10", g, config);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->images.shape(), Shape({4, 1, 28, 28}));
  EXPECT_EQ(m->logits.shape(), Shape({4, 10}));
  ASSERT_NE(g.FindNode("conv4/conv"), nullptr);
  EXPECT_EQ(NodeShape(g, "conv2/conv"), Shape({4, 32, 28, 28}));  // 'same' padding
  EXPECT_EQ(NodeShape(g, "pool1"), Shape({4, 32, 14, 14}));
  EXPECT_EQ(NodeShape(g, "pool2"), Shape({4, 32, 7, 7}));
  EXPECT_EQ(NodeShape(g, "fc1/relu"), Shape({4, 128}));
  EXPECT_NE(g.FindNode("conv1/relu"), nullptr);
  // conv1: 3*3*1*32 + 32; conv2..4: 3*3*32*32 + 32; fc1: 32*7*7*128 + 128;
  // fc2: 128*10 + 10.
  const int64_t expected = (9 * 1 * 32 + 32) + 3 * (9 * 32 * 32 + 32) + (32 * 7 * 7 * 128 + 128) + (128 * 10 + 10);
  EXPECT_EQ(CountTrainableParameters(g), expected);
}

TEST(ArchSpecTest, InputPrefixStrideAndFloorPooling) {
  Graph g;
  ModelConfig config;
  config.batch_size = 1;
  // 3x32x32 -> conv5-6-s1-p0: 28 -> pool3 (floor): 9 -> conv3-8-s2: (9-3+2)/2+1 = 5
  // -> bn -> fc-5.
  auto m = BuildModel("arch:in3x32x32:conv5-6-p0,relu,pool3,conv3-8-s2,bn,relu,fc-5", g,
                      ModelConfig{1, 5});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->images.shape(), Shape({1, 3, 32, 32}));
  EXPECT_EQ(NodeShape(g, "pool1"), Shape({1, 6, 9, 9}));
  EXPECT_EQ(NodeShape(g, "conv2/conv"), Shape({1, 8, 5, 5}));
  ASSERT_NE(g.FindNode("conv2/bn/gamma"), nullptr);
  // conv1 5*5*3*6 + 6, conv2 3*3*6*8 + 8, bn gamma + beta 2*8, fc 8*5*5*5 + 5.
  EXPECT_EQ(CountTrainableParameters(g), (75 * 6 + 6) + (54 * 8 + 8) + 16 + (200 * 5 + 5));
  // config.image_size wins over the spec's size.
  Graph g2;
  ModelConfig bigger{1, 10};
  bigger.image_size = 16;
  auto m2 = BuildModel("arch:in3x32x32:conv3-4,pool2,fc-10", g2, bigger);
  ASSERT_TRUE(m2.ok()) << m2.status();
  EXPECT_EQ(m2->images.shape(), Shape({1, 3, 16, 16}));
  EXPECT_EQ(CountTrainableParameters(g2), (27 * 4 + 4) + (4 * 8 * 8 * 10 + 10));
}

TEST(ArchSpecTest, SummaryCountsMultiplyAddsAndTakesTheSpecsClasses) {
  const std::string name = "arch:conv5-6,relu,pool2,fc-10";
  EXPECT_EQ(PaperNumClasses(name), 10);
  ModelConfig config;
  config.num_classes = PaperNumClasses(name);
  auto s = Summarize(name, config);
  ASSERT_TRUE(s.ok()) << s.status();
  // conv: 5*5*1*6 per output value, 6@28x28 of them; fc: 6*14*14*10.
  EXPECT_EQ(s->total_multiply_adds, 25 * 6 * 28 * 28 + 6 * 14 * 14 * 10);
  EXPECT_EQ(s->total_weights, 150 + 1176 * 10);
  EXPECT_EQ(s->total_biases, 6 + 10);
}

struct Malformed {
  std::string spec;
  std::string message;  // a part of the error
};

TEST(ArchSpecTest, MalformedSpecsNameThePosition) {
  const Malformed cases[] = {
      {"", "arch spec is empty"},
      {"conv3-,fc-10", "arch spec position 7: expected a number after 'conv3-'"},
      {"[(conv3-32,relu)*2,pool2]*2,fc-,relu,fc-10", "arch spec position 32: expected a number after 'fc-'"},
      {"conv3,fc-10", "arch spec position 6: expected '-' after 'conv3'"},
      {"cnv3-8,fc-10", "arch spec position 1: unknown layer 'cnv3-8'"},
      {"conv3-8,relu,fc-10,", "arch spec position 20: expected a layer"},
      {"(conv3-8,relu,fc-10", "arch spec position 1: '(' is never closed"},
      {"(conv3-8,relu],fc-10", "arch spec position 14: ']' closes the '(' at position 1"},
      {"conv3-8),fc-10", "arch spec position 8: ')' closes no group"},
      {"(conv3-8)*0,fc-10", "arch spec position 11: a group repeats at least once"},
      {"conv0-8,fc-10", "arch spec position 5: the kernel size must be at least 1"},
      {"conv3-8-q2,fc-10", "arch spec position 9: expected 's' (stride) or 'p' (padding)"},
      {"conv3-8 relu,fc-10", "arch spec position 9: expected ',' between layers"},
      {"pool2x,fc-10", "arch spec position 6: unexpected 'x'"},
      {"dropout1.5,fc-10", "dropout rate 1.5 must be below 1"},
      {"dropout,fc-10", "arch spec position 8: expected a rate"},
      {"conv3-8,relu", "arch spec position 9: the last layer must be fc-N"},
      {"in3x32x28:fc-10", "only square inputs"},
      {"in3x32:fc-10", "arch spec position 7: expected 'x' after 'in3x32'"},
      {"fc-99999999", "number too large"},
      {"((((fc-10)*100)*100)*100)*100", "more than 10000 layers"},
      {std::string(100000, '(') + "fc-10", "arch spec position 33: groups nested more than 32 deep"},
  };
  for (const Malformed& c : cases) {
    auto spec = ParseArchSpec(c.spec);
    ASSERT_FALSE(spec.ok()) << c.spec;
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument) << c.spec;
    EXPECT_TRUE(absl::StrContains(spec.status().message(), c.message))
        << c.spec << " -> " << spec.status().message();
    // The same through BuildModel.
    EXPECT_TRUE(absl::StrContains(BuildError(c.spec), c.message)) << c.spec;
  }
}

TEST(ArchSpecTest, LayersThatDoNotFitNameTheLayerAndShapes) {
  // 28 -> 14 -> 7 -> 3 -> 1 -> pooling a 1x1 map.
  EXPECT_EQ(BuildError("(conv3-4,pool2)*5,fc-10"),
            "arch spec layer 10 ('pool2' at position 10) does not fit its input 4x1x1: the 2x2 window is larger "
            "than the 1x1 map");
  EXPECT_TRUE(absl::StrContains(BuildError("fc-20,conv3-4,fc-10"),
                                "arch spec layer 2 ('conv3-4' at position 7) does not fit its input 20: a "
                                "convolution needs a CxHxW input"));
  EXPECT_TRUE(absl::StrContains(BuildError("conv3-4-s2-p0,fc-10"),
                                "layer 1 ('conv3-4-s2-p0' at position 1) does not fit its input 1x28x28: (N - F + "
                                "2P)/S + 1 = (28 - 3 + 2*0)/2 + 1 is not a whole number"));
  EXPECT_TRUE(absl::StrContains(BuildError("in1x4x4:conv7-4-p0,fc-10"), "does not fit its input 1x4x4"));
  EXPECT_TRUE(absl::StrContains(BuildError("conv3-4,fc-10", 5),
                                "the last layer 'fc-10' gives 10 logits but the model is for 5 classes"));
  // An option only some named models have.
  Graph g;
  ModelConfig grouped;
  grouped.groups = 2;
  EXPECT_FALSE(BuildModel("arch:fc-10", g, grouped).ok());
}

TEST(ArchSpecTest, TrainsThroughTheTrainerAndEvaluatesFromItsCheckpoint) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  training::TrainConfig c;
  c.model = "arch:in1x8x8:(conv3-8,relu)*2,pool2,fc-32,relu,fc-10";
  c.synthetic_data = true;
  c.synthetic_train = 256;
  c.synthetic_test = 64;
  c.epochs = 4;
  c.batch_size = 32;
  c.learning_rate = 0.05;
  c.lr_decay_epochs = {};
  c.prefetch = 0;
  c.checkpoint = std::string(tmp ? tmp : "/tmp") + "/arch.ckpt";
  std::ostringstream log;
  auto result = training::Train(c, log);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->epochs.size(), 4u);
  EXPECT_LT(result->epochs.back().mean_loss, 0.5 * result->epochs.front().mean_loss) << log.str();
  EXPECT_GT(result->epochs.back().test.accuracy(), 0.5);
  // The checkpoint records the spec as the model name, so eval rebuilds it.
  auto eval = training::EvaluateCheckpoint(c.checkpoint, "", "", 64);
  ASSERT_TRUE(eval.ok()) << eval.status();
  EXPECT_EQ(eval->correct, result->epochs.back().test.correct);
}

}  // namespace
}  // namespace strata::zoo
