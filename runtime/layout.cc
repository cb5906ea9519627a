#include "runtime/layout.h"

#include <algorithm>
#include <map>

namespace strata::runtime {

using Value = std::pair<const Node*, int>;

bool TakesBlockedInput(const Node& node, int i) {
  const OpDef& def = node.def();
  switch (def.layouts) {
    case LayoutSupport::kPlainOnly: return false;
    case LayoutSupport::kAny:
      return std::find(def.plain_inputs.begin(), def.plain_inputs.end(), i) == def.plain_inputs.end();
    case LayoutSupport::kElementwise:
      if (node.num_outputs() != 1) return false;
      for (const Output& in : node.inputs()) {
        if (in.spec() != node.output_spec(0)) return false;
      }
      return true;
  }
  return false;
}

std::set<Value> BlockableValues(const std::vector<const Node*>& order, const std::vector<Output>& fetches,
                                const Fusions& fusions) {
  // A fused node's output is its convolution's buffer.
  auto stored = [&](Value v) -> Value {
    const Node* by = fusions.ComputedBy(v.first);
    return by == v.first ? v : Value{by, 0};
  };
  std::set<Value> candidates, refused;
  for (const Node* n : order) {
    const OpDef& def = n->def();
    if (!fusions.fused_into.count(n) && !def.is_source && !def.aliases_input &&
        def.layouts != LayoutSupport::kPlainOnly) {
      for (int k = 0; k < n->num_outputs(); ++k) {
        if (n->output_spec(k).dtype == DType::kFloat32) candidates.insert({n, k});
      }
    }
    if (fusions.fused_into.count(n)) continue;  // runs inside its producer
    for (int i = 0; i < static_cast<int>(n->inputs().size()); ++i) {
      const Output& in = n->inputs()[i];
      if (!TakesBlockedInput(*n, i)) refused.insert(stored({in.node, in.index}));
    }
  }
  for (const Output& o : fetches) refused.insert(stored({o.node, o.index}));
  std::set<Value> blockable;
  for (const Value& v : candidates) {
    if (!refused.count(v)) blockable.insert(v);
  }
  return blockable;
}

std::vector<KeptWeights> FindKeptWeights(const std::vector<const Node*>& order, const std::vector<Output>& fetches) {
  // Every reader of each value: (node, input index).
  std::map<Value, std::vector<std::pair<const Node*, int>>> readers;
  for (const Node* n : order) {
    for (int i = 0; i < static_cast<int>(n->inputs().size()); ++i) {
      readers[{n->inputs()[i].node, n->inputs()[i].index}].push_back({n, i});
    }
  }
  std::set<Value> fetched;
  for (const Output& o : fetches) fetched.insert({o.node, o.index});
  auto read_only_by = [&](const Node* value_of, const Node* reader) {
    if (fetched.count({value_of, 0})) return false;
    for (const auto& [n, i] : readers[{value_of, 0}]) {
      if (n != reader) return false;
    }
    return true;
  };
  std::vector<KeptWeights> kept;
  for (const Node* v : order) {
    if (v->op() != "Variable" || v->output_spec(0).dtype != DType::kFloat32 || fetched.count({v, 0})) continue;
    KeptWeights k;
    k.variable = v;
    const Node* update = nullptr;
    bool ok = true;
    for (const auto& [n, i] : readers[{v, 0}]) {
      if (n->op() == "Conv2D" && i == 1 && k.conv == nullptr) {
        k.conv = n;
      } else if (n->op() == "Conv2DBackpropInput" && i == 1) {
        continue;
      } else if (n->def().elementwise_update && i == 0 && update == nullptr) {
        update = n;
      } else {
        ok = false;
      }
    }
    if (!ok || k.conv == nullptr || update == nullptr || update->inputs().size() < 2) continue;
    const Output& grad = update->inputs()[1];
    if (grad.node->op() != "Conv2DBackpropFilter" || !read_only_by(grad.node, update)) continue;
    k.gradient = grad.node;
    for (size_t i = 2; i < update->inputs().size() && ok; ++i) {
      const Output& in = update->inputs()[i];
      if (in.spec() != v->output_spec(0)) continue;  // a scalar: learning rate, step
      ok = in.node->op() == "Variable" && read_only_by(in.node, update);
      k.slots.push_back(in.node);
    }
    if (ok) kept.push_back(std::move(k));
  }
  return kept;
}

}  // namespace strata::runtime
