// Shape arithmetic: Shape, Gather, Unsqueeze and Squeeze. PyTorch exports
// with a symbolic batch compute Reshape's target from the input's shape
// (Shape -> Gather -> Unsqueeze -> Concat). Strata's shapes are fixed at
// import, so these fold to constants exactly; Unsqueeze and Squeeze of graph
// values become Reshape (a view). Gather of graph values is Unimplemented.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"
#include "onnx/converters.h"
#include "ops/array.h"

namespace strata::onnx_io {
namespace {

OnnxTensor Int64s(std::vector<int64_t> dims, std::vector<int64_t> values) {
  OnnxTensor t;
  t.data_type = onnx::TensorProto::INT64;
  t.dims = std::move(dims);
  t.ints = std::move(values);
  return t;
}

// The axes of Unsqueeze/Squeeze: an attribute before opset 13, an input
// from 13; `required` for Unsqueeze.
absl::StatusOr<std::vector<int64_t>> Axes(ConvertContext& c, bool required) {
  if (c.opset() < 13) {
    if (required && !c.HasAttr("axes")) return c.Invalid("attribute 'axes' is required");
    return c.IntsAttr("axes", {});
  }
  if (!c.HasInput(1)) {
    if (required) return c.Invalid("input axes is required");
    return std::vector<int64_t>{};
  }
  STRATA_ASSIGN_OR_RETURN(OnnxTensor t, c.ConstantInput(1, "axes"));
  return t.ints;
}

// Sets output 0 to input 0 with dims `dims`: an integer constant stays a
// constant; float data (an initializer stays a variable) is reshaped.
absl::Status Reshaped(ConvertContext& c, std::vector<int64_t> dims) {
  if (c.IsConstantInput(0)) {
    STRATA_ASSIGN_OR_RETURN(OnnxTensor t, c.ConstantInput(0, "data"));
    if (!t.is_float()) {
      t.dims = std::move(dims);
      return c.SetConstantOutput(0, std::move(t));
    }
  }
  STRATA_ASSIGN_OR_RETURN(Output x, c.Input(0));
  return c.SetOutput(0, ops::Reshape(c.graph(), x, dims, c.name()));
}

}  // namespace

absl::Status ConvertShape(ConvertContext& c) {
  STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> dims, c.InputDims(0));
  const int64_t rank = dims.size();
  STRATA_ASSIGN_OR_RETURN(int64_t start, c.IntAttr("start", 0));
  STRATA_ASSIGN_OR_RETURN(int64_t end, c.IntAttr("end", rank));
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  std::vector<int64_t> values(dims.begin() + start, dims.begin() + end);
  return c.SetConstantOutput(0, Int64s({static_cast<int64_t>(values.size())}, values));
}

absl::Status ConvertGather(ConvertContext& c) {
  if (!c.IsConstantInput(0) || !c.IsConstantInput(1)) {
    return c.Unimplemented("", "only Gather of constants (shape arithmetic) is supported");
  }
  STRATA_ASSIGN_OR_RETURN(OnnxTensor data, c.ConstantInput(0, "data"));
  STRATA_ASSIGN_OR_RETURN(OnnxTensor indices, c.ConstantInput(1, "indices"));
  STRATA_ASSIGN_OR_RETURN(int64_t axis, c.IntAttr("axis", 0));
  if (data.is_float() || indices.is_float() || data.dims.size() != 1 || (axis != 0 && axis != -1)) {
    return c.Unimplemented("", "only Gather from a 1-D integer constant is supported");
  }
  const int64_t n = data.dims[0];
  std::vector<int64_t> values;
  for (int64_t i : indices.ints) {
    if (i < -n || i >= n) return c.Invalid(absl::StrCat("index ", i, " is out of range for ", n, " values"));
    values.push_back(data.ints[i < 0 ? i + n : i]);
  }
  return c.SetConstantOutput(0, Int64s(indices.dims, values));
}

absl::Status ConvertUnsqueeze(ConvertContext& c) {
  STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> dims, c.InputDims(0));
  STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> axes, Axes(c, /*required=*/true));
  const int64_t rank = dims.size() + axes.size();
  for (int64_t& a : axes) {
    if (a < 0) a += rank;
    if (a < 0 || a >= rank) return c.Invalid(absl::StrCat("axis out of range for output rank ", rank));
  }
  std::sort(axes.begin(), axes.end());
  for (int64_t a : axes) dims.insert(dims.begin() + a, 1);
  return Reshaped(c, dims);
}

absl::Status ConvertSqueeze(ConvertContext& c) {
  STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> dims, c.InputDims(0));
  STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> axes, Axes(c, /*required=*/false));
  const int64_t rank = dims.size();
  std::vector<bool> drop(rank, false);
  for (int64_t a : axes) {
    if (a < 0) a += rank;
    if (a < 0 || a >= rank || dims[a] != 1) return c.Invalid("Squeeze axes must name dimensions of size 1");
    drop[a] = true;
  }
  std::vector<int64_t> out;
  for (int64_t i = 0; i < rank; ++i) {
    if (axes.empty() ? dims[i] != 1 : !drop[i]) out.push_back(dims[i]);
  }
  return Reshaped(c, out);
}

}  // namespace strata::onnx_io
