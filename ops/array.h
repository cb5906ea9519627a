// Shape manipulation. Reshape is free: its output is a view of its input's
// storage (the runtime makes it one; there is no kernel). Concat joins
// tensors along one axis; Slice takes a range of one axis back out (it is
// Concat's gradient).
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

// Concatenates along `axis` (GoogLeNet's inception modules use axis 1, channels); all other dims must match.
// The inputs are float32 of one rank; a negative axis counts from the end.
Output Concat(Graph& g, std::vector<Output> inputs, int64_t axis = 1, absl::string_view name = "");
// The elements of x whose index along `axis` is in [begin, begin + size); the
// other dimensions are kept whole. A negative axis counts from the end.
Output Slice(Graph& g, Output x, int64_t axis, int64_t begin, int64_t size, absl::string_view name = "");

}  // namespace strata::ops

#endif  // STRATA_OPS_ARRAY_H_
