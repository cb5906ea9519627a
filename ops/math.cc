// Elementwise arithmetic, reductions, MatMul and BiasAdd. oneDNN kernels:
// binary (add, sub, mul with scalar or per-channel broadcast), reduction and
// matmul; reference kernels: plain loops in double.
#include "ops/math.h"

#include <algorithm>
#include <optional>
#include <unordered_map>

#include "graph/status_macros.h"
#include "ops/kernel_util.h"
#include "ops/onednn.h"
#include "ops/registry.h"

namespace strata::ops {
namespace {

using dnnl::algorithm;
using onednn::memory;
using onednn::MakePrimitiveKernel;
using onednn::PrimitiveKernel;

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

absl::StatusOr<std::unique_ptr<Kernel>> MakeBinaryKernel(const KernelBuildContext& b, algorithm alg) {
  const TensorSpec& out = b.outputs[0];
  const memory::desc dst = out.shape.rank() == 0 ? BroadcastDesc(out) : onednn::PlainDesc(out);
  const memory::desc src1 = IsScalar(b.inputs[1]) ? BroadcastDesc(out) : dst;
  dnnl::binary primitive;
  STRATA_RETURN_IF_ERROR(onednn::Guard(b.node.Describe(), [&] {
    dnnl::primitive_attr attr;
    if (b.epilogue.relu) {  // the plan fused the ReLU after it (runtime/fusion.h)
      dnnl::post_ops relu;
      relu.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
      attr.set_post_ops(relu);
    }
    primitive = dnnl::binary(
        dnnl::binary::primitive_desc(dnnl::binary::desc(alg, dst, src1, dst), attr, b.device->engine));
  }));
  return MakePrimitiveKernel(b.device, primitive,
                             {{DNNL_ARG_SRC_0, false, 0, dst}, {DNNL_ARG_SRC_1, false, 1, src1}, {DNNL_ARG_DST, true, 0, dst}});
}

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

absl::StatusOr<std::unique_ptr<Kernel>> MakeReductionKernel(const KernelBuildContext& b, algorithm alg) {
  const memory::desc src = onednn::PlainDesc(b.inputs[0]);
  const memory::desc dst = BroadcastDesc(b.inputs[0]);
  dnnl::reduction primitive;
  STRATA_RETURN_IF_ERROR(onednn::Guard(b.node.Describe(), [&] {
    primitive = dnnl::reduction(
        dnnl::reduction::primitive_desc(dnnl::reduction::desc(alg, src, dst, 0.f, 0.f), b.device->engine));
  }));
  return MakePrimitiveKernel(b.device, primitive, {{DNNL_ARG_SRC, false, 0, src}, {DNNL_ARG_DST, true, 0, dst}});
}

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



// --- MatMul ---------------------------------------------------------------

struct MatMulDims {
  int64_t m, k, n;
  bool ta, tb;
};

absl::StatusOr<MatMulDims> GetMatMulDims(const Node& node, const Shape& a, const Shape& b) {
  MatMulDims d;
  STRATA_ASSIGN_OR_RETURN(d.ta, node.Attr<bool>("transpose_a"));
  STRATA_ASSIGN_OR_RETURN(d.tb, node.Attr<bool>("transpose_b"));
  d.m = d.ta ? a[1] : a[0];
  d.k = d.ta ? a[0] : a[1];
  d.n = d.tb ? b[0] : b[1];
  return d;
}

absl::Status MatMulShape(InferenceContext& c) {
  STRATA_RETURN_IF_ERROR(c.ExpectDType(0, DType::kFloat32));
  STRATA_RETURN_IF_ERROR(c.ExpectDType(1, DType::kFloat32));
  STRATA_RETURN_IF_ERROR(c.ExpectRank(0, 2));
  STRATA_RETURN_IF_ERROR(c.ExpectRank(1, 2));
  auto d = GetMatMulDims(c.node(), c.input(0).shape, c.input(1).shape);
  if (!d.ok()) return c.Error(d.status().message());
  const int64_t k_b = d->tb ? c.input(1).shape[1] : c.input(1).shape[0];
  if (d->k != k_b) {
    return c.Error(absl::StrCat("inner dimensions differ: ", d->k, " vs ", k_b, " (transpose_a=", d->ta,
                                ", transpose_b=", d->tb, ")"));
  }
  c.set_output(0, {DType::kFloat32, Shape{d->m, d->n}});
  return absl::OkStatus();
}

// The logical [rows, cols] matrix of an operand; a transposed operand is
// stored [cols, rows], which is the column-major (`ba`) layout of the former.
memory::desc MatrixDesc(int64_t rows, int64_t cols, bool transposed) {
  return memory::desc({rows, cols}, memory::data_type::f32,
                      transposed ? memory::format_tag::ba : memory::format_tag::ab);
}

absl::StatusOr<std::unique_ptr<Kernel>> MatMulKernel(const KernelBuildContext& b) {
  STRATA_ASSIGN_OR_RETURN(MatMulDims d, GetMatMulDims(b.node, b.inputs[0].shape, b.inputs[1].shape));
  const memory::desc src = MatrixDesc(d.m, d.k, d.ta);
  const memory::desc weights = MatrixDesc(d.k, d.n, d.tb);
  const memory::desc dst = MatrixDesc(d.m, d.n, false);
  dnnl::matmul p;
  STRATA_RETURN_IF_ERROR(onednn::Guard(b.node.Describe(), [&] {
    p = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, weights, dst), b.device->engine));
  }));
  return MakePrimitiveKernel(b.device, p,
                             {{DNNL_ARG_SRC, false, 0, src}, {DNNL_ARG_WEIGHTS, false, 1, weights},
                              {DNNL_ARG_DST, true, 0, dst}});
}

absl::Status ReferenceMatMul(const Node& node, KernelRunContext& ctx) {
  STRATA_ASSIGN_OR_RETURN(MatMulDims d, GetMatMulDims(node, ctx.inputs[0]->shape(), ctx.inputs[1]->shape()));
  const double* a = In<double>(ctx, 0);
  const double* b = In<double>(ctx, 1);
  double* y = Out<double>(ctx, 0);
#pragma omp parallel for
  for (int64_t i = 0; i < d.m; ++i) {
    for (int64_t j = 0; j < d.n; ++j) {
      double s = 0;
      for (int64_t k = 0; k < d.k; ++k) {
        s += (d.ta ? a[k * d.m + i] : a[i * d.k + k]) * (d.tb ? b[j * d.k + k] : b[k * d.n + j]);
      }
      y[i * d.n + j] = s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Output>> MatMulGradient(GradientContext& c) {
  Output dy = c.output_grads[0];
  Output a = c.node.inputs()[0], b = c.node.inputs()[1];
  STRATA_ASSIGN_OR_RETURN(bool ta, c.node.Attr<bool>("transpose_a"));
  STRATA_ASSIGN_OR_RETURN(bool tb, c.node.Attr<bool>("transpose_b"));
  Graph& g = c.graph;
  // Each gradient comes out in the operand's stored layout, so a transposed
  // operand gets the transpose of the usual product.
  if (!ta && !tb) return std::vector<Output>{MatMul(g, dy, b, false, true), MatMul(g, a, dy, true, false)};
  if (ta && !tb) return std::vector<Output>{MatMul(g, b, dy, false, true), MatMul(g, a, dy, false, false)};
  if (!ta && tb) return std::vector<Output>{MatMul(g, dy, b, false, false), MatMul(g, dy, a, true, false)};
  return std::vector<Output>{MatMul(g, b, dy, true, true), MatMul(g, dy, a, true, true)};
}

// --- BiasAdd ----------------------------------------------------------------

// [1, C, 1, ...] in the rank of x: how a per-channel vector broadcasts.
memory::desc ChannelDesc(const Shape& x) {
  memory::dims dims(x.rank(), 1);
  dims[1] = x[1];
  return memory::desc(dims, memory::data_type::f32, onednn::PlainTag(x.rank()));
}

// (outer, channels, inner) of an NC... tensor, for the reference loops.
struct ChannelSplit {
  int64_t outer, channels, inner;
};
ChannelSplit SplitChannels(const Shape& s) {
  int64_t inner = 1;
  for (int i = 2; i < s.rank(); ++i) inner *= s[i];
  return {s[0], s[1], inner};
}

absl::Status ExpectChannelsRank(InferenceContext& c, int i) {
  const int rank = c.input(i).shape.rank();
  if (rank < 2 || rank > 5) {
    return c.Error(absl::StrCat("input ", i, " must have rank 2 to 5 ([N,C,...]), got ",
                                c.input(i).shape.ToString()));
  }
  return absl::OkStatus();
}

absl::Status BiasAddShape(InferenceContext& c) {
  STRATA_RETURN_IF_ERROR(c.ExpectDType(0, DType::kFloat32));
  STRATA_RETURN_IF_ERROR(c.ExpectDType(1, DType::kFloat32));
  STRATA_RETURN_IF_ERROR(ExpectChannelsRank(c, 0));
  STRATA_RETURN_IF_ERROR(c.ExpectRank(1, 1));
  if (c.input(1).shape[0] != c.input(0).shape[1]) {
    return c.Error(absl::StrCat("the bias has ", c.input(1).shape[0], " elements but x has ",
                                c.input(0).shape[1], " channels (dimension 1)"));
  }
  c.set_output(0, c.input(0));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Kernel>> BiasAddKernel(const KernelBuildContext& b) {
  const memory::desc x = onednn::PlainDesc(b.inputs[0]);
  const memory::desc bias = ChannelDesc(b.inputs[0].shape);
  dnnl::binary p;
  STRATA_RETURN_IF_ERROR(onednn::Guard(b.node.Describe(), [&] {
    p = dnnl::binary(dnnl::binary::primitive_desc(dnnl::binary::desc(algorithm::binary_add, x, bias, x),
                                                  b.device->engine));
  }));
  return MakePrimitiveKernel(b.device, p,
                             {{DNNL_ARG_SRC_0, false, 0, x}, {DNNL_ARG_SRC_1, false, 1, bias},
                              {DNNL_ARG_DST, true, 0, x}});
}

absl::Status ReferenceBiasAdd(const Node&, KernelRunContext& ctx) {
  const ChannelSplit s = SplitChannels(ctx.inputs[0]->shape());
  const double* x = In<double>(ctx, 0);
  const double* bias = In<double>(ctx, 1);
  double* y = Out<double>(ctx, 0);
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t c = 0; c < s.channels; ++c) {
      const int64_t base = (o * s.channels + c) * s.inner;
      for (int64_t i = 0; i < s.inner; ++i) y[base + i] = x[base + i] + bias[c];
    }
  }
  return absl::OkStatus();
}

absl::Status BiasAddGradShape(InferenceContext& c) {
  STRATA_RETURN_IF_ERROR(c.ExpectDType(0, DType::kFloat32));
  STRATA_RETURN_IF_ERROR(ExpectChannelsRank(c, 0));
  c.set_output(0, {DType::kFloat32, Shape{c.input(0).shape[1]}});
  return absl::OkStatus();
}

// oneDNN 2.6 only has its reference implementation for this reduction
// (ref:any, ~2 ms for a [64,6,28,28] conv gradient), so this is a loop: sums
// of the contiguous spatial runs first, then column sums of the [outer, C]
// matrix over fixed blocks of rows, added in block order, so that the result
// does not depend on the number of threads.
class BiasAddGradKernel : public Kernel {
 public:
  static constexpr int64_t kBlockRows = 32;
  static constexpr int64_t kParallelMin = 1 << 14;  // elements

  explicit BiasAddGradKernel(const Shape& shape) : s_(SplitChannels(shape)) {
    if (s_.inner > 1) partial_.resize(s_.outer * s_.channels);
    blocks_ = (s_.outer + kBlockRows - 1) / kBlockRows;
    block_sums_.resize(blocks_ * s_.channels);
  }

  absl::Status Run(KernelRunContext& ctx) override {
    const int64_t outer = s_.outer, channels = s_.channels, inner = s_.inner;
    const float* rows = In<float>(ctx, 0);
    if (inner > 1) {
      float* p = partial_.data();
      const float* dy = rows;
#pragma omp parallel for if (outer * channels * inner > kParallelMin)
      for (int64_t i = 0; i < outer * channels; ++i) {
        const float* run = dy + i * inner;
        float sum = 0;
#pragma omp simd reduction(+ : sum)
        for (int64_t j = 0; j < inner; ++j) sum += run[j];
        p[i] = sum;
      }
      rows = p;
    }
    float* sums = block_sums_.data();
#pragma omp parallel for if (outer * channels > kParallelMin)
    for (int64_t blk = 0; blk < blocks_; ++blk) {
      float* acc = sums + blk * channels;
      std::fill(acc, acc + channels, 0.f);
      const int64_t end = std::min(outer, (blk + 1) * kBlockRows);
      for (int64_t r = blk * kBlockRows; r < end; ++r) {
        const float* row = rows + r * channels;
#pragma omp simd
        for (int64_t c = 0; c < channels; ++c) acc[c] += row[c];
      }
    }
    float* db = Out<float>(ctx, 0);
    std::copy(sums, sums + channels, db);
    for (int64_t blk = 1; blk < blocks_; ++blk) {
      for (int64_t c = 0; c < channels; ++c) db[c] += sums[blk * channels + c];
    }
    return absl::OkStatus();
  }

 private:
  ChannelSplit s_;
  int64_t blocks_ = 0;
  std::vector<float> partial_, block_sums_;
};

absl::StatusOr<std::unique_ptr<Kernel>> MakeBiasAddGradKernel(const KernelBuildContext& b) {
  return std::unique_ptr<Kernel>(new BiasAddGradKernel(b.inputs[0].shape));
}

absl::Status ReferenceBiasAddGrad(const Node&, KernelRunContext& ctx) {
  const ChannelSplit s = SplitChannels(ctx.inputs[0]->shape());
  const double* dy = In<double>(ctx, 0);
  double* db = Out<double>(ctx, 0);
  for (int64_t c = 0; c < s.channels; ++c) {
    double sum = 0;
    for (int64_t o = 0; o < s.outer; ++o) {
      const int64_t base = (o * s.channels + c) * s.inner;
      for (int64_t i = 0; i < s.inner; ++i) sum += dy[base + i];
    }
    db[c] = sum;
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterMathOps(OpRegistry& r) {
  r.Add(OpDef("Add")
            .Inputs(2)
            .Shape(BinaryShape)
            .Layouts(LayoutSupport::kElementwise)
            .Kernel([](const KernelBuildContext& b) { return MakeBinaryKernel(b, algorithm::binary_add); })
            .ReferenceKernel(ReferenceBinary([](double a, double b) { return a + b; }))
            .Gradient([](GradientContext& c) -> absl::StatusOr<std::vector<Output>> {
              Output dy = c.output_grads[0];
              return std::vector<Output>{dy, ReduceIfScalar(c.graph, c.node, dy)};
            })
            .Doc("a + b; b may be a scalar."));
  r.Add(OpDef("Sub")
            .Inputs(2)
            .Shape(BinaryShape)
            .Layouts(LayoutSupport::kElementwise)
            .Kernel([](const KernelBuildContext& b) { return MakeBinaryKernel(b, algorithm::binary_sub); })
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
            .Layouts(LayoutSupport::kElementwise)
            .Kernel([](const KernelBuildContext& b) { return MakeBinaryKernel(b, algorithm::binary_mul); })
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
            .Kernel([](const KernelBuildContext& b) { return MakeReductionKernel(b, algorithm::reduction_sum); })
            .ReferenceKernel(ReferenceReduction(false))
            .Gradient([](GradientContext& c) -> absl::StatusOr<std::vector<Output>> {
              return std::vector<Output>{BroadcastTo(c.graph, c.output_grads[0], c.node.inputs()[0].shape())};
            })
            .Doc("The sum of all elements, as a scalar."));
  r.Add(OpDef("Mean")
            .Inputs(1)
            .Shape(ScalarShape)
            .Kernel([](const KernelBuildContext& b) { return MakeReductionKernel(b, algorithm::reduction_mean); })
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
  r.Add(OpDef("MatMul")
            .Inputs(2)
            .Attr("transpose_a", false)
            .Attr("transpose_b", false)
            .Shape(MatMulShape)
            .Kernel(MatMulKernel)
            .ReferenceKernel(SimpleKernel(ReferenceMatMul))
            .Gradient(MatMulGradient)
            .Doc("Matrix product of [M,K] and [K,N]; transposed operands are given as stored."));
  r.Add(OpDef("BiasAdd")
            .Inputs(2)
            .Shape(BiasAddShape)
            .Kernel(BiasAddKernel)
            .ReferenceKernel(SimpleKernel(ReferenceBiasAdd))
            .Gradient([](GradientContext& c) -> absl::StatusOr<std::vector<Output>> {
              Output dy = c.output_grads[0];
              return std::vector<Output>{dy, BiasAddGrad(c.graph, dy)};
            })
            .Doc("x [N,C,...] plus a per-channel bias [C]."));
  r.Add(OpDef("BiasAddGrad")
            .Inputs(1)
            .Shape(BiasAddGradShape)
            .Kernel(MakeBiasAddGradKernel)
            .ReferenceKernel(SimpleKernel(ReferenceBiasAddGrad))
            .Doc("Sum of dy [N,C,...] over every dimension except 1: the gradient of a bias."));
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

Output MatMul(Graph& g, Output a, Output b, bool transpose_a, bool transpose_b, absl::string_view name) {
  Node* n = g.AddNode(Def("MatMul"), name, {a, b}, {{"transpose_a", transpose_a}, {"transpose_b", transpose_b}});
  return n ? n->output(0) : Output{};
}
Output BiasAdd(Graph& g, Output x, Output b, absl::string_view name) { return Binary(g, "BiasAdd", x, b, name); }
Output BiasAddGrad(Graph& g, Output dy, absl::string_view name) { return Unary(g, "BiasAddGrad", dy, name); }

Output FullyConnected(Graph& g, Output x, Output w, Output b, absl::string_view name) {
  std::optional<Graph::Scope> scope;
  if (!name.empty()) scope.emplace(g, name);
  Output y = MatMul(g, x, w);
  return b.valid() ? BiasAdd(g, y, b) : y;
}

}  // namespace strata::ops
