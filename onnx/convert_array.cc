// Concat, Flatten, Reshape, Constant, Identity and Pad. Shapes are static in
// Strata, so shape inputs must be known at import time.
#include "absl/strings/str_join.h"
#include "graph/status_macros.h"
#include "onnx/converters.h"
#include "onnx/zero_pad.h"
#include "ops/array.h"

namespace strata::onnx_io {

absl::Status ConvertConcat(ConvertContext& c) {
  if (!c.HasAttr("axis")) return c.Invalid("attribute 'axis' is required");
  STRATA_ASSIGN_OR_RETURN(int64_t axis, c.IntAttr("axis", 1));
  // Integer constants (shape arithmetic) fold: 1-D, so along axis 0.
  bool folds = c.node().input_size() > 0;
  for (int i = 0; i < c.node().input_size(); ++i) {
    folds = folds && c.IsConstantInput(i);
    if (!folds) break;
    STRATA_ASSIGN_OR_RETURN(OnnxTensor t, c.ConstantInput(i, "input"));
    folds = !t.is_float() && t.dims.size() == 1;
  }
  if (folds) {
    OnnxTensor out;
    out.data_type = onnx::TensorProto::INT64;
    for (int i = 0; i < c.node().input_size(); ++i) {
      STRATA_ASSIGN_OR_RETURN(OnnxTensor t, c.ConstantInput(i, "input"));
      out.ints.insert(out.ints.end(), t.ints.begin(), t.ints.end());
    }
    out.dims = {static_cast<int64_t>(out.ints.size())};
    return c.SetConstantOutput(0, std::move(out));
  }
  std::vector<Output> inputs;
  for (int i = 0; i < c.node().input_size(); ++i) {
    STRATA_ASSIGN_OR_RETURN(Output x, c.Input(i));
    inputs.push_back(x);
  }
  if (inputs.empty()) return c.Invalid("Concat needs at least one input");
  if (inputs.size() == 1) return c.SetOutput(0, inputs[0]);
  return c.SetOutput(0, ops::Concat(c.graph(), inputs, axis, c.name()));
}

// [d0..dn] -> [d0*..*d(axis-1), d(axis)*..*dn].
absl::Status ConvertFlatten(ConvertContext& c) {
  STRATA_ASSIGN_OR_RETURN(Output x, c.Input(0));
  const int rank = x.shape().rank();
  STRATA_ASSIGN_OR_RETURN(int64_t axis, c.IntAttr("axis", 1));
  if (axis < 0) axis += rank;
  if (axis < 0 || axis > rank) return c.Invalid(absl::StrCat("axis out of range for rank ", rank));
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < rank; ++i) (i < axis ? outer : inner) *= x.shape()[i];
  return c.SetOutput(0, ops::Reshape(c.graph(), x, {outer, inner}, c.name()));
}

absl::Status ConvertReshape(ConvertContext& c) {
  STRATA_ASSIGN_OR_RETURN(Output x, c.Input(0));
  STRATA_ASSIGN_OR_RETURN(OnnxTensor shape, c.ConstantInput(1, "shape"));
  STRATA_ASSIGN_OR_RETURN(int64_t allowzero, c.IntAttr("allowzero", 0));
  if (shape.is_float() || shape.dims.size() != 1) return c.Invalid("shape must be a 1-D int64 tensor");
  std::vector<int64_t> dims = shape.ints;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 0) {
      if (allowzero) return c.Unimplemented("allowzero", "empty tensors are not supported");
      if (static_cast<int>(i) >= x.shape().rank()) return c.Invalid("a 0 in shape has no input dimension to copy");
      dims[i] = x.shape()[i];  // ONNX: 0 copies the input's dimension
    } else if (dims[i] < -1) {
      return c.Invalid(absl::StrCat("invalid shape [", absl::StrJoin(shape.ints, ","), "]"));
    }
  }
  return c.SetOutput(0, ops::Reshape(c.graph(), x, dims, c.name()));
}

absl::Status ConvertConstant(ConvertContext& c) {
  if (c.node().attribute_size() != 1) return c.Invalid("Constant needs exactly one value attribute");
  const onnx::AttributeProto& a = c.node().attribute(0);
  OnnxTensor t;
  if (a.name() == "value") {
    STRATA_ASSIGN_OR_RETURN(t, ReadTensorProto(a.t(), absl::StrCat(c.Describe(), ": attribute 'value'")));
  } else if (a.name() == "value_float") {
    t.data_type = onnx::TensorProto::FLOAT;
    t.floats = {a.f()};
  } else if (a.name() == "value_floats") {
    t.data_type = onnx::TensorProto::FLOAT;
    t.dims = {a.floats_size()};
    t.floats.assign(a.floats().begin(), a.floats().end());
  } else if (a.name() == "value_int") {
    t.data_type = onnx::TensorProto::INT64;
    t.ints = {a.i()};
  } else {  // value_ints: the table admits nothing else
    t.data_type = onnx::TensorProto::INT64;
    t.dims = {a.ints_size()};
    t.ints.assign(a.ints().begin(), a.ints().end());
  }
  return c.SetConstantOutput(0, std::move(t));
}

absl::Status ConvertIdentity(ConvertContext& c) {
  STRATA_ASSIGN_OR_RETURN(Output x, c.Input(0));
  return c.SetOutput(0, x);
}

// Constant zero padding (negative pads, which crop, and other modes are not
// supported).
absl::Status ConvertPad(ConvertContext& c) {
  STRATA_ASSIGN_OR_RETURN(std::string mode, c.StringAttr("mode", "constant"));
  if (mode != "constant") return c.Unimplemented("mode", "only constant padding is supported");
  std::vector<int64_t> pads;
  float value = 0.0f;
  if (c.opset() < 11) {
    STRATA_ASSIGN_OR_RETURN(pads, c.IntsAttr("pads", {}));
    STRATA_ASSIGN_OR_RETURN(value, c.FloatAttr("value", 0.0f));
    if (value != 0.0f) return c.Unimplemented("value", "only zero padding is supported");
  } else {
    STRATA_ASSIGN_OR_RETURN(OnnxTensor p, c.ConstantInput(1, "pads"));
    pads = p.ints;
    if (c.HasInput(2)) {
      STRATA_ASSIGN_OR_RETURN(OnnxTensor v, c.ConstantInput(2, "constant_value"));
      if (!v.is_float() || v.num_elements() != 1 || v.floats[0] != 0.0f) {
        return c.Unimplemented("", "input constant_value: only zero padding is supported");
      }
    }
    if (c.HasInput(3)) return c.Unimplemented("", "input axes is not supported");
  }
  STRATA_ASSIGN_OR_RETURN(Output x, c.Input(0));
  const int rank = x.shape().rank();
  if (static_cast<int>(pads.size()) != 2 * rank) {
    return c.Invalid(absl::StrCat("pads has ", pads.size(), " values for an input of rank ", rank));
  }
  for (int64_t p : pads) {
    if (p < 0) return c.Unimplemented(c.opset() < 11 ? "pads" : "", "negative pads (cropping) are not supported");
  }
  std::vector<int64_t> before(pads.begin(), pads.begin() + rank), after(pads.begin() + rank, pads.end());
  Output y = ZeroPad(c.graph(), x, before, after, c.name());
  return c.SetOutput(0, y);
}

}  // namespace strata::onnx_io
