#include "runtime/simplify.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"
#include "ops/registry.h"

namespace strata::runtime {
namespace {

// Whether the node's outputs are a function of its inputs and attributes.
bool IsPure(const Node& n) {
  const OpDef& def = n.def();
  return !def.is_source && !def.writes_inputs && !def.stateful && n.num_outputs() > 0;
}

// What makes two nodes twins: op, attributes (tensors by their bytes),
// inputs and control inputs, the inputs already mapped into the new graph.
std::string TwinKey(const Node& n, const std::vector<Output>& inputs, const std::vector<Node*>& controls) {
  std::string key = n.op();
  for (const auto& [name, value] : n.attrs().values()) {
    absl::StrAppend(&key, "|", name, "=");
    if (const Tensor* t = std::get_if<Tensor>(&value)) {
      absl::StrAppend(&key, t->spec().ToString(), ":");
      key.append(static_cast<const char*>(t->raw_data()), t->num_bytes());
    } else {
      absl::StrAppend(&key, AttrValueToString(value));
    }
  }
  for (const Output& in : inputs) absl::StrAppend(&key, "|", in.node->id(), ":", in.index);
  for (const Node* c : controls) absl::StrAppend(&key, "|^", c->id());
  return key;
}

int64_t Bytes(const TensorSpec& s) { return s.shape.num_elements() * SizeOf(s.dtype); }

}  // namespace

Output SimplifiedGraph::Map(const Output& o) const {
  auto it = outputs_of.find(o.node);
  return it != outputs_of.end() ? it->second[o.index] : o;
}

Node* SimplifiedGraph::Map(const Node* n) const {
  auto it = node_of.find(n);
  return it != node_of.end() ? it->second : const_cast<Node*>(n);
}

absl::StatusOr<SimplifiedGraph> SimplifyGraph(const std::vector<const Node*>& order, const PassOptions& options,
                                              const NodeEvaluator& evaluate) {
  SimplifiedGraph result;
  if (!options.fold_constants && !options.merge_duplicates) return result;
  auto graph = std::make_unique<Graph>();
  std::unordered_map<std::string, Node*> twins;  // TwinKey -> the first such node
  for (const Node* n : order) {
    std::vector<Output> inputs;
    for (const Output& in : n->inputs()) inputs.push_back(result.outputs_of.at(in.node)[in.index]);
    std::vector<Node*> controls;
    for (const Node* c : n->control_inputs()) controls.push_back(result.node_of.at(c));
    std::vector<Output>& outputs = result.outputs_of[n];

    std::string twin_key;
    if (options.merge_duplicates && (IsPure(*n) || n->op() == "Const")) {
      twin_key = TwinKey(*n, inputs, controls);
      if (auto twin = twins.find(twin_key); twin != twins.end()) {
        for (int k = 0; k < n->num_outputs(); ++k) outputs.push_back(twin->second->output(k));
        result.node_of[n] = twin->second;
        ++result.merged;
        continue;
      }
    }

    bool all_constant = !inputs.empty();
    int64_t input_bytes = 0;
    for (const Output& in : inputs) {
      all_constant = all_constant && in.node->op() == "Const";
      input_bytes += Bytes(in.spec());
    }
    Node* copy = nullptr;
    if (options.fold_constants && IsPure(*n) && all_constant && n->num_outputs() == 1 &&
        Bytes(n->output_spec(0)) <= std::max(input_bytes, kMaxFoldedGrowthBytes)) {
      std::vector<Tensor> values;
      for (const Output& in : inputs) {
        STRATA_ASSIGN_OR_RETURN(Tensor v, in.node->Attr<Tensor>("value"));
        values.push_back(std::move(v));
      }
      auto folded = evaluate(*n, values);
      if (!folded.ok()) {
        return absl::Status(folded.status().code(),
                            absl::StrCat("folding ", n->Describe(), " into a constant: ", folded.status().message()));
      }
      STRATA_ASSIGN_OR_RETURN(copy, graph->AddNodeExact(ops::Def("Const"), n->name(), {},
                                                        {{"value", std::move(folded->at(0))}}, controls));
      ++result.folded;
    } else {
      STRATA_ASSIGN_OR_RETURN(copy, graph->AddNodeExact(n->def(), n->name(), inputs, n->attrs(), controls));
    }
    for (int k = 0; k < n->num_outputs(); ++k) outputs.push_back(copy->output(k));
    result.node_of[n] = copy;
    if (!twin_key.empty()) twins[twin_key] = copy;
  }
  if (result.folded == 0 && result.merged == 0) return SimplifiedGraph{};
  result.graph = std::move(graph);
  return result;
}

}  // namespace strata::runtime
