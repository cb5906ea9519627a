// Activations (oneDNN eltwise), softmax (oneDNN softmax) and the fused
// softmax cross-entropy loss and ArgMax (own loops: oneDNN has no primitive
// that takes integer labels). Reference kernels are plain loops in double.
#include "ops/nn.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"
#include "ops/kernel_util.h"
#include "ops/math.h"
#include "ops/onednn.h"
#include "ops/registry.h"

namespace strata::ops {
namespace {

using dnnl::algorithm;
using dnnl::prop_kind;
using onednn::memory;

using onednn::MakePrimitiveKernel;
using onednn::PrimitiveKernel;

Output AddOp(Graph& g, absl::string_view op, std::vector<Output> inputs, absl::string_view name,
             AttrMap attrs = {}) {
  Node* n = g.AddNode(Def(op), name, std::move(inputs), std::move(attrs));
  return n ? n->output(0) : Output{};
}

Output OwnOutput(const Node& node, int i) { return Output{const_cast<Node*>(&node), i}; }

absl::Status SameAsInput(InferenceContext& c) {
  STRATA_RETURN_IF_ERROR(c.ExpectDType(0, DType::kFloat32));
  c.set_output(0, c.input(0));
  return absl::OkStatus();
}

absl::Status ExpectRows(InferenceContext& c, int i) {
  STRATA_RETURN_IF_ERROR(c.ExpectDType(i, DType::kFloat32));
  return c.ExpectRank(i, 2);
}

// --- Eltwise activations ------------------------------------------------

struct EltwiseKind {
  const char* op;    // the forward op
  const char* kind;  // EltwiseGrad's "kind" attribute
  algorithm forward;
  // Every derivative here is taken from y: relu's (y > 0 exactly when
  // x > 0) so that a ReLU fused into its convolution (runtime/fusion.h)
  // needs nothing but its output, tanh's and sigmoid's because that is
  // cheapest. A saved graph whose relu EltwiseGrad reads x still works: x > 0
  // and y > 0 agree.
  algorithm backward;
  bool backward_uses_dst;
  double (*f)(double x);
  double (*df)(double dy, double x_or_y);
};

const EltwiseKind kEltwiseKinds[] = {
    {"Relu", "relu", algorithm::eltwise_relu, algorithm::eltwise_relu_use_dst_for_bwd, true,
     [](double x) { return x > 0 ? x : 0.0; }, [](double dy, double y) { return y > 0 ? dy : 0.0; }},
    {"Tanh", "tanh", algorithm::eltwise_tanh, algorithm::eltwise_tanh_use_dst_for_bwd, true,
     [](double x) { return std::tanh(x); }, [](double dy, double y) { return dy * (1 - y * y); }},
    {"Sigmoid", "sigmoid", algorithm::eltwise_logistic, algorithm::eltwise_logistic_use_dst_for_bwd, true,
     [](double x) { return 1 / (1 + std::exp(-x)); }, [](double dy, double y) { return dy * y * (1 - y); }},
};

const EltwiseKind* FindEltwiseKind(absl::string_view kind) {
  for (const EltwiseKind& k : kEltwiseKinds) {
    if (kind == k.kind) return &k;
  }
  return nullptr;
}

// Elementwise ops see every tensor as one dense vector, whatever its rank.
memory::desc FlatDesc(const TensorSpec& spec) {
  return memory::desc({spec.shape.num_elements()}, memory::data_type::f32, memory::format_tag::a);
}

KernelFactory EltwiseForwardKernel(const EltwiseKind& k) {
  return [&k](const KernelBuildContext& b) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    const memory::desc data = FlatDesc(b.inputs[0]);
    dnnl::eltwise_forward p;
    STRATA_RETURN_IF_ERROR(onednn::Guard(b.node.Describe(), [&] {
      p = dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(
          dnnl::eltwise_forward::desc(prop_kind::forward_training, k.forward, data), b.device->engine));
    }));
    return MakePrimitiveKernel(b.device, p, {{DNNL_ARG_SRC, false, 0, data}, {DNNL_ARG_DST, true, 0, data}});
  };
}

KernelFactory EltwiseForwardReference(const EltwiseKind& k) {
  return SimpleKernel([&k](const Node&, KernelRunContext& ctx) {
    const double* x = In<double>(ctx, 0);
    double* y = Out<double>(ctx, 0);
    const int64_t n = ctx.inputs[0]->num_elements();
    for (int64_t i = 0; i < n; ++i) y[i] = k.f(x[i]);
    return absl::OkStatus();
  });
}

absl::StatusOr<const EltwiseKind*> KindOf(const Node& node) {
  STRATA_ASSIGN_OR_RETURN(std::string kind, node.Attr<std::string>("kind"));
  const EltwiseKind* k = FindEltwiseKind(kind);
  if (k == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(node.Describe(), ": unknown kind '", kind, "' (relu, tanh or sigmoid)"));
  }
  return k;
}

absl::Status EltwiseGradShape(InferenceContext& c) {
  STRATA_RETURN_IF_ERROR(c.ExpectDType(0, DType::kFloat32));
  if (c.input(1) != c.input(0)) return c.Error("dy and the forward value must have the same spec");
  auto k = KindOf(c.node());
  if (!k.ok()) return c.Error(k.status().message());
  c.set_output(0, c.input(0));
  return absl::OkStatus();
}

// dx = (a + b) where y > 0, else 0, in one pass: the ReLU's gradient of a
// value whose gradient arrives in two parts (a shortcut's), with the Add
// that summed them fused in (KernelBuildContext::Epilogue::dy_is_sum).
class SummedReluGradKernel : public Kernel {
 public:
  absl::Status Run(KernelRunContext& ctx) override {
    const float* a = In<float>(ctx, 0);
    const float* b = In<float>(ctx, 1);
    const float* y = In<float>(ctx, 2);
    float* dx = Out<float>(ctx, 0);
    const int64_t n = ctx.outputs[0]->num_elements();
#pragma omp parallel for simd if (n > 65536)
    for (int64_t i = 0; i < n; ++i) dx[i] = y[i] > 0 ? a[i] + b[i] : 0.0f;
    return absl::OkStatus();
  }
};

absl::StatusOr<std::unique_ptr<Kernel>> EltwiseGradKernel(const KernelBuildContext& b) {
  STRATA_ASSIGN_OR_RETURN(const EltwiseKind* k, KindOf(b.node));
  if (b.epilogue.dy_is_sum) {
    if (std::string(k->kind) != "relu" || b.inputs.size() != 3) {
      return absl::InternalError(absl::StrCat(b.node.Describe(), ": only a relu gradient takes its dy as a sum"));
    }
    return std::unique_ptr<Kernel>(new SummedReluGradKernel());
  }
  const memory::desc data = FlatDesc(b.inputs[0]);
  dnnl::eltwise_backward p;
  STRATA_RETURN_IF_ERROR(onednn::Guard(b.node.Describe(), [&] {
    // The forward node's pd lives in another kernel; an equivalent one (same
    // algorithm and layout) serves as the hint.
    dnnl::eltwise_forward::primitive_desc hint(
        dnnl::eltwise_forward::desc(prop_kind::forward_training, k->backward, data), b.device->engine);
    p = dnnl::eltwise_backward(dnnl::eltwise_backward::primitive_desc(
        dnnl::eltwise_backward::desc(k->backward, data, data), b.device->engine, hint));
  }));
  return MakePrimitiveKernel(b.device, p,
                             {{DNNL_ARG_DIFF_DST, false, 0, data},
                              {k->backward_uses_dst ? DNNL_ARG_DST : DNNL_ARG_SRC, false, 1, data},
                              {DNNL_ARG_DIFF_SRC, true, 0, data}});
}

absl::Status ReferenceEltwiseGrad(const Node& node, KernelRunContext& ctx) {
  STRATA_ASSIGN_OR_RETURN(const EltwiseKind* k, KindOf(node));
  const double* dy = In<double>(ctx, 0);
  const double* v = In<double>(ctx, 1);
  double* dx = Out<double>(ctx, 0);
  const int64_t n = ctx.inputs[0]->num_elements();
  for (int64_t i = 0; i < n; ++i) dx[i] = k->df(dy[i], v[i]);
  return absl::OkStatus();
}

GradientFn EltwiseGradient(const EltwiseKind& k) {
  return [&k](GradientContext& c) -> absl::StatusOr<std::vector<Output>> {
    Output v = k.backward_uses_dst ? OwnOutput(c.node, 0) : c.node.inputs()[0];
    return std::vector<Output>{
        AddOp(c.graph, "EltwiseGrad", {c.output_grads[0], v}, "EltwiseGrad", {{"kind", std::string(k.kind)}})};
  };
}

// --- Softmax --------------------------------------------------------------

absl::Status SoftmaxShape(InferenceContext& c) {
  STRATA_RETURN_IF_ERROR(ExpectRows(c, 0));
  c.set_output(0, c.input(0));
  return absl::OkStatus();
}

dnnl::softmax_forward::primitive_desc SoftmaxForwardPd(const memory::desc& data, const dnnl::engine& e) {
  return dnnl::softmax_forward::primitive_desc(
      dnnl::softmax_forward::desc(prop_kind::forward_training, data, /*axis=*/1), e);
}

absl::StatusOr<std::unique_ptr<Kernel>> SoftmaxKernel(const KernelBuildContext& b) {
  const memory::desc data = onednn::PlainDesc(b.inputs[0]);
  dnnl::softmax_forward p;
  STRATA_RETURN_IF_ERROR(onednn::Guard(b.node.Describe(), [&] {
    p = dnnl::softmax_forward(SoftmaxForwardPd(data, b.device->engine));
  }));
  return MakePrimitiveKernel(b.device, p, {{DNNL_ARG_SRC, false, 0, data}, {DNNL_ARG_DST, true, 0, data}});
}

absl::Status ReferenceSoftmax(const Node&, KernelRunContext& ctx) {
  const int64_t n = ctx.inputs[0]->shape()[0], classes = ctx.inputs[0]->shape()[1];
  const double* x = In<double>(ctx, 0);
  double* y = Out<double>(ctx, 0);
  for (int64_t r = 0; r < n; ++r) {
    const double* xr = x + r * classes;
    double* yr = y + r * classes;
    const double m = *std::max_element(xr, xr + classes);
    double sum = 0;
    for (int64_t j = 0; j < classes; ++j) sum += (yr[j] = std::exp(xr[j] - m));
    for (int64_t j = 0; j < classes; ++j) yr[j] /= sum;
  }
  return absl::OkStatus();
}

absl::Status SoftmaxGradShape(InferenceContext& c) {
  STRATA_RETURN_IF_ERROR(ExpectRows(c, 0));
  if (c.input(1) != c.input(0)) return c.Error("dy and y must have the same spec");
  c.set_output(0, c.input(0));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Kernel>> SoftmaxGradKernel(const KernelBuildContext& b) {
  const memory::desc data = onednn::PlainDesc(b.inputs[0]);
  dnnl::softmax_backward p;
  STRATA_RETURN_IF_ERROR(onednn::Guard(b.node.Describe(), [&] {
    p = dnnl::softmax_backward(dnnl::softmax_backward::primitive_desc(
        dnnl::softmax_backward::desc(data, data, /*axis=*/1), b.device->engine,
        SoftmaxForwardPd(data, b.device->engine)));
  }));
  return MakePrimitiveKernel(b.device, p,
                             {{DNNL_ARG_DIFF_DST, false, 0, data},
                              {DNNL_ARG_DST, false, 1, data},
                              {DNNL_ARG_DIFF_SRC, true, 0, data}});
}

// dx = y * (dy - sum_j dy_j y_j), row by row.
absl::Status ReferenceSoftmaxGrad(const Node&, KernelRunContext& ctx) {
  const int64_t n = ctx.inputs[0]->shape()[0], classes = ctx.inputs[0]->shape()[1];
  const double* dy = In<double>(ctx, 0);
  const double* y = In<double>(ctx, 1);
  double* dx = Out<double>(ctx, 0);
  for (int64_t r = 0; r < n * classes; r += classes) {
    double dot = 0;
    for (int64_t j = 0; j < classes; ++j) dot += dy[r + j] * y[r + j];
    for (int64_t j = 0; j < classes; ++j) dx[r + j] = y[r + j] * (dy[r + j] - dot);
  }
  return absl::OkStatus();
}

// --- Softmax cross-entropy ------------------------------------------------

absl::Status XentShape(InferenceContext& c) {
  STRATA_RETURN_IF_ERROR(ExpectRows(c, 0));
  STRATA_RETURN_IF_ERROR(c.ExpectDType(1, DType::kInt32));
  STRATA_RETURN_IF_ERROR(c.ExpectRank(1, 1));
  if (c.input(1).shape[0] != c.input(0).shape[0]) {
    return c.Error(absl::StrCat("there are ", c.input(1).shape[0], " labels for ", c.input(0).shape[0],
                                " rows of logits"));
  }
  c.set_output(0, {c.input(0).dtype, Shape{}});
  c.set_output(1, c.input(0));
  return absl::OkStatus();
}

// Output 0: the mean loss; output 1: its gradient (softmax - onehot) / N,
// computed in the same pass since the softmax is at hand. T is float for the
// kernel and double for the reference kernel.
template <typename T>
class XentKernel : public Kernel {
 public:
  explicit XentKernel(const KernelBuildContext& b)
      : rows_(b.inputs[0].shape[0]), classes_(b.inputs[0].shape[1]), row_loss_(rows_) {}

  absl::Status Run(KernelRunContext& ctx) override {
    const T* logits = In<T>(ctx, 0);
    const int32_t* labels = In<int32_t>(ctx, 1);
    for (int64_t r = 0; r < rows_; ++r) {
      if (labels[r] < 0 || labels[r] >= classes_) {
        return absl::InvalidArgumentError(absl::StrCat("example ", r, " has label ", labels[r],
                                                       ", outside the class range [0, ", classes_, ")"));
      }
    }
    T* grad = Out<T>(ctx, 1);
    const T inv_rows = T(1) / static_cast<T>(rows_);
#pragma omp parallel for if (rows_ * classes_ > 4096)
    for (int64_t r = 0; r < rows_; ++r) {
      const T* x = logits + r * classes_;
      T* g = grad + r * classes_;
      const T m = *std::max_element(x, x + classes_);
      T sum = 0;
      for (int64_t j = 0; j < classes_; ++j) sum += (g[j] = std::exp(x[j] - m));
      const T scale = inv_rows / sum;
      for (int64_t j = 0; j < classes_; ++j) g[j] *= scale;
      g[labels[r]] -= inv_rows;
      // -log(exp(x_l - m) / sum), without forming the (possibly 0) ratio.
      row_loss_[r] = std::log(static_cast<double>(sum)) - static_cast<double>(x[labels[r]] - m);
    }
    // Summed in order so that the loss does not depend on the thread count.
    double total = 0;
    for (double l : row_loss_) total += l;
    Out<T>(ctx, 0)[0] = static_cast<T>(total / static_cast<double>(rows_));
    return absl::OkStatus();
  }

 private:
  int64_t rows_, classes_;
  std::vector<double> row_loss_;
};

template <typename T>
absl::StatusOr<std::unique_ptr<Kernel>> MakeXentKernel(const KernelBuildContext& b) {
  return std::unique_ptr<Kernel>(new XentKernel<T>(b));
}

absl::StatusOr<std::vector<Output>> XentGradient(GradientContext& c) {
  if (c.output_grads[1].valid()) {
    return absl::UnimplementedError("no gradient flows through output 1 (the gradient of the loss itself)");
  }
  Output dy = c.output_grads[0];
  // dy is a scalar, so Mul broadcasts it over [N,C].
  return std::vector<Output>{Mul(c.graph, OwnOutput(c.node, 1), dy), Output{}};
}

// --- ArgMax -----------------------------------------------------------------

absl::Status ArgMaxShape(InferenceContext& c) {
  STRATA_RETURN_IF_ERROR(ExpectRows(c, 0));
  c.set_output(0, {DType::kInt32, Shape{c.input(0).shape[0]}});
  return absl::OkStatus();
}

template <typename T>
absl::Status ArgMaxLoop(const Node&, KernelRunContext& ctx) {
  const int64_t n = ctx.inputs[0]->shape()[0], classes = ctx.inputs[0]->shape()[1];
  const T* x = In<T>(ctx, 0);
  int32_t* out = Out<int32_t>(ctx, 0);
#pragma omp parallel for if (n * classes > 4096)
  for (int64_t r = 0; r < n; ++r) {
    const T* row = x + r * classes;
    out[r] = static_cast<int32_t>(std::max_element(row, row + classes) - row);
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterNnOps(OpRegistry& r) {
  for (const EltwiseKind& k : kEltwiseKinds) {
    r.Add(OpDef(k.op)
              .Inputs(1)
              .Shape(SameAsInput)
              .Kernel(EltwiseForwardKernel(k))
              .Layouts(LayoutSupport::kElementwise)
              .ReferenceKernel(EltwiseForwardReference(k))
              .Gradient(EltwiseGradient(k))
              .Doc(absl::StrCat("Elementwise ", k.kind, ", any shape.")));
  }
  r.Add(OpDef("EltwiseGrad")
            .Inputs(2)
            .RequiredAttr("kind")
            .Shape(EltwiseGradShape)
            .Kernel(EltwiseGradKernel)
            .Layouts(LayoutSupport::kElementwise)
            .ReferenceKernel(SimpleKernel(ReferenceEltwiseGrad))
            .Doc("Backward of an activation: inputs (dy, x) for relu, (dy, y) for tanh and sigmoid."));
  r.Add(OpDef("Softmax")
            .Inputs(1)
            .Shape(SoftmaxShape)
            .Kernel(SoftmaxKernel)
            .ReferenceKernel(SimpleKernel(ReferenceSoftmax))
            .Gradient([](GradientContext& c) -> absl::StatusOr<std::vector<Output>> {
              return std::vector<Output>{
                  AddOp(c.graph, "SoftmaxGrad", {c.output_grads[0], OwnOutput(c.node, 0)}, "SoftmaxGrad")};
            })
            .Doc("Softmax over axis 1 of [N,C]."));
  r.Add(OpDef("SoftmaxGrad")
            .Inputs(2)
            .Shape(SoftmaxGradShape)
            .Kernel(SoftmaxGradKernel)
            .ReferenceKernel(SimpleKernel(ReferenceSoftmaxGrad))
            .Doc("Backward of Softmax: inputs (dy, y)."));
  r.Add(OpDef("SoftmaxCrossEntropyWithLogits")
            .Inputs(2)
            .Outputs(2)
            .Shape(XentShape)
            .Kernel(MakeXentKernel<float>)
            .ReferenceKernel(MakeXentKernel<double>)
            .Gradient(XentGradient)
            .Doc("logits [N,C], int32 labels [N] -> mean cross-entropy (scalar), and its gradient "
                 "(softmax - onehot) / N."));
  r.Add(OpDef("ArgMax")
            .Inputs(1)
            .Shape(ArgMaxShape)
            .Kernel(SimpleKernel(ArgMaxLoop<float>))
            .ReferenceKernel(SimpleKernel(ArgMaxLoop<double>))
            .NoGradient()
            .Doc("Index of the largest value of each row of [N,C], as int32 [N]."));
}

Output Relu(Graph& g, Output x, absl::string_view name) { return AddOp(g, "Relu", {x}, name); }
Output Tanh(Graph& g, Output x, absl::string_view name) { return AddOp(g, "Tanh", {x}, name); }
Output Sigmoid(Graph& g, Output x, absl::string_view name) { return AddOp(g, "Sigmoid", {x}, name); }
Output Softmax(Graph& g, Output logits, absl::string_view name) { return AddOp(g, "Softmax", {logits}, name); }
Output SoftmaxCrossEntropyWithLogits(Graph& g, Output logits, Output labels, absl::string_view name) {
  return AddOp(g, "SoftmaxCrossEntropyWithLogits", {logits, labels}, name);
}
Output ArgMax(Graph& g, Output x, absl::string_view name) { return AddOp(g, "ArgMax", {x}, name); }

}  // namespace strata::ops
