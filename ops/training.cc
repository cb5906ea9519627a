#include "ops/training.h"

#include "graph/status_macros.h"
#include "ops/kernel_util.h"
#include "ops/registry.h"

namespace strata::ops {
namespace {

absl::Status SGDShape(InferenceContext& c) {
  const TensorSpec& var = c.input(0);
  if (var.dtype != DType::kFloat32) return c.Error("the variable must be float32");
  if (c.input(1) != var) return c.Error("the gradient must have the variable's spec");
  if (c.input(2) != var) return c.Error("the velocity slot must have the variable's spec");
  if (c.input(3).shape.num_elements() != 1) return c.Error("the learning rate must be a scalar");
  return absl::OkStatus();
}

struct SGDParams {
  float momentum;
  float weight_decay;
  bool nesterov;
};

absl::Status RunSGD(const SGDParams& p, KernelRunContext& ctx) {
  float* w = ctx.inputs[0]->data<float>();
  const float* grad = ctx.inputs[1]->data<float>();
  float* v = ctx.inputs[2]->data<float>();
  const float lr = ctx.inputs[3]->data<float>()[0];
  const int64_t n = ctx.inputs[0]->num_elements();
  const float mu = p.momentum, wd = p.weight_decay;
  if (mu == 0.f) {
#pragma omp parallel for if (n > 65536)
    for (int64_t i = 0; i < n; ++i) w[i] -= lr * (grad[i] + wd * w[i]);
    return absl::OkStatus();
  }
  if (p.nesterov) {
#pragma omp parallel for if (n > 65536)
    for (int64_t i = 0; i < n; ++i) {
      const float g = grad[i] + wd * w[i];
      v[i] = mu * v[i] + g;
      w[i] -= lr * (g + mu * v[i]);
    }
  } else {
#pragma omp parallel for if (n > 65536)
    for (int64_t i = 0; i < n; ++i) {
      v[i] = mu * v[i] + grad[i] + wd * w[i];
      w[i] -= lr * v[i];
    }
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterTrainingOps(OpRegistry& r) {
  r.Add(OpDef("ApplySGD")
            .Inputs(4)
            .Outputs(0)
            .Attr("momentum", 0.0)
            .Attr("weight_decay", 0.0)
            .Attr("nesterov", false)
            .Shape(SGDShape)
            .Kernel([](const KernelBuildContext& b) -> absl::StatusOr<std::unique_ptr<Kernel>> {
              STRATA_ASSIGN_OR_RETURN(double momentum, b.Attr<double>("momentum"));
              STRATA_ASSIGN_OR_RETURN(double weight_decay, b.Attr<double>("weight_decay"));
              STRATA_ASSIGN_OR_RETURN(bool nesterov, b.Attr<bool>("nesterov"));
              SGDParams p{static_cast<float>(momentum), static_cast<float>(weight_decay), nesterov};
              return MakeFnKernel([p](KernelRunContext& ctx) { return RunSGD(p, ctx); });
            })
            .WritesInputs()
            .NoGradient()
            .Doc("One SGD step with momentum and weight decay, in place (inputs: var, grad, velocity, lr)."));
}

Node* ApplySGD(Graph& g, Output var, Output grad, Output velocity, Output lr, double momentum, double weight_decay,
               bool nesterov, absl::string_view name) {
  return g.AddNode(Def("ApplySGD"), name, {var, grad, velocity, lr},
                   {{"momentum", momentum}, {"weight_decay", weight_decay}, {"nesterov", nesterov}});
}

}  // namespace strata::ops
