// Receptive fields computed from a graph: how many input pixels (along one
// side) can influence one value of each node. Composed node by node from the
// images placeholder: a convolution or pooling window of size k and stride s
// on an input with field r and jump j (the input-pixel distance between two
// neighbouring values) gives r + (k - 1) * j and jump j * s; padding moves the
// window (see `start`) but does not change its size. Flattening a [N,C,H,W]
// tensor (before a fully connected layer) is a window over all of H x W.
// Elementwise ops, concatenations, additions, batch norm, LRN and the like
// take the largest field of their inputs. Variables and constants have none.
#ifndef STRATA_VIZ_RECEPTIVE_FIELD_H_
#define STRATA_VIZ_RECEPTIVE_FIELD_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graph/graph.h"

namespace strata::viz {

struct ReceptiveField {
  int64_t size = 0;   // pixels along one side; 0: does not depend on the images
  int64_t jump = 1;   // input pixels between neighbouring output positions
  // Input coordinate of the centre of output position 0's field (can be
  // negative: the window starts in the padding). Position p is centred at
  // start + p * jump.
  double start = 0;
};

// Every node's field, by node name (nodes without one are absent). The
// first float rank-4 placeholder (the zoo's "images") has size 1.
std::map<std::string, ReceptiveField> ComputeReceptiveFields(const Graph& graph);

// The field of a layer: the largest over the nodes named `layer` or
// "<layer>/...". NotFound when no such node has a field.
absl::StatusOr<ReceptiveField> LayerReceptiveField(const Graph& graph, absl::string_view layer);

// The node whose output is a layer's output: the node named `layer`, else the
// last node (in graph order) named "<layer>/..." that is not a Variable or
// Const ("c1/relu" for LeNet-5's c1). NotFound otherwise.
absl::StatusOr<Node*> LayerOutputNode(const Graph& graph, absl::string_view layer);

}  // namespace strata::viz

#endif  // STRATA_VIZ_RECEPTIVE_FIELD_H_
