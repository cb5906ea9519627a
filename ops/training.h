// In-place optimizer updates. They write their variable inputs, so the
// runtime schedules them after every node that reads those variables.
#ifndef STRATA_OPS_TRAINING_H_
#define STRATA_OPS_TRAINING_H_

#include "graph/graph.h"

namespace strata::ops {

// PyTorch's SGD, the framework's reference (DESIGN.md, "Momentum"):
//   g = grad + weight_decay * w
//   v = momentum * v + g
//   w -= lr * (nesterov ? g + momentum * v : v)
// With momentum 0, `velocity` is unused but still required (a zero slot).
// `lr` is a scalar variable, so schedules change it without recompiling.
Node* ApplySGD(Graph& g, Output var, Output grad, Output velocity, Output lr, double momentum,
               double weight_decay, bool nesterov, absl::string_view name = "apply_sgd");

}  // namespace strata::ops

#endif  // STRATA_OPS_TRAINING_H_
