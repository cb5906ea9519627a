#include "viz/receptive_field.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace strata::viz {
namespace {

bool InLayer(const std::string& name, absl::string_view layer) {
  return name == layer || absl::StartsWith(name, absl::StrCat(layer, "/"));
}

// A window of size k, stride s and padding p over a field `in`.
ReceptiveField Window(const ReceptiveField& in, int64_t k, int64_t s, int64_t p) {
  ReceptiveField out;
  out.size = in.size + (k - 1) * in.jump;
  out.jump = in.jump * s;
  out.start = in.start + ((k - 1) / 2.0 - p) * in.jump;
  return out;
}

}  // namespace

std::map<std::string, ReceptiveField> ComputeReceptiveFields(const Graph& graph) {
  std::map<std::string, ReceptiveField> fields;
  bool have_images = false;
  auto field_of = [&](const Output& o) -> const ReceptiveField* {
    if (!o.valid()) return nullptr;
    auto it = fields.find(o.node->name());
    return it == fields.end() ? nullptr : &it->second;
  };
  for (const auto& node_ptr : graph.nodes()) {
    const Node& n = *node_ptr;
    const std::string& op = n.op();
    if (op == "Placeholder") {
      if (!have_images && n.num_outputs() == 1 && n.output_spec(0).dtype == DType::kFloat32 &&
          n.output_spec(0).shape.rank() == 4) {
        fields[n.name()] = ReceptiveField{1, 1, 0};
        have_images = true;
      }
      continue;
    }
    if (op == "Variable" || op == "Const") continue;
    const ReceptiveField* in0 = n.inputs().empty() ? nullptr : field_of(n.inputs()[0]);
    if ((op == "Conv2D") && in0 != nullptr && n.inputs().size() > 1 && n.inputs()[1].valid() &&
        n.inputs()[1].shape().rank() == 4) {
      const Shape& w = n.inputs()[1].shape();
      const int64_t k = std::max(w[2], w[3]);
      fields[n.name()] = Window(*in0, k, n.Attr<int64_t>("stride").value_or(1), n.Attr<int64_t>("pad").value_or(0));
      continue;
    }
    if ((op == "MaxPool" || op == "AvgPool") && in0 != nullptr) {
      fields[n.name()] = Window(*in0, n.Attr<int64_t>("size").value_or(1), n.Attr<int64_t>("stride").value_or(1),
                                n.Attr<int64_t>("pad").value_or(0));
      continue;
    }
    if (op == "Reshape" && in0 != nullptr && n.inputs()[0].shape().rank() == 4 && n.num_outputs() == 1 &&
        n.output_spec(0).shape.rank() < 4) {
      const Shape& s = n.inputs()[0].shape();
      fields[n.name()] = Window(*in0, std::max(s[2], s[3]), 1, 0);
      continue;
    }
    // Anything else: the widest field among its inputs.
    const ReceptiveField* best = nullptr;
    for (const Output& in : n.inputs()) {
      const ReceptiveField* f = field_of(in);
      if (f != nullptr && (best == nullptr || f->size > best->size)) best = f;
    }
    if (best != nullptr) fields[n.name()] = *best;
  }
  return fields;
}

absl::StatusOr<ReceptiveField> LayerReceptiveField(const Graph& graph, absl::string_view layer) {
  const std::map<std::string, ReceptiveField> fields = ComputeReceptiveFields(graph);
  const ReceptiveField* best = nullptr;
  for (const auto& [name, f] : fields) {
    if (InLayer(name, layer) && (best == nullptr || f.size > best->size)) best = &f;
  }
  if (best == nullptr) {
    return absl::NotFoundError(absl::StrCat("no node of layer '", layer, "' depends on the input images"));
  }
  return *best;
}

absl::StatusOr<Node*> LayerOutputNode(const Graph& graph, absl::string_view layer) {
  if (Node* n = graph.FindNode(layer); n != nullptr && n->op() != "Variable" && n->op() != "Const") return n;
  Node* last = nullptr;
  for (const auto& n : graph.nodes()) {
    if (InLayer(n->name(), layer) && n->op() != "Variable" && n->op() != "Const") last = n.get();
  }
  if (last == nullptr) return absl::NotFoundError(absl::StrCat("the graph has no layer '", layer, "'"));
  return last;
}

}  // namespace strata::viz
