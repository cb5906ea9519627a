// Arithmetic: elementwise Add/Sub/Mul (equal shapes, or a scalar second
// operand), reductions to a scalar, MatMul, BiasAdd, ArgMax.
#ifndef STRATA_OPS_MATH_H_
#define STRATA_OPS_MATH_H_

#include "graph/graph.h"

namespace strata::ops {

Output Add(Graph& g, Output a, Output b, absl::string_view name = "");
Output Sub(Graph& g, Output a, Output b, absl::string_view name = "");
Output Mul(Graph& g, Output a, Output b, absl::string_view name = "");
// Sum or mean of all elements: a scalar.
Output Sum(Graph& g, Output x, absl::string_view name = "");
Output Mean(Graph& g, Output x, absl::string_view name = "");
// A scalar repeated to `shape`.
Output BroadcastTo(Graph& g, Output scalar, const Shape& shape, absl::string_view name = "");
// A scalar constant of the same dtype as `like` (float32, or float64 graphs).
Output ScalarConstLike(Graph& g, Output like, double value);

}  // namespace strata::ops

#endif  // STRATA_OPS_MATH_H_
