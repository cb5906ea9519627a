// Reverse-mode automatic differentiation on the graph: adds the nodes that
// compute the gradient of a scalar loss with respect to chosen outputs
// (usually variables), using the gradient rule registered with each op.
#ifndef STRATA_AUTODIFF_GRADIENTS_H_
#define STRATA_AUTODIFF_GRADIENTS_H_

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace strata::autodiff {

// d(loss)/d(x) for each x in `wrt`, in the same order; an invalid Output
// where the loss does not depend on x. Gradient nodes are named under
// "gradients/<forward node>". Contributions of a value used several times
// are summed. Errors: a non-scalar loss, an op on the path without a rule.
absl::StatusOr<std::vector<Output>> Gradients(Graph& g, Output loss, const std::vector<Output>& wrt);

// Called during the sweep as soon as the gradient of wrt[index] is final, and
// before the gradient nodes of anything earlier in the graph are added: nodes
// the callback adds get lower ids than those, so the runtime (which runs ready
// nodes in id order) runs them as soon as `grad` is computed, while the rest
// of the backward pass goes on. Data-parallel training starts its gradient
// all-reduce this way. Not called for a wrt entry without a gradient; an error
// stops Gradients.
using GradientReadyFn = std::function<absl::Status(int index, const Output& grad)>;
absl::StatusOr<std::vector<Output>> Gradients(Graph& g, Output loss, const std::vector<Output>& wrt,
                                              const GradientReadyFn& on_ready);

}  // namespace strata::autodiff

#endif  // STRATA_AUTODIFF_GRADIENTS_H_
