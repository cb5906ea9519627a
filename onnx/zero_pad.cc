#include "onnx/zero_pad.h"

#include "absl/strings/str_cat.h"
#include "ops/array.h"
#include "ops/state.h"

namespace strata::onnx_io {

Output ZeroPad(Graph& g, Output x, const std::vector<int64_t>& before, const std::vector<int64_t>& after,
               absl::string_view name) {
  for (int axis = 0; x.valid() && axis < x.shape().rank(); ++axis) {
    if (before[axis] == 0 && after[axis] == 0) continue;
    std::vector<Output> parts;
    auto zeros = [&](int64_t n, absl::string_view side) {
      std::vector<int64_t> dims = x.shape().dims();
      dims[axis] = n;
      return ops::Const(g, Tensor(DType::kFloat32, Shape(dims)), absl::StrCat(name, "/axis", axis, "_", side));
    };
    if (before[axis] > 0) parts.push_back(zeros(before[axis], "before"));
    parts.push_back(x);
    if (after[axis] > 0) parts.push_back(zeros(after[axis], "after"));
    x = ops::Concat(g, parts, axis, absl::StrCat(name, "/axis", axis));
  }
  return x;
}

}  // namespace strata::onnx_io
