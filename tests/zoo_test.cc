// The model zoo against SPEC.md section 2: exact parameter totals of every
// architecture, the lecture's per-layer shapes (AlexNet, VGG-16), GoogLeNet's
// module widths and per-module parameters, ResNet's stages and layer counts,
// the CIFAR nets, and the build errors. Graphs only: nothing runs here.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ops/conv.h"
#include "ops/state.h"
#include "runtime/session.h"
#include "zoo/layers.h"
#include "zoo/model.h"

namespace strata {
namespace {

Shape NodeShape(const Graph& g, const std::string& name) {
  const Node* n = g.FindNode(name);
  EXPECT_NE(n, nullptr) << "no node " << name;
  return n ? n->output_spec(0).shape : Shape();
}

// Trainable parameters whose variable name starts with `prefix` and, when
// given, ends with `suffix`.
int64_t Params(const Graph& g, const std::string& prefix, const std::string& suffix = "") {
  int64_t n = 0;
  for (const Node* v : ops::Variables(g, /*trainable_only=*/true)) {
    if (absl::StartsWith(v->name(), prefix) && absl::EndsWith(v->name(), suffix)) {
      n += v->output_spec(0).shape.num_elements();
    }
  }
  return n;
}

// Weight layers (conv and fc weight tensors), not counting projection
// shortcuts, as the papers count depth.
int WeightLayers(const Graph& g) {
  int n = 0;
  for (const Node* v : ops::Variables(g, true)) {
    if (absl::EndsWith(v->name(), "/weights") && !absl::StrContains(v->name(), "shortcut")) ++n;
  }
  return n;
}

struct Built {
  std::unique_ptr<Graph> graph = std::make_unique<Graph>();
  zoo::Model model;
};

Built Build(const std::string& name, zoo::ModelConfig config) {
  Built b;
  auto m = zoo::BuildModel(name, *b.graph, config);
  EXPECT_TRUE(m.ok()) << name << ": " << m.status();
  if (m.ok()) b.model = *m;
  return b;
}

zoo::ModelConfig ImageNet(int64_t batch = 1) {
  zoo::ModelConfig c;
  c.batch_size = batch;
  c.num_classes = 1000;
  return c;
}

TEST(Zoo, NamesListEveryModelAndAlias) {
  std::vector<std::string> names = zoo::ModelNames();
  for (const char* want : {"lenet5", "alexnet", "vgg_a", "vgg_a_lrn", "vgg_b", "vgg_c", "vgg_d", "vgg_e", "vgg11",
                           "vgg13", "vgg16", "vgg19", "googlenet", "resnet18", "resnet34", "resnet50", "resnet101",
                           "resnet152", "cifar_resnet20", "cifar_resnet32", "cifar_resnet44", "cifar_resnet56",
                           "cifar_resnet110", "cifar_plain20", "cifar_plain32", "cifar_plain44", "cifar_plain56",
                           "cifar_plain110"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
}

TEST(Zoo, ParameterTotalsAsSpec) {
  zoo::ModelConfig grouped = ImageNet();
  grouped.groups = 2;
  zoo::ModelConfig aux = ImageNet();
  aux.aux_classifiers = true;
  zoo::ModelConfig v15 = ImageNet();
  v15.resnet_v1_5 = true;
  zoo::ModelConfig cifar;
  cifar.batch_size = 1;
  struct Case {
    std::string name;
    zoo::ModelConfig config;
    int64_t params;
  };
  const std::vector<Case> cases = {
      {"lenet5", {1, 10}, 61706},
      {"alexnet", ImageNet(), 62378344},
      {"alexnet", grouped, 60965224},
      {"vgg_a", ImageNet(), 132863336},
      {"vgg_a_lrn", ImageNet(), 132863336},
      {"vgg_b", ImageNet(), 133047848},
      {"vgg_c", ImageNet(), 133638952},
      {"vgg_d", ImageNet(), 138357544},
      {"vgg_e", ImageNet(), 143667240},
      {"vgg11", ImageNet(), 132863336},
      {"vgg13", ImageNet(), 133047848},
      {"vgg16", ImageNet(), 138357544},
      {"vgg19", ImageNet(), 143667240},
      // Stem 124,416 (conv1 9,472, conv2_reduce 4,160, conv2 110,784) + the
      // modules' 5,850,136 (weights and biases, from the channel table) +
      // loss3/classifier 1,025,000.
      {"googlenet", ImageNet(), 6998552},
      // Each head: 1x1 conv 128 (512*128+128 or 528*128+128), fc 2048x1024
      // (2,098,176), classifier 1024x1000 (1,025,000).
      {"googlenet", aux, 6998552 + 3188840 + 3190888},
      // Conv weights + BN gamma/beta + fc, counted independently from the
      // stage table; they equal torchvision's resnet18..152 counts (which are
      // v1.5, and the stride's place does not change the count).
      {"resnet18", ImageNet(), 11689512},
      {"resnet34", ImageNet(), 21797672},
      {"resnet50", ImageNet(), 25557032},
      {"resnet101", ImageNet(), 44549160},
      {"resnet152", ImageNet(), 60192808},
      {"resnet50", v15, 25557032},
      {"resnet101", v15, 44549160},
      {"resnet152", v15, 60192808},
      // Option B (1x1 projection + BN on the two shape-changing shortcuts:
      // 16*32+64 = 576 and 32*64+128 = 2,176): ResNet-20 272,474. Option A
      // (the paper's CIFAR choice) would be 269,722 = 0.27M; the plain nets
      // have exactly option A's count.
      {"cifar_resnet20", cifar, 272474},
      {"cifar_resnet32", cifar, 466906},
      {"cifar_resnet44", cifar, 661338},
      {"cifar_resnet56", cifar, 855770},
      {"cifar_resnet110", cifar, 1730714},
      {"cifar_plain20", cifar, 269722},
      {"cifar_plain32", cifar, 464154},
      {"cifar_plain44", cifar, 658586},
      {"cifar_plain56", cifar, 853018},
      {"cifar_plain110", cifar, 1727962},
  };
  for (const Case& c : cases) {
    Built b = Build(c.name, c.config);
    EXPECT_EQ(zoo::CountTrainableParameters(*b.graph), c.params)
        << c.name << " groups " << c.config.groups << " aux " << c.config.aux_classifiers;
    EXPECT_EQ(b.model.logits.shape(), Shape({1, c.config.num_classes})) << c.name;
  }
  // ResNet-20 with option A's count rounds to the paper's 0.27M.
  EXPECT_EQ(std::round(269722 / 1e4) / 100, 0.27);
}

TEST(Zoo, VggWeightsAndBiasesAsSpec) {
  const std::map<std::string, std::pair<int64_t, int64_t>> expected = {
      {"vgg_a", {132851392, 11944}}, {"vgg_a_lrn", {132851392, 11944}}, {"vgg_b", {133035712, 12136}},
      {"vgg_c", {133625536, 13416}}, {"vgg_d", {138344128, 13416}},     {"vgg_e", {143652544, 14696}},
  };
  for (const auto& [name, wb] : expected) {
    Built b = Build(name, ImageNet());
    EXPECT_EQ(Params(*b.graph, "", "/weights"), wb.first) << name;
    EXPECT_EQ(Params(*b.graph, "", "/bias"), wb.second) << name;
  }
  Built lrn = Build("vgg_a_lrn", ImageNet());
  EXPECT_EQ(lrn.graph->FindNode("norm1")->op(), "LRN");
  EXPECT_EQ(lrn.graph->FindNode("norm1")->inputs()[0].node->name(), "conv1_1/relu");
  Built c = Build("vgg_c", ImageNet());
  EXPECT_EQ(NodeShape(*c.graph, "conv3_3/weights"), Shape({256, 256, 1, 1}));  // conv1-256
  EXPECT_EQ(WeightLayers(*c.graph), 16);
  EXPECT_EQ(WeightLayers(*Build("vgg_a", ImageNet()).graph), 11);
  EXPECT_EQ(WeightLayers(*Build("vgg_e", ImageNet()).graph), 19);
}

TEST(Zoo, AlexNetLayersAsTheLecture) {
  for (int64_t groups : {1, 2}) {
    zoo::ModelConfig c = ImageNet(2);
    c.groups = groups;
    Built b = Build("alexnet", c);
    const Graph& g = *b.graph;
    EXPECT_EQ(NodeShape(g, "images"), Shape({2, 3, 227, 227}));
    EXPECT_EQ(NodeShape(g, "conv1/conv"), Shape({2, 96, 55, 55}));
    EXPECT_EQ(NodeShape(g, "pool1"), Shape({2, 96, 27, 27}));
    EXPECT_EQ(NodeShape(g, "norm1"), Shape({2, 96, 27, 27}));
    EXPECT_EQ(NodeShape(g, "conv2/conv"), Shape({2, 256, 27, 27}));
    EXPECT_EQ(NodeShape(g, "pool2"), Shape({2, 256, 13, 13}));
    EXPECT_EQ(NodeShape(g, "norm2"), Shape({2, 256, 13, 13}));
    EXPECT_EQ(NodeShape(g, "conv3/conv"), Shape({2, 384, 13, 13}));
    EXPECT_EQ(NodeShape(g, "conv4/conv"), Shape({2, 384, 13, 13}));
    EXPECT_EQ(NodeShape(g, "conv5/conv"), Shape({2, 256, 13, 13}));
    EXPECT_EQ(NodeShape(g, "pool3"), Shape({2, 256, 6, 6}));
    EXPECT_EQ(NodeShape(g, "fc6/relu"), Shape({2, 4096}));
    EXPECT_EQ(NodeShape(g, "fc7/relu"), Shape({2, 4096}));
    EXPECT_EQ(b.model.logits.shape(), Shape({2, 1000}));
    // (11*11*3)*96 = 34,848 weights in CONV1 (~35K).
    EXPECT_EQ(Params(g, "conv1/", "weights"), 34848);
    EXPECT_EQ(Params(g, "conv2/", "weights"), 5 * 5 * 96 * 256 / groups);
    EXPECT_EQ(Params(g, "conv3/", "weights"), 3 * 3 * 256 * 384);
    EXPECT_EQ(Params(g, "conv4/", "weights"), 3 * 3 * 384 * 384 / groups);
    EXPECT_EQ(Params(g, "conv5/", "weights"), 3 * 3 * 384 * 256 / groups);
    EXPECT_EQ(Params(g, "fc6/"), 9216 * 4096 + 4096);
    EXPECT_EQ(g.FindNode("fc6/dropout")->op(), "Dropout");
    EXPECT_EQ(g.FindNode("fc7/dropout")->op(), "Dropout");
    EXPECT_EQ(*g.FindNode("conv2/conv")->Attr<int64_t>("groups"), groups);
  }
}

TEST(Zoo, Vgg16RowsAsTheLecture) {
  Built b = Build("vgg16", ImageNet());
  const Graph& g = *b.graph;
  // name, output (C, H, W; W = 0 for an FC row), weights without biases.
  struct Row {
    std::string layer;
    std::string node;
    int64_t c, h;
    int64_t weights;
  };
  const std::vector<Row> rows = {
      {"images", "images", 3, 224, 0},
      {"conv1_1", "conv1_1/relu", 64, 224, 1728},
      {"conv1_2", "conv1_2/relu", 64, 224, 36864},
      {"pool1", "pool1", 64, 112, 0},
      {"conv2_1", "conv2_1/relu", 128, 112, 73728},
      {"conv2_2", "conv2_2/relu", 128, 112, 147456},
      {"pool2", "pool2", 128, 56, 0},
      {"conv3_1", "conv3_1/relu", 256, 56, 294912},
      {"conv3_2", "conv3_2/relu", 256, 56, 589824},
      {"conv3_3", "conv3_3/relu", 256, 56, 589824},
      {"pool3", "pool3", 256, 28, 0},
      {"conv4_1", "conv4_1/relu", 512, 28, 1179648},
      {"conv4_2", "conv4_2/relu", 512, 28, 2359296},
      {"conv4_3", "conv4_3/relu", 512, 28, 2359296},
      {"pool4", "pool4", 512, 14, 0},
      {"conv5_1", "conv5_1/relu", 512, 14, 2359296},
      {"conv5_2", "conv5_2/relu", 512, 14, 2359296},
      {"conv5_3", "conv5_3/relu", 512, 14, 2359296},
      {"pool5", "pool5", 512, 7, 0},
      {"fc6", "fc6/relu", 4096, 0, 102760448},
      {"fc7", "fc7/relu", 4096, 0, 16777216},
      {"fc8", "fc8/fc/BiasAdd", 1000, 0, 4096000},
  };
  const std::vector<int64_t> activations = {150528, 3211264, 3211264, 802816, 1605632, 1605632, 401408, 802816,
                                            802816, 802816,  200704,  401408, 401408,  401408,  100352, 100352,
                                            100352, 100352,  25088,   4096,   4096,    1000};
  int64_t total_activations = 0, total_weights = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    const Shape want = r.h > 0 ? Shape({1, r.c, r.h, r.h}) : Shape({1, r.c});
    const Shape got = NodeShape(g, r.node);
    EXPECT_EQ(got, want) << r.layer;
    EXPECT_EQ(got.num_elements(), activations[i]) << r.layer;
    EXPECT_EQ(r.weights == 0 ? 0 : Params(g, r.layer + "/", "/weights"), r.weights) << r.layer;
    total_activations += got.num_elements();
    total_weights += r.weights;
  }
  // The rows sum to 15,237,608 values (60,950,432 bytes of float32 forward),
  // not the lecture's "24M"; the weights to 138,344,128 (~138M).
  EXPECT_EQ(total_activations, 15237608);
  EXPECT_EQ(total_activations * 4, 60950432);
  EXPECT_EQ(total_weights, 138344128);
  EXPECT_EQ(Params(g, "", "/weights"), 138344128);
}

// "159.5K": the paper's params are weights without biases, in K = 1024.
std::string PaperK(int64_t weights) { return absl::StrFormat("%.1fK", weights / 1024.0); }

TEST(Zoo, GoogLeNetModulesAsThePaper) {
  Built b = Build("googlenet", ImageNet());
  const Graph& g = *b.graph;
  EXPECT_EQ(NodeShape(g, "conv1/conv"), Shape({1, 64, 112, 112}));
  EXPECT_EQ(NodeShape(g, "pool1"), Shape({1, 64, 56, 56}));
  EXPECT_EQ(NodeShape(g, "conv2/conv"), Shape({1, 192, 56, 56}));
  EXPECT_EQ(NodeShape(g, "pool2"), Shape({1, 192, 28, 28}));
  EXPECT_EQ(NodeShape(g, "pool3"), Shape({1, 480, 14, 14}));
  EXPECT_EQ(NodeShape(g, "pool4"), Shape({1, 832, 7, 7}));
  EXPECT_EQ(NodeShape(g, "pool5"), Shape({1, 1024, 1, 1}));
  EXPECT_EQ(g.FindNode("pool1/norm1")->op(), "LRN");
  EXPECT_EQ(g.FindNode("conv2/norm2")->op(), "LRN");
  EXPECT_EQ(g.FindNode("dropout")->op(), "Dropout");
  EXPECT_DOUBLE_EQ(*g.FindNode("dropout")->Attr<double>("rate"), 0.4);
  // conv1 9.2K (the paper's 2.7K is an erratum); conv2 with its reduce 112.0K.
  EXPECT_EQ(Params(g, "conv1/", "/weights"), 9408);
  EXPECT_EQ(PaperK(9408), "9.2K");
  EXPECT_EQ(Params(g, "conv2_reduce/", "/weights") + Params(g, "conv2/", "/weights"), 114688);
  EXPECT_EQ(PaperK(114688), "112.0K");
  struct Module {
    std::string name;
    int64_t size, channels;
    int64_t weights;  // from the channel table: c*(#1x1 + #3x3r + #5x5r + proj) + 9*#3x3r*#3x3 + 25*#5x5r*#5x5
    int64_t biases;   // #1x1 + #3x3r + #3x3 + #5x5r + #5x5 + proj
    std::string spec;
  };
  const std::vector<Module> modules = {
      {"3a", 28, 256, 163328, 368, "159.5K"},    {"3b", 28, 480, 388096, 640, "379.0K"},
      {"4a", 14, 512, 375552, 624, "366.8K"},    {"4b", 14, 512, 448512, 648, "438.0K"},
      {"4c", 14, 512, 509440, 664, "497.5K"},    {"4d", 14, 528, 604672, 704, "590.5K"},
      {"4e", 14, 832, 867328, 1024, "847.0K"},   {"5a", 7, 832, 1042432, 1024, "1018.0K"},
      {"5b", 7, 1024, 1442816, 1264, "1409.0K"},
  };
  for (const Module& m : modules) {
    const std::string scope = "inception_" + m.name + "/";
    EXPECT_EQ(NodeShape(g, scope + "output"), Shape({1, m.channels, m.size, m.size})) << m.name;
    EXPECT_EQ(Params(g, scope, "/weights"), m.weights) << m.name;
    EXPECT_EQ(Params(g, scope), m.weights + m.biases) << m.name;
    EXPECT_EQ(PaperK(m.weights), m.spec) << m.name;
    for (const char* branch : {"1x1", "3x3_reduce", "3x3", "5x5_reduce", "5x5", "pool_proj"}) {
      EXPECT_NE(g.FindNode(scope + branch + "/relu"), nullptr) << m.name << " " << branch;
    }
    EXPECT_EQ(g.FindNode(scope + "pool")->op(), "MaxPool");
  }
  EXPECT_EQ(WeightLayers(g), 1 + 2 + 9 * 6 + 1);  // 22 layers deep, 58 conv/fc weight tensors

  zoo::ModelConfig aux = ImageNet(2);
  aux.aux_classifiers = true;
  Built a = Build("googlenet", aux);
  EXPECT_EQ(NodeShape(*a.graph, "loss1/ave_pool"), Shape({2, 512, 4, 4}));
  EXPECT_EQ(NodeShape(*a.graph, "loss2/ave_pool"), Shape({2, 528, 4, 4}));
  EXPECT_EQ(a.model.loss.shape(), Shape({}));
  EXPECT_EQ(a.model.loss.node->name(), "loss");
  EXPECT_EQ(NodeShape(*a.graph, "loss1/classifier/fc/BiasAdd"), Shape({2, 1000}));
}

TEST(Zoo, ResNetStagesAndDepth) {
  for (int depth : {18, 34, 50, 101, 152}) {
    for (bool v15 : {false, true}) {
      if (v15 && depth < 50) continue;
      zoo::ModelConfig c = ImageNet();
      c.resnet_v1_5 = v15;
      const std::string name = absl::StrCat("resnet", depth);
      Built b = Build(name, c);
      const Graph& g = *b.graph;
      const int64_t expansion = depth >= 50 ? 4 : 1;
      EXPECT_EQ(WeightLayers(g), depth) << name;
      EXPECT_EQ(NodeShape(g, "conv1/conv"), Shape({1, 64, 112, 112})) << name;
      EXPECT_EQ(NodeShape(g, "pool1"), Shape({1, 64, 56, 56})) << name;
      EXPECT_EQ(NodeShape(g, "conv2_1/relu"), Shape({1, 64 * expansion, 56, 56})) << name;
      EXPECT_EQ(NodeShape(g, "conv3_1/relu"), Shape({1, 128 * expansion, 28, 28})) << name;
      EXPECT_EQ(NodeShape(g, "conv4_1/relu"), Shape({1, 256 * expansion, 14, 14})) << name;
      EXPECT_EQ(NodeShape(g, "conv5_1/relu"), Shape({1, 512 * expansion, 7, 7})) << name;
      EXPECT_EQ(NodeShape(g, "pool5"), Shape({1, 512 * expansion, 1, 1})) << name;
      EXPECT_EQ(g.FindNode("conv3_1/add")->op(), "Add") << name;
      EXPECT_EQ(g.FindNode("conv1/bn")->op(), "BatchNorm") << name;
      EXPECT_EQ(g.FindNode("conv1/bias"), nullptr) << name;
      // Projection shortcuts only where the shape changes.
      EXPECT_NE(g.FindNode("conv3_1/shortcut/conv"), nullptr) << name;
      EXPECT_EQ(g.FindNode("conv3_2/shortcut/conv"), nullptr) << name;
      EXPECT_EQ(g.FindNode("conv2_1/shortcut/conv") != nullptr, depth >= 50) << name;
      if (depth >= 50) {
        // The paper strides the first 1x1; v1.5 the 3x3.
        EXPECT_EQ(NodeShape(g, "conv3_1/conv_a/conv"), Shape({1, 128, v15 ? 56 : 28, v15 ? 56 : 28})) << name;
        EXPECT_EQ(NodeShape(g, "conv3_1/conv_b/conv"), Shape({1, 128, 28, 28})) << name;
        EXPECT_EQ(NodeShape(g, "conv3_1/conv_c/bn"), Shape({1, 512, 28, 28})) << name;
      }
    }
  }
}

TEST(Zoo, CifarNetsHave6nPlus2Layers) {
  for (int n : {3, 5, 7, 9, 18}) {
    for (const char* kind : {"cifar_resnet", "cifar_plain"}) {
      const std::string name = absl::StrCat(kind, 6 * n + 2);
      zoo::ModelConfig c;
      c.batch_size = 4;
      Built b = Build(name, c);
      const Graph& g = *b.graph;
      EXPECT_EQ(WeightLayers(g), 6 * n + 2) << name;
      EXPECT_EQ(NodeShape(g, "images"), Shape({4, 3, 32, 32}));
      EXPECT_EQ(NodeShape(g, absl::StrCat("conv2_", n, "/relu")), Shape({4, 16, 32, 32})) << name;
      EXPECT_EQ(NodeShape(g, absl::StrCat("conv3_", n, "/relu")), Shape({4, 32, 16, 16})) << name;
      EXPECT_EQ(NodeShape(g, absl::StrCat("conv4_", n, "/relu")), Shape({4, 64, 8, 8})) << name;
      EXPECT_EQ(b.model.logits.shape(), Shape({4, 10}));
      const bool residual = std::string(kind) == "cifar_resnet";
      EXPECT_EQ(g.FindNode("conv2_1/add") != nullptr, residual) << name;
      EXPECT_EQ(g.FindNode("conv3_1/shortcut/conv") != nullptr, residual) << name;
    }
  }
}

TEST(Zoo, LayersLiveUnderTheirScope) {
  Built b = Build("resnet18", ImageNet());
  for (const char* name : {"conv1/weights", "conv1/bn/gamma", "conv1/bn/beta", "conv1/bn/running_mean",
                           "conv1/bn/running_var", "conv1/relu", "conv3_2/conv_a/weights", "fc/weights", "fc/bias"}) {
    EXPECT_NE(b.graph->FindNode(name), nullptr) << name;
  }
  // Running statistics are variables, but not trainable.
  int64_t all = 0;
  for (const Node* v : ops::Variables(*b.graph)) all += v->output_spec(0).shape.num_elements();
  EXPECT_EQ(all - zoo::CountTrainableParameters(*b.graph), 2 * Params(*b.graph, "", "/gamma"));  // mean and var
  for (const Node* v : ops::Variables(*b.graph, true)) {
    EXPECT_FALSE(absl::StrContains(v->name(), "running")) << v->name();
  }
}

TEST(Zoo, ImageSizesTheNetsCannotTakeAreErrorsNamingTheLayer) {
  struct Case {
    std::string model;
    int64_t size;
    std::string layer;
  };
  // AlexNet at the paper's 224: (224 - 11)/4 + 1 = 54.25 does not fit conv1.
  for (const Case& c : std::vector<Case>{{"alexnet", 224, "conv1"},
                                         {"vgg16", 16, "pool5"},
                                         {"googlenet", 160, "pool5"},
                                         {"lenet5", 32, "lenet5"}}) {
    Graph g;
    zoo::ModelConfig config = ImageNet();
    config.image_size = c.size;
    auto m = zoo::BuildModel(c.model, g, config);
    ASSERT_FALSE(m.ok()) << c.model << " at " << c.size;
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << m.status();
    EXPECT_TRUE(absl::StrContains(m.status().message(), c.layer)) << m.status();
  }
  Graph g;
  zoo::ModelConfig config = ImageNet();
  config.image_size = 224;
  auto m = zoo::BuildModel("alexnet", g, config);
  EXPECT_TRUE(absl::StrContains(m.status().message(), "does not fit")) << m.status();
  // Other sizes that fit are fine: AlexNet at 163 ((163 - 11)/4 + 1 = 39).
  Graph g2;
  config.image_size = 163;
  EXPECT_TRUE(zoo::BuildModel("alexnet", g2, config).ok());
  Graph g3;
  config.image_size = 64;
  auto r = zoo::BuildModel("resnet50", g3, config);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(NodeShape(g3, "conv5_1/relu"), Shape({1, 2048, 2, 2}));
}

// ConvSpec.floor: Caffe's floor((H - F + 2P)/S) + 1 for strided convolutions
// that "do not fit", checked against a stride-1 convolution with the same
// weights and padding, sampled every S-th row and column (output (i, j) of a
// strided conv is the stride-1 output (S*i, S*j)).
TEST(Zoo, FloorRoundingConvIsTheStrideOneConvSampled) {
  struct Case {
    int64_t input, size, stride, pad, out;
  };
  // 3x3/2 pad 1 on 8 (ResNet's 56 -> 28), 1x1/2 on 8 (the projection), 7x7/2
  // pad 3 on 10 (conv1's 224 -> 112), 3x3/3 pad 0 on 8 (crops two rows), and
  // one that fits.
  for (const Case& c : std::vector<Case>{{8, 3, 2, 1, 4}, {8, 1, 2, 0, 4}, {10, 7, 2, 3, 5}, {8, 3, 3, 0, 2},
                                         {9, 3, 2, 1, 5}}) {
    SCOPED_TRACE(absl::StrCat(c.size, "x", c.size, "/", c.stride, " pad ", c.pad, " on ", c.input));
    Graph g;
    Output x = ops::Placeholder(g, "x", {2, 3, c.input, c.input});
    zoo::ConvSpec spec{4, c.size, c.stride, c.pad};
    spec.floor = true;
    Output y = zoo::ConvLayer(g, "layer", x, spec);
    ASSERT_TRUE(g.status().ok()) << g.status();
    EXPECT_EQ(y.shape(), Shape({2, 4, c.out, c.out}));
    Output w = g.FindNode("layer/weights")->output(0), b = g.FindNode("layer/bias")->output(0);
    Output ref = ops::Conv2D(g, x, w, b, {1, c.pad});
    ASSERT_TRUE(g.status().ok()) << g.status();
    auto s = runtime::Session::Create(g);
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_TRUE((*s)->InitializeVariables(3).ok());
    ASSERT_TRUE((*s)->variables().Set("layer/bias", Tensor::FromVector<float>({4}, {0.5f, -1, 2, 0.25f})).ok());
    Tensor input(DType::kFloat32, x.shape());
    for (int64_t i = 0; i < input.num_elements(); ++i) input.data<float>()[i] = std::sin(0.37 * i) + 0.1;
    auto out = (*s)->Run({{x, input}}, {y, ref});
    ASSERT_TRUE(out.ok()) << out.status();
    const Tensor &got = (*out)[0], &full = (*out)[1];
    const int64_t h = full.shape()[2];
    for (int64_t n = 0; n < 2 * 4; ++n) {
      for (int64_t i = 0; i < c.out; ++i) {
        for (int64_t j = 0; j < c.out; ++j) {
          const float want = full.data<float>()[(n * h + c.stride * i) * h + c.stride * j];
          EXPECT_NEAR(got.data<float>()[(n * c.out + i) * c.out + j], want, 1e-4f) << n << " " << i << " " << j;
        }
      }
    }
  }
  // Without floor, the lecture's error.
  Graph g;
  Output x = ops::Placeholder(g, "x", {1, 3, 8, 8});
  zoo::ConvLayer(g, "strict", x, {4, 3, 2, 1});
  EXPECT_TRUE(absl::StrContains(g.status().message(), "does not fit")) << g.status();
  EXPECT_TRUE(absl::StrContains(g.status().message(), "strict")) << g.status();
}

TEST(Zoo, OptionsAModelDoesNotHaveAreRefused) {
  zoo::ModelConfig groups = ImageNet();
  groups.groups = 2;
  zoo::ModelConfig aux = ImageNet();
  aux.aux_classifiers = true;
  zoo::ModelConfig v15 = ImageNet();
  v15.resnet_v1_5 = true;
  for (const auto& [name, config] : std::vector<std::pair<std::string, zoo::ModelConfig>>{
           {"vgg16", groups}, {"resnet50", aux}, {"resnet18", v15}, {"googlenet", v15}}) {
    Graph g;
    auto m = zoo::BuildModel(name, g, config);
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << name << ": " << m.status();
  }
  Graph g;
  zoo::ModelConfig three = ImageNet();
  three.groups = 3;  // 96 input channels of conv2 split 3 ways, but 256 filters do not
  EXPECT_FALSE(zoo::BuildModel("alexnet", g, three).ok());
}

}  // namespace
}  // namespace strata
