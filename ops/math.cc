// Elementwise arithmetic and reductions. oneDNN kernels: binary (add, sub,
// mul with scalar broadcast) and reduction; reference kernels: plain loops.
#include "ops/math.h"

#include "graph/status_macros.h"
#include "ops/kernel_util.h"
#include "ops/onednn.h"
#include "ops/registry.h"

namespace strata::ops {
namespace {

using dnnl::algorithm;
using onednn::memory;

bool IsScalar(const TensorSpec& s) { return s.shape.num_elements() == 1 && s.shape.rank() == 0; }

// All ones, in the rank of `like`: how oneDNN broadcasts a scalar.
memory::desc BroadcastDesc(const TensorSpec& like) {
  memory::dims ones(std::max(1, like.shape.rank()), 1);
  return memory::desc(ones, onednn::DataType(like.dtype), onednn::PlainTag(static_cast<int>(ones.size())));
}

absl::Status BinaryShape(InferenceContext& c) {
  const TensorSpec& a = c.input(0);
  const TensorSpec& b = c.input(1);
  if (a.dtype != b.dtype) return c.Error("operands have different dtypes");
  if (a.shape != b.shape && !IsScalar(b)) {
    return c.Error("operands must have the same shape, or the second must be a scalar");
  }
  c.set_output(0, a);
  return absl::OkStatus();
}

class BinaryKernel : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Make(const KernelBuildContext& b, algorithm alg) {
    auto k = std::make_unique<BinaryKernel>();
    k->device_ = b.device;
    const TensorSpec& out = b.outputs[0];
    memory::desc dst = onednn::PlainDesc(out);
    if (out.shape.rank() == 0) dst = BroadcastDesc(out);
    k->src0_ = dst;
    k->src1_ = IsScalar(b.inputs[1]) ? BroadcastDesc(out) : dst;
    k->dst_ = dst;
    STRATA_RETURN_IF_ERROR(onednn::Guard(b.node.Describe(), [&] {
      k->primitive_ = dnnl::binary(dnnl::binary::primitive_desc(dnnl::binary::desc(alg, k->src0_, k->src1_, dst),
                                                                b.device->engine));
    }));
    return std::unique_ptr<Kernel>(std::move(k));
  }
  absl::Status Run(KernelRunContext& ctx) override {
    const dnnl::engine& e = device_->engine;
    primitive_.execute(device_->stream, {{DNNL_ARG_SRC_0, memory(src0_, e, ctx.inputs[0]->raw_data())},
                                         {DNNL_ARG_SRC_1, memory(src1_, e, ctx.inputs[1]->raw_data())},
                                         {DNNL_ARG_DST, memory(dst_, e, ctx.outputs[0]->raw_data())}});
    return absl::OkStatus();
  }

 private:
  DeviceContext* device_ = nullptr;
  memory::desc src0_, src1_, dst_;
  dnnl::binary primitive_;
};

template <typename Op>
KernelFactory ReferenceBinary(Op op) {
  return SimpleKernel([op](const Node&, KernelRunContext& ctx) {
    const Tensor& a = *ctx.inputs[0];
    const Tensor& b = *ctx.inputs[1];
    const bool scalar = b.num_elements() == 1 && a.num_elements() != 1;
    const double* pa = a.data<double>();
    const double* pb = b.data<double>();
    double* out = Out<double>(ctx, 0);
    for (int64_t i = 0; i < a.num_elements(); ++i) out[i] = op(pa[i], pb[scalar ? 0 : i]);
    return absl::OkStatus();
  });
}

class ReductionKernel : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Make(const KernelBuildContext& b, algorithm alg) {
    auto k = std::make_unique<ReductionKernel>();
    k->device_ = b.device;
    k->src_ = onednn::PlainDesc(b.inputs[0]);
    k->dst_ = BroadcastDesc(b.inputs[0]);
    STRATA_RETURN_IF_ERROR(onednn::Guard(b.node.Describe(), [&] {
      k->primitive_ = dnnl::reduction(dnnl::reduction::primitive_desc(
          dnnl::reduction::desc(alg, k->src_, k->dst_, 0.f, 0.f), b.device->engine));
    }));
    return std::unique_ptr<Kernel>(std::move(k));
  }
  absl::Status Run(KernelRunContext& ctx) override {
    const dnnl::engine& e = device_->engine;
    primitive_.execute(device_->stream, {{DNNL_ARG_SRC, memory(src_, e, ctx.inputs[0]->raw_data())},
                                         {DNNL_ARG_DST, memory(dst_, e, ctx.outputs[0]->raw_data())}});
    return absl::OkStatus();
  }

 private:
  DeviceContext* device_ = nullptr;
  memory::desc src_, dst_;
  dnnl::reduction primitive_;
};

KernelFactory ReferenceReduction(bool mean) {
  return SimpleKernel([mean](const Node&, KernelRunContext& ctx) {
    const Tensor& x = *ctx.inputs[0];
    double s = 0;
    for (double v : x.flat<double>()) s += v;
    Out<double>(ctx, 0)[0] = mean ? s / static_cast<double>(x.num_elements()) : s;
    return absl::OkStatus();
  });
}

absl::Status ScalarShape(InferenceContext& c) {
  c.set_output(0, {c.input(0).dtype, Shape{}});
  return absl::OkStatus();
}

// Gradient of the scalar second operand of a broadcasting binary op.
Output ReduceIfScalar(Graph& g, const Node& node, Output grad) {
  return IsScalar(node.inputs()[1].spec()) && !IsScalar(node.inputs()[0].spec()) ? Sum(g, grad) : grad;
}

}  // namespace

void RegisterMathOps(OpRegistry& r) {
  r.Add(OpDef("Add")
            .Inputs(2)
            .Shape(BinaryShape)
            .Kernel([](const KernelBuildContext& b) { return BinaryKernel::Make(b, algorithm::binary_add); })
            .ReferenceKernel(ReferenceBinary([](double a, double b) { return a + b; }))
            .Gradient([](GradientContext& c) -> absl::StatusOr<std::vector<Output>> {
              Output dy = c.output_grads[0];
              return std::vector<Output>{dy, ReduceIfScalar(c.graph, c.node, dy)};
            })
            .Doc("a + b; b may be a scalar."));
  r.Add(OpDef("Sub")
            .Inputs(2)
            .Shape(BinaryShape)
            .Kernel([](const KernelBuildContext& b) { return BinaryKernel::Make(b, algorithm::binary_sub); })
            .ReferenceKernel(ReferenceBinary([](double a, double b) { return a - b; }))
            .Gradient([](GradientContext& c) -> absl::StatusOr<std::vector<Output>> {
              Output dy = c.output_grads[0];
              Output neg = Mul(c.graph, dy, ScalarConstLike(c.graph, dy, -1.0));
              return std::vector<Output>{dy, ReduceIfScalar(c.graph, c.node, neg)};
            })
            .Doc("a - b; b may be a scalar."));
  r.Add(OpDef("Mul")
            .Inputs(2)
            .Shape(BinaryShape)
            .Kernel([](const KernelBuildContext& b) { return BinaryKernel::Make(b, algorithm::binary_mul); })
            .ReferenceKernel(ReferenceBinary([](double a, double b) { return a * b; }))
            .Gradient([](GradientContext& c) -> absl::StatusOr<std::vector<Output>> {
              Output dy = c.output_grads[0];
              Output a = c.node.inputs()[0], b = c.node.inputs()[1];
              return std::vector<Output>{Mul(c.graph, dy, b),
                                         ReduceIfScalar(c.graph, c.node, Mul(c.graph, dy, a))};
            })
            .Doc("a * b elementwise; b may be a scalar."));
  r.Add(OpDef("Sum")
            .Inputs(1)
            .Shape(ScalarShape)
            .Kernel([](const KernelBuildContext& b) { return ReductionKernel::Make(b, algorithm::reduction_sum); })
            .ReferenceKernel(ReferenceReduction(false))
            .Gradient([](GradientContext& c) -> absl::StatusOr<std::vector<Output>> {
              return std::vector<Output>{BroadcastTo(c.graph, c.output_grads[0], c.node.inputs()[0].shape())};
            })
            .Doc("The sum of all elements, as a scalar."));
  r.Add(OpDef("Mean")
            .Inputs(1)
            .Shape(ScalarShape)
            .Kernel([](const KernelBuildContext& b) { return ReductionKernel::Make(b, algorithm::reduction_mean); })
            .ReferenceKernel(ReferenceReduction(true))
            .Gradient([](GradientContext& c) -> absl::StatusOr<std::vector<Output>> {
              const Shape& shape = c.node.inputs()[0].shape();
              Output scale = ScalarConstLike(c.graph, c.output_grads[0], 1.0 / shape.num_elements());
              return std::vector<Output>{BroadcastTo(c.graph, Mul(c.graph, c.output_grads[0], scale), shape)};
            })
            .Doc("The mean of all elements, as a scalar."));
  r.Add(OpDef("BroadcastTo")
            .Inputs(1)
            .RequiredAttr("shape")
            .Shape([](InferenceContext& c) -> absl::Status {
              if (c.input(0).shape.num_elements() != 1) return c.Error("input must be a scalar");
              STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> dims, c.Attr<std::vector<int64_t>>("shape"));
              auto shape = Shape::Validated(dims);
              if (!shape.ok()) return c.Error(shape.status().message());
              c.set_output(0, {c.input(0).dtype, *shape});
              return absl::OkStatus();
            })
            .Kernel(SimpleKernel([](const Node&, KernelRunContext& ctx) {
              const float v = In<float>(ctx, 0)[0];
              for (float& o : ctx.outputs[0]->flat<float>()) o = v;
              return absl::OkStatus();
            }))
            .ReferenceKernel(SimpleKernel([](const Node&, KernelRunContext& ctx) {
              const double v = In<double>(ctx, 0)[0];
              for (double& o : ctx.outputs[0]->flat<double>()) o = v;
              return absl::OkStatus();
            }))
            .Gradient([](GradientContext& c) -> absl::StatusOr<std::vector<Output>> {
              return std::vector<Output>{Sum(c.graph, c.output_grads[0])};
            })
            .Doc("Repeats a scalar to a shape."));
}

Output ScalarConstLike(Graph& g, Output like, double value) {
  if (!like.valid()) return Output{};
  Tensor t = like.dtype() == DType::kFloat64 ? Tensor::Scalar<double>(value)
                                             : Tensor::Scalar<float>(static_cast<float>(value));
  Node* n = g.AddNode(Def("Const"), "const", {}, {{"value", std::move(t)}});
  return n ? n->output(0) : Output{};
}

namespace {
Output Unary(Graph& g, absl::string_view op, Output x, absl::string_view name, AttrMap attrs = {}) {
  Node* n = g.AddNode(Def(op), name, {x}, std::move(attrs));
  return n ? n->output(0) : Output{};
}
Output Binary(Graph& g, absl::string_view op, Output a, Output b, absl::string_view name) {
  Node* n = g.AddNode(Def(op), name, {a, b});
  return n ? n->output(0) : Output{};
}
}  // namespace

Output Add(Graph& g, Output a, Output b, absl::string_view name) { return Binary(g, "Add", a, b, name); }
Output Sub(Graph& g, Output a, Output b, absl::string_view name) { return Binary(g, "Sub", a, b, name); }
Output Mul(Graph& g, Output a, Output b, absl::string_view name) { return Binary(g, "Mul", a, b, name); }
Output Sum(Graph& g, Output x, absl::string_view name) { return Unary(g, "Sum", x, name); }
Output Mean(Graph& g, Output x, absl::string_view name) { return Unary(g, "Mean", x, name); }
Output BroadcastTo(Graph& g, Output scalar, const Shape& shape, absl::string_view name) {
  return Unary(g, "BroadcastTo", scalar, name, {{"shape", shape.dims()}});
}

}  // namespace strata::ops
