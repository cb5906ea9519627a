// Zero padding from existing ops: along each axis, a Concat of zeros before
// and after. Exact (the padded values are zeros), differentiable (Concat's
// gradient is Slice), and it gives ONNX's asymmetric padding to ops whose
// Strata counterparts pad every side alike (Conv, AveragePool, Pad).
#ifndef STRATA_ONNX_ZERO_PAD_H_
#define STRATA_ONNX_ZERO_PAD_H_

#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "graph/graph.h"

namespace strata::onnx_io {

// x padded with before[i] zeros in front of and after[i] behind axis i (both
// of x's rank, all >= 0). Nodes are named "<name>/axis<i>_before", ... and
// "<name>/axis<i>". Returns an invalid Output when the graph records an error.
Output ZeroPad(Graph& g, Output x, const std::vector<int64_t>& before, const std::vector<int64_t>& after,
               absl::string_view name);

}  // namespace strata::onnx_io

#endif  // STRATA_ONNX_ZERO_PAD_H_
