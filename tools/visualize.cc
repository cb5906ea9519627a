#include "tools/visualize.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <numeric>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "data/mnist.h"
#include "graph/status_macros.h"
#include "runtime/session.h"
#include "serialization/checkpoint.h"
#include "training/trainer.h"
#include "viz/dot.h"
#include "viz/plot.h"
#include "viz/png.h"
#include "viz/receptive_field.h"

ABSL_FLAG(std::string, layer, "", "visualize: the layer (as `strata summary` names it: c1, s2, conv1, ...).");
ABSL_FLAG(std::string, out, "",
          "visualize: the PNG to write (default <command>.png); graph: model.dot or model.svg (SVG needs "
          "Graphviz's `dot`).");
ABSL_FLAG(int64_t, index, 0,
          "visualize activations: the example of the MNIST test split to show (there is no image decoder yet, "
          "so an input is chosen by its index).");
ABSL_FLAG(int64_t, filter, 0, "visualize top-inputs: the filter (output channel) of --layer.");
ABSL_FLAG(int64_t, top_k, 16, "visualize top-inputs: how many inputs to show.");
ABSL_FLAG(std::string, csv, "", "plot: the training log to draw (metrics.csv of `strata train --log_dir=DIR`).");
ABSL_FLAG(int64_t, scale, 4, "visualize: pixels per value in the PNG grids.");

namespace strata::tools {
namespace {

struct Loaded {
  std::string model_name;
  zoo::ModelConfig config;
  std::unique_ptr<Graph> graph;
  zoo::Model model;
  std::shared_ptr<runtime::VariableStore> store;
};

int64_t MetaInt(const std::map<std::string, std::string>& meta, const std::string& key, int64_t fallback) {
  int64_t v = 0;
  auto it = meta.find(key);
  return it != meta.end() && absl::SimpleAtoi(it->second, &v) ? v : fallback;
}

bool MetaBool(const std::map<std::string, std::string>& meta, const std::string& key) {
  bool v = false;
  auto it = meta.find(key);
  return it != meta.end() && absl::SimpleAtob(it->second, &v) && v;
}

// The checkpoint's model, built with batch `batch`, its variables restored.
absl::StatusOr<Loaded> LoadModel(const VisualizeOptions& o, int64_t batch) {
  STRATA_ASSIGN_OR_RETURN(serialization::Checkpoint ckpt, serialization::LoadCheckpoint(o.checkpoint));
  Loaded l;
  l.model_name = o.model;
  if (auto it = ckpt.metadata.find("model"); it != ckpt.metadata.end()) l.model_name = it->second;
  if (l.model_name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint ", o.checkpoint, " does not name its model: pass --model"));
  }
  const auto& meta = ckpt.metadata;
  l.config.batch_size = batch;
  l.config.num_classes = MetaInt(meta, "classes", 10);
  l.config.image_size = MetaInt(meta, "image_size", 0);
  l.config.groups = MetaInt(meta, "groups", 1);
  l.config.aux_classifiers = MetaBool(meta, "aux_classifiers");
  l.config.resnet_v1_5 = MetaBool(meta, "resnet_v1_5");
  l.graph = std::make_unique<Graph>();
  STRATA_ASSIGN_OR_RETURN(l.model, zoo::BuildModel(l.model_name, *l.graph, l.config));
  l.store = std::make_shared<runtime::VariableStore>();
  STRATA_RETURN_IF_ERROR(serialization::RestoreVariables(ckpt, *l.graph, l.store.get()));
  return l;
}

absl::StatusOr<data::Dataset> LoadTestSplit(const VisualizeOptions& o, const Loaded& l) {
  const std::string dir = o.data_dir.empty() ? data::DefaultMnistDir() : o.data_dir;
  STRATA_ASSIGN_OR_RETURN(data::Dataset test, data::LoadMnist(dir, "test"));
  const Shape& in = l.model.images.shape();
  const Shape& have = test.images.shape();
  if (in.rank() != 4 || in[1] != have[1] || in[2] != have[2] || in[3] != have[3]) {
    return absl::FailedPreconditionError(absl::StrCat(
        "model ", l.model_name, " takes images ", in.ToString(), " but the MNIST test split holds ", have.ToString(),
        ": activations and top inputs need a model trained on MNIST (lenet5)"));
  }
  return test;
}

// Examples [first, first + count) of `images`, zero-padded to `batch`, and
// normalised as the trainer normalises MNIST.
Tensor Batch(const Tensor& images, int64_t first, int64_t count, int64_t batch) {
  const Shape& s = images.shape();
  const int64_t per = s[1] * s[2] * s[3];
  Tensor t(DType::kFloat32, Shape{batch, s[1], s[2], s[3]});
  float* d = t.data<float>();
  std::fill(d, d + batch * per, 0.0f);
  const float* src = images.data<float>() + first * per;
  for (int64_t i = 0; i < count * per; ++i) d[i] = (src[i] - training::kMnistMean) / training::kMnistStd;
  return t;
}

absl::Status WriteGrid(const Picture& p, const std::string& out) {
  STRATA_ASSIGN_OR_RETURN(viz::Image image, viz::RenderGrid(p.tiles, p.grid));
  return viz::WritePng(out, image);
}

}  // namespace

absl::StatusOr<Picture> VisualizeFilters(const VisualizeOptions& o) {
  STRATA_ASSIGN_OR_RETURN(serialization::Checkpoint ckpt, serialization::LoadCheckpoint(o.checkpoint));
  const std::string name = absl::StrCat(o.layer, "/weights");
  auto it = ckpt.tensors.find(name);
  if (it == ckpt.tensors.end()) {
    return absl::NotFoundError(absl::StrCat("checkpoint ", o.checkpoint, " has no tensor ", name,
                                            ": --layer must name a convolution (see `strata inspect`)"));
  }
  if (it->second.shape().rank() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is ", it->second.shape().ToString(),
                                                   ", not convolution weights [O,I,kh,kw]"));
  }
  Picture p;
  STRATA_ASSIGN_OR_RETURN(p.tiles, viz::FilterTiles(it->second));
  p.grid = viz::FilterGridOptions(it->second, o.scale);
  STRATA_RETURN_IF_ERROR(WriteGrid(p, o.out));
  return p;
}

absl::StatusOr<Picture> VisualizeActivations(const VisualizeOptions& o) {
  STRATA_ASSIGN_OR_RETURN(Loaded l, LoadModel(o, 1));
  STRATA_ASSIGN_OR_RETURN(Node * node, viz::LayerOutputNode(*l.graph, o.layer));
  STRATA_ASSIGN_OR_RETURN(data::Dataset test, LoadTestSplit(o, l));
  if (o.index < 0 || o.index >= test.size()) {
    return absl::OutOfRangeError(absl::StrCat("--index=", o.index, ": the test split has ", test.size(), " examples"));
  }
  if (node->output_spec(0).shape.rank() != 4) {
    return absl::InvalidArgumentError(absl::StrCat("layer ", o.layer, " outputs ", node->output_spec(0).shape.ToString(),
                                                   ": activation maps need a [N,C,H,W] layer"));
  }
  STRATA_ASSIGN_OR_RETURN(auto session, runtime::Session::Create(*l.graph, {}, l.store));
  const Tensor input = Batch(test.images, o.index, 1, 1);
  const runtime::Feeds feeds = {{l.model.images, input}};
  const std::vector<Output> fetches = {node->output(0)};
  STRATA_ASSIGN_OR_RETURN(std::vector<Tensor> out, session->Run(feeds, fetches));
  Picture p;
  STRATA_ASSIGN_OR_RETURN(viz::Tile in_tile, viz::ImageTile(input, 0));
  p.tiles.push_back(std::move(in_tile));
  STRATA_ASSIGN_OR_RETURN(std::vector<viz::Tile> maps, viz::ChannelTiles(out[0], 0));
  for (auto& t : maps) p.tiles.push_back(std::move(t));
  p.grid.scale = o.scale;
  STRATA_RETURN_IF_ERROR(WriteGrid(p, o.out));
  return p;
}

absl::StatusOr<Picture> VisualizeTopInputs(const VisualizeOptions& o) {
  constexpr int64_t kBatch = 100;
  STRATA_ASSIGN_OR_RETURN(Loaded l, LoadModel(o, kBatch));
  STRATA_ASSIGN_OR_RETURN(Node * node, viz::LayerOutputNode(*l.graph, o.layer));
  STRATA_ASSIGN_OR_RETURN(data::Dataset test, LoadTestSplit(o, l));
  const Shape& s = node->output_spec(0).shape;
  if (s.rank() < 2 || o.filter < 0 || o.filter >= s[1]) {
    return absl::OutOfRangeError(absl::StrCat("--filter=", o.filter, ": layer ", o.layer, " outputs ", s.ToString()));
  }
  if (o.top_k < 1) return absl::InvalidArgumentError("--top_k must be at least 1");
  const int64_t n = o.max_examples > 0 ? std::min(o.max_examples, test.size()) : test.size();
  const int64_t per = s.num_elements() / (s[0] * s[1]);  // values per channel
  STRATA_ASSIGN_OR_RETURN(auto session, runtime::Session::Create(*l.graph, {}, l.store));
  std::vector<double> score(static_cast<size_t>(n));
  for (int64_t first = 0; first < n; first += kBatch) {
    const int64_t count = std::min(kBatch, n - first);
    const runtime::Feeds feeds = {{l.model.images, Batch(test.images, first, count, kBatch)}};
    const std::vector<Output> fetches = {node->output(0)};
    STRATA_ASSIGN_OR_RETURN(std::vector<Tensor> out, session->Run(feeds, fetches));
    const float* a = out[0].data<float>();
    for (int64_t i = 0; i < count; ++i) {
      const float* c = a + (i * s[1] + o.filter) * per;
      score[first + i] = std::accumulate(c, c + per, 0.0) / per;
    }
  }
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  const int64_t k = std::min(o.top_k, n);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
    return score[a] != score[b] ? score[a] > score[b] : a < b;
  });
  Picture p;
  for (int64_t i = 0; i < k; ++i) {
    p.examples.push_back(order[i]);
    p.scores.push_back(score[order[i]]);
    STRATA_ASSIGN_OR_RETURN(viz::Tile t, viz::ImageTile(test.images, order[i]));
    p.tiles.push_back(std::move(t));
  }
  p.grid.scale = o.scale;
  STRATA_RETURN_IF_ERROR(WriteGrid(p, o.out));
  return p;
}

std::string FindDotBinary() {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "/usr/local/bin:/usr/bin:/bin", ':', absl::SkipEmpty())) {
    const std::string candidate = absl::StrCat(dir, "/dot");
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

absl::Status WriteModelGraph(const std::string& model, const zoo::ModelConfig& config, const std::string& out) {
  Graph g;
  zoo::ModelConfig c = config;
  c.batch_size = 1;
  STRATA_RETURN_IF_ERROR(zoo::BuildModel(model, g, c).status());
  viz::DotOptions options;
  options.name = model;
  const std::string dot = viz::GraphToDot(g, options);
  if (!absl::EndsWith(out, ".svg")) return serialization::WriteFileAtomically(out, dot, "DOT file");
  const std::string binary = FindDotBinary();
  if (binary.empty()) {
    return absl::FailedPreconditionError(
        "writing SVG needs Graphviz's `dot`, which is not on PATH: install graphviz (tools/setup.sh does) or "
        "write --out=model.dot");
  }
  const std::string tmp = absl::StrCat(out, ".dot.tmp.", getpid());
  STRATA_RETURN_IF_ERROR(serialization::WriteFileAtomically(tmp, dot, "DOT file"));
  const std::string command = absl::StrCat("'", binary, "' -Tsvg '", tmp, "' -o '", out, "'");
  const int rc = std::system(command.c_str());
  std::remove(tmp.c_str());
  if (rc != 0) return absl::InternalError(absl::StrCat("`", command, "` failed (status ", rc, ")"));
  return absl::OkStatus();
}

namespace {

// The value of a flag defined by the strata binary (model, checkpoint,
// data, ...); `fallback` when it is not linked in.
std::string FlagValue(absl::string_view name, const std::string& fallback = "") {
  absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  return flag == nullptr ? fallback : flag->CurrentValue();
}

int64_t IntFlagValue(absl::string_view name, int64_t fallback) {
  int64_t v = 0;
  return absl::SimpleAtoi(FlagValue(name), &v) ? v : fallback;
}

bool BoolFlagValue(absl::string_view name) {
  bool v = false;
  return absl::SimpleAtob(FlagValue(name), &v) && v;
}

std::string UserPath(const std::string& path) {
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || cwd == nullptr) return path;
  return absl::StrCat(cwd, "/", path);
}

int Fail(const absl::Status& s) {
  std::cerr << "strata: error: " << s.message() << "\n";
  return 1;
}

}  // namespace

int RunPlot(const std::vector<char*>& args) {
  const std::string csv = absl::GetFlag(FLAGS_csv);
  if (args.size() != 2 || csv.empty()) {
    std::cerr << "strata: usage: strata plot --csv=DIR/metrics.csv [--out=FILE.svg]\n";
    return 2;
  }
  std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) out = "metrics.svg";
  viz::PlotOptions options;
  options.title = csv;
  if (absl::Status s = viz::PlotTrainingCsv(UserPath(csv), UserPath(out), options); !s.ok()) return Fail(s);
  std::cout << "wrote " << out << "\n";
  return 0;
}

int RunVisualize(const std::vector<char*>& args) {
  if (args.size() < 2) return 2;
  const std::string command = args[1];
  const std::string model = FlagValue("model", "lenet5");
  std::string out = absl::GetFlag(FLAGS_out);
  if (command == "graph") {
    if (args.size() != 2) {
      std::cerr << "strata: usage: strata graph --model=NAME --out=model.dot|model.svg\n";
      return 2;
    }
    zoo::ModelConfig c;
    const int64_t classes = IntFlagValue("classes", 0);
    c.num_classes = classes > 0 ? classes : 10;
    c.image_size = IntFlagValue("image_size", 0);
    c.groups = IntFlagValue("groups", 1);
    c.aux_classifiers = BoolFlagValue("aux_classifiers");
    c.resnet_v1_5 = BoolFlagValue("resnet_v1_5");
    if (out.empty()) out = absl::StrCat(model, ".dot");
    if (absl::Status s = WriteModelGraph(model, c, UserPath(out)); !s.ok()) return Fail(s);
    std::cout << "wrote " << out << "\n";
    return 0;
  }
  if (args.size() != 3) {
    std::cerr << "strata: usage: strata visualize filters|activations|top-inputs --layer=NAME [--checkpoint=PATH] "
                 "[--out=FILE.png] (see strata --help)\n";
    return 2;
  }
  const std::string what = args[2];
  VisualizeOptions o;
  const std::string ckpt = FlagValue("checkpoint");
  o.checkpoint = UserPath(ckpt.empty() ? absl::StrCat("checkpoints/", model, ".ckpt") : ckpt);
  o.model = model;
  o.data_dir = UserPath(FlagValue("data"));
  o.layer = absl::GetFlag(FLAGS_layer);
  o.index = absl::GetFlag(FLAGS_index);
  o.filter = absl::GetFlag(FLAGS_filter);
  o.top_k = absl::GetFlag(FLAGS_top_k);
  o.max_examples = IntFlagValue("max_examples", 0);
  o.scale = absl::GetFlag(FLAGS_scale);
  o.out = UserPath(out.empty() ? absl::StrCat(what, ".png") : out);
  if (o.layer.empty()) return Fail(absl::InvalidArgumentError("--layer is required (e.g. --layer=c1)"));
  absl::StatusOr<Picture> p;
  if (what == "filters") {
    p = VisualizeFilters(o);
  } else if (what == "activations") {
    p = VisualizeActivations(o);
  } else if (what == "top-inputs") {
    p = VisualizeTopInputs(o);
  } else {
    std::cerr << "strata: unknown visualization '" << what << "' (filters, activations, top-inputs)\n";
    return 2;
  }
  if (!p.ok()) return Fail(p.status());
  std::cout << "wrote " << o.out << " (" << p->tiles.size() << " tiles)\n";
  for (size_t i = 0; i < p->examples.size(); ++i) {
    std::cout << "  test example " << p->examples[i] << ": mean activation " << p->scores[i] << "\n";
  }
  return 0;
}

}  // namespace strata::tools
