// Shape manipulation. Reshape is free: its output is a view of its input's
// storage (the runtime makes it one; there is no kernel).
#ifndef STRATA_OPS_ARRAY_H_
#define STRATA_OPS_ARRAY_H_

#include <cstdint>
#include <vector>

#include "graph/graph.h"

namespace strata::ops {

// The same elements in row-major order with another shape; one dimension may
// be -1, meaning whatever the element count leaves for it.
Output Reshape(Graph& g, Output x, std::vector<int64_t> shape, absl::string_view name = "");
// [N, d1, d2, ...] -> [N, d1*d2*...] (a rank-1 [N] becomes [N,1]).
Output Flatten(Graph& g, Output x, absl::string_view name = "");

}  // namespace strata::ops

#endif  // STRATA_OPS_ARRAY_H_
