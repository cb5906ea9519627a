// viz/ and `strata visualize`/`strata graph`: PNG grids read back with libpng
// and checked value by value against the tensors they show, receptive fields
// against hand-worked values, and every zoo model's DOT through Graphviz.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <numeric>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "data/mnist.h"
#include "gtest/gtest.h"
#include "runtime/session.h"
#include "serialization/checkpoint.h"
#include "tools/visualize.h"
#include "training/trainer.h"
#include "viz/dot.h"
#include "viz/grid.h"
#include "viz/png.h"
#include "viz/receptive_field.h"
#include "zoo/model.h"
#include "zoo/summary.h"

namespace strata {
namespace {

std::string TmpDir() {
  const char* d = std::getenv("TEST_TMPDIR");
  return d ? d : "/tmp";
}

int64_t Field(absl::string_view model, absl::string_view layer) {
  Graph g;
  zoo::ModelConfig c;
  c.batch_size = 1;
  EXPECT_TRUE(zoo::BuildModel(model, g, c).ok());
  auto f = viz::LayerReceptiveField(g, layer);
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? f->size : -1;
}

TEST(ReceptiveField, HandWorkedValues) {
  EXPECT_EQ(Field("lenet5", "c1"), 5);
  EXPECT_EQ(Field("lenet5", "s2"), 6);
  EXPECT_EQ(Field("lenet5", "c3"), 14);
  EXPECT_EQ(Field("lenet5", "s4"), 16);
  EXPECT_EQ(Field("lenet5", "c5"), 32);
  EXPECT_EQ(Field("alexnet", "conv1"), 11);
  EXPECT_EQ(Field("alexnet", "pool1"), 19);
  EXPECT_EQ(Field("alexnet", "conv2"), 51);
}

TEST(ReceptiveField, JumpAndStart) {
  Graph g;
  zoo::ModelConfig c;
  c.batch_size = 1;
  ASSERT_TRUE(zoo::BuildModel("lenet5", g, c).ok());
  auto s4 = viz::LayerReceptiveField(g, "s4");
  ASSERT_TRUE(s4.ok());
  EXPECT_EQ(s4->jump, 4);
  auto c1 = viz::LayerReceptiveField(g, "c1");
  EXPECT_EQ(c1->start, 0);  // 5x5 pad 2: output 0 is centred on input pixel 0
}

TEST(Png, RoundTrip) {
  viz::Image rgb(3, 2, 3);
  for (size_t i = 0; i < rgb.pixels.size(); ++i) rgb.pixels[i] = static_cast<uint8_t>(i * 13);
  const std::string path = TmpDir() + "/rt.png";
  ASSERT_TRUE(viz::WritePng(path, rgb).ok());
  auto back = viz::ReadPng(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->width, 3);
  EXPECT_EQ(back->height, 2);
  EXPECT_EQ(back->channels, 3);
  EXPECT_EQ(back->pixels, rgb.pixels);
  EXPECT_FALSE(viz::ReadPng(TmpDir() + "/missing.png").ok());
}

TEST(Grid, RgbFiltersAreOneTileEach) {
  Tensor w(DType::kFloat32, Shape{2, 3, 2, 2});
  auto f = w.flat<float>();
  std::iota(f.begin(), f.end(), -5.0f);
  auto tiles = viz::FilterTiles(w);
  ASSERT_TRUE(tiles.ok());
  ASSERT_EQ(tiles->size(), 2u);
  EXPECT_EQ((*tiles)[0].channels, 3);
  auto image = viz::RenderGrid(*tiles, {});
  ASSERT_TRUE(image.ok());
  EXPECT_EQ(image->channels, 3);
  // Tile 1 at (1 + 2 + 1, 1): its first red value is its minimum.
  EXPECT_EQ(image->at(4, 1, 0), 0);
  EXPECT_EQ(image->at(5, 2, 2), 255);  // last blue value: the maximum
}

// Checks that the tiles of `png` (laid out with `grid`) show `tiles` values.
void ExpectGridShows(const viz::Image& png, const std::vector<viz::Tile>& tiles, const viz::GridOptions& grid) {
  const viz::GridLayout l = viz::LayoutGrid(tiles, grid);
  ASSERT_EQ(png.width, l.width);
  ASSERT_EQ(png.height, l.height);
  for (size_t i = 0; i < tiles.size(); ++i) {
    const viz::Tile& t = tiles[i];
    const auto [mn, mx] = std::minmax_element(t.values.begin(), t.values.end());
    bool saw0 = false, saw255 = false;
    for (int64_t y = 0; y < t.height; ++y) {
      for (int64_t x = 0; x < t.width; ++x) {
        const float v = t.values[y * t.width + x];
        const uint8_t p = png.at(l.TileX(i) + x * grid.scale, l.TileY(i) + y * grid.scale);
        ASSERT_EQ(p, viz::NormalizedPixel(v, *mn, *mx)) << "tile " << i << " at " << x << "," << y;
        if (v == *mn) {
          EXPECT_EQ(p, 0);
          saw0 = true;
        }
        if (v == *mx && *mx > *mn) {
          EXPECT_EQ(p, 255);
          saw255 = true;
        }
      }
    }
    EXPECT_TRUE(saw0);
    if (*mx > *mn) {
      EXPECT_TRUE(saw255);
    }
  }
}

class TrainedLeNet : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    training::TrainConfig c;
    c.model = "lenet5";
    c.data_dir = data::DefaultMnistDir();
    c.epochs = 1;
    c.batch_size = 32;
    c.max_train_examples = 320;
    c.lr_decay_epochs = {};
    c.checkpoint = TmpDir() + "/lenet5.ckpt";
    std::ostringstream log;
    auto r = training::Train(c, log);
    ASSERT_TRUE(r.ok()) << r.status();
    checkpoint_ = new std::string(c.checkpoint);
  }
  tools::VisualizeOptions Options(const std::string& layer, const std::string& out) {
    tools::VisualizeOptions o;
    o.checkpoint = *checkpoint_;
    o.layer = layer;
    o.out = TmpDir() + "/" + out;
    return o;
  }
  static std::string* checkpoint_;
};
std::string* TrainedLeNet::checkpoint_ = nullptr;

TEST_F(TrainedLeNet, FilterGridShowsTheWeightsInFilterOrder) {
  auto ckpt = serialization::LoadCheckpoint(*checkpoint_);
  ASSERT_TRUE(ckpt.ok());
  for (const std::string layer : {"c1", "c3"}) {
    auto o = Options(layer, layer + "_filters.png");
    auto p = tools::VisualizeFilters(o);
    ASSERT_TRUE(p.ok()) << p.status();
    auto png = viz::ReadPng(o.out);
    ASSERT_TRUE(png.ok()) << png.status();
    EXPECT_EQ(png->channels, 1);
    // The tiles from the checkpoint's own tensor, filter-major.
    const Tensor& w = ckpt->tensors.at(layer + "/weights");
    const int64_t O = w.shape()[0], I = w.shape()[1], k = w.shape()[2];
    std::vector<viz::Tile> expected;
    for (int64_t f = 0; f < O; ++f) {
      for (int64_t c = 0; c < I; ++c) {
        viz::Tile t{1, k, k, {}};
        for (int64_t j = 0; j < k * k; ++j) t.values.push_back(w.data<float>()[(f * I + c) * k * k + j]);
        expected.push_back(t);
      }
    }
    ASSERT_EQ(p->tiles.size(), expected.size());
    viz::GridOptions grid = p->grid;
    EXPECT_EQ(grid.columns, layer == "c1" ? 0 : 6);  // c3: one row per filter
    ExpectGridShows(*png, expected, grid);
  }
  EXPECT_FALSE(tools::VisualizeFilters(Options("f6", "x.png")).ok());  // not a convolution
}

TEST_F(TrainedLeNet, ActivationMapsMatchTheLayerOutput) {
  auto o = Options("c1", "c1_act.png");
  o.index = 7;
  auto p = tools::VisualizeActivations(o);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->tiles.size(), 7u);  // the input and 6 maps
  // Independently: run c1/relu on test example 7.
  auto ckpt = serialization::LoadCheckpoint(*checkpoint_);
  Graph g;
  zoo::ModelConfig c;
  c.batch_size = 1;
  auto m = zoo::BuildModel("lenet5", g, c);
  ASSERT_TRUE(m.ok());
  auto store = std::make_shared<runtime::VariableStore>();
  ASSERT_TRUE(serialization::RestoreVariables(*ckpt, g, store.get()).ok());
  auto test = data::LoadMnist(data::DefaultMnistDir(), "test");
  ASSERT_TRUE(test.ok());
  data::Normalize(*test, training::kMnistMean, training::kMnistStd);
  Tensor x(DType::kFloat32, Shape{1, 1, 28, 28});
  std::copy_n(test->images.data<float>() + 7 * 784, 784, x.data<float>());
  auto session = runtime::Session::Create(g, {}, store);
  ASSERT_TRUE(session.ok());
  auto out = (*session)->Run({{m->images, x}}, {g.FindNode("c1/relu")->output(0)});
  ASSERT_TRUE(out.ok()) << out.status();
  std::vector<viz::Tile> expected;
  viz::Tile in{1, 28, 28, std::vector<float>(x.data<float>(), x.data<float>() + 784)};
  expected.push_back(in);
  for (int64_t ch = 0; ch < 6; ++ch) {
    const float* a = (*out)[0].data<float>() + ch * 784;
    expected.push_back(viz::Tile{1, 28, 28, std::vector<float>(a, a + 784)});
  }
  auto png = viz::ReadPng(o.out);
  ASSERT_TRUE(png.ok()) << png.status();
  ExpectGridShows(*png, expected, p->grid);
  o.index = 1 << 30;
  EXPECT_FALSE(tools::VisualizeActivations(o).ok());
}

TEST_F(TrainedLeNet, TopInputsAreTheMostActivatingDigits) {
  auto o = Options("c3", "c3_top.png");
  o.filter = 2;
  o.top_k = 8;
  o.max_examples = 250;
  auto p = tools::VisualizeTopInputs(o);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->examples.size(), 8u);
  // Independently, one example at a time.
  auto ckpt = serialization::LoadCheckpoint(*checkpoint_);
  Graph g;
  zoo::ModelConfig c;
  c.batch_size = 1;
  auto m = zoo::BuildModel("lenet5", g, c);
  ASSERT_TRUE(m.ok());
  auto store = std::make_shared<runtime::VariableStore>();
  ASSERT_TRUE(serialization::RestoreVariables(*ckpt, g, store.get()).ok());
  auto test = data::LoadMnist(data::DefaultMnistDir(), "test");
  ASSERT_TRUE(test.ok());
  auto raw = data::LoadMnist(data::DefaultMnistDir(), "test");
  data::Normalize(*test, training::kMnistMean, training::kMnistStd);
  auto session = runtime::Session::Create(g, {}, store);
  ASSERT_TRUE(session.ok());
  std::vector<double> score;
  for (int64_t i = 0; i < 250; ++i) {
    Tensor x(DType::kFloat32, Shape{1, 1, 28, 28});
    std::copy_n(test->images.data<float>() + i * 784, 784, x.data<float>());
    auto out = (*session)->Run({{m->images, x}}, {g.FindNode("c3/relu")->output(0)});
    ASSERT_TRUE(out.ok());
    const float* a = (*out)[0].data<float>() + 2 * 100;
    score.push_back(std::accumulate(a, a + 100, 0.0) / 100);
  }
  std::vector<int64_t> order(250);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return score[a] > score[b]; });
  for (int i = 0; i < 8; ++i) {
    EXPECT_NEAR(p->scores[i], score[order[i]], 1e-4);
    EXPECT_NEAR(score[p->examples[i]], score[order[i]], 1e-4);
  }
  std::vector<viz::Tile> expected;
  for (int64_t e : p->examples) {
    const float* a = raw->images.data<float>() + e * 784;
    expected.push_back(viz::Tile{1, 28, 28, std::vector<float>(a, a + 784)});
  }
  auto png = viz::ReadPng(o.out);
  ASSERT_TRUE(png.ok()) << png.status();
  ExpectGridShows(*png, expected, p->grid);
}

TEST(Dot, EveryZooModelRendersWithGraphviz) {
  const std::string dot = tools::FindDotBinary();
  ASSERT_FALSE(dot.empty()) << "Graphviz's dot is not installed: run tools/setup.sh";
  for (const std::string& name : zoo::ModelNames()) {
    SCOPED_TRACE(name);
    Graph g;
    zoo::ModelConfig c;
    c.batch_size = 1;
    c.num_classes = zoo::PaperNumClasses(name);
    ASSERT_TRUE(zoo::BuildModel(name, g, c).ok());
    const std::string text = viz::GraphToDot(g, {});
    auto summary = zoo::Summarize(name, c);
    ASSERT_TRUE(summary.ok()) << summary.status();
    for (const zoo::LayerRow& row : summary->rows) {
      EXPECT_TRUE(absl::StrContains(text, absl::StrCat("\"", row.name, "\""))) << row.name;
    }
    const std::string in = absl::StrCat(TmpDir(), "/", name, ".dot");
    const std::string out = absl::StrCat(TmpDir(), "/", name, ".svg");
    std::ofstream(in) << text;
    // Fontconfig wants a writable cache; the sandbox's HOME is not.
    const std::string cmd = absl::StrCat("XDG_CACHE_HOME=", TmpDir(), " ", dot, " -Tsvg ", in, " -o ", out, " 2>",
                                         TmpDir(), "/dot.err");
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream svg(out);
    std::stringstream ss;
    ss << svg.rdbuf();
    EXPECT_TRUE(absl::StrContains(ss.str(), "<svg")) << name;
    std::ifstream err(TmpDir() + "/dot.err");
    for (std::string line; std::getline(err, line);) {
      if (absl::StartsWith(line, "Fontconfig")) continue;  // font cache warnings, not about the graph
      ADD_FAILURE() << "dot: " << line;
    }
  }
}

TEST(Dot, GraphCommandWritesSvgAndDot) {
  zoo::ModelConfig c;
  ASSERT_TRUE(tools::WriteModelGraph("lenet5", c, TmpDir() + "/lenet5_cmd.svg").ok());
  ASSERT_TRUE(tools::WriteModelGraph("lenet5", c, TmpDir() + "/lenet5_cmd.dot").ok());
  std::ifstream f(TmpDir() + "/lenet5_cmd.dot");
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_TRUE(absl::StartsWith(ss.str(), "digraph \"lenet5\""));
  EXPECT_TRUE(absl::StrContains(ss.str(), "2,416 params"));  // c3's weights and biases
  EXPECT_FALSE(absl::StrContains(ss.str(), "gradients/"));
}

}  // namespace
}  // namespace strata
