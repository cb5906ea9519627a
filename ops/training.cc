#include "ops/training.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"
#include "ops/kernel_util.h"
#include "ops/registry.h"

namespace strata::ops {
namespace {

// Elementwise loops run on OpenMP threads past this many elements.
constexpr int64_t kParallelThreshold = 65536;

// ---------------------------------------------------------------------------
// Attribute and input checks shared by the shape functions.

// lo <= value (< or <=) hi, finite; errors name the node and the attribute.
absl::Status CheckRange(const InferenceContext& c, const char* attr, double value, double lo, double hi,
                        bool hi_inclusive = true) {
  const bool ok = std::isfinite(value) && value >= lo && (hi_inclusive ? value <= hi : value < hi);
  if (ok) return absl::OkStatus();
  return c.Error(absl::StrCat("attribute ", attr, " = ", value, " must be in [", lo, ", ", hi,
                              hi_inclusive ? "]" : ")"));
}

absl::Status CheckNonNegative(const InferenceContext& c, const char* attr, double value) {
  if (std::isfinite(value) && value >= 0) return absl::OkStatus();
  return c.Error(absl::StrCat("attribute ", attr, " = ", value, " must be finite and >= 0"));
}

// Input 0 is a float32 variable; `like_var` inputs must share its spec and
// `scalars` inputs must be scalars.
absl::Status CheckUpdateInputs(const InferenceContext& c, std::initializer_list<std::pair<int, const char*>> like_var,
                               std::initializer_list<std::pair<int, const char*>> scalars) {
  const TensorSpec& var = c.input(0);
  if (var.dtype != DType::kFloat32) return c.Error("the variable must be float32");
  for (const auto& [i, what] : like_var) {
    if (c.input(i) != var) return c.Error(absl::StrCat("the ", what, " (input ", i, ") must have the variable's spec"));
  }
  for (const auto& [i, what] : scalars) {
    if (c.input(i).dtype != DType::kFloat32 || c.input(i).shape.num_elements() != 1) {
      return c.Error(absl::StrCat("the ", what, " (input ", i, ") must be a float32 scalar"));
    }
  }
  return absl::OkStatus();
}

template <typename T>
T Scalar(const KernelRunContext& ctx, int i) {
  return ctx.inputs[i]->data<T>()[0];
}

// ---------------------------------------------------------------------------
// SGD. Inputs: var, grad, velocity, lr.

struct SGDParams {
  double momentum = 0;
  double weight_decay = 0;
  bool nesterov = false;
};

template <typename Ctx>
absl::StatusOr<SGDParams> ReadSGD(const Ctx& c) {
  SGDParams p;
  STRATA_ASSIGN_OR_RETURN(p.momentum, c.template Attr<double>("momentum"));
  STRATA_ASSIGN_OR_RETURN(p.weight_decay, c.template Attr<double>("weight_decay"));
  STRATA_ASSIGN_OR_RETURN(p.nesterov, c.template Attr<bool>("nesterov"));
  return p;
}

absl::Status SGDShape(InferenceContext& c) {
  STRATA_RETURN_IF_ERROR(CheckUpdateInputs(c, {{1, "gradient"}, {2, "velocity slot"}}, {{3, "learning rate"}}));
  STRATA_ASSIGN_OR_RETURN(SGDParams p, ReadSGD(c));
  STRATA_RETURN_IF_ERROR(CheckNonNegative(c, "momentum", p.momentum));
  return CheckNonNegative(c, "weight_decay", p.weight_decay);
}

template <typename T>
absl::Status RunSGD(const SGDParams& p, KernelRunContext& ctx) {
  T* w = ctx.inputs[0]->data<T>();
  const T* grad = ctx.inputs[1]->data<T>();
  T* v = ctx.inputs[2]->data<T>();
  const T lr = Scalar<T>(ctx, 3);
  const int64_t n = ctx.inputs[0]->num_elements();
  const T mu = static_cast<T>(p.momentum), wd = static_cast<T>(p.weight_decay);
  if (mu == T(0)) {
#pragma omp parallel for if (n > kParallelThreshold)
    for (int64_t i = 0; i < n; ++i) w[i] -= lr * (grad[i] + wd * w[i]);
    return absl::OkStatus();
  }
  if (p.nesterov) {
#pragma omp parallel for if (n > kParallelThreshold)
    for (int64_t i = 0; i < n; ++i) {
      const T g = grad[i] + wd * w[i];
      v[i] = mu * v[i] + g;
      w[i] -= lr * (g + mu * v[i]);
    }
  } else {
#pragma omp parallel for if (n > kParallelThreshold)
    for (int64_t i = 0; i < n; ++i) {
      v[i] = mu * v[i] + grad[i] + wd * w[i];
      w[i] -= lr * v[i];
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Adam / AdamW. Inputs: var, grad, m, v, lr, step.

template <typename Ctx>
absl::StatusOr<AdamAttrs> ReadAdam(const Ctx& c) {
  AdamAttrs a;
  STRATA_ASSIGN_OR_RETURN(a.beta1, c.template Attr<double>("beta1"));
  STRATA_ASSIGN_OR_RETURN(a.beta2, c.template Attr<double>("beta2"));
  STRATA_ASSIGN_OR_RETURN(a.epsilon, c.template Attr<double>("epsilon"));
  STRATA_ASSIGN_OR_RETURN(a.weight_decay, c.template Attr<double>("weight_decay"));
  STRATA_ASSIGN_OR_RETURN(a.decoupled, c.template Attr<bool>("decoupled"));
  return a;
}

absl::Status AdamShape(InferenceContext& c) {
  STRATA_RETURN_IF_ERROR(CheckUpdateInputs(c, {{1, "gradient"}, {2, "m slot"}, {3, "v slot"}},
                                           {{4, "learning rate"}, {5, "step count"}}));
  STRATA_ASSIGN_OR_RETURN(AdamAttrs a, ReadAdam(c));
  STRATA_RETURN_IF_ERROR(CheckRange(c, "beta1", a.beta1, 0, 1, /*hi_inclusive=*/false));
  STRATA_RETURN_IF_ERROR(CheckRange(c, "beta2", a.beta2, 0, 1, /*hi_inclusive=*/false));
  STRATA_RETURN_IF_ERROR(CheckNonNegative(c, "epsilon", a.epsilon));
  return CheckNonNegative(c, "weight_decay", a.weight_decay);
}

template <typename T>
absl::Status RunAdam(const AdamAttrs& a, KernelRunContext& ctx) {
  T* w = ctx.inputs[0]->data<T>();
  const T* grad = ctx.inputs[1]->data<T>();
  T* m = ctx.inputs[2]->data<T>();
  T* v = ctx.inputs[3]->data<T>();
  const double lr = Scalar<T>(ctx, 4);
  const double t = static_cast<double>(Scalar<T>(ctx, 5)) + 1;
  const int64_t n = ctx.inputs[0]->num_elements();
  // 1 - beta in double, as PyTorch passes it: float(1 - 0.999) is 1e-3 to 7
  // digits where 1 - float(0.999) is not, and the bias correction uses it.
  const T b1 = static_cast<T>(a.beta1), b2 = static_cast<T>(a.beta2), eps = static_cast<T>(a.epsilon);
  const T one_minus_b1 = static_cast<T>(1 - a.beta1), one_minus_b2 = static_cast<T>(1 - a.beta2);
  const T step_size = static_cast<T>(lr / (1 - std::pow(a.beta1, t)));
  const T bc2_sqrt = static_cast<T>(std::sqrt(1 - std::pow(a.beta2, t)));
  // Decoupled decay scales the weight; L2 decay adds to the gradient.
  const T scale = static_cast<T>(a.decoupled ? 1 - lr * a.weight_decay : 1.0);
  const T l2 = static_cast<T>(a.decoupled ? 0.0 : a.weight_decay);
#pragma omp parallel for if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) {
    const T wi = w[i] * scale;
    const T g = grad[i] + l2 * w[i];
    m[i] = b1 * m[i] + one_minus_b1 * g;
    v[i] = b2 * v[i] + one_minus_b2 * g * g;
    w[i] = wi - step_size * m[i] / (std::sqrt(v[i]) / bc2_sqrt + eps);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// RMSProp. Inputs: var, grad, square_avg, lr, [grad_avg if centered],
// [momentum buffer if momentum > 0].

template <typename Ctx>
absl::StatusOr<RMSPropAttrs> ReadRMSProp(const Ctx& c) {
  RMSPropAttrs a;
  STRATA_ASSIGN_OR_RETURN(a.alpha, c.template Attr<double>("alpha"));
  STRATA_ASSIGN_OR_RETURN(a.epsilon, c.template Attr<double>("epsilon"));
  STRATA_ASSIGN_OR_RETURN(a.weight_decay, c.template Attr<double>("weight_decay"));
  STRATA_ASSIGN_OR_RETURN(a.momentum, c.template Attr<double>("momentum"));
  STRATA_ASSIGN_OR_RETURN(a.centered, c.template Attr<bool>("centered"));
  return a;
}

absl::Status RMSPropShape(InferenceContext& c) {
  STRATA_ASSIGN_OR_RETURN(RMSPropAttrs a, ReadRMSProp(c));
  STRATA_RETURN_IF_ERROR(CheckRange(c, "alpha", a.alpha, 0, 1));
  STRATA_RETURN_IF_ERROR(CheckNonNegative(c, "epsilon", a.epsilon));
  STRATA_RETURN_IF_ERROR(CheckNonNegative(c, "weight_decay", a.weight_decay));
  STRATA_RETURN_IF_ERROR(CheckNonNegative(c, "momentum", a.momentum));
  const int expected = 4 + (a.centered ? 1 : 0) + (a.momentum > 0 ? 1 : 0);
  if (c.num_inputs() != expected) {
    return c.Error(absl::StrCat("expects ", expected, " inputs (var, grad, square_avg, lr",
                                a.centered ? ", grad_avg" : "", a.momentum > 0 ? ", momentum buffer" : "",
                                "), got ", c.num_inputs()));
  }
  STRATA_RETURN_IF_ERROR(CheckUpdateInputs(c, {{1, "gradient"}, {2, "square_avg slot"}}, {{3, "learning rate"}}));
  for (int i = 4; i < expected; ++i) {
    STRATA_RETURN_IF_ERROR(CheckUpdateInputs(c, {{i, "slot"}}, {}));
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status RunRMSProp(const RMSPropAttrs& a, KernelRunContext& ctx) {
  T* w = ctx.inputs[0]->data<T>();
  const T* grad = ctx.inputs[1]->data<T>();
  T* sq = ctx.inputs[2]->data<T>();
  const T lr = Scalar<T>(ctx, 3);
  int next = 4;
  T* ga = a.centered ? ctx.inputs[next++]->data<T>() : nullptr;
  T* buf = a.momentum > 0 ? ctx.inputs[next++]->data<T>() : nullptr;
  const int64_t n = ctx.inputs[0]->num_elements();
  const T alpha = static_cast<T>(a.alpha), one_minus_alpha = static_cast<T>(1 - a.alpha);
  const T eps = static_cast<T>(a.epsilon);
  const T wd = static_cast<T>(a.weight_decay), mu = static_cast<T>(a.momentum);
#pragma omp parallel for if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) {
    const T g = grad[i] + wd * w[i];
    sq[i] = alpha * sq[i] + one_minus_alpha * g * g;
    T avg;
    if (ga != nullptr) {
      ga[i] = alpha * ga[i] + one_minus_alpha * g;
      avg = std::sqrt(std::max(sq[i] - ga[i] * ga[i], T(0))) + eps;
    } else {
      avg = std::sqrt(sq[i]) + eps;
    }
    if (buf != nullptr) {
      buf[i] = mu * buf[i] + g / avg;
      w[i] -= lr * buf[i];
    } else {
      w[i] -= lr * g / avg;
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// AdaGrad. Inputs: var, grad, sum, lr, step.

template <typename Ctx>
absl::StatusOr<AdaGradAttrs> ReadAdaGrad(const Ctx& c) {
  AdaGradAttrs a;
  STRATA_ASSIGN_OR_RETURN(a.lr_decay, c.template Attr<double>("lr_decay"));
  STRATA_ASSIGN_OR_RETURN(a.epsilon, c.template Attr<double>("epsilon"));
  STRATA_ASSIGN_OR_RETURN(a.weight_decay, c.template Attr<double>("weight_decay"));
  return a;
}

absl::Status AdaGradShape(InferenceContext& c) {
  STRATA_RETURN_IF_ERROR(
      CheckUpdateInputs(c, {{1, "gradient"}, {2, "sum slot"}}, {{3, "learning rate"}, {4, "step count"}}));
  STRATA_ASSIGN_OR_RETURN(AdaGradAttrs a, ReadAdaGrad(c));
  STRATA_RETURN_IF_ERROR(CheckNonNegative(c, "lr_decay", a.lr_decay));
  STRATA_RETURN_IF_ERROR(CheckNonNegative(c, "epsilon", a.epsilon));
  return CheckNonNegative(c, "weight_decay", a.weight_decay);
}

template <typename T>
absl::Status RunAdaGrad(const AdaGradAttrs& a, KernelRunContext& ctx) {
  T* w = ctx.inputs[0]->data<T>();
  const T* grad = ctx.inputs[1]->data<T>();
  T* sum = ctx.inputs[2]->data<T>();
  const double lr = Scalar<T>(ctx, 3);
  const double t = static_cast<double>(Scalar<T>(ctx, 4)) + 1;
  const T clr = static_cast<T>(lr / (1 + (t - 1) * a.lr_decay));
  const T eps = static_cast<T>(a.epsilon), wd = static_cast<T>(a.weight_decay);
  const int64_t n = ctx.inputs[0]->num_elements();
#pragma omp parallel for if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) {
    const T g = grad[i] + wd * w[i];
    sum[i] += g * g;
    w[i] -= clr * g / (std::sqrt(sum[i]) + eps);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Step counting and clipping.

absl::Status CountStepShape(InferenceContext& c) {
  if (c.input(0).dtype != DType::kFloat32 || c.input(0).shape.num_elements() != 1) {
    return c.Error("the step count must be a float32 scalar variable");
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status RunCountStep(KernelRunContext& ctx) {
  ctx.inputs[0]->data<T>()[0] += T(1);
  return absl::OkStatus();
}

absl::Status GlobalNormShape(InferenceContext& c) {
  for (int i = 0; i < c.num_inputs(); ++i) {
    if (c.input(i).dtype != DType::kFloat32) return c.Error(absl::StrCat("input ", i, " must be float32"));
  }
  c.set_output(0, {DType::kFloat32, Shape{}});
  return absl::OkStatus();
}

template <typename T>
absl::Status RunGlobalNorm(KernelRunContext& ctx) {
  double total = 0;
  for (const Tensor* in : ctx.inputs) {
    const T* x = in->data<T>();
    const int64_t n = in->num_elements();
    double s = 0;
#pragma omp parallel for reduction(+ : s) if (n > kParallelThreshold)
    for (int64_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    total += s;
  }
  ctx.outputs[0]->data<T>()[0] = static_cast<T>(std::sqrt(total));
  return absl::OkStatus();
}

absl::Status ClipByNormShape(InferenceContext& c) {
  if (c.input(0).dtype != DType::kFloat32) return c.Error("the tensor must be float32");
  if (c.input(1).dtype != DType::kFloat32 || c.input(1).shape.num_elements() != 1) {
    return c.Error("the norm must be a float32 scalar");
  }
  STRATA_ASSIGN_OR_RETURN(double max_norm, c.Attr<double>("max_norm"));
  if (!std::isfinite(max_norm) || max_norm <= 0) {
    return c.Error(absl::StrCat("attribute max_norm = ", max_norm, " must be finite and > 0"));
  }
  c.set_output(0, c.input(0));
  return absl::OkStatus();
}

template <typename T>
absl::Status RunClipByNorm(double max_norm, KernelRunContext& ctx) {
  const double norm = Scalar<T>(ctx, 1);
  const T coef = static_cast<T>(std::min(1.0, max_norm / (norm + 1e-6)));
  const T* x = ctx.inputs[0]->data<T>();
  T* y = ctx.outputs[0]->data<T>();
  const int64_t n = ctx.inputs[0]->num_elements();
#pragma omp parallel for if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * coef;
  return absl::OkStatus();
}

// A kernel factory reading parameters with `read` once and running `run`
// with them; instantiated for float (the kernel) and double (the reference).
template <typename Params, typename Read, typename Run>
KernelFactory ParamKernel(Read read, Run run) {
  return [read, run](const KernelBuildContext& b) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    STRATA_ASSIGN_OR_RETURN(Params p, read(b));
    return MakeFnKernel([p, run](KernelRunContext& ctx) { return run(p, ctx); });
  };
}

KernelFactory StatelessKernel(absl::Status (*run)(KernelRunContext&)) {
  return [run](const KernelBuildContext&) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    return MakeFnKernel([run](KernelRunContext& ctx) { return run(ctx); });
  };
}

absl::StatusOr<double> ReadMaxNorm(const KernelBuildContext& b) { return b.Attr<double>("max_norm"); }

}  // namespace

void RegisterTrainingOps(OpRegistry& r) {
  auto read_sgd = [](const KernelBuildContext& b) { return ReadSGD(b); };
  r.Add(OpDef("ApplySGD")
            .Inputs(4)
            .Outputs(0)
            .Attr("momentum", 0.0)
            .Attr("weight_decay", 0.0)
            .Attr("nesterov", false)
            .Shape(SGDShape)
            .Kernel(ParamKernel<SGDParams>(read_sgd, RunSGD<float>))
            .ReferenceKernel(ParamKernel<SGDParams>(read_sgd, RunSGD<double>))
            .WritesInputs()
            .ElementwiseUpdate()
            .NoGradient()
            .Doc("One SGD step with momentum and weight decay, in place (inputs: var, grad, velocity, lr)."));

  auto read_adam = [](const KernelBuildContext& b) { return ReadAdam(b); };
  r.Add(OpDef("ApplyAdam")
            .Inputs(6)
            .Outputs(0)
            .Attr("beta1", 0.9)
            .Attr("beta2", 0.999)
            .Attr("epsilon", 1e-8)
            .Attr("weight_decay", 0.0)
            .Attr("decoupled", false)
            .Shape(AdamShape)
            .Kernel(ParamKernel<AdamAttrs>(read_adam, RunAdam<float>))
            .ReferenceKernel(ParamKernel<AdamAttrs>(read_adam, RunAdam<double>))
            .WritesInputs()
            .ElementwiseUpdate()
            .NoGradient()
            .Doc("One Adam (or, decoupled, AdamW) step with bias correction, in place "
                 "(inputs: var, grad, m, v, lr, step)."));

  auto read_rmsprop = [](const KernelBuildContext& b) { return ReadRMSProp(b); };
  r.Add(OpDef("ApplyRMSProp")
            .Inputs(-1)
            .Outputs(0)
            .Attr("alpha", 0.99)
            .Attr("epsilon", 1e-8)
            .Attr("weight_decay", 0.0)
            .Attr("momentum", 0.0)
            .Attr("centered", false)
            .Shape(RMSPropShape)
            .Kernel(ParamKernel<RMSPropAttrs>(read_rmsprop, RunRMSProp<float>))
            .ReferenceKernel(ParamKernel<RMSPropAttrs>(read_rmsprop, RunRMSProp<double>))
            .WritesInputs()
            .ElementwiseUpdate()
            .NoGradient()
            .Doc("One RMSProp step, in place (inputs: var, grad, square_avg, lr, then grad_avg when "
                 "centered and the momentum buffer when momentum > 0)."));

  auto read_adagrad = [](const KernelBuildContext& b) { return ReadAdaGrad(b); };
  r.Add(OpDef("ApplyAdaGrad")
            .Inputs(5)
            .Outputs(0)
            .Attr("lr_decay", 0.0)
            .Attr("epsilon", 1e-10)
            .Attr("weight_decay", 0.0)
            .Shape(AdaGradShape)
            .Kernel(ParamKernel<AdaGradAttrs>(read_adagrad, RunAdaGrad<float>))
            .ReferenceKernel(ParamKernel<AdaGradAttrs>(read_adagrad, RunAdaGrad<double>))
            .WritesInputs()
            .ElementwiseUpdate()
            .NoGradient()
            .Doc("One AdaGrad step, in place (inputs: var, grad, sum, lr, step)."));

  r.Add(OpDef("CountStep")
            .Inputs(1)
            .Outputs(0)
            .Shape(CountStepShape)
            .Kernel(StatelessKernel(RunCountStep<float>))
            .ReferenceKernel(StatelessKernel(RunCountStep<double>))
            .WritesInputs()
            .NoGradient()
            .Doc("Adds 1 to a scalar step-count variable, in place; ordered by control inputs."));

  r.Add(OpDef("GlobalNorm")
            .Inputs(-1)
            .Outputs(1)
            .Shape(GlobalNormShape)
            .Kernel(StatelessKernel(RunGlobalNorm<float>))
            .ReferenceKernel(StatelessKernel(RunGlobalNorm<double>))
            .NoGradient()
            .Doc("The Euclidean norm of all elements of all inputs, a scalar (accumulated in double)."));

  r.Add(OpDef("ClipByNorm")
            .Inputs(2)
            .Outputs(1)
            .RequiredAttr("max_norm")
            .Shape(ClipByNormShape)
            .Kernel(ParamKernel<double>(ReadMaxNorm, RunClipByNorm<float>))
            .ReferenceKernel(ParamKernel<double>(ReadMaxNorm, RunClipByNorm<double>))
            .NoGradient()
            .Doc("x * min(1, max_norm / (norm + 1e-6)) given a global norm (inputs: x, norm)."));
}

Node* ApplySGD(Graph& g, Output var, Output grad, Output velocity, Output lr, double momentum, double weight_decay,
               bool nesterov, absl::string_view name) {
  return g.AddNode(Def("ApplySGD"), name, {var, grad, velocity, lr},
                   {{"momentum", momentum}, {"weight_decay", weight_decay}, {"nesterov", nesterov}});
}

Node* ApplyAdam(Graph& g, Output var, Output grad, Output m, Output v, Output lr, Output step,
                const AdamAttrs& a, absl::string_view name) {
  return g.AddNode(Def("ApplyAdam"), name, {var, grad, m, v, lr, step},
                   {{"beta1", a.beta1},
                    {"beta2", a.beta2},
                    {"epsilon", a.epsilon},
                    {"weight_decay", a.weight_decay},
                    {"decoupled", a.decoupled}});
}

Node* ApplyRMSProp(Graph& g, Output var, Output grad, Output square_avg, Output grad_avg, Output momentum_buf,
                   Output lr, const RMSPropAttrs& a, absl::string_view name) {
  std::vector<Output> inputs = {var, grad, square_avg, lr};
  if (a.centered) inputs.push_back(grad_avg);
  if (a.momentum > 0) inputs.push_back(momentum_buf);
  return g.AddNode(Def("ApplyRMSProp"), name, std::move(inputs),
                   {{"alpha", a.alpha},
                    {"epsilon", a.epsilon},
                    {"weight_decay", a.weight_decay},
                    {"momentum", a.momentum},
                    {"centered", a.centered}});
}

Node* ApplyAdaGrad(Graph& g, Output var, Output grad, Output sum, Output lr, Output step, const AdaGradAttrs& a,
                   absl::string_view name) {
  return g.AddNode(Def("ApplyAdaGrad"), name, {var, grad, sum, lr, step},
                   {{"lr_decay", a.lr_decay}, {"epsilon", a.epsilon}, {"weight_decay", a.weight_decay}});
}

Node* CountStep(Graph& g, Output step, std::vector<Node*> after, absl::string_view name) {
  for (Node* n : after) {
    if (n == nullptr) {
      g.RecordError(absl::InvalidArgumentError(absl::StrCat("CountStep '", name, "' has a missing dependency")));
      return nullptr;
    }
  }
  return g.AddNode(Def("CountStep"), name, {step}, {}, std::move(after));
}

Output GlobalNorm(Graph& g, std::vector<Output> xs, absl::string_view name) {
  Node* n = g.AddNode(Def("GlobalNorm"), name, std::move(xs));
  return n ? n->output(0) : Output{};
}

Output ClipByNorm(Graph& g, Output x, Output norm, double max_norm, absl::string_view name) {
  Node* n = g.AddNode(Def("ClipByNorm"), name, {x, norm}, {{"max_norm", max_norm}});
  return n ? n->output(0) : Output{};
}

}  // namespace strata::ops
