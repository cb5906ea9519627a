// A graph as Graphviz DOT: one box per node with its name, op, output shape
// and (for ops that read Variables) its parameter count; the nodes of a
// layer (sharing a first name component, as zoo::Summarize groups them) drawn
// inside a cluster labelled with the layer's name. Variables are folded into
// the ops that read them unless asked for.
#ifndef STRATA_VIZ_DOT_H_
#define STRATA_VIZ_DOT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "graph/graph.h"

namespace strata::viz {

struct DotOptions {
  // Nodes under "gradients/", "sgd/", "optimizer/", "gradient_check/" and
  // the Apply* update ops: left out unless set.
  bool training_nodes = false;
  bool variables = false;  // draw Variable nodes and their edges
  std::string name = "strata";  // the digraph's name
};

std::string GraphToDot(const Graph& graph, const DotOptions& options = {});

// True for a node GraphToDot leaves out when training_nodes is false.
bool IsTrainingNode(const Node& node);

}  // namespace strata::viz

#endif  // STRATA_VIZ_DOT_H_
