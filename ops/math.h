// Arithmetic: elementwise Add/Sub/Mul (equal shapes, or a scalar second
// operand), reductions to a scalar, MatMul, BiasAdd and FullyConnected.
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

// a [M,K] x b [K,N] -> [M,N]. A transposed operand is passed as stored: with
// transpose_a, `a` is [K,M] (likewise `b` is [N,K]); no copy is made.
Output MatMul(Graph& g, Output a, Output b, bool transpose_a = false, bool transpose_b = false,
              absl::string_view name = "");
// x [N,C] or [N,C,H,W] (any rank 2..5) plus b [C] along dimension 1.
Output BiasAdd(Graph& g, Output x, Output b, absl::string_view name = "");
// The bias gradient: dy summed over every dimension except 1, giving [C].
Output BiasAddGrad(Graph& g, Output dy, absl::string_view name = "");
// x [N,K] w [K,M] (+ b [M] when valid) -> [N,M]. With a name, the nodes are
// "<name>/MatMul" and "<name>/BiasAdd".
Output FullyConnected(Graph& g, Output x, Output w, Output b, absl::string_view name = "");

}  // namespace strata::ops

#endif  // STRATA_OPS_MATH_H_
