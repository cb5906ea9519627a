// Gemm, MatMul, Add/Sub/Mul, activations, Clip and Softmax. ONNX broadcasts
// numpy-style; Strata's binary ops take equal shapes or a scalar second
// operand, and BiasAdd adds a per-channel vector along axis 1. Only the
// broadcasts these express exactly are converted.
#include <cmath>
#include <limits>

#include "absl/strings/str_join.h"
#include "graph/status_macros.h"
#include "onnx/converters.h"
#include "ops/array.h"
#include "ops/math.h"
#include "ops/nn.h"
#include "ops/state.h"

namespace strata::onnx_io {
namespace {

// Dims without leading ones.
std::vector<int64_t> Squeezed(const std::vector<int64_t>& dims) {
  size_t i = 0;
  while (i < dims.size() && dims[i] == 1) ++i;
  return std::vector<int64_t>(dims.begin() + i, dims.end());
}

// True when b broadcasts against a as one value per channel (axis 1): b is
// [C], [C,1,...] or [1,C,1,...] with at most a's rank and C = a's dim 1.
bool PerChannel(const Shape& a, const Shape& b) {
  if (a.rank() < 2 || b.rank() > a.rank()) return false;
  std::vector<int64_t> want(a.rank() - 1, 1);  // [C,1,...,1] aligned to a's last rank-1 dims
  want[0] = a[1];
  std::vector<int64_t> got = b.dims();
  while (got.size() < want.size()) got.insert(got.begin(), 1);
  if (got.size() > want.size()) got = std::vector<int64_t>(got.begin() + 1, got.end());
  return got == want && (b.rank() < a.rank() || b[0] == 1);
}

enum class BinaryKind { kAdd, kSub, kMul };

Output Apply(Graph& g, BinaryKind kind, Output a, Output b, absl::string_view name) {
  switch (kind) {
    case BinaryKind::kAdd: return ops::Add(g, a, b, name);
    case BinaryKind::kSub: return ops::Sub(g, a, b, name);
    case BinaryKind::kMul: return ops::Mul(g, a, b, name);
  }
  return Output{};
}

absl::Status Binary(ConvertContext& c, BinaryKind kind) {
  STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> da, c.InputDims(0));
  STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> db, c.InputDims(1));
  const Shape sa(da), sb(db);
  Graph& g = c.graph();
  int a_index = 0, b_index = 1;
  std::vector<int64_t> b_dims;  // what b becomes: a's shape, a scalar or [C]
  bool bias = false;
  if (sa == sb) {
    b_dims = db;
  } else if (sb.num_elements() == 1 && sa.rank() >= sb.rank()) {
    b_dims = {};
  } else if (kind != BinaryKind::kSub && sa.num_elements() == 1 && sb.rank() >= sa.rank()) {
    std::swap(a_index, b_index);
    b_dims = {};
  } else if (kind == BinaryKind::kAdd && (PerChannel(sa, sb) || PerChannel(sb, sa))) {
    if (!PerChannel(sa, sb)) std::swap(a_index, b_index);
    b_dims = {(a_index == 0 ? sa : sb)[1]};
    bias = true;
  } else {
    return c.Unimplemented("", absl::StrCat("broadcasting ", sa.ToString(), " with ", sb.ToString(),
                                            " is not supported (equal shapes, a single value",
                                            kind == BinaryKind::kAdd ? " or one value per channel" : "",
                                            " are)"));
  }
  STRATA_ASSIGN_OR_RETURN(Output a, c.Input(a_index));
  STRATA_ASSIGN_OR_RETURN(Output b, c.InputAs(b_index, b_dims, "operand"));
  if (bias) return c.SetOutput(0, ops::BiasAdd(g, a, b, c.name()));
  return c.SetOutput(0, Apply(g, kind, a, b, c.name()));
}

absl::Status Activation(ConvertContext& c, Output (*fn)(Graph&, Output, absl::string_view)) {
  STRATA_ASSIGN_OR_RETURN(Output x, c.Input(0));
  return c.SetOutput(0, fn(c.graph(), x, c.name()));
}

}  // namespace

absl::Status ConvertAdd(ConvertContext& c) { return Binary(c, BinaryKind::kAdd); }
absl::Status ConvertSub(ConvertContext& c) { return Binary(c, BinaryKind::kSub); }
absl::Status ConvertMul(ConvertContext& c) { return Binary(c, BinaryKind::kMul); }
absl::Status ConvertRelu(ConvertContext& c) { return Activation(c, ops::Relu); }
absl::Status ConvertSigmoid(ConvertContext& c) { return Activation(c, ops::Sigmoid); }
absl::Status ConvertTanh(ConvertContext& c) { return Activation(c, ops::Tanh); }

absl::Status ConvertMatMul(ConvertContext& c) {
  STRATA_ASSIGN_OR_RETURN(Output a, c.Input(0));
  STRATA_ASSIGN_OR_RETURN(Output b, c.Input(1));
  if (a.shape().rank() != 2 || b.shape().rank() != 2) {
    return c.Unimplemented("", absl::StrCat("only 2-D x 2-D products are supported, got ", a.shape().ToString(),
                                            " x ", b.shape().ToString()));
  }
  return c.SetOutput(0, ops::MatMul(c.graph(), a, b, false, false, c.name()));
}

// Y = alpha * op(A) op(B) + beta * C.
absl::Status ConvertGemm(ConvertContext& c) {
  STRATA_ASSIGN_OR_RETURN(Output a, c.Input(0));
  STRATA_ASSIGN_OR_RETURN(Output b, c.Input(1));
  STRATA_ASSIGN_OR_RETURN(int64_t trans_a, c.IntAttr("transA", 0));
  STRATA_ASSIGN_OR_RETURN(int64_t trans_b, c.IntAttr("transB", 0));
  STRATA_ASSIGN_OR_RETURN(float alpha, c.FloatAttr("alpha", 1.0f));
  STRATA_ASSIGN_OR_RETURN(float beta, c.FloatAttr("beta", 1.0f));
  if (a.shape().rank() != 2 || b.shape().rank() != 2) {
    return c.Invalid(absl::StrCat("A and B must be 2-D, got ", a.shape().ToString(), " and ", b.shape().ToString()));
  }
  Graph& g = c.graph();
  const bool has_c = c.HasInput(2) && beta != 0.0f;
  Output y = ops::MatMul(g, a, b, trans_a != 0, trans_b != 0, has_c || alpha != 1.0f ? c.SubName("MatMul") : c.name());
  if (!y.valid()) return c.GraphError();
  if (alpha != 1.0f) {
    y = ops::Mul(g, y, ops::ScalarConst(g, alpha, c.SubName("alpha")), has_c ? c.SubName("scale") : c.name());
  }
  if (!has_c) return c.SetOutput(0, y);
  STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> c_dims, c.InputDims(2));
  const Shape& ys = y.shape();
  const std::vector<int64_t> cs = Squeezed(c_dims);
  enum { kFull, kScalar, kVector } form;
  if (c_dims == ys.dims()) {
    form = kFull;
  } else if (cs.empty()) {
    form = kScalar;
  } else if (cs.size() == 1 && cs[0] == ys[1]) {
    form = kVector;
  } else {
    return c.Unimplemented("", absl::StrCat("C of shape ", Shape(c_dims).ToString(), " broadcast to ",
                                            ys.ToString(), " is not supported ([N], [1,N], [M,N] or a single "
                                            "value are)"));
  }
  const std::vector<int64_t> want = form == kFull ? ys.dims() : form == kScalar ? std::vector<int64_t>{}
                                                                                : std::vector<int64_t>{ys[1]};
  STRATA_ASSIGN_OR_RETURN(Output bias, c.InputAs(2, want, "c"));
  if (beta != 1.0f) bias = ops::Mul(g, bias, ops::ScalarConst(g, beta, c.SubName("beta")), c.SubName("beta_c"));
  if (!bias.valid()) return c.GraphError();
  if (form == kVector) return c.SetOutput(0, ops::BiasAdd(g, y, bias, c.name()));
  return c.SetOutput(0, ops::Add(g, y, bias, c.name()));
}

// Clip is exact only as Relu: Strata has no min/max op.
absl::Status ConvertClip(ConvertContext& c) {
  float lo = std::numeric_limits<float>::lowest(), hi = std::numeric_limits<float>::max();
  if (c.opset() < 11) {
    STRATA_ASSIGN_OR_RETURN(lo, c.FloatAttr("min", lo));
    STRATA_ASSIGN_OR_RETURN(hi, c.FloatAttr("max", hi));
  } else {
    for (int i : {1, 2}) {
      if (!c.HasInput(i)) continue;
      STRATA_ASSIGN_OR_RETURN(OnnxTensor t, c.ConstantInput(i, i == 1 ? "min" : "max"));
      if (!t.is_float() || t.num_elements() != 1) return c.Invalid("min and max must be float scalars");
      (i == 1 ? lo : hi) = t.floats[0];
    }
  }
  const bool no_max = hi == std::numeric_limits<float>::max() || std::isinf(hi);
  if (lo == 0.0f && no_max) return Activation(c, ops::Relu);
  return c.Unimplemented(c.opset() < 11 ? (lo != 0.0f ? "min" : "max") : "",
                         absl::StrCat("Clip(min=", lo, ", max=", hi,
                                      ") is not supported: Strata has no clip op, only Clip(0, inf) = Relu"));
}

// Softmax over one axis. Strata's Softmax works on rows of [N,C]: the input
// is viewed as rows, as ONNX itself defines it before opset 13 (the
// dimensions from `axis` on are one row); from opset 13 only the last axis.
absl::Status ConvertSoftmax(ConvertContext& c) {
  STRATA_ASSIGN_OR_RETURN(Output x, c.Input(0));
  const int rank = x.shape().rank();
  STRATA_ASSIGN_OR_RETURN(int64_t axis, c.IntAttr("axis", c.opset() >= 13 ? -1 : 1));
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return c.Invalid(absl::StrCat("axis out of range for rank ", rank));
  if (c.opset() >= 13 && axis != rank - 1) {
    return c.Unimplemented("axis", "only the last axis is supported from opset 13");
  }
  int64_t rows = 1, cols = 1;
  for (int i = 0; i < rank; ++i) (i < axis ? rows : cols) *= x.shape()[i];
  Graph& g = c.graph();
  if (rank == 2 && axis == 1) return c.SetOutput(0, ops::Softmax(g, x, c.name()));
  Output rows_view = ops::Reshape(g, x, {rows, cols}, c.SubName("rows"));
  Output y = ops::Softmax(g, rows_view, c.SubName("softmax"));
  return c.SetOutput(0, ops::Reshape(g, y, x.shape().dims(), c.name()));
}

}  // namespace strata::onnx_io
