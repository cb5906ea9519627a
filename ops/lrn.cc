// Local response normalisation. oneDNN kernels: lrn_forward (across channels,
// forward_training, so that it keeps a workspace) and lrn_backward with the
// forward primitive descriptor as its hint. oneDNN's jit LRN kernels want
// blocked or channels-last data (on plain NCHW the backward pass falls back to
// its reference loop), so the op picks the first layout of nhwc, nChw16c and
// nChw8c for which both passes are jit, else NCHW, and bridges the graph's
// NCHW tensors to it. The choice depends only on the shape, the options and
// the CPU, so the shape function (which sizes the workspace), LRN and LRNGrad
// all make the same one. Reference kernels: float64 loops; the gradient
// recomputes the denominators from x rather than reading the workspace.
#include "ops/lrn.h"

#include <algorithm>
#include <cmath>
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
absl::StatusOr<LRNOptions> ReadAttrs(const Context& c) {
  LRNOptions o;
  STRATA_ASSIGN_OR_RETURN(o.size, c.template Attr<int64_t>("size"));
  STRATA_ASSIGN_OR_RETURN(o.alpha, c.template Attr<double>("alpha"));
  STRATA_ASSIGN_OR_RETURN(o.beta, c.template Attr<double>("beta"));
  STRATA_ASSIGN_OR_RETURN(o.k, c.template Attr<double>("k"));
  return o;
}

AttrMap ToAttrs(const LRNOptions& o) {
  return {{"size", o.size}, {"alpha", o.alpha}, {"beta", o.beta}, {"k", o.k}};
}

absl::Status Validate(const InferenceContext& c, const Shape& x, const LRNOptions& o) {
  if (x.rank() != 4) return c.Error(absl::StrCat("the input must be NCHW (rank 4), got ", x.ToString()));
  if (o.size < 1 || o.size % 2 == 0) {
    return c.Error(absl::StrCat("the window size must be odd and positive (centred on each channel), got ",
                                o.size));
  }
  if (!(o.k > 0)) return c.Error(absl::StrCat("k must be > 0, got ", o.k));
  if (!(o.alpha >= 0)) return c.Error(absl::StrCat("alpha must be >= 0, got ", o.alpha));
  if (!(o.beta >= 0)) return c.Error(absl::StrCat("beta must be >= 0, got ", o.beta));
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// oneDNN primitive descriptors and the layout choice.

dnnl::primitive_attr UserScratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

memory::desc DataDesc(const Shape& x, memory::format_tag tag) {
  return memory::desc(onednn::Dims(x), memory::data_type::f32, tag);
}

// oneDNN applies alpha / size itself, so alpha goes in as given.
dnnl::lrn_forward::primitive_desc ForwardPd(const Shape& x, const LRNOptions& o, memory::format_tag tag,
                                            const dnnl::engine& engine) {
  return dnnl::lrn_forward::primitive_desc(
      dnnl::lrn_forward::desc(prop_kind::forward_training, algorithm::lrn_across_channels, DataDesc(x, tag),
                              o.size, static_cast<float>(o.alpha), static_cast<float>(o.beta),
                              static_cast<float>(o.k)),
      UserScratchpad(), engine);
}

dnnl::lrn_backward::primitive_desc BackwardPd(const Shape& x, const LRNOptions& o, memory::format_tag tag,
                                              const dnnl::engine& engine) {
  const memory::desc d = DataDesc(x, tag);
  return dnnl::lrn_backward::primitive_desc(
      dnnl::lrn_backward::desc(algorithm::lrn_across_channels, d, d, o.size, static_cast<float>(o.alpha),
                               static_cast<float>(o.beta), static_cast<float>(o.k)),
      UserScratchpad(), engine, ForwardPd(x, o, tag, engine));
}

bool IsReference(const dnnl::primitive_desc_base& pd) {
  return std::string(pd.impl_info_str()).find("ref") != std::string::npos;
}

// The layout both passes run in (see the top of the file). Must be called in
// a Guard: the NCHW fallback throws if oneDNN cannot do this LRN at all.
memory::format_tag ChooseLayout(const Shape& x, const LRNOptions& o, const dnnl::engine& engine) {
  using tag = memory::format_tag;
  for (tag t : {tag::nhwc, tag::nChw16c, tag::nChw8c}) {
    try {
      if (!IsReference(ForwardPd(x, o, t, engine)) && !IsReference(BackwardPd(x, o, t, engine))) return t;
    } catch (const dnnl::error&) {
      // This layout has no implementation at all here: try the next.
    }
  }
  return tag::nchw;
}


// Shape inference runs before any Session exists, so it asks a CPU engine of
// its own; kernels check that their engine agrees.
absl::StatusOr<int64_t> WorkspaceBytes(const InferenceContext& c, const Shape& x, const LRNOptions& o) {
  int64_t bytes = 0;
  absl::Status s = onednn::Guard("LRN workspace", [&] {
    static const dnnl::engine* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
    bytes = onednn::WorkspaceTensorBytes(ForwardPd(x, o, ChooseLayout(x, o, *engine), *engine).workspace_desc());
  });
  if (!s.ok()) return c.Error(s.message());
  return bytes;
}

// ---------------------------------------------------------------------------
// oneDNN kernels.


absl::StatusOr<std::unique_ptr<Kernel>> MakeForwardKernel(const KernelBuildContext& b) {
  STRATA_ASSIGN_OR_RETURN(LRNOptions o, ReadAttrs(b));
  const Shape& x = b.inputs[0].shape;
  auto k = std::make_unique<onednn::BridgedKernel>(b.device);
  memory::desc ws;
  STRATA_RETURN_IF_ERROR(onednn::Guard(absl::StrCat(b.node.Describe(), " (LRN forward)"), [&] {
    auto pd = ForwardPd(x, o, ChooseLayout(x, o, b.device->engine), b.device->engine);
    k->AddInput(DNNL_ARG_SRC, 0, onednn::InputDesc(b, 0), pd.src_desc());
    k->AddOutput(DNNL_ARG_DST, 0, onednn::OutputDesc(b, 0, pd.dst_desc()), pd.dst_desc());
    ws = pd.workspace_desc();
    k->SetWorkspace(/*is_input=*/false, 1, ws);
    k->SetPrimitive(dnnl::lrn_forward(pd), pd.scratchpad_desc());
  }));
  STRATA_RETURN_IF_ERROR(onednn::CheckWorkspace(b, b.outputs[1], ws));
  return std::unique_ptr<Kernel>(std::move(k));
}

// Inputs dy, x, workspace; output dx.
absl::StatusOr<std::unique_ptr<Kernel>> MakeBackwardKernel(const KernelBuildContext& b) {
  STRATA_ASSIGN_OR_RETURN(LRNOptions o, ReadAttrs(b));
  const Shape& x = b.inputs[1].shape;
  auto k = std::make_unique<onednn::BridgedKernel>(b.device);
  memory::desc ws;
  STRATA_RETURN_IF_ERROR(onednn::Guard(absl::StrCat(b.node.Describe(), " (LRN backward)"), [&] {
    auto pd = BackwardPd(x, o, ChooseLayout(x, o, b.device->engine), b.device->engine);
    k->AddInput(DNNL_ARG_DIFF_DST, 0, onednn::InputDesc(b, 0), pd.diff_dst_desc());
    k->AddInput(DNNL_ARG_SRC, 1, onednn::InputDesc(b, 1), pd.src_desc());
    k->AddOutput(DNNL_ARG_DIFF_SRC, 0, onednn::OutputDesc(b, 0, pd.diff_src_desc()), pd.diff_src_desc());
    ws = pd.workspace_desc();
    k->SetWorkspace(/*is_input=*/true, 2, ws);
    k->SetPrimitive(dnnl::lrn_backward(pd), pd.scratchpad_desc());
  }));
  // A backward implementation without a workspace ignores the forward's.
  if (ws.get_size() > 0) STRATA_RETURN_IF_ERROR(onednn::CheckWorkspace(b, b.inputs[2], ws));
  return std::unique_ptr<Kernel>(std::move(k));
}

// ---------------------------------------------------------------------------
// Reference kernels.

// d[i] = k + alpha/size * (sum of x^2 over the window of i's channel), for
// every element of x [N,C,H,W].
std::vector<double> Denominators(const double* x, const Shape& s, const LRNOptions& o) {
  const int64_t n = s[0], c = s[1], hw = s[2] * s[3], half = (o.size - 1) / 2;
  const double scale = o.alpha / static_cast<double>(o.size);
  std::vector<double> d(s.num_elements());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < hw; ++p) {
        double sum = 0;
        for (int64_t j = std::max<int64_t>(0, ch - half); j <= std::min(c - 1, ch + half); ++j) {
          const double v = x[(b * c + j) * hw + p];
          sum += v * v;
        }
        d[(b * c + ch) * hw + p] = o.k + scale * sum;
      }
  return d;
}

// Output 1 (the workspace) stays zero: reference runs never use it.
absl::Status ReferenceForward(const Node& node, KernelRunContext& ctx) {
  STRATA_ASSIGN_OR_RETURN(LRNOptions o, ReadAttrs(node));
  const Tensor& x = *ctx.inputs[0];
  const double* px = x.data<double>();
  const std::vector<double> d = Denominators(px, x.shape(), o);
  double* y = Out<double>(ctx, 0);
  for (int64_t i = 0; i < x.num_elements(); ++i) y[i] = px[i] * std::pow(d[i], -o.beta);
  return absl::OkStatus();
}

// With y_c = x_c d_c^-beta and d_c = k + alpha/size sum_{j in window(c)} x_j^2:
// dx_j = dy_j d_j^-beta - 2 beta alpha/size x_j sum_{c: j in window(c)} dy_c x_c d_c^(-beta-1),
// and j is in window(c) exactly when c is in window(j).
absl::Status ReferenceBackward(const Node& node, KernelRunContext& ctx) {
  STRATA_ASSIGN_OR_RETURN(LRNOptions o, ReadAttrs(node));
  const Tensor& x = *ctx.inputs[1];
  const Shape& s = x.shape();
  const double* px = x.data<double>();
  const double* dy = In<double>(ctx, 0);
  double* dx = Out<double>(ctx, 0);
  const std::vector<double> d = Denominators(px, s, o);
  std::vector<double> t(d.size());  // dy_c x_c d_c^(-beta-1)
  for (size_t i = 0; i < d.size(); ++i) t[i] = dy[i] * px[i] * std::pow(d[i], -o.beta - 1);
  const int64_t n = s[0], c = s[1], hw = s[2] * s[3], half = (o.size - 1) / 2;
  const double scale = 2 * o.beta * o.alpha / static_cast<double>(o.size);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < hw; ++p) {
        double sum = 0;
        for (int64_t j = std::max<int64_t>(0, ch - half); j <= std::min(c - 1, ch + half); ++j) {
          sum += t[(b * c + j) * hw + p];
        }
        const int64_t i = (b * c + ch) * hw + p;
        dx[i] = dy[i] * std::pow(d[i], -o.beta) - scale * px[i] * sum;
      }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Shape functions and the gradient rule.

absl::Status LrnShape(InferenceContext& c) {
  STRATA_RETURN_IF_ERROR(c.ExpectDType(0, DType::kFloat32));
  STRATA_ASSIGN_OR_RETURN(LRNOptions o, ReadAttrs(c));
  const Shape& x = c.input(0).shape;
  STRATA_RETURN_IF_ERROR(Validate(c, x, o));
  STRATA_ASSIGN_OR_RETURN(int64_t bytes, WorkspaceBytes(c, x, o));
  c.set_output(0, {DType::kFloat32, x});
  c.set_output(1, {DType::kUInt8, Shape{bytes}});
  return absl::OkStatus();
}

// Inputs dy, x, workspace.
absl::Status LrnGradShape(InferenceContext& c) {
  STRATA_RETURN_IF_ERROR(c.ExpectDType(0, DType::kFloat32));
  STRATA_RETURN_IF_ERROR(c.ExpectDType(1, DType::kFloat32));
  STRATA_ASSIGN_OR_RETURN(LRNOptions o, ReadAttrs(c));
  const Shape& x = c.input(1).shape;
  STRATA_RETURN_IF_ERROR(Validate(c, x, o));
  if (c.input(0).shape != x) {
    return c.Error(absl::StrCat("the output gradient must be ", x.ToString(), ", got ", c.input(0).shape.ToString()));
  }
  STRATA_RETURN_IF_ERROR(c.ExpectDType(2, DType::kUInt8));
  STRATA_RETURN_IF_ERROR(c.ExpectRank(2, 1));
  STRATA_ASSIGN_OR_RETURN(int64_t bytes, WorkspaceBytes(c, x, o));
  if (c.input(2).shape[0] != bytes) {
    return c.Error(absl::StrCat("the workspace must be the ", bytes, " bytes LRN gives for ", x.ToString(),
                                " with these options, got ", c.input(2).shape[0]));
  }
  c.set_output(0, c.input(1));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Output>> LrnGradient(GradientContext& c) {
  const Output dy = c.output_grads[0];
  if (!dy.valid()) return std::vector<Output>{Output{}};
  STRATA_ASSIGN_OR_RETURN(LRNOptions o, ReadAttrs(c.node));
  // The workspace is an output of the forward node; the rule only reads it.
  Output workspace{const_cast<Node*>(&c.node), 1};
  return std::vector<Output>{LRNGrad(c.graph, dy, c.node.inputs()[0], workspace, o, "lrn_grad")};
}

OpDef LrnDef(const std::string& name) {
  OpDef def(name);
  const LRNOptions defaults;
  def.Attr("size", defaults.size).Attr("alpha", defaults.alpha).Attr("beta", defaults.beta).Attr("k", defaults.k);
  return def;
}

}  // namespace

void RegisterLrnOps(OpRegistry& r) {
  r.Add(LrnDef("LRN")
            .Inputs(1)
            .Outputs(2)
            .Shape(LrnShape)
            .Kernel(MakeForwardKernel)
            .Layouts(LayoutSupport::kAny)
            .ReferenceKernel(SimpleKernel(ReferenceForward))
            .Gradient(LrnGradient)
            .Doc("Local response normalisation across channels of x [N,C,H,W]: y = x / (k + alpha/size * sum "
                 "of x^2 over the `size` channels centred on each)^beta; output 1 is oneDNN's workspace (uint8 "
                 "bytes) for LRNGrad."));
  r.Add(LrnDef("LRNGrad")
            .Inputs(3)
            .Shape(LrnGradShape)
            .Kernel(MakeBackwardKernel)
            .Layouts(LayoutSupport::kAny, /*plain=*/{2})
            .ReferenceKernel(SimpleKernel(ReferenceBackward))
            .NoGradient()
            .Doc("dL/dx of LRN from dy, x and the forward node's workspace."));
}

Output LRN(Graph& g, Output x, LRNOptions opts, absl::string_view name) {
  Node* n = g.AddNode(Def("LRN"), name, {x}, ToAttrs(opts));
  return n ? n->output(0) : Output{};
}

Output LRNGrad(Graph& g, Output dy, Output x, Output workspace, LRNOptions opts, absl::string_view name) {
  Node* n = g.AddNode(Def("LRNGrad"), name, {dy, x, workspace}, ToAttrs(opts));
  return n ? n->output(0) : Output{};
}

}  // namespace strata::ops
