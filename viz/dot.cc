#include "viz/dot.h"

#include <map>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace strata::viz {
namespace {

// A DOT quoted string.
std::string Quote(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string LayerOf(const std::string& name) {
  const size_t slash = name.find('/');
  return slash == std::string::npos ? name : name.substr(0, slash);
}

std::string Thousands(int64_t v) {
  std::string digits = absl::StrCat(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return v < 0 ? "-" + out : out;
}

}  // namespace

bool IsTrainingNode(const Node& node) {
  const std::string& n = node.name();
  return absl::StartsWith(n, "gradients/") || absl::StartsWith(n, "sgd/") || absl::StartsWith(n, "optimizer/") ||
         absl::StartsWith(n, "gradient_check/") || absl::StartsWith(node.op(), "Apply") ||
         absl::EndsWith(node.op(), "Grad") || absl::StartsWith(node.op(), "Conv2DBackprop");
}

std::string GraphToDot(const Graph& graph, const DotOptions& options) {
  std::vector<const Node*> shown;
  std::set<const Node*> shown_set;
  for (const auto& n : graph.nodes()) {
    if (!options.training_nodes && IsTrainingNode(*n)) continue;
    if (!options.variables && n->op() == "Variable") continue;
    shown.push_back(n.get());
    shown_set.insert(n.get());
  }
  // Layers in order of first appearance.
  std::vector<std::string> layer_order;
  std::map<std::string, std::vector<const Node*>> layers;
  for (const Node* n : shown) {
    const std::string layer = LayerOf(n->name());
    if (!layers.count(layer)) layer_order.push_back(layer);
    layers[layer].push_back(n);
  }
  std::string out = absl::StrCat("digraph ", Quote(options.name), " {\n", "  rankdir=TB;\n",
                                  "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];\n",
                                  "  edge [fontsize=9];\n");
  auto node_line = [&](const Node* n, absl::string_view indent) {
    std::vector<std::string> lines = {n->name(), n->op()};
    std::vector<std::string> shapes;
    for (const TensorSpec& s : n->output_specs()) shapes.push_back(s.shape.ToString());
    if (!shapes.empty()) lines.push_back(absl::StrJoin(shapes, ", "));
    int64_t params = 0;
    if (n->op() == "Variable") {
      for (const TensorSpec& s : n->output_specs()) params += s.shape.num_elements();
    } else {
      for (const Output& in : n->inputs()) {
        if (in.valid() && in.node->op() == "Variable") params += in.shape().num_elements();
      }
    }
    if (params > 0) lines.push_back(absl::StrCat(Thousands(params), " params"));
    absl::StrAppend(&out, indent, Quote(n->name()), " [label=", Quote(absl::StrJoin(lines, "\n")),
                    n->op() == "Variable" ? ", shape=ellipse" : "", "];\n");
  };
  int cluster = 0;
  for (const std::string& layer : layer_order) {
    const auto& nodes = layers[layer];
    if (nodes.size() == 1 && nodes[0]->name() == layer) {
      node_line(nodes[0], "  ");
      continue;
    }
    absl::StrAppend(&out, "  subgraph ", Quote(absl::StrCat("cluster_", cluster++)), " {\n    label=", Quote(layer),
                    ";\n    style=dashed;\n");
    for (const Node* n : nodes) node_line(n, "    ");
    out += "  }\n";
  }
  for (const Node* n : shown) {
    for (const Output& in : n->inputs()) {
      if (!in.valid() || !shown_set.count(in.node)) continue;
      absl::StrAppend(&out, "  ", Quote(in.node->name()), " -> ", Quote(n->name()),
                      in.node->num_outputs() > 1 ? absl::StrCat(" [label=", Quote(absl::StrCat(in.index)), "]") : "",
                      ";\n");
    }
    for (const Node* c : n->control_inputs()) {
      if (shown_set.count(c)) absl::StrAppend(&out, "  ", Quote(c->name()), " -> ", Quote(n->name()), " [style=dotted];\n");
    }
  }
  out += "}\n";
  return out;
}

}  // namespace strata::viz
