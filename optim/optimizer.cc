#include "optim/optimizer.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "autodiff/gradients.h"
#include "graph/status_macros.h"
#include "ops/state.h"
#include "ops/training.h"
#include "optim/clip.h"

namespace strata::optim {
namespace {

constexpr OptimizerKind kAllKinds[] = {OptimizerKind::kSGD, OptimizerKind::kAdam, OptimizerKind::kAdamW,
                                       OptimizerKind::kRMSProp, OptimizerKind::kAdaGrad};

// How messages name the optimizer.
absl::string_view DisplayName(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSGD: return "SGD";
    case OptimizerKind::kAdam: return "Adam";
    case OptimizerKind::kAdamW: return "AdamW";
    case OptimizerKind::kRMSProp: return "RMSProp";
    case OptimizerKind::kAdaGrad: return "AdaGrad";
  }
  return "?";
}

absl::Status CheckValue(OptimizerKind kind, absl::string_view what, double value, double lo, double hi,
                        bool hi_inclusive) {
  const bool ok = std::isfinite(value) && value >= lo && (hi_inclusive ? value <= hi : value < hi);
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(DisplayName(kind), ": ", what, " (", value, ") must be in [", lo,
                                                 ", ", hi_inclusive ? absl::StrCat(hi, "]") : absl::StrCat(hi, ")")));
}

absl::Status CheckNonNegative(OptimizerKind kind, absl::string_view what, double value) {
  if (std::isfinite(value) && value >= 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(DisplayName(kind), ": ", what, " (", value, ") must be finite and >= 0"));
}

// The scalar variable `name`, reused when the graph has it.
absl::StatusOr<Output> ScalarVariable(Graph& g, absl::string_view name, double initial_value) {
  if (Node* n = g.FindNode(name)) {
    if (n->op() != "Variable" || n->output_spec(0) != TensorSpec{DType::kFloat32, Shape{}}) {
      return absl::AlreadyExistsError(absl::StrCat("'", name, "' names ", n->Describe(), " with spec ",
                                                   n->num_outputs() ? n->output_spec(0).ToString() : "none",
                                                   ", not a float32 scalar variable"));
    }
    return n->output(0);
  }
  Output v = ops::Variable(g, name, Shape{}, ops::Initializer::Constant(initial_value), /*trainable=*/false);
  STRATA_RETURN_IF_ERROR(g.status());
  return v;
}

// The slot variable "<var>/<slot>", which must not exist yet.
absl::StatusOr<Output> Slot(Graph& g, const Output& var, absl::string_view slot, double initial_value = 0) {
  const std::string name = absl::StrCat(var.node->name(), "/", slot);
  if (Node* n = g.FindNode(name)) {
    return absl::AlreadyExistsError(absl::StrCat("the optimizer slot '", name, "' already exists (", n->Describe(),
                                                 "): is the variable minimized twice?"));
  }
  Output v = ops::Variable(g, name, var.shape(),
                           initial_value == 0 ? ops::Initializer::Zeros() : ops::Initializer::Constant(initial_value),
                           /*trainable=*/false);
  STRATA_RETURN_IF_ERROR(g.status());
  return v;
}

}  // namespace

absl::string_view OptimizerKindName(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSGD: return "sgd";
    case OptimizerKind::kAdam: return "adam";
    case OptimizerKind::kAdamW: return "adamw";
    case OptimizerKind::kRMSProp: return "rmsprop";
    case OptimizerKind::kAdaGrad: return "adagrad";
  }
  return "?";
}

absl::StatusOr<OptimizerKind> ParseOptimizerKind(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  for (OptimizerKind k : kAllKinds) {
    if (lower == OptimizerKindName(k)) return k;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown optimizer '", name, "' (sgd, adam, adamw, rmsprop, adagrad)"));
}

bool DecaysByDefault(absl::string_view name) {
  if (absl::EndsWith(name, "bias")) return false;
  for (absl::string_view suffix : {"gamma", "beta"}) {
    if (name == suffix) return false;
    if (absl::EndsWith(name, absl::StrCat("/", suffix))) return false;
  }
  return true;
}

bool VariableOptions::Decays(absl::string_view name) const {
  if (decay) return decay(name);
  return decay_all || DecaysByDefault(name);
}

OptimizerConfig OptimizerConfig::Defaults(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSGD: return SGD(0.01);
    case OptimizerKind::kAdam: return Adam();
    case OptimizerKind::kAdamW: return AdamW();
    case OptimizerKind::kRMSProp: return RMSProp();
    case OptimizerKind::kAdaGrad: return AdaGrad();
  }
  return {};
}

OptimizerConfig OptimizerConfig::SGD(double learning_rate, double momentum, double weight_decay, bool nesterov) {
  OptimizerConfig c;
  c.kind = OptimizerKind::kSGD;
  c.learning_rate = learning_rate;
  c.momentum = momentum;
  c.weight_decay = weight_decay;
  c.nesterov = nesterov;
  return c;
}

OptimizerConfig OptimizerConfig::Adam(double learning_rate, double weight_decay) {
  OptimizerConfig c;
  c.kind = OptimizerKind::kAdam;
  c.learning_rate = learning_rate;
  c.weight_decay = weight_decay;
  return c;
}

OptimizerConfig OptimizerConfig::AdamW(double learning_rate, double weight_decay) {
  OptimizerConfig c = Adam(learning_rate, weight_decay);
  c.kind = OptimizerKind::kAdamW;
  return c;
}

OptimizerConfig OptimizerConfig::RMSProp(double learning_rate, double alpha, double momentum, bool centered,
                                         double weight_decay) {
  OptimizerConfig c;
  c.kind = OptimizerKind::kRMSProp;
  c.learning_rate = learning_rate;
  c.alpha = alpha;
  c.momentum = momentum;
  c.centered = centered;
  c.weight_decay = weight_decay;
  return c;
}

OptimizerConfig OptimizerConfig::AdaGrad(double learning_rate, double lr_decay, double initial_accumulator_value,
                                         double weight_decay) {
  OptimizerConfig c;
  c.kind = OptimizerKind::kAdaGrad;
  c.learning_rate = learning_rate;
  c.lr_decay = lr_decay;
  c.initial_accumulator_value = initial_accumulator_value;
  c.weight_decay = weight_decay;
  c.epsilon = 1e-10;
  return c;
}

absl::Status Validate(const OptimizerConfig& c) {
  const OptimizerKind k = c.kind;
  STRATA_RETURN_IF_ERROR(CheckNonNegative(k, "learning rate", c.learning_rate));
  STRATA_RETURN_IF_ERROR(CheckNonNegative(k, "weight decay", c.weight_decay));
  STRATA_RETURN_IF_ERROR(CheckNonNegative(k, "clip_global_norm", c.clip_global_norm));
  switch (k) {
    case OptimizerKind::kSGD:
      STRATA_RETURN_IF_ERROR(CheckNonNegative(k, "momentum", c.momentum));
      if (c.nesterov && c.momentum <= 0) {
        return absl::InvalidArgumentError("SGD: Nesterov momentum requires a momentum > 0");
      }
      break;
    case OptimizerKind::kAdam:
    case OptimizerKind::kAdamW:
      STRATA_RETURN_IF_ERROR(CheckValue(k, "beta1", c.beta1, 0, 1, /*hi_inclusive=*/false));
      STRATA_RETURN_IF_ERROR(CheckValue(k, "beta2", c.beta2, 0, 1, /*hi_inclusive=*/false));
      STRATA_RETURN_IF_ERROR(CheckNonNegative(k, "epsilon", c.epsilon));
      break;
    case OptimizerKind::kRMSProp:
      STRATA_RETURN_IF_ERROR(CheckValue(k, "alpha", c.alpha, 0, 1, /*hi_inclusive=*/true));
      STRATA_RETURN_IF_ERROR(CheckNonNegative(k, "momentum", c.momentum));
      STRATA_RETURN_IF_ERROR(CheckNonNegative(k, "epsilon", c.epsilon));
      break;
    case OptimizerKind::kAdaGrad:
      STRATA_RETURN_IF_ERROR(CheckNonNegative(k, "lr_decay", c.lr_decay));
      STRATA_RETURN_IF_ERROR(CheckNonNegative(k, "initial_accumulator_value", c.initial_accumulator_value));
      STRATA_RETURN_IF_ERROR(CheckNonNegative(k, "epsilon", c.epsilon));
      break;
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainStep> BuildTrainStep(Graph& g, Output loss, const OptimizerConfig& config,
                                         std::vector<Output> variables) {
  STRATA_RETURN_IF_ERROR(Validate(config));
  const absl::string_view display = DisplayName(config.kind);
  STRATA_RETURN_IF_ERROR(g.status());
  if (variables.empty()) {
    for (Node* v : ops::Variables(g, /*trainable_only=*/true)) variables.push_back(v->output(0));
  }
  if (variables.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(display, ": the graph has no trainable variables"));
  }
  for (const Output& v : variables) {
    if (!v.valid() || v.node->op() != "Variable") {
      return absl::InvalidArgumentError(absl::StrCat(
          display, ": ", v.valid() ? v.node->Describe() : "an invalid Output", " is not a variable"));
    }
  }
  const OptimizerConfig::GradientTransform& transform = config.gradient_transform;
  autodiff::GradientReadyFn on_ready;
  if (transform.on_gradient) {
    on_ready = [&](int index, const Output& grad) { return transform.on_gradient(g, index, variables[index], grad); };
  }
  STRATA_ASSIGN_OR_RETURN(std::vector<Output> grads, autodiff::Gradients(g, loss, variables, on_ready));
  for (size_t i = 0; i < variables.size(); ++i) {
    if (!grads[i].valid()) {
      return absl::InvalidArgumentError(absl::StrCat(display, ": the loss ", loss.name(),
                                                     " does not depend on variable '", variables[i].node->name(), "'"));
    }
  }
  if (transform.finish) {
    STRATA_ASSIGN_OR_RETURN(std::vector<Output> transformed, transform.finish(g, variables, grads));
    STRATA_RETURN_IF_ERROR(g.status());
    if (transformed.size() != grads.size()) {
      return absl::InternalError(absl::StrCat(display, ": the gradient transform returned ", transformed.size(),
                                              " gradients for ", grads.size(), " variables"));
    }
    for (size_t i = 0; i < grads.size(); ++i) {
      if (!transformed[i].valid() || transformed[i].spec() != grads[i].spec()) {
        return absl::InternalError(absl::StrCat(display, ": the gradient transform changed the gradient of '",
                                                variables[i].node->name(), "'"));
      }
    }
    grads = std::move(transformed);
  }

  TrainStep result;
  if (config.clip_global_norm > 0) {
    STRATA_ASSIGN_OR_RETURN(ClippedGradients clipped, ClipByGlobalNorm(g, grads, config.clip_global_norm));
    grads = std::move(clipped.gradients);
    result.gradient_norm = clipped.global_norm;
  } else {
    // Computed only when fetched.
    result.gradient_norm = ops::GlobalNorm(g, grads, "gradient_norm");
  }

  STRATA_ASSIGN_OR_RETURN(Output lr, ScalarVariable(g, kLearningRateVariable, config.learning_rate));
  STRATA_ASSIGN_OR_RETURN(Output step, ScalarVariable(g, kStepVariable, 0.0));
  std::vector<Node*> updates;
  for (size_t i = 0; i < variables.size(); ++i) {
    const Output& var = variables[i];
    const Output& grad = grads[i];
    const double wd = config.variable_options.Decays(var.node->name()) ? config.weight_decay : 0.0;
    Node* update = nullptr;
    switch (config.kind) {
      case OptimizerKind::kSGD: {
        STRATA_ASSIGN_OR_RETURN(Output velocity, Slot(g, var, "momentum"));
        Graph::Scope scope(g, absl::StrCat("sgd/", var.node->name()));
        update = ops::ApplySGD(g, var, grad, velocity, lr, config.momentum, wd, config.nesterov);
        break;
      }
      case OptimizerKind::kAdam:
      case OptimizerKind::kAdamW: {
        STRATA_ASSIGN_OR_RETURN(Output m, Slot(g, var, "m"));
        STRATA_ASSIGN_OR_RETURN(Output v, Slot(g, var, "v"));
        ops::AdamAttrs attrs{config.beta1, config.beta2, config.epsilon, wd,
                             config.kind == OptimizerKind::kAdamW};
        Graph::Scope scope(g, absl::StrCat(OptimizerKindName(config.kind), "/", var.node->name()));
        update = ops::ApplyAdam(g, var, grad, m, v, lr, step, attrs);
        break;
      }
      case OptimizerKind::kRMSProp: {
        STRATA_ASSIGN_OR_RETURN(Output square_avg, Slot(g, var, "square_avg"));
        Output grad_avg, buf;
        if (config.centered) {
          STRATA_ASSIGN_OR_RETURN(grad_avg, Slot(g, var, "grad_avg"));
        }
        if (config.momentum > 0) {
          STRATA_ASSIGN_OR_RETURN(buf, Slot(g, var, "momentum"));
        }
        ops::RMSPropAttrs attrs{config.alpha, config.epsilon, wd, config.momentum, config.centered};
        Graph::Scope scope(g, absl::StrCat("rmsprop/", var.node->name()));
        update = ops::ApplyRMSProp(g, var, grad, square_avg, grad_avg, buf, lr, attrs);
        break;
      }
      case OptimizerKind::kAdaGrad: {
        STRATA_ASSIGN_OR_RETURN(Output sum, Slot(g, var, "sum", config.initial_accumulator_value));
        ops::AdaGradAttrs attrs{config.lr_decay, config.epsilon, wd};
        Graph::Scope scope(g, absl::StrCat("adagrad/", var.node->name()));
        update = ops::ApplyAdaGrad(g, var, grad, sum, lr, step, attrs);
        break;
      }
    }
    STRATA_RETURN_IF_ERROR(g.status());
    updates.push_back(update);
  }
  // Updates read the step as t - 1; the counter runs after all of them.
  Node* count = ops::CountStep(g, step, updates, "optimizer/count_step");
  std::vector<Node*> deps = updates;
  deps.push_back(count);
  result.step = ops::Group(g, std::move(deps), "train_step");
  STRATA_RETURN_IF_ERROR(g.status());
  result.variables = std::move(variables);
  result.gradients = std::move(grads);
  return result;
}

absl::StatusOr<Node*> Minimize(Graph& g, Output loss, const OptimizerConfig& config, std::vector<Output> variables) {
  STRATA_ASSIGN_OR_RETURN(TrainStep step, BuildTrainStep(g, loss, config, std::move(variables)));
  return step.step;
}

absl::Status SetLearningRate(runtime::VariableStore& store, double learning_rate) {
  return store.Set(kLearningRateVariable, Tensor::Scalar<float>(static_cast<float>(learning_rate)));
}

absl::StatusOr<double> GetLearningRate(const runtime::VariableStore& store) {
  STRATA_ASSIGN_OR_RETURN(Tensor t, store.Get(kLearningRateVariable));
  return static_cast<double>(t.data<float>()[0]);
}

absl::StatusOr<int64_t> GetStep(const runtime::VariableStore& store) {
  STRATA_ASSIGN_OR_RETURN(Tensor t, store.Get(kStepVariable));
  return static_cast<int64_t>(t.data<float>()[0]);
}

}  // namespace strata::optim
