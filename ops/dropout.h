// Inverted dropout, with a mask that is a pure function of the run's seed and
// step and the node's name (no generator state to save or restore).
#ifndef STRATA_OPS_DROPOUT_H_
#define STRATA_OPS_DROPOUT_H_

#include "graph/graph.h"

namespace strata::ops {

// Inverted dropout: in training runs each element is zeroed with probability
// `rate` and the survivors scaled by 1/(1-rate); inference runs pass x through.
// The mask is a deterministic function of (RunOptions.seed, RunOptions.step,
// the node's name), so a run is reproducible and resumable.
//
// The node ("Dropout") has a second output, the mask (float32 of x's shape,
// 0 or 1/(1-rate); all ones in inference runs), which the gradient uses:
// dx = dy * mask. A rate outside [0, 1) is a build error naming the node.
Output Dropout(Graph& g, Output x, double rate, absl::string_view name = "");

}  // namespace strata::ops

#endif  // STRATA_OPS_DROPOUT_H_
