// Max and average pooling over square windows of NCHW activations, and
// their gradients. MaxPool has a second output: oneDNN's workspace (where
// each maximum came from) as opaque uint8 bytes, which MaxPoolGrad consumes.
#ifndef STRATA_OPS_POOL_H_
#define STRATA_OPS_POOL_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace strata::ops {

struct PoolOptions {
  int64_t size = 2;    // the window is size x size
  int64_t stride = 2;
  int64_t pad = 0;     // on the top and left (and bottom and right); at most size / 2
  bool ceil_mode = false;  // round the output size up: 112 -> 56 for 3x3 stride 2
};

// floor((N + 2P - F)/S) + 1, or with ceil_mode the ceiling, less one when the
// last window would start in the bottom/right padding; InvalidArgument when
// the window does not fit the padded input or the options are invalid.
absl::StatusOr<int64_t> PoolOutputSize(int64_t input, const PoolOptions& opts);

// y = the max over each window (padding never wins); returns output 0.
Output MaxPool(Graph& g, Output x, PoolOptions opts = {}, absl::string_view name = "");
// y = the mean over each window of the input elements it covers (padding
// is not counted).
Output AvgPool(Graph& g, Output x, PoolOptions opts = {}, absl::string_view name = "");
// AvgPool over the whole (square) plane: [N,C,H,H] -> [N,C,1,1].
Output GlobalAvgPool(Graph& g, Output x, absl::string_view name = "");

// The gradients, as the gradient rules build them. `workspace` is output 1
// of the MaxPool node that produced dy's forward value from x.
Output MaxPoolGrad(Graph& g, Output dy, Output x, Output workspace, PoolOptions opts = {},
                   absl::string_view name = "");
Output AvgPoolGrad(Graph& g, Output dy, const Shape& input_shape, PoolOptions opts = {},
                   absl::string_view name = "");

}  // namespace strata::ops

#endif  // STRATA_OPS_POOL_H_
