#include "zoo/summary.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ops/state.h"
#include "zoo/arch_spec.h"

namespace strata::zoo {
namespace {

// ---------------------------------------------------------------------------
// Grouping the graph into layers.

bool IsForwardName(absl::string_view name) {
  for (absl::string_view prefix : {"gradients/", "sgd/", "optimizer/", "gradient_check/"}) {
    if (absl::StartsWith(name, prefix)) return false;
  }
  return true;
}

std::string LayerOf(absl::string_view name) {
  return std::string(name.substr(0, name.find('/')));
}

bool IsSkippedLayer(absl::string_view layer) {
  return layer == "loss" || layer == "predictions" || layer == "labels" || layer == "gradients" ||
         layer == "sgd" || layer == "optimizer";
}

// Ops that make no layer of their own: in place (ReLU), a view (Reshape) or
// an elementwise mask on the previous layer's values (Dropout).
bool IsFoldedOp(const std::string& op) {
  return op == "Relu" || op == "Tanh" || op == "Sigmoid" || op == "Reshape" || op == "Dropout" ||
         op == "Identity";
}

// Ops that never produce a layer's output value.
bool IsSource(const Node& n) { return n.def().is_source; }

struct Layer {
  std::string name;
  std::vector<const Node*> nodes;
};

// Drops the batch dimension.
Shape PerImage(const Shape& s) {
  if (s.rank() == 0) return s;
  return Shape(std::vector<int64_t>(s.dims().begin() + 1, s.dims().end()));
}

// Multiply-adds per image of one forward node: conv and fc (MatMul) only.
int64_t MultiplyAdds(const Node& n, int64_t batch) {
  if (n.op() == "Conv2D" && n.inputs().size() >= 2) {
    // Weights [K, C/groups, F, G]: each weight is used once per output pixel.
    const Shape& out = n.output_spec(0).shape;
    if (out.rank() != 4) return 0;
    return n.inputs()[1].shape().num_elements() * out[2] * out[3];
  }
  if (n.op() == "MatMul" && n.inputs().size() == 2) {
    const Shape& a = n.inputs()[0].shape();
    if (a.rank() != 2) return 0;
    const bool transpose_a = n.Attr<bool>("transpose_a").value_or(false);
    const int64_t inner = transpose_a ? a[0] : a[1];
    return n.output_spec(0).shape.num_elements() * inner / std::max<int64_t>(batch, 1);
  }
  return 0;
}

// "conv", "maxpool", ... for the op column.
std::string Kind(const std::string& op) {
  static const auto* kinds = new std::map<std::string, std::string>{
      {"Conv2D", "conv"},    {"MatMul", "fc"},   {"MaxPool", "maxpool"}, {"AvgPool", "avgpool"},
      {"BatchNorm", "bn"},   {"LRN", "lrn"},     {"Concat", "concat"},   {"Add", "add"},
      {"Relu", "relu"},      {"Dropout", "dropout"}, {"Softmax", "softmax"}, {"Reshape", "reshape"},
  };
  auto it = kinds->find(op);
  if (it != kinds->end()) return it->second;
  std::string lower = op;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

// The op column: the layer's kinds of work in order, with counts ("6 conv,
// maxpool, concat"), and the geometry of a single convolution or pooling
// ("conv 3x3/1, relu", "maxpool 2x2/2"). Plumbing (BiasAdd, reshapes) is left
// out; ReLU is named only
// in single-convolution or fc layers, concat only as a layer's output.
std::string Describe(const std::vector<const Node*>& compute) {
  static const auto* shown =
      new std::set<std::string>{"conv", "fc", "maxpool", "avgpool", "lrn", "bn", "add", "relu", "dropout"};
  std::vector<std::string> order;
  std::map<std::string, int> count;
  std::map<std::string, const Node*> first;
  for (const Node* n : compute) {
    const std::string k = Kind(n->op());
    if (!shown->count(k)) continue;
    if (count[k]++ == 0) {
      order.push_back(k);
      first[k] = n;
    }
  }
  const bool composite = count["conv"] + count["fc"] > 1;
  std::vector<std::string> parts;
  for (const std::string& k : order) {
    const Node* n = first[k];
    if (k == "conv" && count[k] == 1) {
      const Shape& w = n->inputs()[1].shape();
      const int64_t stride = n->Attr<int64_t>("stride").value_or(1);
      parts.push_back(w.rank() == 4 ? absl::StrFormat("conv %dx%d/%d", w[2], w[3], stride) : k);
    } else if ((k == "maxpool" || k == "avgpool") && count[k] == 1 && !composite) {
      const int64_t size = n->Attr<int64_t>("size").value_or(0);
      const int64_t stride = n->Attr<int64_t>("stride").value_or(0);
      parts.push_back(absl::StrFormat("%s %dx%d/%d", k, size, size, stride));
    } else if (k == "relu" && composite) {
      continue;
    } else {
      parts.push_back(count[k] > 1 ? absl::StrCat(count[k], " ", k) : k);
    }
  }
  if (!compute.empty() && compute.back()->op() == "Concat") parts.push_back("concat");
  return parts.empty() ? Kind(compute.back()->op()) : absl::StrJoin(parts, ", ");
}

// ---------------------------------------------------------------------------
// The lecture's and the papers' figures.

struct PaperSetting {
  const char* model;
  int64_t image_size;
  int64_t classes;
};

constexpr PaperSetting kPaperSettings[] = {
    {"lenet5", 28, 10},     {"alexnet", 227, 1000},   {"vgg_a", 224, 1000},     {"vgg_a_lrn", 224, 1000},
    {"vgg_b", 224, 1000},   {"vgg_c", 224, 1000},     {"vgg_d", 224, 1000},     {"vgg_e", 224, 1000},
    {"googlenet", 224, 1000}, {"resnet18", 224, 1000}, {"resnet34", 224, 1000}, {"resnet50", 224, 1000},
    {"resnet101", 224, 1000}, {"resnet152", 224, 1000},
};

// A figure for one row: any of the output volume (the lecture's HxWxD),
// activation values, weights, and a free note. -1 / nullptr: not given.
struct RowFigure {
  const char* model;
  const char* row;
  const char* output;
  int64_t activations;
  int64_t weights;
  const char* note;
};

constexpr RowFigure kRowFigures[] = {
    // VGG-16, the lecture's per-layer table (activations per image, weights).
    {"vgg_d", "images", "224x224x3", 150528, 0, nullptr},
    {"vgg_d", "conv1_1", "224x224x64", 3211264, 1728, nullptr},
    {"vgg_d", "conv1_2", "224x224x64", 3211264, 36864, nullptr},
    {"vgg_d", "pool1", "112x112x64", 802816, 0, nullptr},
    {"vgg_d", "conv2_1", "112x112x128", 1605632, 73728, nullptr},
    {"vgg_d", "conv2_2", "112x112x128", 1605632, 147456, nullptr},
    {"vgg_d", "pool2", "56x56x128", 401408, 0, nullptr},
    {"vgg_d", "conv3_1", "56x56x256", 802816, 294912, nullptr},
    {"vgg_d", "conv3_2", "56x56x256", 802816, 589824, nullptr},
    {"vgg_d", "conv3_3", "56x56x256", 802816, 589824, nullptr},
    {"vgg_d", "pool3", "28x28x256", 200704, 0, nullptr},
    {"vgg_d", "conv4_1", "28x28x512", 401408, 1179648, nullptr},
    {"vgg_d", "conv4_2", "28x28x512", 401408, 2359296, nullptr},
    {"vgg_d", "conv4_3", "28x28x512", 401408, 2359296, nullptr},
    {"vgg_d", "pool4", "14x14x512", 100352, 0, nullptr},
    {"vgg_d", "conv5_1", "14x14x512", 100352, 2359296, nullptr},
    {"vgg_d", "conv5_2", "14x14x512", 100352, 2359296, nullptr},
    {"vgg_d", "conv5_3", "14x14x512", 100352, 2359296, nullptr},
    {"vgg_d", "pool5", "7x7x512", 25088, 0, nullptr},
    {"vgg_d", "fc6", "4096", 4096, 102760448, nullptr},
    {"vgg_d", "fc7", "4096", 4096, 16777216, nullptr},
    {"vgg_d", "fc8", "1000", 1000, 4096000, nullptr},
    // AlexNet, the lecture's table (output volumes; conv1's weights).
    {"alexnet", "images", "227x227x3", -1, -1, nullptr},
    {"alexnet", "conv1", "55x55x96", -1, 34848, "(~35K)"},
    {"alexnet", "pool1", "27x27x96", -1, 0, nullptr},
    {"alexnet", "norm1", "27x27x96", -1, 0, nullptr},
    {"alexnet", "conv2", "27x27x256", -1, -1, nullptr},
    {"alexnet", "pool2", "13x13x256", -1, 0, nullptr},
    {"alexnet", "norm2", "13x13x256", -1, 0, nullptr},
    {"alexnet", "conv3", "13x13x384", -1, -1, nullptr},
    {"alexnet", "conv4", "13x13x384", -1, -1, nullptr},
    {"alexnet", "conv5", "13x13x256", -1, -1, nullptr},
    {"alexnet", "pool3", "6x6x256", -1, 0, "(MAX POOL3)"},
    {"alexnet", "pool5", "6x6x256", -1, 0, "(MAX POOL3)"},
    {"alexnet", "fc6", "4096", -1, -1, nullptr},
    {"alexnet", "fc7", "4096", -1, -1, nullptr},
    {"alexnet", "fc8", "1000", -1, -1, nullptr},
    // LeNet-5 (lecture: C1 6@28x28 ... output 10).
    {"lenet5", "c1", "28x28x6", -1, -1, nullptr},
    {"lenet5", "s2", "14x14x6", -1, -1, nullptr},
    {"lenet5", "c3", "10x10x16", -1, -1, nullptr},
    {"lenet5", "s4", "5x5x16", -1, -1, nullptr},
    {"lenet5", "c5", "1x1x120", -1, -1, nullptr},
    {"lenet5", "f6", "84", -1, -1, nullptr},
    {"lenet5", "output", "10", -1, -1, nullptr},
};

// GoogLeNet's table: "params" in K = 1024 weights (biases left out, as the
// paper's figures imply), "ops" in millions of multiply-adds, per module.
// The paper's conv2 row is our conv2_reduce (1x1) and conv2 (3x3) together.
struct ModuleFigure {
  const char* row;
  const char* with;  // a row added to this one, or nullptr
  const char* paper;
};
constexpr ModuleFigure kGoogLeNetFigures[] = {
    {"conv1", nullptr, "2.7K/34M (an erratum)"},
    {"conv2", "conv2_reduce", "112K/360M"},
    {"inception_3a", nullptr, "159K/128M"},
    {"inception_3b", nullptr, "380K/304M"},
    {"inception_4a", nullptr, "364K/73M"},
    {"inception_4b", nullptr, "437K/88M"},
    {"inception_4c", nullptr, "463K/100M"},
    {"inception_4d", nullptr, "580K/119M"},
    {"inception_4e", nullptr, "840K/170M"},
    {"inception_5a", nullptr, "1072K/54M"},
    {"inception_5b", nullptr, "1388K/71M"},
    {"loss3", nullptr, "1000K/1M"},
};

// Totals: the papers' parameter counts and multiply-adds.
struct TotalFigure {
  const char* model;
  const char* note;
};
constexpr TotalFigure kTotalFigures[] = {
    {"lenet5", "lecture: 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706 parameters"},
    {"alexnet", "paper: 60M parameters (single tower 62,378,344; CONV2/4/5 in 2 groups 60,965,224)"},
    {"vgg_a", "paper: 133M parameters"},
    {"vgg_a_lrn", "paper: 133M parameters"},
    {"vgg_b", "paper: 133M parameters"},
    {"vgg_c", "paper: 134M parameters"},
    {"vgg_d", "paper: 138M parameters. Lecture: \"24M * 4 bytes ~= 93MB / image\", which does not follow "
              "from its own rows: they sum to 15,237,608 values = 60,950,432 bytes (58.1 MiB) forward, "
              "about twice that with the backward pass"},
    {"vgg_e", "paper: 144M parameters"},
    {"googlenet", "paper: about 5-7M parameters, 12x fewer than AlexNet, 2x more compute"},
    {"resnet18", "paper: 1.8e9 FLOPs (multiply-adds)"},
    {"resnet34", "paper: 3.6e9 FLOPs (multiply-adds)"},
    {"resnet50", "paper: 3.8e9 FLOPs (multiply-adds); v1.5 (stride on the 3x3): 4.089e9 exact"},
    {"resnet101", "paper: 7.6e9 FLOPs (multiply-adds); v1.5: 7.801e9 exact"},
    {"resnet152", "paper: 11.3e9 FLOPs (multiply-adds); v1.5: 11.514e9 exact"},
};

std::string CanonicalModel(absl::string_view model) {
  if (model == "vgg11") return "vgg_a";
  if (model == "vgg13") return "vgg_b";
  if (model == "vgg16") return "vgg_d";
  if (model == "vgg19") return "vgg_e";
  return std::string(model);
}

// The lecture's figures apply only at the paper's input size and classes.
bool AtPaperSetting(const ModelSummary& s) {
  const std::string model = CanonicalModel(s.model);
  for (const PaperSetting& p : kPaperSettings) {
    if (model == p.model) {
      return s.input.rank() == 3 && s.input[1] == p.image_size && s.input[2] == p.image_size &&
             s.num_classes == p.classes;
    }
  }
  return false;
}

// "224x224x64" (the lecture's H x W x D) for [C,H,W]; "4096" for [4096].
std::string Volume(const Shape& s) {
  if (s.rank() == 3) return absl::StrFormat("%dx%dx%d", s[1], s[2], s[0]);
  return absl::StrJoin(s.dims(), "x");
}

std::string RowFigureText(const ModelSummary& s, const LayerRow& row) {
  const std::string model = CanonicalModel(s.model);
  if (model == "googlenet") {
    for (const ModuleFigure& f : kGoogLeNetFigures) {
      if (row.name != f.row) continue;
      int64_t weights = row.weights, ops = row.multiply_adds;
      for (const LayerRow& other : s.rows) {
        if (f.with != nullptr && other.name == f.with) {
          weights += other.weights;
          ops += other.multiply_adds;
        }
      }
      return absl::StrFormat("paper %s, ours %.1fK/%.0fM%s", f.paper, weights / 1024.0, ops / 1e6,
                             f.with ? absl::StrCat(" with ", f.with) : "");
    }
    return "";
  }
  for (const RowFigure& f : kRowFigures) {
    if (model != f.model || row.name != f.row) continue;
    std::vector<std::string> parts;
    bool same = true;
    if (f.output != nullptr) {
      parts.push_back(f.output);
      same &= Volume(row.output) == f.output;
    }
    if (f.activations >= 0) {
      parts.push_back(WithThousands(f.activations));
      same &= row.activations == f.activations;
    }
    if (f.weights >= 0) {
      parts.push_back(absl::StrCat("w ", WithThousands(f.weights)));
      same &= row.weights == f.weights;
    }
    std::string text = absl::StrJoin(parts, ", ");
    if (f.note != nullptr) absl::StrAppend(&text, " ", f.note);
    absl::StrAppend(&text, same ? " (same)" : " (DIFFERS)");
    return text;
  }
  return "";
}

// "58.1 MiB", "34.7 KiB".
std::string Binary(int64_t bytes) {
  if (bytes >= (int64_t{1} << 30)) return absl::StrFormat("%.1f GiB", bytes / 1073741824.0);
  if (bytes >= (int64_t{1} << 20)) return absl::StrFormat("%.1f MiB", bytes / 1048576.0);
  return absl::StrFormat("%.1f KiB", bytes / 1024.0);
}

}  // namespace

std::string WithThousands(int64_t value) {
  std::string digits = absl::StrCat(value < 0 ? -value : value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

int64_t PaperNumClasses(absl::string_view model) {
  if (model == "lenet5" || absl::StartsWith(model, "cifar_")) return 10;
  // A spec model's class count is its last fc's units.
  if (absl::StartsWith(model, kArchPrefix)) {
    auto spec = ParseArchSpec(model.substr(sizeof(kArchPrefix) - 1));
    if (spec.ok()) return ArchClasses(*spec);
  }
  return 1000;
}

absl::StatusOr<ModelSummary> SummarizeGraph(const Graph& graph) {
  if (!graph.status().ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot summarise a graph with a build error: ", graph.status().message()));
  }
  // The batch: the images placeholder's first dimension.
  const Node* images = graph.FindNode("images");
  if (images == nullptr || images->op() != "Placeholder") {
    images = nullptr;
    for (const auto& n : graph.nodes()) {
      if (n->op() == "Placeholder" && n->output_spec(0).dtype == DType::kFloat32) {
        images = n.get();
        break;
      }
    }
  }
  const Shape& image_shape = images ? images->output_spec(0).shape : Shape{};
  const int64_t batch = image_shape.rank() > 0 ? image_shape[0] : 1;

  // The forward model: what the losses and predictions read, when the graph
  // has any (so gradient, optimizer and clipping nodes drop out whatever
  // their names); otherwise every node outside the known training scopes.
  std::set<const Node*> forward;
  std::vector<const Node*> stack;
  const Node* argmax = nullptr;
  for (const auto& n : graph.nodes()) {
    if (n->op() == "SoftmaxCrossEntropyWithLogits" || n->op() == "ArgMax") {
      if (n->op() == "ArgMax" && argmax == nullptr) argmax = n.get();
      for (const Output& in : n->inputs()) stack.push_back(in.node);
    }
  }
  const bool by_reach = !stack.empty();
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (n == nullptr || !forward.insert(n).second) continue;
    for (const Output& in : n->inputs()) stack.push_back(in.node);
  }
  if (images != nullptr) forward.insert(images);

  // Forward layers in order of first appearance.
  std::vector<Layer> layers;
  std::map<std::string, size_t> index;
  for (const auto& n : graph.nodes()) {
    if (!IsForwardName(n->name()) || (by_reach && !forward.count(n.get()))) continue;
    const std::string layer = LayerOf(n->name());
    if (IsSkippedLayer(layer)) continue;
    auto [it, added] = index.emplace(layer, layers.size());
    if (added) layers.push_back({layer, {}});
    layers[it->second].nodes.push_back(n.get());
  }

  ModelSummary s;
  s.model = "graph";
  if (images != nullptr) s.input = PerImage(image_shape);
  for (const Layer& layer : layers) {
    LayerRow row;
    row.name = layer.name;
    std::vector<const Node*> compute;
    const Node* input = nullptr;
    for (const Node* n : layer.nodes) {
      if (n->op() == "Variable") {
        if (!n->Attr<bool>("trainable").value_or(true)) continue;
        const int64_t count = n->output_spec(0).shape.num_elements();
        (absl::EndsWith(n->name(), "weights") ? row.weights : row.biases) += count;
      } else if (n == images) {
        input = n;
      } else if (!IsSource(*n) && n->num_outputs() > 0) {
        compute.push_back(n);
      }
      row.multiply_adds += MultiplyAdds(*n, batch);
    }
    const bool folded = !compute.empty() && std::all_of(compute.begin(), compute.end(), [](const Node* n) {
      return IsFoldedOp(n->op());
    });
    if (input == nullptr && (compute.empty() || folded)) {
      // No row: its parameters (if any) go to the previous layer.
      if (!s.rows.empty()) {
        s.rows.back().weights += row.weights;
        s.rows.back().biases += row.biases;
        s.rows.back().multiply_adds += row.multiply_adds;
      } else if (row.weights + row.biases > 0) {
        s.rows.push_back(row);
      }
      continue;
    }
    const Node* last = compute.empty() ? input : compute.back();
    row.op = compute.empty() ? "input" : Describe(compute);
    row.output = PerImage(last->output_spec(0).shape);
    row.activations = row.output.num_elements();
    s.rows.push_back(std::move(row));
  }
  for (const LayerRow& row : s.rows) {
    s.total_weights += row.weights;
    s.total_biases += row.biases;
    s.total_multiply_adds += row.multiply_adds;
    s.forward_activation_values += row.activations;
  }
  if (argmax != nullptr && argmax->inputs()[0].shape().rank() == 2) {
    s.num_classes = argmax->inputs()[0].shape()[1];
  } else {
    s.num_classes = s.rows.empty() ? 0 : s.rows.back().output.num_elements();
  }
  s.forward_bytes = 4 * s.forward_activation_values;
  s.training_bytes_estimate = 2 * s.forward_bytes + 3 * 4 * s.total_parameters();
  return s;
}

absl::StatusOr<ModelSummary> Summarize(absl::string_view model, const ModelConfig& config) {
  ModelConfig one = config;
  one.batch_size = 1;
  Graph graph;
  auto built = BuildModel(model, graph, one);
  if (!built.ok()) return built.status();
  auto s = SummarizeGraph(graph);
  if (!s.ok()) return s.status();
  s->model = std::string(model);
  s->num_classes = one.num_classes;
  return s;
}

std::string FormatSummary(const ModelSummary& s) {
  const bool lecture = AtPaperSetting(s);
  const std::vector<std::string> header = {"layer", "op", "output", "activations", "weights", "biases",
                                           "multiply-adds", "lecture / paper"};
  std::vector<std::vector<std::string>> cells;
  bool any_figure = false;
  for (const LayerRow& row : s.rows) {
    std::string figure = lecture ? RowFigureText(s, row) : "";
    any_figure |= !figure.empty();
    cells.push_back({row.name, row.op, Volume(row.output), WithThousands(row.activations),
                     WithThousands(row.weights), WithThousands(row.biases), WithThousands(row.multiply_adds),
                     figure});
  }
  cells.push_back({"total", "", "", WithThousands(s.forward_activation_values), WithThousands(s.total_weights),
                   WithThousands(s.total_biases), WithThousands(s.total_multiply_adds), ""});
  const size_t columns = any_figure ? header.size() : header.size() - 1;
  std::vector<size_t> width(columns, 0);
  for (size_t c = 0; c < columns; ++c) {
    width[c] = header[c].size();
    for (const auto& r : cells) width[c] = std::max(width[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (size_t c = 0; c < columns; ++c) {
      const bool left = c < 3 || c == 7;
      const std::string pad(width[c] - r[c].size(), ' ');
      absl::StrAppend(&out, c ? "  " : "", left ? r[c] + pad : pad + r[c]);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = absl::StrFormat("model %s: input %s, %d classes\n", s.model, Volume(s.input), s.num_classes);
  out += line(header);
  size_t total_width = 0;
  for (size_t c = 0; c < columns; ++c) total_width += width[c] + (c ? 2 : 0);
  const std::string rule(total_width, '-');
  out += rule + "\n";
  for (size_t i = 0; i + 1 < cells.size(); ++i) out += line(cells[i]);
  out += rule + "\n";
  out += line(cells.back());
  out += absl::StrFormat("parameters: %s (weights %s + biases and BN scales/shifts %s)\n",
                         WithThousands(s.total_parameters()), WithThousands(s.total_weights),
                         WithThousands(s.total_biases));
  out += absl::StrFormat("multiply-adds per image: %s (%s)\n", WithThousands(s.total_multiply_adds),
                         s.total_multiply_adds >= 100000000 ? absl::StrFormat("%.3fe9", s.total_multiply_adds / 1e9)
                                                            : absl::StrFormat("%.3fM", s.total_multiply_adds / 1e6));
  out += absl::StrFormat("forward activations per image: %s values = %s bytes (%s)\n",
                         WithThousands(s.forward_activation_values), WithThousands(s.forward_bytes),
                         Binary(s.forward_bytes));
  out += absl::StrFormat(
      "training estimate, batch 1: %s bytes (%s): activations and their gradients, plus parameters, "
      "their gradients and momentum\n",
      WithThousands(s.training_bytes_estimate), Binary(s.training_bytes_estimate));
  if (lecture) {
    const std::string model = CanonicalModel(s.model);
    for (const TotalFigure& f : kTotalFigures) {
      if (model == f.model) out += absl::StrCat(f.note, "\n");
    }
  }
  return out;
}

}  // namespace strata::zoo
