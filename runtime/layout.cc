#include "runtime/layout.h"

#include <algorithm>

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

}  // namespace strata::runtime
