#include "runtime/fusion.h"

#include <map>
#include <utility>

namespace strata::runtime {

Fusions FindFusions(const std::vector<const Node*>& order, const std::vector<Output>& fetches,
                    const PassOptions& options) {
  Fusions fusions;
  if (!options.fuse_conv_relu) return fusions;
  // Readers of each (node, output) among the scheduled nodes, fetches included.
  std::map<std::pair<const Node*, int>, int> readers;
  for (const Node* n : order) {
    for (const Output& in : n->inputs()) ++readers[{in.node, in.index}];
  }
  for (const Output& o : fetches) ++readers[{o.node, o.index}];
  for (const Node* n : order) {
    if (n->op() != "Relu" || n->inputs().size() != 1) continue;
    const Output& in = n->inputs()[0];
    if (in.node->op() != "Conv2D" || in.index != 0) continue;
    if (readers[{in.node, 0}] != 1) continue;  // someone else needs the pre-activation values
    fusions.activation_of[in.node] = "relu";
    fusions.fused_into[n] = in.node;
  }
  return fusions;
}

}  // namespace strata::runtime
