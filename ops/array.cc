// Shape manipulation ops. Reshape aliases its input (OpDef::AliasesInput):
// the runtime hands out a view, so it needs no kernel in either precision.
// Concat runs oneDNN's concat primitive on the plain tensors; its reference
// kernel, Slice and SliceGrad (Slice's gradient: the slice put back into
// zeros) copy contiguous runs with memcpy: with the axis at position a, each
// of the prod(dims before a) outer indices owns one run of
// (extent along a) * prod(dims after a) elements, so slicing channels of NCHW
// moves whole planes at memory bandwidth. These byte copies serve both
// precisions (and any dtype, for Slice).
#include "ops/array.h"

#include <cstring>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/status_macros.h"
#include "ops/kernel_util.h"
#include "ops/onednn.h"
#include "ops/registry.h"

namespace strata::ops {
namespace {

absl::Status ReshapeShape(InferenceContext& c) {
  STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> dims, c.Attr<std::vector<int64_t>>("shape"));
  const int64_t count = c.input(0).shape.num_elements();
  const std::string requested = absl::StrCat("[", absl::StrJoin(dims, ","), "]");
  int inferred = -1;
  int64_t known = 1;
  for (int i = 0; i < static_cast<int>(dims.size()); ++i) {
    if (dims[i] == -1) {
      if (inferred >= 0) return c.Error(absl::StrCat("shape ", requested, " has more than one -1"));
      inferred = i;
    } else if (dims[i] <= 0) {
      return c.Error(absl::StrCat("shape ", requested, " has a dimension that is neither positive nor -1"));
    } else if (known > count / dims[i]) {
      // The product already exceeds the count; checked before multiplying
      // so that huge dimensions cannot overflow it.
      return c.Error(absl::StrCat("cannot reshape ", count, " elements to ", requested));
    } else {
      known *= dims[i];
    }
  }
  if (inferred >= 0) {
    if (count % known != 0) {
      return c.Error(absl::StrCat("cannot reshape ", count, " elements to ", requested));
    }
    dims[inferred] = count / known;
  } else if (known != count) {
    return c.Error(absl::StrCat("cannot reshape ", count, " elements to ", requested));
  }
  auto shape = Shape::Validated(dims);
  if (!shape.ok()) return c.Error(shape.status().message());
  if (shape->num_elements() != count) {
    return c.Error(absl::StrCat("cannot reshape ", count, " elements to ", requested));
  }
  c.set_output(0, {c.input(0).dtype, *shape});
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Concat, Slice and SliceGrad.

// `axis` counted from the front; a negative one counts from the end.
int64_t NormalizedAxis(int64_t axis, int rank) { return axis < 0 ? axis + rank : axis; }

absl::StatusOr<int> ValidAxis(const InferenceContext& c, int rank) {
  STRATA_ASSIGN_OR_RETURN(int64_t axis, c.Attr<int64_t>("axis"));
  const int64_t a = NormalizedAxis(axis, rank);
  if (a < 0 || a >= rank) {
    return c.Error(absl::StrCat("axis ", axis, " is out of range for rank ", rank));
  }
  return static_cast<int>(a);
}

// Elements before and after `axis` in row-major order.
int64_t Outer(const Shape& s, int axis) {
  int64_t n = 1;
  for (int i = 0; i < axis; ++i) n *= s[i];
  return n;
}
int64_t Inner(const Shape& s, int axis) {
  int64_t n = 1;
  for (int i = axis + 1; i < s.rank(); ++i) n *= s[i];
  return n;
}

absl::Status ConcatShape(InferenceContext& c) {
  const Shape& first = c.input(0).shape;
  if (first.rank() == 0) return c.Error("cannot concatenate scalars");
  STRATA_ASSIGN_OR_RETURN(int axis, ValidAxis(c, first.rank()));
  std::vector<int64_t> dims = first.dims();
  dims[axis] = 0;
  for (int i = 0; i < c.num_inputs(); ++i) {
    STRATA_RETURN_IF_ERROR(c.ExpectDType(i, DType::kFloat32));
    const Shape& s = c.input(i).shape;
    bool match = s.rank() == first.rank();
    for (int d = 0; match && d < s.rank(); ++d) match = d == axis || s[d] == first[d];
    if (!match) {
      return c.Error(absl::StrCat("input ", i, " is ", s.ToString(), " but input 0 is ", first.ToString(),
                                  ": all dimensions but axis ", axis, " must match"));
    }
    dims[axis] += s[axis];
  }
  c.set_output(0, {DType::kFloat32, Shape(std::move(dims))});
  return absl::OkStatus();
}

// oneDNN's concat on plain layouts (its "simple" implementation: one copy
// per run, in parallel).
class ConcatKernel : public Kernel {
 public:
  explicit ConcatKernel(DeviceContext* device) : device_(device) {}

  absl::Status Build(const KernelBuildContext& b, int axis) {
    return onednn::Guard(absl::StrCat(b.node.Describe(), " (concat)"), [&] {
      for (const TensorSpec& in : b.inputs) srcs_.push_back(onednn::PlainDesc(in));
      dst_ = onednn::PlainDesc(b.outputs[0]);
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::concat::primitive_desc pd(dst_, axis, srcs_, device_->engine, attr);
      primitive_ = dnnl::concat(pd);
      if (pd.scratchpad_desc().get_size() > 0) {
        args_[DNNL_ARG_SCRATCHPAD] = onednn::memory(pd.scratchpad_desc(), device_->engine);
      }
    });
  }

  absl::Status Run(KernelRunContext& ctx) override {
    for (size_t i = 0; i < srcs_.size(); ++i) {
      args_[DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i)] = onednn::Wrap(*ctx.inputs[i], srcs_[i], device_->engine);
    }
    args_[DNNL_ARG_DST] = onednn::Wrap(*ctx.outputs[0], dst_, device_->engine);
    primitive_.execute(device_->stream, args_);
    return absl::OkStatus();
  }

 private:
  DeviceContext* device_;
  std::vector<onednn::memory::desc> srcs_;
  onednn::memory::desc dst_;
  dnnl::primitive primitive_;
  std::unordered_map<int, onednn::memory> args_;
};

absl::StatusOr<std::unique_ptr<Kernel>> MakeConcatKernel(const KernelBuildContext& b) {
  STRATA_ASSIGN_OR_RETURN(int64_t axis, b.Attr<int64_t>("axis"));
  auto k = std::make_unique<ConcatKernel>(b.device);
  STRATA_RETURN_IF_ERROR(k->Build(b, static_cast<int>(NormalizedAxis(axis, b.outputs[0].shape.rank()))));
  return std::unique_ptr<Kernel>(std::move(k));
}

absl::Status ReferenceConcat(const Node& node, KernelRunContext& ctx) {
  STRATA_ASSIGN_OR_RETURN(int64_t attr, node.Attr<int64_t>("axis"));
  Tensor& y = *ctx.outputs[0];
  const int axis = static_cast<int>(NormalizedAxis(attr, y.shape().rank()));
  const int64_t outer = Outer(y.shape(), axis), row = y.shape()[axis] * Inner(y.shape(), axis) * SizeOf(y.dtype());
  uint8_t* dst = static_cast<uint8_t*>(y.raw_data());
  int64_t offset = 0;  // bytes into each output row
  for (const Tensor* in : ctx.inputs) {
    const int64_t run = in->shape()[axis] * Inner(in->shape(), axis) * SizeOf(in->dtype());
    const uint8_t* src = static_cast<const uint8_t*>(in->raw_data());
    for (int64_t o = 0; o < outer; ++o) std::memcpy(dst + o * row + offset, src + o * run, run);
    offset += run;
  }
  return absl::OkStatus();
}

// Checks that [begin, begin + size) is a non-empty range of x's `axis`.
absl::Status CheckRange(const InferenceContext& c, const Shape& x, int axis, int64_t begin, int64_t size) {
  if (begin >= 0 && size >= 1 && begin <= x[axis] - size) return absl::OkStatus();
  return c.Error(absl::StrCat("[", begin, ", ", begin, " + ", size, ") is not a non-empty range within the ",
                              x[axis], " elements along axis ", axis, " of ", x.ToString()));
}

absl::Status SliceShape(InferenceContext& c) {
  const Shape& x = c.input(0).shape;
  if (x.rank() == 0) return c.Error("cannot slice a scalar");
  STRATA_ASSIGN_OR_RETURN(int axis, ValidAxis(c, x.rank()));
  STRATA_ASSIGN_OR_RETURN(int64_t begin, c.Attr<int64_t>("begin"));
  STRATA_ASSIGN_OR_RETURN(int64_t size, c.Attr<int64_t>("size"));
  STRATA_RETURN_IF_ERROR(CheckRange(c, x, axis, begin, size));
  std::vector<int64_t> dims = x.dims();
  dims[axis] = size;
  c.set_output(0, {c.input(0).dtype, Shape(std::move(dims))});
  return absl::OkStatus();
}

// Input dy; attribute input_shape: the shape Slice cut dy from.
absl::Status SliceGradShape(InferenceContext& c) {
  STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> dims, c.Attr<std::vector<int64_t>>("input_shape"));
  auto x = Shape::Validated(dims);
  if (!x.ok()) return c.Error(absl::StrCat("attribute 'input_shape': ", x.status().message()));
  const Shape& dy = c.input(0).shape;
  if (x->rank() == 0 || dy.rank() != x->rank()) {
    return c.Error(absl::StrCat("the output gradient ", dy.ToString(), " is not a slice of ", x->ToString()));
  }
  STRATA_ASSIGN_OR_RETURN(int axis, ValidAxis(c, x->rank()));
  STRATA_ASSIGN_OR_RETURN(int64_t begin, c.Attr<int64_t>("begin"));
  STRATA_RETURN_IF_ERROR(CheckRange(c, *x, axis, begin, dy[axis]));
  dims[axis] = dy[axis];
  if (dy != Shape(dims)) {
    return c.Error(absl::StrCat("the output gradient ", dy.ToString(), " is not a slice of ", x->ToString(),
                                " along axis ", axis));
  }
  c.set_output(0, {c.input(0).dtype, *x});
  return absl::OkStatus();
}

// Copies runs between the whole tensor `full` and the slice `part`:
// into the slice for Slice, back into zeros for SliceGrad.
absl::Status CopySlice(const Node& node, Tensor& full, Tensor& part, bool into_part) {
  STRATA_ASSIGN_OR_RETURN(int64_t axis_attr, node.Attr<int64_t>("axis"));
  STRATA_ASSIGN_OR_RETURN(int64_t begin, node.Attr<int64_t>("begin"));
  const int axis = static_cast<int>(NormalizedAxis(axis_attr, full.shape().rank()));
  const int64_t bytes = Inner(full.shape(), axis) * SizeOf(full.dtype());
  const int64_t row = full.shape()[axis] * bytes, run = part.shape()[axis] * bytes, skip = begin * bytes;
  uint8_t* f = static_cast<uint8_t*>(full.raw_data());
  uint8_t* p = static_cast<uint8_t*>(part.raw_data());
  if (!into_part) std::memset(f, 0, full.num_bytes());
  for (int64_t o = 0; o < Outer(full.shape(), axis); ++o) {
    if (into_part) {
      std::memcpy(p + o * run, f + o * row + skip, run);
    } else {
      std::memcpy(f + o * row + skip, p + o * run, run);
    }
  }
  return absl::OkStatus();
}

absl::Status SliceKernel(const Node& node, KernelRunContext& ctx) {
  return CopySlice(node, *ctx.inputs[0], *ctx.outputs[0], /*into_part=*/true);
}

absl::Status SliceGradKernel(const Node& node, KernelRunContext& ctx) {
  return CopySlice(node, *ctx.outputs[0], *ctx.inputs[0], /*into_part=*/false);
}

Output SliceGrad(Graph& g, Output dy, int64_t axis, int64_t begin, const Shape& input_shape,
                 absl::string_view name) {
  Node* n = g.AddNode(Def("SliceGrad"), name, {dy},
                      {{"axis", axis}, {"begin", begin}, {"input_shape", input_shape.dims()}});
  return n ? n->output(0) : Output{};
}

absl::StatusOr<std::vector<Output>> ConcatGradient(GradientContext& c) {
  const std::vector<Output>& in = c.node.inputs();
  std::vector<Output> grads(in.size());
  const Output dy = c.output_grads[0];
  if (!dy.valid()) return grads;
  STRATA_ASSIGN_OR_RETURN(int64_t attr, c.node.Attr<int64_t>("axis"));
  const int64_t axis = NormalizedAxis(attr, dy.shape().rank());
  int64_t offset = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const int64_t extent = in[i].shape()[static_cast<int>(axis)];
    grads[i] = Slice(c.graph, dy, axis, offset, extent, "slice");
    offset += extent;
  }
  return grads;
}

absl::StatusOr<std::vector<Output>> SliceGradient(GradientContext& c) {
  const Output dy = c.output_grads[0];
  if (!dy.valid()) return std::vector<Output>{Output{}};
  STRATA_ASSIGN_OR_RETURN(int64_t axis, c.node.Attr<int64_t>("axis"));
  STRATA_ASSIGN_OR_RETURN(int64_t begin, c.node.Attr<int64_t>("begin"));
  return std::vector<Output>{SliceGrad(c.graph, dy, axis, begin, c.node.inputs()[0].shape(), "slice_grad")};
}

// SliceGrad is linear in dy: its gradient slices the same range back out.
absl::StatusOr<std::vector<Output>> SliceGradGradient(GradientContext& c) {
  const Output dy = c.output_grads[0];
  if (!dy.valid()) return std::vector<Output>{Output{}};
  STRATA_ASSIGN_OR_RETURN(int64_t axis, c.node.Attr<int64_t>("axis"));
  STRATA_ASSIGN_OR_RETURN(int64_t begin, c.node.Attr<int64_t>("begin"));
  const Shape& part = c.node.inputs()[0].shape();
  const int64_t size = part[static_cast<int>(NormalizedAxis(axis, part.rank()))];
  return std::vector<Output>{Slice(c.graph, dy, axis, begin, size, "slice")};
}

}  // namespace

void RegisterArrayOps(OpRegistry& r) {
  r.Add(OpDef("Reshape")
            .Inputs(1)
            .RequiredAttr("shape")
            .Shape(ReshapeShape)
            .AliasesInput()
            .Gradient([](GradientContext& c) -> absl::StatusOr<std::vector<Output>> {
              return std::vector<Output>{Reshape(c.graph, c.output_grads[0], c.node.inputs()[0].shape().dims())};
            })
            .Doc("The same elements with another shape (one dimension may be -1); a view, not a copy."));
  r.Add(OpDef("Concat")
            .Inputs(-1)
            .Attr("axis", int64_t{1})
            .Shape(ConcatShape)
            .Kernel(MakeConcatKernel)
            .ReferenceKernel(SimpleKernel(ReferenceConcat))
            .Gradient(ConcatGradient)
            .Doc("The float32 inputs joined along `axis` (negative: from the end); all other dimensions match."));
  r.Add(OpDef("Slice")
            .Inputs(1)
            .Attr("axis", int64_t{0})
            .RequiredAttr("begin")
            .RequiredAttr("size")
            .Shape(SliceShape)
            .Kernel(SimpleKernel(SliceKernel))
            .ReferenceKernel(SimpleKernel(SliceKernel))
            .Gradient(SliceGradient)
            .Doc("The elements of x with index in [begin, begin + size) along `axis`; the gradient of Concat."));
  r.Add(OpDef("SliceGrad")
            .Inputs(1)
            .Attr("axis", int64_t{0})
            .RequiredAttr("begin")
            .RequiredAttr("input_shape")
            .Shape(SliceGradShape)
            .Kernel(SimpleKernel(SliceGradKernel))
            .ReferenceKernel(SimpleKernel(SliceGradKernel))
            .Gradient(SliceGradGradient)
            .Doc("dL/dx of Slice: dy placed at [begin, ...) along `axis` of zeros of shape `input_shape`."));
}

Output Reshape(Graph& g, Output x, std::vector<int64_t> shape, absl::string_view name) {
  Node* n = g.AddNode(Def("Reshape"), name, {x}, {{"shape", std::move(shape)}});
  return n ? n->output(0) : Output{};
}

Output Flatten(Graph& g, Output x, absl::string_view name) {
  if (!x.valid()) return Reshape(g, x, {}, name.empty() ? "Flatten" : name);
  const Shape& s = x.shape();
  if (s.rank() == 0) {
    g.RecordError(absl::InvalidArgumentError(
        absl::StrCat("Flatten of ", x.name(), ": a scalar has no batch dimension to keep")));
    return Output{};
  }
  int64_t rest = 1;
  for (int i = 1; i < s.rank(); ++i) rest *= s[i];
  return Reshape(g, x, {s[0], rest}, name.empty() ? "Flatten" : name);
}

Output Concat(Graph& g, std::vector<Output> inputs, int64_t axis, absl::string_view name) {
  Node* n = g.AddNode(Def("Concat"), name, std::move(inputs), {{"axis", axis}});
  return n ? n->output(0) : Output{};
}

Output Slice(Graph& g, Output x, int64_t axis, int64_t begin, int64_t size, absl::string_view name) {
  Node* n = g.AddNode(Def("Slice"), name, {x}, {{"axis", axis}, {"begin", begin}, {"size", size}});
  return n ? n->output(0) : Output{};
}

}  // namespace strata::ops
