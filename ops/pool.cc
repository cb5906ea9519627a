// Pooling. oneDNN kernels: pooling forward (max with a workspace for
// training, average excluding padding) and pooling backward, in the layout
// the plan stores the source in (pooling keeps its source's layout).
// ceil_mode is realised as extra bottom/right padding. Reference
// kernels: float64 loops over each window clipped to the input.
#include "ops/pool.h"

#include <algorithm>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"
#include "ops/kernel_util.h"
#include "ops/onednn.h"
#include "ops/registry.h"

namespace strata::ops {
namespace {

using dnnl::algorithm;
using dnnl::prop_kind;
using onednn::memory;

template <typename Context>
absl::StatusOr<PoolOptions> ReadAttrs(const Context& c) {
  PoolOptions o;
  STRATA_ASSIGN_OR_RETURN(o.size, c.template Attr<int64_t>("size"));
  STRATA_ASSIGN_OR_RETURN(o.stride, c.template Attr<int64_t>("stride"));
  STRATA_ASSIGN_OR_RETURN(o.pad, c.template Attr<int64_t>("pad"));
  STRATA_ASSIGN_OR_RETURN(o.ceil_mode, c.template Attr<bool>("ceil_mode"));
  return o;
}

AttrMap ToAttrs(const PoolOptions& o) {
  return {{"size", o.size}, {"stride", o.stride}, {"pad", o.pad}, {"ceil_mode", o.ceil_mode}};
}

// Input and output shapes and the oneDNN window parameters of one pooling.
struct PoolGeometry {
  Shape x, y;
  memory::dims strides, kernel, pad_l, pad_r;
};

// The bottom/right padding for which oneDNN's (N - F + Pl + Pr)/S + 1 gives
// `out`: more than Pl in ceil mode, never negative (oneDNN rounds down).
int64_t PadRight(int64_t input, int64_t out, const PoolOptions& o) {
  return std::max<int64_t>(0, (out - 1) * o.stride + o.size - input - o.pad);
}

absl::StatusOr<PoolGeometry> Geometry(const InferenceContext& c, const Shape& x, const PoolOptions& o) {
  if (x.rank() != 4) return c.Error(absl::StrCat("the input must be NCHW (rank 4), got ", x.ToString()));
  auto oh = PoolOutputSize(x[2], o);
  if (!oh.ok()) return c.Error(absl::StrCat(oh.status().message(), " along the height"));
  auto ow = PoolOutputSize(x[3], o);
  if (!ow.ok()) return c.Error(absl::StrCat(ow.status().message(), " along the width"));
  PoolGeometry g;
  g.x = x;
  g.y = Shape{x[0], x[1], *oh, *ow};
  g.strides = {o.stride, o.stride};
  g.kernel = {o.size, o.size};
  g.pad_l = {o.pad, o.pad};
  g.pad_r = {PadRight(x[2], *oh, o), PadRight(x[3], *ow, o)};
  return g;
}

memory::desc Plain(const Shape& s) { return onednn::PlainDesc({DType::kFloat32, s}); }

// Scratch memory is allocated by the kernel at build time rather than by
// oneDNN during execution.
dnnl::primitive_attr UserScratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// The forward primitive descriptor for a source stored in `src` (plain
// when null): the destination takes the source's layout (format_tag::any).
dnnl::pooling_forward::primitive_desc ForwardPd(algorithm alg, const PoolGeometry& g, const dnnl::engine& engine,
                                                const memory::desc* src = nullptr) {
  const memory::desc y_any(onednn::Dims(g.y), memory::data_type::f32, memory::format_tag::any);
  return dnnl::pooling_forward::primitive_desc(
      dnnl::pooling_forward::desc(prop_kind::forward_training, alg, src != nullptr ? *src : Plain(g.x),
                                  src != nullptr ? y_any : Plain(g.y), g.strides, g.kernel, g.pad_l, g.pad_r),
      UserScratchpad(), engine);
}

// The workspace the max pooling forward primitive writes, in bytes. Shape
// inference runs before any Session exists, so it asks a CPU engine of its
// own; kernels check that their engine agrees.
absl::StatusOr<int64_t> WorkspaceBytes(const InferenceContext& c, const PoolGeometry& g) {
  int64_t bytes = 0;
  absl::Status s = onednn::Guard("max pooling workspace", [&] {
    static const dnnl::engine* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
    bytes = onednn::WorkspaceTensorBytes(ForwardPd(algorithm::pooling_max, g, *engine).workspace_desc());
  });
  if (!s.ok()) return c.Error(s.message());
  if (bytes <= 0) return c.Error("oneDNN gave max pooling no workspace");
  return bytes;
}

absl::Status ExpectShape(const InferenceContext& c, absl::string_view what, const Shape& got, const Shape& want) {
  if (got == want) return absl::OkStatus();
  return c.Error(absl::StrCat(what, " must be ", want.ToString(), ", got ", got.ToString()));
}

// ---------------------------------------------------------------------------
// oneDNN kernels. They work in the layout the plan stores the source in
// (the source's producer chose it), and fall back to plain NCHW where a
// max pooling workspace in that layout would not have the size the shape
// function gave the workspace tensor.

// The layout of `like` (nchw, nhwc, nChw8c or nChw16c) for other dims.
memory::desc SameFormat(const memory::desc& like, const Shape& shape) {
  for (memory::format_tag tag : {memory::format_tag::nchw, memory::format_tag::nhwc, memory::format_tag::nChw8c,
                                 memory::format_tag::nChw16c}) {
    if (like == memory::desc(like.dims(), memory::data_type::f32, tag)) {
      return memory::desc(onednn::Dims(shape), memory::data_type::f32, tag);
    }
  }
  return Plain(shape);
}

// The layout average pooling's backward works in: dy's where dy is blocked;
// for a plain dy (a global pooling's, from the classifier) the channel
// blocking the convolutions and batch norms around it work in, where dx may
// stay blocked; plain otherwise.
memory::desc AverageGradientSource(const KernelBuildContext& b, const PoolGeometry& g) {
  if (onednn::InputIsBlocked(b, 0)) return SameFormat(onednn::InputDesc(b, 0), g.x);
  for (auto [tag, block] : {std::pair{memory::format_tag::nChw16c, 16}, std::pair{memory::format_tag::nChw8c, 8}}) {
    const memory::desc blocked(onednn::Dims(g.x), memory::data_type::f32, tag);
    if (g.x[1] % block == 0 && onednn::OutputDesc(b, 0, blocked) == blocked) return blocked;
  }
  return Plain(g.x);
}

// The source layout the forward primitive and its backward hint use, given
// how the plan stores the source: that, unless it changes the workspace.
memory::desc WorkingSource(algorithm alg, const PoolGeometry& g, const memory::desc& stored,
                           const TensorSpec& workspace, const dnnl::engine& engine) {
  if (alg != algorithm::pooling_max) return stored;
  const int64_t bytes = onednn::WorkspaceTensorBytes(ForwardPd(alg, g, engine, &stored).workspace_desc());
  return bytes == workspace.shape.num_elements() ? stored : Plain(g.x);
}

// Rebuilds the geometry from shapes the shape function already accepted.
absl::StatusOr<PoolGeometry> KernelGeometry(const KernelBuildContext& b, const Shape& x, const Shape& y) {
  STRATA_ASSIGN_OR_RETURN(PoolOptions o, ReadAttrs(b));
  PoolGeometry g;
  g.x = x;
  g.y = y;
  g.strides = {o.stride, o.stride};
  g.kernel = {o.size, o.size};
  g.pad_l = {o.pad, o.pad};
  g.pad_r = {PadRight(x[2], y[2], o), PadRight(x[3], y[3], o)};
  return g;
}

KernelFactory ForwardKernel(algorithm alg) {
  return [alg](const KernelBuildContext& b) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    STRATA_ASSIGN_OR_RETURN(PoolGeometry g, KernelGeometry(b, b.inputs[0].shape, b.outputs[0].shape));
    auto k = std::make_unique<onednn::BridgedKernel>(b.device);
    const bool max = alg == algorithm::pooling_max;
    memory::desc ws;
    STRATA_RETURN_IF_ERROR(onednn::Guard(absl::StrCat(b.node.Describe(), " (pooling forward)"), [&] {
      const memory::desc stored = onednn::InputDesc(b, 0);
      const memory::desc src =
          max ? WorkingSource(alg, g, stored, b.outputs[1], b.device->engine) : stored;
      auto pd = ForwardPd(alg, g, b.device->engine, &src);
      k->AddInput(DNNL_ARG_SRC, 0, stored, pd.src_desc());
      k->AddOutput(DNNL_ARG_DST, 0, onednn::OutputDesc(b, 0, pd.dst_desc()), pd.dst_desc());
      ws = pd.workspace_desc();
      if (max) k->SetWorkspace(/*is_input=*/false, 1, ws);
      k->SetPrimitive(dnnl::pooling_forward(pd), pd.scratchpad_desc());
    }));
    if (max) STRATA_RETURN_IF_ERROR(onednn::CheckWorkspace(b, b.outputs[1], ws));
    return std::unique_ptr<Kernel>(std::move(k));
  };
}

// Inputs dy and, for max pooling, x and the workspace; output dx. The hint
// is the forward primitive the forward kernel built: max pooling has x to
// rebuild it from, average pooling takes dy's layout for it.
KernelFactory BackwardKernel(algorithm alg) {
  return [alg](const KernelBuildContext& b) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    STRATA_ASSIGN_OR_RETURN(PoolGeometry g, KernelGeometry(b, b.outputs[0].shape, b.inputs[0].shape));
    auto k = std::make_unique<onednn::BridgedKernel>(b.device);
    const bool max = alg == algorithm::pooling_max;
    memory::desc ws;
    STRATA_RETURN_IF_ERROR(onednn::Guard(absl::StrCat(b.node.Describe(), " (pooling backward)"), [&] {
      const memory::desc src =
          max ? WorkingSource(alg, g, onednn::InputDesc(b, 1), b.inputs[2], b.device->engine)
              : AverageGradientSource(b, g);
      auto hint = ForwardPd(alg, g, b.device->engine, &src);
      // dx in the source's layout: left to choose (format_tag::any), oneDNN
      // 2.6 falls back to its reference implementation in acdB16b.
      dnnl::pooling_backward::primitive_desc pd(
          dnnl::pooling_backward::desc(alg, src, hint.dst_desc(), g.strides, g.kernel, g.pad_l, g.pad_r),
          UserScratchpad(), b.device->engine, hint);
      k->AddInput(DNNL_ARG_DIFF_DST, 0, onednn::InputDesc(b, 0), pd.diff_dst_desc());
      ws = pd.workspace_desc();
      if (max) k->SetWorkspace(/*is_input=*/true, 2, ws);
      k->AddOutput(DNNL_ARG_DIFF_SRC, 0, onednn::OutputDesc(b, 0, pd.diff_src_desc()), pd.diff_src_desc());
      k->SetPrimitive(dnnl::pooling_backward(pd), pd.scratchpad_desc());
    }));
    if (max) STRATA_RETURN_IF_ERROR(onednn::CheckWorkspace(b, b.inputs[2], ws));
    return std::unique_ptr<Kernel>(std::move(k));
  };
}

// ---------------------------------------------------------------------------
// Reference kernels.

// Calls f(y index, offset of the x plane, h0, h1, w0, w1) for every output
// element, with its window [h0,h1) x [w0,w1) clipped to the input: padding
// takes part in neither the max nor the average.
template <typename F>
absl::Status ForEachWindow(const Node& node, const Shape& x, const Shape& y, F f) {
  STRATA_ASSIGN_OR_RETURN(PoolOptions o, ReadAttrs(node));
  const int64_t planes = x[0] * x[1], h = x[2], w = x[3];
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t oh = 0; oh < y[2]; ++oh)
      for (int64_t ow = 0; ow < y[3]; ++ow) {
        const int64_t h0 = oh * o.stride - o.pad, w0 = ow * o.stride - o.pad;
        f((p * y[2] + oh) * y[3] + ow, p * h * w, std::max<int64_t>(h0, 0), std::min(h0 + o.size, h),
          std::max<int64_t>(w0, 0), std::min(w0 + o.size, w));
      }
  return absl::OkStatus();
}

// The flat index of the first maximum in the window.
int64_t ArgMax(const double* x, int64_t width, int64_t base, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
  int64_t best = -1;
  for (int64_t i = h0; i < h1; ++i)
    for (int64_t j = w0; j < w1; ++j) {
      const int64_t at = base + i * width + j;
      if (best < 0 || x[at] > x[best]) best = at;
    }
  return best;
}

// Output 1 (the workspace) stays zero: reference runs never use it.
absl::Status ReferenceMaxPool(const Node& node, KernelRunContext& ctx) {
  const Tensor& x = *ctx.inputs[0];
  const double* px = x.data<double>();
  double* y = Out<double>(ctx, 0);
  const int64_t width = x.shape()[3];
  return ForEachWindow(node, x.shape(), ctx.outputs[0]->shape(),
                       [&](int64_t yi, int64_t base, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
                         y[yi] = px[ArgMax(px, width, base, h0, h1, w0, w1)];
                       });
}

// Recomputes where each maximum came from out of x instead of the workspace.
absl::Status ReferenceMaxPoolGrad(const Node& node, KernelRunContext& ctx) {
  const Tensor& x = *ctx.inputs[1];
  const double* px = x.data<double>();
  const double* dy = In<double>(ctx, 0);
  Tensor& dx = *ctx.outputs[0];
  double* pdx = dx.data<double>();
  std::fill(pdx, pdx + dx.num_elements(), 0.0);
  const int64_t width = x.shape()[3];
  return ForEachWindow(node, x.shape(), ctx.inputs[0]->shape(),
                       [&](int64_t yi, int64_t base, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
                         pdx[ArgMax(px, width, base, h0, h1, w0, w1)] += dy[yi];
                       });
}

absl::Status ReferenceAvgPool(const Node& node, KernelRunContext& ctx) {
  const Tensor& x = *ctx.inputs[0];
  const double* px = x.data<double>();
  double* y = Out<double>(ctx, 0);
  const int64_t width = x.shape()[3];
  return ForEachWindow(node, x.shape(), ctx.outputs[0]->shape(),
                       [&](int64_t yi, int64_t base, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
                         double s = 0;
                         for (int64_t i = h0; i < h1; ++i)
                           for (int64_t j = w0; j < w1; ++j) s += px[base + i * width + j];
                         y[yi] = s / static_cast<double>((h1 - h0) * (w1 - w0));
                       });
}

absl::Status ReferenceAvgPoolGrad(const Node& node, KernelRunContext& ctx) {
  const double* dy = In<double>(ctx, 0);
  Tensor& dx = *ctx.outputs[0];
  double* pdx = dx.data<double>();
  std::fill(pdx, pdx + dx.num_elements(), 0.0);
  const int64_t width = dx.shape()[3];
  return ForEachWindow(node, dx.shape(), ctx.inputs[0]->shape(),
                       [&](int64_t yi, int64_t base, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
                         const double share = dy[yi] / static_cast<double>((h1 - h0) * (w1 - w0));
                         for (int64_t i = h0; i < h1; ++i)
                           for (int64_t j = w0; j < w1; ++j) pdx[base + i * width + j] += share;
                       });
}

// ---------------------------------------------------------------------------
// Shape functions and gradient rules.

absl::Status MaxPoolShape(InferenceContext& c) {
  STRATA_RETURN_IF_ERROR(c.ExpectDType(0, DType::kFloat32));
  STRATA_ASSIGN_OR_RETURN(PoolOptions o, ReadAttrs(c));
  STRATA_ASSIGN_OR_RETURN(PoolGeometry g, Geometry(c, c.input(0).shape, o));
  STRATA_ASSIGN_OR_RETURN(int64_t bytes, WorkspaceBytes(c, g));
  c.set_output(0, {DType::kFloat32, g.y});
  c.set_output(1, {DType::kUInt8, Shape{bytes}});
  return absl::OkStatus();
}

// Inputs dy, x, workspace.
absl::Status MaxPoolGradShape(InferenceContext& c) {
  STRATA_ASSIGN_OR_RETURN(PoolOptions o, ReadAttrs(c));
  STRATA_ASSIGN_OR_RETURN(PoolGeometry g, Geometry(c, c.input(1).shape, o));
  STRATA_RETURN_IF_ERROR(ExpectShape(c, "the output gradient", c.input(0).shape, g.y));
  STRATA_RETURN_IF_ERROR(c.ExpectDType(2, DType::kUInt8));
  STRATA_RETURN_IF_ERROR(c.ExpectRank(2, 1));
  c.set_output(0, c.input(1));
  return absl::OkStatus();
}

absl::Status AvgPoolShape(InferenceContext& c) {
  STRATA_RETURN_IF_ERROR(c.ExpectDType(0, DType::kFloat32));
  STRATA_ASSIGN_OR_RETURN(PoolOptions o, ReadAttrs(c));
  STRATA_ASSIGN_OR_RETURN(PoolGeometry g, Geometry(c, c.input(0).shape, o));
  c.set_output(0, {DType::kFloat32, g.y});
  return absl::OkStatus();
}

absl::Status AvgPoolGradShape(InferenceContext& c) {
  STRATA_ASSIGN_OR_RETURN(PoolOptions o, ReadAttrs(c));
  STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> dims, c.Attr<std::vector<int64_t>>("input_shape"));
  auto x = Shape::Validated(dims);
  if (!x.ok()) return c.Error(absl::StrCat("attribute 'input_shape': ", x.status().message()));
  STRATA_ASSIGN_OR_RETURN(PoolGeometry g, Geometry(c, *x, o));
  STRATA_RETURN_IF_ERROR(ExpectShape(c, "the output gradient", c.input(0).shape, g.y));
  c.set_output(0, {c.input(0).dtype, *x});
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Output>> MaxPoolGradient(GradientContext& c) {
  const Output dy = c.output_grads[0];
  if (!dy.valid()) return std::vector<Output>{Output{}};
  STRATA_ASSIGN_OR_RETURN(PoolOptions o, ReadAttrs(c.node));
  // The workspace is an output of the forward node; the rule only reads it.
  Output workspace{const_cast<Node*>(&c.node), 1};
  return std::vector<Output>{MaxPoolGrad(c.graph, dy, c.node.inputs()[0], workspace, o, "max_pool_grad")};
}

absl::StatusOr<std::vector<Output>> AvgPoolGradient(GradientContext& c) {
  const Output dy = c.output_grads[0];
  if (!dy.valid()) return std::vector<Output>{Output{}};
  STRATA_ASSIGN_OR_RETURN(PoolOptions o, ReadAttrs(c.node));
  return std::vector<Output>{AvgPoolGrad(c.graph, dy, c.node.inputs()[0].shape(), o, "avg_pool_grad")};
}

OpDef PoolDef(const std::string& name) {
  OpDef def(name);
  def.Attr("size", int64_t{2}).Attr("stride", int64_t{2}).Attr("pad", int64_t{0}).Attr("ceil_mode", false);
  return def;
}

}  // namespace

absl::StatusOr<int64_t> PoolOutputSize(int64_t input, const PoolOptions& o) {
  if (o.size < 1) return absl::InvalidArgumentError(absl::StrCat("the window size must be >= 1, got ", o.size));
  if (o.stride < 1) return absl::InvalidArgumentError(absl::StrCat("the stride must be >= 1, got ", o.stride));
  // More padding would let a window hold nothing but padding.
  if (o.pad < 0 || 2 * o.pad > o.size) {
    return absl::InvalidArgumentError(
        absl::StrCat("the padding must be between 0 and half the window size ", o.size, ", got ", o.pad));
  }
  const int64_t span = input + 2 * o.pad - o.size;
  if (span < 0) {
    return absl::InvalidArgumentError(absl::StrCat("a ", o.size, "x", o.size, " window does not fit an input of ",
                                                   input, " with padding ", o.pad));
  }
  int64_t out = (o.ceil_mode ? (span + o.stride - 1) / o.stride : span / o.stride) + 1;
  if (o.ceil_mode && (out - 1) * o.stride >= input + o.pad) --out;
  return out;
}

void RegisterPoolOps(OpRegistry& r) {
  r.Add(PoolDef("MaxPool")
            .Inputs(1)
            .Outputs(2)
            .Shape(MaxPoolShape)
            .Kernel(ForwardKernel(algorithm::pooling_max))
            .Layouts(LayoutSupport::kAny)
            .ReferenceKernel(SimpleKernel(ReferenceMaxPool))
            .Gradient(MaxPoolGradient)
            .Doc("Max over size x size windows of x [N,C,H,W] every `stride`; output 1 is oneDNN's workspace "
                 "(uint8 bytes) for MaxPoolGrad."));
  r.Add(PoolDef("MaxPoolGrad")
            .Inputs(3)
            .Shape(MaxPoolGradShape)
            .Kernel(BackwardKernel(algorithm::pooling_max))
            .Layouts(LayoutSupport::kAny, /*plain=*/{2})
            .ReferenceKernel(SimpleKernel(ReferenceMaxPoolGrad))
            .NoGradient()
            .Doc("dL/dx of MaxPool from dy, x and the forward node's workspace."));
  r.Add(PoolDef("AvgPool")
            .Inputs(1)
            .Shape(AvgPoolShape)
            .Kernel(ForwardKernel(algorithm::pooling_avg_exclude_padding))
            .Layouts(LayoutSupport::kAny)
            .ReferenceKernel(SimpleKernel(ReferenceAvgPool))
            .Gradient(AvgPoolGradient)
            .Doc("Mean over size x size windows of x [N,C,H,W] every `stride`, padding not counted."));
  r.Add(PoolDef("AvgPoolGrad")
            .Inputs(1)
            .RequiredAttr("input_shape")
            .Shape(AvgPoolGradShape)
            .Kernel(BackwardKernel(algorithm::pooling_avg_exclude_padding))
            .Layouts(LayoutSupport::kAny)
            .ReferenceKernel(SimpleKernel(ReferenceAvgPoolGrad))
            .NoGradient()
            .Doc("dL/dx of AvgPool from dy; the output has shape `input_shape`."));
}

Output MaxPool(Graph& g, Output x, PoolOptions opts, absl::string_view name) {
  Node* n = g.AddNode(Def("MaxPool"), name, {x}, ToAttrs(opts));
  return n ? n->output(0) : Output{};
}

Output AvgPool(Graph& g, Output x, PoolOptions opts, absl::string_view name) {
  Node* n = g.AddNode(Def("AvgPool"), name, {x}, ToAttrs(opts));
  return n ? n->output(0) : Output{};
}

Output GlobalAvgPool(Graph& g, Output x, absl::string_view name) {
  if (!x.valid()) return AvgPool(g, x, {}, name);  // records the invalid input
  const Shape& s = x.shape();
  if (s.rank() != 4 || s[2] != s[3]) {
    g.RecordError(absl::InvalidArgumentError(absl::StrCat(
        "GlobalAvgPool '", name, "': the input must be [N,C,H,H], got ", x.spec().ToString())));
    return Output{};
  }
  return AvgPool(g, x, PoolOptions{s[2], s[2], 0, false}, name.empty() ? "GlobalAvgPool" : name);
}

Output MaxPoolGrad(Graph& g, Output dy, Output x, Output workspace, PoolOptions opts, absl::string_view name) {
  Node* n = g.AddNode(Def("MaxPoolGrad"), name, {dy, x, workspace}, ToAttrs(opts));
  return n ? n->output(0) : Output{};
}

Output AvgPoolGrad(Graph& g, Output dy, const Shape& input_shape, PoolOptions opts, absl::string_view name) {
  AttrMap attrs = ToAttrs(opts);
  attrs.Set("input_shape", input_shape.dims());
  Node* n = g.AddNode(Def("AvgPoolGrad"), name, {dy}, std::move(attrs));
  return n ? n->output(0) : Output{};
}

}  // namespace strata::ops
